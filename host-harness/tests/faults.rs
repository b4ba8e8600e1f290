//! Faults are contained: no process can hang the harness.

mod common;

use std::time::Duration;

use common::*;
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
