//! `--home`: the node's home on disk outlives a run, as a node's does.

use crate::common::*;
use host_harness::report::ChangeKind;
use host_harness::{run, RunOptions};

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_of_the_same_home_finds_the_state_the_first_left() {
    let dir = probe_package(&[probe("restarter").on_exit("Restart")]);
    let home = temp_dir("home");
    let mut options = RunOptions::new(&dir);
    options.home = Some(home.clone());
    let first = run(&options).await.unwrap();
    let restarter = "restarter:probe:test.os";
    assert_eq!(
        prints_of(&first, restarter),
        ["start 1", "start 2", "start 3"]
    );
    let written: Vec<(&str, ChangeKind)> = first
        .home_changes
        .iter()
        .map(|c| (c.path.as_str(), c.change))
        .collect();
    assert!(
        written.contains(&("state/restarter:probe:test.os", ChangeKind::Created)),
        "{written:?}"
    );
    assert_eq!(first.home.as_deref(), Some(home.to_str().unwrap()));
    let second = run(&options).await.unwrap();
    assert_eq!(prints_of(&second, restarter), ["start 4"]);
    assert!(home.join("vfs/probe:test.os/pkg/probe.wasm").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_home_nothing_is_left_behind() {
    let dir = probe_package(&[probe("restarter").on_exit("Restart")]);
    let report = run_dir(&dir).await;
    assert_eq!(report.home, None);
    let again = run_dir(&dir).await;
    assert_eq!(prints_of(&again, "restarter:probe:test.os")[0], "start 1");
}
