//! `http-server:distro:sys`: a real HTTP server on localhost. Processes
//! bind paths with the node's `HttpServerAction`s (`routes.rs` keeps them);
//! an incoming request reaches the bound process as the node delivers it
//! (`IncomingHttpRequest`, body in the blob, 15 s to answer) and its
//! response goes back to the client (`server.rs`). The server starts with
//! the first binding, on `--http-port` or a free port, and says where.
//!
//! Authentication is emulated: an authenticated path wants the node's
//! cookie `kinode-auth_{node}`, whose value here is a token made for the
//! run (printed, and in the report) instead of a signed JWT.
//!
//! WebSocket bindings are real too (`websocket.rs`): a client that
//! connects opens a channel the process hears of (`WebSocketOpen`), its
//! frames arrive as `WebSocketPush` requests (bytes in the blob), the
//! process pushes back with `WebSocketPush` and closes with
//! `WebSocketClose`, with the node's errors.

mod routes;
mod server;
mod websocket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};
use crate::types::{Message, ProcessId};
use crate::util::lock;
use routes::{bound_path, Binding, Routes};

/// How long the node waits for a process to answer an HTTP request.
const ANSWER_SECS: u64 = 15;

#[derive(Deserialize)]
enum HttpServerAction {
    Bind {
        path: String,
        authenticated: bool,
        local_only: bool,
        cache: bool,
    },
    SecureBind {
        path: String,
        cache: bool,
    },
    Unbind {
        path: String,
    },
    WebSocketBind {
        path: String,
        authenticated: bool,
        #[serde(default)]
        extension: bool,
    },
    WebSocketSecureBind {
        path: String,
        #[serde(default)]
        extension: bool,
    },
    WebSocketUnbind {
        path: String,
    },
    /// What the node sends processes, never accepts from them.
    WebSocketOpen {},
    WebSocketPush {
        channel_id: u32,
        message_type: WsMessageType,
    },
    /// For runtime extensions over a local WebSocket; not emulated.
    WebSocketExtPushOutgoing {},
    WebSocketExtPushData {},
    WebSocketClose(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
enum WsMessageType {
    Text,
    Binary,
    Ping,
    Pong,
    Close,
}

/// A process's answer to an HTTP request: its body and blob.
type Reply = (Vec<u8>, Option<Vec<u8>>);

pub struct HttpServer {
    shared: Arc<Shared>,
}

struct Shared {
    /// The node's name, known once the server listens.
    node: std::sync::OnceLock<String>,
    /// Its context, once it listens: in-memory connections are served
    /// with it.
    ctx: std::sync::OnceLock<ModuleCtx>,
    /// `--http-port`; 0 picks a free one.
    wanted_port: u16,
    /// The largest request body taken (`--host-memory-limit`).
    body_limit: usize,
    /// The port once listening.
    port: Mutex<Option<u16>>,
    token: String,
    routes: Mutex<Routes>,
    /// HTTP requests waiting for their process's response, by message id.
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    /// WebSocket bindings (`content` unused; `local_only` is `extension`).
    ws_routes: Mutex<Routes>,
    /// Open WebSocket channels: the process that owns each, and its frames' way out.
    channels: Mutex<HashMap<u32, websocket::Channel>>,
}

impl HttpServer {
    /// A server for `--http-port` (0: a free one) whose login cookie's
    /// value is `token`, taking request bodies up to `body_limit` bytes.
    pub fn new(wanted_port: u16, token: String, body_limit: usize) -> Self {
        HttpServer {
            shared: Arc::new(Shared {
                node: std::sync::OnceLock::new(),
                ctx: std::sync::OnceLock::new(),
                wanted_port,
                body_limit,
                port: Mutex::new(None),
                token,
                routes: Mutex::new(Routes::default()),
                pending: Mutex::new(HashMap::new()),
                ws_routes: Mutex::new(Routes::default()),
                channels: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The way in without a socket, for the node.
    pub fn door(&self) -> Arc<dyn crate::node::HttpDoor> {
        Arc::new(Door(self.shared.clone()))
    }

    /// Starts listening if it is not yet.
    fn listen(&self, ctx: &ModuleCtx) -> Result<(), String> {
        let mut listening = lock(&self.shared.port);
        if listening.is_some() {
            return Ok(());
        }
        let _ = self.shared.node.set(ctx.node().to_string());
        let _ = self.shared.ctx.set(ctx.clone());
        // On virtual time nothing may wait on a socket: requests come in
        // memory (port 0 in the report).
        let bound = if ctx.simulated() {
            0
        } else {
            server::start(self.shared.clone(), ctx.clone())?
        };
        *listening = Some(bound);
        let node = ctx.node();
        let at = if bound == 0 {
            "in memory (virtual time: no socket)".to_string()
        } else {
            format!("on http://localhost:{bound}")
        };
        let line = format!(
            "http-server: serving {at} (authenticated paths take the cookie \
             kinode-auth_{node}={})",
            self.shared.token
        );
        ctx.print(0, line);
        ctx.note(ModuleEvent::HttpServing {
            port: bound,
            cookie: format!("kinode-auth_{node}={}", self.shared.token),
        });
        Ok(())
    }

    /// Carries out a process's action; the error's name if it fails.
    fn act(&self, ctx: &ModuleCtx, km: &KernelMessage) -> Result<(), &'static str> {
        let request = km.request().ok_or("MalformedRequest")?;
        let action: HttpServerAction =
            serde_json::from_slice(&request.body).map_err(|_| "MalformedRequest")?;
        let process = km.source.process.clone();
        let blob = km.blob.clone();
        let (path, authenticated, local_only, cache) = match action {
            HttpServerAction::Bind {
                path,
                authenticated,
                local_only,
                cache,
            } => (path, authenticated, local_only, cache),
            HttpServerAction::SecureBind { path, cache } => (path, true, false, cache),
            HttpServerAction::Unbind { path } => {
                let path = bound_path(&process, &path);
                lock(&self.shared.routes).bind(Binding {
                    path,
                    process: None,
                    authenticated: false,
                    local_only: false,
                    content: None,
                });
                return Ok(());
            }
            HttpServerAction::WebSocketBind {
                path,
                authenticated,
                extension,
            } => return self.bind_ws(ctx, &process, &path, authenticated, extension),
            HttpServerAction::WebSocketSecureBind { path, extension } => {
                return self.bind_ws(ctx, &process, &path, true, extension)
            }
            HttpServerAction::WebSocketUnbind { path } => {
                lock(&self.shared.ws_routes).bind(Binding {
                    path: bound_path(&process, &path),
                    process: None,
                    authenticated: false,
                    local_only: false,
                    content: None,
                });
                return Ok(());
            }
            HttpServerAction::WebSocketOpen {} | HttpServerAction::WebSocketExtPushData {} => {
                return Err("MalformedRequest")
            }
            HttpServerAction::WebSocketExtPushOutgoing {} => {
                ctx.note(ModuleEvent::NotEmulated {
                    process,
                    module: ProcessId::runtime("http-server"),
                    kind: "WebSocket extension push",
                });
                return Err("MalformedRequest");
            }
            HttpServerAction::WebSocketPush {
                channel_id,
                message_type,
            } => return websocket::push(&self.shared, &process, channel_id, message_type, blob),
            HttpServerAction::WebSocketClose(channel_id) => {
                return websocket::close(&self.shared, &process, channel_id)
            }
        };
        check_kimap_safe(&process)?;
        let content = match (cache, blob) {
            (false, _) => None,
            (true, None) => return Err("NoBlob"),
            (true, Some(blob)) => Some((blob.mime, blob.bytes)),
        };
        let line = format!(
            "http: binding {path}, {}, {}, {}",
            if authenticated {
                "authenticated"
            } else {
                "unauthenticated"
            },
            if local_only { "local only" } else { "open" },
            if content.is_some() {
                "cached"
            } else {
                "dynamic"
            },
        );
        ctx.print(3, line);
        self.listen(ctx).map_err(|e| {
            ctx.print(0, e);
            "MalformedRequest"
        })?;
        let stored = bound_path(&process, &path);
        ctx.note(ModuleEvent::HttpBound {
            process: process.clone(),
            path: stored.clone(),
            authenticated,
            content: content.is_some(),
        });
        lock(&self.shared.routes).bind(Binding {
            path: stored,
            process: Some(process),
            authenticated,
            local_only,
            content,
        });
        Ok(())
    }
}

/// The server's in-memory way in.
struct Door(Arc<Shared>);

impl crate::node::HttpDoor for Door {
    fn connect(&self) -> Option<tokio::io::DuplexStream> {
        let ctx = self.0.ctx.get()?.clone();
        Some(server::connect(self.0.clone(), ctx))
    }
}

/// Only processes whose ids are valid name-registry entries may bind.
fn check_kimap_safe(process: &ProcessId) -> Result<(), &'static str> {
    if crate::types::check_kimap_safe(process).is_ok() {
        Ok(())
    } else {
        Err("InvalidSourceProcess")
    }
}

impl Shared {
    fn node(&self) -> &str {
        self.node.get().map_or("", String::as_str)
    }
}

impl HttpServer {
    /// `WebSocketBind`/`WebSocketSecureBind`: clients may connect to
    /// `path` under the process's prefix.
    fn bind_ws(
        &self,
        ctx: &ModuleCtx,
        process: &ProcessId,
        path: &str,
        authenticated: bool,
        extension: bool,
    ) -> Result<(), &'static str> {
        check_kimap_safe(process)?;
        self.listen(ctx).map_err(|e| {
            ctx.print(0, e);
            "MalformedRequest"
        })?;
        let stored = bound_path(process, path);
        ctx.note(ModuleEvent::HttpBound {
            process: process.clone(),
            path: format!("{stored} (WebSocket)"),
            authenticated,
            content: false,
        });
        lock(&self.shared.ws_routes).bind(Binding {
            path: stored,
            process: Some(process.clone()),
            authenticated,
            local_only: extension,
            content: None,
        });
        Ok(())
    }
}

impl Module for HttpServer {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        if let Message::Response((response, _)) = &km.message {
            // A process answering an HTTP request.
            if let Some(waiting) = lock(&self.shared.pending).remove(&km.id) {
                let _ = waiting.send((response.body.clone(), km.blob.map(|b| b.bytes)));
            }
            return;
        }
        match self.act(ctx, &km) {
            Ok(()) => ctx.respond(&km, Answer::new(json!({ "Ok": null }).to_string())),
            Err(error) => {
                // Errors go to the source whether or not it asked.
                let body = json!({ "Err": error }).to_string();
                ctx.respond_to_source(&km, Answer::new(body));
            }
        }
    }
}
