//! What a run did, for people (`summary.rs`) and machines (`--json`):
//! one [`Report`] per node, and for several nodes a [`NetworkReport`]
//! holding theirs and what crossed between them (`network.rs`).
//!
//! `fold.rs` builds it from the kernel's events as they happen; the words
//! of every diagnostic and hint live in `hints.rs`; what fails a run is
//! decided in `verdict.rs`.

pub mod compare;
mod fold;
mod hints;
mod network;
mod summary;
pub(crate) mod terminal;
pub mod timeline;
mod verdict;

use serde::{Deserialize, Serialize};

pub use crate::kernel::event::{BlockReason, Consequence, Limit};
pub use network::{Crossing, CrossingRecord, FaultRecord, NetworkReport};
pub use summary::{render_network_summary, render_summary};

use crate::types::{Address, Capability, OnExit, ProcessId, Runtime};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub package: String,
    pub node: String,
    /// Whose rules the run followed: `kinode-1.0` or `hyperdrive`.
    pub runtime: Runtime,
    /// The seed of every random choice in the run: the same seed gives the
    /// same ids (`--seed`).
    pub seed: u64,
    /// Whether nothing was left in flight, or `--timeout` passed.
    pub ended: Ended,
    pub processes: Vec<ProcessRecord>,
    pub spawns: Vec<SpawnRecord>,
    pub prints: Vec<PrintRecord>,
    pub blocked_messages: Vec<BlockedRecord>,
    pub http_requests: Vec<HttpRecord>,
    /// The local HTTP server, once a process bound a path.
    pub http_server: Option<HttpServerRecord>,
    /// Each HTTP request it answered.
    pub http_served: Vec<ServedRecord>,
    /// Requests to the distro processes a node always runs.
    pub distro_requests: Vec<DistroRecord>,
    pub diagnostics: Vec<Diagnostic>,
    /// The node's home, when it outlives the run (`--home`).
    pub home: Option<String>,
    /// What the run created, changed or removed under the home.
    pub home_changes: Vec<HomeChange>,
    /// Records past the first 10,000 of a kind, counted but not kept.
    pub omitted: Omitted,
    /// Whether blocked messages were expected (`--allow-blocked`), so they
    /// do not fail the run.
    pub blocked_allowed: bool,
    /// Node time at the end of the run, in milliseconds (on virtual time,
    /// how far the clock jumped).
    pub node_time_ms: f64,
    /// Every kernel event with its node time, when asked for
    /// (`--check-determinism` compares two runs' traces).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<String>,
    /// Every delivery, block, spawn, exit, capability change, print and
    /// HTTP request with its node time, when asked for (`--html`,
    /// `--trace`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<timeline::TimelineEvent>,
    /// Whether to keep the timeline.
    #[serde(skip)]
    pub(crate) timeline_on: bool,
    /// Whether to keep the trace.
    #[serde(skip)]
    pub(crate) tracing: bool,
    /// Node time of the event being folded in.
    #[serde(skip)]
    pub(crate) at_ms: f64,
}

/// How many records of each kind the report left out.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Omitted {
    pub prints: u64,
    pub blocked_messages: u64,
    pub http_requests: u64,
    pub http_served: u64,
    pub distro_requests: u64,
    pub diagnostics: u64,
    pub timeline: u64,
}

impl Omitted {
    pub fn any(&self) -> bool {
        *self != Omitted::default()
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// Every process ended or waits for a message nobody will send.
    #[default]
    Idle,
    /// `--timeout` passed with work still in flight.
    Timeout,
    /// This boot of the node ended in a crash (a scenario's `crash`).
    Crashed,
    /// This boot of the node ended in a clean shutdown for a restart.
    Rebooted,
    /// The node shut down: a process sent its kernel `Shutdown`.
    ShutDown,
}

/// A file the run created, changed or removed under the home.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HomeChange {
    /// Relative to the home, e.g. `vfs/echo:template.os/log/echo.log`.
    pub path: String,
    pub change: ChangeKind,
    /// Its size at the end (0 when removed).
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Changed,
    Removed,
}

