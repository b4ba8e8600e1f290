//! A process's incoming messages, queued the way a node queues them, so
//! that the harness can tell when a real node would stall.
//!
//! On a node, the kernel pushes into a 100-slot channel per process; when
//! it is full, the kernel's whole event loop waits. But the channel only
//! fills while the process is busy running: before it runs, and while it
//! waits in `send-and-await-response` (or `get-state`, `spawn`, ...), the
//! process drains the channel into its own unbounded queue. `receive`
//! takes from that queue first. This type keeps both, so only messages
//! that would really sit in the channel count.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

use super::activity::InFlight;
use crate::kernel::message::Delivery;
use crate::kernel::CHANNEL_CAPACITY as CAPACITY;
use crate::report::Reader;
use crate::util::lock;

#[derive(Default)]
pub struct Mailbox {
    queues: Mutex<Queues>,
    arrived: Notify,
}

#[derive(Default)]
struct Queues {
    /// What would sit in the kernel's channel.
    channel: VecDeque<(Delivery, InFlight)>,
    /// The process's own queue: messages from before it ran, and those set
    /// aside while it awaited a particular response.
    queue: VecDeque<(Delivery, InFlight)>,
    reader: Reader,
    closed: bool,
    /// The channel went over capacity once already (reported once).
    overflowed: bool,
}

/// Which delivery a process is waiting for.
#[derive(Clone, Copy)]
pub enum Wanted {
    Any,
    Id(u64),
}

/// What happened to a pushed delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Queued, and the channel just went over [`CAPACITY`]: a node's kernel
    /// would stop routing until this process reads.
    Overflowed,
    /// The process is gone: dropped.
    Closed,
}

impl Mailbox {
    pub fn push(&self, delivery: Delivery, guard: InFlight) -> Pushed {
        let mut q = lock(&self.queues);
        if q.closed {
            return Pushed::Closed;
        }
        let mut pushed = Pushed::Queued;
        match q.reader {
            Reader::NotStarted => q.queue.push_back((delivery, guard)),
            Reader::Receiving => {
                q.queue.push_back((delivery, guard));
                q.reader = Reader::Busy;
            }
            Reader::Awaiting(id) => {
                if delivery.id() == id {
                    q.reader = Reader::Busy;
                }
                q.queue.push_back((delivery, guard));
            }
            Reader::Busy => {
                q.channel.push_back((delivery, guard));
                if q.channel.len() > CAPACITY && !q.overflowed {
                    q.overflowed = true;
                    pushed = Pushed::Overflowed;
                }
            }
        }
        drop(q);
        self.arrived.notify_one();
        pushed
    }

    /// The process starts running: from now on arrivals wait in the
    /// channel until it reads.
    pub fn begin(&self) {
        let mut q = lock(&self.queues);
        if q.reader == Reader::NotStarted {
            q.reader = Reader::Busy;
        }
    }

    /// Takes the next delivery `wanted` accepts, waiting for one if needed,
    /// as the node's host functions do. While waiting, `busy` is dropped
    /// (the process is idle) and then replaced by the delivery's own guard.
    pub async fn take(&self, busy: &mut Option<InFlight>, wanted: Wanted) -> Delivery {
        loop {
            let arrived = self.arrived.notified();
            {
                let mut q = lock(&self.queues);
                if let Some((delivery, guard)) = q.find(wanted) {
                    q.reader = Reader::Busy;
                    if busy.is_none() {
                        *busy = Some(guard);
                    }
                    return delivery;
                }
                q.reader = match wanted {
                    Wanted::Any => Reader::Receiving,
                    Wanted::Id(id) => Reader::Awaiting(id),
                };
            }
            *busy = None;
            arrived.await;
        }
    }

    /// The next delivery, if one is waiting (and its guard), without
    /// waiting.
    pub fn try_take(&self) -> Option<(Delivery, InFlight)> {
        lock(&self.queues).find(Wanted::Any)
    }

    /// What the owner is doing, and whether anything waits for it.
    pub fn reader(&self) -> (Reader, bool) {
        let q = lock(&self.queues);
        (q.reader, !q.queue.is_empty() || !q.channel.is_empty())
    }

    /// Drops everything queued and refuses more (the process is gone).
    pub fn close(&self) {
        let mut q = lock(&self.queues);
        q.closed = true;
        q.queue.clear();
        q.channel.clear();
    }
}

impl Queues {
    /// `receive` takes from the process's queue, else from the channel;
    /// an await looks through the queue, then moves channel messages into
    /// the queue until its own arrives.
    fn find(&mut self, wanted: Wanted) -> Option<(Delivery, InFlight)> {
        match wanted {
            Wanted::Any => self.queue.pop_front().or_else(|| self.channel.pop_front()),
            Wanted::Id(id) => {
                if let Some(index) = self.queue.iter().position(|(d, _)| d.id() == id) {
                    return self.queue.remove(index);
                }
                while let Some(item) = self.channel.pop_front() {
                    if item.0.id() == id {
                        return Some(item);
                    }
                    self.queue.push_back(item);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::node::activity::Activity;
    use crate::types::{SendError, SendErrorKind};

    fn failed(id: u64) -> Delivery {
        Delivery::Failed {
            id,
            error: SendError {
                kind: SendErrorKind::Timeout,
                target: crate::types::Address::new("a.os", crate::types::ProcessId::runtime("x")),
                message: crate::types::Message::Request(crate::types::Request {
                    inherit: false,
                    expects_response: None,
                    body: vec![],
                    metadata: None,
                    capabilities: vec![],
                }),
                lazy_load_blob: None,
            },
        }
    }

    fn flood(mailbox: &Mailbox, activity: &Arc<Activity>, count: u64) -> Vec<Pushed> {
        (0..count)
            .map(|id| mailbox.push(failed(id), activity.enter()))
            .filter(|p| *p != Pushed::Queued)
            .collect()
    }

    #[tokio::test]
    async fn only_a_busy_process_fills_the_channel() {
        let activity = Arc::new(Activity::default());
        // Before it runs: drained into its own queue.
        let mailbox = Mailbox::default();
        assert!(flood(&mailbox, &activity, 150).is_empty());
        // Running and not reading: the 101st overflows, once.
        mailbox.begin();
        assert_eq!(flood(&mailbox, &activity, 150), [Pushed::Overflowed]);
    }

    #[tokio::test]
    async fn an_awaiting_process_sets_arrivals_aside() {
        let activity = Arc::new(Activity::default());
        let mailbox = Arc::new(Mailbox::default());
        mailbox.begin();
        let waiter = {
            let mailbox = mailbox.clone();
            tokio::spawn(async move {
                let mut busy = None;
                mailbox.take(&mut busy, Wanted::Id(1_000)).await.id()
            })
        };
        while mailbox.reader().0 != Reader::Awaiting(1_000) {
            tokio::task::yield_now().await;
        }
        assert!(flood(&mailbox, &activity, 150).is_empty());
        mailbox.push(failed(1_000), activity.enter());
        assert_eq!(waiter.await.unwrap(), 1_000);
        // The others wait in the process's queue, in order.
        let mut busy = None;
        assert_eq!(mailbox.take(&mut busy, Wanted::Any).await.id(), 0);
        assert_eq!(mailbox.take(&mut busy, Wanted::Any).await.id(), 1);
    }

    #[tokio::test]
    async fn a_closed_mailbox_drops_what_comes() {
        let activity = Arc::new(Activity::default());
        let mailbox = Mailbox::default();
        mailbox.close();
        assert_eq!(mailbox.push(failed(1), activity.enter()), Pushed::Closed);
    }
}
