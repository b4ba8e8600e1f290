//! The runtimes the harness emulates, and every way they differ, as data.
//! Kinode 1.0 and hyperdrive (its renamed successor, 1.9) share almost
//! every rule; where they differ, the code asks the run's [`Profile`]
//! instead of naming a runtime. A third runtime is one more `Profile`.

use std::time::Duration;

/// Which runtime's rules a run follows: the one type from the CLI's
/// `--runtime` (and `new --flavor`) down to the kernel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Runtime {
    /// Kinode 1.0 (wasmtime 27), for `kinode:process` components.
    #[default]
    #[serde(rename = "kinode-1.0")]
    Kinode,
    /// Hyperware's hyperdrive 1.9 (wasmtime 33), for `hyperware:process`
    /// components.
    #[serde(rename = "hyperdrive")]
    Hyperdrive,
}

/// Everything about a runtime that the harness's rules depend on.
#[derive(Debug)]
pub struct Profile {
    pub runtime: Runtime,
    /// As `--runtime` takes it and the report writes it.
    pub name: &'static str,
    /// Other names `--runtime` and `new --flavor` accept: the SDK's family.
    pub aliases: &'static [&'static str],
    /// How a hint names a node of it: "a Kinode 1.0 node".
    pub node_title: &'static str,
    /// The process interface its components import (the only one it links).
    pub interface: &'static str,
    /// The SDK a process is built with for it, and the version the
    /// template uses.
    pub sdk: &'static str,
    pub sdk_version: &'static str,
    /// The template's cargo feature and `make FLAVOR=` value for it.
    pub flavor: &'static str,
    /// The command that builds the template's processes for it.
    pub build_command: &'static str,
    pub backoff: BackoffRule,
    /// Whether each package gets a `tmp` drive preopened over WASI (and
    /// named by `TEMP_DIR`).
    pub tmp_dir: bool,
    pub stderr: StderrRule,
    /// The processes every node runs besides the runtime modules: id and
    /// whether it is public.
    pub distro: &'static [(&'static str, bool)],
    /// Runtime modules that exist (so capability checks behave) but that
    /// the harness does not emulate.
    pub inert_modules: &'static [&'static str],
    /// Whether `WebSocketOpen` tells the process the client's address
    /// (`source_socket_addr`, `forwarded_for`).
    pub websocket_open_has_client: bool,
    /// Whether the kernel prints why bytes that are not a component never
    /// ran (Kinode 1.0 panics the task without a word).
    pub invalid_wasm_print: bool,
}

/// How long the kernel waits before restarting a process created with
/// `OnExit::Restart`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffRule {
    /// Kinode 1.0: the first restart is immediate and allows the next one
    /// a second later; a restart before that waits until then, and each
    /// early one pushes the soonest time on by 2^attempts seconds.
    SoonestTime,
    /// hyperdrive: a run that lasted `healthy_multiplier` times the
    /// current wait (at most `max_healthy`) was healthy and restarts at
    /// once; otherwise the wait doubles from `base` up to `max` (a process
    /// that crashes at once waits 2, 4, 8 s ...).
    Doubling {
        base: Duration,
        max: Duration,
        healthy_multiplier: u32,
        max_healthy: Duration,
    },
}

/// How a process's stderr is kept (a node shows it when the process traps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StderrRule {
    /// Kinode 1.0: a pipe of this many bytes; a write past it fails.
    FailPastCapacity(usize),
    /// hyperdrive: writes never fail and the newest bytes are kept.
    KeepNewest(usize),
}

impl StderrRule {
    pub fn capacity(self) -> usize {
        match self {
            StderrRule::FailPastCapacity(n) | StderrRule::KeepNewest(n) => n,
        }
    }
}

/// The runtime's `STACK_TRACE_SIZE`.
const STDERR_BYTES: usize = 5000;

