//! Walking a directory tree as kit walks `pkg/`: every entry below the
//! root is listed, symbolic links are listed but not followed (a loop
//! would never end), and every error names the directory it came from.
//! Copying a tree follows the same walk, so a copied `pkg/` holds what the
//! package's archive would.

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

/// Copies the tree at `from` to `to` as the archive of it would hold it:
/// what reads as a file (a link to one too) is copied as a file, anything
/// else becomes a directory, and links to directories are not followed.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), InputError> {
    let create = |dir: &Path| {
        std::fs::create_dir_all(dir)
            .map_err(|e| InputError::invalid(dir, format!("cannot create: {e}")))
    };
    create(to)?;
    for path in entries(from, &|_| true)? {
        let target = to.join(path.strip_prefix(from).expect("walked from `from`"));
        if path.is_file() {
            std::fs::copy(&path, &target)
                .map_err(|e| InputError::invalid(&path, format!("cannot copy: {e}")))?;
        } else {
            create(&target)?;
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
        std::fs::write(scratch.path().join("outside.txt"), b"out").unwrap();
        std::os::unix::fs::symlink("..", from.join("ui/loop")).unwrap();
        std::os::unix::fs::symlink("../outside.txt", from.join("link.txt")).unwrap();
        let to = scratch.path().join("to");
        copy_tree(&from, &to).unwrap();
        assert_eq!(std::fs::read(to.join("ui/index.html")).unwrap(), b"<p>");
        assert_eq!(std::fs::read(to.join("link.txt")).unwrap(), b"out");
        // The loop is a directory entry, empty, as in the archive.
        let looped = to.join("ui/loop");
        assert!(looped.is_dir() && !looped.is_symlink());
        assert_eq!(std::fs::read_dir(looped).unwrap().count(), 0);
    }
}
