//! Building throwaway package directories for the harness's tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use host_harness::{run, Report, RunOptions};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(label: &str) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "harness-test-{label}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    dir
}

pub fn read_built(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `make test`, which builds it first",
            path.display()
        )
    })
}

/// This repository's package, with `edit` applied to its manifest.
pub fn our_package_with(edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let dir = temp_dir("spawn");
    let root = workspace();
    std::fs::copy(root.join("metadata.json"), dir.join("metadata.json")).unwrap();
    for wasm in ["parent.wasm", "child.wasm"] {
        std::fs::write(
            dir.join("pkg").join(wasm),
            read_built(&root.join("pkg").join(wasm)),
        )
        .unwrap();
    }
    let text = std::fs::read_to_string(root.join("pkg/manifest.json")).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut manifest);
    std::fs::write(dir.join("pkg/manifest.json"), manifest.to_string()).unwrap();
    dir
}

/// One manifest process running the probe guest under `name`.
pub struct Probe {
    pub name: &'static str,
    pub request: Vec<serde_json::Value>,
    pub grant: Vec<serde_json::Value>,
    pub on_exit: serde_json::Value,
    pub public: bool,
    pub networking: bool,
}

pub fn probe(name: &'static str) -> Probe {
    Probe {
        name,
        request: vec![],
        grant: vec![],
        on_exit: "None".into(),
        public: false,
        networking: false,
    }
}

impl Probe {
    /// Requests `messaging` from each process (`name:package:publisher`).
    pub fn requests(mut self, ids: &[&str]) -> Self {
        self.request
            .extend(ids.iter().map(|id| serde_json::json!(id)));
        self
    }
    pub fn grants(mut self, ids: &[&str]) -> Self {
        self.grant
            .extend(ids.iter().map(|id| serde_json::json!(id)));
        self
    }
    pub fn networking(mut self) -> Self {
        self.networking = true;
        self
    }
    pub fn on_exit(mut self, on_exit: &str) -> Self {
        self.on_exit = on_exit.into();
        self
    }
}

/// A package `probe:test.os` whose processes all run the probe guest.
pub fn probe_package(processes: &[Probe]) -> PathBuf {
    let dir = temp_dir("probe");
    let probe = read_built(&workspace().join("target/test-guests/probe.wasm"));
    std::fs::write(dir.join("pkg/probe.wasm"), probe).unwrap();
    std::fs::write(
        dir.join("metadata.json"),
        serde_json::json!({
            "name": "probe", "description": "", "image": "", "external_url": "", "animation_url": "",
            "properties": {
                "package_name": "probe", "publisher": "test.os", "current_version": "0.1.0",
                "mirrors": [], "code_hashes": {}, "wit_version": 1, "dependencies": []
            }
        })
        .to_string(),
    )
    .unwrap();
    let manifest: Vec<serde_json::Value> = processes
        .iter()
        .map(|p| {
            serde_json::json!({
                "process_name": p.name,
                "process_wasm_path": "/probe.wasm",
                "on_exit": p.on_exit,
                "request_networking": p.networking,
                "request_capabilities": p.request,
                "grant_capabilities": p.grant,
                "public": p.public,
            })
        })
        .collect();
    std::fs::write(
        dir.join("pkg/manifest.json"),
        serde_json::json!(manifest).to_string(),
    )
    .unwrap();
    dir
}

/// The same package with the probe built against hyperware_process_lib
/// (`make test-guests` builds both).
pub fn hyperware_probe_package(processes: &[Probe]) -> PathBuf {
    let dir = probe_package(processes);
    let probe = read_built(&workspace().join("target/test-guests/probe-hyperware.wasm"));
    std::fs::write(dir.join("pkg/probe.wasm"), probe).unwrap();
    dir
}

pub async fn run_dir(dir: &Path) -> Report {
    let mut options = RunOptions::new(dir);
    options.timeout = Duration::from_secs(20);
    run(&options).await.unwrap()
}

/// The texts `process` printed, in order.
pub fn prints_of(report: &Report, process: &str) -> Vec<String> {
    report
        .prints
        .iter()
        .filter(|p| p.process == process)
        .map(|p| p.text.clone())
        .collect()
}

pub fn exit_kind(report: &Report, process: &str) -> host_harness::report::ExitKind {
    report
        .process(process)
        .unwrap_or_else(|| panic!("no process {process} in the report"))
        .exit
        .kind
}

/// A one-process probe package for kit suites: `process` runs the probe
/// (restarting, public), requesting and granting what it is given.
pub fn kit_probe_package(
    dir: &Path,
    package: &str,
    process: &str,
    request: &[&str],
    grant: &[&str],
    networking: bool,
) {
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    let probe = read_built(&workspace().join("target/test-guests/probe.wasm"));
    std::fs::write(dir.join(format!("pkg/{process}.wasm")), probe).unwrap();
    let metadata = serde_json::json!({
        "name": package, "description": "", "image": "", "external_url": "", "animation_url": "",
        "properties": {
            "package_name": package, "publisher": "test.os", "current_version": "0.1.0",
            "mirrors": [], "code_hashes": {}, "wit_version": 1, "dependencies": []
        }
    });
    std::fs::write(dir.join("metadata.json"), metadata.to_string()).unwrap();
    let manifest = serde_json::json!([{
        "process_name": process, "process_wasm_path": format!("/{process}.wasm"),
        "on_exit": "Restart", "request_networking": networking,
        "request_capabilities": request, "grant_capabilities": grant, "public": true
    }]);
    std::fs::write(dir.join("pkg/manifest.json"), manifest.to_string()).unwrap();
}
