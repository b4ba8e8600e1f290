//! The installable archive: `target/<package>:<publisher>.zip` of `pkg/`,
//! byte for byte as kit 0.9 writes it, and its SHA-256, which the app store
//! compares with `code_hashes[current_version]` in `metadata.json`.
//!
//! kit's rules: every entry under `pkg/` sorted by path (component by
//! component, so `ui/` and its files come before `ui.txt`), directories as
//! entries of their own, Deflate, unix mode 0755, every timestamp
//! 2023-06-19 00:00:00, written with the `zip` crate 0.6. Any other zip
//! writer gives other bytes, hence another hash.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::json::Json;
use crate::types::InputError;

/// A written archive.
#[derive(Debug, Clone)]
pub struct Archive {
    pub path: PathBuf,
    /// Lowercase hex, no `0x`: what goes in `code_hashes`.
    pub sha256: String,
}

/// Zips `package_dir/pkg` into `package_dir/target/<package>:<publisher>.zip`.
///
/// ```
/// // The template, built by `make build`.
/// let archive = host_harness::package::archive::write(std::path::Path::new("..")).unwrap();
/// assert!(archive.path.ends_with("target/spawn:template.os.zip"));
/// assert_eq!(archive.sha256.len(), 64);
/// // The same tree always gives the same bytes, so the same hash.
/// let again = host_harness::package::archive::write(std::path::Path::new("..")).unwrap();
/// assert_eq!(archive.sha256, again.sha256);
/// ```
pub fn write(package_dir: &Path) -> Result<Archive, InputError> {
    // An archive a node could not install is no use: check it first.
    let package = super::Package::load(package_dir)?;
    for process in &package.processes {
        if !process.wasm_file.is_file() {
            return Err(InputError::invalid(
                &process.wasm_file,
                format!(
                    "process `{}` has no wasm here; run `make build` first",
                    process.id
                ),
            ));
        }
    }
    let props = &package.metadata.properties;
    let bytes = zip_dir(&package_dir.join("pkg"))?;
    let target = package_dir.join("target");
    let path = target.join(format!("{}:{}.zip", props.package_name, props.publisher));
    std::fs::create_dir_all(&target)
        .and_then(|()| std::fs::write(&path, &bytes))
        .map_err(|e| InputError::invalid(&path, format!("cannot write: {e}")))?;
    Ok(Archive {
        path,
        sha256: sha256_hex(&bytes),
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The archive of everything under `dir`, by kit's rules.
pub fn zip_dir(dir: &Path) -> Result<Vec<u8>, InputError> {
    // `Path`'s order compares component by component, as kit's sort does.
    let entries = crate::util::package_tree(dir)?;
    let options = zip::write::FileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755)
        .last_modified_time(
            zip::DateTime::from_date_and_time(2023, 6, 19, 0, 0, 0).expect("a valid date"),
        );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, entry) in entries {
        let name = path
            .strip_prefix(dir)
            .expect("walked from dir")
            .to_string_lossy()
            .into_owned();
        let failed = |e: &dyn std::fmt::Display| {
            InputError::invalid(&path, format!("cannot add to the archive: {e}"))
        };
        // As kit: what reads as a file (a link to one too) is a file entry,
        // anything else a directory entry.
        if entry == crate::util::Entry::Dir {
            zip.add_directory(name, options).map_err(|e| failed(&e))?;
        } else {
            let bytes = std::fs::read(&path).map_err(|source| InputError::Read {
                path: path.clone(),
                source,
            })?;
            zip.start_file(name, options).map_err(|e| failed(&e))?;
            zip.write_all(&bytes).map_err(|e| failed(&e))?;
        }
    }
    let cursor = zip
        .finish()
        .map_err(|e| InputError::invalid(dir, format!("cannot finish the archive: {e}")))?;
    Ok(cursor.into_inner())
}

/// [`zip_dir`], remembered: a package installed again unchanged (every
/// seed of a sweep, every node of a network) is zipped once. Keyed by
/// each entry's path, size and modification time (a scenario's copy of
/// a package is hard links, so it shares them).
pub fn zip_dir_cached(dir: &Path) -> Result<Arc<Vec<u8>>, InputError> {
    type Key = Vec<(PathBuf, u64, Option<std::time::SystemTime>)>;
    static ZIPPED: Mutex<Vec<(Key, Arc<Vec<u8>>)>> = Mutex::new(Vec::new());
    const KEPT: usize = 32;
    let key: Key = crate::util::package_tree(dir)?
        .into_iter()
        .map(|(path, _)| {
            let meta = std::fs::metadata(&path).ok();
            let relative = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
            (
                relative,
                meta.as_ref().map_or(0, |m| m.len()),
                meta.and_then(|m| m.modified().ok()),
            )
        })
        .collect();
    if let Some((_, zip)) = crate::util::lock(&ZIPPED).iter().find(|(k, _)| *k == key) {
        return Ok(zip.clone());
    }
    // Deflating costs far more than reading and hashing: an unchanged
    // package's zip comes from the disk cache.
    let disk = crate::host::WasmHost::disk_cache();
    let name = match &disk {
        Some(_) => Some(tree_hash(dir)?),
        None => None,
    };
    let kept = disk
        .as_ref()
        .zip(name.as_ref())
        .and_then(|(d, n)| d.load_bytes(n));
    let zip = match kept {
        Some(bytes) => Arc::new(bytes),
        None => {
            let zip = zip_dir(dir)?;
            if let (Some(disk), Some(name)) = (&disk, &name) {
                disk.store_bytes(name, &zip);
            }
            Arc::new(zip)
        }
    };
    let mut zipped = crate::util::lock(&ZIPPED);
    if zipped.len() >= KEPT {
        zipped.remove(0);
    }
    zipped.push((key, zip.clone()));
    Ok(zip)
}

/// A hash of everything [`zip_dir`] puts in the archive of `dir` (each
/// entry's name, kind and bytes), and of the rules it zips by.
fn tree_hash(dir: &Path) -> Result<[u8; 32], InputError> {
    let mut hash = Sha256::new();
    hash.update(b"kit zip 0.9, deflate, 0755, 2023-06-19\0");
    for (path, entry) in crate::util::package_tree(dir)? {
        let name = path.strip_prefix(dir).unwrap_or(&path);
        hash.update(name.to_string_lossy().as_bytes());
        if entry == crate::util::Entry::Dir {
            hash.update(b"\0dir\0");
        } else {
            let bytes = std::fs::read(&path).map_err(|source| InputError::Read {
                path: path.clone(),
                source,
            })?;
            hash.update(b"\0file\0");
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(&bytes);
        }
    }
    Ok(hash.finalize().into())
}

/// `code_hashes[current_version]` against the archive's hash: `Err` says
/// what is wrong and how to fix it.
pub fn check(package_dir: &Path, archive: &Archive) -> Result<(), InputError> {
    let (metadata, path) = super::load_metadata(package_dir)?;
    let version = &metadata.properties.current_version;
    match metadata.properties.code_hashes.get(version) {
        Some(hash) if *hash == archive.sha256 => Ok(()),
        recorded => Err(InputError::invalid(
            path,
            format!(
                "properties.code_hashes[\"{version}\"] is {}, but {} hashes to {}; \
                 run `make package UPDATE_HASH=1` to record it",
                match recorded {
                    None => "missing".to_string(),
                    Some(h) if h.is_empty() => "empty".to_string(),
                    Some(h) => format!("`{h}`"),
                },
                archive.path.display(),
                archive.sha256,
            ),
        )),
    }
}

/// Writes `hash` into `metadata.json` as `code_hashes[current_version]`,
/// keeping every other byte of meaning (key order, other versions).
pub fn record_hash(package_dir: &Path, hash: &str) -> Result<(), InputError> {
    let (metadata, path) = super::load_metadata(package_dir)?;
    let mut json = Json::read(&path)?;
    let version = metadata.properties.current_version.clone();
    let Some(Json::Object(hashes)) = json
        .get_mut("properties")
        .and_then(|p| p.get_mut("code_hashes"))
    else {
        return Err(InputError::invalid(
            &path,
            "properties.code_hashes must be an object",
        ));
    };
    hashes.insert(version, Json::String(hash.into()));
    json.write(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/archive/pkg")
    }

    /// The fixture's archive as kit 0.9.1 makes it. Computed once by a
    /// separate program using kit's pinned crates (zip 0.6.6, flate2
    /// 1.0.32, miniz_oxide 0.8.0) and its options, and checked with
    /// `unzip -Z`: 9 entries, deflated files, stored directories, all
    /// `-rwxr-xr-x`/`drwxr-xr-x`, 23-Jun-19 00:00.
    const KIT_SHA256: &str = "2f4ddabf7499adfb6dafdc2eb600d0fd9c928a5a1e186afa3fafa0823eb13496";

    #[test]
    fn the_fixture_zips_to_the_bytes_kit_writes() {
        assert_eq!(sha256_hex(&zip_dir(&fixture()).unwrap()), KIT_SHA256);
    }

    #[test]
    fn two_archives_of_one_tree_are_identical() {
        assert_eq!(zip_dir(&fixture()).unwrap(), zip_dir(&fixture()).unwrap());
    }

    #[test]
    fn entries_are_sorted_by_path_with_directories_and_kits_attributes() {
        let bytes = zip_dir(&fixture()).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut names = Vec::new();
        for i in 0..archive.len() {
            let entry = archive.by_index(i).unwrap();
            let is_dir = entry.is_dir();
            assert_eq!(
                entry.unix_mode(),
                Some(if is_dir { 0o40755 } else { 0o100755 }),
                "{}",
                entry.name()
            );
            let time = entry.last_modified();
            assert_eq!((time.year(), time.month(), time.day()), (2023, 6, 19));
            assert_eq!((time.hour(), time.minute(), time.second()), (0, 0, 0));
            if !is_dir {
                assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
            }
            names.push(entry.name().to_string());
        }
        assert_eq!(
            names,
            [
                "app.wasm",
                "manifest.json",
                "ui/",
                "ui/assets/",
                "ui/assets/app.js",
                "ui/index.html",
                "ui.d/",
                "ui.d/note.txt",
                "ui.txt"
            ]
        );
    }

    #[test]
    fn a_symbolic_link_to_a_directory_is_an_entry_and_not_followed() {
        let dir = std::env::temp_dir().join(format!("archive-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.txt"), "a").unwrap();
        // A loop: followed, it would never end.
        std::os::unix::fs::symlink(&dir, dir.join("sub/loop")).unwrap();
        let bytes = zip_dir(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let names: Vec<String> = (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().name().to_string())
            .collect();
        assert_eq!(names, ["sub/", "sub/a.txt", "sub/loop/"]);
    }

    #[test]
    fn file_times_and_modes_do_not_change_the_hash() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("archive-times-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        crate::util::copy_tree(&fixture(), &dir).unwrap();
        // A fresh copy has new times; make the modes differ too.
        let file = dir.join("ui.txt");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let hash = sha256_hex(&zip_dir(&dir).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(hash, KIT_SHA256);
    }
}
