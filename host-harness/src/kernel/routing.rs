//! Routing a message, with the kernel's rules for who may message whom:
//! the target must exist and be public, or the sender must hold
//! `messaging` issued by the target (`kernel`, `vfs` and `state` are
//! exempt). A blocked request that expects a response comes back to its
//! sender at once as a `Timeout`; anything else blocked just vanishes.
//! Messages for other nodes leave through `network.rs`.

use crate::types::{Address, Capability, Message, ProcessId, SendError, SendErrorKind};

use super::event::{BlockReason, Consequence, Event};
use super::install::network_capability;
use super::message::{Delivery, KernelMessage};
use super::{is_exempt, Kernel};

impl Kernel {
    /// A message a process sends: capabilities attached to it that the
    /// sender neither holds nor issued are removed, then it is routed.
    pub fn send_from_process(&mut self, mut km: KernelMessage) {
        let holder = km.source.process.clone();
        let caps = match &mut km.message {
            Message::Request(request) => &mut request.capabilities,
            Message::Response((response, _)) => &mut response.capabilities,
        };
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(caps)
            .into_iter()
            .partition(|cap| self.may_pass_on(&holder, cap));
        for cap in &kept {
            self.usage.passed_on(&holder, cap);
        }
        *caps = kept;
        for capability in dropped {
            self.emit(Event::AttachedCapDropped {
                holder: holder.clone(),
                capability,
            });
        }
        self.send(km);
    }

    /// Routes `km` through the kernel's checks.
    pub fn send(&mut self, mut km: KernelMessage) {
        // `our` in an address means this node (the SDK writes it so).
        for address in [Some(&mut km.source), Some(&mut km.target), km.rsvp.as_mut()]
            .into_iter()
            .flatten()
        {
            if address.node == "our" {
                address.node = self.node.clone();
            }
        }
        let source = km.source.process.clone();
        let target = km.target.process.clone();
        self.usage.used(&source, &km.target);
        if km.source.node == self.node && !self.processes.contains_key(&source) {
            // A node drops what a process no longer in its table sends.
            self.refuse(km, BlockReason::SenderGone, Consequence::Dropped);
            return;
        }

        if km.target.node != self.node {
            if !self.holds(&source, &network_capability(&self.node)) {
                self.print(
                    0,
                    format!(
                        "event loop: process {source} doesn't have capability to send networked messages"
                    ),
                );
                let held = self.capabilities_debug(&source);
                self.print(0, format!("their capabilities: {held}"));
                self.refuse(km, BlockReason::NoNetworkCapability, Consequence::Timeout);
            } else {
                self.send_remote(km);
            }
            return;
        }
        let Some(entry) = self.processes.get(&target) else {
            let reason = if self.restarting.contains_key(&target) {
                BlockReason::Restarting
            } else {
                BlockReason::NoSuchProcess
            };
            if is_exempt(&source) {
                // kernel, vfs and state skip the table check and find no
                // channel: the louder line.
                self.print(
                    0,
                    format!(
                        "event loop: got {} from {} for {}, but target doesn't exist (perhaps it terminated): {km}",
                        if km.request().is_some() { "Request" } else { "Response" },
                        debug_process(&source),
                        debug_process(&target),
                    ),
                );
            } else {
                self.print(
                    2,
                    format!(
                        "event loop: process {source} sent message to non-existing {target}; dropping message"
                    ),
                );
            }
            self.refuse(km, reason, Consequence::Timeout);
            return;
        };
        let (public, alive) = (entry.public, entry.alive);
        if !public && !is_exempt(&source) {
            let needed = Capability::messaging(km.target.clone());
            if !self.holds(&source, &needed) {
                self.print(
                    0,
                    format!(
                        "event loop: process {source} doesn't have capability to message process {target}"
                    ),
                );
                self.refuse(km, BlockReason::NoMessagingCapability, Consequence::Timeout);
                return;
            }
        }
        // Any local process named `kernel`, in whatever package, is the
        // kernel's command handler on a node: what reaches it past the
        // checks is taken as a kernel command, never delivered.
        let commands = ProcessId::runtime("kernel");
        if target.process_name == "kernel" && target != commands {
            self.emit(Event::TakenByKernel {
                id: target.clone(),
                from: source.clone(),
            });
            self.deliver(&commands, Delivery::Message(km));
            return;
        }
        if !alive {
            // The kernel sends into a channel nobody reads and ignores the
            // failure: no print, no error for the sender.
            self.refuse(km, BlockReason::TargetNotRunning, Consequence::Dropped);
            return;
        }
        if self.trace_messages {
            self.print(3, km.to_string());
        }
        self.deliver(&target, Delivery::Message(km));
    }

    /// Records a message that was not delivered and, for a request that
    /// expects a response, hands the sender its `SendError` at once.
    fn refuse(&mut self, km: KernelMessage, reason: BlockReason, kind: Consequence) {
        let consequence = if km.expects_response() {
            kind
        } else {
            Consequence::Dropped
        };
        self.emit(Event::Blocked {
            message: Box::new(km.clone()),
            reason,
            consequence,
        });
        let kind = match consequence {
            Consequence::Timeout => SendErrorKind::Timeout,
            Consequence::Offline => SendErrorKind::Offline,
            Consequence::Dropped => return,
        };
        let source = km.source.process.clone();
        let error = SendError {
            kind,
            target: km.target,
            message: km.message,
            lazy_load_blob: km.blob,
        };
        self.deliver(&source, Delivery::Failed { id: km.id, error });
    }

    /// What the kernel prints for "their capabilities": each capability in
    /// Rust's debug form. A node also prints each one's signature bytes,
    /// which the harness does not have.
    fn capabilities_debug(&self, id: &crate::types::ProcessId) -> String {
        let caps: Vec<String> = self
            .processes
            .get(id)
            .map(|e| e.caps.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
            .iter()
            .map(|cap| {
                format!(
                    "Capability {{ issuer: {}, params: {:?} }}: []",
                    debug_address(&cap.issuer),
                    cap.params
                )
            })
            .collect();
        format!("{{{}}}", caps.join(", "))
    }
}

/// A process id in Rust's derived debug form, as the kernel prints it.
pub fn debug_process(id: &crate::types::ProcessId) -> String {
    format!(
        "ProcessId {{ process_name: {:?}, package_name: {:?}, publisher_node: {:?} }}",
        id.process_name, id.package_name, id.publisher_node
    )
}

/// An address in Rust's derived debug form, as the kernel prints it.
pub fn debug_address(address: &Address) -> String {
    format!(
        "Address {{ node: {:?}, process: {} }}",
        address.node,
        debug_process(&address.process)
    )
}
