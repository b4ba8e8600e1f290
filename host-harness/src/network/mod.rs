//! A network of emulated nodes in one process: the one owner of every
//! node of a run and of what travels between them. Each node is a plain
//! value here (its kernel, home, modules, key and terminal prefix are its
//! own); the network routes what their kernels send to other nodes by the
//! rules of `links.rs` (connections, latency, partitions, crashes), keeps
//! the order of each connection, and records every crossing for the
//! report.
//!
//! Messages due now are delivered by whoever sent them, as soon as the
//! sender's kernel lock is released ([`Wire::flush`]); messages due later
//! wait in one queue, ordered by time and then by when they were sent, for
//! the network's clock task. Time is tokio's, so a paused clock would move
//! it; every random draw (latency) comes from the run's seed.

pub(crate) mod links;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::kernel::event::BlockReason;
use crate::kernel::message::Outbound;
use crate::kernel::Persisted;
use crate::node::activity::{Activity, InFlight};
use crate::node::{Node, Wire};
use crate::report::{
    Crossing, CrossingRecord, Ended, FaultRecord, MessageKind, NetworkReport, Report,
};
use crate::types::keys::{networking_key, node_seed};
use crate::types::{InputError, Message};
use crate::util::lock;
use links::{Latency, Links, Route};

/// How a node comes to be: booted fresh (its packages installed) when
/// `table` is `None`, or rebooted from the process table it persisted. It
/// must [`Network::attach`] the node before any of its processes starts,
/// so that what they send at once finds its way back, and call
/// [`Network::booted`] once its processes exist.
pub(crate) type Boot = Box<
    dyn Fn(&Arc<Network>, &str, Option<Vec<Persisted>>) -> Result<Arc<Node>, InputError>
        + Send
        + Sync,
>;

/// What a node of the network is made with.
pub(crate) struct Seat {
    /// This boot's seed (its ids, its processes' random numbers), from the
    /// run's, the node's name and how many times it booted before: a
    /// restarted node does not repeat its first boot's choices.
    pub seed: u64,
    /// The node's own seed, the same at every boot (its networking key,
    /// its login cookie).
    pub key_seed: u64,
    /// The run's seed, which the report records.
    pub run_seed: u64,
    pub wire: Weak<dyn Wire>,
    /// What is in flight: one count for every node and the wire.
    pub activity: Arc<Activity>,
    /// The network's clock, which every node's clocks count from (a
    /// restarted node's monotonic clock goes on, as a machine's does).
    pub origin: tokio::time::Instant,
    /// The wall-clock time at `origin`, since the Unix epoch.
    pub wall_origin: Duration,
    /// On virtual time: one thread, a paused clock, fuel for yields.
    pub simulated: bool,
}

/// Crossings the report keeps; the rest are counted.
const KEPT: usize = 10_000;

pub(crate) struct Network {
    me: Weak<Network>,
    seed: u64,
    /// The network's clock starts with the run.
    clock: tokio::time::Instant,
    /// The wall-clock time then: now, or on virtual time a fixed date
    /// drawn from the seed.
    wall_origin: Duration,
    simulated: bool,
    activity: Arc<Activity>,
    state: Mutex<State>,
    /// Someone is delivering due messages (one at a time keeps the order).
    delivering: AtomicBool,
    /// Wakes the clock task when something is due sooner.
    wake: Arc<Notify>,
    /// Told each time a node goes down or comes up.
    membership: Notify,
    clock_task: Mutex<Option<JoinHandle<()>>>,
    boot: Boot,
}

struct State {
    links: Links,
    /// The nodes, in the order the run declared them.
    order: Vec<String>,
    members: BTreeMap<String, Member>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    /// Messages a partition holds on an open connection, per direction,
    /// and those waiting for a node of the network's first boot.
    held: BTreeMap<(String, String), VecDeque<Parcel>>,
    /// Nodes not booted yet at the start: the network's nodes boot one
    /// after another, but as if at once, so what an early one sends to a
    /// later one waits for it rather than failing.
    booting: std::collections::BTreeSet<String>,
    sent: u64,
    crossings: Vec<CrossingRecord>,
    omitted_crossings: u64,
    faults: Vec<FaultRecord>,
    /// Reports of boots that ended in a crash or a restart.
    earlier: Vec<Report>,
}

