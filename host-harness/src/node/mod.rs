//! One emulated node: the single owner of the kernel, the mailboxes, the
//! report and every task of a run. It feeds the kernel what happens,
//! carries out the [`Effect`]s it returns (deliveries, process starts,
//! restarts) and folds its events into the report, all under one lock so
//! the terminal shows lines in the report's order.
//!
//! It knows neither wasm nor the runtime modules: it is handed
//! [`Programs`] to run processes with (`process.rs`) and [`Module`]s to run
//! natively (`module.rs`), each seeing the node only through its context.
//! It answers `kernel:distro:sys` itself (`commands.rs`). When the run
//! ends, [`Node::shutdown`] aborts every task it started.

pub(crate) mod activity;
mod commands;
mod door;
#[cfg(test)]
pub(crate) mod fake;
pub(crate) mod home;
pub(crate) mod mailbox;
mod module;
mod process;
mod wire;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinSet};

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Delivery, KernelMessage};
use crate::kernel::{Effect, Event, Kernel};
use crate::report::terminal::Terminal;
use crate::report::Reader;
use crate::report::Report;
use crate::types::{ProcessId, Profile, Runtime};
use crate::util::lock;
use activity::{Activity, InFlight};
pub(crate) use door::HttpDoor;
use home::Home;
use mailbox::{Mailbox, Pushed, Wanted};
use module::NodeAccess;
pub(crate) use module::{Module, ModuleCtx};
pub(crate) use process::{ProcessCtx, Programs};
pub(crate) use wire::Wire;

/// A request a native process is handling: who asked, the start of its
/// body, and when it began (the node's clock).
type Handling = (ProcessId, String, Duration);

/// A task the node owns: aborted when the run ends.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a node is made of, besides what runs on it.
pub(crate) struct NodeConfig {
    pub name: String,
    pub runtime: Runtime,
    pub terminal: Terminal,
    pub home: Home,
    /// Seeds every random choice of this boot (message ids, unnamed
    /// spawns): one seed, one boot.
    pub seed: u64,
    /// Seeds the node's networking key, the same at every boot.
    pub key_seed: u64,
    /// The run's seed (the node's comes from it), for the report.
    pub run_seed: u64,
    /// The network it belongs to.
    pub wire: Weak<dyn Wire>,
    /// What is in flight in the whole network: a run is over only when
    /// every node is idle and nothing is on its way between them.
    pub activity: Arc<Activity>,
    /// The clocks processes read count from here (the network's start),
    /// the wall clock from `wall_origin`.
    pub origin: tokio::time::Instant,
    pub wall_origin: Duration,
    /// On virtual time: every run is one thread, so work that blocks runs
    /// in line, and processes yield by fuel, not by the wall clock.
    pub simulated: bool,
    /// Keep every kernel event in the report's trace.
    pub trace: bool,
    /// Keep a timeline of the run in the report (every delivery too).
    pub timeline: bool,
}

pub(crate) struct Node {
    name: String,
    /// Every native process's handler, to stop at the end of the run.
    modules: Mutex<Vec<Arc<dyn Module>>>,
    /// What each native process is handling now: who asked, what, since
    /// when. Left over at the end, it names a request that never finished.
    handling: Mutex<HashMap<ProcessId, Handling>>,
    me: Weak<Node>,
    inner: Mutex<Inner>,
    programs: Arc<dyn Programs>,
    terminal: Terminal,
    activity: Arc<Activity>,
    /// `None` once the run has ended: nothing new starts.
    tasks: Mutex<Option<JoinSet<()>>>,
    /// The node's clock: time since the run (the network) began.
    clock: tokio::time::Instant,
    wall_origin: Duration,
    simulated: bool,
    /// The HTTP server's way in without a socket.
    http_door: std::sync::OnceLock<Arc<dyn HttpDoor>>,
    home: Home,
    profile: &'static Profile,
    /// Notified after every kernel call that changed the report.
    changed: Notify,
    wire: Weak<dyn Wire>,
}

struct Inner {
    kernel: Kernel,
    mailboxes: HashMap<ProcessId, Arc<Mailbox>>,
    /// The task running each process's `init`: a kill stops it.
    running: HashMap<ProcessId, AbortHandle>,
    report: Report,
}

/// Nodes alive in this program: every run's node is gone when `run`
/// returns, which the leak test checks.
static LIVE_NODES: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn live_nodes() -> usize {
    LIVE_NODES.load(Ordering::SeqCst)
}

