//! The kernel's rules for messages between nodes (Kinode 1.0's
//! `kernel/mod.rs` event loop and `standard_host_v1.rs`; hyperdrive 1.9
//! applies the same ones):
//!
//! - **Leaving**: a local process may send to another node only if it
//!   holds the network capability (`our@kernel:distro:sys "network"`);
//!   without it the kernel prints and the sender gets a `Timeout` at once.
//!   With it the message goes to `net` (here: [`Effect::Remote`]), and
//!   every capability attached is signed with this node's networking key.
//! - **Arriving**: the messaging checks of local traffic do not apply (any
//!   remote process may message any process, `public` or not); the target
//!   must exist (else the message is dropped, at verbosity 2) and hold the
//!   network capability itself (else dropped, at verbosity 0). Nobody tells
//!   the sender: it waits out its own timeout. Before the process sees an
//!   attached capability that claims this node as its issuer, its
//!   signature is checked against this node's key, and dropped if it is
//!   not this node's: a capability is only believed by the node that made
//!   it. Others pass unchecked.
//! - **Failing**: `net` answers a message it cannot deliver with
//!   `Offline` (an unknown node at once, an unreachable one after its
//!   connection attempt), which the kernel hands to the sender; a sender
//!   that no longer exists gets a line on the terminal instead.

use crate::types::keys::{sign_capability, verify_capability};
use crate::types::{Capability, Message, ProcessId, SendError, SendErrorKind};

use super::event::{BlockReason, Consequence, Event};
use super::install::network_capability;
use super::message::{Delivery, KernelMessage, Outbound};
use super::{Effect, Kernel};

impl Kernel {
    /// A local message for another node, once its sender's network
    /// capability is checked: signed and handed to the network.
    pub(super) fn send_remote(&mut self, km: KernelMessage) {
        if self.trace_messages {
            self.print(3, km.to_string());
        }
        let signatures = attached(&km.message)
            .iter()
            .map(|cap| sign_capability(&self.key, cap))
            .collect();
        self.effects
            .push(Effect::Remote(Box::new(Outbound { km, signatures })));
    }

    /// A message from another node arrives; why it was dropped, if it was.
    pub fn receive(&mut self, outbound: Outbound) -> Option<BlockReason> {
        let Outbound { mut km, signatures } = outbound;
        let target = km.target.process.clone();
        let Some(entry) = self.processes.get(&target) else {
            let hint = if km.request().is_some() {
                ""
            } else {
                "\nhint: if you are using `m`, try awaiting the Response: `m --await 5 ...`"
            };
            self.print(
                2,
                format!(
                    "event loop: got {} from network for {target}, but process does not exist{hint}",
                    kind_name(&km)
                ),
            );
            let reason = if self.restarting.contains_key(&target) {
                BlockReason::Restarting
            } else {
                BlockReason::NoSuchProcess
            };
            self.drop_incoming(km, reason);
            return Some(reason);
        };
        let (networked, alive) = (
            entry.caps.contains(&network_capability(&self.node)),
            entry.alive,
        );
        if !networked {
            self.print(
                0,
                format!(
                    "event loop: process {target} got a message from over the network, but \
                     doesn't have capability to receive networked messages"
                ),
            );
            self.drop_incoming(km, BlockReason::TargetLacksNetwork);
            return Some(BlockReason::TargetLacksNetwork);
        }
        // The kernel answers only its own node's commands; from afar its id
        // is looked up among the running tasks, where it has none.
        if target == ProcessId::runtime("kernel") || !alive {
            self.print(
                0,
                format!(
                    "event loop: got {} from {} for {}, but target doesn't exist (perhaps it \
                     terminated): {km}",
                    kind_name(&km),
                    super::routing::debug_process(&km.source.process),
                    super::routing::debug_process(&target),
                ),
            );
            let reason = if alive {
                BlockReason::NoSuchProcess
            } else {
                BlockReason::TargetNotRunning
            };
            self.drop_incoming(km, reason);
            return Some(reason);
        }
        let ours = self.key.verifying_key();
        let caps = match &mut km.message {
            Message::Request(request) => &mut request.capabilities,
            Message::Response((response, _)) => &mut response.capabilities,
        };
        let mut kept = Vec::with_capacity(caps.len());
        let mut rejected = Vec::new();
        for (cap, signature) in std::mem::take(caps).into_iter().zip(signatures) {
            if cap.issuer.node != self.node || verify_capability(&ours, &cap, &signature) {
                kept.push(cap);
            } else {
                rejected.push(cap);
            }
        }
        *caps = kept;
        for capability in rejected {
            self.emit(Event::RemoteCapRejected {
                holder: target.clone(),
                from: km.source.clone(),
                capability,
            });
        }
        if self.trace_messages {
            self.print(3, km.to_string());
        }
        self.deliver(&target, Delivery::Message(km));
        None
    }

