//! A timeline in the Chrome Trace Event format, which Perfetto
//! (ui.perfetto.dev) and `chrome://tracing` open: each node is a process,
//! each of its processes a thread, each message a flow from its sender's
//! thread to its receiver's, and everything else an instant event.
//! Timestamps are node time in microseconds.

use serde_json::{json, Value};

use crate::report::timeline::Happening;

use super::Timeline;

/// The trace of `timeline`, as JSON text.
pub fn chrome_trace(timeline: &Timeline) -> String {
    let mut events: Vec<Value> = Vec::new();
    // Thread ids by lane; process ids by node.
    let mut ids = std::collections::HashMap::new();
    for (pid, node) in timeline.nodes.iter().enumerate() {
        events.push(json!({
            "ph": "M", "name": "process_name", "pid": pid, "tid": 0,
            "args": { "name": node.name },
        }));
        for (tid, lane) in node.lanes.iter().enumerate() {
            ids.insert(lane.as_str(), (pid, tid + 1));
            let name = lane.split_once('@').map_or(lane.as_str(), |(_, p)| p);
            events.push(json!({
                "ph": "M", "name": "thread_name", "pid": pid, "tid": tid + 1,
                "args": { "name": name },
            }));
        }
    }
    let place = |address: &str| ids.get(address).copied().unwrap_or((0, 0));
    for (n, event) in timeline.events.iter().enumerate() {
        let ts = event.at_ms * 1000.0;
        let args = serde_json::to_value(&event.what).unwrap_or(Value::Null);
        match &event.what {
            Happening::Message(m) | Happening::Blocked { message: m, .. } => {
                let blocked = matches!(event.what, Happening::Blocked { .. });
                let (from, to) = (place(&m.from), place(&m.to));
                let name = format!(
                    "{} {}{}",
                    m.message,
                    excerpt(&m.body),
                    if blocked { " (blocked)" } else { "" }
                );
                // A flow binds to slices: a short one at each end.
                events.push(json!({
                    "ph": "X", "name": name, "cat": m.message, "pid": from.0, "tid": from.1,
                    "ts": ts, "dur": 1, "args": args,
                }));
                events.push(json!({
                    "ph": "s", "name": "message", "cat": "message", "id": n,
                    "pid": from.0, "tid": from.1, "ts": ts,
                }));
                if !blocked {
                    events.push(json!({
                        "ph": "X", "name": name, "cat": m.message, "pid": to.0, "tid": to.1,
                        "ts": ts, "dur": 1, "args": args,
                    }));
                    events.push(json!({
                        "ph": "f", "bp": "e", "name": "message", "cat": "message", "id": n,
                        "pid": to.0, "tid": to.1, "ts": ts,
                    }));
                }
            }
            other => {
                let lane = other.addresses().first().copied().unwrap_or_default();
                let (pid, tid) = place(lane);
                let kind = args
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("event")
                    .to_string();
                events.push(json!({
                    "ph": "i", "s": "t", "name": kind, "cat": kind, "pid": pid, "tid": tid,
                    "ts": ts, "args": args,
                }));
            }
        }
    }
    for fault in &timeline.faults {
        events.push(json!({
            "ph": "i", "s": "g", "name": fault.fault, "cat": "fault",
            "pid": 0, "tid": 0, "ts": fault.at_ms * 1000.0,
        }));
    }
    json!({ "traceEvents": events, "displayTimeUnit": "ms" }).to_string()
}

fn excerpt(body: &str) -> String {
    let line = body.lines().next().unwrap_or_default();
    match line.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}
