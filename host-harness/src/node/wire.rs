//! What a node reaches other nodes through: the network it belongs to.
//! The node hands it every message for another node while it still holds
//! its kernel's lock, so the network sees them in the order the kernel
//! sent them (a connection is first in, first out), and calls `flush` once
//! the lock is released, so the network may deliver what is due into other
//! nodes without two kernel locks ever being held at once.

use ed25519_dalek::VerifyingKey;

use super::Node;
use crate::kernel::message::Outbound;

pub(crate) trait Wire: Send + Sync {
    /// `outbound` leaves node `from`. Called under `from`'s kernel lock:
    /// it must neither block nor call into a node. A node the network has
    /// already taken down (crashed, or an earlier boot) sends nothing.
    fn send(&self, from: &Node, outbound: Outbound);
    /// Delivers what is due now. Called with no kernel lock held.
    fn flush(&self);
    /// The nodes `node` has a connection with now (`net`'s `GetPeers`).
    fn peers(&self, node: &str) -> Vec<String>;
    /// The networking key the name registry has for `node`, if it knows it.
    fn key_of(&self, node: &str) -> Option<VerifyingKey>;
    /// Node `node`'s kernel took a `Shutdown` command: it stops cleanly
    /// (soon after: this is called from the node's own work).
    fn shut_down(&self, node: &str);
}
