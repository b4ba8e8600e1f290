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

mod routes;
mod server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;

use crate::bindings::{Message, ProcessId};
use crate::ids::check_process_name;
use crate::kernel::event::{Event, ModuleEvent};
use crate::kernel::message::KernelMessage;
use crate::node::{lock, Port};

use super::{respond, respond_to_source, Answer, Module};
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
    },
    WebSocketSecureBind {
        path: String,
    },
    WebSocketUnbind {
        path: String,
    },
    WebSocketPush {},
    /// A channel id; no channel exists without WebSockets.
    WebSocketClose(#[allow(dead_code)] u32),
}

/// A process's answer to an HTTP request: its body and blob.
type Reply = (Vec<u8>, Option<Vec<u8>>);

pub struct HttpServer {
    shared: Arc<Shared>,
}

struct Shared {
    node: String,
    /// `--http-port`; 0 picks a free one.
    wanted_port: u16,
    /// The port once listening.
    port: Mutex<Option<u16>>,
    token: String,
    routes: Mutex<Routes>,
    /// HTTP requests waiting for their process's response, by message id.
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
}

impl HttpServer {
    pub fn new(node: &str, wanted_port: u16) -> Self {
        HttpServer {
            shared: Arc::new(Shared {
                node: node.into(),
                wanted_port,
                port: Mutex::new(None),
                token: format!("{:032x}", rand::random::<u128>()),
                routes: Mutex::new(Routes::default()),
                pending: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Starts listening if it is not yet.
    fn listen(&self, port: &Arc<dyn Port>) -> Result<(), String> {
        let mut listening = lock(&self.shared.port);
        if listening.is_some() {
            return Ok(());
        }
        let bound = server::start(self.shared.clone(), port.clone())?;
        *listening = Some(bound);
        let node = &self.shared.node;
        let line = format!(
            "http-server: serving on http://localhost:{bound} (authenticated paths take the cookie \
             kinode-auth_{node}={})",
            self.shared.token
        );
        port.kernel(|k| k.print_as(&ProcessId::runtime("http-server"), 0, line));
        port.note(Event::Module(ModuleEvent::HttpServing {
            port: bound,
            cookie: format!("kinode-auth_{node}={}", self.shared.token),
        }));
        Ok(())
    }

    /// Carries out a process's action; the error's name if it fails.
    fn act(&self, port: &Arc<dyn Port>, km: &KernelMessage) -> Result<(), &'static str> {
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
            HttpServerAction::WebSocketBind { path }
            | HttpServerAction::WebSocketSecureBind { path }
            | HttpServerAction::WebSocketUnbind { path } => {
                port.note(Event::Module(ModuleEvent::NotEmulated {
                    process,
                    module: ProcessId::runtime("http-server"),
                    kind: "WebSocket binding",
                }));
                let _ = path;
                return Ok(());
            }
            HttpServerAction::WebSocketPush {} => return Err("WsChannelNotFound"),
            // The node answers Ok for a channel it does not know.
            HttpServerAction::WebSocketClose(_) => return Ok(()),
        };
        let kimap_safe = check_process_name(&process.process_name).is_ok()
            && check_process_name(&process.package_name).is_ok()
            && process
                .publisher_node
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !kimap_safe {
            return Err("InvalidSourceProcess");
        }
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
        port.kernel(|k| k.print_as(&ProcessId::runtime("http-server"), 3, line));
        self.listen(port).map_err(|e| {
            port.kernel(|k| k.print_as(&ProcessId::runtime("http-server"), 0, e));
            "MalformedRequest"
        })?;
        let stored = bound_path(&process, &path);
        port.note(Event::Module(ModuleEvent::HttpBound {
            process: process.clone(),
            path: stored.clone(),
            authenticated,
            content: content.is_some(),
        }));
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

impl Module for HttpServer {
    fn handle(&self, port: &Arc<dyn Port>, km: KernelMessage) {
        if let Message::Response((response, _)) = &km.message {
            // A process answering an HTTP request.
            if let Some(waiting) = lock(&self.shared.pending).remove(&km.id) {
                let _ = waiting.send((response.body.clone(), km.blob.map(|b| b.bytes)));
            }
            return;
        }
        match self.act(port, &km) {
            Ok(()) => respond(
                port,
                "http-server",
                &km,
                Answer::new(json!({ "Ok": null }).to_string()),
            ),
            Err(error) => {
                // Errors go to the source whether or not it asked.
                let body = json!({ "Err": error }).to_string();
                respond_to_source(port, "http-server", &km, Answer::new(body));
            }
        }
    }
}
