//! host-harness: runs a Kinode package in-process, the way the Kinode 1.0
//! kernel (or hyperdrive's) would, and reports what happened.
//!
//! The crate is layered; each layer uses only those above it in this list
//! (a test, `tests/all/layers.rs`, keeps it so):
//!
//! - `types`: the process interface's types, ids, capabilities, the
//!   runtime profiles (every way Kinode 1.0 and hyperdrive differ), input
//!   errors;
//! - `util`: a lock, one directory walk, temporary directories;
//! - `kernel`: the kernel's rules alone, as calls that return effects and
//!   events, its randomness seeded from outside;
//! - [`report`]: what the run did, folded from the kernel's events;
//! - [`view`]: a run's timeline drawn: an HTML page, a Chrome trace;
//! - `node`: one node's runtime: kernel, mailboxes, tasks, home. It runs
//!   processes and native modules it is handed, each through a narrow
//!   context;
//! - `host`: the wasm host (wasmtime) that runs processes;
//! - `modules`: the runtime modules (vfs, kv, sqlite, http-server, ...);
//! - `driver`: sending requests into a run and awaiting answers;
//! - [`package`], [`scenario`], [`kit`], [`template`], [`bench`]: what the
//!   CLI offers;
//! - `api`: the composition root ([`run`], [`Session`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // Run the template (built by `make build`) and read what happened.
//! let report = host_harness::run(&host_harness::RunOptions::new("..")).await.unwrap();
//! let spawn = &report.spawns[0];
//! assert_eq!(spawn.result, host_harness::report::SpawnResult::Ok);
//! assert_eq!(spawn.child.as_ref().unwrap().process_name, "spawned-child-process");
//! # }
//! ```

mod api;
mod driver;
mod host;
mod kernel;
mod modules;
mod network;
mod node;
mod types;
mod util;

pub mod bench;
#[doc(hidden)]
pub mod fuzz;
pub mod kit;
pub mod package;
pub mod report;
pub mod scenario;
pub mod template;
pub mod view;
pub mod watch;

pub use api::{
    disable_disk_cache, run, run_network, HttpAnswer, HttpStream, NodeSpec, RunError, RunOptions,
    Session,
};
pub use modules::HttpMock;
pub use report::Report;
pub use types::{InputError, PackageId, ProcessId, Runtime};
pub use util::temp_in_memory;

/// Nodes alive in this program (the leak test checks every run's node is
/// gone when it returns).
#[doc(hidden)]
pub fn live_nodes() -> usize {
    node::live_nodes()
}
