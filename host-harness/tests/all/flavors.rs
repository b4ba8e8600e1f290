//! Kinode 1.0 and hyperdrive: the runtime follows the components, each
//! runtime's rules apply where they differ, and a component built for the
//! other runtime fails as a node fails it, with the reason.

use std::time::Duration;

use crate::common::*;
use host_harness::report::ExitKind;
use host_harness::Runtime;
use host_harness::{run, RunOptions};

fn id(name: &str) -> String {
    format!("{name}:probe:test.os")
}

async fn run_as(dir: &std::path::Path, runtime: Option<Runtime>) -> host_harness::Report {
    let mut options = RunOptions::new(dir);
    options.timeout = Duration::from_secs(20);
    options.runtime = runtime;
    run(&options).await.unwrap()
}

#[tokio::test]
async fn the_runtime_follows_the_sdk_the_components_were_built_with() {
    let kinode = probe_package(&[probe("echo")]);
    let hyperware = hyperware_probe_package(&[probe("echo")]);
    assert_eq!(run_dir(&kinode).await.runtime, Runtime::Kinode);
    let report = run_dir(&hyperware).await;
    assert_eq!(report.runtime, Runtime::Hyperdrive);
    assert_eq!(report.check_failures(), Vec::<String>::new());
}

#[tokio::test]
async fn hyperdrive_waits_2_then_4_seconds_before_restarts_kinode_at_once_then_1() {
    // The restarter starts three times, then switches itself to None.
    let kinode = probe_package(&[probe("restarter").on_exit("Restart")]);
    let hyperware = hyperware_probe_package(&[probe("restarter").on_exit("Restart")]);
    for (dir, waits) in [(kinode, [0, 1]), (hyperware, [2, 4])] {
        let report = run_dir(&dir).await;
        let record = report.process(&id("restarter")).unwrap();
        // Kinode waits until a moment fixed at the previous restart, so
        // its wait is a second less the time the run took: whole seconds.
        let seconds: Vec<u64> = record
            .restart_waits_ms
            .iter()
            .map(|ms| (ms + 500) / 1000)
            .collect();
        assert_eq!(
            seconds, waits,
            "{}: {:?}",
            report.runtime, record.restart_waits_ms
        );
        assert_eq!(
            prints_of(&report, &id("restarter")),
            ["start 1", "start 2", "start 3"]
        );
    }
}

#[tokio::test]
async fn hyperdrive_gives_no_tmp_directory() {
    // wasi-user writes a file in $TEMP_DIR: Kinode 1.0 preopens the
    // package's tmp drive and names it; hyperdrive has neither.
    let kinode = run_dir(&probe_package(&[probe("wasi-user")])).await;
    assert_eq!(exit_kind(&kinode, &id("wasi-user")), ExitKind::Returned);
    assert_eq!(prints_of(&kinode, &id("wasi-user"))[0], "tmp read back hi");
    let hyperdrive = run_dir(&hyperware_probe_package(&[probe("wasi-user")])).await;
    let record = hyperdrive.process(&id("wasi-user")).unwrap();
    assert_eq!(record.exit.kind, ExitKind::Trapped);
    assert!(
        record.exit.detail.contains("NotPresent"),
        "{}",
        record.exit.detail
    );
}

#[tokio::test]
async fn a_component_for_the_other_runtime_fails_to_instantiate_with_the_reason() {
    let kinode = probe_package(&[probe("echo")]);
    let report = run_as(&kinode, Some(Runtime::Hyperdrive)).await;
    let record = report.process(&id("echo")).unwrap();
    assert_eq!(record.exit.kind, ExitKind::NeverRan);
    assert!(
        record.exit.detail.contains(
            "component imports instance `kinode:process/standard@1.0.0`, but a matching \
             implementation was not found in the linker"
        ),
        "{}",
        record.exit.detail
    );
    let hint = report.diagnostics[0].hint.as_deref().unwrap_or_default();
    assert!(hint.contains("make build FLAVOR=hyperware"), "{hint}");
    assert!(!report.check_failures().is_empty());

    let hyperware = hyperware_probe_package(&[probe("echo")]);
    let report = run_as(&hyperware, Some(Runtime::Kinode)).await;
    let detail = &report.process(&id("echo")).unwrap().exit.detail;
    assert!(
        detail.contains("`hyperware:process/standard@1.0.0`"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_package_built_with_both_sdks_is_refused_unless_a_runtime_is_named() {
    let dir = probe_package(&[probe("echo")]);
    let hyperware = read_built(&workspace().join("target/test-guests/probe-hyperware.wasm"));
    std::fs::write(dir.join("pkg/other.wasm"), hyperware).unwrap();
    let manifest = dir.join("pkg/manifest.json");
    let mut entries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let mut other = entries[0].clone();
    other["process_name"] = "listener".into();
    other["process_wasm_path"] = "/other.wasm".into();
    entries.as_array_mut().unwrap().push(other);
    std::fs::write(&manifest, entries.to_string()).unwrap();

    let error = run(&RunOptions::new(&dir)).await.err().unwrap().to_string();
    assert!(
        error.contains("probe.wasm: imports kinode:process/standard@1.0.0 while"),
        "{error}"
    );
    assert!(
        error.contains("other.wasm imports hyperware:process/standard@1.0.0"),
        "{error}"
    );
    // Named, the run goes ahead and the other runtime's process fails.
    let report = run_as(&dir, Some(Runtime::Kinode)).await;
    assert_eq!(exit_kind(&report, &id("listener")), ExitKind::NeverRan);
}
