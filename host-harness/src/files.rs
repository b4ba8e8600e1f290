//! Walking a directory tree as kit walks `pkg/`: every entry below the
//! root is listed, symbolic links are listed but not followed (a loop
//! would never end), and every error names the directory it came from.

use std::path::{Path, PathBuf};

use crate::error::InputError;

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
