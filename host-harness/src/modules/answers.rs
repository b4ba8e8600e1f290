//! A native process that sends requests on someone's behalf (kit's tester,
//! a scenario's driver) and hands each response to whoever waits for it,
//! by request id. Responses nobody waits for are dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::bindings::Message;
use crate::kernel::message::KernelMessage;
use crate::node::{lock, Port};

use super::Module;

#[derive(Clone, Default)]
pub struct Answers {
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Vec<u8>>>>>,
}

impl Answers {
    /// The body of the response to request `id`, when it comes.
    pub fn expect(&self, id: u64) -> oneshot::Receiver<Vec<u8>> {
        let (sender, receiver) = oneshot::channel();
        lock(&self.waiting).insert(id, sender);
        receiver
    }

    /// Stops waiting for request `id` (it timed out).
    pub fn forget(&self, id: u64) {
        lock(&self.waiting).remove(&id);
    }
}

impl Module for Answers {
    fn handle(&self, _port: &Arc<dyn Port>, km: KernelMessage) {
        if let Message::Response((response, _)) = &km.message {
            if let Some(waiting) = lock(&self.waiting).remove(&km.id) {
                let _ = waiting.send(response.body.clone());
            }
        }
    }
}
