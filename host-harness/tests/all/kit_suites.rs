//! kit's test-package protocol, in-process: the tester spawns each test
//! process, sends `Run`, and reads `Run(Ok)` or where the test failed.
//! kit's own template suites (echo, fibonacci) pass the same way; they are
//! built from kit's repository, which CI cannot fetch, so this suite uses
//! test packages written here.

use std::path::Path;

use crate::common::*;
use host_harness::kit::{run_suite, Failure};
use host_harness::report::Crossing;
use host_harness::RunOptions;

/// A one-process package of the probe guest under `package:test.os`.
fn package(dir: &Path, package: &str, process: &str, request: &[&str], grant: &[&str]) {
    kit_probe_package(dir, package, process, request, grant, false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passing_and_a_failing_test_package_run_in_process() {
    let root = temp_dir("kit");
    package(&root.join("probe"), "probe", "echo", &[], &[]);
    let echo = ["echo:probe:test.os"];
    package(
        &root.join("test/good-test"),
        "good-test",
        "good-test",
        &echo,
        &echo,
    );
    package(
        &root.join("test/other-test"),
        "other-test",
        "other-test",
        &echo,
        &echo,
    );
    std::fs::write(
        root.join("test/tests.toml"),
        r#"
runtime = { FetchVersion = "latest" }
persist_home = false
runtime_build_release = false
always_print_node_output = false

[[tests]]
dependency_package_paths = []
setup_packages = [{ path = "../probe", run = true }]
setup_scripts = []
test_package_paths = ["good-test", "other-test"]
test_scripts = []
timeout_secs = 5
fakechain_router = 8545

[[tests.nodes]]
port = 8080
home = "home/first"
fake_node_name = "first.dev"

# On this node the probe's test expects a wrong answer.
[[tests]]
setup_packages = [{ path = "../probe", run = true }]
test_package_paths = ["good-test"]
timeout_secs = 5

[[tests.nodes]]
fake_node_name = "broken.dev"
"#,
    )
    .unwrap();
    let (outcomes, reports) = run_suite(&root.join("test"), &RunOptions::new(&root))
        .await
        .unwrap();
    let passed: Vec<(&str, bool)> = outcomes
        .iter()
        .map(|o| (o.name.as_str(), o.result.is_ok()))
        .collect();
    assert_eq!(
        passed,
        [
            ("good-test", true),
            ("other-test", true),
            ("good-test", false)
        ]
    );
    match &outcomes[2].result {
        Err(Failure::Failed {
            test, file, line, ..
        }) => {
            assert_eq!(test, "probe_test");
            assert!(file.ends_with("src/lib.rs"), "{file}");
            assert!(*line > 0);
        }
        other => panic!("{other:?}"),
    }
    // Both ran as children of the tester, with random names, on first.dev;
    // the second suite ran on a fresh node.
    assert_eq!(reports[1].nodes[0].node, "broken.dev");
    let report = &reports[0].nodes[0];
    assert_eq!(report.node, "first.dev");
    let children: Vec<_> = report
        .spawns
        .iter()
        .filter(|s| s.parent == "tester:tester:sys")
        .collect();
    assert_eq!(children.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_two_node_suite_runs_on_the_master_against_the_other_node() {
    let root = temp_dir("kit2");
    // The setup package runs on both nodes; its echo is networked, so the
    // test on the first node can ask the second node's echo.
    kit_probe_package(&root.join("probe"), "probe", "echo", &[], &[], true);
    let echo = ["echo:probe:test.os"];
    package(&root.join("two-test"), "two-test", "two-test", &echo, &echo);
    std::fs::write(
        root.join("tests.toml"),
        r#"
[[tests]]
setup_packages = [{ path = "probe", run = true }]
test_package_paths = ["two-test"]
timeout_secs = 5
[[tests.nodes]]
fake_node_name = "first.dev"
[[tests.nodes]]
fake_node_name = "second.dev"
"#,
    )
    .unwrap();
    let (outcomes, reports) = run_suite(&root, &RunOptions::new(&root)).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, Ok(()), "{outcomes:?}");
    let network = &reports[0];
    let names: Vec<&str> = network.nodes.iter().map(|r| r.node.as_str()).collect();
    assert_eq!(names, ["first.dev", "second.dev"]);
    // The test ran on the master only; the ping crossed and came back.
    assert_eq!(network.nodes[0].spawns.len(), 1);
    assert!(network.nodes[1].spawns.is_empty());
    let crossed: Vec<(String, String, Crossing)> = network
        .crossings
        .iter()
        .map(|c| (c.source.node.clone(), c.body.clone(), c.outcome))
        .collect();
    assert_eq!(
        crossed,
        [
            ("first.dev".into(), "ping".into(), Crossing::Delivered),
            ("second.dev".into(), "echo:ping".into(), Crossing::Delivered),
        ]
    );
    assert!(
        prints_of(&network.nodes[1], "echo:probe:test.os")[0].starts_with("echo got ping from"),
        "{:?}",
        network.nodes[1].prints
    );
    // As on a node, the tester cannot pass on messaging to echo, which the
    // test's manifest asks for: the spawn drops it (echo is public anyway).
    let failures = network.check_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains("without first.dev@echo:probe:test.os \"messaging\" (dropped)"),
        "{failures:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_package_that_is_not_a_component_says_so_at_once() {
    let root = temp_dir("kit-broken");
    package(&root.join("probe"), "probe", "echo", &[], &[]);
    package(
        &root.join("test/broken-test"),
        "broken-test",
        "broken-test",
        &[],
        &[],
    );
    std::fs::write(
        root.join("test/broken-test/pkg/broken-test.wasm"),
        b"\0asm\x0d\0",
    )
    .unwrap();
    std::fs::write(
        root.join("test/tests.toml"),
        "[[tests]]\nsetup_packages = [{ path = \"../probe\", run = true }]\n\
         test_package_paths = [\"broken-test\"]\ntimeout_secs = 60\n\
         [[tests.nodes]]\nfake_node_name = \"first.dev\"\n",
    )
    .unwrap();
    let (outcomes, _) = run_suite(&root.join("test"), &RunOptions::new("."))
        .await
        .unwrap();
    let Err(Failure::Error(reason)) = &outcomes[0].result else {
        panic!("{outcomes:?}");
    };
    assert!(
        reason.contains("broken-test.wasm: not a process a node runs"),
        "{reason}"
    );
}
