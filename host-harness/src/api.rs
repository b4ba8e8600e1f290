//! The composition root: [`RunOptions`] in, a network of nodes wired from
//! the layers below (each node with the wasm host as its programs, the
//! runtime modules as its natives, its packages installed), a [`Report`]
//! (or, for several nodes, a [`NetworkReport`]) out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::host::{Processes, WasmHost};
use crate::kernel::{InstallPlan, Persisted};
use crate::modules::{HttpMock, ModuleConfig};
use crate::network::Network;
use crate::node::activity::Activity;
use crate::node::home::Home;
use crate::node::{Node, NodeConfig};
use crate::package::Package;
use crate::report::terminal::Terminal;
use crate::report::{NetworkReport, Report};
use crate::types::{is_node_name, InputError, Runtime};
use crate::util::TempDir;

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
    /// the report records. Each node's seed is derived from it and the
    /// node's name.
    pub seed: Option<u64>,
    /// The nodes of the run, each with the packages it installs; empty:
    /// one node, `node`, with `package_dir` and `packages`.
    pub nodes: Vec<NodeSpec>,
    /// Run on virtual node time: one thread, a clock that jumps to the next
    /// timer whenever every task waits (a 300 s wait takes no time), and
    /// processes that yield by fuel, so one seed gives one run. No real
    /// socket is opened. [`run`] and [`run_network`] run it on a thread of
    /// their own; a [`Session`] needs a single-threaded runtime with its
    /// clock paused.
    pub virtual_time: bool,
    /// Keep every kernel event, with its node time, in each report's
    /// `trace` (what `--check-determinism` compares).
    pub trace: bool,
    /// Keep a timeline of the run in each report (every delivery,
    /// spawn, exit, capability change, print): what `--html` and `--trace`
    /// draw. Costs a copy of every message.
    pub timeline: bool,
    /// Give `our_capabilities()` in an order drawn from the seed, as a
    /// node gives them in its hash map's order (arbitrary, different from
    /// run to run). `None`: on virtual time only.
    pub shuffle_capabilities: Option<bool>,
}

/// One node of a run: its name and the packages installed on it (in
/// order; the first is the one its report is about).
///
/// ```
/// let mut options = host_harness::RunOptions::new("chat");
/// options.nodes = host_harness::NodeSpec::same(&["alice.os", "bob.os"], &options);
/// assert_eq!(options.nodes[1].packages, [std::path::PathBuf::from("chat")]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    pub packages: Vec<PathBuf>,
}

impl NodeSpec {
    /// Nodes `names`, each installing the options' package (and
    /// `packages`).
    pub fn same(names: &[&str], options: &RunOptions) -> Vec<NodeSpec> {
        names
            .iter()
            .map(|name| NodeSpec {
                name: name.to_string(),
                packages: options.all_packages(),
            })
            .collect()
    }
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
            nodes: vec![],
            virtual_time: false,
            trace: false,
            timeline: false,
            shuffle_capabilities: None,
        }
    }

    /// The package and those installed beside it.
    fn all_packages(&self) -> Vec<PathBuf> {
        std::iter::once(self.package_dir.clone())
            .chain(self.packages.iter().cloned())
            .collect()
    }

    /// The run's nodes: `nodes`, or the one node `node`.
    fn node_specs(&self) -> Vec<NodeSpec> {
        if self.nodes.is_empty() {
            vec![NodeSpec {
                name: self.node.clone(),
                packages: self.all_packages(),
            }]
        } else {
            self.nodes.clone()
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
    /// A run on virtual time did not end within this much real time.
    #[error(
        "the run on virtual time did not end within {0:?} of real time: a process computing \
         without end (set a cpu_limit), or a module call that never returns"
    )]
    Stuck(Duration),
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
    if options.virtual_time {
        let options = options.clone();
        return simulated(move || Box::pin(async move { run_here(&options).await })).await;
    }
    run_here(options).await
}

/// [`run`] on the runtime it is called on.
async fn run_here(options: &RunOptions) -> Result<Report, RunError> {
    let session = Session::start(options).await?;
    let idle = session.wait(options).await;
    Ok(session.finish(idle).await)
}

/// How long, in real time, a run on virtual time may take before the
/// harness gives up on it (a process computing for ever with no
/// `cpu_limit`, a module call that never returns).
pub const SIMULATION_WALL_LIMIT: Duration = Duration::from_secs(300);

