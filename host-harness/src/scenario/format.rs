//! A scenario file (`tests/*.toml` in a package): how to set the run up,
//! then steps in order. Every field is optional except what a step needs.
//! Values are checked as the file is read: a process is its full id
//! (`name:package:publisher`) or, for a process of the package under test,
//! its name alone; kinds and results are the report's own (`returned`,
//! `no_file_at_path`, `capability_dropped`, ...); a step that checks
//! nothing is refused.
//!
//! ```toml
//! name = "the parent spawns the child"
//! [[manifest]]                      # change the manifest for this run
//! process = "parent"
//! remove_request = ["http-client:distro:sys"]
//! [[step]]
//! send = { to = "parent", body = "hi", expects_response = 5 }
//! [[step]]
//! expect = { spawn = { child = "spawned-child-process", result = "ok" } }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::modules::HttpMock;
use crate::report::{DiagnosticKind, ExitKind, SpawnResult};
use crate::types::{check_kimap_safe, check_process_name, PackageId, ProcessId};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Defaults to the file's name.
    pub name: Option<String>,
    /// The node's name (default `fake.os`).
    pub node: Option<String>,
    /// Seconds any wait (and the run's settling) may take; default 10.
    pub timeout: Option<f64>,
    /// Seconds a process may compute without waiting for a message before
    /// it is trapped (a node has no such limit); default 1, 0 for none. An
    /// endless loop then fails its scenario in a second, saying so.
    pub cpu_limit: Option<f64>,
    /// MiB of memory each process may use; default 1024.
    pub memory_limit: Option<usize>,
    /// Blocked messages are expected in this run and do not fail
    /// `passes = true` (they are still reported and checkable).
    #[serde(default)]
    pub allow_blocked: bool,
    #[serde(default)]
    pub manifest: Vec<ManifestChange>,
    /// Canned answers for http-client, as `--http-mocks` takes them.
    #[serde(default)]
    pub http_mock: Vec<HttpMock>,
    /// Files put in the node home before the run.
    #[serde(default)]
    pub file: Vec<FileSeed>,
    /// Persisted state put in place before the run: process → text.
    #[serde(default)]
    pub state: BTreeMap<StateKey, String>,
    #[serde(default)]
    pub step: Vec<Step>,
}

/// A process as a scenario names it: its full id, or its name alone for a
/// process of the package under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessRef {
    Id(ProcessId),
    Name(String),
}

impl ProcessRef {
    pub fn parse(text: &str) -> Result<ProcessRef, String> {
        if text.contains(':') {
            let id = ProcessId::parse(text)?;
            check_kimap_safe(&id).map_err(|e| format!("`{text}` is not a process id: {e}"))?;
            return Ok(ProcessRef::Id(id));
        }
        check_process_name(text).map_err(|_| {
            format!(
                "`{text}` is not a process: give its id `name:package:publisher`, or the name \
                 alone (a-z, 0-9, `-`) for a process of the package under test"
            )
        })?;
        Ok(ProcessRef::Name(text.into()))
    }

    /// The process it names, in `package` if it gives only a name.
    pub fn resolve(&self, package: &PackageId) -> ProcessId {
        match self {
            ProcessRef::Id(id) => id.clone(),
            ProcessRef::Name(name) => {
                ProcessId::new(name, &package.package_name, &package.publisher_node)
            }
        }
    }
}

impl std::fmt::Display for ProcessRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessRef::Id(id) => write!(f, "{id}"),
            ProcessRef::Name(name) => f.write_str(name),
        }
    }
}

impl<'de> Deserialize<'de> for ProcessRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ProcessRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A `[state]` key: a process, kept with its text for ordering.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StateKey(String);

impl StateKey {
    pub fn process(&self) -> ProcessRef {
        ProcessRef::parse(&self.0).expect("checked when read")
    }
}

