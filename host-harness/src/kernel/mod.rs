//! The Kinode 1.0 kernel's rules, and nothing else: no wasmtime, no tokio,
//! no clock and no randomness of its own (it is handed a seed, and `now`
//! where time matters). Each call takes what happened (a message sent, a
//! spawn asked for, an `init` that ended)
//! and leaves behind [`Effect`]s for the node to carry out (deliver this,
//! start that process, restart it after a while) and [`Event`]s saying
//! what it decided, which the report folds in. One rule per file:
//! `routing.rs` (who may message whom), `spawn.rs`, `exit.rs` (on-exit and
//! restarts, with `backoff.rs`), `install.rs` (a package's manifest), `caps.rs` (the
//! capability calls a process makes), `commands.rs` (what processes ask
//! `kernel:distro:sys`), `network.rs` (messages to and from other nodes),
//! `message.rs` and `event.rs` (what flows in and out).

mod backoff;
mod boot;
mod caps;
mod commands;
pub(crate) mod event;
mod exit;
mod install;
pub(crate) mod message;
mod network;
mod routing;
mod spawn;
mod usage;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

// Processes in the order the kernel made them: whatever walks the table
// (reboots, the process map's debug print, the runtime modules' grants)
// does so the same way on every run.
use indexmap::IndexMap;
use std::time::Duration;

pub(crate) use boot::Persisted;
pub(crate) use commands::{Initialize, ProcessView};
pub(crate) use event::Event;
pub(crate) use install::{network_capability, InstallPlan, SkippedEntry};
pub(crate) use routing::debug_address;
pub(crate) use spawn::SpawnRequest;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) use crate::types::WasmKey;
use crate::types::{Address, CapSet, Capability, Grant, OnExit, ProcessId, Profile, Runtime};
use backoff::Backoff;
use message::{Delivery, KernelMessage, Outbound};

/// Processes that may message anyone without a capability.
const EXEMPT_SENDERS: [&str; 3] = ["kernel", "vfs", "state"];

/// The kernel's `PROCESS_CHANNEL_CAPACITY`: messages that may wait for a
/// busy process before the kernel's loop stalls.
pub(crate) const CHANNEL_CAPACITY: usize = 100;

/// What the node must do after a kernel call, in order.
#[derive(Debug)]
pub enum Effect {
    /// Put this in the process's mailbox.
    Deliver(ProcessId, Box<Delivery>),
    /// Run the process's `init` (its first start, or a restart).
    Start(ProcessId),
    /// Call [`Kernel::restart_due`] for it after this long.
    RestartAfter(ProcessId, Duration),
    /// The process is gone: drop its mailbox and what waits in it.
    Close(ProcessId),
    /// Write (or with `None` delete) the process's persisted state.
    PersistState(ProcessId, Option<Vec<u8>>),
    /// Hand this to the network, for another node (what a node's kernel
    /// sends to `net`).
    Remote(Box<Outbound>),
}

pub struct Kernel {
    node: String,
    processes: IndexMap<ProcessId, Entry>,
    /// Processes waiting out the restart backoff. The kernel has removed
    /// them: messages fail as to a missing process, the name is free.
    restarting: IndexMap<ProcessId, Entry>,
    /// Persisted `set-state` bytes; they outlive restarts and kills.
    states: HashMap<ProcessId, Vec<u8>>,
    /// Restart backoff, per process id; only processes created with
    /// `OnExit::Restart` have one.
    backoff: HashMap<ProcessId, Backoff>,
    effects: Vec<Effect>,
    events: Vec<Event>,
    /// Print every delivered message (verbosity 3). Off unless someone
    /// reads them: rendering each message costs more than routing it.
    trace_messages: bool,
    /// Record every delivery and capability change as events, for a
    /// timeline of the run (`--html`, `--trace`). Off unless asked for.
    timeline: bool,
    /// The runtime whose rules apply where runtimes differ.
    profile: &'static Profile,
    /// Every random choice: message ids, unnamed spawns.
    rng: ChaCha8Rng,
    /// The node's networking key: it signs the capabilities this node
    /// sends to others and checks those that come back claiming to be ours.
    key: ed25519_dalek::SigningKey,
    /// Which requested capabilities the processes use.
    usage: usage::Usage,
    /// How many processes were ever registered (each entry's order).
    registered: u64,
    /// Why each process `InitializeProcess` made from bytes that are no
    /// component cannot load (it dies when run).
    unloadable: HashMap<ProcessId, String>,
    /// Revocations held back from a child that had not settled when its
    /// parent was killed: (the child, the parent's address).
    deferred_revocations: Vec<(ProcessId, Address)>,
}