struct Member {
    key: VerifyingKey,
    /// Boots so far (each draws its own seed).
    boots: u64,
    /// `None` while the node is down; then the table it persisted.
    node: Option<Arc<Node>>,
    table: Option<Vec<Persisted>>,
}

/// A message between nodes.
struct Parcel {
    from: String,
    outbound: Outbound,
    /// Its record in the report, if kept.
    crossing: Option<usize>,
}

struct Scheduled {
    at: Duration,
    order: u64,
    action: Action,
    _busy: InFlight,
}

enum Action {
    /// Into the target node's kernel.
    Arrive(Parcel),
    /// Back to the sender as `Offline`.
    Fail(Parcel, BlockReason),
    /// Gone, and the sender's node says why (if it says anything).
    Lose(Parcel, BlockReason),
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

impl Network {
    /// A network of `names` (in that order), each booted by `boot`; if
    /// one cannot boot, those that did are stopped.
    pub async fn start(
        names: &[String],
        seed: u64,
        simulated: bool,
        activity: Arc<Activity>,
        boot: Boot,
    ) -> Result<Arc<Network>, InputError> {
        let members = names
            .iter()
            .map(|name| {
                let key = networking_key(node_seed(seed, name)).verifying_key();
                let member = Member {
                    key,
                    boots: 0,
                    node: None,
                    table: None,
                };
                (name.clone(), member)
            })
            .collect();
        let network = Arc::new_cyclic(|me| Network {
            me: me.clone(),
            seed,
            clock: tokio::time::Instant::now(),
            wall_origin: if simulated {
                // 2025-01-01T00:00:00Z, plus up to a year from the seed.
                Duration::from_secs(1_735_689_600 + seed % 31_536_000)
            } else {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
            },
            simulated,
            activity,
            state: Mutex::new(State {
                links: Links::new(names.iter().cloned(), seed),
                order: names.to_vec(),
                members,
                queue: BinaryHeap::new(),
                held: BTreeMap::new(),
                booting: names.iter().cloned().collect(),
                sent: 0,
                crossings: Vec::new(),
                omitted_crossings: 0,
                faults: Vec::new(),
                earlier: Vec::new(),
            }),
            delivering: AtomicBool::new(false),
            wake: Arc::new(Notify::new()),
            membership: Notify::new(),
            clock_task: Mutex::new(None),
            boot,
        });
        let task = tokio::spawn(tick(network.me.clone(), network.wake.clone()));
        *lock(&network.clock_task) = Some(task);
        for name in names {
            if let Err(e) = (network.boot)(&network, name, None) {
                network.shutdown().await;
                return Err(e);
            }
        }
        Ok(network)
    }

    /// Node `name` is up (booting): messages reach it and come back to it
    /// from now on.
    pub fn attach(&self, name: &str, node: &Arc<Node>) {
        let mut state = lock(&self.state);
        let member = state.member(name);
        member.node = Some(node.clone());
        member.boots += 1;
        state.links.boot(name);
        self.membership.notify_waiters();
    }

    /// Completes the next time a node goes down or comes up.
    pub fn membership_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.membership.notified()
    }

    /// Node `name` has installed its packages: what other nodes sent it
    /// while the network was first booting goes on now.
    pub fn booted(&self, name: &str) {
        {
            let mut state = lock(&self.state);
            if !state.booting.remove(name) {
                return;
            }
            let now = self.now();
            let waiting: Vec<(String, String)> = state
                .held
                .keys()
                .filter(|(_, to)| to == name)
                .cloned()
                .collect();
            for link in waiting {
                for parcel in state.held.remove(&link).unwrap_or_default() {
                    self.route(&mut state, parcel, now);
                }
            }
        }
        self.flush();
    }

