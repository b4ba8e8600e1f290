//! `host-harness run [PACKAGE_DIR]`: run a Kinode package the way a node
//! would and report what happened. `host-harness test --kit tests.toml`:
//! run kit's test packages in-process. Exit codes: 0 all went well, 1 a
//! process trapped, a check or a test failed, 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use host_harness::view::Timeline;
use host_harness::{report, run, HttpMock, NodeSpec, RunError, RunOptions, Runtime};

#[derive(Parser)]
#[command(
    version,
    about = "Run Kinode packages in-process, as the Kinode kernel would"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install and run a package, then report what happened
    Run(RunArgs),
    /// Run the package's scenarios (tests/*.toml), or with --kit, kit's test packages
    Test(TestArgs),
    /// Measure the harness's speed on the template (built) and the probe guest
    Bench {
        /// The template's directory
        #[arg(default_value = ".")]
        workspace: PathBuf,
        /// The probe guest (`make test-guests` builds it)
        #[arg(long, default_value = "target/test-guests/probe.wasm")]
        probe: PathBuf,
        /// kit's chat template, built (holding test/tests.toml): time its two-node suite too
        #[arg(long, value_name = "DIR")]
        kit_chat: Option<PathBuf>,
        /// Only write the timeline page of a flood of 100,000 events here (`make bench` times Chromium loading it)
        #[arg(long, value_name = "FILE")]
        flood_page: Option<PathBuf>,
        /// Print the results as a JSON object
        #[arg(long)]
        json: bool,
    },
    /// Start a new package from this template (`make new` calls this)
    New(NewArgs),
    /// Write target/<package>:<publisher>.zip of pkg/ as kit does and print its SHA-256
    Package(PackageArgs),
    /// Plug a component's exports into another's imports, as `wasm-tools compose IN -d DEF -o OUT` does for kit
    Compose {
        /// The component whose imports are to be satisfied
        importer: PathBuf,
        /// The component that exports what it imports
        #[arg(short = 'd', long = "definition")]
        definition: PathBuf,
        /// Where to write the result (may be the importer itself)
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Make the component a node loads from a wasm32-wasip1 core module
    Componentize {
        /// The core module cargo built, e.g. target/wasm32-wasip1/wasm-release/child.wasm
        module: PathBuf,
        /// Where to write the component, e.g. pkg/child.wasm
        output: PathBuf,
    },
}

#[derive(Args)]
struct NewArgs {
    /// The package name (a-z, 0-9, `-`)
    #[arg(long)]
    name: String,
    /// The publisher: a node name such as `me.os`
    #[arg(long)]
    publisher: String,
    /// Where to write it (default: ../<name> beside the template); must be new or empty
    #[arg(long)]
    dest: Option<PathBuf>,
    /// A new name for the `parent` process
    #[arg(long)]
    parent: Option<String>,
    /// A new name for the `child` process (the spawned name follows: spawned-<child>-process)
    #[arg(long)]
    child: Option<String>,
    /// The template to copy
    #[arg(long, default_value = ".")]
    from: PathBuf,
    /// The runtime (and so the SDK) the new package builds for by default: kinode
    /// (Kinode 1.0, kinode_process_lib) or hyperware (hyperdrive, hyperware_process_lib)
    #[arg(long, default_value = "kinode")]
    flavor: Runtime,
}

#[derive(Args)]
struct PackageArgs {
    /// The package directory (holding metadata.json and pkg/)
    #[arg(default_value = ".")]
    package_dir: PathBuf,
    /// Record the hash in metadata.json as code_hashes[current_version]
    #[arg(long, conflicts_with = "check")]
    update_hash: bool,
    /// Fail unless metadata.json already records the archive's hash
    #[arg(long)]
    check: bool,
}

