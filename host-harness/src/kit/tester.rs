//! `tester:tester:sys`, the node process kit drives tests through, run
//! natively: public, holding what its manifest asks for (messaging to the
//! runtime modules, networking) and granting kv, sqlite and vfs messaging,
//! so that the test processes it spawns inherit what they would on a node.
//! The test's answer to `Run` comes back here.

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

/// Registers the tester on the session's node, with its capabilities; its
/// answers come back to the driver it returns.
pub fn install(session: &Session) -> Driver {
    let tester = Driver::install(session.node(), ProcessId::new("tester", "tester", "sys"));
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
