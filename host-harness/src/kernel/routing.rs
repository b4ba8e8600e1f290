//! Routing a message, with the kernel's rules for who may message whom:
//! the target must exist and be public, or the sender must hold
//! `messaging` issued by the target (`kernel`, `vfs` and `state` are
//! exempt). A blocked request that expects a response comes back to its
//! sender at once as a `Timeout`; anything else blocked just vanishes. The
//! harness records each block with its reason and a hint.

use crate::bindings::Capability;
use crate::bindings::{Message, SendError, SendErrorKind};
use crate::report::{BlockedRecord, Level};

use super::install::network_capability;
use super::message::{Delivery, KernelMessage};
use super::{is_exempt, Kernel, KernelState, Status};

impl Kernel {
    /// Sends `km` through the kernel's checks.
    pub fn send(&self, km: KernelMessage) {
        let mut state = self.lock();
        self.route(&mut state, km);
    }

    pub(super) fn route(&self, state: &mut KernelState, mut km: KernelMessage) {
        // `our` in a target means this node (the SDK writes it that way).
        if km.target.node == "our" {
            km.target.node = self.node.clone();
        }
        if let Some(rsvp) = km.rsvp.as_mut().filter(|a| a.node == "our") {
            rsvp.node = self.node.clone();
        }
        let source = km.source.process.clone();
        let target = km.target.process.clone();

        if km.target.node != self.node {
            if !Kernel::holds(state, &source, &network_capability(&self.node)) {
                self.print_kernel(
                    state,
                    0,
                    format!(
                        "event loop: process {source} doesn't have capability to send networked messages"
                    ),
                );
                let reason = format!(
                    "{source} may not send to other nodes (`{}`): it lacks the network capability",
                    km.target.node
                );
                let hint = Some("set request_networking: true in pkg/manifest.json".into());
                self.refuse(state, km, Some(SendErrorKind::Timeout), reason, hint);
            } else {
                let reason = format!(
                    "the target is on node `{}`; the harness runs one node ({}) and has no network",
                    km.target.node, self.node
                );
                self.refuse(state, km, Some(SendErrorKind::Offline), reason, None);
            }
            return;
        }
        let registered = state.processes.get(&target).map(|e| (e.public, e.status));
        let Some((public, status)) = registered.filter(|(_, s)| *s != Status::Restarting) else {
            self.print_kernel(
                state,
                2,
                format!(
                    "event loop: process {source} sent message to non-existing {target}; dropping message"
                ),
            );
            let reason = if registered.is_some() {
                format!("{target} is waiting out its restart backoff: the kernel has removed it until then")
            } else {
                format!("no process {target} exists on this node")
            };
            let hint = hint_for_missing(&target);
            self.refuse(state, km, Some(SendErrorKind::Timeout), reason, hint);
            return;
        };
        if !public && !is_exempt(&source) {
            let needed = Capability::messaging(km.target.clone());
            if !Kernel::holds(state, &source, &needed) {
                self.print_kernel(
                    state,
                    0,
                    format!(
                        "event loop: process {source} doesn't have capability to message process {target}"
                    ),
                );
                let reason = format!(
                    "{target} is not public and {source} does not hold {{issuer: {}, params: \"messaging\"}}",
                    km.target
                );
                let hint = hint_for_blocked(&km);
                self.refuse(state, km, Some(SendErrorKind::Timeout), reason, Some(hint));
                return;
            }
        }
        if status == Status::Dead {
            // The kernel sends into a channel nobody reads and ignores the
            // failure: no print, no error for the sender.
            let reason = format!("{target} never ran (its wasm did not load)");
            self.refuse(state, km, None, reason, None);
            return;
        }
        self.print_kernel(state, 3, km.to_string());
        self.deliver(state, &target, Delivery::Message(km));
    }

    /// Records a message that was not delivered, and, for a request that
    /// expects a response, hands the sender its `SendError` at once.
    /// `kind: None`: the sender gets no error, whatever it expected.
    fn refuse(
        &self,
        state: &mut KernelState,
        km: KernelMessage,
        kind: Option<SendErrorKind>,
        reason: String,
        hint: Option<String>,
    ) {
        let body = match &km.message {
            Message::Request(r) => String::from_utf8_lossy(&r.body).into_owned(),
            Message::Response((r, _)) => String::from_utf8_lossy(&r.body).into_owned(),
        };
        state.report.blocked_messages.push(BlockedRecord {
            source: km.source.to_string(),
            target: km.target.to_string(),
            kind: km.kind().into(),
            body,
            reason: reason.clone(),
        });
        let error_kind = kind.filter(|_| km.expects_response());
        let consequence = match error_kind {
            Some(SendErrorKind::Timeout) => "the sender got SendError { kind: Timeout } at once",
            Some(SendErrorKind::Offline) => "the sender got SendError { kind: Offline } at once",
            None => "it was dropped silently",
        };
        self.diagnose(
            state,
            Level::Warning,
            Some(&km.source.process),
            format!(
                "{} to {} was not delivered ({consequence}): {reason}",
                km.kind(),
                km.target
            ),
            hint,
        );
        if let Some(kind) = error_kind {
            let source = km.source.process.clone();
            let id = km.id;
            let error = SendError {
                kind,
                target: km.target,
                message: km.message,
                lazy_load_blob: km.blob,
            };
            self.deliver(state, &source, Delivery::Failed { id, error });
        }
    }
}

fn hint_for_blocked(km: &KernelMessage) -> String {
    let source = &km.source.process;
    let target = &km.target.process;
    let is_module = target.package_name == "distro" && target.publisher_node == "sys";
    if km.kind() == "response" {
        format!(
            "{source} may answer {target} only if {target} is public or gave {source} messaging: \
             add \"{source}\" to grant_capabilities of {} in pkg/manifest.json (or to a spawn's \
             grant_capabilities), or make it public",
            target.process_name
        )
    } else if is_module {
        format!(
            "add \"{target}\" to request_capabilities of {} in pkg/manifest.json (a spawned \
             process gets it only through its parent's spawn request_capabilities)",
            source.process_name
        )
    } else {
        format!(
            "give {source} the capability {{issuer: {}, params: \"messaging\"}} (manifest \
             request_capabilities, spawn request_capabilities, or a grant), or make {target} public",
            km.target
        )
    }
}

fn hint_for_missing(target: &crate::bindings::ProcessId) -> Option<String> {
    target.process_name.contains('_').then(|| {
        format!(
            "Kinode 1.0 names runtime modules with hyphens: did you mean {}?",
            target.to_string().replace('_', "-")
        )
    })
}
