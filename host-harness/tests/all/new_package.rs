//! `make new`'s output, end to end: a package made from this template with
//! new names builds with its own Makefile, passes its own scenarios, runs
//! with the new names in the report, and packages reproducibly.
//!
//! The new package builds in `target/new-package/` (its guests' cargo
//! target dir), so a second `make test` reuses that build.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

const HARNESS: &str = env!("CARGO_BIN_EXE_host-harness");

fn harness(args: &[&str]) -> Output {
    Command::new(HARNESS)
        .args(args)
        .output()
        .expect("run host-harness")
}

/// `make -C dir target` as a user runs it, with the harness under test.
fn make(dir: &Path, args: &[&str]) -> Output {
    Command::new("make")
        .arg("-C")
        .arg(dir)
        .args(args)
        .arg(format!("HARNESS={HARNESS}"))
        .env("CARGO_TARGET_DIR", workspace().join("target/new-package"))
        // Not the outer `make test`'s jobserver and flags.
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .expect("run make")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_new_package_builds_passes_its_scenarios_and_runs_under_its_new_names() {
    let parent = temp_dir("new-package");
    let dest = parent.join("my-app");
    let created = harness(&[
        "new",
        "--from",
        workspace().to_str().unwrap(),
        "--name",
        "my-app",
        "--publisher",
        "someone.os",
        "--parent",
        "boss",
        "--child",
        "worker",
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert!(created.status.success(), "{}", text(&created));

    let test = make(&dest, &["test"]);
    let out = text(&test);
    assert!(test.status.success(), "{out}");
    assert!(out.contains("3 passed, 0 failed"), "{out}");
    assert!(dest.join("pkg/boss.wasm").is_file() && dest.join("pkg/worker.wasm").is_file());

    let run = harness(&["run", dest.to_str().unwrap(), "--json", "-"]);
    assert!(run.status.success(), "{}", text(&run));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["package"], "my-app:someone.os");
    let spawn = &report["spawns"][0];
    assert_eq!(spawn["parent"], "boss:my-app:someone.os", "{spawn}");
    assert_eq!(spawn["child"], "spawned-worker-process:my-app:someone.os");
    assert_eq!(spawn["result"], "ok");
    let child = report["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "spawned-worker-process:my-app:someone.os")
        .expect("the child in the report");
    let holds_http_client = child["capabilities_at_start"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["issuer"] == "fake.os@http-client:distro:sys" && c["params"] == "\"messaging\"");
    assert!(holds_http_client, "{child}");

    // The archive: byte-identical twice, then its hash recorded and checked.
    let zip = dest.join("target/my-app:someone.os.zip");
    let first = make(&dest, &["package"]);
    assert!(first.status.success(), "{}", text(&first));
    let bytes = std::fs::read(&zip).unwrap();
    assert!(make(&dest, &["package"]).status.success());
    assert_eq!(std::fs::read(&zip).unwrap(), bytes, "two builds differ");
    let check = make(&dest, &["check-package"]);
    assert!(!check.status.success());
    assert!(
        text(&check).contains("code_hashes[\"0.1.0\"] is empty"),
        "{}",
        text(&check)
    );
    assert!(make(&dest, &["package", "UPDATE_HASH=1"]).status.success());
    let check = make(&dest, &["check-package"]);
    assert!(check.status.success(), "{}", text(&check));
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn a_new_hyperware_package_builds_and_passes_under_hyperdrive() {
    let parent = temp_dir("new-hyperware");
    let dest = parent.join("hw-app");
    let created = harness(&[
        "new",
        "--from",
        workspace().to_str().unwrap(),
        "--name",
        "hw-app",
        "--publisher",
        "someone.os",
        "--flavor",
        "hyperware",
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert!(created.status.success(), "{}", text(&created));
    let test = make(&dest, &["test"]);
    assert!(test.status.success(), "{}", text(&test));
    assert!(
        text(&test).contains("3 passed, 0 failed"),
        "{}",
        text(&test)
    );
    let run = harness(&["run", dest.to_str().unwrap(), "--json", "-"]);
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["runtime"], "hyperdrive");
    assert_eq!(report["spawns"][0]["result"], "ok");
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn bad_names_exit_2_naming_the_option_and_write_nothing() {
    let parent = temp_dir("new-bad");
    let dest = parent.join("x");
    let output = harness(&[
        "new",
        "--from",
        workspace().to_str().unwrap(),
        "--name",
        "My_App",
        "--publisher",
        "me.os",
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output)
            .contains("error: --name: package name `My_App` may only contain a-z, 0-9 and `-`"),
        "{}",
        text(&output)
    );
    assert!(!dest.exists());
    std::fs::remove_dir_all(&parent).unwrap();
}
