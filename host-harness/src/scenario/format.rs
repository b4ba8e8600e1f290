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
    /// The node's name (default `fake.os`), or `[[node]]` entries: the
    /// nodes of a network, each with the packages it runs.
    #[serde(default)]
    pub node: Nodes,
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
    /// Faults at given node times, while the steps run.
    #[serde(default)]
    pub fault: Vec<Fault>,
    /// What `--faults` may draw for this scenario.
    #[serde(default)]
    pub random_faults: RandomFaults,
}

/// A fault at a node time: `at` seconds after the run began (steps run on
/// meanwhile). One of `crash`, `restart`, `partition`, `heal`, `latency`.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub at: f64,
    #[serde(flatten)]
    pub kind: FaultKind,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// That node crashes.
    Crash(String),
    /// That node boots again.
    Restart(String),
    Partition(Partition),
    Heal(bool),
    Latency(LatencyStep),
}

/// Bounds on the faults `--faults` draws from each seed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RandomFaults {
    /// How many faults a seed draws, at least and at most.
    pub count: [u32; 2],
    /// The node times they fall within, in seconds.
    pub within: f64,
    /// Which kinds may be drawn (a crash comes with its restart, a
    /// partition with its heal, a latency spike with its end).
    pub crash: bool,
    pub partition: bool,
    pub latency: bool,
    /// How long a crash, partition or spike lasts, at most, in seconds.
    pub longest: f64,
}

impl Default for RandomFaults {
    fn default() -> Self {
        RandomFaults {
            count: [1, 3],
            within: 10.0,
            crash: true,
            partition: true,
            latency: true,
            longest: 3.0,
        }
    }
}

/// The scenario's nodes: `node = "a.os"` names the one node; `[[node]]`
/// entries declare several.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Nodes {
    /// One node, `fake.os`.
    #[default]
    Default,
    One(String),
    Many(Vec<NodeDecl>),
}

/// A `[[node]]`: its name and the packages it runs (paths relative to the
/// package under test; `.` is that package, with the scenario's manifest
/// changes). Default: the package under test alone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDecl {
    pub name: String,
    #[serde(default = "this_package")]
    pub packages: Vec<String>,
}

fn this_package() -> Vec<String> {
    vec![".".into()]
}

impl<'de> Deserialize<'de> for Nodes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match toml::Value::deserialize(deserializer)? {
            toml::Value::String(name) => Ok(Nodes::One(name)),
            toml::Value::Array(entries) => {
                let nodes: Vec<NodeDecl> = entries
                    .into_iter()
                    .map(|entry| entry.try_into().map_err(D::Error::custom))
                    .collect::<Result<_, _>>()?;
                Ok(Nodes::Many(nodes))
            }
            other => Err(D::Error::custom(format!(
                "`node` is a node's name (`node = \"a.os\"`) or `[[node]]` entries with \
                 `name` and `packages`, not {}",
                other.type_str()
            ))),
        }
    }
}

impl Nodes {
    /// The declared nodes, in order, each with its packages.
    pub fn decls(&self) -> Vec<NodeDecl> {
        match self {
            Nodes::Default => vec![NodeDecl {
                name: "fake.os".into(),
                packages: this_package(),
            }],
            Nodes::One(name) => vec![NodeDecl {
                name: name.clone(),
                packages: this_package(),
            }],
            Nodes::Many(nodes) => nodes.clone(),
        }
    }
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
    /// Whose home (default: the first node's).
    pub node: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Send(Send),
    Http(Http),
    Wait(Wait),
    Expect(Box<Expect>),
    Restart(Restart),
    /// Cut nodes off from each other.
    Partition(Partition),
    /// `heal = true`: every partition is gone.
    Heal(bool),
    /// Set how long messages take between nodes.
    Latency(LatencyStep),
    /// `crash = "b.os"`: the node stops at once; what was on its way to or
    /// from it is lost. `restart = { node = "b.os" }` boots it again.
    Crash(String),
}

/// `partition = { groups = [["a.os"], ["b.os", "c.os"]] }`: no message
/// passes between nodes of different groups; with `one_way`, only what a
/// group sends to a later group is cut.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    pub groups: Vec<Vec<String>>,
    #[serde(default)]
    pub one_way: bool,
}

/// `latency = { from = "a.os", to = "b.os", ms = 50 }` (or `ms = [10,
/// 80]`, drawn per message from the run's seed); `from` and `to` default to
/// every node, and each direction is set unless `one_way`.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyStep {
    #[serde(default)]
    pub from: NodeList,
    #[serde(default)]
    pub to: NodeList,
    pub ms: Millis,
    #[serde(default)]
    pub one_way: bool,
}

/// One node's name or a list of them; empty: every node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum NodeList {
    #[default]
    All,
    One(String),
    Some(Vec<String>),
}

impl NodeList {
    /// The names it gives, or every one of `all`.
    pub fn resolve(&self, all: &[String]) -> Vec<String> {
        match self {
            NodeList::All => all.to_vec(),
            NodeList::One(name) => vec![name.clone()],
            NodeList::Some(names) if names.is_empty() => all.to_vec(),
            NodeList::Some(names) => names.clone(),
        }
    }

