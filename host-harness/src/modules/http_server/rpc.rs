//! `/rpc:distro:sys/message`, bound by the node itself (local only, no
//! login): what kit's `inject-message` posts. The JSON names a process
//! (and a node, ours by default) and gives the request's body, metadata
//! and blob (`mime`, `data` in base64); it goes out from http-server.
//! Without `expects_response` the answer is 200 at once; with it, the
//! target's response comes back as JSON with the body's bytes and the blob
//! (its bytes in base64), or 408 after 15 s, as any HTTP request's.

use base64::Engine;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::server::{reply, Body};
use super::{Reply, Shared};
use crate::kernel::message::KernelMessage;
use crate::node::ModuleCtx;
use crate::types::{self, Address, LazyLoadBlob, Message, ProcessId};

/// The path a node binds for it.
pub const PATH: &str = "/rpc:distro:sys/message";

/// The process a node's binding names.
pub fn process() -> ProcessId {
    ProcessId::new("rpc", "distro", "sys")
}

/// What kit posts. (`inherit` and `context` are read and ignored, as on a
/// node.)
#[derive(Deserialize)]
struct RpcMessage {
    node: Option<String>,
    process: String,
    expects_response: Option<u64>,
    body: Option<String>,
    metadata: Option<String>,
    mime: Option<String>,
    data: Option<String>,
}

/// The request `body` asks for; 400's reason if the JSON or the process
/// id is malformed.
fn message(ctx: &ModuleCtx, id: u64, body: &[u8]) -> Result<KernelMessage, String> {
    let rpc: RpcMessage = serde_json::from_slice(body).map_err(|e| format!("the JSON: {e}"))?;
    let target = ProcessId::parse(&rpc.process).map_err(|e| format!("`process`: {e}"))?;
    // Data that is not base64 is dropped without a word, as on a node.
    let blob = rpc.data.and_then(|data| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .ok()?;
        Some(LazyLoadBlob {
            mime: rpc.mime,
            bytes,
        })
    });
    let us = Address::new(ctx.node(), ProcessId::runtime("http-server"));
    Ok(KernelMessage {
        id,
        source: us.clone(),
        target: Address::new(rpc.node.as_deref().unwrap_or(ctx.node()), target),
        rsvp: rpc.expects_response.map(|_| us),
        message: Message::Request(types::Request {
            inherit: false,
            expects_response: rpc.expects_response,
            body: rpc.body.unwrap_or_default().into_bytes(),
            metadata: rpc.metadata,
            capabilities: vec![],
        }),
        blob,
    })
}

/// Sends the posted message; answers at once, or with the response.
pub async fn handle(shared: &Shared, ctx: &ModuleCtx, body: &[u8]) -> hyper::Response<Body> {
    let id = ctx.random();
    let km = match message(ctx, id, body) {
        Ok(km) => km,
        Err(reason) => {
            ctx.print(2, format!("http-server: a malformed RPC message: {reason}"));
            return reply(StatusCode::BAD_REQUEST, None, vec![]);
        }
    };
    ctx.print(
        2,
        format!(
            "http-server: passing on RPC message to {}",
            km.target.process
        ),
    );
    if !km.expects_response() {
        ctx.send(km);
        return reply(StatusCode::OK, None, vec![]);
    }
    match shared.ask(ctx, km).await {
        Ok(answer) => answer_json(answer),
        Err(status) => reply(status, None, vec![]),
    }
}

/// The response as a node returns it: 200, `text/html`, the body's bytes
/// and the blob's bytes in base64 (both as JSON arrays of numbers).
fn answer_json((body, blob): Reply) -> hyper::Response<Body> {
    let blob = blob.map(|blob| {
        let encoded = base64::engine::general_purpose::STANDARD.encode(blob.bytes);
        json!({ "mime": blob.mime, "bytes": encoded.into_bytes() })
    });
    let json = json!({ "body": body, "lazy_load_blob": blob });
    reply(
        StatusCode::OK,
        Some("text/html"),
        json.to_string().into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_bytes_as_arrays_and_the_blob_in_base64() {
        let answer = answer_json((
            b"ok".to_vec(),
            Some(LazyLoadBlob {
                mime: Some("text/plain".into()),
                bytes: b"hi".to_vec(),
            }),
        ));
        assert_eq!(answer.headers()["content-type"], "text/html");
        let body = futures_util::FutureExt::now_or_never(http_body_util::BodyExt::collect(
            answer.into_body(),
        ))
        .unwrap()
        .unwrap()
        .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["body"], json!([111, 107]));
        assert_eq!(json["lazy_load_blob"]["mime"], "text/plain");
        // "aGk=" as bytes.
        assert_eq!(json["lazy_load_blob"]["bytes"], json!([97, 71, 107, 61]));
    }
}
