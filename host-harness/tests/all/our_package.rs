//! The end-to-end check of this repository's package: the parent spawns
//! `spawned-child-process` holding the http-client messaging capability,
//! and the two ways a manifest gets that wrong.

use crate::common::*;
use host_harness::report::{CapRecord, Ended, ExitKind, OnExitKind, SpawnResult};

const PARENT: &str = "parent:spawn:template.os";
const CHILD: &str = "spawned-child-process:spawn:template.os";

fn http_client_messaging() -> CapRecord {
    CapRecord {
        issuer: "fake.os@http-client:distro:sys".into(),
        params: "\"messaging\"".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn parent_spawns_the_child_with_the_http_client_capability() {
    let report = run_dir(&workspace()).await;

    assert_eq!(report.package, "spawn:template.os");
    assert_eq!(report.ended, Ended::Idle);
    assert_eq!(exit_kind(&report, PARENT), ExitKind::Returned);
    let [spawn] = report.spawns.as_slice() else {
        panic!("one spawn expected: {:?}", report.spawns)
    };
    assert_eq!(spawn.parent, PARENT);
    assert_eq!(spawn.result, SpawnResult::Ok);
    assert_eq!(spawn.child.clone().unwrap(), CHILD);
    assert_eq!(spawn.wasm_path, "spawn:template.os/pkg/child.wasm");
    assert!(spawn.dropped_capabilities.is_empty());

    let child = report.process(CHILD).expect("the child ran");
    assert_eq!(child.parent.clone().unwrap(), PARENT);
    assert!(!child.public);
    assert_eq!(child.on_exit, OnExitKind::None);
    assert!(
        child
            .capabilities_at_start
            .contains(&http_client_messaging()),
        "{:?}",
        child.capabilities_at_start
    );
    // Nothing else but messaging itself and (unless the parent has
    // already ended, which revokes it, as on a node) its parent.
    let issuers: Vec<&str> = child
        .capabilities_at_start
        .iter()
        .map(|c| c.issuer.as_str())
        .collect();
    assert!(issuers.contains(&"fake.os@spawned-child-process:spawn:template.os"));
    for issuer in &issuers {
        assert!(
            [
                "fake.os@http-client:distro:sys",
                "fake.os@parent:spawn:template.os",
                "fake.os@spawned-child-process:spawn:template.os"
            ]
            .contains(issuer),
            "unexpected capability from {issuer}"
        );
    }
    assert_eq!(
        prints_of(&report, CHILD),
        [
            "fake.os@spawned-child-process:spawn:template.os: start",
            "this is the child process, wow!"
        ]
    );
    assert_eq!(child.exit.kind, ExitKind::Returned);
    assert_eq!(
        prints_of(&report, PARENT),
        [
            "fake.os@parent:spawn:template.os: start",
            "spawned spawned-child-process:spawn:template.os"
        ]
    );
    assert!(
        report.check_failures().is_empty(),
        "{:?}",
        report.check_failures()
    );
    assert!(report.blocked_messages.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_vfs_the_spawn_fails_with_no_file_at_path() {
    let dir = our_package_with(|m| {
        m[0]["request_capabilities"] = serde_json::json!(["http-client:distro:sys"]);
    });
    let report = run_dir(&dir).await;

    assert_eq!(report.spawns[0].result, SpawnResult::NoFileAtPath);
    assert!(report.process(CHILD).is_none());
    assert_eq!(
        prints_of(&report, PARENT).last().unwrap(),
        "couldn't spawn the child: no-file-at-path (error 1)"
    );
    // Why: the read went to vfs as the parent, and vfs is not public.
    let blocked = &report.blocked_messages[0];
    assert_eq!(blocked.source, "fake.os@parent:spawn:template.os");
    assert_eq!(blocked.target, "fake.os@vfs:distro:sys");
    assert!(report
        .prints
        .iter()
        .any(|p| p.text == "event loop: process parent:spawn:template.os doesn't have capability to message process vfs:distro:sys"));
    assert!(!report.check_failures().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_http_client_the_child_starts_without_it_and_we_say_so() {
    let dir = our_package_with(|m| {
        m[0]["request_capabilities"] = serde_json::json!(["vfs:distro:sys"]);
    });
    let report = run_dir(&dir).await;

    // A real node spawns the child silently without the capability.
    assert_eq!(report.spawns[0].result, SpawnResult::Ok);
    let child = report.process(CHILD).unwrap();
    assert!(!child
        .capabilities_at_start
        .contains(&http_client_messaging()));
    assert_eq!(child.exit.kind, ExitKind::Returned);
    // The harness reports the drop, with the reason and a hint.
    let dropped = &report.spawns[0].dropped_capabilities;
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].capability, http_client_messaging());
    assert!(
        dropped[0].reason.contains("does not hold"),
        "{}",
        dropped[0].reason
    );
    assert!(report.diagnostics.iter().any(|d| d
        .hint
        .as_deref()
        .is_some_and(|h| h.contains("request_capabilities"))));
    assert_eq!(
        report.check_failures().len(),
        1,
        "{:?}",
        report.check_failures()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_template_gives_the_same_report_every_run() {
    // Every fact but one is the same from run to run: which of two
    // processes running at once prints first is up to the scheduler (as on
    // a node), so prints are compared per process, each in its order, and
    // the kernel's lines (about both) as a set.
    let mut reports = Vec::new();
    for _ in 0..20 {
        let mut options = host_harness::RunOptions::new(workspace());
        options.seed = Some(1);
        let report = host_harness::run(&options).await.unwrap();
        let mut json = serde_json::to_value(&report).unwrap();
        without_times(&mut json);
        let prints = json["prints"].take();
        let mut by_process = std::collections::BTreeMap::<String, Vec<serde_json::Value>>::new();
        for print in prints.as_array().unwrap() {
            by_process
                .entry(print["process"].as_str().unwrap().to_string())
                .or_default()
                .push(print.clone());
        }
        if let Some(kernel) = by_process.get_mut("kernel:distro:sys") {
            kernel.sort_by_key(|print| print.to_string());
        }
        json["prints"] = serde_json::json!(by_process);
        reports.push(json);
    }
    for (n, report) in reports.iter().enumerate().skip(1) {
        assert_eq!(report, &reports[0], "run {n} differs");
    }
}

/// The JSON without its times (node time on real time is wall time).
fn without_times(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("at_ms");
            map.remove("node_time_ms");
            map.values_mut().for_each(without_times);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_times),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn on_virtual_time_one_seed_gives_the_same_report_byte_for_byte() {
    let mut options = host_harness::RunOptions::new(workspace());
    options.seed = Some(42);
    options.virtual_time = true;
    let first = serde_json::to_string(&host_harness::run(&options).await.unwrap()).unwrap();
    for n in 1..20 {
        let again = serde_json::to_string(&host_harness::run(&options).await.unwrap()).unwrap();
        assert_eq!(again, first, "run {n} differs");
    }
    // Another seed is another run (its ids, its keys).
    options.seed = Some(43);
    let other = serde_json::to_string(&host_harness::run(&options).await.unwrap()).unwrap();
    assert_ne!(other, first);
}
