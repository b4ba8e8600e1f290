//! Compiled components kept on disk between runs, so that a run compiles
//! only what changed. An entry is named by the component's SHA-256, the
//! harness's version and the engine's compatibility hash, and holds a
//! checksum of its payload: a corrupt, truncated or foreign entry is never
//! loaded, only compiled again and replaced. Entries are written to a
//! temporary file and renamed, so readers never see half an entry.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    pub fn new(dir: PathBuf) -> Self {
        DiskCache { dir }
    }

    /// `$HOST_HARNESS_CACHE`, else `$XDG_CACHE_HOME/host-harness`, else
    /// `~/.cache/host-harness`.
    pub fn default_dir() -> Option<PathBuf> {
        let env = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("HOST_HARNESS_CACHE")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("host-harness")))
            .or_else(|| env("HOME").map(|d| d.join(".cache/host-harness")))
    }

    fn entry(&self, engine: &Engine, key: &[u8; 32]) -> PathBuf {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let mut name = Sha256::new();
        name.update(key);
        name.update(env!("CARGO_PKG_VERSION"));
        // The key is of the bytes as given, but what is compiled is what
        // `interface.rs` makes of them (a Hyperware import renamed): a
        // change there must not meet an old compilation.
        name.update(include_str!("interface.rs"));
        name.update(hasher.finish().to_le_bytes());
        self.dir.join(format!("{}.cwasm", hex(&name.finalize())))
    }

    /// The compiled component for `key`, if a sound entry is on disk.
    pub fn load(&self, engine: &Engine, key: &[u8; 32]) -> Option<Component> {
        let payload = read_checked(&self.entry(engine, key))?;
        // SAFETY: the payload is what `Component::serialize` wrote for this
        // engine configuration (its checksum matches, and wasmtime checks
        // its own header and the engine's compatibility before use).
        unsafe { Component::deserialize(engine, &payload) }.ok()
    }

    /// Keeps `component` for later runs; failing to is not an error (the
    /// next run compiles again).
    pub fn store(&self, engine: &Engine, key: &[u8; 32], component: &Component) {
        if let Ok(payload) = component.serialize() {
            write_checked(&self.dir, &self.entry(engine, key), &payload);
        }
    }
}

impl DiskCache {
    /// Bytes kept under `name` (a content hash the caller computed), if a
    /// sound entry is on disk: what else is worth keeping between runs
    /// (a package's zip).
    pub fn load_bytes(&self, name: &[u8; 32]) -> Option<Vec<u8>> {
        read_checked(&self.bytes_entry(name))
    }

    /// Keeps `payload` under `name`; failing to is not an error.
    pub fn store_bytes(&self, name: &[u8; 32], payload: &[u8]) {
        write_checked(&self.dir, &self.bytes_entry(name), payload);
    }

    fn bytes_entry(&self, name: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.bytes", hex(name)))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An entry's payload, if its leading SHA-256 matches (a torn or
/// corrupted file reads as absent).
fn read_checked(path: &std::path::Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    let (checksum, payload) = bytes.split_at_checked(32)?;
    (Sha256::digest(payload)[..] == *checksum).then(|| payload.to_vec())
}

/// Writes `payload` behind its SHA-256 to a file of its own, then renames
/// it into place, so a reader never sees half an entry; failing to is not
/// an error.
fn write_checked(dir: &std::path::Path, target: &std::path::Path, payload: &[u8]) {
    let mut bytes = Sha256::digest(payload).to_vec();
    bytes.extend_from_slice(payload);
    let partial = target.with_extension(format!("{}.partial", std::process::id()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&partial, &bytes))
        .and_then(|_| std::fs::rename(&partial, target));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid component: its header alone.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn cache() -> DiskCache {
        let dir = std::env::temp_dir().join(format!("harness-disk-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        DiskCache::new(dir)
    }

    #[test]
    fn a_stored_component_loads_and_a_damaged_one_does_not() {
        let engine = Engine::default();
        let cache = cache();
        let key = [1; 32];
        assert!(cache.load(&engine, &key).is_none(), "empty at first");
        let component = Component::new(&engine, EMPTY_COMPONENT).unwrap();
        cache.store(&engine, &key, &component);
        assert!(cache.load(&engine, &key).is_some());
        // Flip a byte of the payload: the checksum no longer matches.
        let path = cache.entry(&engine, &key);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.load(&engine, &key).is_none());
        // Garbage and truncation too.
        std::fs::write(&path, b"short").unwrap();
        assert!(cache.load(&engine, &key).is_none());
        // An entry for another engine configuration is another file.
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other = Engine::new(&config).unwrap();
        assert_ne!(cache.entry(&engine, &key), cache.entry(&other, &key));
        std::fs::remove_dir_all(&cache.dir).unwrap();
    }
}
