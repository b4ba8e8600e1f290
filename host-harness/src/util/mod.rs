//! Small helpers every layer above `types` may use: a lock that survives
//! a panic elsewhere, one way to walk and copy a directory tree
//! (`walk.rs`), and temporary directories (`temp.rs`).

mod temp;
mod walk;

use std::sync::{Mutex, MutexGuard};

pub use temp::TempDir;
pub use walk::{copy_tree, entries};

/// Locks `mutex`, also after a panic elsewhere: the harness reports what
/// it has rather than panicking again.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
