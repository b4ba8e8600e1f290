//! `compose`: an API component's exports plugged into a process's imports,
//! as kit's `wasm-tools compose` does (kit's file-transfer needs it).

use std::path::{Path, PathBuf};

use componentize::{component_interface, compose};
use wit_component::{dummy_module, embed_component_metadata, ComponentEncoder, StringEncoding};
use wit_parser::{Mangling, Resolve};

const WIT: &str = r#"
package test:compose;
interface api { hello: func() -> string; }
world exporter { export api; }
world importer { import api; export run: func() -> string; }
"#;

/// A component for `world` whose functions do nothing (wit-component's
/// dummy module), written to `dir`.
fn component(dir: &Path, world: &str) -> PathBuf {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("test.wit", WIT).unwrap();
    let world = resolve.select_world(package, Some(world)).unwrap();
    let mut module = dummy_module(&resolve, world, Mangling::Standard32);
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).unwrap();
    let bytes = ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .unwrap()
        .encode()
        .unwrap();
    let path = dir.join(format!("{}.wasm", resolve.worlds[world].name));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn the_importers_import_is_satisfied_by_the_definitions_export() {
    let dir = std::env::temp_dir().join(format!("compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let importer = component(&dir, "importer");
    let exporter = component(&dir, "exporter");
    let before = component_interface(&std::fs::read(&importer).unwrap()).unwrap();
    assert_eq!(before.imports, ["test:compose/api"]);

    let composed = compose(&importer, &exporter).unwrap();
    let after = component_interface(&composed).unwrap();
    assert!(after.imports.is_empty(), "{:?}", after.imports);
    assert_eq!(after.exports, ["run"]);

    // Nothing to plug in: a clear error naming both files.
    let error = compose(&exporter, &importer).unwrap_err().to_string();
    assert!(
        error.contains("exporter.wasm: cannot compose with"),
        "{error}"
    );
    assert!(error.contains("importer.wasm"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}