/// Runs `make`'s run on virtual time, on a thread of its own.
async fn simulated<T: Send + 'static>(
    make: impl FnOnce() -> crate::util::sim::SimFuture<Result<T, RunError>> + Send + 'static,
) -> Result<T, RunError> {
    crate::util::sim::simulate(SIMULATION_WALL_LIMIT, make)
        .await
        .unwrap_or(Err(RunError::Stuck(SIMULATION_WALL_LIMIT)))
}

/// [`run`] for a run of several nodes ([`RunOptions::nodes`]): every
/// node's report, and what crossed between them.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut options = host_harness::RunOptions::new("..");
/// options.nodes = host_harness::NodeSpec::same(&["a.os", "b.os"], &options);
/// let report = host_harness::run_network(&options).await.unwrap();
/// assert_eq!(report.nodes.len(), 2);
/// assert_eq!(report.nodes[1].node, "b.os");
/// assert_eq!(report.nodes[1].spawns.len(), 1);
/// # }
/// ```
pub async fn run_network(options: &RunOptions) -> Result<NetworkReport, RunError> {
    if options.virtual_time {
        let options = options.clone();
        return simulated(move || Box::pin(async move { run_network_here(&options).await })).await;
    }
    run_network_here(options).await
}

/// [`run_network`] on the runtime it is called on.
async fn run_network_here(options: &RunOptions) -> Result<NetworkReport, RunError> {
    let session = Session::start(options).await?;
    let idle = session.wait(options).await;
    Ok(session.finish_network(idle).await)
}

/// Compile every component afresh in this program instead of using the
/// compilation cache on disk (`--no-cache`). Call it before the first run.
pub fn disable_disk_cache() {
    WasmHost::disable_disk_cache();
}

/// Makes a package's `pkg` drive in `home` as the app store does: the
/// zip's files, the zip itself as `<package>.zip`, and `pkg/api.zip`
/// unpacked into `api/` (if it is there and unpacks; a node goes on
/// without it otherwise).
fn install_drive(home: &mut Home, loaded: &Loaded, limit: u64) -> Result<(), InputError> {
    let id = &loaded.package.id;
    home.install(id, &loaded.package.pkg_dir(), &loaded.archive)?;
    let api = home.drive(id, "pkg").join("api.zip");
    if let Ok(bytes) = std::fs::read(&api) {
        let _ = crate::modules::vfs::add_zip(&home.vfs(), &format!("/{id}/pkg/api"), &bytes, limit);
        home.installed();
    }
    Ok(())
}

/// The runtime a run emulates when none is named: the one every component
/// of the packages was built for. Components built for two is an error,
/// naming one of each.
fn runtime_of(host: &WasmHost, packages: &[Loaded]) -> Result<Runtime, InputError> {
    let mut seen: Vec<(Runtime, PathBuf)> = Vec::new();
    for Loaded { package, plans, .. } in packages {
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
        plans.push(process.install_plan(wasm, package.metadata.properties.wit_version));
    }
    Ok((package, plans))
}

/// A run installed and running on emulated nodes, to drive from outside
/// (HTTP requests to a node's server, faults between nodes) before
/// [`Session::finish`]. The node-less accessors are about the first node.
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
    network: Arc<Network>,
    /// The first node's name.
    first: String,
    home: Option<PathBuf>,
    allow_blocked: bool,
    /// The nodes' homes when none was given: removed after the run.
    _homes: Option<TempDir>,
}

/// A connection to a node's HTTP server: a socket, or memory on virtual
/// time ([`Session::http_connect`]).
pub trait HttpStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> HttpStream for T {}

/// What a node's HTTP server answered ([`Session::http_request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// In order, names in lowercase; a repeated header once per value.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn not_serving(node: &str) -> String {
    format!("no HTTP server is running on {node}: no process has bound a path")
}

/// What every node of a run is built from.
/// A package ready to install: its directory, manifest, compiled
/// processes, and its zip (the archive the app store installs from, which
/// it also keeps in the package's `pkg` drive).
struct Loaded {
    dir: PathBuf,
    package: Package,
    plans: Vec<InstallPlan>,
    archive: Arc<Vec<u8>>,
}

struct Blueprint {
    host: Arc<WasmHost>,
    options: RunOptions,
    runtime: Runtime,
    specs: Vec<NodeSpec>,
    /// Each package, compiled once for every node that installs it.
    packages: Vec<Loaded>,
    /// Where each node's home is: `<root>/<name>`, or the root itself for
    /// a lone node given `--home`.
    homes: PathBuf,
    lone_home: bool,
}

