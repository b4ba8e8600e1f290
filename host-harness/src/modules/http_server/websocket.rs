//! WebSocket channels as the node keeps them. A client's upgrade request
//! on a bound path (the cookie wanted if the binding is authenticated)
//! opens a channel with a random id: the process gets
//! `{"WebSocketOpen": {path, channel_id}}` with the path below its prefix,
//! then one `{"WebSocketPush": {channel_id, message_type}}` request per
//! frame the client sends (its bytes in the blob), and
//! `{"WebSocketClose": channel_id}` when the connection ends. The process
//! pushes frames back with the same action; only the channel's own
//! process may, as on a node.
//!
//! `WebSocketClose` from the process that owns the channel hangs a node's
//! http-server: it sends the close frame, then removes the channel from a
//! `DashMap` while it still holds a read guard on the same entry, and
//! waits for ever. The harness does what follows (see `Shared::deadlock`):
//! the client's answering close frame still reaches the process as a
//! `WebSocketPush` of type `Close`, but the channel's end waits on the same
//! lock, so `WebSocketClose` never comes.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::WebSocketStream;

use crate::kernel::message::KernelMessage;
use crate::node::ModuleCtx;
use crate::types::{self, Address, LazyLoadBlob, Message, ProcessId};
use crate::util::lock;

use super::{Shared, WsMessageType};

/// How many frames may wait to go out on one channel (the node's bound).
const CHANNEL_FRAMES: usize = 100;

/// How many channels a node keeps open at once; it refuses upgrades past it.
pub const MAX_CHANNELS: usize = 128;

/// An open channel: the process it belongs to, and where its outgoing
/// frames go.
pub struct Channel {
    process: ProcessId,
    frames: mpsc::Sender<Frame>,
}

/// Where a client connects from; hyperdrive tells the process.
pub struct Client {
    pub address: String,
    pub forwarded_for: Option<String>,
}

/// Whether `request` is a WebSocket handshake as warp's filter takes it:
/// a GET with `Connection: upgrade`, `Upgrade: websocket`, version 13 and
/// a key. Anything else is an ordinary HTTP request on a node.
pub fn is_upgrade(request: &Request<Incoming>) -> bool {
    let header = |name: &str| {
        request
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
    };
    let connection_upgrade = header("connection").iter().any(|v| {
        v.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    });
    let upgrade = header("upgrade");
    request.method() == hyper::Method::GET
        && connection_upgrade
        && upgrade.len() == 1
        && upgrade[0].eq_ignore_ascii_case("websocket")
        && header("sec-websocket-version") == ["13"]
        && request.headers().contains_key("sec-websocket-key")
}

/// Accepts the upgrade for `process`'s binding at `bound`: answers 101 and
/// runs the channel once the connection is handed over.
pub fn accept(
    shared: Arc<Shared>,
    ctx: &ModuleCtx,
    request: Request<Incoming>,
    process: ProcessId,
    original: &str,
    client: Client,
) -> Response<super::server::Body> {
    let Some(key) = request.headers().get("sec-websocket-key").cloned() else {
        return super::server::reply(StatusCode::BAD_REQUEST, None, vec![]);
    };
    // The path the process hears: its own prefix taken off.
    let prefix = format!("/{process}");
    let below = original.strip_prefix(&prefix).unwrap_or("");
    let path = format!("/{}", below.trim_start_matches('/'));
    let tasks = ctx.clone();
    let ctx = ctx.clone();
    tasks.spawn(Box::pin(async move {
        let Ok(upgraded) = hyper::upgrade::on(request).await else {
            return;
        };
        let stream =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        run_channel(shared, ctx, stream, process, path, client).await;
    }));
    let mut response = super::server::reply(StatusCode::SWITCHING_PROTOCOLS, None, vec![]);
    let headers = response.headers_mut();
    headers.remove("content-type");
    headers.insert(
        "upgrade",
        hyper::header::HeaderValue::from_static("websocket"),
    );
    headers.insert(
        "connection",
        hyper::header::HeaderValue::from_static("Upgrade"),
    );
    if let Ok(accept) = derive_accept_key(key.as_bytes()).parse() {
        headers.insert("sec-websocket-accept", accept);
    }
    response
}

/// One connection, from open to close.
async fn run_channel(
    shared: Arc<Shared>,
    ctx: ModuleCtx,
    stream: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    process: ProcessId,
    path: String,
    client: Client,
) {
    let channel_id = ctx.random() as u32;
    let (frames, mut outgoing) = mpsc::channel(CHANNEL_FRAMES);
    lock(&shared.channels).insert(
        channel_id,
        Channel {
            process: process.clone(),
            frames,
        },
    );
    let (mut write, mut read) = stream.split();
    let open = if ctx.profile().websocket_open_has_client {
        json!({ "WebSocketOpen": {
            "path": path,
            "channel_id": channel_id,
            "source_socket_addr": client.address,
            "forwarded_for": client.forwarded_for,
        }})
    } else {
        json!({ "WebSocketOpen": { "path": path, "channel_id": channel_id } })
    };
    tell(&ctx, &process, open, None);
    loop {
        tokio::select! {
            frame = read.next() => {
                let Some(Ok(frame)) = frame else { break };
                let message_type = match &frame {
                    Frame::Text(_) => WsMessageType::Text,
                    Frame::Binary(_) => WsMessageType::Binary,
                    Frame::Ping(_) => WsMessageType::Ping,
                    Frame::Pong(_) => WsMessageType::Pong,
                    Frame::Close(_) | Frame::Frame(_) => WsMessageType::Close,
                };
                let push = json!({ "WebSocketPush": {
                    "channel_id": channel_id,
                    "message_type": message_type,
                }});
                tell(&ctx, &process, push, Some(frame.into_data().to_vec()));
            }
            // After a close frame, as on a node, the loop reads on: the
            // client answers it, and then the stream ends.
            Some(frame) = outgoing.recv() => {
                if write.send(frame).await.is_err() {
                    break;
                }
            }
        }
    }
    // The channel's end: a node removes it and tells the process, unless
    // the process's own close deadlocked the server on this channel.
    let hung = *lock(&shared.deadlock) == Some(channel_id);
    if !hung && lock(&shared.channels).remove(&channel_id).is_some() {
        tell(
            &ctx,
            &process,
            json!({ "WebSocketClose": channel_id }),
            None,
        );
    }
    let _ = write.close().await;
}

