//! Routing a message, with the kernel's rules for who may message whom:
//! the target must exist and be public, or the sender must hold
//! `messaging` issued by the target (`kernel`, `vfs` and `state` are
//! exempt). A blocked request that expects a response comes back to its
//! sender at once as a `Timeout`; anything else blocked just vanishes. The
//! harness records each block with its reason and a hint.

use crate::bindings::Capability;
use crate::bindings::{Message, SendError, SendErrorKind};
use crate::report::{BlockedRecord, Level};

use super::message::{Delivery, KernelMessage};
use super::{is_exempt, Kernel, KernelState};

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
        self.print_kernel(state, 3, format!("event loop: {km}"));

        if km.target.node != self.node {
            let reason = format!(
                "the target is on node `{}`; the harness runs one node ({}) and has no network",
                km.target.node, self.node
            );
            self.refuse(state, km, SendErrorKind::Offline, reason, None);
            return;
        }
        let source = &km.source.process;
        let target = &km.target.process;
        let Some(entry) = state.processes.get(target) else {
            self.print_kernel(
                state,
                2,
                format!(
                    "event loop: process {source} sent message to non-existing {target}; dropping message"
                ),
            );
            let reason = format!("no process {target} exists on this node");
            let hint = hint_for_missing(target);
            self.refuse(state, km, SendErrorKind::Timeout, reason, hint);
            return;
        };
        let public = entry.public;
        let alive = entry.alive;
        if !public && !is_exempt(source) {
            let needed = Capability::messaging(km.target.clone());
            if !Kernel::holds(state, source, &needed) {
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
                self.refuse(state, km, SendErrorKind::Timeout, reason, Some(hint));
                return;
            }
        }
        if !alive {
            let what = km.kind();
            self.print_kernel(
                state,
                0,
                format!(
                    "event loop: got {what} from {source} for {target}, but target doesn't exist (perhaps it terminated): {km}"
                ),
            );
            let reason = format!("{target} is registered but no longer running");
            self.refuse(state, km, SendErrorKind::Timeout, reason, None);
            return;
        }
        let target = target.clone();
        self.deliver(state, &target, Delivery::Message(km));
    }

    /// Records a message that was not delivered, and, for a request that
    /// expects a response, hands the sender its `SendError` at once.
    fn refuse(
        &self,
        state: &mut KernelState,
        km: KernelMessage,
        kind: SendErrorKind,
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
        let consequence = if km.expects_response() {
            "the sender got SendError { kind: Timeout } at once"
        } else {
            "it was dropped silently"
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
        if km.expects_response() {
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
