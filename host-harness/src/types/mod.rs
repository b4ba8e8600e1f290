//! The bottom layer: the types every other layer speaks. The process
//! interface's own types (`bindings.rs`, generated from `wit/`), with the
//! parsing, printing and equality the kernel needs (`ids.rs`,
//! `capability.rs`); the runtime profiles (`runtime.rs`); the JSON the
//! runtime writes for on-exit behaviours (`wire.rs`); a node's seed and
//! networking key (`keys.rs`); and the error for bad user input
//! (`error.rs`). Nothing here imports another layer.

mod bindings;
mod capability;
mod error;
mod ids;
pub mod keys;
mod runtime;
mod wire;

pub use bindings::*;
pub use capability::{CapSet, Grant, MESSAGING};
pub use error::InputError;
pub use ids::{check_kimap_safe, check_process_name, is_node_name};
pub use runtime::{BackoffRule, Profile, Runtime, StderrRule};
pub use wire::WireOnExit;

/// A compiled component, named by the SHA-256 of its bytes: the wasm host
/// keeps the compilation, the kernel only the name.
pub type WasmKey = [u8; 32];
