//! The report for people: the process tree with what each held when it
//! started and how it ended, then spawns, blocked messages and diagnostics;
//! for several nodes, each node's, then what crossed between them.

use std::fmt::Write;

use super::{
    ChangeKind, Crossing, Ended, ExitKind, Level, MessageKind, NetworkReport, ProcessRecord,
    Report, SpawnResult,
};

/// Every node's summary (earlier boots first), then the messages between
/// nodes and the faults, then the verdict over all of them.
pub fn render_network_summary(report: &NetworkReport) -> String {
    let mut out = String::new();
    for node in report.earlier_boots.iter().chain(&report.nodes) {
        let text = render_summary(node);
        // Each node's own verdict line stays; the run's comes last.
        out.push_str(&text);
    }
    let _ = writeln!(
        out,
        "\n== host-harness: network of {} nodes ==",
        report.nodes.len()
    );
    if !report.faults.is_empty() {
        let _ = writeln!(out, "faults:");
        for f in &report.faults {
            let _ = writeln!(out, "  {:>9.1} ms  {}", f.at_ms, f.fault);
        }
    }
    let _ = writeln!(out, "between nodes:");
    if report.crossings.is_empty() {
        let _ = writeln!(out, "  nothing crossed");
    }
    let shown = 40;
    let skipped = report.crossings.len().saturating_sub(shown);
    if skipped > 0 {
        let _ = writeln!(out, "  ({skipped} earlier, in the JSON report)");
    }
    for c in report.crossings.iter().skip(skipped) {
        let kind = match c.kind {
            MessageKind::Request => "request",
            MessageKind::Response => "response",
        };
        let outcome = match c.outcome {
            Crossing::InFlight => "in flight at the end".to_string(),
            Crossing::Delivered => "delivered".to_string(),
            Crossing::Dropped(why) => format!("dropped by {}: {why:?}", c.target.node),
            Crossing::Failed(why) => format!("failed: {why:?}"),
        };
        let _ = writeln!(
            out,
            "  {:>9.1} ms  {kind} {} -> {}: {outcome}",
            c.sent_ms, c.source, c.target
        );
    }
    if report.omitted_crossings > 0 {
        let _ = writeln!(
            out,
            "  ({} more past the first 10,000, not kept)",
            report.omitted_crossings
        );
    }
    let failures = report.check_failures();
    if failures.is_empty() {
        let _ = writeln!(out, "result: ok");
    } else {
        let _ = writeln!(out, "result: FAILED");
        for f in failures {
            let _ = writeln!(out, "  - {f}");
        }
    }
    out
}

