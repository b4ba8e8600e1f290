//! `wit/kinode.wit` is our own text of the Kinode process interface. This
//! proves it declares exactly what the WIT inside `kinode_process_lib` (the
//! SDK the guests link) declares, so the harness implements, and the guests
//! export, the interface a real node expects.

use std::path::{Path, PathBuf};
use std::process::Command;

use wit_component::WitPrinter;
use wit_parser::Resolve;

/// The SDK's WIT directory, found through `cargo metadata` (no network).
fn sdk_wit_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(&workspace)
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let sdk = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "kinode_process_lib")
        .expect("kinode_process_lib is a dependency of the workspace");
    let manifest = PathBuf::from(sdk["manifest_path"].as_str().unwrap());
    manifest.parent().unwrap().join("kinode-wit")
}

/// The package at `dir`, printed back as WIT without doc comments: two
/// files print the same exactly when they declare the same things.
fn declarations(dir: &Path) -> String {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(dir)
        .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
    for world in ["lib", "process-v1"] {
        resolve
            .select_world(package, Some(world))
            .unwrap_or_else(|e| panic!("{}: no world `{world}`: {e:#}", dir.display()));
    }
    WitPrinter::default()
        .emit_docs(false)
        .print(&resolve, package, &[])
        .unwrap()
}

#[test]
fn our_wit_declares_what_the_sdk_wit_declares() {
    let ours = declarations(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit"));
    let sdk = declarations(&sdk_wit_dir());
    assert!(ours.contains("package kinode:process@1.0.0;"), "{ours}");
    assert!(ours.contains("export init: func(our: string);"), "{ours}");
    if ours != sdk {
        let first = ours
            .lines()
            .zip(sdk.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.lines().count().min(sdk.lines().count()));
        panic!(
            "wit/kinode.wit differs from the SDK's WIT at declaration line {}:\n  ours: {:?}\n  sdk:  {:?}",
            first + 1,
            ours.lines().nth(first),
            sdk.lines().nth(first),
        );
    }
}

#[test]
fn a_changed_declaration_is_noticed() {
    // The comparison must see a one-word change, or the test above proves
    // nothing.
    let dir = std::env::temp_dir().join(format!("wit-changed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/kinode.wit"))
            .unwrap()
            .replace(
                "no-file-at-path,",
                "no-file-at-path,\n        no-such-thing,",
            );
    std::fs::write(dir.join("kinode.wit"), text).unwrap();
    let changed = declarations(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_ne!(changed, declarations(&sdk_wit_dir()));
}