    fn named(&self) -> Vec<&String> {
        match self {
            NodeList::All => vec![],
            NodeList::One(name) => vec![name],
            NodeList::Some(names) => names.iter().collect(),
        }
    }
}

/// Milliseconds: one number, or `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum Millis {
    Fixed(f64),
    Range([f64; 2]),
}

/// `restart = "node"`: the node stops and boots again from its home (its
/// state, files and databases kept; the packages start as at install);
/// `restart = { process = "parent" }`: one running process is stopped and
/// started again with its capabilities and state.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Restart {
    Node(NodeWord),
    Process {
        process: ProcessRef,
        /// Its node (default: the first).
        node: Option<String>,
    },
    /// `restart = { node = "b.os" }`: that node, crashed or running.
    Named {
        node: String,
    },
}

/// The word `node`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeWord {
    Node,
}

/// A request to a process, from the scenario's driver (a public process
/// given messaging to the target, and the network capability) or from any
/// process named in `from`. `to = "b.os@chat"` reaches a process on
/// another node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Send {
    /// The node it is sent on (default: the first).
    pub node: Option<String>,
    pub to: Target,
    pub from: Option<ProcessRef>,
    /// The body as text, or `json` as JSON.
    pub body: Option<String>,
    pub json: Option<serde_json::Value>,
    pub blob: Option<String>,
    /// Seconds; the response is captured for `expect.response`.
    pub expects_response: Option<u64>,
    /// The request is meant to fail with this `SendError` kind (`offline`,
    /// `timeout`): the step fails if it gets a response or another error.
    pub error: Option<SendErrorWord>,
    /// `false`: the next step starts as soon as this one is answered,
    /// without waiting for the run to settle (to fault what is still on
    /// its way, e.g. `crash` a node a message is travelling to).
    #[serde(default = "yes")]
    pub settle: bool,
}

fn yes() -> bool {
    true
}

/// A process, on this node or (`node@process`) another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub node: Option<String>,
    pub process: ProcessRef,
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let (node, process) = match text.split_once('@') {
            Some((node, process)) => (Some(node.to_string()), process),
            None => (None, text.as_str()),
        };
        let process = ProcessRef::parse(process).map_err(serde::de::Error::custom)?;
        Ok(Target { node, process })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.node {
            Some(node) => write!(f, "{node}@{}", self.process),
            None => write!(f, "{}", self.process),
        }
    }
}

/// A real HTTP request to the local server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Whose server (default: the first node's).
    pub node: Option<String>,
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub body: String,
    /// `true`: send the login cookie; a process: send the cookie of its
    /// secure subdomain (what `SecureBind` paths take, with `host`).
    #[serde(default)]
    pub cookie: CookieChoice,
    /// The `Host` header (default `localhost:<port>`), e.g.
    /// `my-app-me-os.localhost` for the secure subdomain of package
    /// `my-app:me.os`.
    pub host: Option<String>,
}

/// Which login cookie an `http` step sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CookieChoice {
    /// The node's, or none.
    Node(bool),
    /// The per-app cookie of this process's secure subdomain.
    App(ProcessRef),
}

impl Default for CookieChoice {
    fn default() -> Self {
        CookieChoice::Node(false)
    }
}

fn get() -> String {
    "GET".into()
}

/// Waits until every condition holds, or fails at the timeout (or as soon
/// as it cannot hold any more).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    /// The node whose prints and processes it watches (default: the first).
    pub node: Option<String>,
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
    /// The node whose run it checks (default: the first).
    pub node: Option<String>,
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
    /// A message crossed between nodes, with this outcome.
    pub crossed: Option<ExpectCrossed>,
}

/// A `SendError`'s kind, as a scenario writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SendErrorWord {
    Offline,
    Timeout,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectCrossed {
    /// The sending node.
    pub from: Option<String>,
    /// The receiving node.
    pub to: Option<String>,
    /// What became of it: `delivered`, `dropped`, `failed` or `in_flight`.
    pub outcome: Option<CrossingWord>,
    /// Expect no such message.
    #[serde(default)]
    pub not: bool,
}