pub fn render_summary(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n== host-harness: {} on {} ({}) ==",
        report.package, report.node, report.runtime
    );
    let _ = writeln!(out, "processes:");
    for root in report.processes.iter().filter(|p| p.parent.is_none()) {
        render_tree(report, root, 1, &mut out);
    }
    if !report.spawns.is_empty() {
        let _ = writeln!(out, "spawns:");
        for s in &report.spawns {
            let name = s.name.as_deref().unwrap_or("<random>");
            let result = match s.result {
                SpawnResult::Ok => "ok",
                SpawnResult::NoFileAtPath => "NoFileAtPath",
                SpawnResult::Trapped => "the parent trapped",
            };
            let _ = writeln!(
                out,
                "  {} spawned {name} from {}: {result}",
                s.parent, s.wasm_path
            );
            if let Some(detail) = &s.detail {
                let _ = writeln!(out, "    {detail}");
            }
            for d in &s.dropped_capabilities {
                let _ = writeln!(
                    out,
                    "    dropped {} {}: {}",
                    d.capability.issuer, d.capability.params, d.reason
                );
            }
        }
    }
    if !report.blocked_messages.is_empty() {
        let _ = writeln!(out, "blocked messages:");
        for b in &report.blocked_messages {
            let kind = match b.kind {
                MessageKind::Request => "request",
                MessageKind::Response => "response",
            };
            let _ = writeln!(out, "  {kind} {} -> {}: {}", b.source, b.target, b.reason);
        }
    }
    if !report.http_requests.is_empty() {
        let _ = writeln!(out, "http requests:");
        for h in &report.http_requests {
            let status = h.status.map_or("no mock".to_string(), |s| s.to_string());
            let _ = writeln!(out, "  {} {} {} -> {status}", h.process, h.method, h.url);
        }
    }
    if !report.home_changes.is_empty() {
        let home = report.home.as_deref().unwrap_or("the temporary home");
        let _ = writeln!(out, "written under {home}:");
        for c in &report.home_changes {
            let change = match c.change {
                ChangeKind::Created => "created",
                ChangeKind::Changed => "changed",
                ChangeKind::Removed => "removed",
            };
            let _ = writeln!(out, "  {change} {} ({} bytes)", c.path, c.bytes);
        }
    }
    if !report.diagnostics.is_empty() {
        let _ = writeln!(out, "diagnostics:");
        for d in &report.diagnostics {
            let level = match d.level {
                Level::Info => "info",
                Level::Warning => "warning",
                Level::Error => "error",
            };
            let who = d
                .process
                .as_ref()
                .map(|p| format!(" [{p}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {level}{who}: {}", d.message);
            if let Some(hint) = &d.hint {
                let _ = writeln!(out, "    hint: {hint}");
            }
        }
    }
    if report.omitted.any() {
        let o = &report.omitted;
        let _ = writeln!(
            out,
            "left out of this report (past the first 10,000 of each): {} prints, {} blocked \
             messages, {} diagnostics, {} http requests, {} served, {} distro requests",
            o.prints,
            o.blocked_messages,
            o.diagnostics,
            o.http_requests,
            o.http_served,
            o.distro_requests
        );
    }
    match report.ended {
        Ended::Timeout => {
            let _ = writeln!(out, "stopped at the timeout with work still in flight");
        }
        Ended::Crashed => {
            let _ = writeln!(out, "this boot of {} ended in a crash", report.node);
        }
        Ended::Rebooted => {
            let _ = writeln!(out, "this boot of {} ended in a restart", report.node);
        }
        Ended::ShutDown => {
            let _ = writeln!(
                out,
                "{} shut down: a process sent its kernel Shutdown",
                report.node
            );
        }
        Ended::Idle => {}
    }
    let failures = report.check_failures();
    if failures.is_empty() {
        let _ = writeln!(out, "result: ok");
    } else {
        let _ = writeln!(out, "result: FAILED");
        for f in failures {
            let _ = writeln!(out, "  - {f}");
        }
    }
    out
}

fn render_tree(report: &Report, p: &ProcessRecord, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let exit = match p.exit.kind {
        ExitKind::Returned => "returned",
        ExitKind::Trapped => "TRAPPED",
        ExitKind::NeverRan => "NEVER RAN",
        ExitKind::Killed => "killed",
        ExitKind::Running => "running (waiting for messages)",
        ExitKind::TimedOut => "TIMED OUT",
    };
    let public = if p.public { ", public" } else { "" };
    let restarts = if p.restarts > 0 {
        format!(", restarted {}x", p.restarts)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{pad}{} [{exit}; on_exit {}{public}{restarts}]",
        p.id, p.on_exit
    );
    if matches!(
        p.exit.kind,
        ExitKind::Trapped | ExitKind::NeverRan | ExitKind::TimedOut
    ) {
        for line in p.exit.detail.lines().take(12) {
            let _ = writeln!(out, "{pad}  | {line}");
        }
    }
    let _ = writeln!(out, "{pad}  capabilities at start:");
    for cap in &p.capabilities_at_start {
        let _ = writeln!(out, "{pad}    {} {}", cap.issuer, cap.params);
    }
    for child in report
        .processes
        .iter()
        .filter(|c| c.parent.as_ref() == Some(&p.id))
    {
        render_tree(report, child, depth + 1, out);
    }
}
