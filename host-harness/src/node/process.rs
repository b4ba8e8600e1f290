//! How the node runs a process without knowing what runs it: it is handed
//! [`Programs`] (the wasm host), and gives each start of a process a
//! [`ProcessCtx`]: the calls a process makes of its kernel, one method
//! each, and nothing else.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::AbortHandle;

use super::activity::InFlight;
use super::mailbox::Mailbox;
use super::{Node, Task};
use crate::kernel::event::{Event, Exit};
use crate::kernel::message::KernelMessage;
use crate::kernel::{Program, SpawnRequest};
use crate::types::{
    Address, Capability, OnExit, ProcessId, Profile, Response, Runtime, SendError, SpawnError,
    WasmKey,
};

/// What runs processes: compiles their bytes and runs one start of one.
pub(crate) trait Programs: Send + Sync {
    /// Compiles a component; `Err` says why a node would not run it.
    fn load(&self, bytes: &[u8]) -> Result<WasmKey, String>;
    /// One start of the process: instantiate, call `init`, tell the kernel
    /// how it ended. `busy` is held while it computes.
    fn run(&self, process: ProcessCtx, busy: InFlight) -> Task;
}

/// One process's way to its kernel.
#[derive(Clone)]
pub(crate) struct ProcessCtx {
    node: Arc<Node>,
    id: ProcessId,
    mailbox: Arc<Mailbox>,
}

impl ProcessCtx {
    pub(super) fn new(node: Arc<Node>, id: ProcessId, mailbox: Arc<Mailbox>) -> Self {
        ProcessCtx { node, id, mailbox }
    }

    pub fn id(&self) -> &ProcessId {
        &self.id
    }

    /// `node@process`, as `our` answers.
    pub fn our(&self) -> Address {
        Address::new(self.node.name(), self.id.clone())
    }

    pub fn node(&self) -> &str {
        self.node.name()
    }

    pub fn profile(&self) -> &'static Profile {
        self.node.profile()
    }

    pub fn mailbox(&self) -> &Arc<Mailbox> {
        &self.mailbox
    }

    /// The node's clock: time since the run began.
    pub fn now(&self) -> Duration {
        self.node.now()
    }

    /// Where the clocks the process reads start: the run's start, and the
    /// wall-clock time then.
    pub fn origin(&self) -> (tokio::time::Instant, Duration) {
        self.node.origin()
    }

    /// Whether the node runs on virtual time (the process then yields by
    /// fuel, not by the wall clock).
    pub fn simulated(&self) -> bool {
        self.node.simulated()
    }

    /// The package's `tmp` drive on the host, if the runtime preopens one.
    /// The package's tmp directory on the host, and the path the process
    /// sees it at: the host's, as on a node, or on virtual time one that
    /// does not change from run to run (`/<node>/vfs/<package>/tmp`), so a
    /// seed replays whatever the process does with it.
    pub fn tmp_dir(&self) -> Option<(PathBuf, String)> {
        if !self.profile().tmp_dir {
            return None;
        }
        let package = self.id.package_id();
        let dir = self.node.home().drive(&package, "tmp");
        std::fs::create_dir_all(&dir).ok()?;
        let guest = if self.simulated() {
            format!("/{}/vfs/{package}/tmp", self.node.name())
        } else {
            dir.to_string_lossy().into_owned()
        };
        Some((dir, guest))
    }

    pub fn busy(&self) -> InFlight {
        self.node.busy()
    }

    pub fn spawn_task(&self, task: Task) -> AbortHandle {
        self.node.spawn_task(task)
    }

    /// A fresh number from the node's seeded generator.
    pub fn random(&self) -> u64 {
        self.node.kernel(|k| k.random())
    }

    /// Compiles bytes read for a spawn.
    pub fn load(&self, bytes: &[u8]) -> Result<WasmKey, String> {
        self.node.programs.load(bytes)
    }

    /// What runs behind this process's id.
    pub fn program(&self) -> Option<Program> {
        self.node.kernel(|k| k.program(&self.id))
    }

    /// Instantiation failed; `built_for` when the component is for another
    /// runtime (whose process interface this node does not link).
    pub fn instantiate_failed(&self, error: &str, built_for: Option<Runtime>) {
        self.node
            .kernel(|k| k.instantiate_failed(&self.id, error, built_for));
    }

    /// Its `init` waits for a message for the first time.
    pub fn settled(&self) {
        self.node.kernel(|k| k.settled(&self.id));
    }

    pub fn started(&self) {
        let now = self.now();
        self.node.kernel(|k| k.started(&self.id, now));
    }

    pub fn ended(&self, exit: Exit, stdout: String, stderr: String) {
        let now = self.now();
        self.node
            .kernel(|k| k.ended(&self.id, exit, stdout, stderr, now));
    }

    pub fn send(&self, km: KernelMessage) {
        self.node.kernel(|k| k.send_from_process(km));
    }

    /// A request's own timeout ran out.
    pub fn deliver_failure(&self, request: u64, error: SendError) {
        self.node
            .kernel(|k| k.deliver_failure(&self.id, request, error));
    }

    pub fn respond_to_nothing(&self, response: &Response) {
        self.node
            .kernel(|k| k.response_without_request(&self.id, response));
    }

    pub fn note(&self, event: Event) {
        self.node.kernel(|k| k.note(event));
    }

    pub fn print(&self, verbosity: u8, text: String) {
        self.node
            .kernel(|k| k.print_from(&self.id, verbosity, text));
    }

    pub fn on_exit(&self) -> OnExit {
        self.node.kernel(|k| k.on_exit(&self.id))
    }

    pub fn set_on_exit(&self, on_exit: OnExit) {
        self.node.kernel(|k| k.set_on_exit(&self.id, on_exit));
    }

    pub fn get_state(&self) -> Option<Vec<u8>> {
        self.node.kernel(|k| k.get_state(&self.id))
    }

    pub fn set_state(&self, bytes: Vec<u8>) {
        self.node.kernel(|k| k.set_state(&self.id, bytes));
    }

    pub fn clear_state(&self) {
        self.node.kernel(|k| k.clear_state(&self.id));
    }

    /// `spawn`; the outer `Err` traps the caller.
    pub fn spawn(&self, request: SpawnRequest) -> Result<Result<ProcessId, SpawnError>, String> {
        self.node.kernel(|k| k.spawn(request))
    }

    pub fn save_capabilities(&self, caps: Vec<Capability>) {
        self.node.kernel(|k| k.save_caps(&self.id, caps));
    }

    pub fn drop_capabilities(&self, caps: &[Capability]) {
        self.node.kernel(|k| k.drop_caps(&self.id, caps));
    }

    pub fn capabilities(&self) -> Vec<Capability> {
        self.node.kernel(|k| k.caps_of(&self.id))
    }
}