impl<'de> Deserialize<'de> for StateKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ProcessRef::parse(&text).map_err(serde::de::Error::custom)?;
        Ok(StateKey(text))
    }
}

/// A change to one manifest entry, for this run only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestChange {
    pub process: String,
    #[serde(default)]
    pub add_request: Vec<serde_json::Value>,
    /// Process ids whose capabilities are no longer requested.
    #[serde(default)]
    pub remove_request: Vec<String>,
    #[serde(default)]
    pub add_grant: Vec<serde_json::Value>,
    #[serde(default)]
    pub remove_grant: Vec<String>,
    pub public: Option<bool>,
    pub on_exit: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSeed {
    /// Relative to the node home, e.g. `vfs/app:me.os/data/x.json`.
    pub path: String,
    pub content: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Send(Send),
    Http(Http),
    Wait(Wait),
    Expect(Box<Expect>),
    Restart(Restart),
}

/// `restart = "node"`: the node stops and boots again from its home (its
/// state, files and databases kept; the packages start as at install);
/// `restart = { process = "parent" }`: one running process is stopped and
/// started again with its capabilities and state.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Restart {
    Node(NodeWord),
    Process { process: ProcessRef },
}

/// The word `node`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeWord {
    Node,
}

/// A request to a process, from the scenario's driver (a public process
/// given messaging to the target) or from any process named in `from`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Send {
    pub to: ProcessRef,
    pub from: Option<ProcessRef>,
    /// The body as text, or `json` as JSON.
    pub body: Option<String>,
    pub json: Option<serde_json::Value>,
    pub blob: Option<String>,
    /// Seconds; the response is captured for `expect.response`.
    pub expects_response: Option<u64>,
}

/// A real HTTP request to the local server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub body: String,
    /// Send the login cookie.
    #[serde(default)]
    pub cookie: bool,
}

fn get() -> String {
    "GET".into()
}

/// Waits until every condition holds, or fails at the timeout (or as soon
/// as it cannot hold any more).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    /// A print containing this text (from `process`, if given).
    pub print: Option<String>,
    pub process: Option<ProcessRef>,
    /// This process has ended.
    pub exit: Option<ProcessRef>,
    /// Nothing is in flight.
    #[serde(default)]
    pub idle: bool,
    /// Just this long.
    pub seconds: Option<f64>,
}

