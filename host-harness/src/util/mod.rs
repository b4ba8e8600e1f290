//! Small helpers every layer above `types` may use: a lock that survives
//! a panic elsewhere, one way to walk and copy a directory tree
//! (`walk.rs`), temporary directories (`temp.rs`), and running on virtual
//! time (`sim.rs`).

pub mod sim;
mod temp;
mod walk;

use std::sync::{Mutex, MutexGuard};

use std::path::Path;

use crate::types::InputError;

pub use temp::{root as temp_root, temp_in_memory, TempDir};
pub use walk::{copy_tree, entries, link_tree, package_tree, Entry};

/// Locks `mutex`, also after a panic elsewhere: the harness reports what
/// it has rather than panicking again.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The bytes of a file the user gave the harness. Anything but a regular
/// file (a FIFO would block the reader for ever, a directory cannot be
/// read) is refused by name.
pub fn read_input(path: &Path) -> Result<Vec<u8>, InputError> {
    let read = |source| InputError::Read {
        path: path.to_owned(),
        source,
    };
    if !std::fs::metadata(path).map_err(read)?.is_file() {
        return Err(InputError::invalid(path, "not a regular file"));
    }
    std::fs::read(path).map_err(read)
}

/// [`read_input`], as UTF-8 text.
pub fn read_input_text(path: &Path) -> Result<String, InputError> {
    String::from_utf8(read_input(path)?).map_err(|_| InputError::invalid(path, "not UTF-8 text"))
}
