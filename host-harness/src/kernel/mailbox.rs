//! A process's incoming queue. The Kinode kernel's is a 100-slot channel
//! that, when full, stalls the whole kernel until the process reads; here
//! the queue is unbounded and a report diagnostic says when a real node
//! would have stalled.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tokio::sync::Notify;

use super::activity::InFlight;
use super::message::Delivery;

/// The Kinode kernel's `PROCESS_CHANNEL_CAPACITY`.
pub const CAPACITY: usize = 100;

#[derive(Default)]
pub struct Mailbox {
    queue: Mutex<VecDeque<(Delivery, InFlight)>>,
    arrived: Notify,
    /// Whether the owner is parked in `take`.
    waiting: AtomicBool,
    /// The process is gone: nothing is queued any more.
    closed: AtomicBool,
}

impl Mailbox {
    /// Queues `delivery`; returns the queue length after it. A closed
    /// mailbox drops it (and its guard).
    pub fn push(&self, delivery: Delivery, guard: InFlight) -> usize {
        let mut queue = self.queue.lock().unwrap();
        // Checked under the queue lock, so `close` cannot slip in between.
        if self.closed.load(Ordering::SeqCst) {
            return 0;
        }
        queue.push_back((delivery, guard));
        let len = queue.len();
        drop(queue);
        self.arrived.notify_one();
        len
    }

    /// Takes the first queued delivery that `wanted` accepts, waiting for
    /// one if needed. Others stay queued in order. While waiting, the
    /// caller's `busy` guard is dropped (the process is idle) and replaced
    /// by the delivery's own.
    pub async fn take(
        &self,
        busy: &mut Option<InFlight>,
        wanted: impl Fn(&Delivery) -> bool,
    ) -> Delivery {
        loop {
            let arrived = self.arrived.notified();
            {
                let mut queue = self.queue.lock().unwrap();
                if let Some(index) = queue.iter().position(|(d, _)| wanted(d)) {
                    let (delivery, guard) = queue.remove(index).unwrap();
                    if busy.is_none() {
                        *busy = Some(guard);
                    }
                    self.waiting.store(false, Ordering::SeqCst);
                    return delivery;
                }
            }
            self.waiting.store(true, Ordering::SeqCst);
            *busy = None;
            arrived.await;
        }
    }

    pub fn is_waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst)
    }

    pub fn is_empty(&self) -> bool {
        self.queue.lock().unwrap().is_empty()
    }

    /// Drops everything queued and refuses more (the process is gone).
    pub fn close(&self) {
        let mut queue = self.queue.lock().unwrap();
        self.closed.store(true, Ordering::SeqCst);
        queue.clear();
    }

    /// Drops everything queued (the process restarts).
    pub fn clear(&self) {
        self.queue.lock().unwrap().clear();
    }
}
