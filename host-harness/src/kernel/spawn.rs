//! The kernel's half of `spawn`, after the host has read the wasm through
//! vfs (as the parent) and checked the name: filter the capabilities the
//! parent passes, create the child, apply grants, start it, and link parent
//! and child with messaging capabilities.

use std::sync::Arc;

use crate::bindings::{Capability, OnExit, ProcessId, Request};
use crate::capability::CapSet;
use crate::report::{on_exit_name, CapRecord, DroppedCap, Level, ProcessRecord, SpawnRecord};
use crate::wasm::LoadedWasm;

use super::message::{Delivery, KernelMessage};
use super::{EntryKind, Kernel, KernelState, Status};

pub struct SpawnRequest {
    pub parent: ProcessId,
    pub name: String,
    pub wasm_path: String,
    /// The compiled child, or why its bytes are not a loadable component.
    pub wasm: Result<Arc<LoadedWasm>, String>,
    pub on_exit: OnExit,
    pub request_caps: Vec<Capability>,
    pub grant_caps: Vec<(ProcessId, String)>,
    pub public: bool,
}

pub enum SpawnResult {
    /// A new child, to be started by the caller.
    Started(ProcessId),
    /// The name belongs to a process that never ran: `NoFileAtPath`.
    Failed,
    /// The name was taken by a running process; the kernel poked it with
    /// `run` and `spawn` still returns its id.
    Existing(ProcessId),
}

impl Kernel {
    pub fn spawn_child(self: &Arc<Self>, request: SpawnRequest) -> SpawnResult {
        let SpawnRequest {
            parent,
            name,
            wasm_path,
            wasm,
            on_exit,
            request_caps,
            grant_caps,
            public,
        } = request;
        let child = ProcessId::new(&name, &parent.package_name, &parent.publisher_node);
        let child_address = self.address(&child);
        let mut state = self.lock();

        // The caps the parent passes: kept if the parent may pass them on.
        let mut kept = CapSet::default();
        let mut dropped = Vec::new();
        for cap in request_caps {
            if Kernel::may_pass_on(&state, &parent, &cap) {
                kept.insert(cap);
            } else {
                let reason = format!(
                    "{parent} does not hold this capability (and did not issue it); a real node drops it without a word"
                );
                dropped.push(DroppedCap {
                    capability: CapRecord::from(&cap),
                    reason,
                });
            }
        }
        for d in &dropped {
            let hint = Some(format!(
                "add \"{}\" (params {}) to the parent's request_capabilities in pkg/manifest.json",
                d.capability.issuer.split_once('@').map_or("", |(_, p)| p),
                d.capability.params
            ));
            self.diagnose(
                &mut state,
                Level::Warning,
                Some(&parent),
                format!(
                    "spawn of {child}: capability {{issuer: {}, params: {}}} dropped: {}",
                    d.capability.issuer, d.capability.params, d.reason
                ),
                hint,
            );
        }

        let existing = state.processes.get(&child).map(|e| e.status);
        let mut record = SpawnRecord {
            parent: parent.to_string(),
            name: Some(name.clone()),
            wasm_path: wasm_path.clone(),
            result: "ok".into(),
            child: Some(child.to_string()),
            dropped_capabilities: dropped,
            detail: None,
        };

        if let Some(status) = existing {
            // Kinode 1.0: the kernel prints an error, ignores it, applies the
            // grants and sends `run` to the *existing* process.
            self.print_kernel(
                &mut state,
                0,
                format!(
                    "kernel: error initializing process: process with ID {child} already exists"
                ),
            );
            self.apply_grants(&mut state, &child, &grant_caps);
            if status == Status::Dead {
                // `run` to a process whose task is gone fails: NoFileAtPath.
                let detail = format!(
                    "the name {child} belongs to a process that never ran; the kernel could not \
                     run it, so spawn returned NoFileAtPath"
                );
                self.diagnose(
                    &mut state,
                    Level::Error,
                    Some(&parent),
                    detail.clone(),
                    None,
                );
                record.result = "NoFileAtPath".into();
                record.child = None;
                record.detail = Some(detail);
                state.report.spawns.push(record);
                return SpawnResult::Failed;
            }
            let run = KernelMessage {
                id: rand::random(),
                source: self.address(&ProcessId::runtime("kernel")),
                target: child_address.clone(),
                rsvp: None,
                message: crate::bindings::Message::Request(Request {
                    inherit: false,
                    expects_response: None,
                    body: b"run".to_vec(),
                    metadata: None,
                    capabilities: vec![],
                }),
                blob: None,
            };
            self.deliver(&mut state, &child, Delivery::Message(run));
            self.link_parent_and_child(&mut state, &parent, &child);
            let detail = format!(
                "a process named {child} is already running: no new process was started; the \
                 existing one received a `run` request from kernel:distro:sys, and spawn returned Ok"
            );
            self.diagnose(
                &mut state,
                Level::Warning,
                Some(&parent),
                detail.clone(),
                Some("pick a fresh name (or None for a random one) for every spawn".into()),
            );
            record.detail = Some(detail);
            state.report.spawns.push(record);
            return SpawnResult::Existing(child);
        }

        kept.insert(Capability::messaging(child_address.clone()));
        let (kind, failure) = match wasm {
            Ok(wasm) => (EntryKind::Wasm(Some(wasm)), None),
            Err(reason) => (EntryKind::Wasm(None), Some(reason)),
        };
        self.register(
            &mut state,
            child.clone(),
            kind,
            public,
            on_exit.clone(),
            kept,
        );
        self.apply_grants(&mut state, &child, &grant_caps);
        // On a real node these land a moment after the child's `run`, which
        // in practice is still before its `init` runs; here, just before.
        self.link_parent_and_child(&mut state, &parent, &child);
        self.add_record(
            &mut state,
            ProcessRecord {
                id: child.to_string(),
                parent: Some(parent.to_string()),
                wasm_path,
                public,
                on_exit: on_exit_name(&on_exit).into(),
                capabilities_at_start: vec![],
                restarts: 0,
                exit: crate::report::ExitRecord {
                    kind: crate::report::ExitKind::Running,
                    detail: String::new(),
                },
                stdout: String::new(),
                stderr: String::new(),
            },
        );
        if let Some(reason) = failure {
            self.mark_unloadable(&mut state, &child, &reason);
        }
        state.report.spawns.push(record);
        SpawnResult::Started(child)
    }

