//! The emulated Kinode kernel: the process table, capabilities, routing,
//! spawning, and what happens when a process ends.
//!
//! One [`Kernel`] runs one node. Its state sits behind one mutex that is
//! never held across an `.await`, so every kernel operation is atomic, as
//! in the real kernel's single event loop. Each file holds one of its
//! rules: `routing.rs` (who may message whom), `spawn.rs`, `exit.rs`
//! (on-exit and restarts), `install.rs` (a package's manifest).

pub mod activity;
mod exit;
mod install;
pub mod mailbox;
pub mod message;
mod routing;
mod spawn;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub use exit::Outcome;
pub use spawn::{SpawnRequest, SpawnResult};

use crate::bindings::{Address, Capability, OnExit, ProcessId};
use crate::capability::CapSet;
use crate::modules::Module;
use crate::process::Runtime;
use crate::report::terminal::Terminal;
use crate::report::{Diagnostic, Level, Report};
use crate::wasm::LoadedWasm;
use activity::{Activity, InFlight};
use mailbox::Mailbox;
use message::Delivery;

/// Processes that may message anyone without a capability.
const EXEMPT_SENDERS: [&str; 3] = ["kernel", "vfs", "state"];

pub struct Kernel {
    pub node: String,
    pub terminal: Terminal,
    pub activity: Arc<Activity>,
    pub runtime: Runtime,
    /// Where package `tmp` drives live for this run (removed at the end).
    tmp_root: Option<std::path::PathBuf>,
    state: Mutex<KernelState>,
}

#[derive(Default)]
pub struct KernelState {
    pub processes: HashMap<ProcessId, ProcessEntry>,
    pub report: Report,
    /// Index into `report.processes` of each id's record.
    records: HashMap<ProcessId, usize>,
    /// Persisted `set-state` bytes; they outlive restarts.
    pub states: HashMap<ProcessId, Vec<u8>>,
    backoff: HashMap<ProcessId, exit::Backoff>,
    /// Which package drives (`package:publisher`) exist, and where.
    pub drives: HashMap<String, std::path::PathBuf>,
}

pub struct ProcessEntry {
    pub caps: CapSet,
    pub public: bool,
    pub on_exit: OnExit,
    pub mailbox: Arc<Mailbox>,
    pub kind: EntryKind,
    pub status: Status,
}

/// Where a registered process stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Its mailbox is read (or will be, once it starts).
    Running,
    /// Waiting out the restart backoff: the kernel has removed it, so
    /// messages to it fail as to a missing process.
    Restarting,
    /// Its wasm never loaded or instantiated: the kernel keeps it
    /// registered, and messages to it vanish.
    Dead,
}

pub enum EntryKind {
    /// `None`: the bytes were not a loadable component.
    Wasm(Option<Arc<LoadedWasm>>),
    Module(Arc<dyn Module>),
}

impl Kernel {
    pub fn new(
        node: &str,
        terminal: Terminal,
        runtime: Runtime,
        tmp_root: Option<std::path::PathBuf>,
        modules: &crate::modules::ModuleConfig,
    ) -> Arc<Kernel> {
        let kernel = Arc::new(Kernel {
            node: node.into(),
            terminal,
            activity: Arc::new(Activity::default()),
            runtime,
            tmp_root,
            state: Mutex::new(KernelState::default()),
        });
        crate::modules::register_all(&kernel, modules);
        kernel
    }

    pub fn lock(&self) -> MutexGuard<'_, KernelState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `node@process`.
    pub fn address(&self, process: &ProcessId) -> Address {
        Address::new(&self.node, process.clone())
    }

    /// A line from the kernel itself (no package prefix).
    pub fn print_kernel(&self, state: &mut KernelState, verbosity: u8, text: String) {
        self.terminal.print(verbosity, &text);
        state.report.prints.push(crate::report::PrintRecord {
            process: "kernel:distro:sys".into(),
            verbosity,
            text,
        });
    }

    /// Records something a real node would do silently, with a hint.
    pub fn diagnose(
        &self,
        state: &mut KernelState,
        level: Level,
        process: Option<&ProcessId>,
        message: String,
        hint: Option<String>,
    ) {
        state.report.diagnostics.push(Diagnostic {
            level,
            process: process.map(|p| p.to_string()),
            message,
            hint,
        });
    }