#[derive(Clone)]
struct Entry {
    caps: CapSet,
    /// Where its wasm is, as the node records it (a vfs path).
    wasm_path: String,
    /// The process interface version its creator gave (`Debug` shows it).
    wit_version: Option<u32>,
    /// When it was registered, as a count: the order a reboot keeps.
    created: u64,
    public: bool,
    /// The kernel's record (its process map, what `Debug` shows and a
    /// restart starts from).
    on_exit: OnExit,
    /// The running task's own copy, which decides what happens when it
    /// exits: the process's `set_on_exit` changes both, a `SetOnExit`
    /// kernel command only the kernel's record.
    task_on_exit: OnExit,
    program: Program,
    /// Created with `OnExit::Restart`: only then does the 1.0 kernel give
    /// it a restart backoff, and only then can it restart.
    restartable: bool,
    /// False once its task is gone (it never loaded, or its exit
    /// panicked): it stays registered and messages to it vanish.
    alive: bool,
    /// Its `init` has been asked to run (created processes wait for the
    /// kernel's `run` until then).
    started: bool,
    /// The process that spawned it, if one did.
    parent: Option<ProcessId>,
    /// Its `init` has waited for a message (or ended) at least once.
    settled: bool,
}

/// What runs behind a process id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    Wasm(WasmKey),
    /// The bytes were not a loadable component.
    Unloadable,
    /// A runtime module, run by the node.
    Module,
}

/// Where a process's code comes from, as its process-table entry says.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub wasm_path: String,
    pub wit_version: Option<u32>,
}

impl Code {
    /// A runtime module's: no wasm, the latest interface.
    fn module() -> Code {
        Code {
            wasm_path: String::new(),
            wit_version: Some(1),
        }
    }
}