    /// What node `name` of this network is made with, at this boot.
    pub fn seat(&self, name: &str) -> Seat {
        let boots = lock(&self.state).members.get(name).map_or(0, |m| m.boots);
        let key_seed = node_seed(self.seed, name);
        Seat {
            seed: key_seed ^ boots.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            key_seed,
            run_seed: self.seed,
            wire: self.me.clone(),
            activity: self.activity.clone(),
            origin: self.clock,
            wall_origin: self.wall_origin,
            simulated: self.simulated,
        }
    }

    /// When the run began, on the network's clock.
    pub fn origin(&self) -> tokio::time::Instant {
        self.clock
    }

    /// Time since the run began, on the network's clock.
    pub fn now(&self) -> Duration {
        self.clock.elapsed()
    }

    /// Whether `name` is one of the network's nodes (up or down).
    pub fn knows(&self, name: &str) -> bool {
        lock(&self.state).members.contains_key(name)
    }

    /// Node `name`, if it is up.
    pub fn node(&self, name: &str) -> Option<Arc<Node>> {
        lock(&self.state)
            .members
            .get(name)
            .and_then(|m| m.node.clone())
    }

    /// Wakes whoever waits for the run to go idle, so they look again
    /// (something outside the run, such as a fault, changed it).
    pub fn poke(&self) {
        drop(self.activity.enter());
    }

    /// Waits until nothing is in flight on any node or between them (true)
    /// or `timeout` passes (false).
    pub async fn settle(&self, timeout: Duration) -> bool {
        self.activity.wait_idle(timeout).await
    }

    /// The faults injected so far.
    pub fn faults(&self) -> Vec<FaultRecord> {
        lock(&self.state).faults.clone()
    }

    /// Every message that crossed between nodes so far.
    pub fn crossings(&self) -> Vec<CrossingRecord> {
        lock(&self.state).crossings.clone()
    }

    /// Sets the latency of each direction from `from` to `to`.
    pub fn set_latency(&self, from: &[String], to: &[String], latency: Latency) {
        let mut state = lock(&self.state);
        for a in from {
            for b in to {
                if a != b {
                    state.links.set_latency(a, b, latency);
                }
            }
        }
        let fault = format!(
            "latency {} -> {}: {latency:?}",
            from.join(","),
            to.join(",")
        );
        state.fault(self.now(), fault);
    }

    /// Cuts `a` off from `b` (one way: only what `a` sends to `b`).
    pub fn partition(&self, a: &[String], b: &[String], one_way: bool) {
        let mut state = lock(&self.state);
        state.links.partition(a, b, one_way);
        let arrow = if one_way { "->" } else { "|" };
        state.fault(
            self.now(),
            format!("partition {} {arrow} {}", a.join(","), b.join(",")),
        );
    }

    /// Every partition is gone; what they held goes on, in order.
    pub fn heal(&self) {
        let now = self.now();
        {
            let mut state = lock(&self.state);
            state.links.heal();
            state.fault(now, "heal".into());
            let held = std::mem::take(&mut state.held);
            for (_, parcels) in held {
                for parcel in parcels {
                    self.route(&mut state, parcel, now);
                }
            }
        }
        self.wake.notify_one();
        self.flush();
    }

    /// Node `name` crashes: its tasks stop, its connections close, and
    /// what was on its way to or from it is lost. Its report (ended
    /// `crashed`) is kept; `restart` boots it again from its home.
    pub async fn crash(&self, name: &str) -> Result<(), String> {
        self.stop(name, Stop::Crash).await
    }

    /// Boots node `name` again from its home and its persisted process
    /// table; a node that is up shuts down cleanly first.
    pub async fn restart(&self, name: &str) -> Result<(), String> {
        if self.node(name).is_some() {
            self.stop(name, Stop::Reboot).await?;
        }
        let network = self.me.upgrade().ok_or("the network is gone")?;
        let table = lock(&self.state)
            .member_of(name)?
            .table
            .clone()
            .unwrap_or_default();
        lock(&self.state).fault(self.now(), format!("restart {name}"));
        // The table stays with the member until a boot has taken it, so a
        // boot that fails can be tried again from the same table.
        (self.boot)(&network, name, Some(table)).map_err(|e| e.to_string())?;
        lock(&self.state).member_of(name)?.table = None;
        Ok(())
    }

