//! `host-harness bench`: how fast the harness is, measured in one
//! invocation (medians of repeated runs): loading a component cold and
//! from the disk cache, a whole run of the template, one spawn as the
//! parent sees it, spawns per second, a request/response round trip on
//! one node and between two, the baseline a node pays (compiling the child
//! on every spawn), a network of 1,000 nodes each running the template,
//! and, given kit's chat template built, its two-node suite.

mod floor;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::host::{load_component, DiskCache, WasmHost};
use crate::util::TempDir;
use crate::{run, run_network, NodeSpec, RunOptions, Session};

#[derive(Debug, Serialize)]
pub struct BenchResults {
    pub cold_load_ms: f64,
    pub warm_load_ms: f64,
    pub e2e_run_ms: f64,
    pub spawn_p50_us: f64,
    pub spawn_p99_us: f64,
    pub spawns_per_s: f64,
    pub roundtrip_p50_us: f64,
    /// wasmtime alone: the template's child instantiated from its prepared
    /// instance and its `init` run, with a host that does nothing.
    pub instantiate_floor_us: f64,
    /// tokio alone: a message from one task to another and back.
    pub channel_roundtrip_floor_us: f64,
    /// `spawn_p50_us` over `instantiate_floor_us`.
    pub spawn_vs_floor: f64,
    /// `roundtrip_p50_us` over `channel_roundtrip_floor_us`.
    pub roundtrip_vs_floor: f64,
    /// One spawn on virtual time, where `make run` and `make test` run (one
    /// thread), timed by the host: mean wall microseconds over 1,000.
    pub sim_spawn_us: f64,
    /// One round trip on virtual time, the same way.
    pub sim_roundtrip_us: f64,
    /// tokio alone on one thread, as virtual time runs: a message from one
    /// task to another and back.
    pub sim_channel_roundtrip_floor_us: f64,
    /// `sim_spawn_us` over `instantiate_floor_us`.
    pub sim_spawn_vs_floor: f64,
    /// `sim_roundtrip_us` over `sim_channel_roundtrip_floor_us`.
    pub sim_roundtrip_vs_floor: f64,
    pub uncached_spawn_ms: f64,
    /// Request/response between processes on two nodes.
    pub remote_roundtrip_p50_us: f64,
    /// 1,000 nodes, each running the template: from nothing to all idle.
    pub nodes_1000_boot_ms: f64,
    /// This program's resident memory with the 1,000 nodes up.
    pub nodes_1000_rss_mib: f64,
    /// kit's chat suite (two nodes), warm, when its built template is given.
    pub kit_chat_suite_ms: Option<f64>,
    /// Seeds per second a sweep of the template's scenarios runs on this
    /// machine's cores (each seed runs all three).
    pub sim_seeds_per_s: f64,
    /// Node time over real time for a scenario that waits on timers (300 s
    /// of them).
    pub sim_time_compression: f64,
    /// CPU a sweep on virtual time spends against the same scenarios on
    /// real time (processor time, both ways).
    pub sim_cpu_vs_real: f64,
}

