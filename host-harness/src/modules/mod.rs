//! Runtime modules: plug-ins that the node registers under the kernel's
//! ids and public flags (only `timer` is public) and hands each message
//! sent to them. vfs, kv, sqlite, http-server, http-client, timer and the
//! kernel's commands answer with the node's request and response bodies;
//! `eth` answers as a node that reaches no chain (`eth.rs`), `net` as a
//! node with no peers (`net.rs`); `state` and `fd-manager` exist, so
//! capability checks behave as on a node, but answer nothing, and each
//! message to them is reported.
//! `distro.rs` stands in for the processes every node runs.

mod answers;
mod database;
mod distro;
mod eth;
mod http_client;
mod http_server;
mod kernel;
mod kv;
mod net;
mod sqlite;
mod timer;
mod vfs;

use std::path::PathBuf;
use std::sync::Arc;

use crate::bindings::{LazyLoadBlob, Message, ProcessId, Response};
use crate::kernel::event::{Event, ModuleEvent};
use crate::kernel::message::KernelMessage;
use crate::node::{Node, Port};

pub use answers::Answers;
pub use http_client::{HttpClient, HttpMock};

/// A runtime module: handles each message delivered to it.
pub trait Module: Send + Sync {
    fn handle(&self, port: &Arc<dyn Port>, km: KernelMessage);
}

/// Runtime modules with no stand-in behaviour.
const INERT: [&str; 2] = ["state", "fd-manager"];

/// What the user configures about the modules.
#[derive(Debug, Clone, Default)]
pub struct ModuleConfig {
    /// Canned answers for http-client.
    pub http_mocks: Vec<HttpMock>,
    /// The node's home: vfs drives, kv and sqlite databases live in it.
    pub home: PathBuf,
    /// The node's name.
    pub node: String,
    /// Where the HTTP server listens; 0 picks a free port.
    pub http_port: u16,
    /// Which runtime's modules and distro processes the node has.
    pub flavor: crate::kernel::Flavor,
}

/// Registers every runtime module on `node` and starts it.
pub fn add_all(node: &Node, config: &ModuleConfig) {
    node.add_module(
        "vfs",
        false,
        Arc::new(vfs::Vfs::new(config.home.join("vfs"))),
    );
    node.add_module(
        "http-client",
        false,
        Arc::new(HttpClient::new(config.http_mocks.clone())),
    );
    node.add_module("timer", true, Arc::new(timer::Timer::default()));
    node.add_module("kv", false, Arc::new(kv::Kv::new(config.home.join("kv"))));
    let sqlite = sqlite::Sqlite::new(config.home.join("sqlite"));
    node.add_module("sqlite", false, Arc::new(sqlite));
    node.add_module("kernel", false, Arc::new(kernel::KernelCommands));
    let http = http_server::HttpServer::new(&config.node, config.http_port, config.flavor);
    node.add_module("http-server", false, Arc::new(http));
    node.add_module("eth", false, Arc::new(eth::Eth));
    node.add_module("net", false, Arc::new(net::Net::new()));
    for name in INERT {
        node.add_module(name, false, Arc::new(Inert));
    }
    if config.flavor == crate::kernel::Flavor::Hyperdrive {
        node.add_module("notifications", false, Arc::new(Inert));
    }
    let distro = Arc::new(distro::Distro::default());
    for &(id, public) in distro::processes(config.flavor) {
        let id = ProcessId::parse(id).expect("distro ids are valid");
        node.add_native(id, public, distro.clone());
    }
}

/// Whether a module answers `km`, and where: to its rsvp, else (if it
/// expects a response, or `always`) to its source.
fn reply_to(km: &KernelMessage, always: bool) -> Option<crate::bindings::Address> {
    match (&km.rsvp, km.expects_response() || always) {
        (Some(rsvp), _) => Some(rsvp.clone()),
        (None, true) => Some(km.source.clone()),
        (None, false) => None,
    }
}

/// A module's answer to `km`, from `module`.
pub struct Answer {
    pub body: Vec<u8>,
    pub metadata: Option<String>,
    pub blob: Option<LazyLoadBlob>,
    /// Sent even if the request expected no response (some modules do).
    pub always: bool,
}

impl Answer {
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Answer {
            body: body.into(),
            metadata: None,
            blob: None,
            always: false,
        }
    }

    /// An answer sent whether or not a response was expected.
    pub fn always(body: impl Into<Vec<u8>>) -> Self {
        Answer {
            always: true,
            ..Answer::new(body)
        }
    }
}

/// Sends runtime module `module`'s answer to `km`, if it gets one.
pub fn respond(port: &Arc<dyn Port>, module: &str, km: &KernelMessage, answer: Answer) {
    respond_as(port, ProcessId::runtime(module), km, answer);
}

/// Sends `module`'s answer to `km`'s source, ignoring its rsvp and
/// whether it expected one (as vfs does for a root listing and
/// http-server for its errors).
pub fn respond_to_source(port: &Arc<dyn Port>, module: &str, km: &KernelMessage, answer: Answer) {
    let mut to_source = km.clone();
    to_source.rsvp = None;
    let answer = Answer {
        always: true,
        ..answer
    };
    respond(port, module, &to_source, answer);
}

/// Sends `source`'s answer to `km`, if it gets one.
pub fn respond_as(port: &Arc<dyn Port>, source: ProcessId, km: &KernelMessage, answer: Answer) {
    let Some(target) = reply_to(km, answer.always) else {
        return;
    };
    port.send(KernelMessage {
        id: km.id,
        source: crate::bindings::Address::new(port.node(), source),
        target,
        rsvp: None,
        message: Message::Response((
            Response {
                inherit: false,
                body: answer.body,
                metadata: answer.metadata,
                capabilities: vec![],
            },
            None,
        )),
        blob: answer.blob,
    });
}

/// A module the harness registers but does not emulate.
struct Inert;

impl Module for Inert {
    fn handle(&self, port: &Arc<dyn Port>, km: KernelMessage) {
        port.note(Event::Module(ModuleEvent::NotEmulated {
            process: km.source.process.clone(),
            module: km.target.process.clone(),
            kind: km.kind(),
        }));
    }
}
