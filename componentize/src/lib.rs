//! Turns the `wasm32-wasip1` core module that `cargo build` writes for a
//! Kinode (or Hyperware) process into the WebAssembly component a node
//! loads.
//!
//! This is what `kit build` does with `wasm-tools component new --adapt`:
//! the module is wrapped with the WASI preview1 *reactor* adapter (a process
//! is a library the kernel calls into, not a command with `main`). Here the
//! adapter comes from the `wasi-preview1-component-adapter-provider` crate,
//! so a build needs no download and no external tool. Which adapter follows
//! from the SDK the module was built with: `kinode_process_lib` modules get
//! wasmtime 27's (what kit 0.9 uses for Kinode 1.0), `hyperware_process_lib`
//! modules wasmtime 33's (kit 3.x, hyperdrive; it imports WASI 0.2.3).

use std::path::{Path, PathBuf};

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasi_preview1_component_adapter_provider_33::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER as REACTOR_ADAPTER_33;
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

/// The interface every Kinode process imports.
pub const STANDARD_INTERFACE: &str = "kinode:process/standard@1.0.0";
/// The same interface under Hyperware's name.
pub const HYPERWARE_STANDARD_INTERFACE: &str = "hyperware:process/standard@1.0.0";
/// The function the kernel calls to start a process.
pub const INIT_EXPORT: &str = "init";

/// Why a module could not be made into a process component.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a WebAssembly file (no `\\0asm` header)", path.display())]
    NotWasm { path: PathBuf },
    #[error(
        "{}: already a component; pass the core module cargo wrote \
         (target/wasm32-wasip1/<profile>/<crate>.wasm)",
        path.display()
    )]
    AlreadyComponent { path: PathBuf },
    #[error("{}: invalid core module: {reason}", path.display())]
    InvalidModule { path: PathBuf, reason: String },
    #[error(
        "{}: exports no `init` function; a Kinode process must target world \
         `process-v1` and call `call_init!(your_init)`",
        path.display()
    )]
    NoInit { path: PathBuf },
    #[error("{}: cannot make a component: {reason:#}", path.display())]
    Encode {
        path: PathBuf,
        reason: anyhow::Error,
    },
    #[error("{}: {reason}", path.display())]
    BadComponent { path: PathBuf, reason: String },
    #[error("{}: cannot compose with {}: {reason:#}", path.display(), with.display())]
    Compose {
        path: PathBuf,
        with: PathBuf,
        reason: anyhow::Error,
    },
}

/// The top-level imports and exports of a component, by name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Interface {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Reads the core module at `input` and writes the process component to
/// `output`, returning what the component imports and exports.
pub fn componentize_file(input: &Path, output: &Path) -> Result<Interface, Error> {
    let module = std::fs::read(input).map_err(|source| Error::Read {
        path: input.to_owned(),
        source,
    })?;
    let component = componentize(&module, input)?;
    let interface = check_component(&component, output)?;
    // Without `init` it is an API component: it exports an interface for
    // processes to be composed with (`compose`), and is no process itself.
    if interface.exports.iter().any(|e| e == INIT_EXPORT) {
        check_process_shape(&interface, output)?;
    }
    std::fs::write(output, &component).map_err(|source| Error::Write {
        path: output.to_owned(),
        source,
    })?;
    Ok(interface)
}

/// Makes a process component from core module bytes; `path` only names the
/// input in errors.
pub fn componentize(module: &[u8], path: &Path) -> Result<Vec<u8>, Error> {
    let path = path.to_owned();
    if Parser::is_component(module) {
        return Err(Error::AlreadyComponent { path });
    }
    if !Parser::is_core_wasm(module) {
        return Err(Error::NotWasm { path });
    }
    let (imports, exports) = core_names(module).map_err(|e| Error::InvalidModule {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    // `init`, or an interface's functions (`package:name/interface#func`):
    // an API component kit composes into the processes that import it.
    let exports_interface = exports.iter().any(|name| name.contains('#'));
    if !exports.iter().any(|name| name == INIT_EXPORT) && !exports_interface {
        return Err(Error::NoInit { path });
    }
    let adapter = if imports.iter().any(|m| m == HYPERWARE_STANDARD_INTERFACE) {
        REACTOR_ADAPTER_33
    } else {
        WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
    };
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|encoder| encoder.adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter))
        .and_then(|mut encoder| encoder.encode())
        .map_err(|reason| Error::Encode { path, reason })
}

