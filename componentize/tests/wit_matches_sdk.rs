//! `wit/kinode.wit` is our own text of the Kinode process interface. This
//! proves it declares exactly what the WIT inside `kinode_process_lib` (the
//! SDK the guests link) declares, so the harness implements, and the guests
//! export, the interface a real node expects.

use std::path::{Path, PathBuf};

use wit_component::WitPrinter;
use wit_parser::Resolve;

/// The SDK's WIT directory: the `kinode_process_lib` version in
/// `Cargo.lock`, unpacked by cargo under `$CARGO_HOME/registry/src/` when
/// `make build` compiled the guests. Not `cargo metadata`: that wants every
/// package of the lock file, Windows-only ones included, which a Linux
/// build never downloads, so it fails offline on a fresh machine.
fn sdk_wit_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).expect("read Cargo.lock");
    let mut lines = lock.lines();
    lines
        .find(|line| *line == r#"name = "kinode_process_lib""#)
        .expect("Cargo.lock lists kinode_process_lib");
    let version = lines
        .next()
        .and_then(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("a version line follows the name in Cargo.lock");
    let crate_dir = format!("kinode_process_lib-{version}");
    let sources = home::cargo_home()
        .expect("find CARGO_HOME")
        .join("registry/src");
    let registries = std::fs::read_dir(&sources)
        .unwrap_or_else(|e| panic!("{}: {e}; run `make build` first", sources.display()));
    registries
        .filter_map(|entry| Some(entry.ok()?.path().join(&crate_dir).join("kinode-wit")))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "{crate_dir} is not unpacked under {}; run `make build` first",
                sources.display()
            )
        })
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