/// Runs the benchmarks on the template in `workspace` (built) and the
/// probe guest at `probe`; with `kit_chat` (kit's chat template, built,
/// holding `test/tests.toml`), its suite too.
pub async fn measure(
    workspace: &Path,
    probe: &Path,
    kit_chat: Option<&Path>,
) -> Result<BenchResults, String> {
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
    let floor_host = WasmHost::new(None).map_err(|e| e.to_string())?;
    let instantiate_floor_us = floor::instantiate(floor_host.engine(), &child, 500).await?;
    let channel_roundtrip_floor_us = floor::channel_roundtrip(5000).await;
    let sim_channel_roundtrip_floor_us = std::thread::spawn(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(floor::channel_roundtrip(5000)))
    })
    .join()
    .map_err(|_| "the one-thread floor panicked".to_string())?
    .map_err(|e| e.to_string())?;

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

    let package = bench_package(
        &scratch.join("package"),
        probe,
        &child,
        &["echo", "spawn-bench", "roundtrip-bench"],
    )?;
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
    let roundtrip_p50_us = median(roundtrips);
    let (sim_spawn_us, sim_roundtrip_us) = simulated_costs(scratch, probe, &child).await?;
    let remote_roundtrip_p50_us = remote_roundtrips(scratch, probe).await?;
    let (nodes_1000_boot_ms, nodes_1000_rss_mib) = thousand_nodes(workspace).await?;
    let kit_chat_suite_ms = match kit_chat {
        Some(chat) => Some(chat_suite(chat).await?),
        None => None,
    };
    let (sim_seeds_per_s, sim_cpu_vs_real) = sweep(workspace).await?;
    let sim_time_compression = compression(workspace).await?;
    Ok(BenchResults {
        cold_load_ms,
        warm_load_ms,
        e2e_run_ms,
        spawn_p50_us,
        spawn_p99_us: spawns[spawns.len() * 99 / 100],
        spawns_per_s: spawns.len() as f64 / (total_us / 1e6),
        roundtrip_p50_us,
        instantiate_floor_us,
        channel_roundtrip_floor_us,
        spawn_vs_floor: spawn_p50_us / instantiate_floor_us,
        roundtrip_vs_floor: roundtrip_p50_us / channel_roundtrip_floor_us,
        sim_spawn_us,
        sim_roundtrip_us,
        sim_channel_roundtrip_floor_us,
        sim_spawn_vs_floor: sim_spawn_us / instantiate_floor_us,
        sim_roundtrip_vs_floor: sim_roundtrip_us / sim_channel_roundtrip_floor_us,
        uncached_spawn_ms: child_compile_ms + spawn_p50_us / 1000.0,
        remote_roundtrip_p50_us,
        nodes_1000_boot_ms,
        nodes_1000_rss_mib,
        kit_chat_suite_ms,
        sim_seeds_per_s,
        sim_time_compression,
        sim_cpu_vs_real,
    })
}

/// 200 seeds of the template's scenarios on virtual time: seeds per
/// second, and the CPU that took against the same 200 runs on real time.
async fn sweep(workspace: &Path) -> Result<(f64, f64), String> {
    use crate::scenario::{find, run_files_with, run_sweep, Settings};
    // Where `host-harness test` puts its runs, as users get it.
    crate::util::temp_in_memory();
    let files = find(workspace, None).map_err(|e| e.to_string())?;
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let seeds: Vec<u64> = (0..200).collect();
    let (cpu, started) = (cpu_seconds(), Instant::now());
    let results = run_sweep(workspace, &files, &seeds, None, jobs, &Settings::default())
        .await
        .map_err(|e| e.to_string())?;
    let (simulated_cpu, wall) = (cpu_seconds() - cpu, started.elapsed());
    if let Some(failed) = results.iter().find(|r| !r.passed()) {
        return Err(format!(
            "the template's scenarios failed: {:?}",
            failed.failures
        ));
    }
    let real = Settings {
        real_time: true,
        ..Settings::default()
    };
    let cpu = cpu_seconds();
    for _ in 0..seeds.len() {
        run_files_with(workspace, &files, jobs, &real)
            .await
            .map_err(|e| e.to_string())?;
    }
    let real_cpu = cpu_seconds() - cpu;
    Ok((
        seeds.len() as f64 / wall.as_secs_f64(),
        simulated_cpu / real_cpu.max(1e-9),
    ))
}

/// Node time over real time for a scenario that waits 300 s on its timers.
async fn compression(workspace: &Path) -> Result<f64, String> {
    use crate::scenario::{run_scenario, Scenario};
    let scenario = Scenario::from_toml(
        "timeout = 400\n[[step]]\nwait = { seconds = 100 }\n[[step]]\nwait = { seconds = 200 }\n",
    )?;
    let started = Instant::now();
    let result = run_scenario(workspace, &scenario, "timers").await;
    if !result.passed() {
        return Err(format!("the timer scenario failed: {:?}", result.failures));
    }
    Ok(result.node_time.as_secs_f64() / started.elapsed().as_secs_f64())
}

