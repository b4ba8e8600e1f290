//! The vfs's effect on real files, all of it beneath the vfs root: every
//! path is opened through a `cap_std` directory handle, so neither `..`
//! nor a symbolic link (one a process made in its tmp drive through WASI,
//! say) leads out of the node home. A node follows such links anywhere;
//! when one would lead out here the action fails and the vfs reports it.
//!
//! Like the node's, one table of open files per node, keyed by path: every
//! process that uses a path shares its handle and so its cursor, which
//! `Seek`, `ReadExact`, `ReadToEnd`, `WriteAll` and `Append` move, and which
//! lasts until `CloseFile` (`Read` and `Write` bypass it).

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use cap_std::fs::{Dir, File, OpenOptions};
use sha2::{Digest, Sha256};

use super::path::VfsPath;
use super::VfsError;
use crate::util::lock;

pub(super) fn io(e: std::io::Error) -> VfsError {
    VfsError::IoError(e.to_string())
}

/// Whether `error` is the vfs refusing a path that leads out of its root.
pub(super) fn escaped(error: &VfsError) -> bool {
    matches!(error, VfsError::IoError(text) if text.contains("outside of the filesystem"))
}

/// What a file's entry in a listing or `Metadata` says it is.
fn file_type(kind: cap_std::fs::FileType) -> &'static str {
    if kind.is_symlink() {
        "Symlink"
    } else if kind.is_dir() {
        "Directory"
    } else if kind.is_file() {
        "File"
    } else {
        "Other"
    }
}

pub(super) struct Disk {
    root: Dir,
    open: Mutex<HashMap<PathBuf, File>>,
    /// Set when the run ends: a hash in progress stops.
    stopping: AtomicBool,
}

fn rel(path: &VfsPath) -> PathBuf {
    let mut rel = PathBuf::from(path.drive.trim_start_matches('/'));
    rel.extend(&path.rest);
    rel
}

