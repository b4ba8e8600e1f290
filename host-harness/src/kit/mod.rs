//! kit's test packages, run in-process instead of on fake nodes
//! (`host-harness test --kit tests.toml`). As `kit run-tests` does: each
//! `[[tests]]` entry gets a fresh network of its `[[tests.nodes]]`, the
//! setup packages are installed (and started where `run = true`) on every
//! node, and `tester:tester:sys` runs on each. kit sends `Run` to every
//! node's tester, the others first; theirs answer `Run(Ok)` at once, and
//! the first node's (the master's) spawns each test package's process as
//! its own child, with the capabilities the test's manifest asks for plus
//! its own, and sends it `Run` with every node's name; the test answers
//! `Run(Ok)` or a failure with file, line and column, and the master's
//! answer decides. `tester.rs` is that tester.

mod config;
mod tester;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::driver::{Driver, Outgoing};
use crate::kernel::SpawnRequest;
use crate::package::Package;
use crate::report::{compare, NetworkReport};
use crate::scenario::ScenarioResult;
use crate::types::{Capability, InputError, OnExit};
use crate::{NodeSpec, RunError, RunOptions, Session};

pub use config::Suite;

/// One test package's result.
#[derive(Debug)]
pub struct Outcome {
    /// The test package's directory name, as kit names tests.
    pub name: String,
    pub result: Result<(), Failure>,
    /// The `tests.toml` it came from.
    pub file: PathBuf,
    /// How long it ran (for the first of a `[[tests]]` entry, with the
    /// nodes' boot).
    pub duration: Duration,
    /// Node time it ran (on virtual time, what the clock jumped through).
    pub node_time: Duration,
    /// The run's seed: `--seed` replays it.
    pub seed: u64,
}

impl Outcome {
    /// As a scenario's result, for the JSON and JUnit writers.
    pub fn to_result(&self) -> ScenarioResult {
        ScenarioResult {
            name: self.name.clone(),
            file: self.file.clone(),
            failures: self
                .result
                .as_ref()
                .err()
                .map(ToString::to_string)
                .into_iter()
                .collect(),
            duration: self.duration,
            node_time: self.node_time,
            seed: self.seed,
            faults: vec![],
            report: None,
            network: None,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The test answered `Run(Err(..))`: where it failed.
    Failed {
        test: String,
        file: String,
        line: u32,
        column: u32,
    },
    /// It could not run, or did not answer.
    Error(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Failed {
                test,
                file,
                line,
                column,
            } => write!(f, "{test} failed at {file}:{line}:{column}"),
            Failure::Error(reason) => write!(f, "{reason}"),
        }
    }
}

/// Runs every test of the suite at `path`; `options` gives the verbosity
/// and the like (its package fields are replaced). Each `[[tests]]` entry
/// runs on a fresh network of its nodes; their reports come back with the
/// outcomes, one network report per entry.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use host_harness::{kit, RunOptions};
///
/// // `path` is kit's tests.toml, or a package directory holding test/tests.toml.
/// let missing = std::path::Path::new("no-such-package");
/// let err = kit::run_suite(missing, &RunOptions::new(".")).await.unwrap_err();
/// assert_eq!(err.to_string(), "no-such-package: no tests.toml here (nor in test/)");
/// # }
/// ```
pub async fn run_suite(
    path: &Path,
    options: &RunOptions,
) -> Result<(Vec<Outcome>, Vec<NetworkReport>), RunError> {
    let mut options = options.clone();
    let seed = *options.seed.get_or_insert_with(rand::random);
    if !options.virtual_time {
        return run_suite_here(path, &options).await;
    }
    let path = path.to_owned();
    crate::util::sim::simulate(crate::api::SIMULATION_WALL_LIMIT, move || {
        Box::pin(async move { run_suite_here(&path, &options).await })
    })
    .await
    .unwrap_or(Err(RunError::Stuck(crate::api::SIMULATION_WALL_LIMIT)))
    .map(|(mut outcomes, reports)| {
        for outcome in &mut outcomes {
            outcome.seed = seed;
        }
        (outcomes, reports)
    })
}

/// `--check-determinism`: runs the suite twice from one seed (drawn if
/// `options` has none) and says where the two runs first part: the
/// kernel's traces, the tests' outcomes, or the reports. Gives the second
/// run's outcomes.
pub async fn check_determinism(
    path: &Path,
    options: &RunOptions,
) -> Result<(Vec<Outcome>, Option<String>), RunError> {
    let mut options = options.clone();
    options.seed.get_or_insert_with(rand::random);
    options.trace = true;
    let (first, a) = run_suite(path, &options).await?;
    let (second, b) = run_suite(path, &options).await?;
    fn boots(networks: &[NetworkReport]) -> Vec<&crate::report::Report> {
        networks
            .iter()
            .flat_map(|n| n.earlier_boots.iter().chain(&n.nodes))
            .collect()
    }
    let failures = |outcomes: &[Outcome]| -> Vec<Option<String>> {
        outcomes
            .iter()
            .map(|o| o.result.as_ref().err().map(ToString::to_string))
            .collect()
    };
    let difference = compare::trace_difference(&boots(&a), &boots(&b))
        .or_else(|| {
            let (fa, fb) = (failures(&first), failures(&second));
            (fa != fb).then(|| format!("the outcomes differ: {fa:?} against {fb:?}"))
        })
        .or_else(|| {
            let json = |n: &[NetworkReport]| serde_json::to_value(n).unwrap_or_default();
            compare::json_difference(json(&a), json(&b))
        });
    Ok((second, difference))
}

async fn run_suite_here(
    path: &Path,
    options: &RunOptions,
) -> Result<(Vec<Outcome>, Vec<NetworkReport>), RunError> {
    let seed = options.seed.unwrap_or_default();
    let clock = tokio::time::Instant::now();
    let (suite, dir, file) = Suite::load(path)?;
    let mut outcomes = Vec::new();
    let mut reports = Vec::new();
    for test in &suite.tests {
        let started = Instant::now();
        let names: Vec<String> = test
            .test_package_paths
            .iter()
            .map(|p| {
                p.file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned())
            })
            .collect();
        let unsupported = if test.nodes.is_empty() {
            Some("a test needs at least one node ([[tests.nodes]])".to_string())
        } else if !test.test_scripts.is_empty() {
            Some("test_scripts are not supported yet".to_string())
        } else {
            None
        };
        if let Some(reason) = unsupported {
            outcomes.extend(names.iter().map(|name| Outcome {
                name: name.clone(),
                result: Err(Failure::Error(reason.clone())),
                file: file.clone(),
                duration: Duration::ZERO,
                node_time: Duration::ZERO,
                seed,
            }));
            continue;
        }
        let setups: Vec<PathBuf> = test
            .setup_packages
            .iter()
            .filter(|s| s.run)
            .map(|s| dir.join(&s.path))
            .collect();
        let Some(first) = setups.first() else {
            return Err(InputError::invalid(&dir, "a test without a setup package to run").into());
        };
        let node_names: Vec<String> = test
            .nodes
            .iter()
            .map(|n| n.fake_node_name.clone())
            .collect();
        let mut network_options = options.clone();
        network_options.node = node_names[0].clone();
        network_options.package_dir = first.clone();
        network_options.packages = setups[1..].to_vec();
        network_options.nodes = node_names
            .iter()
            .map(|name| NodeSpec {
                name: name.clone(),
                packages: setups.clone(),
            })
            .collect();
        let session = Session::start(&network_options).await?;
        // A tester on every node; the master's (the first's) runs the tests.
        let testers: Vec<Driver> = node_names
            .iter()
            .map(|name| tester::install(&session, name))
            .collect();
        // Let the setup packages start before the tests run, as kit waits
        // for its nodes to boot.
        let mut idle = session.settle(options.timeout).await;
        for (name, relative) in names.iter().zip(&test.test_package_paths) {
            let package = dir.join(relative);
            let result = run_one(
                &testers[0],
                &package,
                &names,
                &node_names,
                test.timeout_secs,
            )
            .await;
            outcomes.push(Outcome {
                name: name.clone(),
                result,
                file: file.clone(),
                duration: started.elapsed(),
                node_time: clock.elapsed(),
                seed,
            });
            idle = session.settle(options.timeout).await;
        }
        drop(testers);
        reports.push(session.finish_network(idle).await);
    }
    Ok((outcomes, reports))
}