#[derive(Args)]
struct TestArgs {
    /// The package directory; its scenarios are tests/*.toml
    #[arg(default_value = ".")]
    package_dir: PathBuf,
    /// Only the scenarios whose file name contains this
    #[arg(long)]
    filter: Option<String>,
    /// Write the results as JSON to this file (`-` for stdout)
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the results as JUnit XML to this file
    #[arg(long)]
    junit: Option<PathBuf>,
    /// How many scenarios run at once (default: the number of cores)
    #[arg(short = 'j', long)]
    jobs: Option<usize>,
    /// Run kit's test packages instead: its tests.toml (or a directory holding it)
    #[arg(long)]
    kit: Option<PathBuf>,
    /// Compile every component afresh instead of using the compilation cache
    #[arg(long)]
    no_cache: bool,
    /// Terminal verbosity for --kit runs, as on a node
    #[arg(short, long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
    verbosity: u8,
    /// How long --kit setup packages may take to settle before tests run, in seconds
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// Seed every random choice (ids, keys, latencies, the processes' yields): the same seed
    /// replays a run byte for byte; without it each run draws one and reports it
    #[arg(long)]
    seed: Option<u64>,
    /// Run on the wall clock instead of virtual node time (waits take as long as they say)
    #[arg(long)]
    real_time: bool,
    /// Run each scenario (or kit suite) twice from one seed and fail it, naming the first event
    /// where the two runs differ, if they do
    #[arg(long, conflicts_with = "real_time")]
    check_determinism: bool,
    /// Sweep seeds: run every scenario under each of N seeds (0..N), or a range A..B; the
    /// failing seeds are listed with the command that replays each
    #[arg(long, value_name = "N|A..B", conflicts_with_all = ["seed", "real_time"])]
    seeds: Option<String>,
    /// Run only the K-th of every M runs of a sweep (as `cargo nextest --partition`), so M
    /// machines can share one
    #[arg(long, value_name = "K/M", requires = "seeds")]
    partition: Option<String>,
    /// Each seed also draws faults (crashes, partitions, latency spikes at node times, within
    /// the scenario's `random_faults`); a failing seed's faults are shrunk to the smallest
    /// schedule that still fails, printed as [[fault]] entries to paste into the scenario
    #[arg(long, conflicts_with = "real_time")]
    faults: bool,
    /// The order `our_capabilities()` gives: `shuffled` by the seed (the default on virtual
    /// time: a node gives its hash map's arbitrary order) or `kept` (the order received)
    #[arg(long, value_name = "shuffled|kept")]
    capability_order: Option<CapabilityOrder>,
    /// Write each scenario's timeline as an HTML page into this directory, with an index.html
    /// linking them all (one file each, openable offline)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["seeds", "kit"])]
    html: Option<PathBuf>,
    /// Write each scenario's timeline as a Chrome trace (Perfetto, chrome://tracing) into this
    /// directory
    #[arg(long, value_name = "DIR", conflicts_with_all = ["seeds", "kit"])]
    trace: Option<PathBuf>,
    /// Keep going: on every save, rebuild the processes that changed (`make build`) and rerun
    /// the scenarios, printing only what changed since the last run
    #[arg(long, conflicts_with_all = ["seeds", "kit", "json", "junit", "faults"])]
    watch: bool,
}

/// `--capability-order`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CapabilityOrder {
    Shuffled,
    Kept,
}

fn shuffled(order: Option<CapabilityOrder>) -> Option<bool> {
    order.map(|o| o == CapabilityOrder::Shuffled)
}

