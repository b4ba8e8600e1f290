//! The runtime modules a package uses, driven through the real SDK by the
//! probe guest: every answer is decoded by kinode_process_lib, so these
//! also check that the formats are the node's.

use crate::common::*;
use host_harness::report::{ChangeKind, DiagnosticKind, ExitKind};

fn id(name: &str) -> String {
    format!("{name}:probe:test.os")
}

#[tokio::test(flavor = "multi_thread")]
async fn vfs_does_every_action_on_real_files_and_refuses_as_a_node_does() {
    let dir = probe_package(&[probe("vfs-tour").requests(&["vfs:distro:sys"])]);
    let report = run_dir(&dir).await;
    assert_eq!(exit_kind(&report, &id("vfs-tour")), ExitKind::Returned);
    assert_eq!(
        prints_of(&report, &id("vfs-tour")),
        [
            "drive /probe:test.os/data",
            "seek Ok(1)",
            "read_to_string Ok(\"ello\")",
            "read Ok(\"hello world\")",
            "read_at Ok(5) world",
            "metadata File 11",
            "after set_len Ok(\"hello\")",
            "copy Ok(\"hello\")",
            "read_dir [\"probe:test.os/data/f.txt File\", \"probe:test.os/data/h.txt File\", \"probe:test.os/data/sub Directory\"]",
            "removed true",
            "sub left Ok(Directory)",
            "write Ok(\"abc\")",
            "read_to_end Ok(\"bc\")",
            "sync_all Ok(())",
            "len Ok(Len(3))",
            // SHA-256 of "abc" is ba7816bf...
            "hash Hash starts ba78",
            "create_dir Ok(Ok)",
            "create_dir deep Ok(Err(IOError(\"No such file or directory (os error 2)\")))",
            "remove_dir Ok(())",
            "rename away Ok(Err(NoWriteCap))",
            "open other Some(NoWriteCap)",
            "read other Some(NoReadCap)",
            "drive other Some(NoWriteCap)",
            "escape Some(MalformedRequest)",
            "missing Some(IOError(\"No such file or directory (os error 2)\"))",
        ]
    );
    assert_eq!(report.diagnostics_of(DiagnosticKind::VfsRefused).count(), 4);
    // The drive's creator holds read and write on it.
    let caps: Vec<String> = report
        .process(&id("vfs-tour"))
        .unwrap()
        .capabilities_at_start
        .iter()
        .map(|c| c.params.clone())
        .collect();
    assert!(
        !caps.iter().any(|p| p.contains("/probe:test.os/data")),
        "not at start"
    );
    let written: Vec<(&str, ChangeKind)> = report
        .home_changes
        .iter()
        .map(|c| (c.path.as_str(), c.change))
        .collect();
    assert_eq!(
        written,
        [
            ("vfs/probe:test.os/data/f.txt", ChangeKind::Created),
            ("vfs/probe:test.os/data/plain.txt", ChangeKind::Created)
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kv_stores_in_a_real_database_with_transactions() {
    let dir = probe_package(&[probe("kv-user")
        .requests(&["kv:distro:sys"])
        .grants(&["kv:distro:sys"])]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("kv-user")),
        [
            "get a Some(\"1\")",
            "after delete Err(\"key not found\")",
            "before commit false",
            "after commit Some(\"2\")",
            "open other Some(\"request to open or remove DB with mismatching package ID\")",
        ]
    );
    assert!(report
        .home_changes
        .iter()
        .any(|c| c.path == "kv/probe:test.os/store/db.redb"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_runs_real_sql_with_parameters_and_transactions() {
    let dir = probe_package(&[probe("sqlite-user")
        .requests(&["sqlite:distro:sys"])
        .grants(&["sqlite:distro:sys"])]);
    let report = run_dir(&dir).await;
    let printed = prints_of(&report, &id("sqlite-user"));
    let rows: serde_json::Value =
        serde_json::from_str(printed[0].strip_prefix("rows ").unwrap()).unwrap();
    assert_eq!(
        rows,
        serde_json::json!([{"name": "world", "age": 7}, {"name": "hello", "age": 42}])
    );
    assert_eq!(
        printed[1],
        "read keyword Some(\"read query started with non-existent read keyword\")"
    );
    assert!(report
        .home_changes
        .iter()
        .any(|c| c.path == "sqlite/probe:test.os/people/people.db"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_module_cannot_answer_a_process_that_did_not_grant_it_messaging() {
    // kv is not public and holds no capability to message the process.
    let dir = probe_package(&[probe("kv-user").requests(&["kv:distro:sys"])]);
    let report = run_dir(&dir).await;
    assert_eq!(exit_kind(&report, &id("kv-user")), ExitKind::Trapped);
    assert_eq!(report.blocked_messages[0].source, "fake.os@kv:distro:sys");
}

#[tokio::test(flavor = "multi_thread")]
async fn kernel_commands_answer_in_the_nodes_format() {
    let listener = id("listener");
    let dir = probe_package(&[
        probe("listener"),
        probe("commander").requests(&[
            "kernel:distro:sys",
            "vfs:distro:sys",
            listener.as_str(),
            "homepage:homepage:sys",
        ]),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("commander")),
        [
            "kill {\"KilledProcess\":\"listener:probe:test.os\"} decodes true",
            "after kill Err(Timeout)",
            "run ghost \"RunProcessError\" decodes true",
            // No such process to kill: the kernel does not answer.
            "kill ghost Timeout",
            "initialize \"InitializedProcess\"",
            "run made \"StartedProcess\" decodes true",
        ]
    );
    assert_eq!(
        prints_of(&report, &id("made")),
        ["started as fake.os@made:probe:test.os"]
    );
    assert_eq!(exit_kind(&report, &listener), ExitKind::Killed);
    let made = report.process(&id("made")).unwrap();
    assert_eq!(made.parent.clone().unwrap(), id("commander").as_str());
    let loud: Vec<&str> = report
        .prints
        .iter()
        .filter(|p| p.process == "kernel:distro:sys" && p.verbosity == 0)
        .map(|p| p.text.as_str())
        .collect();
    assert!(loud.contains(&"kernel: killing process listener:probe:test.os"));
    assert!(loud.contains(&"kernel: no such process ghost:probe:test.os to run"));
    // The homepage a node always runs took the entry.
    let [homepage] = report.distro_requests.as_slice() else {
        panic!("{:?}", report.distro_requests)
    };
    assert_eq!(homepage.target, "homepage:homepage:sys");
    assert!(homepage.body.contains("\"label\":\"Probe\""));
}

#[tokio::test]
async fn eth_answers_as_a_node_that_reaches_no_chain() {
    let dir = probe_package(&[probe("eth-user")
        .requests(&["eth:distro:sys"])
        .grants(&["eth:distro:sys"])]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, "eth-user:probe:test.os"),
        ["block number Err(NoRpcForChain)"]
    );
    let diagnostic = report
        .diagnostics
        .iter()
        .find(|d| d.kind == host_harness::report::DiagnosticKind::Unreachable)
        .expect("a diagnostic says why");
    assert!(
        diagnostic
            .message
            .contains("Request to eth:distro:sys was answered Err(NoRpcForChain)"),
        "{}",
        diagnostic.message
    );
}

#[tokio::test]
async fn net_answers_as_a_lone_node_and_signs_with_its_own_key() {
    let dir = probe_package(&[probe("net-user")
        .requests(&["net:distro:sys"])
        .grants(&["net:distro:sys"])]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, "net-user:probe:test.os"),
        [
            "peers 0",
            "peer fake.os",
            "signature 64 bytes, verifies Ok(true), changed Ok(false)"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_hint_gives_the_whole_manifest_change_for_a_module() {
    // kv-user holds nothing: the first hint must name the request and the
    // grant, or its next run would only meet the blocked answer.
    let dir = probe_package(&[probe("kv-user")]);
    let report = run_dir(&dir).await;
    let hint = report
        .diagnostics_of(DiagnosticKind::MessageBlocked)
        .find_map(|d| d.hint.clone())
        .expect("a hint for the blocked request");
    assert!(
        hint.contains("\"request_capabilities\": [\"kv:distro:sys\"], \"grant_capabilities\": [\"kv:distro:sys\"]"),
        "{hint}"
    );
    // With only the request, the answer is blocked and the hint says grant.
    let dir = probe_package(&[probe("kv-user").requests(&["kv:distro:sys"])]);
    let report = run_dir(&dir).await;
    let hint = report
        .diagnostics_of(DiagnosticKind::MessageBlocked)
        .find_map(|d| d.hint.clone())
        .expect("a hint for the blocked answer");
    assert!(
        hint.contains("add \"kv:distro:sys\" to grant_capabilities"),
        "{hint}"
    );
}