/// Validates `component` and checks it has the shape of a Kinode process:
/// it imports the standard interface (Kinode's or Hyperware's, not both)
/// and exports `init`. `path` only names
/// the component in errors.
pub fn check_process_component(component: &[u8], path: &Path) -> Result<Interface, Error> {
    let interface = check_component(component, path)?;
    check_process_shape(&interface, path)?;
    Ok(interface)
}

/// Validates `component` and reads its top-level imports and exports.
fn check_component(component: &[u8], path: &Path) -> Result<Interface, Error> {
    let bad = |reason: String| Error::BadComponent {
        path: path.to_owned(),
        reason,
    };
    if !Parser::is_component(component) {
        return Err(bad("not a WebAssembly component".into()));
    }
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(component)
        .map_err(|e| bad(format!("invalid component: {e}")))?;
    component_interface(component).map_err(|e| bad(e.to_string()))
}

/// A process imports one standard interface and exports `init`.
fn check_process_shape(interface: &Interface, path: &Path) -> Result<(), Error> {
    let bad = |reason: String| Error::BadComponent {
        path: path.to_owned(),
        reason,
    };
    let imports = |name: &str| interface.imports.iter().any(|i| i == name);
    match (
        imports(STANDARD_INTERFACE),
        imports(HYPERWARE_STANDARD_INTERFACE),
    ) {
        (true, false) | (false, true) => {}
        (true, true) => {
            return Err(bad(format!(
                "imports both `{STANDARD_INTERFACE}` and `{HYPERWARE_STANDARD_INTERFACE}`: \
                 build each process against one SDK"
            )))
        }
        (false, false) => {
            return Err(bad(format!(
                "does not import `{STANDARD_INTERFACE}` or `{HYPERWARE_STANDARD_INTERFACE}` \
                 (imports: {})",
                interface.imports.join(", ")
            )))
        }
    }
    if !interface.exports.iter().any(|e| e == INIT_EXPORT) {
        return Err(bad(format!("does not export `{INIT_EXPORT}`")));
    }
    Ok(())
}

/// A core module's imports (by module name: `kinode:process/standard@1.0.0`,
/// `wasi_snapshot_preview1`, ...) and exports, in one pass.
fn core_names(module: &[u8]) -> wasmparser::Result<(Vec<String>, Vec<String>)> {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for payload in Parser::new(0).parse_all(module) {
        match payload? {
            Payload::ImportSection(section) => {
                for import in section {
                    imports.push(import?.module.to_owned());
                }
            }
            Payload::ExportSection(section) => {
                for export in section {
                    exports.push(export?.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

/// Plugs `definition`'s exports into the matching imports of the
/// component at `importer` and returns the result: what kit does with
/// `wasm-tools compose IMPORTER -d DEFINITION` when a process imports an
/// interface another process of the package exports (e.g. kit's
/// `file-transfer` importing its worker's API).
pub fn compose(importer: &Path, definition: &Path) -> Result<Vec<u8>, Error> {
    let failed = |reason: anyhow::Error| Error::Compose {
        path: importer.to_owned(),
        with: definition.to_owned(),
        reason,
    };
    for path in [importer, definition] {
        if !path.is_file() {
            return Err(Error::Read {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
    }
    let config = wasm_compose::config::Config {
        definitions: vec![definition.to_owned()],
        ..Default::default()
    };
    wasm_compose::composer::ComponentComposer::new(importer, &config)
        .compose()
        .map_err(failed)
}

/// The top-level import and export names of a component. Nested modules
/// and components are stepped over unread: the parent parser resumes after
/// their bytes.
pub fn component_interface(component: &[u8]) -> wasmparser::Result<Interface> {
    let mut interface = Interface::default();
    let mut parser = Parser::new(0);
    let mut offset = 0;
    loop {
        let (consumed, payload) = match parser.parse(&component[offset..], true)? {
            wasmparser::Chunk::Parsed { consumed, payload } => (consumed, payload),
            // With `eof` set the parser reports truncation as an error.
            wasmparser::Chunk::NeedMoreData(_) => unreachable!("parsing with eof"),
        };
        offset += consumed;
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => offset = unchecked_range.end.min(component.len()),
            Payload::ComponentImportSection(section) => {
                for import in section {
                    interface.imports.push(import?.name.0.to_owned());
                }
            }
            Payload::ComponentExportSection(section) => {
                for export in section {
                    interface.exports.push(export?.name.0.to_owned());
                }
            }
            Payload::End(_) => return Ok(interface),
            _ => {}
        }
    }
}
