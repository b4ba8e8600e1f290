//! `tester:tester:sys`, the node process kit drives tests through, run
//! natively: public, holding what its manifest asks for (messaging to the
//! runtime modules, networking) and granting kv, sqlite and vfs messaging,
//! so that the test processes it spawns inherit what they would on a node.
//! The test's answer to `Run` comes back here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::bindings::{Address, Capability, Message, ProcessId};
use crate::kernel::message::KernelMessage;
use crate::kernel::network_capability;
use crate::modules::Module;
use crate::node::{lock, Port};
use crate::Session;

/// What tester's manifest requests.
const REQUESTS: [&str; 9] = [
    "eth",
    "http-client",
    "http-server",
    "kernel",
    "kv",
    "sqlite",
    "state",
    "timer",
    "vfs",
];
/// Whom it grants messaging.
const GRANTS: [&str; 3] = ["kv", "sqlite", "vfs"];

#[derive(Clone, Default)]
pub struct Tester {
    /// Answers awaited, by request id.
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Vec<u8>>>>>,
}

impl Tester {
    pub fn id() -> ProcessId {
        ProcessId::new("tester", "tester", "sys")
    }

    /// Registers the tester on the session's node, with its capabilities.
    pub fn install(session: &Session) -> Tester {
        let tester = Tester::default();
        let node = session.node();
        node.add_native(Tester::id(), true, Arc::new(tester.clone()));
        let name = node.name().to_string();
        let mut caps: Vec<Capability> = REQUESTS
            .iter()
            .map(|m| Capability::messaging(Address::new(&name, ProcessId::runtime(m))))
            .collect();
        caps.push(network_capability(&name));
        let me = Capability::messaging(Address::new(&name, Tester::id()));
        node.kernel(|k| {
            k.grant_capabilities(&Tester::id(), caps);
            for module in GRANTS {
                k.grant_capabilities(&ProcessId::runtime(module), vec![me.clone()]);
            }
        });
        tester
    }

    /// Stops waiting for request `id`.
    pub fn forget(&self, id: u64) {
        lock(&self.waiting).remove(&id);
    }

    /// The answer to request `id`, when it comes.
    pub fn expect(&self, id: u64) -> oneshot::Receiver<Vec<u8>> {
        let (sender, receiver) = oneshot::channel();
        lock(&self.waiting).insert(id, sender);
        receiver
    }
}

impl Module for Tester {
    fn handle(&self, _port: &Arc<dyn Port>, km: KernelMessage) {
        if let Message::Response((response, _)) = &km.message {
            if let Some(waiting) = lock(&self.waiting).remove(&km.id) {
                let _ = waiting.send(response.body.clone());
            }
        }
    }
}
