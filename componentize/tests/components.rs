//! The components `make build` wrote to `pkg/` have the form a Kinode node
//! loads, and the tool refuses bad input with a clear error.

use std::path::{Path, PathBuf};

use componentize::{
    check_process_component, componentize, Error, HYPERWARE_STANDARD_INTERFACE, STANDARD_INTERFACE,
};

fn built(name: &str) -> (PathBuf, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pkg")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `make build` (or `make test`) first",
            path.display()
        )
    });
    (path, bytes)
}

#[test]
fn built_processes_are_kinode_process_components() {
    for name in ["parent.wasm", "child.wasm"] {
        let (path, bytes) = built(name);
        let interface = check_process_component(&bytes, &path).unwrap();
        assert!(interface.imports.iter().any(|i| i == STANDARD_INTERFACE));
        assert_eq!(interface.exports, ["init"], "{name}");
        // Only WASI preview 2 besides the Kinode interface: the reactor
        // adapter replaced every preview1 import.
        for import in &interface.imports {
            assert!(
                import == STANDARD_INTERFACE
                    || import.starts_with("wasi:") && import.contains("@0.2."),
                "{name} imports {import}"
            );
        }
    }
}

/// `make test-hyperware` builds the same processes with
/// hyperware_process_lib: componentize gives them wasmtime 33's adapter,
/// which imports WASI 0.2.3, as kit 3.x does.
#[test]
fn hyperware_builds_import_hyperwares_interface_and_wasi_0_2_3() {
    for name in ["parent.wasm", "child.wasm"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/hyperware-package/pkg")
            .join(name);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run `make test` first", path.display()));
        let interface = check_process_component(&bytes, &path).unwrap();
        assert_eq!(interface.exports, ["init"], "{name}");
        assert!(interface
            .imports
            .iter()
            .any(|i| i == HYPERWARE_STANDARD_INTERFACE));
        for import in &interface.imports {
            assert!(
                import == HYPERWARE_STANDARD_INTERFACE
                    || import.starts_with("wasi:") && import.ends_with("@0.2.3"),
                "{name} imports {import}"
            );
        }
    }
}

#[test]
fn a_module_importing_both_interfaces_is_refused() {
    // The check reads a component's imports; one with both names is a
    // process no node runs.
    let both = wasm_encoder_component(&[STANDARD_INTERFACE, HYPERWARE_STANDARD_INTERFACE]);
    let error = check_process_component(&both, Path::new("both.wasm"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("imports both"), "{error}");
}

fn wasm_encoder_component(imports: &[&str]) -> Vec<u8> {
    use wasm_encoder::{ComponentImportSection, ComponentTypeRef, ComponentTypeSection};
    let mut component = wasm_encoder::Component::new();
    let mut types = ComponentTypeSection::new();
    types.instance(&wasm_encoder::InstanceType::new());
    component.section(&types);
    let mut section = ComponentImportSection::new();
    for name in imports {
        section.import(name, ComponentTypeRef::Instance(0));
    }
    component.section(&section);
    component.finish()
}

#[test]
fn built_processes_validate_with_the_kinode_runtime_parser() {
    // Kinode 1.0 runs wasmtime 27, which parses with wasmparser 0.219.
    use wasmparser_kinode_runtime::{Validator, WasmFeatures};
    for name in ["parent.wasm", "child.wasm"] {
        let (_, bytes) = built(name);
        Validator::new_with_features(WasmFeatures::default())
            .validate_all(&bytes)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn rejects_a_file_that_is_not_wasm() {
    let err = componentize(b"#!/bin/sh\necho hi\n", Path::new("x/notes.txt")).unwrap_err();
    assert!(matches!(err, Error::NotWasm { .. }));
    assert!(
        err.to_string()
            .starts_with("x/notes.txt: not a WebAssembly file"),
        "{err}"
    );
}

#[test]
fn rejects_a_module_that_already_is_a_component() {
    let (path, bytes) = built("child.wasm");
    let err = componentize(&bytes, &path).unwrap_err();
    assert!(matches!(err, Error::AlreadyComponent { .. }), "{err}");
    assert!(err.to_string().contains("already a component"), "{err}");
}

#[test]
fn rejects_a_module_without_init() {
    // The smallest valid core module: a header and nothing else.
    let empty = b"\0asm\x01\0\0\0";
    let err = componentize(empty, Path::new("empty.wasm")).unwrap_err();
    assert!(matches!(err, Error::NoInit { .. }), "{err}");
    assert!(err.to_string().contains("exports no `init`"), "{err}");
}

#[test]
fn rejects_a_truncated_module() {
    let err = componentize(b"\0asm\x01\0\0\0\x07\x05", Path::new("cut.wasm")).unwrap_err();
    assert!(matches!(err, Error::InvalidModule { .. }), "{err}");
}

#[test]
fn a_missing_input_names_its_path() {
    let err = componentize::componentize_file(Path::new("no/such.wasm"), Path::new("out.wasm"))
        .unwrap_err();
    assert!(
        err.to_string().starts_with("no/such.wasm: cannot read"),
        "{err}"
    );
}