/// A request from http-server to the channel's process, expecting nothing.
fn tell(ctx: &ModuleCtx, process: &ProcessId, body: serde_json::Value, blob: Option<Vec<u8>>) {
    ctx.send(KernelMessage {
        id: ctx.random(),
        source: Address::new(ctx.node(), ProcessId::runtime("http-server")),
        target: Address::new(ctx.node(), process.clone()),
        rsvp: None,
        message: Message::Request(types::Request {
            inherit: false,
            expects_response: None,
            body: body.to_string().into_bytes(),
            metadata: None,
            capabilities: vec![],
        }),
        blob: blob.map(|bytes| LazyLoadBlob { mime: None, bytes }),
    });
}

/// `WebSocketPush` from a process: the blob goes out as one frame.
pub fn push(
    shared: &Shared,
    process: &ProcessId,
    channel_id: u32,
    message_type: WsMessageType,
    blob: Option<LazyLoadBlob>,
) -> Result<(), &'static str> {
    let bytes = blob.ok_or("NoBlob")?.bytes;
    let frame = match message_type {
        WsMessageType::Text => Frame::text(String::from_utf8_lossy(&bytes).into_owned()),
        WsMessageType::Binary => Frame::binary(bytes),
        WsMessageType::Ping | WsMessageType::Pong if bytes.len() > 125 => {
            return Err("WsPingPongTooLong")
        }
        WsMessageType::Ping => Frame::Ping(bytes.into()),
        WsMessageType::Pong => Frame::Pong(bytes.into()),
        // A node's http-server reaches `unreachable!()` here and its task
        // panics; close the channel with WebSocketClose instead.
        WsMessageType::Close => return Err("MalformedRequest"),
    };
    let channels = lock(&shared.channels);
    match channels.get(&channel_id) {
        Some(channel) if channel.process == *process => channel
            .frames
            .try_send(frame)
            .map_err(|_| "WsChannelNotFound"),
        _ => Err("WsChannelNotFound"),
    }
}

/// What `WebSocketClose` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// No such channel: nothing to do, as on a node.
    Unknown,
    /// The process's own channel: the close frame went out, and the
    /// server is now deadlocked, as a node's is.
    Deadlocked,
}

/// `WebSocketClose` from a process: another's channel is
/// `WsChannelNotFound`; its own gets a close frame and hangs the server.
pub fn close(
    shared: &Shared,
    process: &ProcessId,
    channel_id: u32,
) -> Result<Closed, &'static str> {
    let channels = lock(&shared.channels);
    match channels.get(&channel_id) {
        Some(channel) if channel.process != *process => Err("WsChannelNotFound"),
        Some(channel) => {
            let _ = channel.frames.try_send(Frame::Close(None));
            *lock(&shared.deadlock) = Some(channel_id);
            Ok(Closed::Deadlocked)
        }
        None => Ok(Closed::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_with_channel(owner: &ProcessId) -> (super::super::HttpServer, mpsc::Receiver<Frame>) {
        let server = super::super::HttpServer::new(0, "token".into(), 1 << 20);
        let (frames, outgoing) = mpsc::channel(CHANNEL_FRAMES);
        lock(&server.shared.channels).insert(
            7,
            Channel {
                process: owner.clone(),
                frames,
            },
        );
        (server, outgoing)
    }

    #[test]
    fn pushes_and_closes_follow_the_nodes_errors() {
        let owner = ProcessId::new("app", "pkg", "pub.os");
        let other = ProcessId::new("other", "pkg", "pub.os");
        let (server, mut outgoing) = server_with_channel(&owner);
        let shared = &server.shared;
        let blob = |n: usize| {
            Some(LazyLoadBlob {
                mime: None,
                bytes: vec![b'x'; n],
            })
        };
        assert_eq!(
            push(shared, &owner, 7, WsMessageType::Text, None),
            Err("NoBlob")
        );
        assert_eq!(
            push(shared, &owner, 7, WsMessageType::Ping, blob(126)),
            Err("WsPingPongTooLong")
        );
        assert_eq!(
            push(shared, &other, 7, WsMessageType::Text, blob(1)),
            Err("WsChannelNotFound")
        );
        assert_eq!(
            push(shared, &owner, 8, WsMessageType::Text, blob(1)),
            Err("WsChannelNotFound")
        );
        assert_eq!(
            push(shared, &owner, 7, WsMessageType::Binary, blob(2)),
            Ok(())
        );
        assert_eq!(outgoing.try_recv().unwrap(), Frame::binary(vec![b'x'; 2]));
        assert_eq!(close(shared, &other, 7), Err("WsChannelNotFound"));
        assert_eq!(
            close(shared, &owner, 99),
            Ok(Closed::Unknown),
            "an unknown channel is fine"
        );
        assert!(!shared.deadlocked());
        assert_eq!(close(shared, &owner, 7), Ok(Closed::Deadlocked));
        assert!(matches!(outgoing.try_recv().unwrap(), Frame::Close(None)));
        assert!(shared.deadlocked(), "a node's http-server hangs there");
        assert_eq!(lock(&shared.channels).len(), 1, "a node never removes it");
    }
}
