//! `wit/kinode.wit` is our own text of the Kinode process interface, and
//! `wit/hyperware/hyperware.wit` of Hyperware's. This proves each declares
//! exactly what the WIT inside its SDK (`kinode_process_lib`,
//! `hyperware_process_lib`) declares, so the harness implements, and the
//! guests export, the interface a real node expects.

use std::path::{Path, PathBuf};

use wit_component::WitPrinter;
use wit_parser::Resolve;

/// An SDK's WIT directory (`wit` inside the crate): the `sdk` version in
/// `Cargo.lock`, unpacked by cargo under `$CARGO_HOME/registry/src/` when
/// `make test` compiled the guests (both flavours). Not `cargo metadata`: that wants every
/// package of the lock file, Windows-only ones included, which a Linux
/// build never downloads, so it fails offline on a fresh machine.
fn sdk_dir(sdk: &str, wit: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).expect("read Cargo.lock");
    let mut lines = lock.lines();
    lines
        .find(|line| *line == format!("name = \"{sdk}\""))
        .unwrap_or_else(|| panic!("Cargo.lock lists no {sdk}"));
    let version = lines
        .next()
        .and_then(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("a version line follows the name in Cargo.lock");
    let crate_dir = format!("{sdk}-{version}");
    let sources = home::cargo_home()
        .expect("find CARGO_HOME")
        .join("registry/src");
    let registries = std::fs::read_dir(&sources)
        .unwrap_or_else(|e| panic!("{}: {e}; run `make test` first", sources.display()));
    registries
        .filter_map(|entry| Some(entry.ok()?.path().join(&crate_dir).join(wit)))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "{crate_dir} is not unpacked under {}; run `make test` first (it builds with both SDKs)",
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

fn sdk_wit_dir() -> PathBuf {
    sdk_dir("kinode_process_lib", "kinode-wit")
}

/// hyperware_process_lib's `hyperware.wit` alone: the SDK's directory also
/// holds its own interfaces (sign, hyperwallet, ...) in the same package.
fn hyperware_sdk_wit_dir() -> PathBuf {
    let file = sdk_dir("hyperware_process_lib", "hyperware-wit").join("hyperware.wit");
    let dir = std::env::temp_dir().join(format!("hyperware-sdk-wit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&file, dir.join("hyperware.wit"))
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    dir
}

#[test]
fn our_wit_declares_what_the_sdk_wit_declares() {
    let ours = declarations(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit"));
    assert!(ours.contains("package kinode:process@1.0.0;"), "{ours}");
    same_declarations("wit/kinode.wit", &ours, &declarations(&sdk_wit_dir()));
}

#[test]
fn our_hyperware_wit_declares_what_its_sdk_declares() {
    let ours = declarations(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/hyperware"));
    assert!(ours.contains("package hyperware:process@1.0.0;"), "{ours}");
    let sdk_dir = hyperware_sdk_wit_dir();
    let sdk = declarations(&sdk_dir);
    std::fs::remove_dir_all(&sdk_dir).unwrap();
    same_declarations("wit/hyperware/hyperware.wit", &ours, &sdk);
    // And it is Kinode's interface under another name.
    let kinode = declarations(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit"));
    assert_eq!(ours.replace("hyperware:process", "kinode:process"), kinode);
}

fn same_declarations(file: &str, ours: &str, sdk: &str) {
    assert!(ours.contains("export init: func(our: string);"), "{ours}");
    if ours != sdk {
        let first = ours
            .lines()
            .zip(sdk.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.lines().count().min(sdk.lines().count()));
        panic!(
            "{file} differs from the SDK's WIT at declaration line {}:\n  ours: {:?}\n  sdk:  {:?}",
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
