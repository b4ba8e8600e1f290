//! What a runtime module (or any process the node runs natively) gets to
//! do: a [`ModuleCtx`] with only what modules do on a node (check what a
//! process holds, hand out a capability it issues, send, note what it saw,
//! print), plus its node's name, home and profile. It never sees the
//! kernel itself, so it cannot install, spawn or kill. Behind the context
//! is a node, or in unit tests a fake one (`fake.rs`).

use std::sync::Arc;

use tokio::task::AbortHandle;

use super::activity::InFlight;
use super::home::Home;
use super::Task;
use crate::kernel::event::{Event, ModuleEvent};
use crate::kernel::message::{Answer, KernelMessage};
use crate::kernel::Kernel;
use crate::types::{Address, Capability, ProcessId, Profile, SendError};

/// A process the node runs natively: each message delivered to it goes to
/// `handle`, one at a time, in order.
pub(crate) trait Module: Send + Sync + 'static {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage);

    /// A request this process sent came back as an error (refused by the
    /// kernel, or timed out). Runtime modules send none that expect an
    /// answer; a test's driver does.
    fn failed(&self, _ctx: &ModuleCtx, _request: u64, _error: SendError) {}

    /// The run is over: stop work that may still be running on a blocking
    /// thread (an endless query, a hash of a huge file).
    fn stop(&self) {}

    /// Whether handling `km` may block (files, databases): it then runs on
    /// tokio's blocking threads, so it never holds up processes, timers or
    /// the run's timeout. Work known to be quick stays on the caller's
    /// thread, which saves a thread hop (tens of microseconds) per message.
    fn blocking(&self, _ctx: &ModuleCtx, _km: &KernelMessage) -> bool {
        false
    }

    /// Whether a node runs each of its requests in a task of its own, so
    /// that two requests waiting at once may be done in either order (a
    /// node's vfs, kv and sqlite): on virtual time the seed picks the
    /// order.
    fn concurrent(&self) -> bool {
        false
    }
}

/// What stands behind a [`ModuleCtx`]: the node, or a fake.
pub(super) trait NodeAccess: Send + Sync {
    fn name(&self) -> &str;
    fn home(&self) -> &Home;
    fn profile(&self) -> &'static Profile;
    /// Runs `f` on the kernel, then carries out what it decided.
    fn with_kernel(&self, f: &mut dyn FnMut(&mut Kernel));
    fn spawn(&self, task: Task) -> AbortHandle;
    fn busy(&self) -> InFlight;
    /// The network the node belongs to (none for a fake node).
    fn wire(&self) -> Option<Arc<dyn super::Wire>>;
    /// Whether the node runs on virtual time (one thread for everything).
    fn simulated(&self) -> bool;
    /// Time since the unix epoch on the node's wall clock.
    fn wall_clock(&self) -> std::time::Duration;
}

/// One native process's view of its node.
#[derive(Clone)]
pub(crate) struct ModuleCtx {
    node: Arc<dyn NodeAccess>,
    id: ProcessId,
}

impl ModuleCtx {
    pub(super) fn new(node: Arc<dyn NodeAccess>, id: ProcessId) -> Self {
        ModuleCtx { node, id }
    }

    fn kernel<R>(&self, f: impl FnOnce(&mut Kernel) -> R) -> R {
        let mut f = Some(f);
        let mut result = None;
        self.node.with_kernel(&mut |kernel| {
            if let Some(f) = f.take() {
                result = Some(f(kernel));
            }
        });
        result.expect("with_kernel calls its closure once")
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        self.node.name()
    }

    /// The id this module answers as.
    pub fn id(&self) -> &ProcessId {
        &self.id
    }

    /// `process` on this node.
    pub fn address(&self, process: ProcessId) -> Address {
        Address::new(self.node(), process)
    }

    pub fn home(&self) -> &Home {
        self.node.home()
    }

    pub fn profile(&self) -> &'static Profile {
        self.node.profile()
    }

    /// Whether `process` holds `cap`.
    pub fn holds(&self, process: &ProcessId, cap: &Capability) -> bool {
        self.kernel(|k| k.holds(process, cap))
    }

    /// Gives `process` capabilities this module issues, through the
    /// kernel's oracle (so they die with it); false if there is no such
    /// process.
    pub fn add_capabilities(&self, process: &ProcessId, caps: Vec<Capability>) -> bool {
        self.kernel(|k| caps.into_iter().all(|cap| k.add_capability(process, cap)))
    }

    /// Routes `km` through the kernel's checks.
    pub fn send(&self, km: KernelMessage) {
        self.kernel(|k| k.send(km));
    }

    /// Answers `km` as this module, if it gets an answer (see
    /// [`KernelMessage::answer`]).
    pub fn respond(&self, km: &KernelMessage, answer: Answer) {
        if let Some(response) = km.answer(self.address(self.id.clone()), answer) {
            self.send(response);
        }
    }

    /// Answers `km`'s source, ignoring its rsvp and whether it expected an
    /// answer (as vfs does for a root listing and http-server for its
    /// errors).
    pub fn respond_to_source(&self, km: &KernelMessage, answer: Answer) {
        let mut to_source = km.clone();
        to_source.rsvp = None;
        let answer = Answer {
            always: true,
            ..answer
        };
        self.respond(&to_source, answer);
    }

    /// Reports what the module noticed.
    pub fn note(&self, event: ModuleEvent) {
        self.kernel(|k| k.note(Event::Module(event)));
    }

    /// A line on the node's terminal, bare, as this module prints it.
    pub fn print(&self, verbosity: u8, text: String) {
        let id = self.id.clone();
        self.kernel(|k| k.print_as(&id, verbosity, text));
    }

    /// A fresh number from the node's seeded generator.
    pub fn random(&self) -> u64 {
        self.kernel(|k| k.random())
    }

    /// Runs `task` until it ends or the run does.
    pub fn spawn(&self, task: Task) -> AbortHandle {
        self.node.spawn(task)
    }

    /// Marks work as pending: the run is not over while it is held.
    pub fn busy(&self) -> InFlight {
        self.node.busy()
    }

    /// Whether the node runs on virtual time: work that blocks runs in
    /// line, and nothing may wait on a real socket.
    pub fn simulated(&self) -> bool {
        self.node.simulated()
    }

    /// The node's wall clock: time since the unix epoch, as its processes
    /// read it (the run's start plus node time; virtual in a simulation).
    pub fn wall_clock(&self) -> std::time::Duration {
        self.node.wall_clock()
    }

    /// The nodes this node has a connection with now, sorted.
    pub fn peers(&self) -> Vec<String> {
        self.node
            .wire()
            .map_or_else(Vec::new, |wire| wire.peers(self.node()))
    }

    /// The networking key the name registry has for `node`.
    pub fn key_of(&self, node: &str) -> Option<ed25519_dalek::VerifyingKey> {
        self.node.wire().and_then(|wire| wire.key_of(node))
    }
}
