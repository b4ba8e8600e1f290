//! The composition root: [`RunOptions`] in, a node wired from the layers
//! below (the wasm host as its programs, the runtime modules as its
//! natives, the packages installed), a [`Report`] out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::host::{Processes, WasmHost};
use crate::kernel::InstallPlan;
use crate::modules::{HttpMock, ModuleConfig};
use crate::node::home::Home;
use crate::node::{Node, NodeConfig};
use crate::package::Package;
use crate::report::terminal::Terminal;
use crate::report::Report;
use crate::types::{is_node_name, InputError, Runtime};

/// How to run a package.
///
/// ```
/// let mut options = host_harness::RunOptions::new("my-package");
/// options.node = "alice.os".into();
/// options.seed = Some(7);
/// assert_eq!(options.timeout, std::time::Duration::from_secs(30));
/// ```
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
    /// The most bytes one request may make the harness itself hold: a vfs
    /// read, an unzip, an incoming HTTP body (default 1 GiB). A node has no
    /// such bound; here a package cannot exhaust the developer's machine.
    pub host_memory_limit: u64,
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
    pub runtime: Option<Runtime>,
    /// Blocked messages are expected: they do not fail the run (they are
    /// still reported).
    pub allow_blocked: bool,
    /// Seeds every random choice of the run (message ids, unnamed spawns,
    /// the login cookie, the networking key); `None`: a fresh seed, which
    /// the report records.
    pub seed: Option<u64>,
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
            host_memory_limit: 1 << 30,
            cpu_limit: None,
            serve: false,
            runtime: None,
            seed: None,
            allow_blocked: false,
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
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // The template's own package, built by `make build`.
/// let options = host_harness::RunOptions::new("..");
/// let report = host_harness::run(&options).await.unwrap();
/// let child = report.process("spawned-child-process:spawn:template.os").unwrap();
/// assert_eq!(child.exit.kind, host_harness::report::ExitKind::Returned);
/// assert!(report.check_failures().is_empty());
/// # }
/// ```
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

/// Compile every component afresh in this program instead of using the
/// compilation cache on disk (`--no-cache`). Call it before the first run.
pub fn disable_disk_cache() {
    WasmHost::disable_disk_cache();
}

/// The runtime a run emulates when none is named: the one every component
/// of the packages was built for. Components built for two is an error,
/// naming one of each.
fn runtime_of(
    host: &WasmHost,
    packages: &[(Package, Vec<InstallPlan>)],
) -> Result<Runtime, InputError> {
    let mut seen: Vec<(Runtime, PathBuf)> = Vec::new();
    for (package, plans) in packages {
        for (plan, process) in plans.iter().zip(&package.processes) {
            if let Some(runtime) = host.built_for(&plan.wasm) {
                if !seen.iter().any(|(r, _)| *r == runtime) {
                    seen.push((runtime, process.wasm_file.clone()));
                }
            }
        }
    }
    match seen.as_slice() {
        [] => Ok(Runtime::default()),
        [(runtime, _)] => Ok(*runtime),
        [(first, one), (second, other), ..] => Err(InputError::invalid(
            one,
            format!(
                "imports {} while {} imports {}: a node runs one or the other; rebuild every \
                 process with one SDK, or pick the runtime with --runtime",
                first.profile().interface,
                other.display(),
                second.profile().interface
            ),
        )),
    }
}

/// A package's processes, their wasm compiled, ready to install.
fn plan_package(
    host: &WasmHost,
    dir: &std::path::Path,
) -> Result<(Package, Vec<InstallPlan>), InputError> {
    let package = Package::load(dir)?;
    let mut plans = Vec::new();
    for process in &package.processes {
        let bytes = crate::util::read_input(&process.wasm_file)?;
        let wasm = host.load(&bytes).map_err(|reason| {
            InputError::invalid(
                &process.wasm_file,
                format!("process `{}`: {reason}", process.id),
            )
        })?;
        plans.push(process.install_plan(wasm));
    }
    Ok((package, plans))
}

/// A package installed and running on an emulated node, to drive from
/// outside (HTTP requests to its server) before [`Session::finish`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// let session = host_harness::Session::start(&host_harness::RunOptions::new(".."))
///     .await
///     .unwrap();
/// assert!(session.settle(Duration::from_secs(10)).await, "nothing left in flight");
/// assert_eq!(session.http_port(), None, "the template binds no HTTP path");
/// let report = session.finish(true).await;
/// assert_eq!(report.spawns.len(), 1);
/// # }
/// ```
pub struct Session {
    node: Arc<Node>,
    home: Option<PathBuf>,
    allow_blocked: bool,
}

impl Session {
    /// Installs the package and starts its processes.
    pub async fn start(options: &RunOptions) -> Result<Session, RunError> {
        if !is_node_name(&options.node) {
            return Err(InputError::invalid(
                "--node",
                format!(
                    "`{}` is not a node name: a-z, 0-9, `-` and `.` only, e.g. `fake.os`",
                    options.node
                ),
            )
            .into());
        }
        let host = WasmHost::shared().map_err(RunError::Engine)?;
        // Read and compile first: a missing or broken file is the user's
        // input error, reported before anything runs.
        let mut packages = Vec::new();
        for dir in std::iter::once(&options.package_dir).chain(&options.packages) {
            packages.push(plan_package(&host, dir)?);
        }
        let runtime = match options.runtime {
            Some(runtime) => runtime,
            None => runtime_of(&host, &packages)?,
        };
        let mut home = Home::open(options.home.as_deref())?;
        for (package, _) in &packages {
            home.install(&package.id, &package.pkg_dir())?;
        }
        let states = home.states();
        let seed = options.seed.unwrap_or_else(rand::random);
        let config = NodeConfig {
            name: options.node.clone(),
            runtime,
            terminal: Terminal {
                verbosity: options.verbosity,
                quiet: options.quiet,
            },
            home,
            seed,
        };
        let programs = Processes {
            host,
            memory_limit: options.memory_limit,
            cpu_limit: options.cpu_limit,
        };
        let node = Node::new(config, Arc::new(programs));
        let modules = ModuleConfig {
            http_mocks: options.http_mocks.clone(),
            http_port: options.http_port.unwrap_or(0),
            seed,
            host_memory_limit: options.host_memory_limit,
        };
        for (id, public, module) in crate::modules::all(runtime.profile(), &modules) {
            node.add_module(id, public, module);
        }
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
            allow_blocked: options.allow_blocked,
        })
    }

    /// Waits until nothing is in flight (true) or `timeout` passes (false).
    pub async fn settle(&self, timeout: Duration) -> bool {
        self.node.settle(timeout).await
    }

    /// The node, for what drives the run from inside the crate.
    pub(crate) fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// The report so far, as `finish` would give it now.
    pub(crate) fn report_so_far(&self) -> Report {
        let mut report = self.node.peek(Report::clone);
        report.blocked_allowed = self.allow_blocked;
        report
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
        report.blocked_allowed = self.allow_blocked;
        self.node.shutdown().await;
        report
    }
}
