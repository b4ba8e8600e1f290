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
    pub wit_version: Option<u32>,
    /// The request's blob compiled (or why it does not load); `None`: the
    /// request had no blob.
    pub wasm: Option<Result<WasmKey, String>>,
    pub on_exit: OnExit,
    pub capabilities: Vec<Capability>,
    pub public: bool,
}

/// One process-table entry, as the kernel's `Debug` shows it.
pub struct ProcessView {
    pub wasm_path: String,
    pub wit_version: Option<u32>,
    pub on_exit: OnExit,
    pub capabilities: Vec<Capability>,
    pub public: bool,
}

/// A capability as the node's kernel prints it: `issuer(params)`.
fn node_display(cap: &Capability) -> String {
    let params = serde_json::from_str::<serde_json::Value>(&cap.params)
        .unwrap_or_else(|_| serde_json::json!("invalid JSON in capability"));
    format!("{}({params})", cap.issuer)
}

impl Kernel {
    /// `InitializeProcess`; false is the kernel's `InitializeProcessError`.
    pub fn initialize(&mut self, request: Initialize) -> bool {
        let Initialize {
            source,
            id,
            wasm_path,
            wit_version,
            wasm,
            on_exit,
            capabilities,
            public,
        } = request;
        let Some(loaded) = wasm else {
            self.print(0, "kernel: process startup requires bytes".into());
            return false;
        };
        // A node refuses ids a name registry could not hold (`../`, dots in
        // names): they never become processes, or paths.
        if let Err(e) = check_kimap_safe(&id) {
            self.print(0, format!("kernel: {e}"));
            return false;
        }
        // The kernel signs anything; any other caller passes on only what
        // it holds (not what it issued, unlike a spawn).
        let trusted = source == ProcessId::runtime("kernel");
        let mut caps = CapSet::default();
        for cap in capabilities {
            if trusted || self.holds(&source, &cap) {
                caps.insert(cap, Grant::AtCreation);
            } else {
                self.emit(Event::InitialCapDropped {
                    caller: source.clone(),
                    id: id.clone(),
                    capability: cap.clone(),
                });
                self.print(
                    0,
                    format!(
                        "kernel: InitializeProcess caller {source} doesn't have capability {}",
                        node_display(&cap)
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
        // A node compiles the bytes only once the process runs: bytes that
        // are no component still give `InitializedProcess`.
        let program = match loaded {
            Ok(key) => Program::Wasm(key),
            Err(reason) => {
                self.unloadable.insert(id.clone(), reason);
                Program::Unloadable
            }
        };
        let code = super::Code {
            wasm_path: wasm_path.clone(),
            wit_version,
        };
        self.register(id.clone(), program, code, public, on_exit.clone(), caps);
        if let Some(entry) = self.processes.get_mut(&id) {
            // Its task waits for `run` as any other's does.
            entry.alive = true;
        }
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
            // Bytes that are no component: the task takes `run`, then dies
            // compiling them, without a word (the answer is still
            // `StartedProcess`).
            Some(entry) if entry.program == Program::Unloadable && !entry.started => {
                let reason = self.unloadable.remove(id).unwrap_or_default();
                if let Some(entry) = self.processes.get_mut(id) {
                    entry.started = true;
                }
                self.invalid_wasm(id, reason);
                true
            }
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

    /// `Booted`: the kernel's `run` to every userspace process with a
    /// task (a process created but not run starts; a running one gets a
    /// second `run` request).
    pub fn booted_command(&mut self) {
        let ids: Vec<ProcessId> = self
            .processes
            .iter()
            .filter(|(_, e)| e.alive && e.program != Program::Module)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.run_process(&id);
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

    /// Every process, as `Debug(ProcessMap)` shows it.
    pub fn process_map(&self) -> Vec<(ProcessId, ProcessView)> {
        self.processes
            .iter()
            .map(|(id, e)| {
                let view = ProcessView {
                    wasm_path: e.wasm_path.clone(),
                    wit_version: e.wit_version,
                    on_exit: e.on_exit.clone(),
                    capabilities: e.caps.to_vec(),
                    public: e.public,
                };
                (id.clone(), view)
            })
            .collect()
    }
}
