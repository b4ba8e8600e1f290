//! What a run of several nodes did: each node's own [`Report`], the
//! messages that crossed between nodes, and the faults the run injected.

use serde::Serialize;

use super::{BlockReason, Ended, MessageKind, Report};
use crate::types::Address;

#[derive(Debug, Clone, Serialize)]
pub struct NetworkReport {
    /// The seed of the run; each node's is derived from it and its name.
    pub seed: u64,
    /// Whether nothing was left in flight on any node or between them.
    pub ended: Ended,
    /// Each node as it stands at the end (its last boot), in the order the
    /// run declared them.
    pub nodes: Vec<Report>,
    /// Boots of a node that ended in a crash or a restart, oldest first.
    pub earlier_boots: Vec<Report>,
    /// Every message that left a node for another, in the order sent.
    pub crossings: Vec<CrossingRecord>,
    pub faults: Vec<FaultRecord>,
    /// Crossings past the first 10,000, counted but not kept.
    pub omitted_crossings: u64,
}

/// A message between two nodes and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct CrossingRecord {
    pub source: Address,
    pub target: Address,
    pub kind: MessageKind,
    pub id: u64,
    /// The start of its body.
    pub body: String,
    /// Milliseconds since the run began.
    pub sent_ms: f64,
    pub outcome: Crossing,
    /// When the outcome happened, in milliseconds since the run began.
    pub at_ms: Option<f64>,
}

/// What became of a message between nodes.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "why")]
pub enum Crossing {
    /// Still on its way, or held by a partition, when the run ended.
    InFlight,
    /// Handed to the target's kernel, which delivered it.
    Delivered,
    /// The target's kernel dropped it (no such process, no network
    /// capability).
    Dropped(BlockReason),
    /// It never arrived: `Offline` to the sender, or lost with its
    /// connection.
    Failed(BlockReason),
}

/// A fault the run injected (a scenario step), and when.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRecord {
    pub at_ms: f64,
    /// In words, e.g. `partition a.os | b.os`.
    pub fault: String,
}

impl NetworkReport {
    /// Node `name`'s report (its last boot).
    pub fn node(&self, name: &str) -> Option<&Report> {
        self.nodes.iter().find(|report| report.node == name)
    }

    /// Each reason the run failed, on any node, in words (each naming its
    /// node); empty when it passed.
    pub fn check_failures(&self) -> Vec<String> {
        self.nodes
            .iter()
            .chain(&self.earlier_boots)
            .flat_map(|report| {
                report
                    .check_failures()
                    .into_iter()
                    .map(move |failure| format!("{}: {failure}", report.node))
            })
            .collect()
    }
}