/// What a process was doing with its mailbox (how it stands at the end).
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Reader {
    /// Not running yet.
    #[default]
    NotStarted,
    /// Running wasm.
    Busy,
    /// Parked in `receive` with nothing queued.
    Receiving,
    /// Parked until the response (or error) with this id arrives.
    Awaiting(u64),
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessRecord {
    /// The node it ran on.
    pub node: String,
    pub id: ProcessId,
    /// The spawning process; null for manifest processes.
    pub parent: Option<ProcessId>,
    pub wasm_path: String,
    pub public: bool,
    pub on_exit: OnExitKind,
    /// What the process held when the kernel started it (first start).
    pub capabilities_at_start: Vec<CapRecord>,
    pub restarts: u32,
    /// How long the kernel's backoff waited before each restart, in
    /// milliseconds (Kinode 1.0: 0, 1000, 2000, ...; hyperdrive: 2000,
    /// 4000, ... up to 600000).
    pub restart_waits_ms: Vec<u64>,
    pub exit: ExitRecord,
    /// WASI stdout: a real node discards it; kept here for debugging.
    pub stdout: String,
    /// WASI stderr (the last 5000 bytes a node keeps).
    pub stderr: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExitRecord {
    pub kind: ExitKind,
    pub detail: String,
    /// The harness limit that trapped it, if one did.
    pub limit: Option<crate::kernel::event::Limit>,
}

/// A process's on-exit behaviour, as the kernel prints it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum OnExitKind {
    None,
    Restart,
    Requests,
}

impl From<&OnExit> for OnExitKind {
    fn from(on_exit: &OnExit) -> Self {
        match on_exit {
            OnExit::None => OnExitKind::None,
            OnExit::Restart => OnExitKind::Restart,
            OnExit::Requests(_) => OnExitKind::Requests,
        }
    }
}

impl std::fmt::Display for OnExitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExitKind {
    /// `init` returned.
    Returned,
    /// `init` trapped (a panic, a host error).
    Trapped,
    /// The process never ran: its wasm failed to load or instantiate.
    NeverRan,
    /// Killed by a `KillProcess` command while it ran.
    Killed,
    /// Alive at the end, waiting for a message with nothing in flight.
    Running,
    /// Still busy when `--timeout` ran out.
    TimedOut,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CapRecord {
    /// `node@name:package:publisher`
    pub issuer: String,
    /// The params JSON text, e.g. `"messaging"` with its quotes.
    pub params: String,
}

impl From<&Capability> for CapRecord {
    fn from(cap: &Capability) -> Self {
        CapRecord {
            issuer: cap.issuer.to_string(),
            params: cap.params.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SpawnRecord {
    /// Node time of the spawn, in milliseconds.
    pub at_ms: f64,
    pub parent: ProcessId,
    pub name: Option<String>,
    pub wasm_path: String,
    pub result: SpawnResult,
    pub child: Option<ProcessId>,
    pub dropped_capabilities: Vec<DroppedCap>,
    /// Why the result is what it is, when that is not obvious.
    pub detail: Option<String>,
}

/// What `spawn` returned to the parent.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SpawnResult {
    Ok,
    NoFileAtPath,
    /// The parent trapped (a bad name).
    Trapped,
}

#[derive(Debug, Clone, Serialize)]
pub struct DroppedCap {
    pub capability: CapRecord,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrintRecord {
    /// The node whose terminal showed it.
    pub node: String,
    /// Node time it was printed, in milliseconds.
    pub at_ms: f64,
    pub process: ProcessId,
    pub verbosity: u8,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockedRecord {
    /// The node whose kernel (or network link) stopped it.
    pub node: String,
    /// Node time it was stopped, in milliseconds.
    pub at_ms: f64,
    pub source: Address,
    pub target: Address,
    pub kind: MessageKind,
    pub body: String,
    /// Why, in words.
    pub reason: String,
    /// Why, as data.
    pub cause: BlockReason,
    /// What the sender got.
    pub consequence: Consequence,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Request,
    Response,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpRecord {
    pub process: ProcessId,
    pub method: String,
    pub url: String,
    /// The status answered, or null when no mock matched.
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpServerRecord {
    pub port: u16,
    /// The cookie authenticated paths take: `kinode-auth_{node}=<token>`.
    pub cookie: String,
    pub bindings: Vec<BindingRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BindingRecord {
    pub process: ProcessId,
    pub path: String,
    pub authenticated: bool,
    pub static_content: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServedRecord {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub process: Option<ProcessId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DistroRecord {
    pub process: ProcessId,
    pub target: ProcessId,
    pub body: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    /// The node it is about.
    pub node: String,
    /// Node time of what it is about, in milliseconds.
    pub at_ms: f64,
    pub level: Level,
    /// What it is about, as data.
    pub kind: DiagnosticKind,
    pub process: Option<ProcessId>,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// Each thing a node does silently (or obscurely) that the harness points
/// out.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// A spawn dropped a capability the parent could not give.
    CapabilityDropped,
    /// A capability attached to a message was removed.
    AttachedCapabilityDropped,
    /// `InitializeProcess` left out a capability its caller does not hold.
    InitialCapabilityDropped,
    /// A capability from another node that claimed this node as issuer,
    /// without this node's signature, was removed.
    RemoteCapabilityRejected,
    MessageBlocked,
    SpawnFailed,
    SpawnTrapped,
    /// A spawn named a running process: it got `run` instead.
    NameTaken,
    GrantSkipped,
    /// The app store skipped a capability entry of the manifest it could
    /// not read.
    ManifestEntrySkipped,
    /// A `process_name` the manifest lists twice: the later entry wins.
    ListedTwice,
    /// Messages to a process named `kernel` went to the kernel instead.
    NamedKernel,
    /// A process computed without waiting until its cpu_limit: on a node,
    /// with no preemption, it holds a worker thread all the while.
    SpinsOnNode,
    /// A requested messaging capability the process never used.
    UnusedCapability,
    UnownedCapabilitySaved,
    /// `save-capabilities` of a capability that gives power over the node
    /// (the kernel's messaging, the network, the vfs root), unchecked on a
    /// Kinode 1.0 node.
    SelfGrantedCapability,
    StrayResponse,
    ResponseWithoutRequest,
    /// The process's channel went over the kernel's 100 slots.
    MailboxFull,
    NeverRan,
    /// `set-on-exit(Restart)` on a process that did not start with it.
    RestartImpossible,
    /// A restart found its name taken.
    RestartFailed,
    /// A node's reboot left out a process whose on-exit is `None`.
    NotRebooted,
    HttpRefused,
    HttpNoMock,
    VfsRefused,
    /// A runtime module was still handling a request when the run ended.
    ModuleStuck,
    /// A drive name that makes its capabilities match other drives'.
    UnsafeDriveName,
    /// Something a process did would reach outside the node home on a
    /// node (a link out of a drive, a database file elsewhere); refused.
    EscapeRefused,
    /// eth answered as a node that cannot reach the chain.
    Unreachable,
    NotEmulated,
    /// A path bound where no request reaches it (`Bind` of `""`).
    UnreachablePath,
    /// A process's `WebSocketClose` for its own channel, which hangs a
    /// node's http-server.
    HttpServerDeadlock,
}

impl Report {
    /// An empty report of node `node`'s run under `runtime` from `seed`.
    pub(crate) fn new(node: &str, runtime: Runtime, seed: u64) -> Report {
        Report {
            node: node.into(),
            runtime,
            seed,
            ..Report::default()
        }
    }

    /// The newest record of process `id` (`name:package:publisher`): a
    /// name can be reused after an exit.
    pub fn process(&self, id: &str) -> Option<&ProcessRecord> {
        self.record(&ProcessId::parse(id).ok()?)
    }

    /// The newest record of `id`.
    pub fn record(&self, id: &ProcessId) -> Option<&ProcessRecord> {
        self.processes.iter().rev().find(|p| p.id == *id)
    }

    /// The diagnostics of one kind.
    pub fn diagnostics_of(&self, kind: DiagnosticKind) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(move |d| d.kind == kind)
    }
}