impl Drop for Node {
    fn drop(&mut self) {
        LIVE_NODES.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Node {
    /// A node with nothing installed but `kernel:distro:sys`.
    pub fn new(config: NodeConfig, programs: Arc<dyn Programs>) -> Arc<Node> {
        LIVE_NODES.fetch_add(1, Ordering::SeqCst);
        let NodeConfig {
            name,
            runtime,
            terminal,
            home,
            seed,
            key_seed,
            run_seed,
            wire,
            activity,
            origin,
            wall_origin,
            simulated,
            trace,
            timeline,
        } = config;
        let mut kernel = Kernel::new(&name, runtime, seed);
        kernel.set_networking_key(crate::types::keys::networking_key(key_seed));
        let mut report = Report::new(&name, runtime, run_seed);
        report.tracing = trace;
        report.timeline_on = timeline;
        kernel.trace_messages(terminal.verbosity >= 3);
        kernel.record_timeline(timeline);
        let node = Arc::new_cyclic(|me| Node {
            name,
            modules: Mutex::default(),
            handling: Mutex::default(),
            me: me.clone(),
            inner: Mutex::new(Inner {
                kernel,
                mailboxes: HashMap::new(),
                running: HashMap::new(),
                report,
            }),
            programs,
            terminal,
            activity,
            tasks: Mutex::new(Some(JoinSet::new())),
            clock: origin,
            wall_origin,
            simulated,
            http_door: std::sync::OnceLock::new(),
            home,
            profile: runtime.profile(),
            changed: Notify::new(),
            wire,
        });
        let commands = commands::KernelCommands::new(&node);
        node.add_module(ProcessId::runtime("kernel"), false, Arc::new(commands));
        node
    }

    fn arc(&self) -> Arc<Node> {
        self.me.upgrade().expect("a node is alive while it is used")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn profile(&self) -> &'static Profile {
        self.profile
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    pub fn programs(&self) -> &Arc<dyn Programs> {
        &self.programs
    }

    /// The node's clock: time since the run began.
    pub fn now(&self) -> Duration {
        self.clock.elapsed()
    }

    /// Where the clocks a process reads start: the run's start, and the
    /// wall-clock time then.
    pub fn origin(&self) -> (tokio::time::Instant, Duration) {
        (self.clock, self.wall_origin)
    }

    /// Whether the node runs on virtual time.
    pub fn simulated(&self) -> bool {
        self.simulated
    }

    /// Gives the node its HTTP server's way in without a socket.
    pub fn set_http_door(&self, door: Arc<dyn HttpDoor>) {
        let _ = self.http_door.set(door);
    }

    /// A connection to the node's HTTP server in memory, once it serves.
    pub fn connect_http(&self) -> Option<tokio::io::DuplexStream> {
        self.http_door.get()?.connect()
    }

    /// Marks work as pending: the run is not over while it is held.
    pub fn busy(&self) -> InFlight {
        self.activity.enter()
    }

    /// Registers a process the node runs natively (a runtime module, a
    /// stand-in for a distro process, a test's driver) under `id`, and
    /// runs it: each message delivered to it goes to its `handle`.
    pub fn add_module(&self, id: ProcessId, public: bool, module: Arc<dyn Module>) {
        self.kernel(|k| k.register_module(id.clone(), public));
        let mailbox = self.mailbox(&id);
        mailbox.begin();
        let ctx = ModuleCtx::new(self.arc(), id.clone());
        lock(&self.modules).push(module.clone());
        let node = self.me.clone();
        self.spawn_task(Box::pin(async move {
            let mut busy = None;
            loop {
                let first = mailbox.take(&mut busy, Wanted::Any).await;
                let mut order = vec![(first, None)];
                // A node runs each request of these modules in a task of its
                // own: those waiting at once may be done in any order, and
                // on virtual time the seed picks it.
                if ctx.simulated() && module.concurrent() {
                    while let Some((next, guard)) = mailbox.try_take() {
                        order.push((next, Some(guard)));
                    }
                    for i in (1..order.len()).rev() {
                        let j = (ctx.random() % (i as u64 + 1)) as usize;
                        order.swap(i, j);
                    }
                }
                for (delivery, _guard) in order {
                    match delivery {
                        Delivery::Message(km) => {
                            if let Some(node) = node.upgrade() {
                                node.handling(&id, Some(&km));
                            }
                            handle(&module, &ctx, km).await;
                            if let Some(node) = node.upgrade() {
                                node.handling(&id, None);
                            }
                        }
                        Delivery::Failed { id, error } => module.failed(&ctx, id, error),
                    }
                }
                busy = None;
            }
        }));
    }

    /// `module` started handling `km` (`None`: it is done).
    fn handling(&self, module: &ProcessId, km: Option<&KernelMessage>) {
        let mut handling = lock(&self.handling);
        match km {
            Some(km) => {
                let body = km.request().map_or(&[][..], |r| &r.body[..]);
                let what = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                handling.insert(
                    module.clone(),
                    (km.source.process.clone(), what, self.now()),
                );
            }
            None => {
                handling.remove(module);
            }
        }
    }

    /// The mailbox of `id`, made if it has none yet.
    fn mailbox(&self, id: &ProcessId) -> Arc<Mailbox> {
        lock(&self.inner)
            .mailboxes
            .entry(id.clone())
            .or_default()
            .clone()
    }

    /// Runs `f` on the kernel, then, still under the lock, reports its
    /// events and carries out its effects in order.
    /// Messages for other nodes go to the network in the kernel's order;
    /// it delivers them once the lock is released.
    pub fn kernel<R>(&self, f: impl FnOnce(&mut Kernel) -> R) -> R {
        let mut inner = lock(&self.inner);
        let result = f(&mut inner.kernel);
        let (effects, events) = inner.kernel.drain();
        for event in &events {
            self.record(&mut inner, event);
        }
        let mut sent = false;
        for effect in effects {
            sent |= self.apply(&mut inner, effect);
        }
        drop(inner);
        if !events.is_empty() {
            self.changed.notify_waiters();
        }
        if sent {
            if let Some(wire) = self.wire.upgrade() {
                wire.flush();
            }
        }
        result
    }

    fn record(&self, inner: &mut Inner, event: &Event) {
        if let Event::Print {
            source,
            verbosity,
            text,
            prefixed,
        } = event
        {
            if *prefixed {
                let line = format!("{}:{}: {text}", source.package_name, source.publisher_node);
                self.terminal.print(*verbosity, &line);
            } else {
                self.terminal.print(*verbosity, text);
            }
        }
        inner.report.fold(event, self.now());
    }

    /// Carries out one effect; true if a message left for another node.
    fn apply(&self, inner: &mut Inner, effect: Effect) -> bool {
        match effect {
            Effect::Remote(outbound) => {
                return match self.wire.upgrade() {
                    Some(wire) => {
                        wire.send(self, *outbound);
                        true
                    }
                    // The network is gone: the run is over.
                    None => false,
                };
            }
            Effect::Deliver(id, delivery) => {
                let mailbox = inner.mailboxes.entry(id.clone()).or_default().clone();
                if mailbox.push(*delivery, self.activity.enter()) == Pushed::Overflowed {
                    self.record(inner, &Event::MailboxFull { id });
                }
            }
            Effect::Start(id) => {
                let mailbox = inner.mailboxes.entry(id.clone()).or_default().clone();
                let ctx = ProcessCtx::new(self.arc(), id.clone(), mailbox);
                let task = self.programs.run(ctx, self.activity.enter());
                let handle = self.spawn_task(task);
                inner.running.insert(id, handle);
            }
            Effect::RestartAfter(id, wait) => {
                let busy = self.activity.enter();
                let node = self.arc();
                self.spawn_task(Box::pin(async move {
                    tokio::time::sleep(wait).await;
                    node.kernel(|k| k.restart_due(&id));
                    drop(busy);
                }));
            }
            Effect::Close(id) => {
                if let Some(mailbox) = inner.mailboxes.remove(&id) {
                    mailbox.close();
                }
                // A process killed while it runs stops at its next yield
                // (one ending by itself has nothing left to wait for).
                if let Some(task) = inner.running.remove(&id) {
                    task.abort();
                }
            }
            Effect::PersistState(id, bytes) => {
                if let Err(e) = self.home.persist_state(&id, bytes.as_deref()) {
                    let text =
                        format!("host-harness could not write {id}'s state under the home: {e}");
                    self.record(
                        inner,
                        &Event::Print {
                            source: ProcessId::runtime("state"),
                            verbosity: 0,
                            text,
                            prefixed: false,
                        },
                    );
                }
            }
        }
        false
    }

    /// Runs `task` on the node's task set; after the run it is dropped.
    pub fn spawn_task(&self, task: Task) -> AbortHandle {
        match lock(&self.tasks).as_mut() {
            Some(tasks) => {
                // Forget the tasks that are done, so a long run does not
                // keep them all.
                while tasks.try_join_next().is_some() {}
                tasks.spawn(task)
            }
            // The run is over: nothing new starts.
            None => tokio::spawn(async {}).abort_handle(),
        }
    }

    /// A look at the report so far.
    pub fn peek<R>(&self, f: impl FnOnce(&Report) -> R) -> R {
        f(&lock(&self.inner).report)
    }

    /// Waits until `f` gives something, or `timeout` passes (`None`). `f`
    /// sees the report and whether the run is idle (nothing in flight, so
    /// nothing more will happen), and is asked again after each change to
    /// the report and when the run goes idle.
    pub async fn watch<R>(
        &self,
        timeout: Duration,
        mut f: impl FnMut(&Report, bool) -> Option<R>,
    ) -> Option<R> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            let idle = self.activity.went_idle();
            tokio::pin!(changed, idle);
            changed.as_mut().enable();
            idle.as_mut().enable();
            let now_idle = self.activity.is_idle();
            if let Some(found) = self.peek(|report| f(report, now_idle)) {
                return Some(found);
            }
            // `biased`: the same branch wins on every run (a seed replays).
            tokio::select! {
                biased;
                _ = changed => {}
                _ = idle => {}
                _ = tokio::time::sleep_until(deadline) => return None,
            }
        }
    }

    /// What keeps the run busy, in words: each process computing or
    /// waiting for a response, and each native process handling a request.
    pub fn what_is_busy(&self) -> Vec<String> {
        let mut busy: Vec<String> = lock(&self.inner)
            .mailboxes
            .iter()
            .filter_map(|(id, mailbox)| match mailbox.reader().0 {
                Reader::Busy if !lock(&self.handling).contains_key(id) => Some(format!(
                    "{id} is computing (it has not waited for a message)"
                )),
                Reader::Awaiting(_) => Some(format!("{id} waits for a response")),
                _ => None,
            })
            .collect();
        for (module, (process, _, _)) in lock(&self.handling).iter() {
            busy.push(format!("{module} is handling a request from {process}"));
        }
        if busy.is_empty() {
            busy.push("timers or restarts are pending".into());
        }
        busy.sort();
        busy
    }

    /// Ends the run: how each process stands, and the report.
    pub fn finish(&self, idle: bool) -> Report {
        let now = self.now();
        let stuck: Vec<_> = lock(&self.handling).drain().collect();
        for (module, (process, request, since)) in stuck {
            let seconds = now.saturating_sub(since).as_secs_f64();
            let event = ModuleEvent::StillHandling {
                process,
                module,
                request,
                seconds,
            };
            self.kernel(|k| k.note(Event::Module(event)));
        }
        self.kernel(|k| k.report_unused());
        let mut inner = lock(&self.inner);
        let parked: HashMap<ProcessId, _> = inner
            .mailboxes
            .iter()
            .map(|(id, mailbox)| (id.clone(), mailbox.reader()))
            .collect();
        inner.report.finish(idle, |id| parked.get(id).copied());
        inner.report.node_time_ms = now.as_secs_f64() * 1000.0;
        inner.report.home_changes = self.home.changes();
        inner.report.clone()
    }

    /// Aborts every task of the run and waits for them to go (a process
    /// busy in wasm goes at its next host call).
    pub async fn shutdown(&self) {
        for module in lock(&self.modules).drain(..) {
            module.stop();
        }
        let tasks = lock(&self.tasks).take();
        if let Some(mut tasks) = tasks {
            tasks.abort_all();
            let drained = async { while tasks.join_next().await.is_some() {} };
            let _ = tokio::time::timeout(Duration::from_secs(1), drained).await;
        }
        for mailbox in lock(&self.inner).mailboxes.values() {
            mailbox.close();
        }
        self.home.close();
    }

    /// Routes `km` as its source (a driver's request).
    pub fn send(&self, km: KernelMessage) {
        self.kernel(|k| k.send(km));
    }
}

/// Hands `km` to `module`, on a blocking thread if its work blocks. A
/// module's panic is printed and the module keeps serving.
async fn handle(module: &Arc<dyn Module>, ctx: &ModuleCtx, km: KernelMessage) {
    let outcome = if module.blocking(ctx, &km) && !ctx.simulated() {
        let (module, ctx) = (module.clone(), ctx.clone());
        match tokio::task::spawn_blocking(move || catch(&*module, &ctx, km)).await {
            Ok(outcome) => outcome,
            Err(e) => Err(e.to_string()),
        }
    } else {
        catch(&**module, ctx, km)
    };
    if let Err(text) = outcome {
        let line = format!("host-harness: {} failed on a message: {text}", ctx.id());
        ctx.print(0, line);
    }
}

fn catch(module: &dyn Module, ctx: &ModuleCtx, km: KernelMessage) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| module.handle(ctx, km))).map_err(
        |panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        },
    )
}

impl NodeAccess for Node {
    fn name(&self) -> &str {
        &self.name
    }

    fn home(&self) -> &Home {
        &self.home
    }

    fn profile(&self) -> &'static Profile {
        self.profile
    }

    fn with_kernel(&self, f: &mut dyn FnMut(&mut Kernel)) {
        self.kernel(f);
    }

    fn spawn(&self, task: Task) -> AbortHandle {
        self.spawn_task(task)
    }

    fn busy(&self) -> InFlight {
        self.activity.enter()
    }

    fn wire(&self) -> Option<Arc<dyn Wire>> {
        self.wire.upgrade()
    }

    fn simulated(&self) -> bool {
        self.simulated
    }

    fn wall_clock(&self) -> Duration {
        self.wall_origin + self.now()
    }
}
