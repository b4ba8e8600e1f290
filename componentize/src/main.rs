//! `componentize MODULE.wasm OUT.wasm`: see the library docs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Make a Kinode process component from a wasm32-wasip1 core module.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The core module cargo built, e.g. target/wasm32-wasip1/wasm-release/child.wasm
    module: PathBuf,
    /// Where to write the component, e.g. pkg/child.wasm
    output: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match componentize::componentize_file(&args.module, &args.output) {
        Ok(_) => {
            let size = std::fs::metadata(&args.output).map_or(0, |m| m.len());
            println!("{}: {:.1} KB", args.output.display(), size as f64 / 1000.0);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
