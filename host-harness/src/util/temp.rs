//! Temporary directories for the harness's own use (a run's home, a
//! scenario's copy of the package, a test's scratch space): made by the
//! `tempfile` crate with an unguessable name and owner-only permissions,
//! and removed when dropped, on every exit path.

use std::path::Path;

pub struct TempDir(tempfile::TempDir);

impl TempDir {
    /// A new directory under the system's temp dir, named
    /// `host-harness-<what>-<random>`.
    pub fn new(what: &str) -> std::io::Result<TempDir> {
        tempfile::Builder::new()
            .prefix(&format!("host-harness-{what}-"))
            .tempdir()
            .map(TempDir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}
