//! The vfs's effect on real files. Like the node's, one table of open
//! files per node, keyed by the path on disk: every process that uses a
//! path shares its handle and so its cursor, which `Seek`, `ReadExact`,
//! `ReadToEnd`, `WriteAll` and `Append` move, and which lasts until
//! `CloseFile` (`Read` and `Write` bypass it).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::util::lock;

use super::VfsError;

fn io(e: std::io::Error) -> VfsError {
    VfsError::IoError(e.to_string())
}

#[derive(Default)]
pub struct OpenFiles {
    open: Mutex<HashMap<PathBuf, File>>,
}

impl OpenFiles {
    /// Runs `f` on the shared handle of `path`, opening it (without
    /// creating or truncating) if nobody has.
    pub fn with<R>(
        &self,
        path: &Path,
        f: impl FnOnce(&mut File) -> std::io::Result<R>,
    ) -> Result<R, VfsError> {
        self.with_options(path, false, false, f)
    }

    fn with_options<R>(
        &self,
        path: &Path,
        create: bool,
        truncate: bool,
        f: impl FnOnce(&mut File) -> std::io::Result<R>,
    ) -> Result<R, VfsError> {
        let mut open = lock(&self.open);
        if !open.contains_key(path) {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(create)
                .truncate(truncate)
                .open(path)
                .map_err(io)?;
            open.insert(path.to_owned(), file);
        }
        let file = open.get_mut(path).expect("just inserted");
        f(file).map_err(io)
    }

    /// `CreateFile`: a fresh, empty file with a fresh handle.
    pub fn create(&self, path: &Path) -> Result<(), VfsError> {
        self.close(path);
        self.with_options(path, true, true, |_| Ok(()))
    }

    /// `OpenFile`: opens (creating if asked, never truncating) and puts the
    /// shared cursor back at the start.
    pub fn open(&self, path: &Path, create: bool) -> Result<(), VfsError> {
        self.with_options(path, create, false, |file| {
            file.seek(SeekFrom::Start(0)).map(|_| ())
        })
    }

    pub fn close(&self, path: &Path) {
        lock(&self.open).remove(path);
    }

    pub fn write_all(&self, path: &Path, bytes: &[u8]) -> Result<(), VfsError> {
        self.with(path, |file| file.write_all(bytes))
    }

    pub fn append(&self, path: &Path, bytes: &[u8]) -> Result<(), VfsError> {
        self.with(path, |file| {
            file.seek(SeekFrom::End(0))?;
            file.write_all(bytes)
        })
    }

    pub fn read_to_end(&self, path: &Path) -> Result<Vec<u8>, VfsError> {
        self.with(path, |file| {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map(|_| bytes)
        })
    }

    pub fn read_exact(&self, path: &Path, length: u64) -> Result<Vec<u8>, VfsError> {
        self.with(path, |file| {
            // Never allocate more than the file holds: read what is there
            // and fail as `read_exact` does when it is short.
            let mut bytes = Vec::new();
            file.take(length).read_to_end(&mut bytes)?;
            if (bytes.len() as u64) < length {
                let short = std::io::ErrorKind::UnexpectedEof;
                return Err(std::io::Error::new(short, "failed to fill whole buffer"));
            }
            Ok(bytes)
        })
    }

    pub fn read_to_string(&self, path: &Path) -> Result<String, VfsError> {
        self.with(path, |file| {
            let mut text = String::new();
            file.read_to_string(&mut text).map(|_| text)
        })
    }

    /// SHA-256 of the whole file; the cursor is left at the end.
    pub fn hash(&self, path: &Path) -> Result<[u8; 32], VfsError> {
        self.with(path, |file| {
            file.seek(SeekFrom::Start(0))?;
            let mut hasher = Sha256::new();
            std::io::copy(file, &mut hasher)?;
            Ok(hasher.finalize().into())
        })
    }
}

/// `AddZip`: unpacks `bytes` into `dir` entry by entry, as the node does:
/// directories from their own entries, files without making parents.
pub fn unzip(bytes: &[u8], dir: &Path) -> Result<(), VfsError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| VfsError::ParseError {
            error: e.to_string(),
            path: dir.display().to_string(),
        })?;
    std::fs::create_dir_all(dir).map_err(io)?;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|_| VfsError::UnzipError)?;
        let name = entry.name().to_string();
        // Only names that stay inside `dir`; a node writes any name.
        if name.split(['/', '\\']).any(|part| part == "..") || name.starts_with('/') {
            return Err(VfsError::UnzipError);
        }
        let target = dir.join(&name);
        if name.ends_with('/') || name.ends_with('\\') {
            std::fs::create_dir_all(&target).map_err(io)?;
        } else {
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents).map_err(io)?;
            std::fs::write(&target, contents).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            if name.ends_with('/') {
                writer
                    .add_directory(*name, zip::write::FileOptions::default())
                    .unwrap();
            } else {
                writer
                    .start_file(*name, zip::write::FileOptions::default())
                    .unwrap();
                writer.write_all(bytes).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn read_exact_past_the_end_fails_without_allocating_the_length() {
        let dir = std::env::temp_dir().join(format!("vfs-exact-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, b"abc").unwrap();
        let files = OpenFiles::default();
        assert_eq!(files.read_exact(&path, 2).unwrap(), b"ab");
        let err = files.read_exact(&path, u64::MAX).unwrap_err();
        assert_eq!(err, VfsError::IoError("failed to fill whole buffer".into()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn add_zip_unpacks_entry_by_entry_as_the_node_does() {
        let dir = std::env::temp_dir().join(format!("vfs-zip-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        unzip(&zip(&[("ui/", b""), ("ui/index.html", b"<p>hi")]), &dir).unwrap();
        assert_eq!(std::fs::read(dir.join("ui/index.html")).unwrap(), b"<p>hi");
        // A file whose directory has no entry of its own fails, as on a node.
        let err = unzip(&zip(&[("deep/file", b"x")]), &dir).unwrap_err();
        assert!(matches!(err, VfsError::IoError(_)), "{err:?}");
        // Names that climb out are refused here (a node writes them).
        assert_eq!(
            unzip(&zip(&[("../out", b"x")]), &dir),
            Err(VfsError::UnzipError)
        );
        let parse = unzip(b"not a zip", &dir).unwrap_err();
        assert!(matches!(parse, VfsError::ParseError { .. }), "{parse:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
