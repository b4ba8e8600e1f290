//! host-harness: runs a Kinode package in-process, the way the Kinode 1.0
//! kernel would, and reports what happened.
//!
//! - [`package`]: reads `metadata.json` and `pkg/manifest.json`.
//! - [`kernel`]: the process table, capabilities, routing, spawn, on-exit.
//! - [`process`]: one wasm process in a wasmtime store, and the
//!   `kinode:process/standard` host functions it calls.
//! - [`modules`]: stand-ins for vfs, http-client, timer and the other
//!   runtime modules.
//! - [`report`]: what the run did, for people and as JSON.

pub mod bindings;
pub mod capability;
pub mod error;
pub mod ids;
pub mod kernel;
pub mod modules;
pub mod package;
pub mod process;
pub mod report;
pub mod wasm;

use std::path::PathBuf;
use std::time::Duration;

pub use error::InputError;
pub use modules::HttpMock;
pub use report::Report;

use kernel::Kernel;
use report::terminal::Terminal;
use report::{ExitKind, ExitRecord};

/// How to run a package.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub package_dir: PathBuf,
    /// The node's name, e.g. `fake.os`.
    pub node: String,
    /// Terminal verbosity, 0 to 3, as on a node.
    pub verbosity: u8,
    /// Print nothing while running.
    pub quiet: bool,
    /// Stop waiting after this long.
    pub timeout: Duration,
    pub http_mocks: Vec<HttpMock>,
}

impl RunOptions {
    pub fn new(package_dir: impl Into<PathBuf>) -> Self {
        RunOptions {
            package_dir: package_dir.into(),
            node: "fake.os".into(),
            verbosity: 0,
            quiet: true,
            timeout: Duration::from_secs(30),
            http_mocks: vec![],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad input: exit code 2.
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("host-harness could not start wasmtime: {0:?}")]
    Engine(wasmtime::Error),
}

/// Installs the package, starts its processes in manifest order, and runs
/// until nothing is in flight (every process ended or waits for a message
/// that nobody will send) or the timeout passes.
pub async fn run(options: &RunOptions) -> Result<Report, RunError> {
    let package = package::Package::load(&options.package_dir)?;
    let runtime = process::Runtime::new().map_err(RunError::Engine)?;
    let tmp_root = tmp_root();
    let terminal = Terminal {
        verbosity: options.verbosity,
        quiet: options.quiet,
    };
    let config = modules::ModuleConfig {
        http_mocks: options.http_mocks.clone(),
    };
    let kernel = Kernel::new(
        &options.node,
        terminal,
        runtime,
        Some(tmp_root.clone()),
        &config,
    );
    let ids = kernel.install(&package)?;
    for id in ids {
        process::start(&kernel, id);
    }
    let idle = kernel.activity.wait_idle(options.timeout).await;
    let report = finish(&kernel, idle);
    let _ = std::fs::remove_dir_all(&tmp_root);
    Ok(report)
}

/// Marks how each still-registered process stands, and returns the report.
fn finish(kernel: &Kernel, idle: bool) -> Report {
    let mut state = kernel.lock();
    let mut report = state.report.clone();
    report.ended = if idle { "idle" } else { "timeout" }.into();
    for (id, index) in Kernel::records(&state) {
        let record = &mut report.processes[index];
        if record.exit.kind != ExitKind::Running {
            continue;
        }
        let waiting = state
            .processes
            .get(id)
            .is_some_and(|e| e.mailbox.is_waiting() && e.mailbox.is_empty());
        record.exit = if idle || waiting {
            ExitRecord {
                kind: ExitKind::Running,
                detail: "waiting in receive with nothing in flight".into(),
            }
        } else {
            ExitRecord {
                kind: ExitKind::TimedOut,
                detail: "still executing or waiting for a response when the timeout passed".into(),
            }
        };
    }
    state.report = report.clone();
    report
}

fn tmp_root() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "host-harness-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::SeqCst)
    ))
}
