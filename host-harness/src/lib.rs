//! host-harness: runs a Kinode package in-process, the way the Kinode 1.0
//! kernel would, and reports what happened.
//!
//! - [`package`]: reads `metadata.json` and `pkg/manifest.json`; writes
//!   the package archive as kit does (`package::archive`).
//! - [`kernel`]: the kernel's rules alone (process table, capabilities,
//!   routing, spawn, on-exit), as calls that return effects and events.
//! - [`node`]: the one owner of a run: kernel, mailboxes, tasks, report.
//! - [`process`]: one wasm process in a wasmtime store, and the
//!   `kinode:process/standard` host functions it calls.
//! - [`modules`]: runtime modules as plug-ins: vfs, kv, sqlite, a real
//!   http-server, http-client (mocks), timer, kernel commands, and the
//!   distro processes a node always runs.
//! - [`report`]: what the run did, for people and as JSON.
//! - [`scenario`]: `tests/*.toml` files that drive a package and assert.
//! - [`kit`]: kit's test packages, run in-process.
//! - [`wasm`]: compiling components, cached in memory and on disk.
//! - [`template`]: `new`, a new package made from this template.
//! - [`bench`]: how fast all this is.

pub mod bench;
pub mod bindings;
pub mod capability;
pub mod error;
pub mod files;
pub mod ids;
pub mod kernel;
pub mod kit;
pub mod modules;
pub mod node;
pub mod package;
pub mod process;
pub mod report;
pub mod scenario;
pub mod template;
pub mod wasm;

use std::path::PathBuf;
use std::time::Duration;

pub use error::InputError;
pub use modules::HttpMock;
pub use report::Report;

use kernel::InstallPlan;
use node::home::Home;
use node::Node;
use report::terminal::Terminal;

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
    /// The node's home on disk, kept after the run; `None`: a temporary
    /// one, removed at the end.
    pub home: Option<PathBuf>,
    /// The local HTTP server's port; `None`: a free one.
    pub http_port: Option<u16>,
    /// Memory each process may use, in bytes (default 1 GiB).
    pub memory_limit: usize,
    /// How long a process may compute without waiting for a message;
    /// `None` (the default, as on a node): forever.
    pub cpu_limit: Option<Duration>,
    /// More packages to install on the same node, after the first.
    pub packages: Vec<PathBuf>,
    /// Keep running (and serving HTTP) until Ctrl-C instead of stopping
    /// when nothing is in flight.
    pub serve: bool,
    /// Whose rules to follow; `None`: the runtime the package's components
    /// were built for (Kinode 1.0 for `kinode:process`, hyperdrive for
    /// `hyperware:process`).
    pub runtime: Option<kernel::Flavor>,
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
            home: None,
            http_port: None,
            packages: vec![],
            memory_limit: 1 << 30,
            cpu_limit: None,
            serve: false,
            runtime: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad input: exit code 2.
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("host-harness could not start wasmtime: {0}")]
    Engine(String),
}

/// Installs the package, starts its processes in manifest order, and runs
/// until nothing is in flight (every process ended or waits for a message
/// that nobody will send) or the timeout passes; with `serve`, until
/// Ctrl-C. Every task of the run is gone when this returns.
pub async fn run(options: &RunOptions) -> Result<Report, RunError> {
    let session = Session::start(options).await?;
    let idle = if options.serve {
        let _ = tokio::signal::ctrl_c().await;
        true
    } else {
        session.settle(options.timeout).await
    };
    Ok(session.finish(idle).await)
}

/// The runtime a run emulates when none is named: the one every component
/// of the packages was built for. Components built for both is an error,
/// naming one of each.
fn flavor_of(
    runtime: &process::Runtime,
    packages: &[(package::Package, Vec<InstallPlan>)],
) -> Result<kernel::Flavor, InputError> {
    use wasm::ProcessInterface;
    let mut seen: Vec<(ProcessInterface, PathBuf)> = Vec::new();
    for (package, plans) in packages {
        for (plan, process) in plans.iter().zip(&package.processes) {
            if let Some(interface) = runtime.interface(&plan.wasm) {
                if !seen.iter().any(|(i, _)| *i == interface) {
                    seen.push((interface, process.wasm_file.clone()));
                }
            }
        }
    }
    match seen.as_slice() {
        [] => Ok(kernel::Flavor::Kinode),
        [(interface, _)] => Ok(interface.runtime()),
        [(_, one), (_, other), ..] => Err(InputError::invalid(
            one,
            format!(
                "imports {} while {} imports {}: a node runs one or the other; rebuild every \
                 process with one SDK, or pick the runtime with --runtime",
                seen[0].0.import_name(),
                other.display(),
                seen[1].0.import_name()
            ),
        )),
    }
}