    /// Spawn's last step: the child may message its parent and the parent
    /// its child.
    fn link_parent_and_child(
        &self,
        state: &mut KernelState,
        parent: &ProcessId,
        child: &ProcessId,
    ) {
        Kernel::add_cap(state, child, Capability::messaging(self.address(parent)));
        Kernel::add_cap(state, parent, Capability::messaging(self.address(child)));
        let prefix = format!("{}:{}", parent.package_name, parent.publisher_node);
        self.print_kernel(state, 2, format!("{prefix}: spawned a new process"));
    }

    /// `grant_caps`: each named process gets a capability issued by
    /// `issuer` with the given params. Unknown processes are skipped.
    pub(super) fn apply_grants(
        &self,
        state: &mut KernelState,
        issuer: &ProcessId,
        grants: &[(ProcessId, String)],
    ) {
        let issuer_address = self.address(issuer);
        for (to, params) in grants {
            let cap = Capability::new(issuer_address.clone(), params.clone());
            if !Kernel::add_cap(state, to, cap) {
                self.diagnose(
                    state,
                    Level::Warning,
                    Some(issuer),
                    format!("grant of {params} to {to} skipped: no such process"),
                    Some("a real node skips it silently; check the process id".into()),
                );
            }
        }
    }

    pub(super) fn add_record(&self, state: &mut KernelState, record: ProcessRecord) {
        let id = ProcessId::parse(&record.id).expect("records hold valid ids");
        state.report.processes.push(record);
        let index = state.report.processes.len() - 1;
        state.records.insert(id, index);
    }
}
