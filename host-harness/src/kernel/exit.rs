//! What happens when a process's `init` returns or traps: the kernel's
//! prints, then its current on-exit behaviour. `None` kills it and revokes
//! what it issued through the oracle; `Requests` sends them (as the dying
//! process, never expecting a response) and then kills it; `Restart`
//! removes it without revoking and starts it again with the same id,
//! capabilities, bytes and persisted state, after the kernel's backoff.

use std::time::Duration;

use crate::types::{Message, OnExit, ProcessId, Request};

use super::event::{Event, Exit};
use super::message::{Delivery, KernelMessage};
use super::{run_request, Effect, Kernel};
use crate::types::Runtime;

impl Kernel {
    /// Applies the kernel's exit rules once `id`'s `init` is over; `now`
    /// is the node's clock.
    pub fn ended(
        &mut self,
        id: &ProcessId,
        exit: Exit,
        stdout: String,
        stderr: String,
        now: Duration,
    ) {
        self.settled(id);
        let address = self.address(id);
        match &exit {
            Exit::Returned => self.print(1, format!("process {address} returned without error")),
            Exit::Trapped(text) | Exit::LimitReached(_, text) => self.print(
                0,
                format!("\x1b[38;5;196mprocess {address} ended with error:\x1b[0m\n{text}"),
            ),
        }
        let on_exit = self.on_exit(id);
        self.print(
            1,
            format!(
                "process {id} has OnExit behavior {}",
                super::on_exit_name(&on_exit)
            ),
        );
        self.emit(Event::Exited {
            id: id.clone(),
            how: exit,
            stdout,
            stderr,
        });
        match on_exit {
            OnExit::None => self.kill(id, true),
            OnExit::Requests(requests) => {
                for (target, request, blob) in requests {
                    let id = self.random();
                    self.send(KernelMessage {
                        id,
                        source: address.clone(),
                        target,
                        rsvp: None,
                        message: Message::Request(Request {
                            expects_response: None,
                            ..request
                        }),
                        blob,
                    });
                }
                self.kill(id, true);
            }
            OnExit::Restart => self.restart(id, now),
        }
    }

    fn restart(&mut self, id: &ProcessId, now: Duration) {
        let Some(backoff) = self
            .processes
            .get(id)
            .filter(|e| e.restartable)
            .and_then(|_| self.backoff.get_mut(id))
        else {
            // Started without Restart: the 1.0 kernel has no backoff for
            // it and the process task panics here. Nothing is killed or
            // revoked; the process stays registered with no one reading
            // its messages.
            if let Some(entry) = self.processes.get_mut(id) {
                entry.alive = false;
            }
            self.effects.push(Effect::Close(id.clone()));
            self.emit(Event::RestartImpossible { id: id.clone() });
            return;
        };
        let wait = backoff.next(now);
        self.emit(Event::Restarting {
            id: id.clone(),
            after_ms: wait.as_millis() as u64,
        });
        // Removed without revoking; the name is free until the restart,
        // which starts from the dying task's own on-exit (Restart).
        if let Some(mut entry) = self.processes.swap_remove(id) {
            entry.on_exit = entry.task_on_exit.clone();
            self.effects.push(Effect::Close(id.clone()));
            self.print(2, format!("kernel: killing process {id}"));
            self.restarting.insert(id.clone(), entry);
        }
        if wait.is_zero() {
            self.restart_due(id);
        } else {
            self.effects.push(Effect::RestartAfter(id.clone(), wait));
        }
    }

    /// The backoff is over: the process is created again and run. If a
    /// newer process took its name meanwhile, the kernel's initialize
    /// fails and its `run` reaches that newer process instead.
    pub fn restart_due(&mut self, id: &ProcessId) {
        let Some(entry) = self.restarting.swap_remove(id) else {
            return;
        };
        if self.processes.contains_key(id) {
            self.print(
                0,
                format!("kernel: error initializing process: process with ID {id} already exists"),
            );
            self.emit(Event::RestartFailed { id: id.clone() });
            let run = run_request(self, id);
            self.deliver(id, Delivery::Message(run));
            return;
        }
        self.processes.insert(id.clone(), entry);
        self.start(id);
    }

