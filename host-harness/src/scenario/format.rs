//! A scenario file (`tests/*.toml` in a package): how to set the run up,
//! then steps in order. Every field is optional except what a step needs.
//!
//! ```toml
//! name = "the parent spawns the child"
//! [[manifest]]                      # change the manifest for this run
//! process = "parent"
//! remove_request = ["http-client:distro:sys"]
//! [[step]]
//! send = { to = "parent:spawn:template.os", body = "hi", expects_response = 5 }
//! [[step]]
//! expect = { spawn = { child = "spawned-child-process", result = "ok" } }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::modules::HttpMock;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Defaults to the file's name.
    pub name: Option<String>,
    /// The node's name (default `fake.os`).
    pub node: Option<String>,
    /// Seconds any wait (and the run's settling) may take; default 10.
    pub timeout: Option<f64>,
    #[serde(default)]
    pub manifest: Vec<ManifestChange>,
    /// Canned answers for http-client, as `--http-mocks` takes them.
    #[serde(default)]
    pub http_mock: Vec<HttpMock>,
    /// Files put in the node home before the run.
    #[serde(default)]
    pub file: Vec<FileSeed>,
    /// Persisted state put in place before the run: process id → text.
    #[serde(default)]
    pub state: BTreeMap<String, String>,
    #[serde(default)]
    pub step: Vec<Step>,
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
}

/// A request to a process, from the scenario's driver (a public process
/// given messaging to the target) or from any process named in `from`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Send {
    pub to: String,
    pub from: Option<String>,
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

/// Waits until every condition holds, or fails at the timeout.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    /// A print containing this text (from `process`, if given).
    pub print: Option<String>,
    pub process: Option<String>,
    /// This process has ended.
    pub exit: Option<String>,
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
    /// A diagnostic of this kind (snake_case, e.g. `capability_dropped`).
    pub diagnostic: Option<String>,
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
    pub parent: Option<String>,
    /// The child's id contains this.
    pub child: Option<String>,
    /// `ok`, `no_file_at_path` or `trapped`.
    pub result: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectCap {
    pub process: String,
    /// The issuing process; params default to `"messaging"`.
    pub issuer: String,
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
    pub process: Option<String>,
    pub contains: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectExit {
    pub process: String,
    /// `returned`, `trapped`, `killed`, `running`, `timed_out`.
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectBlocked {
    pub from: Option<String>,
    pub to: Option<String>,
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