/// A package's processes, their wasm compiled, ready to install.
fn plan_package(
    runtime: &process::Runtime,
    dir: &std::path::Path,
) -> Result<(package::Package, Vec<InstallPlan>), InputError> {
    let package = package::Package::load(dir)?;
    let mut plans = Vec::new();
    for plan in &package.processes {
        let bytes = std::fs::read(&plan.wasm_file).map_err(|source| InputError::Read {
            path: plan.wasm_file.clone(),
            source,
        })?;
        let wasm = runtime.load(&bytes).map_err(|reason| {
            InputError::invalid(&plan.wasm_file, format!("process `{}`: {reason}", plan.id))
        })?;
        let pairs = |entries: &[package::CapabilityEntry]| {
            entries
                .iter()
                .map(|e| (e.process.clone(), e.params.clone()))
                .collect()
        };
        plans.push(InstallPlan {
            id: plan.id.clone(),
            wasm_path: plan.wasm_path.clone(),
            wasm,
            on_exit: plan.on_exit.clone(),
            public: plan.public,
            request_networking: plan.request_networking,
            request_capabilities: pairs(&plan.request_capabilities),
            grant_capabilities: pairs(&plan.grant_capabilities),
        });
    }
    Ok((package, plans))
}

/// A package installed and running on an emulated node, to drive from
/// outside (HTTP requests to its server) before [`Session::finish`].
pub struct Session {
    node: std::sync::Arc<Node>,
    home: Option<PathBuf>,
}

impl Session {
    /// Installs the package and starts its processes.
    pub async fn start(options: &RunOptions) -> Result<Session, RunError> {
        let runtime = process::Runtime::shared().map_err(RunError::Engine)?;
        // Read and compile first: a missing or broken file is the user's
        // input error, reported before anything runs.
        let mut packages = Vec::new();
        for dir in std::iter::once(&options.package_dir).chain(&options.packages) {
            packages.push(plan_package(&runtime, dir)?);
        }
        let terminal = Terminal {
            verbosity: options.verbosity,
            quiet: options.quiet,
        };
        let mut home = Home::open(options.home.as_deref())?;
        for (package, _) in &packages {
            home.install(&package.id, &package.pkg_dir())?;
        }
        let states = home.states();
        let flavor = match options.runtime {
            Some(flavor) => flavor,
            None => flavor_of(&runtime, &packages)?,
        };
        let config = modules::ModuleConfig {
            flavor,
            http_mocks: options.http_mocks.clone(),
            home: home.root().to_owned(),
            node: options.node.clone(),
            http_port: options.http_port.unwrap_or(0),
        };
        let limits = (options.memory_limit, options.cpu_limit);
        let node = Node::new(&options.node, runtime, terminal, home, limits, flavor);
        modules::add_all(&node, &config);
        node.kernel(|k| {
            for (id, bytes) in states {
                k.load_state(id, bytes);
            }
            for (package, plans) in packages {
                k.install(&package.id, plans);
            }
        });
        Ok(Session {
            node,
            home: options.home.clone(),
        })
    }

    /// Waits until nothing is in flight (true) or `timeout` passes (false).
    pub async fn settle(&self, timeout: Duration) -> bool {
        self.node.activity.wait_idle(timeout).await
    }

    /// The kernel's port, for what drives the run from inside the crate.
    pub(crate) fn port(&self) -> std::sync::Arc<dyn node::Port> {
        self.node.clone()
    }

    pub(crate) fn node(&self) -> &Node {
        &self.node
    }

    /// The local HTTP server's port, once a process has bound a path.
    pub fn http_port(&self) -> Option<u16> {
        self.node
            .peek(|r| r.http_server.as_ref().map(|server| server.port))
    }

    /// The cookie that opens authenticated paths (`name=value`).
    pub fn http_cookie(&self) -> Option<String> {
        self.node
            .peek(|r| r.http_server.as_ref().map(|server| server.cookie.clone()))
    }

    /// Ends the run and returns its report; every task is gone after it.
    pub async fn finish(self, idle: bool) -> Report {
        let mut report = self.node.finish(idle);
        report.home = self.home.as_ref().map(|h| h.display().to_string());
        self.node.shutdown().await;
        report
    }
}
