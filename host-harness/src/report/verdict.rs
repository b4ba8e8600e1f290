//! What fails a run (exit code 1): a process that trapped, never ran or
//! was still busy at the timeout; a spawn that failed; a capability a
//! spawn dropped; a message blocked for a missing capability (to send or
//! to receive across nodes) or process (unless the run allows it); a process whose restart cannot happen; a
//! module request that never finished; a process that tried to reach
//! outside the node home; a manifest entry a node would skip or replace; a
//! process that hung the node's http-server.

use super::{BlockReason, DiagnosticKind, ExitKind, MessageKind, Report, SpawnResult};

impl Report {
    /// Each reason the run failed, in words; empty when it passed.
    pub fn check_failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for p in &self.processes {
            match p.exit.kind {
                ExitKind::Trapped => failures.push(format!("{} trapped", p.id)),
                ExitKind::NeverRan => failures.push(format!("{} never ran", p.id)),
                ExitKind::TimedOut => {
                    failures.push(format!("{} was still busy at the timeout", p.id))
                }
                ExitKind::Returned | ExitKind::Running | ExitKind::Killed => {}
            }
        }
        for s in &self.spawns {
            let name = s.name.as_deref().unwrap_or("<random>");
            match s.result {
                SpawnResult::Ok => {}
                SpawnResult::NoFileAtPath => {
                    failures.push(format!("{} could not spawn {name}: NoFileAtPath", s.parent))
                }
                SpawnResult::Trapped => {
                    failures.push(format!("{} trapped spawning {name}: a bad name", s.parent))
                }
            }
            for d in &s.dropped_capabilities {
                failures.push(format!(
                    "{} spawned {} without {} {} (dropped)",
                    s.parent,
                    s.child.as_ref().map_or("?".into(), ToString::to_string),
                    d.capability.issuer,
                    d.capability.params
                ));
            }
        }
        if !self.blocked_allowed {
            for b in &self.blocked_messages {
                let mistake = matches!(
                    b.cause,
                    BlockReason::NoMessagingCapability
                        | BlockReason::NoNetworkCapability
                        | BlockReason::TargetLacksNetwork
                        | BlockReason::NoSuchProcess
                );
                if mistake {
                    failures.push(format!(
                        "a {} from {} to {} was blocked: {} (see its hint; `--allow-blocked`, or \
                         `allow_blocked = true` in a scenario, if it is meant to be)",
                        match b.kind {
                            MessageKind::Request => "request",
                            MessageKind::Response => "response",
                        },
                        b.source.process,
                        b.target.process,
                        b.reason
                    ));
                }
            }
        }
        for d in self.diagnostics_of(DiagnosticKind::ModuleStuck) {
            let process = d.process.as_ref().map_or("?".into(), ToString::to_string);
            failures.push(format!(
                "a request of {process} never finished (see diagnostics)"
            ));
        }
        // A manifest a node installs only in part.
        for kind in [
            DiagnosticKind::ManifestEntrySkipped,
            DiagnosticKind::ListedTwice,
        ] {
            for d in self.diagnostics_of(kind) {
                failures.push(format!("{} (see its hint)", d.message));
            }
        }
        for d in self.diagnostics_of(DiagnosticKind::EscapeRefused) {
            let process = d.process.as_ref().map_or("?".into(), ToString::to_string);
            failures.push(format!(
                "{process} tried to reach outside the node home (see diagnostics)"
            ));
        }
        for d in self.diagnostics_of(DiagnosticKind::RestartImpossible) {
            let process = d.process.as_ref().map_or("?".into(), ToString::to_string);
            failures.push(format!("{process} cannot restart (see diagnostics)"));
        }
        for d in self.diagnostics_of(DiagnosticKind::HttpServerDeadlock) {
            let process = d.process.as_ref().map_or("?".into(), ToString::to_string);
            failures.push(format!(
                "{process} hung the node's http-server (see diagnostics)"
            ));
        }
        failures
    }
}