impl Disk {
    /// The vfs root at `dir` (made if missing).
    pub fn open(dir: &Path) -> std::io::Result<Disk> {
        std::fs::create_dir_all(dir)?;
        Ok(Disk {
            root: Dir::open_ambient_dir(dir, cap_std::ambient_authority())?,
            open: Mutex::default(),
            stopping: AtomicBool::new(false),
        })
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn create_drive(&self, path: &VfsPath) -> Result<(), VfsError> {
        let drive = PathBuf::from(path.drive.trim_start_matches('/'));
        self.root.create_dir_all(drive).map_err(io)
    }

    pub fn create_dir(&self, path: &VfsPath, all: bool) -> Result<(), VfsError> {
        if all {
            self.root.create_dir_all(rel(path)).map_err(io)
        } else {
            self.root.create_dir(rel(path)).map_err(io)
        }
    }

    /// The whole file, if it is at most `limit` bytes.
    pub fn read(&self, path: &VfsPath, limit: u64) -> Result<Vec<u8>, VfsError> {
        let mut file = self.root.open(rel(path)).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        check_size(len, limit)?;
        let mut bytes = Vec::with_capacity(len as usize);
        file.read_to_end(&mut bytes).map_err(io)?;
        Ok(bytes)
    }

    pub fn write(&self, path: &VfsPath, bytes: &[u8]) -> Result<(), VfsError> {
        self.root.write(rel(path), bytes).map_err(io)
    }

    pub fn remove_file(&self, path: &VfsPath) -> Result<(), VfsError> {
        self.root.remove_file(rel(path)).map_err(io)?;
        self.close(path);
        Ok(())
    }

    pub fn remove_dir(&self, path: &VfsPath, all: bool) -> Result<(), VfsError> {
        if all {
            self.root.remove_dir_all(rel(path)).map_err(io)
        } else {
            self.root.remove_dir(rel(path)).map_err(io)
        }
    }

    /// `Rename` (`moving`) or `CopyFile`.
    pub fn move_or_copy(&self, from: &VfsPath, to: &VfsPath, moving: bool) -> Result<(), VfsError> {
        if moving {
            self.root.rename(rel(from), &self.root, rel(to)).map_err(io)
        } else {
            self.root
                .copy(rel(from), &self.root, rel(to))
                .map(|_| ())
                .map_err(io)
        }
    }

    /// `Metadata`: the file's type and length, following links.
    pub fn metadata(&self, path: &VfsPath) -> Result<(&'static str, u64), VfsError> {
        let meta = self.root.metadata(rel(path)).map_err(io)?;
        Ok((file_type(meta.file_type()), meta.len()))
    }

    /// Whether `path` is a regular file (not through a link) of at most
    /// `limit` bytes.
    pub fn is_small_file(&self, path: &VfsPath, limit: u64) -> bool {
        self.root
            .symlink_metadata(rel(path))
            .is_ok_and(|meta| meta.is_file() && meta.len() <= limit)
    }

    /// The entries of a directory (`None`: the root), with their paths
    /// relative to the root and their types (links not followed).
    pub fn read_dir(
        &self,
        path: Option<&VfsPath>,
    ) -> Result<Vec<(String, &'static str)>, VfsError> {
        let (dir, entries) = match path {
            Some(path) => (rel(path), self.root.read_dir(rel(path)).map_err(io)?),
            None => (PathBuf::new(), self.root.entries().map_err(io)?),
        };
        let mut listed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io)?;
            let kind = file_type(entry.file_type().map_err(io)?);
            let name = dir.join(entry.file_name());
            listed.push((name.display().to_string(), kind));
        }
        Ok(listed)
    }

    /// Runs `f` on the shared handle of `path`, opening it (without
    /// creating or truncating) if nobody has.
    pub fn with<R>(
        &self,
        path: &VfsPath,
        f: impl FnOnce(&mut File) -> std::io::Result<R>,
    ) -> Result<R, VfsError> {
        self.with_options(path, false, false, f)
    }

    fn with_options<R>(
        &self,
        path: &VfsPath,
        create: bool,
        truncate: bool,
        f: impl FnOnce(&mut File) -> std::io::Result<R>,
    ) -> Result<R, VfsError> {
        let key = rel(path);
        let mut open = lock(&self.open);
        if !open.contains_key(&key) {
            let mut options = OpenOptions::new();
            options
                .read(true)
                .write(true)
                .create(create)
                .truncate(truncate);
            let file = self.root.open_with(&key, &options).map_err(io)?;
            open.insert(key.clone(), file);
        }
        let file = open.get_mut(&key).expect("just inserted");
        f(file).map_err(io)
    }

    /// `CreateFile`: a fresh, empty file with a fresh handle.
    pub fn create_file(&self, path: &VfsPath) -> Result<(), VfsError> {
        self.close(path);
        self.with_options(path, true, true, |_| Ok(()))
    }

    /// `OpenFile`: opens (creating if asked, never truncating) and puts the
    /// shared cursor back at the start.
    pub fn open_file(&self, path: &VfsPath, create: bool) -> Result<(), VfsError> {
        self.with_options(path, create, false, |file| {
            file.seek(SeekFrom::Start(0)).map(|_| ())
        })
    }

    pub fn close(&self, path: &VfsPath) {
        lock(&self.open).remove(&rel(path));
    }

    pub fn write_all(&self, path: &VfsPath, bytes: &[u8]) -> Result<(), VfsError> {
        self.with(path, |file| file.write_all(bytes))
    }

    pub fn append(&self, path: &VfsPath, bytes: &[u8]) -> Result<(), VfsError> {
        self.with(path, |file| {
            file.seek(SeekFrom::End(0))?;
            file.write_all(bytes)
        })
    }

    /// From the cursor to the end, if that is at most `limit` bytes.
    pub fn read_to_end(&self, path: &VfsPath, limit: u64) -> Result<Vec<u8>, VfsError> {
        self.with(path, |file| {
            let left = remaining(file)?;
            check_size(left, limit).map_err(too_big)?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map(|_| bytes)
        })
    }

    pub fn read_exact(&self, path: &VfsPath, length: u64, limit: u64) -> Result<Vec<u8>, VfsError> {
        self.with(path, |file| {
            check_size(length.min(remaining(file)?), limit).map_err(too_big)?;
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

    pub fn read_to_string(&self, path: &VfsPath, limit: u64) -> Result<String, VfsError> {
        self.with(path, |file| {
            check_size(remaining(file)?, limit).map_err(too_big)?;
            let mut text = String::new();
            file.read_to_string(&mut text).map(|_| text)
        })
    }

    /// SHA-256 of the whole file, a chunk at a time; the cursor is left at
    /// the end.
    pub fn hash(&self, path: &VfsPath) -> Result<[u8; 32], VfsError> {
        self.with(path, |file| {
            file.seek(SeekFrom::Start(0))?;
            let mut hasher = Sha256::new();
            let mut chunk = vec![0; 1 << 20];
            loop {
                if self.stopping.load(Ordering::SeqCst) {
                    return Err(std::io::Error::other("the run ended"));
                }
                match file.read(&mut chunk)? {
                    0 => break,
                    n => hasher.update(&chunk[..n]),
                }
            }
            Ok(hasher.finalize().into())
        })
    }

    /// `AddZip`: unpacks `bytes` into `path` entry by entry, as the node
    /// does (directories from their own entries, files without making
    /// parents), streaming each file to disk; at most `limit` bytes in all.
    pub fn unzip(&self, bytes: &[u8], path: &VfsPath, limit: u64) -> Result<(), VfsError> {
        let dir = rel(path);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
            VfsError::ParseError {
                error: e.to_string(),
                path: path.to_string(),
            }
        })?;
        self.root.create_dir_all(&dir).map_err(io)?;
        let mut written = 0u64;
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).map_err(|_| VfsError::UnzipError)?;
            let name = entry.name().to_string();
            // Only names that stay inside `dir`; a node writes any name.
            if name.split(['/', '\\']).any(|part| part == "..") || name.starts_with('/') {
                return Err(VfsError::UnzipError);
            }
            let target = dir.join(&name);
            if name.ends_with('/') || name.ends_with('\\') {
                self.root.create_dir_all(&target).map_err(io)?;
                continue;
            }
            let mut file = self.root.create(&target).map_err(io)?;
            let left = limit.saturating_sub(written);
            let copied = std::io::copy(&mut (&mut entry).take(left.saturating_add(1)), &mut file)
                .map_err(io)?;
            written += copied;
            check_size(written, limit)?;
        }
        Ok(())
    }
}

