//! `host-harness run [PACKAGE_DIR]`: run a Kinode package the way a node
//! would and report what happened. Exit codes: 0 every process ended
//! cleanly, 1 a process trapped or a check failed, 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use host_harness::{report, run, HttpMock, RunError, RunOptions};

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
    Run {
        /// The package directory (holding metadata.json and pkg/)
        #[arg(default_value = ".")]
        package_dir: PathBuf,
        /// The node's name
        #[arg(long, default_value = "fake.os")]
        node: String,
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
    },
}

/// One day: long enough for any test run, short enough for `Instant` math.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

fn main() -> ExitCode {
    let Command::Run {
        package_dir,
        node,
        verbosity,
        timeout,
        json,
        http_mocks,
        home,
        http_port,
        serve,
    } = Cli::parse().command;
    let fail = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    };
    if !(timeout > 0.0 && timeout <= MAX_TIMEOUT_SECS) {
        return fail(format!(
            "--timeout {timeout}: must be more than 0 and at most {MAX_TIMEOUT_SECS} seconds"
        ));
    }
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
        timeout: Duration::from_secs_f64(timeout),
        http_mocks,
        home,
        http_port,
        serve,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
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
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report).expect("the report serializes");
        if json_to_stdout {
            println!("{text}");
        } else if let Err(e) = std::fs::write(&path, text + "\n") {
            return fail(format!(
                "{}: cannot write the JSON report: {e}",
                path.display()
            ));
        }
    }
    // `run` has aborted every task, but a process still computing in wasm
    // at the timeout only notices at its next host call: do not wait.
    runtime.shutdown_background();
    if report.check_failures().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read_mocks(path: &std::path::Path) -> Result<Vec<HttpMock>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a list of HTTP mocks: {e}", path.display()))
}
