//! kit's test packages, run in-process instead of on fake nodes
//! (`host-harness test --kit tests.toml`). As `kit run-tests` does on a
//! node: the setup packages are installed (and started where `run = true`),
//! then `tester:tester:sys` spawns each test package's process as its own
//! child, with the capabilities the test's manifest asks for plus its own,
//! and sends it `Run`; the test answers `Run(Ok)` or a failure with file,
//! line and column. `tester.rs` is that tester.

mod config;
mod tester;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::bindings::{Address, Capability, Message, OnExit, Request};
use crate::error::InputError;
use crate::kernel::message::KernelMessage;
use crate::kernel::SpawnRequest;
use crate::node::Port;
use crate::package::Package;
use crate::report::Report;
use crate::{RunError, RunOptions, Session};

use crate::modules::Answers;
pub use config::Suite;
use tester::Tester;

/// One test package's result.
#[derive(Debug)]
pub struct Outcome {
    /// The test package's directory name, as kit names tests.
    pub name: String,
    pub result: Result<(), Failure>,
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
/// runs on a fresh node; the reports come back with the outcomes.
pub async fn run_suite(
    path: &Path,
    options: &RunOptions,
) -> Result<(Vec<Outcome>, Vec<Report>), RunError> {
    let (suite, dir) = Suite::load(path)?;
    let mut outcomes = Vec::new();
    let mut reports = Vec::new();
    for test in &suite.tests {
        let names: Vec<String> = test
            .test_package_paths
            .iter()
            .map(|p| {
                p.file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned())
            })
            .collect();
        let unsupported = if test.nodes.len() != 1 {
            Some(format!(
                "needs {} nodes; not supported yet",
                test.nodes.len()
            ))
        } else if !test.test_scripts.is_empty() {
            Some("test_scripts are not supported yet".to_string())
        } else {
            None
        };
        if let Some(reason) = unsupported {
            outcomes.extend(names.iter().map(|name| Outcome {
                name: name.clone(),
                result: Err(Failure::Error(reason.clone())),
            }));
            continue;
        }
        let setups: Vec<PathBuf> = test
            .setup_packages
            .iter()
            .filter(|s| s.run)
            .map(|s| dir.join(&s.path))
            .collect();
        let Some((first, rest)) = setups.split_first() else {
            return Err(InputError::invalid(&dir, "a test without a setup package to run").into());
        };
        let mut node_options = options.clone();
        node_options.node = test.nodes[0].fake_node_name.clone();
        node_options.package_dir = first.clone();
        node_options.packages = rest.to_vec();
        let session = Session::start(&node_options).await?;
        let tester = Tester::install(&session);
        // Let the setup packages start before the tests run, as kit waits
        // for its nodes to boot.
        let mut idle = session.settle(options.timeout).await;
        for (name, relative) in names.iter().zip(&test.test_package_paths) {
            let package = dir.join(relative);
            let result = run_one(&session, &tester, &package, &names, test.timeout_secs).await;
            outcomes.push(Outcome {
                name: name.clone(),
                result,
            });
            idle = session.settle(options.timeout).await;
        }
        reports.push(session.finish(idle).await);
    }
    Ok((outcomes, reports))
}

/// Spawns one test package's process from the tester and runs it.
async fn run_one(
    session: &Session,
    tester: &Answers,
    dir: &Path,
    names: &[String],
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
    let port: Arc<dyn Port> = session.port();
    let node = port.node().to_string();
    let bytes = std::fs::read(&process.wasm_file)
        .map_err(|e| error(format!("{}: {e}", process.wasm_file.display())))?;
    let key = port.load(&bytes);
    let tester_id = Tester::id();
    let mut request_caps: Vec<Capability> = process
        .request_capabilities
        .iter()
        .map(|c| Capability::new(Address::new(&node, c.process.clone()), c.params.clone()))
        .collect();
    request_caps.extend(port.kernel(|k| k.caps_of(&tester_id)));
    let grant_caps = process
        .grant_capabilities
        .iter()
        .map(|c| (c.process.clone(), c.params.clone()))
        .collect();
    let file_name = process.wasm_path.trim_start_matches('/');
    let spawn = SpawnRequest {
        parent: tester_id.clone(),
        name: None,
        wasm_path: format!("tester:sys/tests/{file_name}"),
        read: Ok(key),
        on_exit: OnExit::None,
        request_caps,
        grant_caps,
        public: false,
    };
    let child = match port.kernel(|k| k.spawn(spawn)) {
        Ok(Ok(child)) => child,
        Ok(Err(e)) => return Err(error(format!("the tester could not spawn it: {e:?}"))),
        Err(trap) => return Err(error(trap)),
    };
    let run = json!({ "Run": {
        "input_node_names": [node],
        "test_names": names,
        "test_timeout": timeout_secs,
    }});
    let id: u64 = rand::random();
    let answer = tester.expect(id);
    port.send(KernelMessage {
        id,
        source: Address::new(&node, tester_id),
        target: Address::new(&node, child),
        rsvp: None,
        message: Message::Request(Request {
            inherit: false,
            expects_response: Some(timeout_secs),
            body: run.to_string().into_bytes(),
            metadata: None,
            capabilities: vec![],
        }),
        blob: None,
    });
    let answered = tokio::time::timeout(Duration::from_secs(timeout_secs), answer).await;
    tester.forget(id);
    let body = match answered {
        Ok(Ok(body)) => body,
        _ => {
            return Err(error(format!(
                "no answer to Run within {timeout_secs} s (timeout_secs)"
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
