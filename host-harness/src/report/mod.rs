//! What a run did, for people (`summary.rs`) and machines (`--json`).
//!
//! The kernel fills this in as things happen; every drop, block and refusal
//! carries its reason.

mod summary;
pub mod terminal;

use serde::Serialize;

pub use summary::render_summary;

use crate::bindings::{Capability, OnExit};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub package: String,
    pub node: String,
    /// `idle` (nothing left in flight) or `timeout` (`--timeout` passed).
    pub ended: String,
    pub processes: Vec<ProcessRecord>,
    pub spawns: Vec<SpawnRecord>,
    pub prints: Vec<PrintRecord>,
    pub blocked_messages: Vec<BlockedRecord>,
    pub http_requests: Vec<HttpRecord>,
    pub diagnostics: Vec<Diagnostic>,
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
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExitKind {
    /// `init` returned.
    Returned,
    /// `init` trapped (a panic, a host error).
    Trapped,
    /// The process never ran: its wasm failed to load or instantiate.
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
    /// `ok`, `NoFileAtPath`, `NameTaken`, or `trapped` (a bad name).
    pub result: String,
    pub child: Option<String>,
    pub dropped_capabilities: Vec<DroppedCap>,
    /// Why the result is what it is, when that is not obvious.
    pub detail: Option<String>,
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
    /// `request` or `response`.
    pub kind: String,
    pub body: String,
    pub reason: String,
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
pub struct Diagnostic {
    pub level: Level,
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

pub fn on_exit_name(on_exit: &OnExit) -> &'static str {
    match on_exit {
        OnExit::None => "None",
        OnExit::Restart => "Restart",
        OnExit::Requests(_) => "Requests",
    }
}

impl Report {
    pub fn process(&self, id: &str) -> Option<&ProcessRecord> {
        self.processes.iter().find(|p| p.id == id)
    }
}
