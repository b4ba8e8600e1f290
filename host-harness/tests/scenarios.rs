//! Scenario files: the template's own checks and the probe package's
//! request/response and HTTP scenarios pass; a failing expectation says
//! what was expected and what happened; JSON and JUnit come out valid.

mod common;

use common::*;
use host_harness::scenario::{find, run_files, to_json, to_junit, Scenario};

#[tokio::test(flavor = "multi_thread")]
async fn the_templates_scenarios_and_the_probe_packages_pass() {
    let probe_package = workspace().join("host-harness/tests/probe-package");
    std::fs::copy(
        workspace().join("target/test-guests/probe.wasm"),
        probe_package.join("pkg/probe.wasm"),
    )
    .expect("make test-guests builds the probe first");
    for dir in [workspace(), probe_package] {
        let files = find(&dir, None).unwrap();
        assert!(files.len() >= 3, "{files:?}");
        let results = run_files(&dir, &files, 2).await.unwrap();
        for result in &results {
            assert!(result.passed(), "{}: {:?}", result.name, result.failures);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_expectation_says_what_happened_and_reports_validate() {
    let dir = our_package_with(|_| {});
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("tests/wrong.toml"),
        r#"
name = "expects the impossible"
[[step]]
expect = { spawn = { result = "no_file_at_path" }, print = { contains = "never printed" } }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("tests/right.toml"),
        "[[step]]\nexpect = { passes = true }\n",
    )
    .unwrap();
    let files = find(&dir, None).unwrap();
    let results = run_files(&dir, &files, 2).await.unwrap();
    let wrong = results
        .iter()
        .find(|r| r.name == "expects the impossible")
        .unwrap();
    assert_eq!(wrong.failures.len(), 1);
    let failure = &wrong.failures[0];
    assert!(failure.starts_with("step 1: expected a spawn"), "{failure}");
    assert!(
        failure.contains("expected a print containing \"never printed\""),
        "{failure}"
    );
    assert!(
        failure.contains("print [spawned-child-process:spawn:template.os]"),
        "{failure}"
    );
    assert!(results.iter().any(|r| r.name == "right" && r.passed()));

    let json = to_json(&results);
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries
        .iter()
        .all(|e| e["passed"].is_boolean() && e["duration_ms"].is_u64()));

    let xml = to_junit(&results);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().into_inner() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!((cases, failures), (2, 1));
}

#[test]
fn unknown_fields_are_refused_with_their_name() {
    let err = Scenario::from_toml("[[step]]\nexpect = { spawnn = {} }\n").unwrap_err();
    assert!(err.contains("spawnn"), "{err}");
}
