//! A package under test never touches the developer's files, and every
//! run ends: each way out of the node home the hostile-input audit found
//! is closed, and where a node would let it through the report says so.
//! The hostile processes are in `guests/probe/src/hostile.rs`.

use std::time::Duration;

use crate::common::*;
use host_harness::report::{DiagnosticKind, Ended, ExitKind};
use host_harness::{run, Report, RunOptions};

fn id(name: &str) -> String {
    format!("{name}:probe:test.os")
}

fn kinds(report: &Report, kind: DiagnosticKind) -> Vec<String> {
    report
        .diagnostics_of(kind)
        .map(|d| d.message.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_symbolic_link_out_of_the_tmp_drive_leads_nowhere() {
    let dir = probe_package(&[probe("linker").requests(&["vfs:distro:sys"])]);
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(scratch.join("victim")).unwrap();
    std::fs::write(scratch.join("victim.txt"), "secret").unwrap();
    std::fs::write(scratch.join("victim/keep.txt"), "keep").unwrap();
    let mut options = RunOptions::new(&dir);
    options.home = Some(scratch.join("home"));
    let report = run(&options).await.unwrap();
    let prints = prints_of(&report, &id("linker"));
    assert_eq!(
        prints[0], "link Ok(())",
        "WASI makes the link, as on a node"
    );
    for (i, action) in ["read", "write", "remove"].iter().enumerate() {
        let line = &prints[i + 1];
        assert!(
            line.starts_with(&format!("{action} {{\"Err\":{{\"IOError\"")),
            "{line}"
        );
    }
    assert!(scratch.join("victim/keep.txt").is_file(), "not removed");
    assert!(!scratch.join("planted.txt").exists(), "not written");
    let escapes = kinds(&report, DiagnosticKind::EscapeRefused);
    assert_eq!(escapes.len(), 3, "{escapes:?}");
    assert!(
        escapes[0].contains("a node follows the link"),
        "{escapes:?}"
    );
    assert!(report
        .check_failures()
        .iter()
        .any(|f| f.contains("tried to reach outside the node home")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_query_and_a_huge_hash_end_at_the_timeout_with_a_report() {
    // Both block a thread each: on 2 workers they used to hang the run.
    let dir = probe_package(&[
        probe("sql-spin")
            .requests(&["sqlite:distro:sys"])
            .grants(&["sqlite:distro:sys"]),
        probe("hasher").requests(&["vfs:distro:sys"]),
    ]);
    let mut options = RunOptions::new(&dir);
    options.timeout = Duration::from_secs(3);
    // A bound, not a speed: without the fix this never returns.
    let report = tokio::time::timeout(Duration::from_secs(120), run(&options))
        .await
        .expect("the run ends")
        .unwrap();
    assert_eq!(report.ended, Ended::Timeout);
    let stuck = kinds(&report, DiagnosticKind::ModuleStuck);
    assert!(
        stuck.iter().any(|m| m.contains("sqlite:distro:sys"))
            && stuck.iter().any(|m| m.contains("vfs:distro:sys")),
        "{stuck:?}"
    );
    assert!(
        stuck.iter().any(|m| m.contains("WITH RECURSIVE")),
        "names the request: {stuck:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_files_stay_in_the_package_directory() {
    let outside = std::path::Path::new("/tmp/host-harness-probe-attached.db");
    let _ = std::fs::remove_file(outside);
    let dir = probe_package(&[probe("attacher")
        .requests(&["sqlite:distro:sys"])
        .grants(&["sqlite:distro:sys"])]);
    let report = run_dir(&dir).await;
    let prints = prints_of(&report, &id("attacher"));
    assert!(prints[0].starts_with("attach Err("), "{prints:?}");
    assert!(prints[1].starts_with("vacuum Err("), "{prints:?}");
    assert_eq!(prints[2], "traversal {\"Err\":\"MalformedRequest\"}");
    assert!(!outside.exists(), "nothing attached outside");
    let escapes = kinds(&report, DiagnosticKind::EscapeRefused);
    assert_eq!(escapes.len(), 3, "{escapes:?}");
    assert!(
        escapes.iter().any(|m| m.contains("../../../escaped")),
        "{escapes:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_granted_kernel_capability_is_reported_and_a_climbing_id_refused() {
    let dir = probe_package(&[probe("forger").requests(&["vfs:distro:sys"])]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("forger")),
        ["initialize \"InitializeProcessError\""],
        "as a node answers"
    );
    let granted = kinds(&report, DiagnosticKind::SelfGrantedCapability);
    assert_eq!(granted.len(), 2, "{granted:?}");
    assert!(
        granted.iter().any(|m| m.contains("command the kernel")),
        "{granted:?}"
    );
    assert!(
        granted.iter().any(|m| m.contains("every package's files")),
        "{granted:?}"
    );
    assert!(report
        .prints
        .iter()
        .any(|p| p.text
            == "kernel: Process name (../../../../escaped) can only contain a-z, 0-9, `-`"));
    assert!(report
        .processes
        .iter()
        .all(|p| !p.id.process_name.contains("escaped")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_200_mib_blob_goes_through_as_on_a_node() {
    let mut sender = probe("blob-sender").requests(&[&id("blob-sink")]);
    sender.public = true;
    let dir = probe_package(&[probe("blob-sink"), sender]);
    let report = run_dir(&dir).await;
    assert_eq!(exit_kind(&report, &id("blob-sender")), ExitKind::Returned);
    assert_eq!(
        prints_of(&report, &id("blob-sink")),
        ["sink got 209715200 bytes"]
    );
    assert_eq!(
        prints_of(&report, &id("blob-sender")),
        ["blob sent Ok(\"209715200\")"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inputs_that_are_not_regular_files_are_refused_by_name() {
    let dir = our_package_with(|_| {});
    let metadata = dir.join("metadata.json");
    std::fs::remove_file(&metadata).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&metadata)
        .status()
        .unwrap();
    assert!(made.success());
    let err = run(&RunOptions::new(&dir)).await.err().unwrap().to_string();
    assert_eq!(err, format!("{}: not a regular file", metadata.display()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_out_of_pkg_is_refused_at_install() {
    let dir = our_package_with(|_| {});
    std::fs::write(dir.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink("../secret.txt", dir.join("pkg/secret-link")).unwrap();
    let err = run(&RunOptions::new(&dir)).await.err().unwrap().to_string();
    assert!(
        err.starts_with(&dir.join("pkg/secret-link").display().to_string()),
        "{err}"
    );
    assert!(err.contains("outside"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_names_the_package_run_not_the_last_one_added() {
    let extra = probe_package(&[probe("echo")]);
    let mut options = RunOptions::new(workspace());
    options.packages = vec![extra];
    let report = run(&options).await.unwrap();
    assert_eq!(report.package, "spawn:template.os");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_name_a_node_could_not_have_is_refused() {
    for bad in ["", "a@b", "Fake.os", "../x"] {
        let mut options = RunOptions::new(workspace());
        options.node = bad.into();
        let err = run(&options).await.err().unwrap().to_string();
        assert!(err.starts_with("--node: "), "{bad}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_past_the_host_memory_limit_is_refused_without_taking_the_memory() {
    let dir = probe_package(&[probe("readhuge").requests(&["vfs:distro:sys"])]);
    let report = run_dir(&dir).await;
    let prints = prints_of(&report, &id("readhuge"));
    assert!(
        prints[0]
            .starts_with("readhuge answered {\"Err\":{\"IOError\":\"3221225472 bytes is more than")
            && prints[0].contains("--host-memory-limit"),
        "{prints:?}"
    );
}
