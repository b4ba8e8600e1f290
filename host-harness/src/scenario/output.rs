//! Scenario results for CI: JSON (an array of `{name, file, passed,
//! failures, seed, node_time_ms, duration_ms}`) and JUnit XML (one
//! `testsuite`, a `testcase` per scenario, a `failure` per failed one).
//! With `wall` false (a run under a given seed, which must replay byte for
//! byte) real time is left out: `duration_ms` is null and JUnit's times are
//! node time.

use serde_json::json;

use super::ScenarioResult;

pub fn to_json(results: &[ScenarioResult], wall: bool) -> serde_json::Value {
    json!(results
        .iter()
        .map(|r| json!({
            "name": r.name,
            "file": r.file.display().to_string(),
            "passed": r.passed(),
            "failures": r.failures,
            "seed": r.seed,
            "node_time_ms": r.node_time.as_millis() as u64,
            "duration_ms": wall.then_some(r.duration.as_millis() as u64),
        }))
        .collect::<Vec<_>>())
}

pub fn to_junit(results: &[ScenarioResult], wall: bool) -> String {
    let time = |r: &ScenarioResult| {
        if wall {
            r.duration.as_secs_f64()
        } else {
            r.node_time.as_secs_f64()
        }
    };
    let failed = results.iter().filter(|r| !r.passed()).count();
    let total: f64 = results.iter().map(time).sum();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"{}\" failures=\"{failed}\" time=\"{total:.3}\">\n  <testsuite name=\"host-harness\" tests=\"{}\" failures=\"{failed}\" time=\"{total:.3}\">\n",
        results.len(),
        results.len()
    );
    for r in results {
        xml.push_str(&format!(
            "    <testcase name=\"{} (seed {})\" classname=\"{}\" time=\"{:.3}\"",
            escape(&r.name),
            r.seed,
            escape(&r.file.display().to_string()),
            time(r)
        ));
        if r.passed() {
            xml.push_str("/>\n");
        } else {
            let text = r.failures.join("\n");
            let first = text.lines().next().unwrap_or_default();
            xml.push_str(&format!(
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(first),
                escape(&text)
            ));
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Text safe inside XML attributes and elements.
fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}
