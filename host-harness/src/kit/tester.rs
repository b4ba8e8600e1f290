//! `tester:tester:sys`, the node process kit drives tests through, run
//! natively: public, holding what its manifest asks for (messaging to the
//! runtime modules, networking) and granting kv, sqlite and vfs messaging,
//! so that the test processes it spawns inherit what they would on a node.
//! The test's answer to `Run` comes back here.

use std::sync::Arc;

use crate::bindings::{Address, Capability, ProcessId};
use crate::kernel::network_capability;
use crate::modules::Answers;
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

/// The tester: the answers to its `Run` requests come back here.
pub struct Tester;

impl Tester {
    pub fn id() -> ProcessId {
        ProcessId::new("tester", "tester", "sys")
    }

    /// Registers the tester on the session's node, with its capabilities;
    /// returns where its answers arrive.
    pub fn install(session: &Session) -> Answers {
        let answers = Answers::default();
        let node = session.node();
        node.add_native(Tester::id(), true, Arc::new(answers.clone()));
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
        answers
    }
}
