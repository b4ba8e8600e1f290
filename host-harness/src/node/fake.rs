//! A node for unit tests of runtime modules, without wasm and without
//! mailboxes: a real kernel, a temporary home, and the effects and events
//! the kernel returned, kept for the test to look at. Tasks a module
//! spawns (a timer's) run on the test's tokio runtime.

use std::sync::{Arc, Mutex};

use tokio::task::AbortHandle;

use super::activity::{Activity, InFlight};
use super::home::Home;
use super::module::{ModuleCtx, NodeAccess};
use super::Task;
use crate::kernel::message::{Delivery, KernelMessage};
use crate::kernel::{Effect, Event, InstallPlan, Kernel};
use crate::types::{Capability, Message, PackageId, ProcessId, Profile, Request, Runtime};
use crate::util::lock;

pub(crate) struct FakeNode {
    home: Home,
    kernel: Mutex<Kernel>,
    effects: Mutex<Vec<Effect>>,
    events: Mutex<Vec<Event>>,
    activity: Arc<Activity>,
}

impl FakeNode {
    /// `fake.os` under Kinode 1.0's rules, with a fresh home.
    pub fn new() -> Arc<FakeNode> {
        Arc::new(FakeNode {
            home: Home::open(None).expect("a temporary home"),
            kernel: Mutex::new(Kernel::new("fake.os", Runtime::Kinode, 7)),
            effects: Mutex::default(),
            events: Mutex::default(),
            activity: Arc::new(Activity::default()),
        })
    }

    /// The context of runtime module `name:distro:sys`, registered.
    pub fn module(self: &Arc<Self>, name: &str) -> ModuleCtx {
        let id = ProcessId::runtime(name);
        self.kernel(|k| k.register_module(id.clone(), false));
        ModuleCtx::new(self.clone(), id)
    }

    /// Installs processes `names` of package `package` (never run), each
    /// holding `caps` besides what an install gives; returns their ids.
    pub fn install(&self, package: &str, names: &[&str], caps: &[Capability]) -> Vec<ProcessId> {
        let package = PackageId::parse(package).expect("a package id");
        let plans: Vec<InstallPlan> = names
            .iter()
            .map(|name| InstallPlan {
                id: ProcessId::new(name, &package.package_name, &package.publisher_node),
                wasm_path: format!("/{name}.wasm"),
                wasm: [0; 32],
                wit_version: Some(1),
                on_exit: crate::types::OnExit::None,
                public: false,
                request_networking: false,
                request_capabilities: vec![],
                grant_capabilities: vec![],
                skipped: vec![],
            })
            .collect();
        let ids: Vec<ProcessId> = plans.iter().map(|p| p.id.clone()).collect();
        self.kernel(|k| {
            k.install(&package, plans);
            for id in &ids {
                k.grant_capabilities(id, caps.to_vec());
            }
        });
        lock(&self.effects).clear();
        ids
    }

    /// Lets `who` message `whom` (as a manifest's grant does).
    pub fn may_message(&self, who: &ProcessId, whom: &ProcessId) {
        let cap = Capability::messaging(crate::types::Address::new("fake.os", whom.clone()));
        self.kernel(|k| k.grant_capabilities(who, vec![cap]));
    }

    /// Runs `f` on the kernel, keeping what it decided.
    pub fn kernel<R>(&self, f: impl FnOnce(&mut Kernel) -> R) -> R {
        let mut kernel = lock(&self.kernel);
        let result = f(&mut kernel);
        let (effects, events) = kernel.drain();
        lock(&self.effects).extend(effects);
        lock(&self.events).extend(events);
        result
    }

    /// The messages delivered to `to` so far, taken.
    pub fn delivered(&self, to: &ProcessId) -> Vec<KernelMessage> {
        let mut effects = lock(&self.effects);
        let mut taken = Vec::new();
        effects.retain_mut(|effect| match effect {
            Effect::Deliver(target, delivery) if target == to => {
                if let Delivery::Message(km) = &**delivery {
                    taken.push(km.clone());
                }
                false
            }
            _ => true,
        });
        taken
    }

    /// Every event so far, taken.
    pub fn events(&self) -> Vec<Event> {
        std::mem::take(&mut lock(&self.events))
    }

    /// Waits for the work modules left in flight (timers) to end.
    pub async fn settle(&self) {
        self.activity
            .wait_idle(std::time::Duration::from_secs(3600))
            .await;
    }
}

impl NodeAccess for FakeNode {
    fn name(&self) -> &str {
        "fake.os"
    }

    fn home(&self) -> &Home {
        &self.home
    }

    fn profile(&self) -> &'static Profile {
        Runtime::Kinode.profile()
    }

    fn with_kernel(&self, f: &mut dyn FnMut(&mut Kernel)) {
        self.kernel(f);
    }

    fn spawn(&self, task: Task) -> AbortHandle {
        tokio::spawn(task).abort_handle()
    }

    fn busy(&self) -> InFlight {
        self.activity.enter()
    }

    fn wire(&self) -> Option<Arc<dyn super::Wire>> {
        None
    }

    fn simulated(&self) -> bool {
        false
    }

    fn wall_clock(&self) -> std::time::Duration {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.home.close();
    }
}

/// A request from `from` to `to` on `fake.os`, with a JSON body.
pub(crate) fn request(
    from: &ProcessId,
    to: &str,
    body: serde_json::Value,
    blob: Option<Vec<u8>>,
) -> KernelMessage {
    KernelMessage {
        id: 1,
        source: crate::types::Address::new("fake.os", from.clone()),
        target: crate::types::Address::new("fake.os", ProcessId::runtime(to)),
        rsvp: None,
        message: Message::Request(Request {
            inherit: false,
            expects_response: Some(5),
            body: body.to_string().into_bytes(),
            metadata: None,
            capabilities: vec![],
        }),
        blob: blob.map(|bytes| crate::types::LazyLoadBlob { mime: None, bytes }),
    }
}

/// The body of a response, as JSON.
pub(crate) fn body(km: &KernelMessage) -> serde_json::Value {
    match &km.message {
        Message::Response((response, _)) => {
            serde_json::from_slice(&response.body).unwrap_or_default()
        }
        Message::Request(request) => serde_json::from_slice(&request.body).unwrap_or_default(),
    }
}
