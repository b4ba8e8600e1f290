//! Every wasm component the harness runs is compiled here and nowhere
//! else: [`load_component`] compiles, [`ComponentCache`] makes sure the
//! same bytes are compiled once per program, and `disk.rs` once per
//! machine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use wasmtime::component::Component;
use wasmtime::Engine;

use super::disk::DiskCache;
use super::interface;
use crate::types::Runtime;
use crate::util::lock;

/// A compiled process component, shared by every start of a process.
pub struct LoadedWasm {
    pub component: Component,
    /// The runtime it was built for, by the process interface it imports.
    pub built_for: Runtime,
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
    let built_for = interface::built_for(bytes)?;
    let linkable = interface::as_linked(bytes, built_for)?;
    let component = Component::new(engine, &linkable)
        .map_err(|e| format!("not a loadable WebAssembly component: {e:#}"))?;
    Ok(Arc::new(LoadedWasm {
        component,
        built_for,
    }))
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
    /// Bytes compiled before, by fingerprint, with their key.
    seen: Mutex<HashMap<u64, Vec<SeenBytes>>>,
    disk: Option<DiskCache>,
}

/// Bytes compiled before and the SHA-256 they are cached under.
type SeenBytes = (Arc<[u8]>, [u8; 32]);

type Compilation = OnceLock<Result<Arc<LoadedWasm>, String>>;

/// A fast hash of a component's bytes (not collision-proof: a match is
/// confirmed by comparing the bytes).
fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x6b69_6e6f_6465).hash_one(bytes)
}

impl ComponentCache {
    /// A cache that also keeps compilations on disk.
    pub fn with_disk(disk: Option<DiskCache>) -> Self {
        ComponentCache {
            compiled: Mutex::default(),
            seen: Mutex::default(),
            disk,
        }
    }

    /// Compiles `bytes` unless the same bytes were compiled before (in
    /// this program or, with a disk cache, any earlier one); returns their
    /// key.
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<[u8; 32], String> {
        // Bytes seen before (a child spawned again) are recognised by a
        // fast fingerprint and a comparison, not SHA-256 over every byte.
        let print = fingerprint(bytes);
        if let Some(key) = lock(&self.seen)
            .get(&print)
            .and_then(|seen| seen.iter().find(|(b, _)| **b == *bytes))
            .map(|(_, key)| *key)
        {
            return Ok(key);
        }
        let key: [u8; 32] = Sha256::digest(bytes).into();
        let key = self.compile(engine, bytes, key)?;
        let mut seen = lock(&self.seen);
        let same = seen.entry(print).or_default();
        if same.len() < 4 {
            same.push((Arc::from(bytes), key));
        }
        Ok(key)
    }

    /// Compiles `bytes`, known by `key`, unless that was done before.
    fn compile(&self, engine: &Engine, bytes: &[u8], key: [u8; 32]) -> Result<[u8; 32], String> {
        let cell = lock(&self.compiled).entry(key).or_default().clone();
        // Compiled outside the map's lock: other components need not wait.
        cell.get_or_init(|| {
            let cached = self.disk.as_ref().and_then(|d| d.load(engine, &key));
            if let Some(component) = cached {
                let built_for = interface::built_for(bytes)?;
                return Ok(Arc::new(LoadedWasm {
                    component,
                    built_for,
                }));
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

    const KINODE: &str = componentize::STANDARD_INTERFACE;
    const HYPERWARE: &str = componentize::HYPERWARE_STANDARD_INTERFACE;

    /// A component that imports `names`, each an instance with nothing in it.
    pub(crate) fn component_importing(names: &[&str]) -> Vec<u8> {
        use wasm_encoder::{ComponentImportSection, ComponentTypeRef, ComponentTypeSection};
        let mut component = wasm_encoder::Component::new();
        let mut types = ComponentTypeSection::new();
        types.instance(&wasm_encoder::InstanceType::new());
        component.section(&types);
        let mut imports = ComponentImportSection::new();
        for name in names {
            imports.import(*name, ComponentTypeRef::Instance(0));
        }
        component.section(&imports);
        component.finish()
    }

    #[test]
    fn the_same_bytes_compile_once() {
        let engine = Engine::default();
        let cache = ComponentCache::default();
        let bytes = component_importing(&[KINODE]);
        let key = cache.load(&engine, &bytes).unwrap();
        let first = cache.get(&key).unwrap();
        assert_eq!(cache.load(&engine, &bytes).unwrap(), key);
        assert!(Arc::ptr_eq(&first, &cache.get(&key).unwrap()));
    }

    #[test]
    fn a_hyperware_component_is_linked_under_kinodes_name() {
        let engine = Engine::default();
        let cache = ComponentCache::default();
        let bytes = component_importing(&[HYPERWARE, "wasi:io/streams@0.2.3"]);
        let loaded = cache.get(&cache.load(&engine, &bytes).unwrap()).unwrap();
        assert_eq!(loaded.built_for, Runtime::Hyperdrive);
        let imports: Vec<_> = loaded
            .component
            .component_type()
            .imports(&engine)
            .map(|(name, _)| name.to_string())
            .collect();
        assert_eq!(imports, [KINODE, "wasi:io/streams@0.2.3"]);
    }

    #[test]
    fn a_nested_component_keeps_its_import_name_and_the_whole_stays_valid() {
        use wasm_encoder::{
            Component, ComponentExportKind, ComponentImportSection, ComponentInstanceSection,
            ComponentTypeRef, ComponentTypeSection, InstanceType, NestedComponentSection,
        };
        let importing = |component: &mut Component| {
            let mut types = ComponentTypeSection::new();
            types.instance(&InstanceType::new());
            component.section(&types);
            let mut imports = ComponentImportSection::new();
            imports.import(HYPERWARE, ComponentTypeRef::Instance(0));
            component.section(&imports);
        };
        // What `compose` makes: an inner component importing the process
        // interface, instantiated with the outer one's import by name.
        let mut inner = Component::new();
        importing(&mut inner);
        let mut outer = Component::new();
        importing(&mut outer);
        outer.section(&NestedComponentSection(&inner));
        let mut instances = ComponentInstanceSection::new();
        instances.instantiate(0, [(HYPERWARE, ComponentExportKind::Instance, 0)]);
        outer.section(&instances);
        let outer = outer.finish();
        let renamed = interface::as_linked(&outer, interface::built_for(&outer).unwrap())
            .unwrap()
            .into_owned();
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&renamed)
            .unwrap();
        assert_eq!(interface::built_for(&renamed).unwrap(), Runtime::Kinode);
    }

    #[test]
    fn a_component_with_both_interfaces_or_neither_is_refused() {
        let engine = Engine::default();
        let cache = ComponentCache::default();
        let both = component_importing(&[KINODE, HYPERWARE]);
        let err = cache.load(&engine, &both).unwrap_err();
        assert!(
            err.starts_with("imports both kinode:process/standard@1.0.0 and hyperware"),
            "{err}"
        );
        let neither = component_importing(&["wasi:io/streams@0.2.3"]);
        let err = cache.load(&engine, &neither).unwrap_err();
        assert!(
            err.contains("imports neither") && err.contains("its imports: wasi:io/streams@0.2.3)"),
            "{err}"
        );
        let empty = b"\0asm\x0d\0\x01\0";
        let err = cache.load(&engine, empty).unwrap_err();
        assert!(err.contains("its imports: none)"), "{err}");
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
        assert_eq!(
            err,
            "not a loadable WebAssembly component: it does not start with a component header"
        );
    }
}
