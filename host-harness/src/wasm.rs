//! Every wasm component the harness runs is compiled here and nowhere
//! else, so that caching compiled components (and measuring loads) is a
//! change to this one function.

use std::sync::Arc;

use wasmtime::component::Component;
use wasmtime::Engine;

/// A compiled process component, shared by every start of a process.
pub struct LoadedWasm {
    pub component: Component,
    /// Size of the component file, for the report.
    pub size: usize,
}

/// Compiles `bytes`. The error says why a node would not run them.
pub fn load_component(engine: &Engine, bytes: &[u8]) -> Result<Arc<LoadedWasm>, String> {
    if wasmparser_is_core_module(bytes) {
        return Err(
            "a core wasm module, not a component: build it with `make build`, which runs \
             componentize"
                .into(),
        );
    }
    let component = Component::new(engine, bytes)
        .map_err(|e| format!("not a loadable WebAssembly component: {e:#}"))?;
    Ok(Arc::new(LoadedWasm {
        component,
        size: bytes.len(),
    }))
}

/// A core module starts with the wasm magic and version 1; a component
/// has the same magic and a different version/layer.
fn wasmparser_is_core_module(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0asm\x01\0\0\0")
}