    /// The network could not deliver `km` (`reason` says why): its sender
    /// gets the error, as a node's `net` sends it.
    pub fn network_error(&mut self, km: KernelMessage, reason: BlockReason) {
        let kind = match reason {
            BlockReason::Offline | BlockReason::NodeDown | BlockReason::Unreachable => {
                SendErrorKind::Offline
            }
            _ => SendErrorKind::Timeout,
        };
        let consequence = match (km.expects_response(), kind) {
            (false, _) => Consequence::Dropped,
            (true, SendErrorKind::Offline) => Consequence::Offline,
            (true, SendErrorKind::Timeout) => Consequence::Timeout,
        };
        self.emit(Event::Blocked {
            message: Box::new(km.clone()),
            reason,
            consequence,
        });
        let source = km.source.process.clone();
        if !self.processes.get(&source).is_some_and(|e| e.alive) {
            self.print(
                0,
                format!(
                    "event loop: {source} failed to deliver a message {}; but process has \
                     already terminated",
                    match kind {
                        SendErrorKind::Timeout => "due to timeout",
                        SendErrorKind::Offline => "because the receiver is offline",
                    }
                ),
            );
            return;
        }
        let error = SendError {
            kind,
            target: km.target,
            message: km.message,
            lazy_load_blob: km.blob,
        };
        self.deliver(&source, Delivery::Failed { id: km.id, error });
    }

    /// A message this node sent that the network lost on the way (its
    /// connection dropped): nobody is told; a request's sender times out.
    pub fn lost(&mut self, km: KernelMessage, reason: BlockReason) {
        self.emit(Event::Blocked {
            message: Box::new(km),
            reason,
            consequence: Consequence::Dropped,
        });
    }

    /// A message from another node that this kernel drops without a word
    /// to the sender.
    fn drop_incoming(&mut self, km: KernelMessage, reason: BlockReason) {
        self.emit(Event::Blocked {
            message: Box::new(km),
            reason,
            consequence: Consequence::Dropped,
        });
    }

    /// What a runtime module holds on a node: messaging to every runtime
    /// module (itself included) and the network capability, so it can
    /// answer processes on other nodes.
    pub(super) fn runtime_module_caps(&mut self, id: &ProcessId) {
        let modules: Vec<ProcessId> = self
            .processes
            .iter()
            .filter(|(other, entry)| {
                entry.program == super::Program::Module && is_runtime_module(other)
            })
            .map(|(other, _)| other.clone())
            .collect();
        let network = network_capability(&self.node);
        let own = Capability::messaging(self.address(id));
        self.add_cap(id, network, crate::types::Grant::AtCreation);
        for other in modules {
            let theirs = Capability::messaging(self.address(&other));
            self.add_cap(id, theirs, crate::types::Grant::AtCreation);
            self.add_cap(&other, own.clone(), crate::types::Grant::AtCreation);
        }
    }
}

/// Whether `id` is one of the runtime's own modules (`*:distro:sys`).
pub(super) fn is_runtime_module(id: &ProcessId) -> bool {
    id.package_name == "distro" && id.publisher_node == "sys"
}

/// The capabilities attached to a message.
fn attached(message: &Message) -> &[Capability] {
    match message {
        Message::Request(request) => &request.capabilities,
        Message::Response((response, _)) => &response.capabilities,
    }
}

fn kind_name(km: &KernelMessage) -> &'static str {
    if km.request().is_some() {
        "Request"
    } else {
        "Response"
    }
}
