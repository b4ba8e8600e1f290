//! `host-harness bench`: how fast the harness is, measured in one
//! invocation (medians of repeated runs): loading a component cold and
//! from the disk cache, a whole run of the template, one spawn as the
//! parent sees it, spawns per second, a request/response round trip, and
//! the baseline a node pays: compiling the child on every spawn.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::host::{load_component, DiskCache, WasmHost};
use crate::util::TempDir;
use crate::{run, RunOptions};

#[derive(Debug, Serialize)]
pub struct BenchResults {
    pub cold_load_ms: f64,
    pub warm_load_ms: f64,
    pub e2e_run_ms: f64,
    pub spawn_p50_us: f64,
    pub spawn_p99_us: f64,
    pub spawns_per_s: f64,
    pub roundtrip_p50_us: f64,
    pub uncached_spawn_ms: f64,
}

/// Runs the benchmarks on the template in `workspace` (built) and the
/// probe guest at `probe`.
pub async fn measure(workspace: &Path, probe: &Path) -> Result<BenchResults, String> {
    let read = |path: &Path| {
        std::fs::read(path)
            .map_err(|e| format!("{}: {e} (run `make build test-guests`)", path.display()))
    };
    let parent = read(&workspace.join("pkg/parent.wasm"))?;
    let child = read(&workspace.join("pkg/child.wasm"))?;

    let cold = |bytes: &[u8]| -> Result<f64, String> {
        let host = WasmHost::new(None).map_err(|e| e.to_string())?;
        let started = Instant::now();
        host.load(bytes)?;
        Ok(ms(started.elapsed()))
    };
    let cold_load_ms = median((0..5).map(|_| cold(&parent)).collect::<Result<_, _>>()?);
    let child_compile_ms = median((0..5).map(|_| cold(&child)).collect::<Result<_, _>>()?);

    let scratch = TempDir::new("bench").map_err(|e| e.to_string())?;
    let scratch = scratch.path();
    let disk = DiskCache::new(scratch.join("cache"));
    let host = WasmHost::new(None).map_err(|e| e.to_string())?;
    let component = load_component(host.engine(), &parent)?;
    disk.store(host.engine(), &[0; 32], &component.component);
    let warm: Vec<f64> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let loaded = disk.load(host.engine(), &[0; 32]);
            (ms(started.elapsed()), loaded.is_some())
        })
        .filter(|(_, ok)| *ok)
        .map(|(t, _)| t)
        .collect();
    if warm.is_empty() {
        return Err("the disk cache did not load what it stored".into());
    }
    let warm_load_ms = median(warm);

    let mut runs = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        run(&RunOptions::new(workspace))
            .await
            .map_err(|e| e.to_string())?;
        runs.push(ms(started.elapsed()));
    }
    let e2e_run_ms = median(runs[1..].to_vec());

    let package = bench_package(&scratch.join("package"), probe, &child)?;
    let report = run(&RunOptions::new(&package))
        .await
        .map_err(|e| e.to_string())?;
    let printed = |prefix: &str| {
        report
            .prints
            .iter()
            .find_map(|p| p.text.strip_prefix(prefix).map(str::to_string))
            .ok_or(format!("the bench probe printed no `{prefix}` line"))
    };
    let spawned = printed("spawned ")?;
    let (total_us, spawns) = spawned.split_once(' ').ok_or("a malformed spawn line")?;
    let mut spawns: Vec<f64> = serde_json::from_str(spawns).map_err(|e| e.to_string())?;
    let total_us: f64 = total_us.parse().map_err(|_| "a malformed total")?;
    let roundtrips: Vec<f64> =
        serde_json::from_str(&printed("roundtrips ")?).map_err(|e| e.to_string())?;
    spawns.sort_by(f64::total_cmp);
    let spawn_p50_us = spawns[spawns.len() / 2];
    Ok(BenchResults {
        cold_load_ms,
        warm_load_ms,
        e2e_run_ms,
        spawn_p50_us,
        spawn_p99_us: spawns[spawns.len() * 99 / 100],
        spawns_per_s: spawns.len() as f64 / (total_us / 1e6),
        roundtrip_p50_us: median(roundtrips),
        uncached_spawn_ms: child_compile_ms + spawn_p50_us / 1000.0,
    })
}

/// A package whose `spawn-bench` spawns the template's child 1,000 times
/// and whose `roundtrip-bench` asks `echo` 1,000 times.
fn bench_package(dir: &Path, probe: &Path, child: &[u8]) -> Result<PathBuf, String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir.join("pkg")).map_err(io)?;
    std::fs::copy(probe, dir.join("pkg/probe.wasm"))
        .map_err(|e| format!("{}: {e} (run `make test-guests`)", probe.display()))?;
    std::fs::write(dir.join("pkg/child.wasm"), child).map_err(io)?;
    let metadata = serde_json::json!({
        "name": "bench", "description": "", "image": "", "external_url": "", "animation_url": "",
        "properties": {"package_name": "bench", "publisher": "test.os", "current_version": "0.1.0",
            "mirrors": [], "code_hashes": {}, "wit_version": 1, "dependencies": []}
    });
    std::fs::write(dir.join("metadata.json"), metadata.to_string()).map_err(io)?;
    let entry = |name: &str, caps: &[&str]| {
        serde_json::json!({
            "process_name": name, "process_wasm_path": "/probe.wasm", "on_exit": "None",
            "request_networking": false, "request_capabilities": caps,
            "grant_capabilities": caps, "public": false
        })
    };
    let manifest = serde_json::json!([
        entry("echo", &[]),
        entry("spawn-bench", &["vfs:distro:sys"]),
        entry("roundtrip-bench", &["echo:bench:test.os"]),
    ]);
    std::fs::write(dir.join("pkg/manifest.json"), manifest.to_string()).map_err(io)?;
    Ok(dir.to_owned())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
