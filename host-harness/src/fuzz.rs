//! Entry points for the fuzz targets (`host-harness/fuzz/`): each takes
//! arbitrary bytes, must never panic, and checks what the parser promises.
//! Not part of the supported API.

use std::path::Path;

/// `metadata.json` and `pkg/manifest.json` texts, read as a package.
pub fn package(metadata: &[u8], manifest: &[u8]) {
    let (Ok(metadata), Ok(manifest)) =
        (std::str::from_utf8(metadata), std::str::from_utf8(manifest))
    else {
        return;
    };
    if let Ok(package) = crate::package::Package::parse(Path::new("fuzz"), metadata, manifest) {
        for process in &package.processes {
            // Every wasm path stays inside pkg/; every id is a node's.
            assert!(process.wasm_file.starts_with("fuzz/pkg"));
            assert!(!process.wasm_path.split('/').any(|part| part == ".."));
            crate::types::check_kimap_safe(&process.id).expect("a node's id");
        }
    }
}

/// A scenario file.
pub fn scenario(text: &[u8]) {
    if let Ok(text) = std::str::from_utf8(text) {
        let _ = crate::scenario::Scenario::from_toml(text);
    }
}

/// A vfs path: a parsed one never climbs, and prints as it parses.
pub fn vfs_path(text: &[u8]) {
    if let Ok(text) = std::str::from_utf8(text) {
        crate::modules::fuzz_vfs_path(text);
    }
}