    /// Takes node `name` down, crashing or cleanly.
    async fn stop(&self, name: &str, how: Stop) -> Result<(), String> {
        let crashed = how == Stop::Crash;
        let now = self.now();
        let (node, lost) = {
            let mut state = lock(&self.state);
            let member = state.member_of(name)?;
            let node = member
                .node
                .take()
                .ok_or_else(|| format!("node {name} is already down"))?;
            state.links.crash(name);
            match how {
                Stop::Crash => state.fault(now, format!("crash {name}")),
                Stop::Reboot => state.fault(now, format!("shut down {name}")),
                // The node's own doing, not a fault.
                Stop::Shutdown => {}
            }
            (node, state.cut_off(name))
        };
        self.membership.notify_waiters();
        let table = node.kernel(|k| k.persisted(crashed));
        let mut report = node.finish(true);
        report.ended = match how {
            Stop::Crash => Ended::Crashed,
            Stop::Reboot => Ended::Rebooted,
            Stop::Shutdown => Ended::ShutDown,
        };
        // Kept before the tasks stop, so a run that ends while this node
        // is still shutting down finds its table and its report.
        {
            let mut state = lock(&self.state);
            state.member(name).table = Some(table);
            state.earlier.push(report);
        }
        node.shutdown().await;
        for parcel in lost {
            self.record(&parcel, Crossing::Failed(BlockReason::Lost), now);
            if let Some(sender) = self.node(&parcel.from) {
                sender.kernel(|k| k.lost(parcel.outbound.km, BlockReason::Lost));
            }
        }
        Ok(())
    }

    /// Ends the run: each node's report and what crossed between them.
    pub fn finish(&self, idle: bool) -> NetworkReport {
        let (order, nodes) = {
            let state = lock(&self.state);
            let nodes: BTreeMap<String, Option<Arc<Node>>> = state
                .members
                .iter()
                .map(|(name, m)| (name.clone(), m.node.clone()))
                .collect();
            (state.order.clone(), nodes)
        };
        let mut state_reports = Vec::new();
        for name in &order {
            if let Some(Some(node)) = nodes.get(name) {
                state_reports.push((name.clone(), Some(node.finish(idle))));
            } else {
                state_reports.push((name.clone(), None));
            }
        }
        let mut state = lock(&self.state);
        let mut earlier = std::mem::take(&mut state.earlier);
        let mut reports = Vec::new();
        for (name, report) in state_reports {
            match report {
                Some(report) => reports.push(report),
                // Down at the end: its last boot is the one that crashed.
                None => {
                    if let Some(at) = earlier.iter().rposition(|r| r.node == name) {
                        reports.push(earlier.remove(at));
                    }
                }
            }
        }
        NetworkReport {
            seed: self.seed,
            ended: if idle { Ended::Idle } else { Ended::Timeout },
            nodes: reports,
            earlier_boots: earlier,
            crossings: state.crossings.clone(),
            faults: state.faults.clone(),
            omitted_crossings: state.omitted_crossings,
        }
    }

