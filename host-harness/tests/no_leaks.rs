//! One program, many runs: every run gives back its tasks, its node and
//! its memory, so scenarios and benchmarks can run thousands of packages
//! in one process.

#[path = "all/common/mod.rs"]
mod common;

use common::*;
use host_harness::live_nodes;
use host_harness::report::{Ended, SpawnResult};

const RUNS: usize = 500;
/// Runs before the baseline is taken: allocator pools and caches warm up.
const WARMUP: usize = 50;

/// Resident memory of this process, in bytes.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_runs_leak_no_task_node_or_memory() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let mut baseline = 0;
    for run in 0..RUNS {
        let report = run_dir(&workspace()).await;
        assert_eq!(report.ended, Ended::Idle);
        assert_eq!(report.spawns[0].result, SpawnResult::Ok);
        assert_eq!(live_nodes(), 0, "run {run} left its node alive");
        // An aborted task goes at the runtime's next turn: give it a few.
        for _ in 0..100 {
            if metrics.num_alive_tasks() == tasks_before {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            metrics.num_alive_tasks(),
            tasks_before,
            "run {run} left tasks running"
        );
        if run + 1 == WARMUP {
            baseline = resident_bytes();
        }
    }
    let growth = resident_bytes().saturating_sub(baseline);
    // A leaked node holds its report, mailboxes and stores: tens of KB a
    // run, over 20 MB for these 450 runs.
    assert!(
        growth < 8 << 20,
        "resident memory grew {} KiB over {} runs",
        growth >> 10,
        RUNS - WARMUP
    );
}