/// Assertions on the run so far; every field given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub spawn: Option<ExpectSpawn>,
    pub holds: Option<ExpectCap>,
    pub print: Option<ExpectPrint>,
    pub exit: Option<ExpectExit>,
    pub blocked: Option<ExpectBlocked>,
    /// A diagnostic of this kind (e.g. `capability_dropped`).
    pub diagnostic: Option<DiagnosticKind>,
    /// An http-client request to a URL containing this.
    pub http_request: Option<String>,
    /// The last `send`'s response body contains this.
    pub response: Option<String>,
    /// The last `http` step's status, and text its body contains.
    pub http_status: Option<u16>,
    pub http_body: Option<String>,
    pub file: Option<ExpectFile>,
    /// Whether the run passes the harness's verdict so far.
    pub passes: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpawn {
    pub parent: Option<ProcessRef>,
    /// The child (for a spawn that made none, the name it asked for).
    pub child: Option<ProcessRef>,
    pub result: Option<SpawnResult>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectCap {
    pub process: ProcessRef,
    /// The issuing process; params default to `"messaging"`.
    pub issuer: ProcessRef,
    pub params: Option<serde_json::Value>,
    /// As the process's `init` began (otherwise now).
    #[serde(default)]
    pub at_start: bool,
    /// Expect it *not* held.
    #[serde(default)]
    pub not: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectPrint {
    pub process: Option<ProcessRef>,
    pub contains: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectExit {
    pub process: ProcessRef,
    pub kind: ExitKind,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectBlocked {
    pub from: Option<ProcessRef>,
    pub to: Option<ProcessRef>,
    /// Expect no such message blocked.
    #[serde(default)]
    pub not: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFile {
    /// Relative to the node home.
    pub path: String,
    pub contains: String,
}

impl Expect {
    /// Whether it checks anything at all.
    fn is_empty(&self) -> bool {
        let Expect {
            spawn,
            holds,
            print,
            exit,
            blocked,
            diagnostic,
            http_request,
            response,
            http_status,
            http_body,
            file,
            passes,
        } = self;
        spawn.is_none()
            && holds.is_none()
            && print.is_none()
            && exit.is_none()
            && blocked.is_none()
            && diagnostic.is_none()
            && http_request.is_none()
            && response.is_none()
            && http_status.is_none()
            && http_body.is_none()
            && file.is_none()
            && passes.is_none()
    }
}

impl Scenario {
    /// Reads a scenario. An error names the step it is in, if any, and
    /// says what would be right (unknown values list the allowed ones).
    pub fn from_toml(text: &str) -> Result<Scenario, String> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| {
            let step = e
                .span()
                .map(|span| step_at(text, span.start))
                .filter(|&step| step > 0);
            match step {
                Some(step) => format!("step {step}: {e}"),
                None => e.to_string(),
            }
        })?;
        if let Some(timeout) = scenario.timeout {
            if !(timeout > 0.0 && timeout <= MAX_SECONDS) {
                return Err(format!(
                    "timeout = {timeout}: must be more than 0 and at most {MAX_SECONDS} seconds"
                ));
            }
        }
        if let Some(limit) = scenario.cpu_limit {
            if !(0.0..=MAX_SECONDS).contains(&limit) {
                return Err(format!(
                    "cpu_limit = {limit}: must be 0 (none) to {MAX_SECONDS} seconds"
                ));
            }
        }
        if let Some(limit) = scenario.memory_limit {
            if !(1..=4096).contains(&limit) {
                return Err(format!(
                    "memory_limit = {limit}: must be 1 to 4096 MiB (a process's wasm32 memory)"
                ));
            }
        }
        let timeout = scenario.timeout();
        for (index, step) in scenario.step.iter().enumerate() {
            let refused = match step {
                Step::Wait(Wait {
                    seconds: Some(seconds),
                    ..
                }) if !(*seconds >= 0.0 && *seconds <= timeout) => {
                    return Err(format!(
                        "step {}: wait seconds = {seconds}: must be 0 to the scenario's \
                         timeout ({timeout} s)",
                        index + 1
                    ));
                }
                Step::Expect(expect) if expect.is_empty() => {
                    Some("an `expect` with nothing in it checks nothing")
                }
                Step::Wait(wait)
                    if wait.print.is_none()
                        && wait.exit.is_none()
                        && !wait.idle
                        && wait.seconds.is_none() =>
                {
                    Some("a `wait` needs `print`, `exit`, `idle` or `seconds`")
                }
                Step::Wait(wait) if wait.process.is_some() && wait.print.is_none() => {
                    Some("a `wait`'s `process` says whose `print` to wait for; add `print`")
                }
                Step::Send(send) if send.body.is_some() && send.json.is_some() => {
                    Some("a `send` has `body` or `json`, not both")
                }
                _ => None,
            };
            if let Some(reason) = refused {
                return Err(format!("step {}: {reason}", index + 1));
            }
        }
        Ok(scenario)
    }
}

/// The most a scenario may wait: a day.
const MAX_SECONDS: f64 = 86_400.0;

impl Scenario {
    /// Seconds any wait (and the run's settling) may take.
    pub fn timeout(&self) -> f64 {
        self.timeout.unwrap_or(10.0)
    }

    /// How long a process may compute without waiting; `None`: forever.
    pub fn cpu_limit(&self) -> Option<std::time::Duration> {
        let seconds = self.cpu_limit.unwrap_or(1.0);
        std::time::Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|limit| !limit.is_zero())
    }
}

/// Which `[[step]]` (1-based; 0 for none) the byte `offset` of `text` is in.
fn step_at(text: &str, offset: usize) -> usize {
    let (mut steps, mut in_step) = (0, false);
    for line in text.get(..offset).unwrap_or(text).lines() {
        let line = line.trim_start();
        if line.starts_with("[[step]]") {
            steps += 1;
            in_step = true;
        } else if line.starts_with('[') {
            in_step = line.starts_with("[step.") || line.starts_with("[[step.");
        }
    }
    if in_step {
        steps
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        Scenario::from_toml(text).unwrap_err()
    }

    #[test]
    fn an_unknown_kind_names_its_step_and_the_allowed_values() {
        let text = "[[step]]\nexpect = { passes = true }\n\n[[step]]\n\
                    expect = { exit = { process = \"parent\", kind = \"returnd\" } }\n";
        let err = refused(text);
        assert!(err.starts_with("step 2: "), "{err}");
        assert!(err.contains("unknown variant `returnd`"), "{err}");
        assert!(
            err.contains("`returned`") && err.contains("`timed_out`"),
            "{err}"
        );
        let err = refused("[[step]]\nexpect = { spawn = { result = \"okay\" } }\n");
        assert!(
            err.starts_with("step 1: ") && err.contains("`no_file_at_path`"),
            "{err}"
        );
        let err = refused("[[step]]\nexpect = { diagnostic = \"cap_dropped\" }\n");
        assert!(err.contains("`capability_dropped`"), "{err}");
    }

    #[test]
    fn ids_are_checked_as_the_file_is_read() {
        let err =
            refused("[[step]]\nexpect = { exit = { process = \"a:b\", kind = \"returned\" } }\n");
        assert!(
            err.starts_with("step 1: ") && err.contains("`a:b` is not a process id"),
            "{err}"
        );
        let err = refused("[[step]]\nsend = { to = \"Parent\" }\n");
        assert!(err.contains("`Parent` is not a process"), "{err}");
        let err = refused("[state]\n\"x:y\" = \"s\"\n");
        assert!(err.contains("`x:y` is not a process id"), "{err}");
        // Nor may a key lead out of the home's state directory.
        let err = refused("[state]\n\"../../../x:a:b\" = \"s\"\n");
        assert!(
            err.contains("Process name (../../../x) can only contain"),
            "{err}"
        );
        let ok = Scenario::from_toml("[[step]]\nsend = { to = \"parent\" }\n").unwrap();
        let Step::Send(send) = &ok.step[0] else {
            panic!("a send")
        };
        let package = PackageId::parse("spawn:template.os").unwrap();
        assert_eq!(send.to.resolve(&package), "parent:spawn:template.os");
    }

    #[test]
    fn absurd_times_are_refused() {
        for bad in ["nan", "-1e30", "0", "1e30", "inf"] {
            let err = refused(&format!("timeout = {bad}\n"));
            assert!(err.starts_with("timeout = "), "{err}");
        }
        let err = refused("timeout = 5\n[[step]]\nwait = { seconds = 6 }\n");
        assert!(err.starts_with("step 1: wait seconds = 6"), "{err}");
        let err = refused("[[step]]\nwait = { seconds = -5 }\n");
        assert!(err.starts_with("step 1: wait seconds = -5"), "{err}");
    }

    #[test]
    fn steps_that_check_nothing_are_refused() {
        assert_eq!(
            refused("[[step]]\nexpect = {}\n"),
            "step 1: an `expect` with nothing in it checks nothing"
        );
        let err = refused("[[step]]\nexpect = { passes = true }\n[[step]]\nwait = {}\n");
        assert_eq!(
            err,
            "step 2: a `wait` needs `print`, `exit`, `idle` or `seconds`"
        );
        let err = refused("[[step]]\nwait = { process = \"parent\", idle = true }\n");
        assert!(err.starts_with("step 1: a `wait`'s `process`"), "{err}");
    }
}