    /// Stops every node and the clock; nothing of the run is left.
    pub async fn shutdown(&self) {
        let nodes: Vec<Arc<Node>> = {
            let mut state = lock(&self.state);
            state.queue.clear();
            state.held.clear();
            state
                .members
                .values_mut()
                .filter_map(|m| m.node.take())
                .collect()
        };
        for node in nodes {
            node.shutdown().await;
        }
        let task = lock(&self.clock_task).take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Sends `parcel` on its way from `now`.
    fn route(&self, state: &mut State, parcel: Parcel, now: Duration) {
        let to = parcel.outbound.km.target.node.clone();
        let route = if state.booting.contains(&to) {
            Route::Hold
        } else {
            let size = parcel.outbound.km.wire_size();
            state.links.route(&parcel.from, &to, now, size)
        };
        match route {
            Route::Arrive(at) => state.schedule(at, Action::Arrive(parcel), self.activity.enter()),
            Route::Fail(at, why) => {
                state.schedule(at, Action::Fail(parcel, why), self.activity.enter())
            }
            Route::Lost(why) => {
                state.schedule(now, Action::Lose(parcel, why), self.activity.enter())
            }
            Route::Hold => state
                .held
                .entry((parcel.from.clone(), to))
                .or_default()
                .push_back(parcel),
        }
    }

    /// Carries out what is due, in order, until nothing is.
    fn deliver_due(&self) {
        loop {
            let next = {
                let mut state = lock(&self.state);
                let now = self.now();
                match state.queue.peek() {
                    Some(Reverse(first)) if first.at <= now => state.queue.pop(),
                    _ => None,
                }
            };
            let Some(Reverse(scheduled)) = next else {
                return;
            };
            self.carry_out(scheduled);
        }
    }

    fn carry_out(&self, scheduled: Scheduled) {
        let now = self.now();
        match scheduled.action {
            Action::Arrive(parcel) => {
                let to = parcel.outbound.km.target.node.clone();
                match self.node(&to) {
                    Some(node) => {
                        let crossing = parcel.crossing;
                        let dropped = node.kernel(|k| k.receive(parcel.outbound));
                        let outcome = dropped.map_or(Crossing::Delivered, Crossing::Dropped);
                        self.set_outcome(crossing, outcome, now);
                    }
                    // It went down meanwhile.
                    None => {
                        self.record(&parcel, Crossing::Failed(BlockReason::Lost), now);
                        if let Some(sender) = self.node(&parcel.from) {
                            sender.kernel(|k| k.lost(parcel.outbound.km, BlockReason::Lost));
                        }
                    }
                }
            }
            Action::Fail(parcel, why) => {
                self.record(&parcel, Crossing::Failed(why), now);
                if let Some(sender) = self.node(&parcel.from) {
                    sender.kernel(|k| k.network_error(parcel.outbound.km, why));
                }
            }
            Action::Lose(parcel, why) => {
                self.record(&parcel, Crossing::Failed(why), now);
                if let Some(sender) = self.node(&parcel.from) {
                    sender.kernel(|k| k.lost(parcel.outbound.km, why));
                }
            }
        }
    }

    fn record(&self, parcel: &Parcel, outcome: Crossing, now: Duration) {
        self.set_outcome(parcel.crossing, outcome, now);
    }

    fn set_outcome(&self, crossing: Option<usize>, outcome: Crossing, now: Duration) {
        if let Some(index) = crossing {
            if let Some(record) = lock(&self.state).crossings.get_mut(index) {
                record.outcome = outcome;
                record.at_ms = Some(millis(now));
            }
        }
    }

    /// Whether something is due now.
    fn has_due(&self) -> bool {
        let now = self.now();
        lock(&self.state)
            .queue
            .peek()
            .is_some_and(|Reverse(first)| first.at <= now)
    }
}

impl Wire for Network {
    fn send(&self, from: &Node, outbound: Outbound) {
        let now = self.now();
        let mut state = lock(&self.state);
        // What a crashed node (or one shutting down for a reboot) still
        // sends on its way out never reaches the wire.
        let up = state
            .members
            .get(from.name())
            .and_then(|m| m.node.as_ref())
            .is_some_and(|node| std::ptr::eq(Arc::as_ptr(node), from));
        if !up {
            return;
        }
        let from = from.name();
        let crossing = state.cross(&outbound, now);
        let before = state.queue.peek().map(|Reverse(s)| s.at);
        let parcel = Parcel {
            from: from.to_string(),
            outbound,
            crossing,
        };
        self.route(&mut state, parcel, now);
        let after = state.queue.peek().map(|Reverse(s)| s.at);
        if after != before && after.is_some_and(|at| at > now) {
            self.wake.notify_one();
        }
    }

    fn flush(&self) {
        loop {
            if self.delivering.swap(true, Ordering::AcqRel) {
                return;
            }
            self.deliver_due();
            self.delivering.store(false, Ordering::Release);
            // Something sent while we let go would otherwise wait.
            if !self.has_due() {
                return;
            }
        }
    }

