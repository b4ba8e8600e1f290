//! Scenarios: files in a package's `tests/` that drive it and assert on
//! what happens (`host-harness test [PACKAGE_DIR]`). Each runs isolated, on
//! its own node and home; several run at once. `format.rs` is the file
//! format, `run.rs` runs one, `output.rs` writes JSON and JUnit.
//!
//! From Rust, build a [`Scenario`] from TOML (or field by field) and run
//! it against a built package:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use host_harness::scenario::{run_scenario, Scenario};
//!
//! let scenario = Scenario::from_toml(r#"
//!     [[step]]
//!     expect = { spawn = { child = "spawned-child-process", result = "ok" } }
//!     [[step]]
//!     expect = { holds = { process = "spawned-child-process",
//!                          issuer = "http-client:distro:sys", at_start = true } }
//! "#).unwrap();
//! // The template (built by `make build`) is the package under test.
//! let result = run_scenario(std::path::Path::new(".."), &scenario, "spawn").await;
//! assert!(result.failures.is_empty(), "{:?}", result.failures);
//! # }
//! ```

mod faults;
mod format;
mod output;
mod run;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use format::{
    CrossingWord, Expect, ExpectBlocked, ExpectCap, ExpectCrossed, ExpectExit, ExpectFile,
    ExpectPrint, ExpectSpawn, Fault, FaultKind, FileSeed, Http, LatencyStep, ManifestChange,
    Millis, NodeDecl, NodeList, Nodes, Partition, ProcessRef, RandomFaults, Restart, Scenario,
    Send, SendErrorWord, Step, Target, Wait,
};
pub use output::{to_json, to_junit};

use crate::report::{NetworkReport, Report};
use crate::types::InputError;

/// How one scenario went.
#[derive(Debug)]
pub struct ScenarioResult {
    pub name: String,
    pub file: PathBuf,
    /// Empty when it passed; otherwise what was expected and what happened.
    pub failures: Vec<String>,
    /// Real time it took.
    pub duration: Duration,
    /// Node time it took (on virtual time, what the clock jumped through).
    pub node_time: Duration,
    /// The seed it ran from: `--seed` replays it.
    pub seed: u64,
    /// The faults the run added to the scenario's own (drawn or given).
    pub faults: Vec<Fault>,
    /// The run's report (its first node's), when the run started.
    pub report: Option<Report>,
    /// Every node's report and what crossed between them, for a scenario
    /// of several nodes.
    pub network: Option<NetworkReport>,
}

impl ScenarioResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// How scenarios run: on virtual time unless `real_time`, from `seed`
/// (default: a fresh one each, reported).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub real_time: bool,
    pub seed: Option<u64>,
    /// Run each scenario twice from its seed and fail it, naming the first
    /// event where they part, if the two runs differ.
    pub check_determinism: bool,
    /// Keep every kernel event in the reports' traces.
    pub trace: bool,
    /// Faults besides the scenario's own `[[fault]]`s.
    pub faults: Faults,
    /// `our_capabilities()` shuffled by the seed (`None`: on virtual time).
    pub shuffle_capabilities: Option<bool>,
    /// Keep each run's timeline in its reports (`--html`, `--trace`).
    pub timeline: bool,
}

/// Which faults a run adds to the scenario's own.
#[derive(Debug, Clone, Default)]
pub enum Faults {
    #[default]
    None,
    /// A schedule drawn from the run's seed, within the scenario's
    /// `random_faults` bounds (`--faults`).
    Random,
    /// This schedule (a shrunk one, say).
    Exactly(Vec<Fault>),
}

/// Runs `scenario` against the package in `package_dir`, on virtual time
/// from a fresh seed.
pub async fn run_scenario(package_dir: &Path, scenario: &Scenario, name: &str) -> ScenarioResult {
    run_scenario_with(package_dir, scenario, name, &Settings::default()).await
}

/// [`run_scenario`] with `settings`.
pub async fn run_scenario_with(
    package_dir: &Path,
    scenario: &Scenario,
    name: &str,
    settings: &Settings,
) -> ScenarioResult {
    let name = scenario.name.clone().unwrap_or_else(|| name.to_string());
    run::run(package_dir, scenario, name, PathBuf::new(), settings).await
}

