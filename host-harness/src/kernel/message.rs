//! What travels between processes inside the kernel.

use std::fmt;

use crate::bindings::{Address, LazyLoadBlob, Message, Request, SendError};

/// A message on its way, as the kernel routes it.
#[derive(Clone, Debug)]
pub struct KernelMessage {
    pub id: u64,
    pub source: Address,
    pub target: Address,
    /// Where the response goes instead of `source`, if set.
    pub rsvp: Option<Address>,
    pub message: Message,
    pub blob: Option<LazyLoadBlob>,
}

/// What lands in a process's mailbox.
#[derive(Debug)]
pub enum Delivery {
    Message(KernelMessage),
    /// A request this process sent with `expects_response` failed: it was
    /// blocked, its target is gone, or its timeout passed.
    Failed {
        id: u64,
        error: SendError,
    },
}

impl Delivery {
    pub fn id(&self) -> u64 {
        match self {
            Delivery::Message(km) => km.id,
            Delivery::Failed { id, .. } => *id,
        }
    }
}

impl KernelMessage {
    pub fn request(&self) -> Option<&Request> {
        match &self.message {
            Message::Request(request) => Some(request),
            Message::Response(_) => None,
        }
    }

    pub fn expects_response(&self) -> bool {
        self.request().is_some_and(|r| r.expects_response.is_some())
    }

    pub fn kind(&self) -> &'static str {
        match self.message {
            Message::Request(_) => "request",
            Message::Response(_) => "response",
        }
    }
}

impl fmt::Display for KernelMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = match &self.message {
            Message::Request(r) => &r.body,
            Message::Response((r, _)) => &r.body,
        };
        write!(
            f,
            "{} {} from {} to {}: {}",
            self.kind(),
            self.id,
            self.source,
            self.target,
            String::from_utf8_lossy(body)
        )?;
        if let Some(rsvp) = &self.rsvp {
            write!(f, " (rsvp {rsvp})")?;
        }
        Ok(())
    }
}
