//! A package is installed as a node's app store installs a user package
//! (`app-store/src/utils.rs` at v1.0.0): its `pkg` drive holds the zip and
//! the unpacked `api.zip`, capability entries it cannot read are skipped
//! (with its print, and a diagnostic here), and an entry listed twice
//! replaces the first and is run twice.

use std::io::Write;

use crate::common::*;
use host_harness::report::{DiagnosticKind, OnExitKind};
use host_harness::{run, RunOptions};

fn id(name: &str) -> String {
    format!("{name}:probe:test.os")
}

fn zip_of(name: &str, text: &str) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut bytes);
        zip.start_file(name, zip::write::FileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
        zip.finish().unwrap();
    }
    bytes.into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pkg_drive_holds_the_packages_zip_and_its_unpacked_api() {
    let dir = probe_package(&[probe("pkg-lister").requests(&["vfs:distro:sys"])]);
    std::fs::write(
        dir.join("pkg/api.zip"),
        zip_of("hello.wit", "interface hello {}"),
    )
    .unwrap();
    let home = temp_dir("install-home");
    let mut options = RunOptions::new(&dir);
    options.home = Some(home.clone());
    let report = run(&options).await.unwrap();
    assert_eq!(
        prints_of(&report, &id("pkg-lister")),
        [
            "pkg holds api api.zip manifest.json probe.wasm probe:test.os.zip",
            "api file Ok(\"interface hello {}\")",
        ]
    );
    // The zip is the one `make package` writes (kit's bytes).
    let kept = std::fs::read(home.join("vfs/probe:test.os/pkg/probe:test.os.zip")).unwrap();
    let archive = host_harness::package::archive::zip_dir(&dir.join("pkg")).unwrap();
    assert!(
        kept == archive,
        "the drive's zip differs from the package's"
    );
    // Installing is not something the run did.
    assert!(
        report
            .home_changes
            .iter()
            .all(|c| !c.path.contains("/pkg/")),
        "{:#?}",
        report.home_changes
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capability_entry_the_app_store_cannot_read_is_skipped_with_its_print() {
    let mut lister = probe("pkg-lister").requests(&["vfs:distro:sys", "Not-An-Id"]);
    lister.grant.push(serde_json::json!({ "params": "x" }));
    let dir = probe_package(&[lister]);
    let report = run_dir(&dir).await;
    // It installs and runs without the entry.
    assert_eq!(prints_of(&report, &id("pkg-lister")).len(), 2);
    let app_store = prints_of(&report, "main:app-store:sys");
    assert_eq!(
        app_store,
        [
            "manifest requested invalid cap: \"Not-An-Id\"",
            "pkg-lister:probe:test.os manifest tried to grant invalid cap: {\"params\":\"x\"}",
        ]
    );
    let skipped: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::ManifestEntrySkipped)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:#?}");
    assert!(
        skipped[0].contains("request_capabilities[1] \"Not-An-Id\" was skipped"),
        "{}",
        skipped[0]
    );
    // A package a node half installs fails the harness's verdict.
    assert!(!report.check_failures().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_listed_twice_is_replaced_and_gets_a_second_run() {
    let dir = probe_package(&[probe("inbox"), probe("inbox").on_exit("Restart")]);
    let report = run_dir(&dir).await;
    let record = report.process(&id("inbox")).unwrap();
    assert_eq!(record.on_exit, OnExitKind::Restart);
    let prints = prints_of(&report, &id("inbox"));
    assert!(
        prints
            .iter()
            .any(|p| p.starts_with("inbox got request run from ")
                && p.contains("@kernel:distro:sys")),
        "{prints:#?}"
    );
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::ListedTwice));
}