#[derive(Args)]
struct RunArgs {
    /// The package directory (holding metadata.json and pkg/)
    #[arg(default_value = ".")]
    package_dir: PathBuf,
    /// The node's name
    #[arg(long, default_value = "fake.os", conflicts_with = "nodes")]
    node: String,
    /// Run the package on each of these nodes (comma-separated, e.g. a.os,b.os), in one
    /// network where they can message each other; the report covers every node
    #[arg(long, value_delimiter = ',', value_name = "NODES")]
    nodes: Vec<String>,
    /// Terminal verbosity, as on a node: 0 always, 1 debug, 2 runtime info, 3 every message
    #[arg(short, long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
    verbosity: u8,
    /// Stop after this many seconds even if something is still in flight
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Write the report as JSON to this file (`-` for stdout)
    #[arg(long)]
    json: Option<PathBuf>,
    /// A JSON array of canned HTTP answers: [{"method": "GET", "url": .., "status": 200, "body": ..}]
    #[arg(long)]
    http_mocks: Option<PathBuf>,
    /// The node's home directory, kept after the run (the next run sees what this one
    /// wrote); without it, a temporary home is removed at the end
    #[arg(long)]
    home: Option<PathBuf>,
    /// Port of the local HTTP server that bound paths are served on (default: a free one)
    #[arg(long)]
    http_port: Option<u16>,
    /// Keep running and serving HTTP until Ctrl-C, to try the package in a browser
    #[arg(long)]
    serve: bool,
    /// Compile every component afresh instead of using the compilation cache
    #[arg(long)]
    no_cache: bool,
    /// Trap a process that computes this many seconds without waiting for a message
    #[arg(long, value_name = "SECS")]
    cpu_limit: Option<f64>,
    /// Trap a process whose memory would grow past this many MiB
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    memory_limit: usize,
    /// The most MiB one request may make the harness itself hold (a vfs read, an unzip,
    /// an HTTP body); a node has no such bound
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    host_memory_limit: u64,
    /// Another package to install on the same node (repeat for more)
    #[arg(long = "package", value_name = "DIR")]
    packages: Vec<PathBuf>,
    /// Whose rules to follow: kinode-1.0 or hyperdrive (default: what the package's
    /// components were built for)
    #[arg(long, value_name = "RUNTIME")]
    runtime: Option<Runtime>,
    /// Seed every random choice of the run (message ids, unnamed spawns, keys): the same
    /// seed gives the same ids; without it a fresh seed is used and reported
    #[arg(long)]
    seed: Option<u64>,
    /// Blocked messages are expected: report them without failing the run
    #[arg(long)]
    allow_blocked: bool,
    /// Run on the wall clock instead of virtual node time (`--serve` always does)
    #[arg(long)]
    real_time: bool,
    /// The order `our_capabilities()` gives: `shuffled` by the seed (the default on virtual
    /// time) or `kept` (the order received)
    #[arg(long, value_name = "shuffled|kept")]
    capability_order: Option<CapabilityOrder>,
    /// Write the run's timeline as one HTML page (a lane per process, an arrow per message;
    /// openable offline)
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the run's timeline as a Chrome trace (open it in ui.perfetto.dev or
    /// chrome://tracing)
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
}