/// Processor time this program has used (user and system), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command's name (in parentheses): utime and stime are the
    // 12th and 13th fields, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// 1,000 round trips from `bench-a.os` to `echo` on `bench-b.os`: the
/// median, in microseconds.
async fn remote_roundtrips(scratch: &Path, probe: &Path) -> Result<f64, String> {
    let asker = write_package(
        &scratch.join("remote-a"),
        probe,
        None,
        &[("echo", true), ("remote-roundtrip-bench", true)],
    )?;
    let answerer = write_package(&scratch.join("remote-b"), probe, None, &[("echo", true)])?;
    let mut options = RunOptions::new(&asker);
    options.nodes = vec![
        NodeSpec {
            name: "bench-a.os".into(),
            packages: vec![asker],
        },
        NodeSpec {
            name: "bench-b.os".into(),
            packages: vec![answerer],
        },
    ];
    let report = run_network(&options).await.map_err(|e| e.to_string())?;
    let line = report.nodes[0]
        .prints
        .iter()
        .find_map(|p| p.text.strip_prefix("remote roundtrips "))
        .ok_or_else(|| {
            format!(
                "the bench probe printed no `remote roundtrips` line: {:?}",
                report.nodes[0]
                    .processes
                    .iter()
                    .map(|p| p.exit.detail.clone())
                    .collect::<Vec<_>>()
            )
        })?;
    let micros: Vec<f64> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    Ok(median(micros))
}

/// Boots 1,000 nodes each running the template and waits for all to be
/// idle: how long that took, and the resident memory then.
async fn thousand_nodes(workspace: &Path) -> Result<(f64, f64), String> {
    let mut options = RunOptions::new(workspace);
    options.timeout = Duration::from_secs(120);
    let names: Vec<String> = (0..1000).map(|n| format!("n{n:04}.os")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    options.nodes = NodeSpec::same(&names, &options);
    let started = Instant::now();
    let session = Session::start(&options).await.map_err(|e| e.to_string())?;
    if !session.settle(options.timeout).await {
        return Err("1,000 nodes did not settle within 120 s".into());
    }
    let boot = ms(started.elapsed());
    let rss = resident_mib();
    let report = session.finish_network(true).await;
    let spawned = report.nodes.iter().filter(|r| r.spawns.len() == 1).count();
    if spawned != 1000 {
        return Err(format!("only {spawned} of 1,000 nodes spawned their child"));
    }
    Ok((boot, rss))
}

/// kit's chat suite, once to warm the caches, then the median of three.
async fn chat_suite(chat: &Path) -> Result<f64, String> {
    let mut times = Vec::new();
    for _ in 0..4 {
        let started = Instant::now();
        let (outcomes, _) = crate::kit::run_suite(chat, &RunOptions::new(chat))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(failed) = outcomes.iter().find(|o| o.result.is_err()) {
            return Err(format!("kit's chat suite failed: {failed:?}"));
        }
        times.push(ms(started.elapsed()));
    }
    Ok(median(times[1..].to_vec()))
}

/// This program's resident memory, in MiB (0 where /proc has none).
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// A package `bench:test.os` of probe processes (name, networked), with
/// the template's child to spawn when given. `spawn-bench` and
/// `roundtrip-bench` get what they message; the others nothing.
fn write_package(
    dir: &Path,
    probe: &Path,
    child: Option<&[u8]>,
    processes: &[(&str, bool)],
) -> Result<PathBuf, String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir.join("pkg")).map_err(io)?;
    std::fs::copy(probe, dir.join("pkg/probe.wasm"))
        .map_err(|e| format!("{}: {e} (run `make test-guests`)", probe.display()))?;
    if let Some(child) = child {
        std::fs::write(dir.join("pkg/child.wasm"), child).map_err(io)?;
    }
    std::fs::write(dir.join("metadata.json"), metadata().to_string()).map_err(io)?;
    let caps = |name: &str| -> &[&str] {
        match name {
            "spawn-bench" => &["vfs:distro:sys"],
            "roundtrip-bench" => &["echo:bench:test.os"],
            _ => &[],
        }
    };
    let manifest: Vec<serde_json::Value> = processes
        .iter()
        .map(|(name, networked)| {
            serde_json::json!({
                "process_name": name, "process_wasm_path": "/probe.wasm", "on_exit": "None",
                "request_networking": networked, "request_capabilities": caps(name),
                "grant_capabilities": caps(name), "public": false
            })
        })
        .collect();
    std::fs::write(
        dir.join("pkg/manifest.json"),
        serde_json::json!(manifest).to_string(),
    )
    .map_err(io)?;
    Ok(dir.to_owned())
}