impl Session {
    /// Installs the packages on every node and starts their processes.
    pub async fn start(options: &RunOptions) -> Result<Session, RunError> {
        let specs = options.node_specs();
        let mut seen = std::collections::BTreeSet::new();
        for spec in &specs {
            if !is_node_name(&spec.name) {
                return Err(InputError::invalid(
                    "--node",
                    format!(
                        "`{}` is not a node name: a-z, 0-9, `-` and `.` only, e.g. `fake.os`",
                        spec.name
                    ),
                )
                .into());
            }
            if !seen.insert(spec.name.clone()) {
                return Err(InputError::invalid(
                    "--nodes",
                    format!("node `{}` is named twice", spec.name),
                )
                .into());
            }
        }
        let host = WasmHost::shared().map_err(RunError::Engine)?;
        // Read and compile first: a missing or broken file is the user's
        // input error, reported before anything runs.
        let mut packages: Vec<Loaded> = Vec::new();
        for dir in specs.iter().flat_map(|s| &s.packages) {
            if !packages.iter().any(|loaded| loaded.dir == *dir) {
                let (package, plans) = plan_package(&host, dir)?;
                let archive = crate::package::archive::zip_dir_cached(&package.pkg_dir())?;
                packages.push(Loaded {
                    dir: dir.clone(),
                    package,
                    plans,
                    archive,
                });
            }
        }
        let runtime = match options.runtime {
            Some(runtime) => runtime,
            None => runtime_of(&host, &packages)?,
        };
        let (homes, temporary) = match &options.home {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = TempDir::new("homes").map_err(|e| {
                    InputError::invalid(
                        crate::util::temp_root(),
                        format!("cannot make a temporary node home: {e}"),
                    )
                })?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        let blueprint = Arc::new(Blueprint {
            host,
            options: options.clone(),
            runtime,
            lone_home: options.home.is_some() && specs.len() == 1,
            specs,
            packages,
            homes,
        });
        let seed = options.seed.unwrap_or_else(rand::random);
        let boot = Box::new(move |network: &Arc<Network>, name: &str, table| {
            blueprint.boot(network, name, table)
        });
        if options.virtual_time
            && tokio::runtime::Handle::current().runtime_flavor()
                != tokio::runtime::RuntimeFlavor::CurrentThread
        {
            return Err(InputError::invalid(
                "virtual_time",
                "a session on virtual time needs a single-threaded tokio runtime with its clock \
                 paused (`run` and `run_network` make one)",
            )
            .into());
        }
        let network = Network::start(
            &names,
            seed,
            options.virtual_time,
            Arc::new(Activity::default()),
            boot,
        )
        .await?;
        Ok(Session {
            network,
            first: names[0].clone(),
            home: options.home.clone(),
            allow_blocked: options.allow_blocked,
            _homes: temporary,
        })
    }

    /// Until Ctrl-C with `serve`, else until the run settles or times out.
    async fn wait(&self, options: &RunOptions) -> bool {
        if options.serve {
            let _ = tokio::signal::ctrl_c().await;
            true
        } else {
            self.settle(options.timeout).await
        }
    }

    /// Waits until nothing is in flight on any node or between them
    /// (true) or `timeout` passes (false).
    pub async fn settle(&self, timeout: Duration) -> bool {
        self.network.settle(timeout).await
    }

    /// The network of the run's nodes.
    pub(crate) fn network(&self) -> &Arc<Network> {
        &self.network
    }

    /// Node `name`'s report so far, if it is up.
    pub(crate) fn report_of(&self, name: &str) -> Option<Report> {
        let mut report = self.network.node(name)?.peek(Report::clone);
        report.blocked_allowed = self.allow_blocked;
        Some(report)
    }

    /// The local HTTP server's port, once a process bound a path.
    pub fn http_port(&self) -> Option<u16> {
        self.http_port_of(&self.first)
    }

    /// Node `name`'s HTTP server's port, once a process there bound a path.
    pub fn http_port_of(&self, name: &str) -> Option<u16> {
        self.network
            .node(name)?
            .peek(|r| r.http_server.as_ref().map(|server| server.port))
    }

    /// The cookie that opens authenticated paths (`name=value`).
    pub fn http_cookie(&self) -> Option<String> {
        self.http_cookie_of(&self.first)
    }

    /// Node `name`'s login cookie.
    pub fn http_cookie_of(&self, name: &str) -> Option<String> {
        self.network
            .node(name)?
            .peek(|r| r.http_server.as_ref().map(|server| server.cookie.clone()))
    }

    /// Node `name`'s cookie for `process`'s secure subdomain (what its
    /// `SecureBind` paths take, on the host `<subdomain>.localhost`), as
    /// `POST /login` with `"subdomain": "<process id>"` sets it.
    pub fn http_app_cookie_of(&self, name: &str, process: &crate::ProcessId) -> Option<String> {
        let cookie = self.http_cookie_of(name)?;
        let token = cookie.split_once('=')?.1;
        Some(crate::modules::app_cookie(name, token, process))
    }

    /// An HTTP request to node `node`'s server, with the login cookie if
    /// `cookie`: the status and the body. On virtual time it goes in
    /// memory, with no socket; otherwise to the server's port.
    pub async fn http(
        &self,
        node: &str,
        method: &str,
        path: &str,
        body: Vec<u8>,
        cookie: bool,
    ) -> Result<(u16, Vec<u8>), String> {
        let cookie = if cookie {
            self.http_cookie_of(node)
        } else {
            None
        };
        let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", c.as_str())).collect();
        let answer = self
            .http_request(node, method, path, &headers, body)
            .await?;
        Ok((answer.status, answer.body))
    }

    /// An HTTP request to node `node`'s server with `headers` (a `host`
    /// among them replaces `localhost:<port>`): the whole answer.
    pub async fn http_request(
        &self,
        node: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<HttpAnswer, String> {
        use http_body_util::BodyExt;
        let port = self.serving_port(node)?;
        let mut request = hyper::Request::builder().method(method).uri(path);
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            request = request.header("host", format!("localhost:{port}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .map_err(|e| format!("a malformed request: {e}"))?;
        let io = self.http_connect(node).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_string(), value)
            })
            .collect();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes()
            .to_vec();
        Ok(HttpAnswer {
            status,
            headers,
            body,
        })
    }

    /// A connection to node `node`'s HTTP server, to speak HTTP or a
    /// WebSocket over (e.g. with `tokio_tungstenite::client_async`): in
    /// memory on virtual time, a socket to its port otherwise.
    pub async fn http_connect(&self, node: &str) -> Result<Box<dyn HttpStream>, String> {
        let port = self.serving_port(node)?;
        let up = self
            .network
            .node(node)
            .ok_or_else(|| format!("node {node} is not up"))?;
        if up.simulated() {
            let stream = up.connect_http().ok_or_else(|| not_serving(node))?;
            return Ok(Box::new(stream));
        }
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot reach the HTTP server on port {port}: {e}"))?;
        Ok(Box::new(stream))
    }

    /// Node `node`'s HTTP server's port (0 on virtual time), or why none.
    fn serving_port(&self, node: &str) -> Result<u16, String> {
        let up = self
            .network
            .node(node)
            .ok_or_else(|| format!("node {node} is not up"))?;
        up.peek(|r| r.http_server.as_ref().map(|s| s.port))
            .ok_or_else(|| not_serving(node))
    }

    /// Cuts nodes `a` off from nodes `b` (with `one_way`, only what `a`
    /// sends to `b`), as a scenario's `partition` does.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mut options = host_harness::RunOptions::new("..");
    /// options.nodes = host_harness::NodeSpec::same(&["a.os", "b.os"], &options);
    /// let session = host_harness::Session::start(&options).await.unwrap();
    /// session.partition(&["a.os"], &["b.os"], false);
    /// session.heal();
    /// session.crash("b.os").await.unwrap();
    /// session.restart("b.os").await.unwrap();
    /// let report = session.finish_network(true).await;
    /// assert_eq!(report.earlier_boots[0].node, "b.os");
    /// # }
    /// ```
    pub fn partition(&self, a: &[&str], b: &[&str], one_way: bool) {
        let names = |nodes: &[&str]| nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        self.network.partition(&names(a), &names(b), one_way);
    }

    /// Every partition is gone; what they held goes on.
    pub fn heal(&self) {
        self.network.heal();
    }

    /// Messages from `from` to `to` take between `low` and `high` (drawn
    /// from the run's seed for each).
    pub fn set_latency(&self, from: &str, to: &str, low: Duration, high: Duration) {
        let latency = if low == high {
            crate::network::links::Latency::Fixed(low)
        } else {
            crate::network::links::Latency::Range(low.min(high), high.max(low))
        };
        self.network
            .set_latency(&[from.to_string()], &[to.to_string()], latency);
    }

    /// Node `node` crashes: what was on its way to or from it is lost.
    pub async fn crash(&self, node: &str) -> Result<(), String> {
        self.network.crash(node).await
    }

    /// Node `node` boots again from its home (a running one shuts down
    /// cleanly first).
    pub async fn restart(&self, node: &str) -> Result<(), String> {
        self.network.restart(node).await
    }

    /// Ends the run and returns the first node's report; every task is
    /// gone after it.
    pub async fn finish(self, idle: bool) -> Report {
        let first = self.first.clone();
        let mut network = self.finish_network(idle).await;
        let at = network
            .nodes
            .iter()
            .position(|r| r.node == first)
            .unwrap_or(0);
        network.nodes.swap_remove(at)
    }

    /// Ends the run and returns every node's report; every task is gone
    /// after it.
    pub async fn finish_network(self, idle: bool) -> NetworkReport {
        let mut report = self.network.finish(idle);
        for node in report.nodes.iter_mut().chain(&mut report.earlier_boots) {
            node.blocked_allowed = self.allow_blocked;
            node.home = self.home.as_ref().map(|h| h.display().to_string());
        }
        self.network.shutdown().await;
        report
    }
}

impl Blueprint {
    /// Node `name`, fresh (its packages installed) or rebooted from
    /// `table`.
    fn boot(
        &self,
        network: &Arc<Network>,
        name: &str,
        table: Option<Vec<Persisted>>,
    ) -> Result<Arc<Node>, InputError> {
        let (index, spec) = self
            .specs
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
            .ok_or_else(|| InputError::invalid("--nodes", format!("no node {name} in this run")))?;
        let dir = if self.lone_home {
            self.homes.clone()
        } else {
            self.homes.join(name)
        };
        let mut home = Home::open(Some(&dir))?;
        let packages: Vec<&Loaded> = spec
            .packages
            .iter()
            .filter_map(|dir| self.packages.iter().find(|loaded| loaded.dir == *dir))
            .collect();
        if table.is_none() {
            for loaded in &packages {
                install_drive(&mut home, loaded, self.options.host_memory_limit)?;
            }
        }
        let states = home.states();
        let seat = network.seat(name);
        let options = &self.options;
        let several = self.specs.len() > 1;
        let config = NodeConfig {
            name: name.to_string(),
            runtime: self.runtime,
            terminal: Terminal {
                verbosity: options.verbosity,
                quiet: options.quiet,
                prefix: if several {
                    format!("[{name}] ")
                } else {
                    String::new()
                },
            },
            home,
            seed: seat.seed,
            key_seed: seat.key_seed,
            run_seed: seat.run_seed,
            wire: seat.wire,
            activity: seat.activity,
            origin: seat.origin,
            wall_origin: seat.wall_origin,
            simulated: seat.simulated,
            trace: options.trace,
            timeline: options.timeline,
        };
        let programs = Processes {
            host: self.host.clone(),
            memory_limit: options.memory_limit,
            cpu_limit: options.cpu_limit,
            shuffle_capabilities: options.shuffle_capabilities.unwrap_or(options.virtual_time),
        };
        let node = Node::new(config, Arc::new(programs));
        let modules = ModuleConfig {
            http_mocks: options.http_mocks.clone(),
            http_port: options
                .http_port
                .map_or(0, |port| port.saturating_add(index as u16)),
            // The cookie and the networking key stay across reboots.
            seed: seat.key_seed,
            host_memory_limit: options.host_memory_limit,
        };
        let (natives, http_door) = crate::modules::all(self.runtime.profile(), &modules);
        for (id, public, module) in natives {
            node.add_module(id, public, module);
        }
        node.set_http_door(http_door);
        // Up before its processes start: what they send at once can come back.
        network.attach(name, &node);
        node.kernel(|k| {
            for (id, bytes) in states {
                k.load_state(id, bytes);
            }
            match table {
                Some(table) => k.boot(table),
                None => {
                    for loaded in packages {
                        k.install(&loaded.package.id, loaded.plans.clone());
                    }
                }
            }
        });
        network.booted(name);
        Ok(node)
    }
}
