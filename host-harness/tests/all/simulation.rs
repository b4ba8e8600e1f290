//! Virtual node time and seeds: waits take no real time, one seed replays a
//! run byte for byte (every scenario of the repository, a network with
//! faults, a two-node kit suite, the command's own output), and another
//! seed is another run.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;
use host_harness::scenario::{find, run_files_with, run_scenario_with, Scenario, Settings};
use host_harness::RunOptions;

fn checking() -> Settings {
    Settings {
        check_determinism: true,
        ..Settings::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_five_minute_timer_and_a_minute_of_sleep_take_no_real_time() {
    let dir = probe_package(&[probe("sleeper")
        .requests(&["timer:distro:sys"])
        .grants(&["timer:distro:sys"])]);
    let mut options = RunOptions::new(&dir);
    options.virtual_time = true;
    options.seed = Some(3);
    options.timeout = Duration::from_secs(3600);
    let started = Instant::now();
    let report = host_harness::run(&options).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let slept = &prints_of(&report, "sleeper:probe:test.os")[0];
    // (Timers keep whole milliseconds: 359.99 s reads as 359.)
    assert!(
        slept.starts_with("slept 360 s from wall ") || slept.starts_with("slept 359 s from wall "),
        "{slept}"
    );
    assert!(report.node_time_ms >= 359_000.0, "{}", report.node_time_ms);
    // The wall clock starts at a date the seed fixes, and WASI's random
    // numbers come from the seed: the same line again, another for
    // another seed.
    let again = host_harness::run(&options).await.unwrap();
    assert_eq!(&prints_of(&again, "sleeper:probe:test.os")[0], slept);
    options.seed = Some(4);
    let other = host_harness::run(&options).await.unwrap();
    assert_ne!(&prints_of(&other, "sleeper:probe:test.os")[0], slept);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_waiting_300_s_of_node_time_ends_in_milliseconds() {
    let scenario =
        Scenario::from_toml("timeout = 400\n[[step]]\nwait = { seconds = 300 }\n").unwrap();
    let started = Instant::now();
    let result = run_scenario_with(&workspace(), &scenario, "wait", &Settings::default()).await;
    assert!(result.failures.is_empty(), "{:?}", result.failures);
    assert!(result.node_time >= Duration::from_secs(300));
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Every scenario file of the repository's packages.
fn repository_packages() -> Vec<PathBuf> {
    let probe_package = workspace().join("host-harness/tests/probe-package");
    std::fs::copy(
        workspace().join("target/test-guests/probe.wasm"),
        probe_package.join("pkg/probe.wasm"),
    )
    .expect("make test-guests builds the probe first");
    let mut dirs = vec![workspace(), probe_package];
    // The template built for hyperdrive, where `make test` made it.
    let hyperware = workspace().join("target/hyperware-package");
    if hyperware.join("pkg/parent.wasm").is_file() {
        dirs.push(hyperware);
    }
    dirs
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_of_the_repository_replays_from_its_seed() {
    for dir in repository_packages() {
        let files = find(&dir, None).unwrap();
        let results = run_files_with(&dir, &files, 2, &checking()).await.unwrap();
        for result in &results {
            assert!(
                result.passed(),
                "{}: {}: {:?}",
                dir.display(),
                result.name,
                result.failures
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_network_with_jitter_and_faults_replays_from_its_seed() {
    let dir = probe_package(&[
        probe("relay").networking().on_exit("Restart"),
        probe("inbox").networking().on_exit("Restart"),
    ]);
    let text = "[[node]]\nname = \"a.os\"\n[[node]]\nname = \"b.os\"\n[[node]]\nname = \"c.os\"\n\
        [[step]]\nlatency = { ms = [1, 90] }\n\
        [[step]]\nsend = { node = \"a.os\", to = \"relay\", json = { to = \"b.os@inbox:probe:test.os\", body = \"m\", count = 10 }, expects_response = 5, settle = false }\n\
        [[step]]\nsend = { node = \"c.os\", to = \"relay\", json = { to = \"b.os@inbox:probe:test.os\", body = \"n\", count = 10 }, expects_response = 5 }\n\
        [[step]]\npartition = { groups = [[\"a.os\"], [\"b.os\"]] }\n\
        [[step]]\nsend = { node = \"a.os\", to = \"relay\", json = { to = \"b.os@inbox:probe:test.os\", body = \"held\", timeout = 1 }, expects_response = 5 }\n\
        [[step]]\nheal = true\n\
        [[step]]\ncrash = \"c.os\"\n\
        [[step]]\nrestart = { node = \"c.os\" }\n";
    let scenario = Scenario::from_toml(text).unwrap();
    let result = run_scenario_with(&dir, &scenario, "faults", &checking()).await;
    assert!(result.failures.is_empty(), "{:#?}", result.failures);
    // Messages from two nodes interleave at b.os by their drawn latencies:
    // another seed orders them differently.
    let order = |result: &host_harness::scenario::ScenarioResult| -> Vec<String> {
        let network = result.network.as_ref().unwrap();
        prints_of(network.node("b.os").unwrap(), "inbox:probe:test.os")
    };
    let mut orders = std::collections::BTreeSet::new();
    for seed in 0..8 {
        let settings = Settings {
            seed: Some(seed),
            ..Settings::default()
        };
        orders.insert(order(
            &run_scenario_with(&dir, &scenario, "faults", &settings).await,
        ));
    }
    assert!(orders.len() > 1, "eight seeds, one order: {orders:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_two_node_kit_suite_replays_from_its_seed() {
    let root = temp_dir("kit-seed");
    let echo = ["echo:probe:test.os"];
    kit_probe_package(&root.join("probe"), "probe", "echo", &[], &[], true);
    kit_probe_package(
        &root.join("two-test"),
        "two-test",
        "two-test",
        &echo,
        &echo,
        false,
    );
    std::fs::write(
        root.join("tests.toml"),
        "[[tests]]\nsetup_packages = [{ path = \"probe\", run = true }]\n\
         test_package_paths = [\"two-test\"]\ntimeout_secs = 5\n\
         [[tests.nodes]]\nfake_node_name = \"first.dev\"\n\
         [[tests.nodes]]\nfake_node_name = \"second.dev\"\n",
    )
    .unwrap();
    let mut options = RunOptions::new(&root);
    options.virtual_time = true;
    options.seed = Some(11);
    let run = || async {
        let (outcomes, reports) = host_harness::kit::run_suite(&root, &options).await.unwrap();
        assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
        serde_json::to_string(&reports).unwrap()
    };
    let first = run().await;
    assert_eq!(run().await, first);
    // `test --kit --check-determinism` runs it twice and finds no difference.
    let (outcomes, difference) = host_harness::kit::check_determinism(&root, &options)
        .await
        .unwrap();
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
    assert_eq!(difference, None);
}

#[test]
fn the_commands_output_replays_byte_for_byte_under_a_seed() {
    let harness = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_host-harness"))
            .args(args)
            .output()
            .unwrap();
        (output.status.code(), output.stdout)
    };
    let root = workspace();
    let root = root.to_str().unwrap();
    for args in [
        vec!["test", root, "--seed", "9"],
        vec!["test", root, "--seed", "9", "--json", "-"],
        vec!["run", root, "--seed", "9", "--json", "-"],
        vec!["run", root, "--seed", "9", "-v", "3"],
        vec![
            "run",
            root,
            "--nodes",
            "a.os,b.os",
            "--seed",
            "9",
            "--json",
            "-",
        ],
    ] {
        let first = harness(&args);
        assert_eq!(first.0, Some(0), "{args:?}");
        for _ in 0..3 {
            assert_eq!(harness(&args), first, "{args:?}");
        }
    }
}

/// The planted bug: a.os's clerk opens b.os's ledger, waits a second and
/// writes; the ledger keeps "opened" only in memory, so a restart of b.os
/// in between makes the write fail. Nothing goes wrong without faults.
fn planted_bug() -> (PathBuf, Scenario) {
    let timer = ["timer:distro:sys"];
    let dir = probe_package(&[
        probe("clerk")
            .networking()
            .requests(&timer)
            .grants(&timer)
            .on_exit("Restart"),
        probe("ledger").networking().on_exit("Restart"),
    ]);
    let scenario = Scenario::from_toml(
        "timeout = 60\n[[node]]\nname = \"a.os\"\n[[node]]\nname = \"b.os\"\n\
         [random_faults]\ncount = [1, 2]\nwithin = 2\npartition = false\nlatency = false\nlongest = 1\n\
         [[step]]\nsend = { node = \"a.os\", to = \"clerk\", body = \"b.os\", expects_response = 30 }\n\
         [[step]]\nexpect = { response = \"written\" }\n",
    )
    .unwrap();
    (dir, scenario)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seed_sweep_with_faults_finds_the_planted_bug_replays_it_and_shrinks_it() {
    let (dir, scenario) = planted_bug();
    let file = dir.join("tests/ledger.toml");
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        &file,
        std::fs::read_to_string(workspace().join("host-harness/tests/fixtures/ledger.toml"))
            .unwrap(),
    )
    .unwrap();
    // Without faults every seed passes.
    let calm = host_harness::scenario::run_sweep(
        &dir,
        std::slice::from_ref(&file),
        &(0..20).collect::<Vec<_>>(),
        None,
        2,
        &Settings::default(),
    )
    .await
    .unwrap();
    assert!(
        calm.iter().all(|r| r.passed()),
        "{:?}",
        calm.iter().find(|r| !r.passed())
    );
    // With faults, the sweep finds it within 100 seeds.
    let settings = Settings {
        faults: host_harness::scenario::Faults::Random,
        ..Settings::default()
    };
    let swept = host_harness::scenario::run_sweep(
        &dir,
        std::slice::from_ref(&file),
        &(0..100).collect::<Vec<_>>(),
        None,
        2,
        &settings,
    )
    .await
    .unwrap();
    // (A crash of a.os, the clerk's own node, fails it too, another way.)
    let failed = swept
        .iter()
        .find(|r| {
            r.failures
                .first()
                .is_some_and(|f| f.contains("it was \"refused: not open\""))
        })
        .expect("the planted bug within 100 seeds");
    assert!(
        failed.failures[0].starts_with("step 2: expected the response to contain \"written\""),
        "{:?}",
        failed.failures
    );
    // Its seed replays the failure, every time.
    let replay = Settings {
        seed: Some(failed.seed),
        ..settings.clone()
    };
    for _ in 0..3 {
        let again = run_scenario_with(&dir, &scenario, &failed.name, &replay).await;
        assert_eq!(again.failures, failed.failures);
        assert_eq!(again.faults, failed.faults);
    }
    // Shrunk: one crash of b.os and its restart, and it still fails.
    let shrunk = host_harness::scenario::shrink_faults(&dir, &scenario, failed, &settings, 40)
        .await
        .unwrap();
    assert!(
        shrunk.len() <= failed.faults.len() && shrunk.len() == 2,
        "{shrunk:?}"
    );
    assert_eq!(
        shrunk[0].kind,
        host_harness::scenario::FaultKind::Crash("b.os".into())
    );
    let pasted = format!(
        "{}{}",
        std::fs::read_to_string(&file).unwrap(),
        host_harness::scenario::faults_to_toml(&shrunk)
    );
    let with_schedule = Scenario::from_toml(&pasted).unwrap();
    let result = run_scenario_with(&dir, &with_schedule, "pasted", &Settings::default()).await;
    assert_eq!(result.failures.len(), 1, "{:?}", result.failures);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_picks_the_order_of_two_vfs_requests_waiting_at_once() {
    let vfs = ["vfs:distro:sys"];
    let dir = probe_package(&[probe("racer").requests(&vfs).grants(&vfs)]);
    let mut kept = std::collections::BTreeSet::new();
    for seed in 0..12 {
        let mut options = RunOptions::new(&dir);
        options.virtual_time = true;
        options.seed = Some(seed);
        let report = host_harness::run(&options).await.unwrap();
        let prints = prints_of(&report, "racer:probe:test.os");
        let again = host_harness::run(&options).await.unwrap();
        assert_eq!(
            prints_of(&again, "racer:probe:test.os"),
            prints,
            "seed {seed} replays"
        );
        kept.extend(prints);
    }
    assert_eq!(
        kept.into_iter().collect::<Vec<_>>(),
        ["racer kept first", "racer kept second"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn partitions_of_a_sweep_split_its_runs_between_machines() {
    let files = find(&workspace(), None).unwrap();
    let seeds: Vec<u64> = (0..5).collect();
    let mut all = Vec::new();
    for k in 1..=3 {
        let part = host_harness::scenario::run_sweep(
            &workspace(),
            &files,
            &seeds,
            Some((k, 3)),
            2,
            &Settings::default(),
        )
        .await
        .unwrap();
        all.extend(part.iter().map(|r| (r.name.clone(), r.seed)));
    }
    all.sort();
    let whole = host_harness::scenario::run_sweep(
        &workspace(),
        &files,
        &seeds,
        None,
        2,
        &Settings::default(),
    )
    .await
    .unwrap();
    let mut whole: Vec<(String, u64)> = whole.iter().map(|r| (r.name.clone(), r.seed)).collect();
    whole.sort();
    assert_eq!(all, whole, "each run once, in exactly one partition");
    assert_eq!(whole.len(), files.len() * seeds.len());
}
