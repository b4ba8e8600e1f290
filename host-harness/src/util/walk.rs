//! Walking a directory tree as kit walks `pkg/`: every entry below the
//! root is listed, symbolic links are listed but not followed (a loop
//! would never end), and every error names the directory it came from.
//!
//! [`package_tree`] is that walk for what a node is given (a package's
//! `pkg/`, which the archive ships and an install copies): a link is taken
//! for what it points to, but only inside the tree (kit would ship the
//! contents of any file a link names, a secret included), and anything that
//! is neither a file nor a directory (a FIFO would block the reader) is
//! refused.

use std::path::{Path, PathBuf};

use crate::types::InputError;

/// Every file and directory below `dir` (not `dir` itself), depth first,
/// descending only into directories `descend` accepts.
pub fn entries(dir: &Path, descend: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    walk(dir, descend, &mut out)?;
    Ok(out)
}

fn walk(
    dir: &Path,
    descend: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) -> Result<(), InputError> {
    let read_error = |source| InputError::Read {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        out.push(path.clone());
        if is_dir && descend(&path) {
            walk(&path, descend, out)?;
        }
    }
    Ok(())
}

/// What an entry of a package tree is taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A file, or a link to one inside the tree: its bytes are shipped.
    File,
    /// A directory, or a link to one inside the tree (not descended).
    Dir,
}

/// Every entry below `dir`, sorted component by component (kit's order),
/// with what it is taken for. A link that leads out of `dir`, or an entry
/// that is neither file nor directory, is an error naming it.
pub fn package_tree(dir: &Path) -> Result<Vec<(PathBuf, Entry)>, InputError> {
    let root = dir.canonicalize().map_err(|source| InputError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut out = Vec::new();
    let mut paths = entries(dir, &|_| true)?;
    paths.sort();
    for path in paths {
        if path.file_name().is_some_and(|name| name.to_str().is_none()) {
            return Err(InputError::invalid(
                &path,
                "a file name that is not UTF-8: an archive entry's name must be text",
            ));
        }
        let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
        if link {
            let target = path.canonicalize().map_err(|e| {
                InputError::invalid(&path, format!("a symbolic link that leads nowhere: {e}"))
            })?;
            if !target.starts_with(&root) {
                return Err(InputError::invalid(
                    &path,
                    format!(
                        "a symbolic link to {}, outside {}: a node's package holds only what \
                         is inside it (kit would pack the file it names); copy the file in if \
                         it belongs to the package",
                        target.display(),
                        dir.display()
                    ),
                ));
            }
        }
        let meta = std::fs::metadata(&path).map_err(|source| InputError::Read {
            path: path.clone(),
            source,
        })?;
        let entry = if meta.is_file() {
            Entry::File
        } else if meta.is_dir() {
            Entry::Dir
        } else {
            return Err(InputError::invalid(
                &path,
                "neither a file nor a directory (a FIFO, socket or device cannot be in a package)",
            ));
        };
        out.push((path, entry));
    }
    Ok(out)
}

/// Copies the package tree at `from` to `to` as its archive would hold
/// it: links (inside the tree) are taken for what they point to, and links
/// to directories become empty directories.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), InputError> {
    mirror_tree(from, to, false)
}

/// [`copy_tree`], but files are hard links to the originals where the two
/// trees share a file system (a copy where they do not): for a working
/// copy that is only read. Never write into one in place: replace a file
/// (remove it first) to change it.
pub fn link_tree(from: &Path, to: &Path) -> Result<(), InputError> {
    mirror_tree(from, to, true)
}

fn mirror_tree(from: &Path, to: &Path, link: bool) -> Result<(), InputError> {
    let create = |dir: &Path| {
        std::fs::create_dir_all(dir)
            .map_err(|e| InputError::invalid(dir, format!("cannot create: {e}")))
    };
    create(to)?;
    for (path, entry) in package_tree(from)? {
        let target = to.join(path.strip_prefix(from).expect("walked from `from`"));
        match entry {
            Entry::File => {
                if !(link && std::fs::hard_link(&path, &target).is_ok()) {
                    std::fs::copy(&path, &target)
                        .map_err(|e| InputError::invalid(&path, format!("cannot copy: {e}")))?;
                }
            }
            Entry::Dir => create(&target)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_copy_holds_what_an_archive_would_and_survives_a_link_loop() {
        let scratch = crate::util::TempDir::new("walk").unwrap();
        let from = scratch.path().join("from");
        std::fs::create_dir_all(from.join("ui")).unwrap();
        std::fs::write(from.join("ui/index.html"), b"<p>").unwrap();
        std::os::unix::fs::symlink("..", from.join("ui/loop")).unwrap();
        std::os::unix::fs::symlink("ui/index.html", from.join("link.html")).unwrap();
        let to = scratch.path().join("to");
        copy_tree(&from, &to).unwrap();
        assert_eq!(std::fs::read(to.join("ui/index.html")).unwrap(), b"<p>");
        assert_eq!(std::fs::read(to.join("link.html")).unwrap(), b"<p>");
        // The loop is a directory entry, empty, as in the archive.
        let looped = to.join("ui/loop");
        assert!(looped.is_dir() && !looped.is_symlink());
        assert_eq!(std::fs::read_dir(looped).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_tree_and_a_fifo_are_refused_by_name() {
        let scratch = crate::util::TempDir::new("walk-out").unwrap();
        let from = scratch.path().join("pkg");
        std::fs::create_dir_all(&from).unwrap();
        std::fs::write(scratch.path().join("secret.txt"), b"secret").unwrap();
        std::os::unix::fs::symlink("../secret.txt", from.join("link.txt")).unwrap();
        let err = copy_tree(&from, &scratch.path().join("to"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&from.join("link.txt").display().to_string()),
            "{err}"
        );
        assert!(err.contains("outside"), "{err}");
        std::fs::remove_file(from.join("link.txt")).unwrap();
        let fifo = from.join("notes.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = package_tree(&from).unwrap_err().to_string();
        assert!(err.contains("neither a file nor a directory"), "{err}");
    }
}
