//! What happens when a process's `init` returns or traps: the kernel's
//! prints, then its current on-exit behaviour. `None` kills it and revokes
//! every capability it issued; `Requests` sends its requests (as the dying
//! process, never expecting a response) and then kills it; `Restart` starts
//! it again with the same id, capabilities, bytes and persisted state, after
//! the kernel's backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::bindings::{Message, OnExit, ProcessId, Request};
use crate::report::{ExitKind, ExitRecord, Level};

use super::message::KernelMessage;
use super::{EntryKind, Kernel, KernelState, Status};

/// How a run of `init` ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Returned,
    /// A trap; the text is stderr if the process wrote any, else the
    /// trap's cause (what the kernel prints).
    Trapped(String),
}

/// The kernel's restart backoff for one process id.
pub(super) struct Backoff {
    earliest: Instant,
    attempts: u32,
}

impl Kernel {
    /// Applies the kernel's exit rules once `id`'s `init` is over. Returns
    /// when to restart it, if its on-exit is `Restart`.
    pub fn process_ended(
        self: &Arc<Self>,
        id: &ProcessId,
        outcome: Outcome,
        stdout: String,
        stderr: String,
    ) -> Option<Duration> {
        let mut state = self.lock();
        let address = self.address(id);
        match &outcome {
            Outcome::Returned => self.print_kernel(
                &mut state,
                1,
                format!("process {address} returned without error"),
            ),
            Outcome::Trapped(text) => self.print_kernel(
                &mut state,
                0,
                format!("\x1b[38;5;196mprocess {address} ended with error:\x1b[0m\n{text}"),
            ),
        }
        let on_exit = state
            .processes
            .get(id)
            .map_or(OnExit::None, |e| e.on_exit.clone());
        self.print_kernel(
            &mut state,
            1,
            format!(
                "process {id} has OnExit behavior {}",
                crate::report::on_exit_name(&on_exit)
            ),
        );
        if let Some(index) = Kernel::record_index(&state, id) {
            let record = &mut state.report.processes[index];
            record.exit = match &outcome {
                Outcome::Returned => ExitRecord {
                    kind: ExitKind::Returned,
                    detail: "init returned".into(),
                },
                Outcome::Trapped(text) => ExitRecord {
                    kind: ExitKind::Trapped,
                    detail: text.clone(),
                },
            };
            record.stdout.push_str(&stdout);
            record.stderr.push_str(&stderr);
        }
        match on_exit {
            OnExit::None => {
                self.kill(&mut state, id);
                None
            }
            OnExit::Requests(requests) => {
                for (target, request, blob) in requests {
                    let km = KernelMessage {
                        id: rand::random(),
                        source: address.clone(),
                        target,
                        rsvp: None,
                        message: Message::Request(Request {
                            expects_response: None,
                            ..request
                        }),
                        blob,
                    };
                    self.route(&mut state, km);
                }
                self.kill(&mut state, id);
                None
            }
            OnExit::Restart => {
                // The kernel kills it (keeping the capabilities it issued)
                // and starts it again after the backoff.
                self.print_kernel(&mut state, 2, format!("kernel: killing process {id}"));
                if let Some(entry) = state.processes.get_mut(id) {
                    entry.status = Status::Restarting;
                    entry.mailbox.clear();
                }
                Some(self.restart_delay(&mut state, id))
            }
        }
    }

    /// The kernel's backoff: restart at once unless the last restart was
    /// under a second ago; then wait, doubling the wait each time.
    fn restart_delay(&self, state: &mut KernelState, id: &ProcessId) -> Duration {
        let now = Instant::now();
        let delay = match state.backoff.get_mut(id) {
            Some(b) if now < b.earliest => {
                let wait = b.earliest - now;
                b.earliest += Duration::from_secs(1u64 << b.attempts.min(30));
                b.attempts += 1;
                wait
            }
            _ => {
                state.backoff.insert(
                    id.clone(),
                    Backoff {
                        earliest: now + Duration::from_secs(1),
                        attempts: 0,
                    },
                );
                Duration::ZERO
            }
        };
        if let Some(index) = Kernel::record_index(state, id) {
            state.report.processes[index].restarts += 1;
        }
        delay
    }