const KINODE: Profile = Profile {
    runtime: Runtime::Kinode,
    name: "kinode-1.0",
    aliases: &["kinode"],
    node_title: "a Kinode 1.0 node",
    interface: componentize::STANDARD_INTERFACE,
    sdk: "kinode_process_lib",
    sdk_version: "1.0",
    flavor: "kinode",
    build_command: "make build",
    backoff: BackoffRule::SoonestTime,
    tmp_dir: true,
    stderr: StderrRule::FailPastCapacity(STDERR_BYTES),
    distro: &[
        ("homepage:homepage:sys", false),
        ("main:app-store:sys", false),
        ("downloads:app-store:sys", false),
        ("chain:app-store:sys", false),
        ("chess:chess:sys", true),
        ("contacts:contacts:sys", false),
        ("settings:settings:sys", false),
        ("kns-indexer:kns-indexer:sys", false),
        ("terminal:terminal:sys", false),
    ],
    inert_modules: &["state", "fd-manager"],
    websocket_open_has_client: false,
    invalid_wasm_print: false,
};

/// hyperdrive v1.9.2 (`kernel/process.rs` for the backoff).
const HYPERDRIVE: Profile = Profile {
    runtime: Runtime::Hyperdrive,
    name: "hyperdrive",
    aliases: &["hyperware"],
    node_title: "a hyperdrive (Hyperware) node",
    interface: componentize::HYPERWARE_STANDARD_INTERFACE,
    sdk: "hyperware_process_lib",
    sdk_version: "3.0",
    flavor: "hyperware",
    build_command: "make build FLAVOR=hyperware",
    backoff: BackoffRule::Doubling {
        base: Duration::from_secs(1),
        max: Duration::from_secs(600),
        healthy_multiplier: 5,
        max_healthy: Duration::from_secs(3000),
    },
    tmp_dir: false,
    stderr: StderrRule::KeepNewest(STDERR_BYTES),
    distro: &[
        ("homepage:homepage:sys", false),
        ("main:app-store:sys", false),
        ("downloads:app-store:sys", false),
        ("chain:app-store:sys", false),
        ("contacts:contacts:sys", false),
        ("explorer:file-explorer:sys", false),
        ("hns-indexer:hns-indexer:sys", false),
        ("hypermap-cacher:hypermap-cacher:sys", false),
        ("binding-cacher:hypermap-cacher:sys", false),
        ("hyperwallet:hyperwallet:sys", true),
        ("settings:settings:sys", false),
        ("sign:sign:sys", false),
        ("spider:spider:sys", false),
        ("terminal:terminal:sys", false),
    ],
    inert_modules: &["state", "fd-manager", "notifications"],
    websocket_open_has_client: true,
    invalid_wasm_print: true,
};

impl Runtime {
    pub const ALL: [Runtime; 2] = [Runtime::Kinode, Runtime::Hyperdrive];

    pub fn profile(self) -> &'static Profile {
        match self {
            Runtime::Kinode => &KINODE,
            Runtime::Hyperdrive => &HYPERDRIVE,
        }
    }

    pub fn name(self) -> &'static str {
        self.profile().name
    }

    /// By its name or an alias (`kinode-1.0`, `kinode`, `hyperdrive`,
    /// `hyperware`).
    pub fn parse(text: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|runtime| {
            let profile = runtime.profile();
            profile.name == text || profile.aliases.contains(&text)
        })
    }

    /// The runtime whose process interface is `import`.
    pub fn importing(import: &str) -> Option<Runtime> {
        Runtime::ALL
            .into_iter()
            .find(|runtime| runtime.profile().interface == import)
    }

    /// Every name `parse` takes, for an error message.
    pub fn names() -> String {
        Runtime::ALL
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Runtime {
    type Err = String;

    fn from_str(text: &str) -> Result<Runtime, String> {
        Runtime::parse(text)
            .ok_or_else(|| format!("`{text}` is not a runtime: {}", Runtime::names()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_has_its_own_names_and_interface() {
        for runtime in Runtime::ALL {
            let profile = runtime.profile();
            assert_eq!(profile.runtime, runtime);
            assert_eq!(Runtime::parse(profile.name), Some(runtime));
            for alias in profile.aliases {
                assert_eq!(Runtime::parse(alias), Some(runtime));
            }
            assert_eq!(Runtime::importing(profile.interface), Some(runtime));
            assert_eq!(
                serde_json::to_value(runtime).unwrap(),
                serde_json::json!(profile.name)
            );
        }
        assert_eq!(
            "kinode-2".parse::<Runtime>().unwrap_err(),
            "`kinode-2` is not a runtime: kinode-1.0 or hyperdrive"
        );
    }
}