    fn peers(&self, node: &str) -> Vec<String> {
        lock(&self.state).links.peers(node)
    }

    fn shut_down(&self, node: &str) {
        let (me, name, busy) = (self.me.clone(), node.to_string(), self.activity.enter());
        tokio::spawn(async move {
            if let Some(network) = me.upgrade() {
                let _ = network.stop(&name, Stop::Shutdown).await;
            }
            drop(busy);
        });
    }

    fn key_of(&self, node: &str) -> Option<VerifyingKey> {
        lock(&self.state).members.get(node).map(|m| m.key)
    }
}

impl State {
    fn member(&mut self, name: &str) -> &mut Member {
        self.members.get_mut(name).expect("a node of the network")
    }

    fn member_of(&mut self, name: &str) -> Result<&mut Member, String> {
        let names = self.order.join(", ");
        self.members
            .get_mut(name)
            .ok_or_else(|| format!("there is no node {name} in this run (its nodes: {names})"))
    }

    fn schedule(&mut self, at: Duration, action: Action, busy: InFlight) {
        self.sent += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            order: self.sent,
            action,
            _busy: busy,
        }));
    }

    fn fault(&mut self, now: Duration, fault: String) {
        self.faults.push(FaultRecord {
            at_ms: millis(now),
            fault,
        });
    }

    /// Records a message leaving its node; its index, if kept.
    fn cross(&mut self, outbound: &Outbound, now: Duration) -> Option<usize> {
        if self.crossings.len() >= KEPT {
            self.omitted_crossings += 1;
            return None;
        }
        let km = &outbound.km;
        let (kind, body) = match &km.message {
            Message::Request(r) => (MessageKind::Request, &r.body),
            Message::Response((r, _)) => (MessageKind::Response, &r.body),
        };
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        self.crossings.push(CrossingRecord {
            source: km.source.clone(),
            target: km.target.clone(),
            kind,
            id: km.id,
            body: text,
            sent_ms: millis(now),
            outcome: Crossing::InFlight,
            at_ms: None,
        });
        Some(self.crossings.len() - 1)
    }

    /// Everything on its way to or from `name`, taken out (lost); what
    /// was due back at `name` itself simply goes.
    fn cut_off(&mut self, name: &str) -> Vec<Parcel> {
        let mut lost = Vec::new();
        let touches = |p: &Parcel| p.from == name || p.outbound.km.target.node == name;
        let queue = std::mem::take(&mut self.queue);
        for Reverse(scheduled) in queue.into_vec() {
            match scheduled.action {
                Action::Arrive(parcel) if touches(&parcel) => lost.push(parcel),
                Action::Fail(parcel, _) | Action::Lose(parcel, _) if parcel.from == name => {}
                action => self.queue.push(Reverse(Scheduled {
                    action,
                    ..scheduled
                })),
            }
        }
        let held = std::mem::take(&mut self.held);
        for ((from, to), parcels) in held {
            if from == name || to == name {
                lost.extend(parcels);
            } else {
                self.held.insert((from, to), parcels);
            }
        }
        lost.sort_by_key(|p| p.crossing);
        lost
    }
}

/// How a node goes down.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A fault: its tasks stop where they are.
    Crash,
    /// Cleanly, to boot again (a `restart` of a running node).
    Reboot,
    /// Cleanly, for good: its kernel took a `Shutdown` command.
    Shutdown,
}

/// The network's clock: carries out what falls due, sleeping until the
/// next thing is due or something sooner is scheduled.
async fn tick(network: Weak<Network>, wake: Arc<Notify>) {
    loop {
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let next = {
            let Some(network) = network.upgrade() else {
                return;
            };
            network.flush();
            let next = lock(&network.state).queue.peek().map(|Reverse(s)| s.at);
            next.map(|at| network.clock + at)
        };
        match next {
            Some(at) => {
                tokio::select! {
                    biased;
                    _ = tokio::time::sleep_until(at) => {}
                    _ = notified => {}
                }
            }
            None => notified.await,
        }
    }
}

fn millis(at: Duration) -> f64 {
    at.as_secs_f64() * 1000.0
}
