//! Faults are contained: no process can hang the harness.

use std::time::Duration;

use crate::common::*;
use host_harness::report::Limit;
use host_harness::report::{Ended, ExitKind};
use host_harness::{run, RunOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_spinning_processes_than_cores_still_end_at_the_timeout() {
    // Four processes that never make a host call, on two worker threads,
    // beside one that waits: each is interrupted regularly, so the run's
    // timeout fires and every task can be stopped.
    let dir = probe_package(&[
        probe("spinner-1"),
        probe("spinner-2"),
        probe("spinner-3"),
        probe("spinner-4"),
        probe("listener"),
    ]);
    let mut options = RunOptions::new(&dir);
    options.timeout = Duration::from_millis(500);
    // A guard, not a measurement: without the fix the run never returns.
    let report = tokio::time::timeout(Duration::from_secs(120), run(&options))
        .await
        .expect("the run returned")
        .unwrap();
    assert_eq!(report.ended, Ended::Timeout);
    for n in 1..=4 {
        let id = format!("spinner-{n}:probe:test.os");
        assert_eq!(exit_kind(&report, &id), ExitKind::TimedOut, "{id}");
    }
    assert_eq!(
        exit_kind(&report, "listener:probe:test.os"),
        ExitKind::Running
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cpu_limit_traps_a_process_that_never_waits() {
    let dir = probe_package(&[probe("spinner-1"), probe("listener")]);
    let mut options = RunOptions::new(&dir);
    options.cpu_limit = Some(Duration::from_millis(200));
    let report = run(&options).await.unwrap();
    let spinner = report.process("spinner-1:probe:test.os").unwrap();
    assert_eq!(spinner.exit.kind, ExitKind::Trapped);
    assert_eq!(spinner.exit.limit, Some(Limit::CpuLimit));
    assert!(
        spinner
            .exit
            .detail
            .starts_with("cpu_limit: ran for more than 0.200 s"),
        "{}",
        spinner.exit.detail
    );
    // The waiting listener is not charged.
    assert_eq!(
        exit_kind(&report, "listener:probe:test.os"),
        ExitKind::Running
    );
    assert_eq!(report.ended, Ended::Idle);
    // What a node would have done instead (F22): no preemption there.
    let spins = report
        .diagnostics
        .iter()
        .find(|d| d.kind == host_harness::report::DiagnosticKind::SpinsOnNode)
        .expect("a spins_on_node diagnostic");
    assert!(spins.message.contains("no preemption"), "{}", spins.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_memory_limit_traps_a_process_that_allocates_without_end() {
    let dir = probe_package(&[probe("hog")]);
    let mut options = RunOptions::new(&dir);
    options.memory_limit = 64 << 20;
    let report = run(&options).await.unwrap();
    let hog = report.process("hog:probe:test.os").unwrap();
    assert_eq!(hog.exit.kind, ExitKind::Trapped);
    assert_eq!(hog.exit.limit, Some(Limit::MemoryLimit));
    assert!(
        hog.exit
            .detail
            .starts_with("memory_limit: tried to grow its memory to"),
        "{}",
        hog.exit.detail
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_overflow_traps_only_that_process() {
    let dir = probe_package(&[probe("recurser"), probe("listener")]);
    let report = run_dir(&dir).await;
    let recurser = report.process("recurser:probe:test.os").unwrap();
    assert_eq!(recurser.exit.kind, ExitKind::Trapped);
    // Rust's wasm32 stack lives in linear memory: overflowing it runs off
    // the start of memory, as it does on a node.
    let detail = &recurser.exit.detail;
    assert!(
        detail.contains("out of bounds memory access") || detail.contains("stack"),
        "{detail}"
    );
    assert_eq!(
        exit_kind(&report, "listener:probe:test.os"),
        ExitKind::Running
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_loop_under_restart_is_counted_and_ends_at_the_timeout() {
    let dir = probe_package(&[probe("trapper").on_exit("Restart")]);
    let mut options = RunOptions::new(&dir);
    options.timeout = Duration::from_millis(1500);
    let report = tokio::time::timeout(Duration::from_secs(120), run(&options))
        .await
        .expect("the run returned")
        .unwrap();
    let trapper = report.process("trapper:probe:test.os").unwrap();
    // At once, then after the kernel's 1 s backoff: at least twice.
    assert!(trapper.restarts >= 1, "{}", trapper.restarts);
    assert_eq!(report.ended, Ended::Timeout);
    let traps = report
        .prints
        .iter()
        .filter(|p| p.text.contains("trapper:probe:test.os ended with error"))
        .count();
    assert!(traps >= 2, "{traps}");
}

#[tokio::test(flavor = "multi_thread")]
async fn megabytes_on_stdout_are_discarded_as_a_node_discards_them() {
    let report = run_dir(&probe_package(&[probe("chatterbox")])).await;
    let chatterbox = report.process("chatterbox:probe:test.os").unwrap();
    assert_eq!(
        chatterbox.exit.kind,
        ExitKind::Returned,
        "{}",
        chatterbox.exit.detail
    );
    assert_eq!(
        prints_of(&report, "chatterbox:probe:test.os"),
        ["wrote 4 MiB to stdout"]
    );
    // The report keeps the first MiB.
    assert_eq!(chatterbox.stdout.len(), 1 << 20);
}
