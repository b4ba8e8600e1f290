//! Seeing a run: its timeline as one self-contained HTML page (a lane per
//! process, grouped by node; an arrow per message on node time; blocked
//! messages with the kernel's rule and hint; spawns, exits, restarts,
//! capability changes, prints, HTTP requests and network faults), and as a
//! Chrome trace for Perfetto and `chrome://tracing`.
//!
//! Both read a [`Timeline`], made from one node's report or a network's.

mod chrome;
mod html;

use std::path::Path;

use serde::Serialize;

use crate::report::timeline::TimelineEvent;
use crate::report::Report;
use crate::report::{CrossingRecord, FaultRecord, NetworkReport};
use crate::types::InputError;

pub use chrome::chrome_trace;
pub use html::{index, page};

/// One run, ready to draw.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// What the run was (a package, a scenario).
    pub title: String,
    #[serde(serialize_with = "crate::report::timeline::as_text")]
    pub seed: u64,
    /// Each node, in order, with its processes in the order they appear.
    pub nodes: Vec<NodeLanes>,
    /// Every event of every node, in node-time order.
    pub events: Vec<TimelineEvent>,
    pub crossings: Vec<CrossingRecord>,
    pub faults: Vec<FaultRecord>,
    /// Why the run failed, if it did.
    pub failures: Vec<String>,
    /// Events past what a report keeps, counted.
    pub omitted: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeLanes {
    pub name: String,
    /// Each lane's process address, `node@process:package:publisher`.
    pub lanes: Vec<String>,
}

impl Timeline {
    /// The timeline of one node's run.
    pub fn of_report(title: &str, report: &Report, failures: Vec<String>) -> Timeline {
        Timeline::build(title, report.seed, &[report], vec![], vec![], failures)
    }

    /// The timeline of a network's run: every boot of every node.
    pub fn of_network(title: &str, network: &NetworkReport, failures: Vec<String>) -> Timeline {
        let reports: Vec<&Report> = network.earlier_boots.iter().chain(&network.nodes).collect();
        Timeline::build(
            title,
            network.seed,
            &reports,
            network.crossings.clone(),
            network.faults.clone(),
            failures,
        )
    }

    fn build(
        title: &str,
        seed: u64,
        reports: &[&Report],
        crossings: Vec<CrossingRecord>,
        faults: Vec<FaultRecord>,
        failures: Vec<String>,
    ) -> Timeline {
        let mut events: Vec<TimelineEvent> = reports
            .iter()
            .flat_map(|r| r.timeline.iter().cloned())
            .collect();
        // Stable: one node's events keep their order within a millisecond.
        events.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        let mut nodes: Vec<NodeLanes> = Vec::new();
        let mut lane = |address: &str| {
            let node = address.split('@').next().unwrap_or_default();
            let index = match nodes.iter().position(|n| n.name == node) {
                Some(index) => index,
                None => {
                    nodes.push(NodeLanes {
                        name: node.to_string(),
                        lanes: vec![],
                    });
                    nodes.len() - 1
                }
            };
            if !nodes[index].lanes.iter().any(|l| l == address) {
                nodes[index].lanes.push(address.to_string());
            }
        };
        // Each node's own processes first, in the order they were made.
        for report in reports {
            for process in &report.processes {
                lane(&format!("{}@{}", report.node, process.id));
            }
        }
        for event in &events {
            for address in event.what.addresses() {
                lane(address);
            }
        }
        Timeline {
            title: title.to_string(),
            seed,
            nodes,
            events,
            crossings,
            faults,
            failures,
            omitted: reports.iter().map(|r| r.omitted.timeline).sum(),
        }
    }
}

/// Writes `text` to `path`, naming it in the error.
pub fn write(path: &Path, text: &str) -> Result<(), InputError> {
    std::fs::write(path, text).map_err(|e| InputError::invalid(path, format!("cannot write: {e}")))
}
