//! One emulated node: the single owner of the kernel, the mailboxes, the
//! wasmtime runtime, the report and every task. It feeds the kernel what
//! happens, carries out the [`Effect`]s it returns (deliveries, process
//! starts, restarts) and folds its events into the report, all under one
//! lock so the terminal shows lines in the report's order. When the run
//! ends, [`Node::shutdown`] aborts every task it started.

pub mod activity;
pub mod home;
pub mod mailbox;
pub mod port;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::task::{AbortHandle, JoinSet};

use crate::bindings::ProcessId;
use crate::kernel::message::Delivery;
use crate::kernel::{Effect, Event, Flavor, Kernel, WasmKey};
use crate::modules::Module;
use crate::process::Runtime;
use crate::report::terminal::Terminal;
use crate::report::Report;
use activity::{Activity, InFlight};
use home::Home;
use mailbox::{Mailbox, Pushed, Reader};
pub use port::{Port, Task};

/// Locks `mutex`, also after a panic elsewhere: the harness reports what
/// it has rather than panicking again.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct Node {
    name: String,
    me: Weak<Node>,
    inner: Mutex<Inner>,
    pub runtime: Arc<Runtime>,
    terminal: Terminal,
    pub activity: Arc<Activity>,
    /// `None` once the run has ended: nothing new starts.
    tasks: Mutex<Option<JoinSet<()>>>,
    /// The node's clock: time since the run began.
    clock: tokio::time::Instant,
    /// The node's home on disk.
    home: Home,
    /// Per process: memory bytes, and computing time between two waits.
    limits: (usize, Option<Duration>),
    flavor: Flavor,
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

pub fn live_nodes() -> usize {
    LIVE_NODES.load(Ordering::SeqCst)
}

impl Drop for Node {
    fn drop(&mut self) {
        LIVE_NODES.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Node {
    pub fn new(
        name: &str,
        runtime: Arc<Runtime>,
        terminal: Terminal,
        home: Home,
        limits: (usize, Option<Duration>),
        flavor: Flavor,
    ) -> Arc<Node> {
        LIVE_NODES.fetch_add(1, Ordering::SeqCst);
        Arc::new_cyclic(|me| Node {
            name: name.into(),
            me: me.clone(),
            inner: Mutex::new(Inner {
                kernel: {
                    let mut kernel = Kernel::new(name);
                    kernel.trace_messages(terminal.verbosity >= 3);
                    kernel.set_flavor(flavor);
                    kernel
                },
                mailboxes: HashMap::new(),
                running: HashMap::new(),
                report: Report {
                    runtime: flavor,
                    ..Report::default()
                },
            }),
            runtime,
            terminal,
            activity: Arc::new(Activity::default()),
            tasks: Mutex::new(Some(JoinSet::new())),
            clock: tokio::time::Instant::now(),
            home,
            limits,
            flavor,
        })
    }

    /// Whose rules this node follows: Kinode 1.0's or hyperdrive's.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    fn arc(&self) -> Arc<Node> {
        self.me.upgrade().expect("a node is alive while it is used")
    }

    /// Registers a runtime module under `name:distro:sys` and runs it: each
    /// message delivered to it goes to its `handle`.
    pub fn add_module(&self, name: &str, public: bool, module: Arc<dyn Module>) {
        self.add_native(ProcessId::runtime(name), public, module);
    }

    /// Registers a process the node runs natively (a runtime module, or a
    /// stand-in for a distro process) under `id`.
    pub fn add_native(&self, id: ProcessId, public: bool, module: Arc<dyn Module>) {
        let id = {
            let mut inner = lock(&self.inner);
            inner.kernel.register_module(id, public)
        };
        let mailbox = self.mailbox(&id);
        mailbox.begin();
        let port: Arc<dyn Port> = self.arc();
        let id = id.clone();
        self.spawn_task(Box::pin(async move {
            let mut busy = None;
            loop {
                let delivery = mailbox.take(&mut busy, mailbox::Wanted::Any).await;
                if let Delivery::Message(km) = delivery {
                    // A module bug must not silence the module for the run.
                    let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        module.handle(&port, km)
                    }));
                    if let Err(panic) = handled {
                        let text = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        let line = format!("host-harness: {id} failed on a message: {text}");
                        port.kernel(|k| k.print_as(&id, 0, line));
                    }
                }
                busy = None;
            }
        }));
    }

    /// Per-process limits: memory bytes, and computing time between waits.
    pub fn limits(&self) -> (usize, Option<Duration>) {
        self.limits
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The mailbox of `id`, made if it has none yet.
    pub fn mailbox(&self, id: &ProcessId) -> Arc<Mailbox> {
        lock(&self.inner)
            .mailboxes
            .entry(id.clone())
            .or_default()
            .clone()
    }

    /// The node's clock: time since the run began.
    pub fn now(&self) -> Duration {
        self.clock.elapsed()
    }

    /// The package's `tmp` drive on the host, preopened for its processes.
    pub fn tmp_dir(&self, package: &crate::bindings::PackageId) -> Option<PathBuf> {
        // hyperdrive dropped it.
        if self.flavor == Flavor::Hyperdrive {
            return None;
        }
        let dir = self.home.drive(package, "tmp");
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir)
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Runs `f` on the kernel, then, still under the lock, reports its
    /// events and carries out its effects in order.
    pub fn kernel<R>(&self, f: impl FnOnce(&mut Kernel) -> R) -> R {
        let mut inner = lock(&self.inner);
        let result = f(&mut inner.kernel);
        let (effects, events) = inner.kernel.drain();
        for event in &events {
            self.record(&mut inner, event);
        }
        for effect in effects {
            self.apply(&mut inner, effect);
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
        inner.report.fold(event);
    }

    fn apply(&self, inner: &mut Inner, effect: Effect) {
        match effect {
            Effect::Deliver(id, delivery) => {
                let mailbox = inner.mailboxes.entry(id.clone()).or_default().clone();
                if mailbox.push(*delivery, self.activity.enter()) == Pushed::Overflowed {
                    self.record(inner, &Event::MailboxFull { id });
                }
            }
            Effect::Start(id) => {
                inner.mailboxes.entry(id.clone()).or_default();
                let busy = self.activity.enter();
                let task = Box::pin(crate::process::run(self.arc(), id.clone(), busy));
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

    /// Ends the run: how each process stands, and the report.
    pub fn finish(&self, idle: bool) -> Report {
        let mut inner = lock(&self.inner);
        let parked: HashMap<ProcessId, (Reader, bool)> = inner
            .mailboxes
            .iter()
            .map(|(id, mailbox)| (id.clone(), mailbox.reader()))
            .collect();
        inner.report.finish(idle, |id| parked.get(id).copied());
        inner.report.home_changes = self.home.changes();
        inner.report.clone()
    }

    /// Aborts every task of the run and waits for them to go (a process
    /// busy in wasm goes at its next host call).
    pub async fn shutdown(&self) {
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
}

impl Port for Node {
    fn node(&self) -> &str {
        &self.name
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

    fn load(&self, bytes: &[u8]) -> Result<WasmKey, String> {
        self.runtime.load(bytes)
    }
}
