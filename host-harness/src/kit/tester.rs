//! `tester:tester:sys`, the node process kit drives tests through, run
//! natively: public, holding what its manifest asks for (messaging to the
//! runtime modules, networking) and granting kv, sqlite and vfs messaging,
//! so that the test processes it spawns inherit what they would on a node.
//! The test's answer to `Run` comes back here. On every node but the
//! master, the node's tester answers kit's `Run` with `Run(Ok)` at once
//! and does nothing else, so there it is only present.

use crate::driver::Driver;
use crate::kernel::network_capability;
use crate::types::{Capability, ProcessId};
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

/// Registers the tester on node `node` of the session, with its
/// capabilities; its answers come back to the driver it returns.
pub fn install(session: &Session, node: &str) -> Driver {
    let node = session
        .network()
        .node(node)
        .expect("a node of the suite, just booted");
    let tester = Driver::install(&node, ProcessId::new("tester", "tester", "sys"));
    let mut caps: Vec<Capability> = REQUESTS
        .iter()
        .map(|m| Capability::messaging(tester.address(ProcessId::runtime(m))))
        .collect();
    caps.push(network_capability(tester.node()));
    tester.grant(tester.id(), caps);
    let me = Capability::messaging(tester.address(tester.id().clone()));
    for module in GRANTS {
        tester.grant(&ProcessId::runtime(module), vec![me.clone()]);
    }
    tester
}