fn metadata() -> serde_json::Value {
    serde_json::json!({
        "name": "bench", "description": "", "image": "", "external_url": "", "animation_url": "",
        "properties": {"package_name": "bench", "publisher": "test.os", "current_version": "0.1.0",
            "mirrors": [], "code_hashes": {}, "wit_version": 1, "dependencies": []}
    })
}

/// The bench package in `dir`: the probe as `processes` (of echo,
/// spawn-bench, roundtrip-bench and any other probe name), none of them
/// networked, and the template's child to spawn.
fn bench_package(
    dir: &Path,
    probe: &Path,
    child: &[u8],
    processes: &[&str],
) -> Result<PathBuf, String> {
    let processes: Vec<(&str, bool)> = processes.iter().map(|p| (*p, false)).collect();
    write_package(dir, probe, Some(child), &processes)
}

/// Wall microseconds per spawn and per round trip on virtual time, where
/// `make run` and `make test` run (one thread; the processes' own clocks
/// stand still, so the host's clock times them): the median of five runs
/// doing 1,000 of each, less a run doing neither.
async fn simulated_costs(scratch: &Path, probe: &Path, child: &[u8]) -> Result<(f64, f64), String> {
    let package = |name: &str, processes: &[&str]| {
        bench_package(&scratch.join(name), probe, child, processes)
    };
    let spawns = package("sim-spawn", &["spawn-bench"])?;
    let trips = package("sim-trips", &["echo", "roundtrip-bench"])?;
    let idle = package("sim-idle", &["echo", "idle"])?;
    let time = |dir: PathBuf| async move {
        let mut times = Vec::new();
        for _ in 0..6 {
            let mut options = RunOptions::new(&dir);
            options.virtual_time = true;
            let started = Instant::now();
            run(&options).await.map_err(|e| e.to_string())?;
            times.push(started.elapsed().as_secs_f64() * 1e6);
        }
        // The first run compiles and warms the caches.
        Ok::<f64, String>(median(times[1..].to_vec()))
    };
    let base = time(idle).await?;
    let spawn_us = (time(spawns).await? - base) / 1000.0;
    let roundtrip_us = (time(trips).await? - base) / 1000.0;
    Ok((spawn_us, roundtrip_us))
}

/// The timeline page of a flood: the round-trip bench's run (4,096
/// request/response pairs to a process that prints each) with its
/// timeline kept, its events repeated, later each time, up to `events`.
/// `make bench` times how long headless Chromium takes to make it usable.
pub async fn flood_page(probe: &Path, child: &Path, events: usize) -> Result<String, String> {
    let child = std::fs::read(child).map_err(|e| format!("{}: {e}", child.display()))?;
    let scratch = TempDir::new("flood").map_err(|e| e.to_string())?;
    let package = bench_package(
        &scratch.path().join("package"),
        probe,
        &child,
        &["echo", "roundtrip-bench"],
    )?;
    let mut options = RunOptions::new(&package);
    options.timeline = true;
    let report = run(&options).await.map_err(|e| e.to_string())?;
    let mut timeline = crate::view::Timeline::of_report("a flood", &report, vec![]);
    let one = std::mem::take(&mut timeline.events);
    let span = one.last().map_or(0.0, |e| e.at_ms) + 1.0;
    if one.is_empty() {
        return Err("the flood's run kept no timeline".into());
    }
    for round in 0.. {
        for event in &one {
            if timeline.events.len() == events {
                return Ok(crate::view::page(&timeline));
            }
            let mut event = event.clone();
            event.at_ms += span * round as f64;
            timeline.events.push(event);
        }
    }
    unreachable!("the loop returns once it has the events")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
