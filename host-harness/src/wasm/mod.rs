//! Every wasm component the harness runs is compiled here and nowhere
//! else: [`load_component`] compiles, [`ComponentCache`] makes sure the
//! same bytes are compiled once per program, and `disk.rs` once per
//! machine.

mod disk;

pub use disk::DiskCache;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::node::lock;
use wasmtime::component::Component;
use wasmtime::Engine;

/// A compiled process component, shared by every start of a process.
pub struct LoadedWasm {
    pub component: Component,
}

/// Compiles `bytes`. The error says why a node would not run them.
pub fn load_component(engine: &Engine, bytes: &[u8]) -> Result<Arc<LoadedWasm>, String> {
    if is_core_module(bytes) {
        return Err(
            "a core wasm module, not a component: build it with `make build`, which runs \
             componentize"
                .into(),
        );
    }
    let component = Component::new(engine, bytes)
        .map_err(|e| format!("not a loadable WebAssembly component: {e:#}"))?;
    Ok(Arc::new(LoadedWasm { component }))
}

/// A core module starts with the wasm magic and version 1; a component
/// has the same magic and a different version/layer.
fn is_core_module(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0asm\x01\0\0\0")
}

/// Compiled components by the SHA-256 of their bytes: processes that share
/// a file, a parent spawning the same child again, restarts and every run
/// in this program all reuse one compilation. Two loads of the same bytes
/// at once compile once: the second waits for the first.
#[derive(Default)]
pub struct ComponentCache {
    compiled: Mutex<HashMap<[u8; 32], Arc<Compilation>>>,
    disk: Option<DiskCache>,
}

type Compilation = OnceLock<Result<Arc<LoadedWasm>, String>>;

impl ComponentCache {
    /// A cache that also keeps compilations on disk.
    pub fn with_disk(disk: Option<DiskCache>) -> Self {
        ComponentCache {
            compiled: Mutex::default(),
            disk,
        }
    }

    /// Compiles `bytes` unless the same bytes were compiled before (in
    /// this program or, with a disk cache, any earlier one); returns their
    /// key.
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<[u8; 32], String> {
        let key: [u8; 32] = Sha256::digest(bytes).into();
        let cell = lock(&self.compiled).entry(key).or_default().clone();
        // Compiled outside the map's lock: other components need not wait.
        cell.get_or_init(|| {
            let cached = self.disk.as_ref().and_then(|d| d.load(engine, &key));
            if let Some(component) = cached {
                return Ok(Arc::new(LoadedWasm { component }));
            }
            let loaded = load_component(engine, bytes)?;
            if let Some(disk) = &self.disk {
                disk.store(engine, &key, &loaded.component);
            }
            Ok(loaded)
        })
        .as_ref()
        .map(|_| key)
        .map_err(Clone::clone)
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<LoadedWasm>> {
        let cell = lock(&self.compiled).get(key)?.clone();
        cell.get()?.as_ref().ok().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid component: its header alone.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn the_same_bytes_compile_once() {
        let engine = Engine::default();
        let cache = ComponentCache::default();
        let key = cache.load(&engine, EMPTY_COMPONENT).unwrap();
        let first = cache.get(&key).unwrap();
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap(), key);
        assert!(Arc::ptr_eq(&first, &cache.get(&key).unwrap()));
    }

    #[test]
    fn core_modules_and_junk_are_refused_with_a_reason() {
        let engine = Engine::default();
        let cache = ComponentCache::default();
        let err = cache.load(&engine, b"\0asm\x01\0\0\0").err().unwrap();
        assert!(
            err.contains("not a component: build it with `make build`"),
            "{err}"
        );
        let err = cache.load(&engine, b"junk").err().unwrap();
        assert!(
            err.starts_with("not a loadable WebAssembly component"),
            "{err}"
        );
    }
}
