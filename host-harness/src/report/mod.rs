//! What a run did, for people (`summary.rs`) and machines (`--json`).
//!
//! `fold.rs` builds it from the kernel's events as they happen; the words
//! of every diagnostic and hint live in `hints.rs`; what fails a run is
//! decided in `verdict.rs`.

mod fold;
mod hints;
mod summary;
pub mod terminal;
mod verdict;

use serde::Serialize;

pub use crate::kernel::event::{BlockReason, Consequence};
pub use crate::kernel::on_exit_name;
pub use summary::render_summary;

use crate::bindings::Capability;
pub use crate::node::home::{ChangeKind, HomeChange};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub package: String,
    pub node: String,
    /// Whose rules the run followed: `kinode-1.0` or `hyperdrive`.
    pub runtime: crate::kernel::Flavor,
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
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// Every process ended or waits for a message nobody will send.
    #[default]
    Idle,
    /// `--timeout` passed with work still in flight.
    Timeout,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessRecord {
    pub id: String,
    /// The spawning process; null for manifest processes.
    pub parent: Option<String>,
    pub wasm_path: String,
    pub public: bool,
    pub on_exit: String,
    /// What the process held when its `init` began (first start).
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

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
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
    pub parent: String,
    pub name: Option<String>,
    pub wasm_path: String,
    pub result: SpawnResult,
    pub child: Option<String>,
    pub dropped_capabilities: Vec<DroppedCap>,
    /// Why the result is what it is, when that is not obvious.
    pub detail: Option<String>,
}

/// What `spawn` returned to the parent.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
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
    pub process: String,
    pub verbosity: u8,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockedRecord {
    pub source: String,
    pub target: String,
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
    pub process: String,
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
    pub process: String,
    pub path: String,
    pub authenticated: bool,
    pub static_content: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServedRecord {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub process: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DistroRecord {
    pub process: String,
    pub target: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub level: Level,
    /// What it is about, as data.
    pub kind: DiagnosticKind,
    pub process: Option<String>,
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
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// A spawn dropped a capability the parent could not give.
    CapabilityDropped,
    /// A capability attached to a message was removed.
    AttachedCapabilityDropped,
    MessageBlocked,
    SpawnFailed,
    SpawnTrapped,
    /// A spawn named a running process: it got `run` instead.
    NameTaken,
    GrantSkipped,
    UnownedCapabilitySaved,
    StrayResponse,
    ResponseWithoutRequest,
    /// The process's channel went over the kernel's 100 slots.
    MailboxFull,
    NeverRan,
    /// `set-on-exit(Restart)` on a process that did not start with it.
    RestartImpossible,
    /// A restart found its name taken.
    RestartFailed,
    HttpRefused,
    HttpNoMock,
    VfsRefused,
    /// eth answered as a node that cannot reach the chain.
    Unreachable,
    NotEmulated,
}

impl Report {
    pub fn process(&self, id: &str) -> Option<&ProcessRecord> {
        self.processes.iter().find(|p| p.id == id)
    }

    /// The diagnostics of one kind.
    pub fn diagnostics_of(&self, kind: DiagnosticKind) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(move |d| d.kind == kind)
    }
}