/// Bytes from the cursor to the end.
fn remaining(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let at = file.stream_position()?;
    Ok(len.saturating_sub(at))
}

fn check_size(len: u64, limit: u64) -> Result<(), VfsError> {
    if len > limit {
        Err(VfsError::IoError(format!(
            "{len} bytes is more than the harness's --host-memory-limit of {limit} bytes"
        )))
    } else {
        Ok(())
    }
}

fn too_big(error: VfsError) -> std::io::Error {
    match error {
        VfsError::IoError(text) => std::io::Error::other(text),
        other => std::io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::util::TempDir;

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

    fn path(text: &str) -> VfsPath {
        VfsPath::parse(text).unwrap()
    }

    #[test]
    fn read_exact_past_the_end_fails_without_allocating_the_length() {
        let scratch = TempDir::new("vfs-exact").unwrap();
        let disk = Disk::open(scratch.path()).unwrap();
        let file = path("/a:b.os/d/f");
        disk.create_drive(&file).unwrap();
        disk.write(&file, b"abc").unwrap();
        assert_eq!(disk.read_exact(&file, 2, u64::MAX).unwrap(), b"ab");
        let err = disk.read_exact(&file, u64::MAX, u64::MAX).unwrap_err();
        assert_eq!(err, VfsError::IoError("failed to fill whole buffer".into()));
    }

    #[test]
    fn add_zip_unpacks_entry_by_entry_as_the_node_does() {
        let scratch = TempDir::new("vfs-zip").unwrap();
        let disk = Disk::open(scratch.path()).unwrap();
        let dir = path("/a:b.os/d/unzipped");
        unzip_ok(
            &disk,
            &zip(&[("ui/", b""), ("ui/index.html", b"<p>hi")]),
            &dir,
        );
        let page = path("/a:b.os/d/unzipped/ui/index.html");
        assert_eq!(disk.read(&page, u64::MAX).unwrap(), b"<p>hi");
        // A file whose directory has no entry of its own fails, as on a node.
        let err = disk
            .unzip(&zip(&[("deep/file", b"x")]), &dir, u64::MAX)
            .unwrap_err();
        assert!(matches!(err, VfsError::IoError(_)), "{err:?}");
        // Names that climb out are refused here (a node writes them).
        assert_eq!(
            disk.unzip(&zip(&[("../out", b"x")]), &dir, u64::MAX),
            Err(VfsError::UnzipError)
        );
        let parse = disk.unzip(b"not a zip", &dir, u64::MAX).unwrap_err();
        assert!(matches!(parse, VfsError::ParseError { .. }), "{parse:?}");
        // A bomb stops at the limit instead of filling memory or disk.
        let bomb = zip(&[("big", &[0u8; 100_000])]);
        let err = disk.unzip(&bomb, &dir, 1000).unwrap_err();
        assert!(
            format!("{err:?}").contains("--host-memory-limit"),
            "{err:?}"
        );
    }

    fn unzip_ok(disk: &Disk, bytes: &[u8], dir: &VfsPath) {
        disk.unzip(bytes, dir, u64::MAX).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn no_symbolic_link_leads_out_of_the_root() {
        let scratch = TempDir::new("vfs-link").unwrap();
        let root = scratch.path().join("vfs");
        let disk = Disk::open(&root).unwrap();
        std::fs::write(scratch.path().join("secret"), b"host file").unwrap();
        std::fs::create_dir_all(scratch.path().join("victim")).unwrap();
        std::fs::create_dir_all(root.join("a:b.os/tmp")).unwrap();
        // What a process can make in its tmp drive through WASI.
        std::os::unix::fs::symlink("../../..", root.join("a:b.os/tmp/esc")).unwrap();
        std::os::unix::fs::symlink("../d", root.join("a:b.os/tmp/inside")).unwrap();
        let through = |rest: &str| path(&format!("/a:b.os/tmp/esc/{rest}"));
        let refusals = [
            disk.read(&through("secret"), u64::MAX).map(|_| ()),
            disk.write(&through("planted"), b"x"),
            disk.read_dir(Some(&through("victim"))).map(|_| ()),
            disk.remove_dir(&through("victim"), true),
            disk.move_or_copy(&through("secret"), &path("/a:b.os/tmp/stolen"), false),
            disk.unzip(
                &zip(&[("esc/planted", b"x")]),
                &path("/a:b.os/tmp"),
                u64::MAX,
            ),
            disk.hash(&through("secret")).map(|_| ()),
        ];
        for refused in refusals {
            let err = refused.unwrap_err();
            assert!(escaped(&err), "{err:?}");
        }
        assert!(scratch.path().join("victim").is_dir(), "still there");
        assert!(!scratch.path().join("planted").exists());
        // A link that stays inside the root is followed, as on a node.
        disk.create_drive(&path("/a:b.os/d")).unwrap();
        disk.write(&path("/a:b.os/d/f"), b"in").unwrap();
        assert_eq!(
            disk.read(&path("/a:b.os/tmp/inside/f"), u64::MAX).unwrap(),
            b"in"
        );
    }
}