    /// [`Kernel::diagnose`] for a caller that does not hold the state lock.
    pub fn note(&self, level: Level, process: &ProcessId, message: String, hint: Option<String>) {
        let mut state = self.lock();
        self.diagnose(&mut state, level, Some(process), message, hint);
    }

    /// Whether `holder` holds `cap`.
    pub fn holds(state: &KernelState, holder: &ProcessId, cap: &Capability) -> bool {
        state
            .processes
            .get(holder)
            .is_some_and(|entry| entry.caps.contains(cap))
    }

    /// Whether `holder` may pass `cap` on (in a spawn or attached to a
    /// message): it issued it (the kernel compares the issuer's process, not
    /// its node) or holds it.
    pub fn may_pass_on(state: &KernelState, holder: &ProcessId, cap: &Capability) -> bool {
        cap.issuer.process == *holder || Kernel::holds(state, holder, cap)
    }

    pub fn add_cap(state: &mut KernelState, holder: &ProcessId, cap: Capability) -> bool {
        match state.processes.get_mut(holder) {
            Some(entry) => {
                entry.caps.insert(cap);
                true
            }
            None => false,
        }
    }

    /// Registers a process (wasm or runtime module) without starting it.
    pub fn register(
        &self,
        state: &mut KernelState,
        id: ProcessId,
        kind: EntryKind,
        public: bool,
        on_exit: OnExit,
        caps: CapSet,
    ) {
        state.processes.insert(
            id,
            ProcessEntry {
                caps,
                public,
                on_exit,
                mailbox: Arc::new(Mailbox::default()),
                kind,
                status: Status::Running,
            },
        );
    }

    /// Puts `delivery` in `target`'s mailbox, if it has a live one.
    fn deliver(&self, state: &mut KernelState, target: &ProcessId, delivery: Delivery) -> bool {
        let Some(entry) = state.processes.get(target) else {
            return false;
        };
        if entry.status != Status::Running {
            return false;
        }
        let queued = entry.mailbox.push(delivery, self.activity.enter());
        if queued == mailbox::CAPACITY + 1 {
            self.diagnose(
                state,
                Level::Warning,
                Some(target),
                format!(
                    "more than {} messages wait in this process's mailbox",
                    mailbox::CAPACITY
                ),
                Some(
                    "a real node's kernel stops routing every message until this process \
                     reads its mailbox: read messages promptly"
                        .into(),
                ),
            );
        }
        true
    }

    /// Each registered-or-ended process id with its report record index.
    pub fn records(state: &KernelState) -> impl Iterator<Item = (&ProcessId, usize)> {
        state.records.iter().map(|(id, index)| (id, *index))
    }

    pub fn record_index(state: &KernelState, id: &ProcessId) -> Option<usize> {
        state.records.get(id).copied()
    }

    pub fn busy(&self) -> InFlight {
        self.activity.enter()
    }
}

/// Whether `source` is one of the processes the kernel lets message anyone.
fn is_exempt(source: &ProcessId) -> bool {
    source.package_name == "distro"
        && source.publisher_node == "sys"
        && EXEMPT_SENDERS.contains(&source.process_name.as_str())
}

impl Kernel {
    pub fn mailbox_of(&self, id: &ProcessId) -> Option<Arc<Mailbox>> {
        self.lock().processes.get(id).map(|e| e.mailbox.clone())
    }

    /// Snapshot of what `id` holds as its `init` begins, for the report.
    pub fn record_start_capabilities(&self, id: &ProcessId) {
        let mut state = self.lock();
        let caps: Vec<crate::report::CapRecord> = state
            .processes
            .get(id)
            .map(|e| e.caps.iter().map(Into::into).collect())
            .unwrap_or_default();
        if let Some(index) = Kernel::record_index(&state, id) {
            state.report.processes[index].capabilities_at_start = caps;
        }
    }

    /// The backoff is over: the process is back and reads its mailbox.
    pub fn restarting(&self, id: &ProcessId) {
        let mut state = self.lock();
        if let Some(entry) = state.processes.get_mut(id) {
            entry.status = Status::Running;
        }
    }

    /// The package's `tmp` drive on the host, preopened for its processes.
    pub fn tmp_dir(&self, package: &crate::bindings::PackageId) -> Option<std::path::PathBuf> {
        let dir = self
            .tmp_root
            .as_ref()?
            .join("vfs")
            .join(package.to_string())
            .join("tmp");
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir)
    }
}