/// One day: long enough for any test run, short enough for `Instant` math.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// `value` seconds of `flag`: more than 0, at most a day.
fn check_seconds(flag: &str, value: f64) -> Result<Duration, ExitCode> {
    if value > 0.0 && value <= MAX_TIMEOUT_SECS {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(fail(format!(
            "{flag} {value}: must be more than 0 and at most {MAX_TIMEOUT_SECS} seconds"
        )))
    }
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let command = Cli::parse().command;
    let no_cache = match &command {
        Command::Run(args) => args.no_cache,
        Command::Test(args) => args.no_cache,
        _ => false,
    };
    if no_cache {
        host_harness::disable_disk_cache();
    }
    if matches!(command, Command::Test(_)) {
        // Scenario runs make and remove many small files: in memory.
        host_harness::temp_in_memory();
    }
    let code = match command {
        Command::Test(args) => match (&args.kit, check_seconds("--timeout", args.timeout)) {
            (_, Err(code)) => code,
            (Some(kit), Ok(timeout)) => test_kit(&runtime, kit, &args, timeout),
            (None, Ok(_)) => test_scenarios(&runtime, &args),
        },
        Command::Run(args) => run_package(&runtime, args),
        Command::Bench {
            workspace,
            probe,
            flood_page: Some(page),
            ..
        } => {
            let child = workspace.join("pkg/child.wasm");
            match runtime.block_on(host_harness::bench::flood_page(&probe, &child, 100_000)) {
                Ok(html) => match host_harness::view::write(&page, &html) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(e.to_string()),
                },
                Err(e) => fail(e),
            }
        }
        Command::Bench {
            workspace,
            probe,
            kit_chat,
            json,
            flood_page: None,
        } => match runtime.block_on(host_harness::bench::measure(
            &workspace,
            &probe,
            kit_chat.as_deref(),
        )) {
            Ok(results) if json => {
                println!("{}", serde_json::to_string_pretty(&results).expect("JSON"));
                ExitCode::SUCCESS
            }
            Ok(results) => {
                println!("{results:#?}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::New(args) => new_package(args),
        Command::Package(args) => package(args),
        Command::Compose {
            importer,
            definition,
            output,
        } => match componentize::compose(&importer, &definition) {
            Ok(bytes) => match std::fs::write(&output, &bytes) {
                Ok(()) => {
                    println!(
                        "{}: {:.1} KB",
                        output.display(),
                        bytes.len() as f64 / 1000.0
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("{}: cannot write: {e}", output.display())),
            },
            Err(e) => fail(e.to_string()),
        },
        Command::Componentize { module, output } => {
            match componentize::componentize_file(&module, &output) {
                Ok(_) => {
                    let size = std::fs::metadata(&output).map_or(0, |m| m.len());
                    println!("{}: {:.1} KB", output.display(), size as f64 / 1000.0);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.to_string()),
            }
        }
    };
    // Every task of a run is aborted, but a process still computing in
    // wasm at the timeout only notices at its next yield: do not wait.
    runtime.shutdown_background();
    code
}

fn new_package(args: NewArgs) -> ExitCode {
    use host_harness::template::{create, NewPackage};

    let mut renames = Vec::new();
    for (flag, old, new) in [
        ("--parent", "parent", &args.parent),
        ("--child", "child", &args.child),
    ] {
        if let Some(new) = new {
            renames.push((old.to_string(), new.clone(), flag.to_string()));
        }
    }
    let dest = args
        .dest
        .unwrap_or_else(|| args.from.join("..").join(&args.name));
    let request = NewPackage {
        name: args.name,
        publisher: args.publisher,
        renames,
        dest,
        runtime: args.flavor,
    };
    match create(&args.from, &request) {
        Ok(created) => {
            println!(
                "created {} in {} ({} files; processes: {})",
                created.package_id,
                created.dir.display(),
                created.files.len(),
                created.processes.join(", ")
            );
            println!(
                "next: cd {} && make run && make test",
                created.dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.to_string()),
    }
}

fn package(args: PackageArgs) -> ExitCode {
    use host_harness::package::archive;

    let written = archive::write(&args.package_dir);
    let archive = match written {
        Ok(archive) => archive,
        Err(e) => return fail(e.to_string()),
    };
    println!("{}", archive.path.display());
    println!("sha256 {}", archive.sha256);
    if args.update_hash {
        if let Err(e) = archive::record_hash(&args.package_dir, &archive.sha256) {
            return fail(e.to_string());
        }
        println!("recorded in metadata.json as the current version's code hash");
    }
    if args.check {
        if let Err(e) = archive::check(&args.package_dir, &archive) {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
        println!("metadata.json's code hash matches");
    }
    ExitCode::SUCCESS
}

fn test_kit(
    runtime: &tokio::runtime::Runtime,
    kit: &std::path::Path,
    args: &TestArgs,
    timeout: Duration,
) -> ExitCode {
    let mut options = RunOptions::new(".");
    options.verbosity = args.verbosity;
    options.quiet = args.verbosity == 0;
    options.timeout = timeout;
    options.seed = args.seed;
    options.virtual_time = !args.real_time;
    options.shuffle_capabilities = shuffled(args.capability_order);
    if args.faults {
        return fail("--faults takes a package's scenarios, not --kit".into());
    }
    // A sweep runs the suite once per seed (its K-th of every M with
    // --partition).
    let seeds: Vec<Option<u64>> = match &args.seeds {
        None => vec![args.seed],
        Some(text) => {
            let seeds = match parse_seeds(text) {
                Ok(seeds) => seeds,
                Err(e) => return fail(e),
            };
            let partition = match args.partition.as_deref().map(parse_partition).transpose() {
                Ok(partition) => partition,
                Err(e) => return fail(e),
            };
            seeds
                .into_iter()
                .enumerate()
                .filter(|(i, _)| partition.is_none_or(|(k, m)| i % m == k - 1))
                .map(|(_, seed)| Some(seed))
                .collect()
        }
    };
    let mut results = Vec::new();
    for seed in seeds {
        options.seed = seed;
        let ran = if args.check_determinism {
            runtime.block_on(host_harness::kit::check_determinism(kit, &options))
        } else {
            runtime
                .block_on(host_harness::kit::run_suite(kit, &options))
                .map(|(outcomes, _)| (outcomes, None))
        };
        let (outcomes, difference) = match ran {
            Ok(ran) => ran,
            Err(RunError::Input(e)) => return fail(e.to_string()),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        };
        let start = results.len();
        results.extend(outcomes.iter().map(|o| o.to_result()));
        if let (Some(difference), Some(first)) = (difference, results.get_mut(start)) {
            first.failures.push(format!(
                "not deterministic: two runs from seed {} differ: {difference}",
                first.seed
            ));
        }
    }
    report_results(&results, args)
}

/// Prints each result (unless the JSON goes to stdout), writes the JSON
/// and JUnit files asked for, and gives the exit code.
fn report_results(results: &[host_harness::scenario::ScenarioResult], args: &TestArgs) -> ExitCode {
    use host_harness::scenario;

    let to_stdout = args.json.as_deref() == Some(std::path::Path::new("-"));
    // Under a seed the output replays byte for byte: no wall time in it.
    let seeded = args.seed.is_some();
    let timing = |result: &scenario::ScenarioResult| {
        let node = result.node_time.as_secs_f64();
        if seeded {
            format!("node time {node:.3} s")
        } else {
            format!(
                "{} ms; node time {node:.3} s; seed {}",
                result.duration.as_millis(),
                result.seed
            )
        }
    };
    if !to_stdout {
        for result in results {
            if result.passed() {
                println!("PASS {} ({})", result.name, timing(result));
            } else {
                println!("FAIL {} ({})", result.name, timing(result));
                for failure in &result.failures {
                    for line in failure.lines() {
                        println!("  {line}");
                    }
                }
                if !args.real_time {
                    let what = match &args.kit {
                        Some(kit) => format!("--kit {}", kit.display()),
                        None => {
                            let stem = result.file.file_stem().unwrap_or_default();
                            format!(
                                "{} --filter {}",
                                args.package_dir.display(),
                                stem.to_string_lossy()
                            )
                        }
                    };
                    let faults = if args.faults { " --faults" } else { "" };
                    println!(
                        "  replay: host-harness test {what} --seed {}{faults}",
                        result.seed
                    );
                }
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    if let Some(path) = &args.json {
        let text =
            serde_json::to_string_pretty(&scenario::to_json(results, !seeded)).expect("JSON");
        if to_stdout {
            println!("{text}");
        } else if let Err(e) = std::fs::write(path, text + "\n") {
            return fail(format!("{}: cannot write: {e}", path.display()));
        }
    }
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, scenario::to_junit(results, !seeded)) {
            return fail(format!("{}: cannot write: {e}", path.display()));
        }
    }
    if !to_stdout {
        println!("{} passed, {failed} failed", results.len() - failed);
        if args.seeds.is_some() && failed > 0 {
            let seeds: std::collections::BTreeSet<u64> = results
                .iter()
                .filter(|r| !r.passed())
                .map(|r| r.seed)
                .collect();
            let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
            println!("failing seeds: {}", seeds.join(", "));
        }
        if !seeded && !args.real_time && results.iter().any(|r| !r.node_time.is_zero()) {
            let node: f64 = results.iter().map(|r| r.node_time.as_secs_f64()).sum();
            let wall: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
            println!(
                "node time {node:.3} s in {wall:.3} s of real time ({:.0}×)",
                node / wall.max(1e-9)
            );
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn test_scenarios(runtime: &tokio::runtime::Runtime, args: &TestArgs) -> ExitCode {
    use host_harness::scenario;

    let files = match scenario::find(&args.package_dir, args.filter.as_deref()) {
        Ok(files) if files.is_empty() => {
            return fail(format!(
                "{}: no scenario files (tests/*.toml){}",
                args.package_dir.display(),
                args.filter
                    .as_ref()
                    .map_or(String::new(), |f| format!(" matching `{f}`"))
            ))
        }
        Ok(files) => files,
        Err(e) => return fail(e.to_string()),
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let settings = scenario::Settings {
        real_time: args.real_time,
        seed: args.seed,
        check_determinism: args.check_determinism,
        trace: false,
        faults: if args.faults {
            scenario::Faults::Random
        } else {
            scenario::Faults::None
        },
        shuffle_capabilities: shuffled(args.capability_order),
        timeline: args.html.is_some() || args.trace.is_some(),
    };
    if args.watch {
        return watch_scenarios(runtime, args, jobs, &settings);
    }
    let ran = match (&args.seeds, &args.partition) {
        (None, _) => runtime.block_on(scenario::run_files_with(
            &args.package_dir,
            &files,
            jobs,
            &settings,
        )),
        (Some(seeds), partition) => {
            let seeds = match parse_seeds(seeds) {
                Ok(seeds) => seeds,
                Err(e) => return fail(e),
            };
            let partition = match partition.as_deref().map(parse_partition).transpose() {
                Ok(partition) => partition,
                Err(e) => return fail(e),
            };
            runtime.block_on(scenario::run_sweep(
                &args.package_dir,
                &files,
                &seeds,
                partition,
                jobs,
                &settings,
            ))
        }
    };
    let results = match ran {
        Ok(results) => results,
        Err(e) => return fail(e.to_string()),
    };
    let code = report_results(&results, args);
    if let Err(code) = write_scenario_views(&results, args) {
        return code;
    }
    if args.faults {
        shrink_failures(runtime, &results, args, &settings);
    }
    code
}

/// `test --watch`: the first run in full, then what each save changes.
fn watch_scenarios(
    runtime: &tokio::runtime::Runtime,
    args: &TestArgs,
    jobs: usize,
    settings: &host_harness::scenario::Settings,
) -> ExitCode {
    use host_harness::{scenario, watch};
    let run = |first: bool| {
        // Scenario files may come and go between runs.
        let files = scenario::find(&args.package_dir, args.filter.as_deref()).unwrap_or_default();
        let ran = runtime.block_on(scenario::run_files_with(
            &args.package_dir,
            &files,
            jobs,
            settings,
        ));
        match ran {
            Ok(results) => {
                if first {
                    report_results(&results, args);
                }
                let _ = write_scenario_views(&results, args);
                results
                    .iter()
                    .map(|r| watch::Outcome {
                        name: r.name.clone(),
                        failures: r.failures.clone(),
                    })
                    .collect()
            }
            Err(e) => {
                println!("{e}");
                Vec::new()
            }
        }
    };
    match watch::watch(&args.package_dir, run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// `test --html DIR` and `--trace DIR`: each scenario's timeline, and an
/// index page.
fn write_scenario_views(
    results: &[host_harness::scenario::ScenarioResult],
    args: &TestArgs,
) -> Result<(), ExitCode> {
    let dirs = [&args.html, &args.trace];
    for dir in dirs.into_iter().flatten() {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("{}: cannot create: {e}", dir.display())))?;
    }
    let mut index = Vec::new();
    for result in results {
        let stem: String = result
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let timeline = match (&result.network, &result.report) {
            (Some(network), _) => {
                Timeline::of_network(&result.name, network, result.failures.clone())
            }
            (None, Some(report)) => {
                Timeline::of_report(&result.name, report, result.failures.clone())
            }
            (None, None) => continue,
        };
        let views = Views {
            html: args.html.as_ref().map(|d| d.join(format!("{stem}.html"))),
            trace: args
                .trace
                .as_ref()
                .map(|d| d.join(format!("{stem}.trace.json"))),
        };
        views.write(&timeline)?;
        index.push((result.name.clone(), format!("{stem}.html"), result.passed()));
    }
    if let Some(dir) = &args.html {
        let title = format!("scenarios of {}", args.package_dir.display());
        let path = dir.join("index.html");
        host_harness::view::write(&path, &host_harness::view::index(&title, &index))
            .map_err(|e| fail(e.to_string()))?;
        println!("timelines: {}", path.display());
    }
    Ok(())
}

/// `--seeds N` (0..N) or `A..B`.
fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds {text}: give a count (`100`) or a range (`1000..2000`)");
    let (from, to) = match text.split_once("..") {
        Some((a, b)) => (
            a.trim().parse::<u64>().map_err(|_| bad())?,
            b.trim().parse::<u64>().map_err(|_| bad())?,
        ),
        None => (0, text.trim().parse::<u64>().map_err(|_| bad())?),
    };
    if from >= to || to - from > 1_000_000 {
        return Err(format!(
            "--seeds {text}: an empty range, or more than a million seeds"
        ));
    }
    Ok((from..to).collect())
}

/// `--partition K/M` (or nextest's `count:K/M`).
fn parse_partition(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--partition {text}: give K/M with 1 <= K <= M, e.g. 2/4");
    let plain = text.strip_prefix("count:").unwrap_or(text);
    let (k, m) = plain.split_once('/').ok_or_else(bad)?;
    let (k, m) = (
        k.trim().parse::<usize>().map_err(|_| bad())?,
        m.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if k == 0 || k > m {
        return Err(bad());
    }
    Ok((k, m))
}

/// For each failed run that drew faults: the smallest schedule that still
/// fails it the same way, ready to paste into its scenario.
fn shrink_failures(
    runtime: &tokio::runtime::Runtime,
    results: &[host_harness::scenario::ScenarioResult],
    args: &TestArgs,
    settings: &host_harness::scenario::Settings,
) {
    use host_harness::scenario;
    // One shrink per scenario and way of failing (its first failing step).
    let mut seen = std::collections::BTreeSet::new();
    for failed in results
        .iter()
        .filter(|r| !r.passed() && !r.faults.is_empty())
    {
        let step = failed.failures[0]
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string();
        if !seen.insert((failed.file.clone(), step)) {
            continue;
        }
        let Ok((_, scenario)) = scenario::load(&failed.file) else {
            continue;
        };
        let shrunk = runtime.block_on(scenario::shrink_faults(
            &args.package_dir,
            &scenario,
            failed,
            settings,
            40,
        ));
        if let Some(schedule) = shrunk {
            println!(
                "\n{} (seed {}) still fails with just these faults ({} of {}); paste them into {}:\n",
                failed.name,
                failed.seed,
                schedule.len(),
                failed.faults.len(),
                failed.file.display()
            );
            print!("{}", scenario::faults_to_toml(&schedule));
        }
    }
}

fn run_package(runtime: &tokio::runtime::Runtime, args: RunArgs) -> ExitCode {
    let RunArgs {
        package_dir,
        node,
        nodes,
        verbosity,
        timeout,
        json,
        http_mocks,
        home,
        http_port,
        serve,
        packages,
        no_cache: _,
        cpu_limit,
        memory_limit,
        host_memory_limit,
        runtime: flavor,
        seed,
        allow_blocked,
        real_time,
        capability_order,
        html,
        trace,
    } = args;
    let cpu_limit = match cpu_limit
        .map(|c| check_seconds("--cpu-limit", c))
        .transpose()
    {
        Ok(limit) => limit,
        Err(code) => return code,
    };
    // A process's memory is a wasm32 memory: 4 GiB at most.
    if memory_limit == 0 || memory_limit > 4096 {
        return fail(format!(
            "--memory-limit {memory_limit}: must be 1 to 4096 MiB (a process's wasm32 memory)"
        ));
    }
    if host_memory_limit == 0 {
        return fail("--host-memory-limit: must be at least 1 MiB".into());
    }
    let timeout = match check_seconds("--timeout", timeout) {
        Ok(timeout) => timeout,
        Err(code) => return code,
    };
    let http_mocks = match http_mocks.map(|path| read_mocks(&path)).transpose() {
        Ok(mocks) => mocks.unwrap_or_default(),
        Err(message) => return fail(message),
    };
    let json_to_stdout = json.as_deref() == Some(std::path::Path::new("-"));
    let options = RunOptions {
        package_dir,
        node,
        verbosity,
        quiet: json_to_stdout,
        timeout,
        http_mocks,
        home,
        http_port,
        packages,
        memory_limit: memory_limit.saturating_mul(1 << 20),
        host_memory_limit: host_memory_limit.saturating_mul(1 << 20),
        cpu_limit,
        serve,
        runtime: flavor,
        seed,
        allow_blocked,
        nodes: vec![],
        // Virtual node time unless someone may talk to it from outside.
        virtual_time: !(real_time || serve),
        trace: false,
        timeline: html.is_some() || trace.is_some(),
        shuffle_capabilities: shuffled(capability_order),
    };
    let views = Views { html, trace };
    let mut options = options;
    if !nodes.is_empty() {
        let names: Vec<&str> = nodes.iter().map(String::as_str).collect();
        options.nodes = NodeSpec::same(&names, &options);
        return run_nodes(runtime, &options, json.as_deref(), json_to_stdout, &views);
    }
    let report = match runtime.block_on(run(&options)) {
        Ok(report) => report,
        Err(RunError::Input(e)) => return fail(e.to_string()),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if !json_to_stdout {
        print!("{}", report::render_summary(&report));
    }
    let failures = report.check_failures();
    let title = format!("{} on {}", report.package, report.node);
    if let Err(code) = views.write(&Timeline::of_report(&title, &report, failures.clone())) {
        return code;
    }
    finish(
        &report,
        failures.is_empty(),
        json.as_deref(),
        json_to_stdout,
    )
}

/// Where `--html` and `--trace` go.
struct Views {
    html: Option<PathBuf>,
    trace: Option<PathBuf>,
}

impl Views {
    fn write(&self, timeline: &Timeline) -> Result<(), ExitCode> {
        let write = |path: &PathBuf, text: String| {
            host_harness::view::write(path, &text).map_err(|e| fail(e.to_string()))
        };
        if let Some(path) = &self.html {
            write(path, host_harness::view::page(timeline))?;
        }
        if let Some(path) = &self.trace {
            write(path, host_harness::view::chrome_trace(timeline))?;
        }
        Ok(())
    }
}

/// `run --nodes`: one network, every node's report.
fn run_nodes(
    runtime: &tokio::runtime::Runtime,
    options: &RunOptions,
    json: Option<&std::path::Path>,
    json_to_stdout: bool,
    views: &Views,
) -> ExitCode {
    let report = match runtime.block_on(host_harness::run_network(options)) {
        Ok(report) => report,
        Err(RunError::Input(e)) => return fail(e.to_string()),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if !json_to_stdout {
        print!("{}", report::render_network_summary(&report));
    }
    let failures = report.check_failures();
    let title = format!("{} nodes", report.nodes.len());
    if let Err(code) = views.write(&Timeline::of_network(&title, &report, failures.clone())) {
        return code;
    }
    finish(&report, failures.is_empty(), json, json_to_stdout)
}

/// Writes the JSON report if asked, and gives the exit code.
fn finish(
    report: &impl serde::Serialize,
    passed: bool,
    json: Option<&std::path::Path>,
    json_to_stdout: bool,
) -> ExitCode {
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(report).expect("the report serializes");
        if json_to_stdout {
            println!("{text}");
        } else if let Err(e) = std::fs::write(path, text + "\n") {
            return fail(format!(
                "{}: cannot write the JSON report: {e}",
                path.display()
            ));
        }
    }
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read_mocks(path: &std::path::Path) -> Result<Vec<HttpMock>, String> {
    HttpMock::load(path).map_err(|e| e.to_string())
}