    /// Removes `id` and revokes every capability it issued, from everyone.
    /// Its persisted state stays (only `clear-state` deletes it), so a
    /// process later spawned under the same name finds it.
    pub(super) fn kill(&self, state: &mut KernelState, id: &ProcessId) {
        let Some(entry) = state.processes.remove(id) else {
            return;
        };
        self.print_kernel(state, 2, format!("kernel: killing process {id}"));
        entry.mailbox.close();
        let issuer = self.address(id);
        for other in state.processes.values_mut() {
            other.caps.revoke_issued_by(&issuer);
        }
    }

    /// A process whose bytes are not a loadable component: a real node
    /// panics its task (no print, no on-exit) and keeps it registered, so
    /// messages to it vanish.
    pub(super) fn mark_unloadable(&self, state: &mut KernelState, id: &ProcessId, reason: &str) {
        if let Some(entry) = state.processes.get_mut(id) {
            entry.status = Status::Dead;
            entry.mailbox.close();
        }
        if let Some(index) = Kernel::record_index(state, id) {
            state.report.processes[index].exit = ExitRecord {
                kind: ExitKind::Killed,
                detail: reason.to_owned(),
            };
        }
        self.diagnose(
            state,
            Level::Error,
            Some(id),
            format!("{id} never ran: {reason}"),
            Some(
                "a real node fails the same way, silently: the process stays registered and \
                 messages to it are dropped; rebuild it with `make build`"
                    .into(),
            ),
        );
    }

    /// Instantiation failed: the kernel prints and keeps the process
    /// registered, without running its on-exit.
    pub fn instantiate_failed(&self, id: &ProcessId, error: &str) {
        let mut state = self.lock();
        self.print_kernel(
            &mut state,
            0,
            format!("kernel: process {id} failed to instantiate: {error}"),
        );
        self.mark_unloadable(&mut state, id, &format!("failed to instantiate: {error}"));
    }

    /// The wasm of `id`, to start or restart it.
    pub fn wasm_of(&self, id: &ProcessId) -> Option<Arc<crate::wasm::LoadedWasm>> {
        match &self.lock().processes.get(id)?.kind {
            EntryKind::Wasm(wasm) => wasm.clone(),
            EntryKind::Module(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::Capability;
    use crate::capability::CapSet;
    use crate::modules::ModuleConfig;
    use crate::process::Runtime;
    use crate::report::terminal::Terminal;

    fn kernel() -> Arc<Kernel> {
        let terminal = Terminal {
            verbosity: 0,
            quiet: true,
        };
        Kernel::new(
            "fake.os",
            terminal,
            Runtime::new().unwrap(),
            None,
            &ModuleConfig::default(),
        )
    }

    #[tokio::test]
    async fn restart_backoff_follows_the_kernel() {
        let kernel = kernel();
        let id = ProcessId::new("p", "t", "x.os");
        let mut state = kernel.lock();
        // Five exits in quick succession (microseconds apart).
        let delays: Vec<f64> = (0..5)
            .map(|_| kernel.restart_delay(&mut state, &id).as_secs_f64().round())
            .collect();
        // At once, then wait until the recorded earliest time, which moves
        // on by 2^attempts seconds each time.
        assert_eq!(delays, [0.0, 1.0, 2.0, 4.0, 8.0]);
        // Once that time has passed, the next restart is immediate again.
        state.backoff.get_mut(&id).unwrap().earliest = Instant::now() - Duration::from_secs(1);
        assert_eq!(kernel.restart_delay(&mut state, &id), Duration::ZERO);
        assert_eq!(state.backoff[&id].attempts, 0);
    }

    #[tokio::test]
    async fn killing_revokes_what_the_process_issued() {
        let kernel = kernel();
        let a = ProcessId::new("a", "t", "x.os");
        let b = ProcessId::new("b", "t", "x.os");
        let mut state = kernel.lock();
        for id in [&a, &b] {
            kernel.register(
                &mut state,
                id.clone(),
                EntryKind::Wasm(None),
                false,
                OnExit::None,
                CapSet::default(),
            );
        }
        let from_a = Capability::messaging(kernel.address(&a));
        let from_a_custom = Capability::new(kernel.address(&a), "{\"x\":1}");
        let from_timer = Capability::messaging(kernel.address(&ProcessId::runtime("timer")));
        for cap in [&from_a, &from_a_custom, &from_timer] {
            Kernel::add_cap(&mut state, &b, cap.clone());
        }
        state.states.insert(a.clone(), vec![1]);
        kernel.kill(&mut state, &a);
        assert!(!state.processes.contains_key(&a));
        assert_eq!(state.states[&a], [1], "persisted state stays, as on a node");
        assert_eq!(state.processes[&b].caps.to_vec(), vec![from_timer]);
    }
}
