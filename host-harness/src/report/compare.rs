//! Where two runs of one seed first part, for `--check-determinism`: the
//! kernel's traces event by event, then the reports' JSON line by line.

use super::Report;

/// The first event where two runs' traces differ (each run: every boot
/// of every node, in order), or that one run had more.
pub fn trace_difference(a: &[&Report], b: &[&Report]) -> Option<String> {
    let traces = |reports: &[&Report]| -> Vec<(String, String)> {
        reports
            .iter()
            .flat_map(|report| {
                report
                    .trace
                    .iter()
                    .map(|line| (report.node.clone(), line.clone()))
            })
            .collect()
    };
    let (ta, tb) = (traces(a), traces(b));
    if let Some((index, (x, y))) = ta.iter().zip(&tb).enumerate().find(|(_, (x, y))| x != y) {
        return Some(format!(
            "event {} on {}: the first run had `{}`, the second `{}`",
            index + 1,
            x.0,
            x.1,
            y.1
        ));
    }
    (ta.len() != tb.len()).then(|| {
        format!(
            "the first run had {} events, the second {}",
            ta.len(),
            tb.len()
        )
    })
}

/// The first line where two reports' JSON differ, their traces left out
/// (`trace_difference` compares those).
pub fn json_difference(mut a: serde_json::Value, mut b: serde_json::Value) -> Option<String> {
    strip_traces(&mut a);
    strip_traces(&mut b);
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let (ja, jb) = (pretty(&a), pretty(&b));
    match ja.lines().zip(jb.lines()).find(|(x, y)| x != y) {
        Some((x, y)) => Some(format!(
            "the reports differ: `{}` against `{}`",
            x.trim(),
            y.trim()
        )),
        None if ja != jb => Some("the reports differ in length".into()),
        None => None,
    }
}

fn strip_traces(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("trace");
            map.values_mut().for_each(strip_traces);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_traces),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(node: &str, trace: &[&str]) -> Report {
        Report {
            node: node.into(),
            trace: trace.iter().map(|t| t.to_string()).collect(),
            ..Report::default()
        }
    }

    #[test]
    fn the_first_differing_event_is_named_with_its_node() {
        let (a, b) = (
            report("a.os", &["spawn x", "exit x"]),
            report("a.os", &["spawn x", "exit y"]),
        );
        assert_eq!(
            trace_difference(&[&a], &[&b]).unwrap(),
            "event 2 on a.os: the first run had `exit x`, the second `exit y`"
        );
        let short = report("a.os", &["spawn x"]);
        assert_eq!(
            trace_difference(&[&a], &[&short]).unwrap(),
            "the first run had 2 events, the second 1"
        );
        assert_eq!(trace_difference(&[&a], &[&a.clone()]), None);
    }

    #[test]
    fn reports_are_compared_without_their_traces() {
        let a = serde_json::json!({"node": "a.os", "trace": ["one"], "prints": ["hi"]});
        let b = serde_json::json!({"node": "a.os", "trace": ["two"], "prints": ["hi"]});
        assert_eq!(json_difference(a.clone(), b), None);
        let c = serde_json::json!({"node": "a.os", "trace": ["one"], "prints": ["bye"]});
        assert_eq!(
            json_difference(a, c).unwrap(),
            "the reports differ: `\"hi\"` against `\"bye\"`"
        );
    }
}