/// Spawns one test package's process from the tester and runs it.
async fn run_one(
    tester: &Driver,
    dir: &Path,
    names: &[String],
    nodes: &[String],
    timeout_secs: u64,
) -> Result<(), Failure> {
    let error = |e: String| Failure::Error(e);
    let package = Package::load(dir).map_err(|e| error(e.to_string()))?;
    let [process] = package.processes.as_slice() else {
        return Err(error(format!(
            "{}: a test package has exactly one process",
            dir.display()
        )));
    };
    let bytes = crate::util::read_input(&process.wasm_file).map_err(|e| error(e.to_string()))?;
    let plan = process.install_plan([0; 32], package.metadata.properties.wit_version);
    let mut request_caps: Vec<Capability> = plan
        .request_capabilities
        .iter()
        .map(|(issuer, params)| Capability::new(tester.address(issuer.clone()), params.clone()))
        .collect();
    request_caps.extend(tester.capabilities());
    let file_name = process.wasm_path.trim_start_matches('/');
    // A node's tester would spawn it and wait; the harness says why at once.
    let wasm = tester.load(&bytes).map_err(|reason| {
        error(format!(
            "{}: not a process a node runs: {reason}",
            process.wasm_file.display()
        ))
    })?;
    let spawn = SpawnRequest {
        parent: tester.id().clone(),
        name: None,
        wasm_path: format!("tester:sys/tests/{file_name}"),
        read: Ok(Ok(wasm)),
        on_exit: OnExit::None,
        request_caps,
        grant_caps: plan.grant_capabilities,
        public: false,
    };
    let child = match tester.spawn(spawn) {
        Ok(Ok(child)) => child,
        Ok(Err(e)) => return Err(error(format!("the tester could not spawn it: {e:?}"))),
        Err(trap) => return Err(error(trap)),
    };
    let run = json!({ "Run": {
        "input_node_names": nodes,
        "test_names": names,
        "test_timeout": timeout_secs,
    }});
    let request = Outgoing {
        to: child,
        to_node: None,
        body: run.to_string().into_bytes(),
        blob: None,
        expects_response: Some(timeout_secs),
    };
    let body = match tester.ask(request, Duration::from_secs(timeout_secs)).await {
        Ok(body) => body.unwrap_or_default(),
        Err(no) => {
            return Err(error(format!(
                "no answer to Run within {timeout_secs} s (timeout_secs): {no}"
            )))
        }
    };
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    match answer.pointer("/Run") {
        Some(result) if result.get("Ok").is_some() => Ok(()),
        Some(result) => {
            let failed = result.get("Err").cloned().unwrap_or_default();
            let text = |key: &str| failed[key].as_str().unwrap_or_default().to_string();
            let number = |key: &str| failed[key].as_u64().unwrap_or_default() as u32;
            Err(Failure::Failed {
                test: text("test"),
                file: text("file"),
                line: number("line"),
                column: number("column"),
            })
        }
        None => Err(error(format!(
            "answered {} instead of Run",
            String::from_utf8_lossy(&body)
        ))),
    }
}