impl Kernel {
    /// The kernel of node `node`, following `runtime`'s rules, its random
    /// choices and its networking key drawn from `seed` (the node's seed).
    pub fn new(node: &str, runtime: Runtime, seed: u64) -> Kernel {
        Kernel {
            node: node.into(),
            processes: IndexMap::new(),
            restarting: IndexMap::new(),
            states: HashMap::new(),
            backoff: HashMap::new(),
            effects: Vec::new(),
            events: Vec::new(),
            trace_messages: false,
            timeline: false,
            profile: runtime.profile(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            key: crate::types::keys::networking_key(seed),
            usage: usage::Usage::default(),
            registered: 0,
            unloadable: HashMap::new(),
            deferred_revocations: Vec::new(),
        }
    }

    /// The node's networking key, when it is not the one its seed makes
    /// (a rebooted node keeps its key, but not its seed).
    pub fn set_networking_key(&mut self, key: ed25519_dalek::SigningKey) {
        self.key = key;
    }

    /// The next number of the run's seeded stream (a message id, a
    /// transaction id).
    pub fn random(&mut self) -> u64 {
        self.rng.gen()
    }

    /// Turns the verbosity-3 line for every delivered message on or off.
    /// Records deliveries and capability changes for a timeline.
    pub fn record_timeline(&mut self, on: bool) {
        self.timeline = on;
    }

    pub fn trace_messages(&mut self, on: bool) {
        self.trace_messages = on;
    }

    /// `node@process`.
    pub fn address(&self, process: &ProcessId) -> Address {
        Address::new(&self.node, process.clone())
    }

    /// What the last calls decided: effects to carry out, events to report.
    pub fn drain(&mut self) -> (Vec<Effect>, Vec<Event>) {
        (
            std::mem::take(&mut self.effects),
            std::mem::take(&mut self.events),
        )
    }

    fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// A line from the kernel itself (no package prefix).
    fn print(&mut self, verbosity: u8, text: String) {
        self.print_as(&ProcessId::runtime("kernel"), verbosity, text);
    }

    /// A line a runtime module prints (bare, like the kernel's).
    pub fn print_as(&mut self, module: &ProcessId, verbosity: u8, text: String) {
        self.emit(Event::Print {
            source: module.clone(),
            verbosity,
            text,
            prefixed: false,
        });
    }

    /// Registers a runtime module or another process the node runs
    /// natively (the distro processes a node always has).
    pub fn register_module(&mut self, id: ProcessId, public: bool) -> ProcessId {
        self.register(
            id.clone(),
            Program::Module,
            Code::module(),
            public,
            OnExit::None,
            CapSet::default(),
        );
        if network::is_runtime_module(&id) {
            self.runtime_module_caps(&id);
        }
        id
    }

    fn register(
        &mut self,
        id: ProcessId,
        program: Program,
        code: Code,
        public: bool,
        on_exit: OnExit,
        caps: CapSet,
    ) {
        self.registered += 1;
        let restartable = matches!(on_exit, OnExit::Restart);
        if restartable {
            let rule = self.profile.backoff;
            self.backoff
                .entry(id.clone())
                .or_insert_with(|| Backoff::new(rule));
        }
        self.processes.insert(
            id,
            Entry {
                caps,
                wasm_path: code.wasm_path,
                wit_version: code.wit_version,
                created: self.registered,
                public,
                task_on_exit: on_exit.clone(),
                on_exit,
                program,
                restartable,
                alive: program != Program::Unloadable,
                started: false,
                parent: None,
                settled: false,
            },
        );
    }

    /// Runs a registered process's `init`.
    /// What it holds now is what the report says it started with: when its
    /// `init` really begins depends on scheduling (its parent may have
    /// ended and revoked what it gave by then), so that moment would make
    /// the report differ from run to run.
    fn start(&mut self, id: &ProcessId) {
        if let Some(entry) = self.processes.get_mut(id) {
            entry.started = true;
            let capabilities = entry.caps.to_vec();
            self.effects.push(Effect::Start(id.clone()));
            self.emit(Event::Started {
                id: id.clone(),
                capabilities,
            });
        }
    }

    /// The compiled component behind `id`, to start it.
    pub fn program(&self, id: &ProcessId) -> Option<Program> {
        self.processes.get(id).map(|e| e.program)
    }

    #[cfg(test)]
    pub fn exists(&self, id: &ProcessId) -> bool {
        self.processes.contains_key(id)
    }

    /// Whether `holder` holds `cap`.
    pub fn holds(&self, holder: &ProcessId, cap: &Capability) -> bool {
        self.processes
            .get(holder)
            .is_some_and(|entry| entry.caps.contains(cap))
    }

    /// Whether `holder` may pass `cap` on (in a spawn or attached to a
    /// message): it issued it (the kernel compares the issuer's process, not
    /// its node) or holds it.
    pub fn may_pass_on(&self, holder: &ProcessId, cap: &Capability) -> bool {
        cap.issuer.process == *holder || self.holds(holder, cap)
    }

    /// Gives `holder` `cap`; false if there is no such process.
    fn add_cap(&mut self, holder: &ProcessId, cap: Capability, how: Grant) -> bool {
        let Some(entry) = self.processes.get_mut(holder) else {
            return false;
        };
        let added = entry.caps.insert(cap.clone(), how);
        if added && self.timeline {
            self.emit(Event::CapChanged {
                holder: holder.clone(),
                capability: cap,
                added: true,
            });
        }
        true
    }

    /// Queues `delivery` for `target` if it is registered and alive.
    fn deliver(&mut self, target: &ProcessId, delivery: Delivery) -> bool {
        if !self.processes.get(target).is_some_and(|e| e.alive) {
            return false;
        }
        if self.timeline {
            let event = match &delivery {
                Delivery::Message(km) => Event::Delivered {
                    message: Box::new(km.clone()),
                },
                Delivery::Failed { id, error } => Event::ErrorDelivered {
                    to: target.clone(),
                    id: *id,
                    error: error.clone(),
                },
            };
            self.emit(event);
        }
        self.effects
            .push(Effect::Deliver(target.clone(), Box::new(delivery)));
        true
    }

    /// `init` is about to run (at `now`, on the node's clock): the restart
    /// backoff counts from here.
    pub fn started(&mut self, id: &ProcessId, now: Duration) {
        if let Some(backoff) = self.backoff.get_mut(id) {
            backoff.started(now);
        }
    }

    /// `id`'s `init` waits for a message for the first time: what its
    /// parent's death revoked reaches it now (see `kill_printing`).
    pub fn settled(&mut self, id: &ProcessId) {
        if let Some(entry) = self.processes.get_mut(id) {
            entry.settled = true;
        }
        let (due, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred_revocations)
            .into_iter()
            .partition(|(holder, _)| holder == id);
        self.deferred_revocations = kept;
        if let Some(entry) = self.processes.get_mut(id) {
            for (_, issuer) in due {
                entry.caps.revoke_issued_by(&issuer);
            }
        }
    }

    /// What the running task of `id` does when it exits (`get_on_exit`).
    pub fn on_exit(&self, id: &ProcessId) -> OnExit {
        self.processes
            .get(id)
            .map_or(OnExit::None, |e| e.task_on_exit.clone())
    }

    /// The process's own `set_on_exit`: its task's copy and the kernel's.
    pub fn set_on_exit(&mut self, id: &ProcessId, on_exit: OnExit) {
        if let Some(entry) = self.processes.get_mut(id) {
            entry.on_exit = on_exit.clone();
            entry.task_on_exit = on_exit.clone();
        }
        self.print_for(id, 2, "set new on-exit behavior");
        self.emit(Event::OnExitChanged {
            id: id.clone(),
            on_exit,
        });
    }

    /// `get-state`: what `set-state` saved, if anything.
    pub fn get_state(&self, id: &ProcessId) -> Option<Vec<u8>> {
        self.states.get(id).cloned()
    }

    pub fn set_state(&mut self, id: &ProcessId, bytes: Vec<u8>) {
        self.states.insert(id.clone(), bytes.clone());
        self.effects
            .push(Effect::PersistState(id.clone(), Some(bytes)));
        self.print_for(id, 2, "persisted state");
    }

    pub fn clear_state(&mut self, id: &ProcessId) {
        self.states.remove(id);
        self.effects.push(Effect::PersistState(id.clone(), None));
        self.print_for(id, 2, "cleared persisted state");
    }

    /// State an earlier run of this node persisted.
    pub fn load_state(&mut self, id: ProcessId, bytes: Vec<u8>) {
        self.states.insert(id, bytes);
    }

    /// A kernel line attributed to `id`'s package, as the kernel prints for
    /// `set-on-exit`, `set-state` and spawn.
    fn print_for(&mut self, id: &ProcessId, verbosity: u8, text: &str) {
        let line = format!("{}:{}: {text}", id.package_name, id.publisher_node);
        self.print(verbosity, line);
    }

    /// A process's `print-to-terminal`.
    pub fn print_from(&mut self, id: &ProcessId, verbosity: u8, text: String) {
        self.emit(Event::Print {
            source: id.clone(),
            verbosity,
            text,
            prefixed: true,
        });
    }

    /// A request's own timeout ran out: its sender gets the error (it
    /// counts against the sender's channel, as on a node).
    pub fn deliver_failure(&mut self, to: &ProcessId, id: u64, error: crate::types::SendError) {
        self.deliver(to, Delivery::Failed { id, error });
    }

    /// `send-response` with no request to answer: the kernel prints and
    /// drops it.
    pub fn response_without_request(&mut self, id: &ProcessId, response: &crate::types::Response) {
        self.print(
            0,
            format!("kernel: need non-None prompting_message to handle Response {response:?}"),
        );
        self.emit(Event::ResponseWithoutRequest {
            process: id.clone(),
        });
    }

    /// Reports what a module or process noticed (it decides nothing).
    pub fn note(&mut self, event: Event) {
        self.emit(event);
    }
}

/// How the kernel prints an on-exit behaviour.
pub fn on_exit_name(on_exit: &OnExit) -> &'static str {
    match on_exit {
        OnExit::None => "None",
        OnExit::Restart => "Restart",
        OnExit::Requests(_) => "Requests",
    }
}

/// Whether `source` is one of the processes the kernel lets message anyone.
fn is_exempt(source: &ProcessId) -> bool {
    source.package_name == "distro"
        && source.publisher_node == "sys"
        && EXEMPT_SENDERS.contains(&source.process_name.as_str())
}

/// The kernel's `run` request that starts (or pokes) a process.
fn run_request(kernel: &mut Kernel, target: &ProcessId) -> KernelMessage {
    KernelMessage {
        id: kernel.random(),
        source: kernel.address(&ProcessId::runtime("kernel")),
        target: kernel.address(target),
        rsvp: None,
        message: crate::types::Message::Request(crate::types::Request {
            inherit: false,
            expects_response: None,
            body: b"run".to_vec(),
            metadata: None,
            capabilities: vec![],
        }),
        blob: None,
    }
}