/// The scenario files in `package_dir/tests`, sorted, kept if their name
/// contains `filter`.
pub fn find(package_dir: &Path, filter: Option<&str>) -> Result<Vec<PathBuf>, InputError> {
    let dir = package_dir.join("tests");
    let entries = std::fs::read_dir(&dir).map_err(|source| InputError::Read {
        path: dir.clone(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| {
            filter.is_none_or(|f| {
                p.file_stem()
                    .is_some_and(|s| s.to_string_lossy().contains(f))
            })
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Reads every file first (a bad one is an input error naming it), then
/// runs them, `jobs` at a time.
pub async fn run_files(
    package_dir: &Path,
    files: &[PathBuf],
    jobs: usize,
) -> Result<Vec<ScenarioResult>, InputError> {
    run_files_with(package_dir, files, jobs, &Settings::default()).await
}

/// [`run_files`] with `settings`.
pub async fn run_files_with(
    package_dir: &Path,
    files: &[PathBuf],
    jobs: usize,
    settings: &Settings,
) -> Result<Vec<ScenarioResult>, InputError> {
    let seeds = [settings.seed];
    run_sweep_of(package_dir, files, &seeds, None, jobs, settings).await
}

/// Every scenario under every seed of `seeds` (`--seeds`), `jobs` runs at
/// once; with `partition` `(k, m)`, only the k-th of every m runs (k from
/// 1), so m machines share a sweep. Results come in file order, then
/// seed order.
pub async fn run_sweep(
    package_dir: &Path,
    files: &[PathBuf],
    seeds: &[u64],
    partition: Option<(usize, usize)>,
    jobs: usize,
    settings: &Settings,
) -> Result<Vec<ScenarioResult>, InputError> {
    let seeds: Vec<Option<u64>> = seeds.iter().copied().map(Some).collect();
    run_sweep_of(package_dir, files, &seeds, partition, jobs, settings).await
}

/// Reads each file (a bad one is an input error naming it).
pub fn load(file: &Path) -> Result<(String, Scenario), InputError> {
    let text = crate::util::read_input_text(file)?;
    let scenario = Scenario::from_toml(&text).map_err(|e| InputError::invalid(file, e))?;
    let stem = file
        .file_stem()
        .map_or(String::new(), |s| s.to_string_lossy().into_owned());
    Ok((scenario.name.clone().unwrap_or(stem), scenario))
}

async fn run_sweep_of(
    package_dir: &Path,
    files: &[PathBuf],
    seeds: &[Option<u64>],
    partition: Option<(usize, usize)>,
    jobs: usize,
    settings: &Settings,
) -> Result<Vec<ScenarioResult>, InputError> {
    let mut scenarios = Vec::new();
    for file in files {
        let (name, scenario) = load(file)?;
        scenarios.push((name, scenario, file.clone()));
    }
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut running = Vec::new();
    let mut index = 0;
    for (name, scenario, file) in &scenarios {
        for seed in seeds {
            index += 1;
            if let Some((k, m)) = partition {
                if (index - 1) % m != k - 1 {
                    continue;
                }
            }
            let (limit, dir) = (limit.clone(), package_dir.to_owned());
            let settings = Settings {
                seed: *seed,
                ..settings.clone()
            };
            let (name, scenario, file) = (name.clone(), scenario.clone(), file.clone());
            running.push(tokio::spawn(async move {
                let _turn = limit.acquire_owned().await;
                run::run(&dir, &scenario, name, file, &settings).await
            }));
        }
    }
    let mut results = Vec::new();
    for task in running {
        match task.await {
            Ok(result) => results.push(result),
            Err(e) => results.push(ScenarioResult {
                name: "?".into(),
                file: PathBuf::new(),
                failures: vec![format!("the scenario's task failed: {e}")],
                duration: Duration::ZERO,
                node_time: Duration::ZERO,
                seed: settings.seed.unwrap_or_default(),
                faults: vec![],
                report: None,
                network: None,
            }),
        }
    }
    Ok(results)
}

/// Where a scenario first failed ("step 3"): a shrunk schedule must keep
/// failing there.
fn failing_step(result: &ScenarioResult) -> Option<String> {
    let first = result.failures.first()?;
    Some(first.split(':').next().unwrap_or(first).to_string())
}

/// The smallest part of a failed run's added faults that still fails the
/// scenario at the same step, from the same seed: fewer faults, earlier,
/// shorter (at most `budget` more runs). `None` if the run did not fail
/// or added none.
pub async fn shrink_faults(
    package_dir: &Path,
    scenario: &Scenario,
    failed: &ScenarioResult,
    settings: &Settings,
    budget: usize,
) -> Option<Vec<Fault>> {
    let step = failing_step(failed)?;
    if failed.faults.is_empty() {
        return None;
    }
    // The units as drawn: a drawn schedule comes in pairs.
    let units: Vec<faults::Unit> = failed.faults.chunks(2).map(<[Fault]>::to_vec).collect();
    let shrunk = faults::shrink(units, budget, |schedule: Vec<Fault>| {
        let settings = Settings {
            seed: Some(failed.seed),
            check_determinism: false,
            faults: Faults::Exactly(schedule),
            ..settings.clone()
        };
        let (dir, scenario, name, file) = (
            package_dir.to_owned(),
            scenario.clone(),
            failed.name.clone(),
            failed.file.clone(),
        );
        let step = step.clone();
        async move {
            let result = run::run(&dir, &scenario, name, file, &settings).await;
            failing_step(&result).as_deref() == Some(step.as_str())
        }
    })
    .await;
    Some(shrunk.concat())
}

/// A schedule as `[[fault]]` entries to paste into a scenario file.
pub fn faults_to_toml(faults: &[Fault]) -> String {
    faults::to_toml(faults)
}
