//! Driving a run from outside its packages, as scenarios and kit's tester
//! do: a native process on the node that sends requests (as itself, or as
//! any process), hands each answer to whoever awaits it by request id, and
//! gives up at a timeout. A request the kernel refuses comes back at once
//! as its `SendError`, as it would to a process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::kernel::message::KernelMessage;
use crate::kernel::SpawnRequest;
use crate::node::{Module, ModuleCtx, Node};
use crate::types::{
    Address, Capability, LazyLoadBlob, Message, ProcessId, Request, SendError, SendErrorKind,
    SpawnError, WasmKey,
};
use crate::util::lock;

/// What came back for a request.
type Answer = Result<Vec<u8>, SendErrorKind>;

/// One request to send.
pub(crate) struct Outgoing {
    pub to: ProcessId,
    /// The target's node, if not the sender's.
    pub to_node: Option<String>,
    pub body: Vec<u8>,
    pub blob: Option<Vec<u8>>,
    /// Seconds before the kernel times it out, if it expects a response.
    pub expects_response: Option<u64>,
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoAnswer {
    /// The kernel sent the driver this error (the target does not exist,
    /// may not be messaged, or its timeout passed).
    Refused(SendErrorKind),
    /// Nothing within the time allowed.
    TimedOut(Duration),
}

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoAnswer::Refused(kind) => write!(f, "the kernel answered SendError {kind:?}"),
            NoAnswer::TimedOut(limit) => write!(f, "no answer within {limit:?}"),
        }
    }
}

pub(crate) struct Driver {
    node: Arc<Node>,
    id: ProcessId,
    waiting: Waiting,
}

type Waiting = Arc<Mutex<HashMap<u64, oneshot::Sender<Answer>>>>;

impl Driver {
    /// Registers the driver as public process `id` on `node`, holding the
    /// network capability (it may reach other nodes, and be answered).
    pub fn install(node: &Arc<Node>, id: ProcessId) -> Driver {
        let waiting = Waiting::default();
        let inbox = Inbox {
            waiting: waiting.clone(),
        };
        node.add_module(id.clone(), true, Arc::new(inbox));
        let network = crate::kernel::network_capability(node.name());
        node.kernel(|k| k.grant_capabilities(&id, vec![network]));
        Driver {
            node: node.clone(),
            id,
            waiting,
        }
    }

    /// Whether the driver runs on `node` (not on an earlier boot of it).
    pub fn is_on(&self, node: &Arc<Node>) -> bool {
        Arc::ptr_eq(&self.node, node)
    }

    pub fn id(&self) -> &ProcessId {
        &self.id
    }

    pub fn node(&self) -> &str {
        self.node.name()
    }

    /// `process` on the driver's node.
    pub fn address(&self, process: ProcessId) -> Address {
        Address::new(self.node.name(), process)
    }

    /// Gives `to` capabilities, as the kernel's `GrantCapabilities` does.
    pub fn grant(&self, to: &ProcessId, caps: Vec<Capability>) {
        self.node.kernel(|k| k.grant_capabilities(to, caps));
    }

    pub fn capabilities(&self) -> Vec<Capability> {
        self.node.kernel(|k| k.caps_of(&self.id))
    }

    /// Compiles a component for a spawn.
    pub fn load(&self, bytes: &[u8]) -> Result<WasmKey, String> {
        self.node.programs().load(bytes)
    }

    /// Spawns a child of the driver; `Err` is the trap a process would get.
    pub fn spawn(&self, request: SpawnRequest) -> Result<Result<ProcessId, SpawnError>, String> {
        self.node.kernel(|k| k.spawn(request))
    }

    /// Sends `outgoing` as `from` (another process on the node): nothing
    /// comes back to the driver.
    pub fn send_as(&self, from: ProcessId, outgoing: Outgoing) {
        let id = self.node.kernel(|k| k.random());
        self.node.send(self.message(id, from, outgoing));
    }

    /// Sends `outgoing` as the driver and waits, at most `timeout`, for the
    /// answer's body (a request that expects none gets none: `Ok(None)`).
    pub async fn ask(
        &self,
        outgoing: Outgoing,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>, NoAnswer> {
        let id = self.node.kernel(|k| k.random());
        let expects = outgoing.expects_response.is_some();
        let (sender, answered) = oneshot::channel();
        if expects {
            lock(&self.waiting).insert(id, sender);
        }
        self.node.send(self.message(id, self.id.clone(), outgoing));
        if !expects {
            return Ok(None);
        }
        let answer = tokio::time::timeout(timeout, answered).await;
        lock(&self.waiting).remove(&id);
        match answer {
            Ok(Ok(Ok(body))) => Ok(Some(body)),
            Ok(Ok(Err(kind))) => Err(NoAnswer::Refused(kind)),
            // The node went away with the request.
            Ok(Err(_)) | Err(_) => Err(NoAnswer::TimedOut(timeout)),
        }
    }

    fn message(&self, id: u64, from: ProcessId, outgoing: Outgoing) -> KernelMessage {
        KernelMessage {
            id,
            // As a process's host does: an answer comes back to the sender.
            rsvp: outgoing
                .expects_response
                .map(|_| self.address(from.clone())),
            source: self.address(from),
            target: match outgoing.to_node {
                Some(node) => Address::new(&node, outgoing.to),
                None => self.address(outgoing.to),
            },
            message: Message::Request(Request {
                inherit: false,
                expects_response: outgoing.expects_response,
                body: outgoing.body,
                metadata: None,
                capabilities: vec![],
            }),
            blob: outgoing
                .blob
                .map(|bytes| LazyLoadBlob { mime: None, bytes }),
        }
    }
}

/// The driver's side on the node: answers and errors, to whoever waits.
struct Inbox {
    waiting: Waiting,
}

impl Module for Inbox {
    fn handle(&self, _ctx: &ModuleCtx, km: KernelMessage) {
        if let Message::Response((response, _)) = &km.message {
            if let Some(waiting) = lock(&self.waiting).remove(&km.id) {
                let _ = waiting.send(Ok(response.body.clone()));
            }
        }
    }

    fn failed(&self, _ctx: &ModuleCtx, id: u64, error: SendError) {
        if let Some(waiting) = lock(&self.waiting).remove(&id) {
            let _ = waiting.send(Err(error.kind));
        }
    }
}
