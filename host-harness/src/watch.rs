//! `host-harness test --watch` (`make watch`): the author's loop. On every
//! save it rebuilds the package's processes (`make build`, which rebuilds
//! only the crates that changed) when a source changed, reruns the
//! scenarios, and prints only what changed since the last run: a scenario
//! that now passes, one that now fails (with why), one that fails
//! differently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use notify::event::ModifyKind;
use notify::{Event, EventKind, RecursiveMode, Watcher};

/// How long the files must be quiet before a run: an editor's save, or
/// a `git checkout`, is a burst of events.
const QUIET: Duration = Duration::from_millis(300);

/// One scenario's outcome, as the loop compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    pub failures: Vec<String>,
}

/// What changed between two runs, a line each (empty: nothing did).
pub fn changes(before: &[Outcome], after: &[Outcome]) -> Vec<String> {
    let old: BTreeMap<&str, &Outcome> = before.iter().map(|o| (o.name.as_str(), o)).collect();
    let mut lines = Vec::new();
    for now in after {
        let first = now.failures.first().map_or("", String::as_str);
        match old.get(now.name.as_str()) {
            None if now.failures.is_empty() => lines.push(format!("new, passes: {}", now.name)),
            None => lines.push(format!("new, FAILS: {}: {first}", now.name)),
            Some(was) if was.failures == now.failures => {}
            Some(_) if now.failures.is_empty() => lines.push(format!("now passes: {}", now.name)),
            Some(was) if was.failures.is_empty() => {
                lines.push(format!("now FAILS: {}: {first}", now.name))
            }
            Some(_) => lines.push(format!("fails differently: {}: {first}", now.name)),
        }
    }
    for gone in before {
        if !after.iter().any(|o| o.name == gone.name) {
            lines.push(format!("gone: {}", gone.name));
        }
    }
    lines
}

/// Whether a change to `path` (in the package at `dir`) calls for a run:
/// sources, manifests and scenarios, not build outputs.
fn matters(dir: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(dir) else {
        return false;
    };
    let first = relative.components().next();
    let skipped = ["target", ".git", "pkg"];
    if first.is_some_and(|c| skipped.iter().any(|s| c.as_os_str() == *s)) {
        // pkg/ is written by the build, except its manifest.
        return relative == Path::new("pkg/manifest.json");
    }
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("rs" | "toml" | "wit" | "json")
    )
}

/// Whether `paths` call for a rebuild (anything but scenario files).
fn needs_build(dir: &Path, paths: &[PathBuf]) -> bool {
    paths
        .iter()
        .any(|p| !p.strip_prefix(dir).is_ok_and(|r| r.starts_with("tests")))
}

/// Watches `dir` and each folder in it but the build's outputs: a
/// recursive watch of `target/` would take one inotify watch per folder of
/// a build tree.
fn watch_sources(watcher: &mut impl Watcher, dir: &Path) -> Result<(), String> {
    let cannot = |path: &Path, e: notify::Error| format!("cannot watch {}: {e}", path.display());
    watcher
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(|e| cannot(dir, e))?;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let skipped = ["target", ".git"].iter().any(|s| entry.file_name() == *s);
        if path.is_dir() && !skipped {
            watcher
                .watch(&path, RecursiveMode::Recursive)
                .map_err(|e| cannot(&path, e))?;
        }
    }
    Ok(())
}

/// The files changed in the next burst of writes (None: the watcher is
/// gone). Opening or reading a file is not a change: the build reads
/// every manifest.
fn next_burst(dir: &Path, saves: &mpsc::Receiver<notify::Result<Event>>) -> Option<Vec<PathBuf>> {
    let written = |event: notify::Result<Event>| -> Vec<PathBuf> {
        match event {
            Ok(event)
                if matches!(
                    event.kind,
                    EventKind::Create(_) | EventKind::Remove(_) | EventKind::Modify(_)
                ) && !matches!(event.kind, EventKind::Modify(ModifyKind::Metadata(_))) =>
            {
                event
                    .paths
                    .into_iter()
                    .filter(|p| matters(dir, p))
                    .collect()
            }
            _ => vec![],
        }
    };
    let mut paths = Vec::new();
    while paths.is_empty() {
        paths = written(saves.recv().ok()?);
    }
    while let Ok(event) = saves.recv_timeout(QUIET) {
        paths.extend(written(event));
    }
    paths.sort();
    paths.dedup();
    Some(paths)
}

/// Runs `make build` in `dir` when it has a Makefile; its output is shown
/// only if it fails.
fn build(dir: &Path) -> bool {
    if !dir.join("Makefile").is_file() {
        return true;
    }
    match Command::new("make")
        .arg("-s")
        .arg("build")
        .current_dir(dir)
        .output()
    {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            print!("{}", String::from_utf8_lossy(&out.stdout));
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            println!("build failed: fix it and save again");
            false
        }
        Err(e) => {
            println!("cannot run make in {}: {e}", dir.display());
            false
        }
    }
}

/// Watches the package at `dir` until interrupted: after each burst of
/// saves, rebuilds if a source changed, reruns with `run`, and prints
/// what changed. `run` gives each scenario's outcome; it is told whether
/// this is the first run (which it reports in full).
pub fn watch(dir: &Path, mut run: impl FnMut(bool) -> Vec<Outcome>) -> Result<(), String> {
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut last = run(true);
    let failing = last.iter().filter(|o| !o.failures.is_empty()).count();
    println!(
        "watching {} ({} scenarios, {failing} failing); Ctrl-C to stop",
        dir.display(),
        last.len()
    );
    let (events, saves) = mpsc::channel::<notify::Result<Event>>();
    let mut watcher = notify::recommended_watcher(events)
        .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    watch_sources(&mut watcher, &dir)?;
    while let Some(paths) = next_burst(&dir, &saves) {
        if paths.is_empty() {
            continue;
        }
        if needs_build(&dir, &paths) && !build(&dir) {
            continue;
        }
        let now = run(false);
        let lines = changes(&last, &now);
        if lines.is_empty() {
            println!("no change");
        }
        for line in lines {
            println!("{line}");
        }
        last = now;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, failures: &[&str]) -> Outcome {
        Outcome {
            name: name.into(),
            failures: failures.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn only_what_changed_is_said() {
        let before = [
            outcome("a", &[]),
            outcome("b", &["step 1: x"]),
            outcome("c", &[]),
        ];
        let after = [
            outcome("a", &[]),
            outcome("b", &[]),
            outcome("c", &["step 2: y"]),
            outcome("d", &[]),
        ];
        assert_eq!(
            changes(&before, &after),
            ["now passes: b", "now FAILS: c: step 2: y", "new, passes: d"]
        );
        assert!(changes(&after, &after).is_empty());
    }

    #[test]
    fn build_outputs_do_not_start_a_run_but_sources_and_scenarios_do() {
        let dir = Path::new("/p");
        assert!(matters(dir, Path::new("/p/child/src/lib.rs")));
        assert!(matters(dir, Path::new("/p/tests/spawn.toml")));
        assert!(matters(dir, Path::new("/p/pkg/manifest.json")));
        assert!(!matters(dir, Path::new("/p/pkg/child.wasm")));
        assert!(!matters(dir, Path::new("/p/target/debug/x.rs")));
        assert!(!needs_build(dir, &[PathBuf::from("/p/tests/spawn.toml")]));
        assert!(needs_build(dir, &[PathBuf::from("/p/child/src/lib.rs")]));
    }
}
