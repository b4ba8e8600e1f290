//! Commands sent to `kernel:distro:sys` by processes allowed to message
//! it: create a process, run it, kill it, grant and drop capabilities,
//! change on-exit. The 1.0 kernel checks nothing per command beyond that.

use crate::types::{check_kimap_safe, CapSet, Capability, Grant, OnExit, ProcessId};

use super::event::Event;
use super::message::Delivery;
use super::{run_request, Kernel, Program, WasmKey};

/// `InitializeProcess`: a process created but not run until `RunProcess`.
pub struct Initialize {
    pub source: ProcessId,
    pub id: ProcessId,
    pub wasm_path: String,
    /// The compiled bytes from the request's blob, or why there are none.
    pub wasm: Result<WasmKey, String>,
    pub on_exit: OnExit,
    pub capabilities: Vec<Capability>,
    pub public: bool,
}

impl Kernel {
    /// `InitializeProcess`; false is the kernel's `InitializeProcessError`.
    pub fn initialize(&mut self, request: Initialize) -> bool {
        let Initialize {
            source,
            id,
            wasm_path,
            wasm,
            on_exit,
            capabilities,
            public,
        } = request;
        let key = match wasm {
            Ok(key) => key,
            Err(reason) => {
                self.print(
                    0,
                    format!("kernel: process startup requires bytes ({reason})"),
                );
                return false;
            }
        };
        // A node refuses ids a name registry could not hold (`../`, dots in
        // names): they never become processes, or paths.
        if let Err(e) = check_kimap_safe(&id) {
            self.print(0, format!("kernel: {e}"));
            return false;
        }
        // The kernel signs anything; any other caller passes on only what
        // it may.
        let trusted = source == ProcessId::runtime("kernel");
        let mut caps = CapSet::default();
        for cap in capabilities {
            if trusted || self.may_pass_on(&source, &cap) {
                caps.insert(cap, Grant::AtCreation);
            } else {
                self.print(
                    0,
                    format!(
                        "kernel: InitializeProcess caller {source} doesn't have capability {cap}"
                    ),
                );
            }
        }
        let messaging = Capability::messaging(self.address(&id));
        caps.insert(messaging.clone(), Grant::AtCreation);
        self.add_cap(&source, messaging, Grant::Added);
        if self.processes.contains_key(&id) {
            self.print(
                0,
                format!("kernel: error initializing process: process with ID {id} already exists"),
            );
            return false;
        }
        self.register(
            id.clone(),
            Program::Wasm(key),
            wasm_path.clone(),
            public,
            on_exit.clone(),
            caps,
        );
        self.emit(Event::Created {
            id,
            parent: Some(source),
            wasm_path,
            public,
            on_exit,
        });
        true
    }

    /// `RunProcess`: starts a created process, or sends a running one the
    /// kernel's `run` again. False: no such process (`RunProcessError`).
    pub fn run_process(&mut self, id: &ProcessId) -> bool {
        match self.processes.get(id) {
            // Its task is gone: the kernel's send fails, without a word.
            Some(entry) if !entry.alive => false,
            Some(entry) if matches!(entry.program, Program::Wasm(_)) => {
                if entry.started {
                    let run = run_request(self, id);
                    self.deliver(id, Delivery::Message(run));
                } else {
                    self.start(id);
                }
                true
            }
            _ => {
                self.print(0, format!("kernel: no such process {id} to run"));
                false
            }
        }
    }

    /// `KillProcess`: false if there is no such userspace process (the
    /// kernel then answers nothing).
    pub fn kill_process(&mut self, id: &ProcessId, revoke: bool, loud: bool) -> bool {
        if !self
            .processes
            .get(id)
            .is_some_and(|e| e.program != Program::Module)
        {
            self.print(2, format!("kernel: no such process {id} to kill"));
            return false;
        }
        self.kill_printing(id, revoke, if loud { 0 } else { 2 });
        self.emit(Event::Killed { id: id.clone() });
        true
    }

    /// `GrantCapabilities`: through the oracle, unchecked.
    pub fn grant_capabilities(&mut self, target: &ProcessId, caps: Vec<Capability>) {
        for cap in caps {
            self.add_cap(target, cap, Grant::Added);
        }
    }

    /// `SetOnExit` from a command: no print, unlike the host function, and
    /// only the kernel's record changes: the running task keeps its own
    /// copy and exits by it.
    pub fn command_set_on_exit(&mut self, target: &ProcessId, on_exit: OnExit) {
        if let Some(entry) = self.processes.get_mut(target) {
            entry.on_exit = on_exit.clone();
            self.emit(Event::OnExitChanged {
                id: target.clone(),
                on_exit,
            });
        }
    }

    /// Every process, for `Debug(ProcessMap)`: (id, on-exit, caps, public).
    pub fn process_map(&self) -> Vec<(ProcessId, OnExit, Vec<Capability>, bool)> {
        self.processes
            .iter()
            .map(|(id, e)| (id.clone(), e.on_exit.clone(), e.caps.to_vec(), e.public))
            .collect()
    }
}