/// What became of a message between nodes, as a scenario writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossingWord {
    Delivered,
    Dropped,
    Failed,
    InFlight,
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
    pub(crate) fn is_empty(&self) -> bool {
        let Expect {
            node: _,
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
            crossed,
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
            && crossed.is_none()
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
        let names = scenario.check_nodes()?;
        scenario.check_faults(&names)?;
        let timeout = scenario.timeout();
        for (index, step) in scenario.step.iter().enumerate() {
            scenario.check_step_nodes(index, step, &names)?;
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
                Step::Send(send) if send.error.is_some() && send.expects_response.is_none() => {
                    Some("a `send` with `error` must expect a response (`expects_response`): only a request that waits for an answer is told it failed")
                }
                Step::Send(send) if send.error.is_some() && send.from.is_some() => {
                    Some("a `send` with `from` sends as another process, which gets the answer; `error` checks only the scenario's own requests")
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

impl Scenario {
    /// The declared nodes' names, each a node name and none twice.
    fn check_nodes(&self) -> Result<Vec<String>, String> {
        let mut names: Vec<String> = Vec::new();
        if let Nodes::Many(decls) = &self.node {
            if decls.is_empty() {
                return Err("`[[node]]`: declare at least one node".into());
            }
        }
        for decl in self.node.decls() {
            if !crate::types::is_node_name(&decl.name) {
                return Err(format!(
                    "node `{}` is not a node name: a-z, 0-9, `-` and `.` only, e.g. `fake.os`",
                    decl.name
                ));
            }
            if names.contains(&decl.name) {
                return Err(format!("node `{}` is declared twice", decl.name));
            }
            if decl.packages.is_empty() {
                return Err(format!("node `{}` runs no packages", decl.name));
            }
            names.push(decl.name);
        }
        for seed in &self.file {
            if let Some(node) = seed.node.as_ref().filter(|n| !names.contains(n)) {
                return Err(unknown_node(node, &names));
            }
        }
        Ok(names)
    }

    /// Every node a step names is one of the scenario's.
    fn check_step_nodes(&self, index: usize, step: &Step, names: &[String]) -> Result<(), String> {
        let mut named: Vec<&String> = Vec::new();
        match step {
            Step::Send(send) => named.extend(send.node.iter().chain(&send.to.node)),
            Step::Http(http) => named.extend(&http.node),
            Step::Wait(wait) => named.extend(&wait.node),
            Step::Expect(expect) => {
                named.extend(&expect.node);
                if let Some(crossed) = &expect.crossed {
                    named.extend(crossed.from.iter().chain(&crossed.to));
                }
            }
            Step::Restart(Restart::Named { node }) | Step::Crash(node) => named.push(node),
            Step::Restart(Restart::Process { node, .. }) => named.extend(node),
            Step::Restart(Restart::Node(_)) => {}
            Step::Heal(true) => {}
            Step::Heal(false) => {
                return Err(format!(
                    "step {}: `heal = false` does nothing; remove it",
                    index + 1
                ))
            }
            Step::Partition(partition) => {
                if partition.groups.len() < 2 {
                    return Err(format!(
                        "step {}: a `partition` needs at least two groups of nodes, e.g. \
                         groups = [[\"a.os\"], [\"b.os\"]]",
                        index + 1
                    ));
                }
                named.extend(partition.groups.iter().flatten());
            }
            Step::Latency(latency) => {
                let (low, high) = match latency.ms {
                    Millis::Fixed(ms) => (ms, ms),
                    Millis::Range([low, high]) => (low, high),
                };
                if !(0.0..=MAX_SECONDS * 1000.0).contains(&low)
                    || !(low..=MAX_SECONDS * 1000.0).contains(&high)
                {
                    return Err(format!(
                        "step {}: latency ms must be 0 to {} (a day), and [low, high] with low \
                         at most high",
                        index + 1,
                        MAX_SECONDS * 1000.0
                    ));
                }
                named.extend(latency.from.named().into_iter().chain(latency.to.named()));
            }
        }
        match named.into_iter().find(|n| !names.contains(n)) {
            Some(node) => Err(format!("step {}: {}", index + 1, unknown_node(node, names))),
            None => Ok(()),
        }
    }
}

impl Scenario {
    /// Each fault's time is in range and every node it names is one of
    /// the scenario's.
    fn check_faults(&self, names: &[String]) -> Result<(), String> {
        for (index, fault) in self.fault.iter().enumerate() {
            let bad = |reason: String| format!("fault {}: {reason}", index + 1);
            if !(0.0..=MAX_SECONDS).contains(&fault.at) {
                return Err(bad(format!(
                    "at = {}: must be 0 to {MAX_SECONDS} seconds of node time",
                    fault.at
                )));
            }
            let step = match &fault.kind {
                FaultKind::Crash(node) => Step::Crash(node.clone()),
                FaultKind::Restart(node) => Step::Restart(Restart::Named { node: node.clone() }),
                FaultKind::Partition(p) => Step::Partition(p.clone()),
                FaultKind::Heal(on) => Step::Heal(*on),
                FaultKind::Latency(l) => Step::Latency(l.clone()),
            };
            self.check_step_nodes(index, &step, names).map_err(|e| {
                bad(e
                    .split_once(": ")
                    .map_or(e.clone(), |(_, rest)| rest.to_string()))
            })?;
        }
        let r = &self.random_faults;
        if r.count[0] > r.count[1] || r.count[1] > 100 {
            return Err("random_faults: count = [at least, at most], at most 100".into());
        }
        let in_range = |v: f64| v > 0.0 && v <= MAX_SECONDS;
        if !(in_range(r.within) && in_range(r.longest)) {
            return Err(format!(
                "random_faults: within and longest must be more than 0 and at most {MAX_SECONDS} seconds"
            ));
        }
        Ok(())
    }
}

fn unknown_node(node: &str, names: &[String]) -> String {
    format!(
        "there is no node `{node}` in this scenario (its nodes: {}); declare it in a [[node]]",
        names.join(", ")
    )
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
        assert_eq!(
            send.to.process.resolve(&package),
            "parent:spawn:template.os"
        );
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
