//! `http-server:distro:sys`: a real HTTP server on localhost. Processes
//! bind paths with the node's `HttpServerAction`s (`routes.rs` keeps them);
//! an incoming request reaches the bound process as the node delivers it
//! (`IncomingHttpRequest`, body in the blob, 15 s to answer) and its
//! response goes back to the client (`server.rs`). The server starts with
//! the first binding, on `--http-port` or a free port, and says where.
//!
//! Authentication is emulated (`auth.rs`): an authenticated path wants the
//! node's cookie `kinode-auth_{node}`, whose value here is a token made
//! for the run (printed, and in the report) instead of a signed JWT; a
//! `SecureBind` path wants its app's subdomain and cookie. `/login` hands
//! them out; `/rpc:distro:sys/message` takes kit's injected messages
//! (`rpc.rs`).
//!
//! WebSocket bindings are real too (`websocket.rs`): a client that
//! connects opens a channel the process hears of (`WebSocketOpen`), its
//! frames arrive as `WebSocketPush` requests (bytes in the blob), the
//! process pushes back with `WebSocketPush`, with the node's errors. Its
//! `WebSocketClose` for its own channel hangs the server, as on a node.

mod auth;
mod routes;
mod rpc;
mod server;
mod websocket;

pub(crate) use auth::app_cookie;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};
use crate::types::{LazyLoadBlob, Message, ProcessId};
use crate::util::lock;
use routes::{bound_path, reachable, secure_subdomain, Binding, Routes};

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
type Reply = (Vec<u8>, Option<LazyLoadBlob>);

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
    /// The channel whose owner's `WebSocketClose` hung the server, as it
    /// hangs a node's: from then on no message to http-server is handled
    /// (a process's answers to HTTP requests included), while requests
    /// still come in and are passed on.
    deadlock: Mutex<Option<u32>>,
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
                routes: Mutex::new(rpc_routes()),
                pending: Mutex::new(HashMap::new()),
                ws_routes: Mutex::new(Routes::default()),
                channels: Mutex::new(HashMap::new()),
                deadlock: Mutex::new(None),
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
             kinode-auth_{node}={}, or a login at /login with any password)",
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
        let (path, authenticated, local_only, cache, secure) = match action {
            HttpServerAction::Bind {
                path,
                authenticated,
                local_only,
                cache,
            } => (path, authenticated, local_only, cache, false),
            HttpServerAction::SecureBind { path, cache } => (path, true, false, cache, true),
            HttpServerAction::Unbind { path } => {
                let path = bound_path(&process, &path);
                lock(&self.shared.routes).bind(unbound(path));
                return Ok(());
            }
            HttpServerAction::WebSocketBind {
                path,
                authenticated,
                extension,
            } => return self.bind_ws(ctx, &process, &path, authenticated, extension, false),
            HttpServerAction::WebSocketSecureBind { path, extension } => {
                return self.bind_ws(ctx, &process, &path, true, extension, true)
            }
            HttpServerAction::WebSocketUnbind { path } => {
                lock(&self.shared.ws_routes).bind(unbound(bound_path(&process, &path)));
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
                let closed = websocket::close(&self.shared, &process, channel_id)?;
                if closed == websocket::Closed::Deadlocked {
                    ctx.note(ModuleEvent::HttpServerDeadlock {
                        process,
                        channel_id,
                    });
                }
                return Ok(());
            }
        };
        check_kimap_safe(&process)?;
        let content = match (cache, blob) {
            (false, _) => None,
            (true, None) => return Err("NoBlob"),
            (true, Some(blob)) => Some((blob.mime, blob.bytes)),
        };
        let stored = bound_path(&process, &path);
        let subdomain = secure.then(|| secure_subdomain(&process));
        let kind = if content.is_some() {
            "cached"
        } else {
            "dynamic"
        };
        let line = match &subdomain {
            Some(subdomain) => {
                format!("http: binding subdomain {subdomain} with path {stored}, {kind}")
            }
            None => format!(
                "http: binding {stored}, {}, {}, {kind}",
                if authenticated {
                    "authenticated"
                } else {
                    "unauthenticated"
                },
                if local_only { "local only" } else { "open" },
            ),
        };
        ctx.print(3, line);
        self.listen(ctx).map_err(|e| {
            ctx.print(0, e);
            "MalformedRequest"
        })?;
        let bound = Bound {
            websocket: false,
            authenticated,
            content: content.is_some(),
        };
        note_bound(ctx, &process, &stored, bound);
        lock(&self.shared.routes).bind(Binding {
            path: stored,
            process: Some(process),
            authenticated,
            local_only,
            content,
            secure_subdomain: subdomain,
        });
        Ok(())
    }
}

