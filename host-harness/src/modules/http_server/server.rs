//! The listening side: hyper on 127.0.0.1, one task per connection, each
//! request matched to a binding and answered as the node answers it: 404
//! for no binding, the login page (200) without the cookie on an
//! authenticated path, 403 off-machine on a local-only one, static content
//! on GET, otherwise the bound process's own response, 408 if it does not
//! answer within 15 s and 500 if its answer is malformed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::oneshot;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::KernelMessage;
use crate::node::ModuleCtx;
use crate::types::{self, Address, LazyLoadBlob, Message, ProcessId};
use crate::util::lock;

use super::routes::normalise;
use super::{websocket, Shared, ANSWER_SECS};

pub type Body = Full<Bytes>;

/// Binds the listener and starts accepting; returns the ctx.
pub fn start(shared: Arc<Shared>, ctx: ModuleCtx) -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", shared.wanted_port)).map_err(|e| {
        format!(
            "http-server: cannot listen on port {}: {e}",
            shared.wanted_port
        )
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("http-server: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("http-server: {e}"))?
        .port();
    let listener =
        tokio::net::TcpListener::from_std(listener).map_err(|e| format!("http-server: {e}"))?;
    let tasks = ctx.clone();
    ctx.spawn(Box::pin(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let (shared, ctx) = (shared.clone(), tasks.clone());
            tasks.spawn(Box::pin(async move {
                let service = service_fn(move |request| {
                    let (shared, ctx) = (shared.clone(), ctx.clone());
                    async move { Ok::<_, Infallible>(answer(&shared, &ctx, request, peer).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            }));
        }
    }));
    Ok(bound)
}

/// A connection in memory, served as an accepted socket from 127.0.0.1
/// is; the other end is returned.
pub fn connect(shared: Arc<Shared>, ctx: ModuleCtx) -> tokio::io::DuplexStream {
    let (client, server) = tokio::io::duplex(1 << 16);
    let peer: SocketAddr = ([127, 0, 0, 1], 0).into();
    let tasks = ctx.clone();
    tasks.spawn(Box::pin(async move {
        let service = service_fn(move |request| {
            let (shared, ctx) = (shared.clone(), ctx.clone());
            async move { Ok::<_, Infallible>(answer(&shared, &ctx, request, peer).await) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(server), service)
            .with_upgrades()
            .await;
    }));
    client
}

pub fn reply(status: StatusCode, content_type: Option<&str>, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let content_type = content_type.unwrap_or("application/octet-stream");
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

async fn answer(
    shared: &Arc<Shared>,
    ctx: &ModuleCtx,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let (response, process) = route(shared, ctx, request, peer).await;
    ctx.note(ModuleEvent::HttpServed {
        method,
        path,
        status: response.status().as_u16(),
        process,
    });
    response
}

async fn route(
    shared: &Arc<Shared>,
    ctx: &ModuleCtx,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> (Response<Body>, Option<ProcessId>) {
    let original = normalise(request.uri().path()).to_string();
    if websocket::is_upgrade(&request) {
        return route_websocket(shared, ctx, request, peer, &original);
    }
    let found = lock(&shared.routes)
        .find(&original)
        .map(|(binding, params)| (binding.clone(), params));
    let Some((binding, url_params)) = found else {
        return (reply(StatusCode::NOT_FOUND, None, vec![]), None);
    };
    let Some(process) = binding.process.clone() else {
        return (reply(StatusCode::NOT_FOUND, None, vec![]), None);
    };
    let headers = header_map(&request);
    if binding.authenticated && !has_cookie(shared, &headers) {
        let page = login_page(shared);
        return (
            reply(StatusCode::OK, Some("text/html"), page.into_bytes()),
            Some(process),
        );
    }
    if binding.local_only && !peer.ip().is_loopback() {
        return (reply(StatusCode::FORBIDDEN, None, vec![]), Some(process));
    }
    if let Some((mime, bytes)) = &binding.content {
        if request.method() == hyper::Method::GET {
            let mime = mime.as_deref().or(Some("text/plain"));
            return (reply(StatusCode::OK, mime, bytes.clone()), Some(process));
        }
    }
    let method = request.method().to_string();
    let query: HashMap<String, String> = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let host = headers
        .get("host")
        .map(|h| h.split(':').next().unwrap_or_default().to_string())
        .unwrap_or_else(|| "localhost".into());
    // A node takes any body; the harness takes up to --host-memory-limit.
    let limited = http_body_util::Limited::new(request.into_body(), shared.body_limit);
    let body = match limited.collect().await {
        Ok(collected) => Vec::from(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return (
                reply(StatusCode::PAYLOAD_TOO_LARGE, None, vec![]),
                Some(process),
            )
        }
        Err(_) => return (reply(StatusCode::BAD_REQUEST, None, vec![]), Some(process)),
    };
    let incoming = json!({ "Http": {
        "source_socket_addr": peer.to_string(),
        "method": method,
        "url": format!("http://{host}{original}"),
        "bound_path": binding.path,
        "headers": headers,
        "url_params": url_params,
        "query_params": query,
    }});
    let response = forward(shared, ctx, &process, incoming, body).await;
    (response, Some(process))
}

/// A WebSocket upgrade: the node answers 404 for no binding and for an
/// authenticated one without the cookie, and refuses an extension's path
/// off-machine.
fn route_websocket(
    shared: &Arc<Shared>,
    ctx: &ModuleCtx,
    request: Request<Incoming>,
    peer: SocketAddr,
    original: &str,
) -> (Response<Body>, Option<ProcessId>) {
    let found = lock(&shared.ws_routes)
        .find(original)
        .and_then(|(binding, _)| Some((binding.process.clone()?, binding.clone())));
    let Some((process, binding)) = found else {
        return (reply(StatusCode::NOT_FOUND, None, vec![]), None);
    };
    let headers = header_map(&request);
    let refused = (binding.authenticated && !has_cookie(shared, &headers))
        || (binding.local_only && !peer.ip().is_loopback());
    if refused {
        return (reply(StatusCode::NOT_FOUND, None, vec![]), Some(process));
    }
    let client = websocket::Client {
        address: peer.to_string(),
        forwarded_for: headers.get("x-forwarded-for").cloned(),
    };
    let response = websocket::accept(
        shared.clone(),
        ctx,
        request,
        process.clone(),
        original,
        client,
    );
    (response, Some(process))
}

/// Sends the request to the bound process and waits for its answer.
async fn forward(
    shared: &Shared,
    ctx: &ModuleCtx,
    process: &ProcessId,
    incoming: serde_json::Value,
    body: Vec<u8>,
) -> Response<Body> {
    let id = ctx.random();
    let (sender, answered) = oneshot::channel();
    lock(&shared.pending).insert(id, sender);
    let waiting = ctx.busy();
    ctx.send(KernelMessage {
        id,
        source: Address::new(ctx.node(), ProcessId::runtime("http-server")),
        target: Address::new(ctx.node(), process.clone()),
        rsvp: None,
        message: Message::Request(types::Request {
            inherit: false,
            expects_response: Some(ANSWER_SECS),
            body: incoming.to_string().into_bytes(),
            metadata: None,
            capabilities: vec![],
        }),
        blob: Some(LazyLoadBlob {
            mime: None,
            bytes: body,
        }),
    });
    let result = tokio::time::timeout(Duration::from_secs(ANSWER_SECS), answered).await;
    lock(&shared.pending).remove(&id);
    drop(waiting);
    let (body, blob) = match result {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => return reply(StatusCode::INTERNAL_SERVER_ERROR, None, vec![]),
        Err(_) => return reply(StatusCode::REQUEST_TIMEOUT, None, vec![]),
    };
    #[derive(serde::Deserialize)]
    struct HttpResponse {
        status: u16,
        headers: HashMap<String, String>,
    }
    let Ok(answer) = serde_json::from_slice::<HttpResponse>(&body) else {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, None, vec![]);
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = reply(status, None, blob.unwrap_or_default());
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The request's headers by lowercase name (the last of repeated ones).
fn header_map(request: &Request<Incoming>) -> HashMap<String, String> {
    request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or_default().to_string();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect()
}

/// The node's cookie check: `kinode-auth_{node}=<token>` among the
/// cookies (`; `-separated `name=value` pairs).
fn has_cookie(shared: &Shared, headers: &HashMap<String, String>) -> bool {
    let name = format!("kinode-auth_{}", shared.node());
    headers.get("cookie").is_some_and(|cookies| {
        cookies.split("; ").any(|cookie| {
            let parts: Vec<&str> = cookie.split('=').collect();
            parts.len() == 2 && parts[0] == name && parts[1] == shared.token
        })
    })
}

fn login_page(shared: &Shared) -> String {
    format!(
        "<!doctype html><title>login</title><p>This path is authenticated. A node would show its \
         login page; host-harness takes the cookie <code>kinode-auth_{}={}</code>.</p>",
        shared.node(),
        shared.token
    )
}
