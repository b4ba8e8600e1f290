//! Stand-ins for the runtime modules a process talks to, registered under
//! the kernel's ids and public flags (only `timer` is public). `vfs`,
//! `http-client` and `timer` answer the real request and response bodies;
//! the others exist, so capability checks behave as on a node, but answer
//! nothing, and each message to them is reported.

mod http_client;
mod timer;
mod vfs;

use std::sync::Arc;

use crate::bindings::{Message, OnExit, ProcessId, Response};
use crate::capability::CapSet;
use crate::kernel::message::{Delivery, KernelMessage};
use crate::kernel::{EntryKind, Kernel};
use crate::report::Level;

pub use http_client::{HttpClient, HttpMock};

/// A runtime module: handles each message delivered to it.
pub trait Module: Send + Sync {
    fn handle(&self, kernel: &Arc<Kernel>, km: KernelMessage);
}

/// Runtime modules with no stand-in behaviour.
const INERT: [&str; 8] = [
    "kernel",
    "net",
    "eth",
    "kv",
    "sqlite",
    "state",
    "fd-manager",
    "http-server",
];

/// What the user configures about the modules.
#[derive(Debug, Clone, Default)]
pub struct ModuleConfig {
    /// Canned answers for http-client.
    pub http_mocks: Vec<HttpMock>,
}

/// Registers every runtime module and starts its task.
pub fn register_all(kernel: &Arc<Kernel>, config: &ModuleConfig) {
    let mut modules: Vec<(&str, Arc<dyn Module>, bool)> = vec![
        ("vfs", Arc::new(vfs::Vfs), false),
        (
            "http-client",
            Arc::new(HttpClient::new(config.http_mocks.clone())),
            false,
        ),
        ("timer", Arc::new(timer::Timer), true),
    ];
    for name in INERT {
        modules.push((name, Arc::new(Inert), false));
    }
    let mut state = kernel.lock();
    for (name, module, public) in modules {
        let id = ProcessId::runtime(name);
        kernel.register(
            &mut state,
            id.clone(),
            EntryKind::Module(module.clone()),
            public,
            OnExit::None,
            CapSet::default(),
        );
        let mailbox = state.processes[&id].mailbox.clone();
        let kernel = kernel.clone();
        tokio::spawn(async move {
            let mut busy = None;
            loop {
                let delivery = mailbox.take(&mut busy, |_| true).await;
                if let Delivery::Message(km) = delivery {
                    module.handle(&kernel, km);
                }
                busy = None;
            }
        });
    }
}

/// Sends a module's response to `km`: to its rsvp, else to its source.
/// `always`: send even if the request did not expect a response (some
/// modules do). Only vfs echoes the request's metadata.
pub fn respond(
    kernel: &Kernel,
    module: &str,
    km: &KernelMessage,
    body: Vec<u8>,
    blob: Option<crate::bindings::LazyLoadBlob>,
    always: bool,
) {
    let target = match (&km.rsvp, km.expects_response() || always) {
        (Some(rsvp), _) => rsvp.clone(),
        (None, true) => km.source.clone(),
        (None, false) => return,
    };
    let metadata = km
        .request()
        .and_then(|r| r.metadata.clone())
        .filter(|_| module == "vfs");
    kernel.send(KernelMessage {
        id: km.id,
        source: kernel.address(&ProcessId::runtime(module)),
        target,
        rsvp: None,
        message: Message::Response((
            Response {
                inherit: false,
                body,
                metadata,
                capabilities: vec![],
            },
            None,
        )),
        blob,
    });
}

/// A module the harness registers but does not emulate.
struct Inert;

impl Module for Inert {
    fn handle(&self, kernel: &Arc<Kernel>, km: KernelMessage) {
        let target = &km.target.process;
        kernel.note(
            Level::Warning,
            &km.source.process,
            format!(
                "{} to {target} got no answer: host-harness does not emulate {target}",
                km.kind()
            ),
            Some("test this part on a real node, or mock it behind your own process".into()),
        );
    }
}