    /// Stops `id` and starts it again at once, with its capabilities, bytes
    /// and persisted state, as a node starts its processes when it boots
    /// (a scenario's `restart`). False if it is not a running wasm process.
    pub fn reboot(&mut self, id: &ProcessId) -> bool {
        let Some(entry) = self.processes.get(id) else {
            return false;
        };
        if !entry.alive || !matches!(entry.program, super::Program::Wasm(_)) {
            return false;
        }
        self.effects.push(Effect::Close(id.clone()));
        self.emit(Event::Restarting {
            id: id.clone(),
            after_ms: 0,
        });
        self.start(id);
        true
    }

    /// Removes `id`; with `revoke`, every capability it issued through the
    /// oracle goes from every holder. Its persisted state stays (only
    /// `clear-state` deletes it).
    pub fn kill(&mut self, id: &ProcessId, revoke: bool) {
        self.kill_printing(id, revoke, 2);
    }

    /// [`Kernel::kill`], printing "killing" at `verbosity`.
    pub(super) fn kill_printing(&mut self, id: &ProcessId, revoke: bool, verbosity: u8) {
        if self.processes.swap_remove(id).is_none() {
            self.print(2, format!("kernel: no such process {id} to kill"));
            return;
        }
        self.effects.push(Effect::Close(id.clone()));
        if revoke {
            // A child spawned a moment ago is still starting: on a node its
            // `init` reads its capabilities (the link to this parent among
            // them) before the revocation, which travels through the
            // kernel's loop, reaches it. Here it reaches the child once
            // its `init` first waits for a message, the same on every run.
            let issuer = self.address(id);
            if self.timeline {
                self.emit(Event::Revoked { issuer: id.clone() });
            }
            for (holder, other) in self.processes.iter_mut() {
                if other.parent.as_ref() == Some(id) && !other.settled {
                    self.deferred_revocations
                        .push((holder.clone(), issuer.clone()));
                } else {
                    other.caps.revoke_issued_by(&issuer);
                }
            }
        }
        self.print(verbosity, format!("kernel: killing process {id}"));
    }

    /// A process whose bytes never ran: a real node panics its task (no
    /// print, no on-exit) and keeps it registered, so messages to it
    /// vanish.
    fn never_ran(&mut self, id: &ProcessId, reason: String, built_for: Option<Runtime>) {
        if let Some(entry) = self.processes.get_mut(id) {
            entry.alive = false;
        }
        self.effects.push(Effect::Close(id.clone()));
        self.emit(Event::NeverRan {
            id: id.clone(),
            reason,
            built_for,
        });
    }

    /// The bytes are not a component. Kinode 1.0 panics the process's task
    /// without a word; hyperdrive says why. Either way the process stays
    /// registered, its on-exit never runs, and messages to it vanish.
    pub fn invalid_wasm(&mut self, id: &ProcessId, reason: String) {
        if self.profile.invalid_wasm_print {
            self.print(
                0,
                format!("kernel: process {id} invalid wasm file: {reason}"),
            );
        }
        self.never_ran(id, reason, None);
    }

    /// Instantiation failed: the kernel prints and keeps the process
    /// registered, without running its on-exit. `built_for`: the component
    /// was built for that other runtime, whose process interface this node
    /// does not link.
    pub fn instantiate_failed(&mut self, id: &ProcessId, error: &str, built_for: Option<Runtime>) {
        self.print(
            0,
            format!("kernel: process {id} failed to instantiate: {error}"),
        );
        self.never_ran(id, format!("failed to instantiate: {error}"), built_for);
    }
}
