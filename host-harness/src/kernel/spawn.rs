//! `spawn`, after the parent has read the wasm through vfs (as itself; the
//! process side does that, since it is a message round trip): check the
//! name, keep only the capabilities the parent may pass on, create the
//! child, apply grants, start it, and link parent and child with
//! `messaging`.

use crate::types::check_process_name;
use crate::types::{CapSet, Grant};
use crate::types::{Capability, OnExit, ProcessId, SpawnError};

use super::event::{Event, NoFileCause, SpawnEvent, SpawnOutcome};
use super::message::Delivery;
use super::{run_request, Kernel, Program, WasmKey};

pub struct SpawnRequest {
    pub parent: ProcessId,
    /// `None`: a random u64, as decimal text.
    pub name: Option<String>,
    pub wasm_path: String,
    /// What reading the wasm through vfs gave: the bytes compiled (or why
    /// they do not load), or why there are no bytes.
    pub read: Result<Result<WasmKey, String>, NoFileCause>,
    pub on_exit: OnExit,
    pub request_caps: Vec<Capability>,
    pub grant_caps: Vec<(ProcessId, String)>,
    pub public: bool,
}

impl Kernel {
    /// Spawns a child. The outer `Err` is a trap of the caller, with the
    /// kernel's words (a bad name).
    pub fn spawn(
        &mut self,
        request: SpawnRequest,
    ) -> Result<Result<ProcessId, SpawnError>, String> {
        let SpawnRequest {
            parent,
            name,
            wasm_path,
            read,
            on_exit,
            request_caps,
            grant_caps,
            public,
        } = request;
        let mut event = SpawnEvent {
            parent: parent.clone(),
            name: name.clone(),
            wasm_path: wasm_path.clone(),
            outcome: SpawnOutcome::NoFileAtPath(NoFileCause::NoBytes),
            dropped: vec![],
        };
        // 1. The read comes first; the name is checked only after it.
        let loaded = match read {
            Ok(loaded) => loaded,
            Err(cause) => {
                event.outcome = SpawnOutcome::NoFileAtPath(cause);
                self.emit(Event::Spawn(event));
                return Ok(Err(SpawnError::NoFileAtPath));
            }
        };
        // 2. The name: random if none; a bad one traps the caller.
        let name = name.unwrap_or_else(|| self.random().to_string());
        if let Err(trap) = check_process_name(&name) {
            event.name = Some(name);
            event.outcome = SpawnOutcome::Trapped(trap.clone());
            self.emit(Event::Spawn(event));
            return Err(trap);
        }
        let child = ProcessId::new(&name, &parent.package_name, &parent.publisher_node);
        event.name = Some(name);

        // 3. The caps the parent passes: kept if it may pass them on.
        let mut kept = CapSet::default();
        for cap in request_caps {
            if self.may_pass_on(&parent, &cap) {
                self.usage.passed_on(&parent, &cap);
                kept.insert(cap, Grant::AtCreation);
            } else {
                event.dropped.push(cap);
            }
        }

        // 4. A taken name: the kernel prints its error, ignores it, applies
        // the grants and sends `run` to the *existing* process.
        if let Some(existing) = self.processes.get(&child) {
            let alive = existing.alive;
            self.print(
                0,
                format!(
                    "kernel: error initializing process: process with ID {child} already exists"
                ),
            );
            self.apply_grants(&child, &grant_caps);
            if !alive {
                // `run` to a process whose task is gone fails.
                event.outcome = SpawnOutcome::NoFileAtPath(NoFileCause::NameOfDeadProcess(child));
                self.emit(Event::Spawn(event));
                return Ok(Err(SpawnError::NoFileAtPath));
            }
            let run = run_request(self, &child);
            self.deliver(&child, Delivery::Message(run));
            self.link_parent_and_child(&parent, &child);
            event.outcome = SpawnOutcome::Existing(child.clone());
            self.emit(Event::Spawn(event));
            return Ok(Ok(child));
        }

        // 5-7. A new child, with its own messaging capability.
        kept.insert(
            Capability::messaging(self.address(&child)),
            Grant::AtCreation,
        );
        let program = match &loaded {
            Ok(key) => Program::Wasm(*key),
            Err(_) => Program::Unloadable,
        };
        // The child runs the parent's interface version, as on a node.
        let wit_version = self.processes.get(&parent).and_then(|e| e.wit_version);
        self.register(
            child.clone(),
            program,
            super::Code {
                wasm_path: wasm_path.clone(),
                wit_version,
            },
            public,
            on_exit.clone(),
            kept,
        );
        self.emit(Event::Created {
            id: child.clone(),
            parent: Some(parent.clone()),
            wasm_path,
            public,
            on_exit,
        });
        if let Some(entry) = self.processes.get_mut(&child) {
            entry.parent = Some(parent.clone());
        }
        self.apply_grants(&child, &grant_caps);
        // On a node these land a moment after the child's `run`, in
        // practice still before its `init` runs; here, just before.
        self.link_parent_and_child(&parent, &child);
        event.outcome = SpawnOutcome::Started(child.clone());
        self.emit(Event::Spawn(event));
        match loaded {
            Ok(_) => self.start(&child),
            Err(reason) => self.invalid_wasm(&child, reason),
        }
        Ok(Ok(child))
    }

    /// Spawn's last step: the child may message its parent and the parent
    /// its child (added through the oracle, so they die with the issuer).
    fn link_parent_and_child(&mut self, parent: &ProcessId, child: &ProcessId) {
        let (parent_address, child_address) = (self.address(parent), self.address(child));
        self.add_cap(child, Capability::messaging(parent_address), Grant::Added);
        self.add_cap(parent, Capability::messaging(child_address), Grant::Added);
        self.print_for(parent, 2, "spawned a new process");
    }
}
