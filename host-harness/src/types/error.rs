//! Errors in what the user gave the harness: a package directory, a flag.
//! Each names the file (and field) at fault; the CLI exits 2 on them.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

impl InputError {
    pub fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        InputError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