/// What the report says of a binding.
#[derive(Clone, Copy)]
struct Bound {
    websocket: bool,
    authenticated: bool,
    content: bool,
}

/// Reports a binding at `stored`, and that no request reaches it if so.
fn note_bound(ctx: &ModuleCtx, process: &ProcessId, stored: &str, bound: Bound) {
    let shown = if bound.websocket {
        format!("{stored} (WebSocket)")
    } else {
        stored.to_string()
    };
    if !reachable(stored) {
        ctx.note(ModuleEvent::HttpUnreachablePath {
            process: process.clone(),
            path: shown.clone(),
        });
    }
    ctx.note(ModuleEvent::HttpBound {
        process: process.clone(),
        path: shown,
        authenticated: bound.authenticated,
        content: bound.content,
    });
}

/// What `Unbind` leaves at a path: a binding of no process (404).
fn unbound(path: String) -> Binding {
    Binding {
        path,
        process: None,
        authenticated: false,
        local_only: false,
        content: None,
        secure_subdomain: None,
    }
}

/// The bindings a node starts with: kit's RPC path, local only.
fn rpc_routes() -> Routes {
    let mut routes = Routes::default();
    routes.bind(Binding {
        path: rpc::PATH.into(),
        process: Some(rpc::process()),
        authenticated: false,
        local_only: true,
        content: None,
        secure_subdomain: None,
    });
    routes
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

    /// Whether a process's `WebSocketClose` hung the server.
    fn deadlocked(&self) -> bool {
        lock(&self.deadlock).is_some()
    }
}

impl HttpServer {
    /// `WebSocketBind`/`WebSocketSecureBind`: clients may connect to
    /// `path` under the process's prefix (on its secure subdomain if
    /// `secure`).
    fn bind_ws(
        &self,
        ctx: &ModuleCtx,
        process: &ProcessId,
        path: &str,
        authenticated: bool,
        extension: bool,
        secure: bool,
    ) -> Result<(), &'static str> {
        check_kimap_safe(process)?;
        self.listen(ctx).map_err(|e| {
            ctx.print(0, e);
            "MalformedRequest"
        })?;
        let stored = bound_path(process, path);
        let bound = Bound {
            websocket: true,
            authenticated,
            content: false,
        };
        note_bound(ctx, process, &stored, bound);
        lock(&self.shared.ws_routes).bind(Binding {
            path: stored,
            process: Some(process.clone()),
            authenticated,
            local_only: extension,
            content: None,
            secure_subdomain: secure.then(|| secure_subdomain(process)),
        });
        Ok(())
    }
}

impl Module for HttpServer {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        // A hung server handles nothing more: no action, no answer.
        if self.shared.deadlocked() {
            return;
        }
        if let Message::Response((response, _)) = &km.message {
            // A process answering an HTTP request.
            if let Some(waiting) = lock(&self.shared.pending).remove(&km.id) {
                let _ = waiting.send((response.body.clone(), km.blob));
            }
            return;
        }
        let result = self.act(ctx, &km);
        if self.shared.deadlocked() {
            // This very action hung it: a node never answers it either.
            return;
        }
        match result {
            Ok(()) => ctx.respond(&km, Answer::new(json!({ "Ok": null }).to_string())),
            Err(error) => {
                // Errors go to the source whether or not it asked.
                let body = json!({ "Err": error }).to_string();
                ctx.respond_to_source(&km, Answer::new(body));
            }
        }
    }
}
