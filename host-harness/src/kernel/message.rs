//! What travels between processes inside the kernel.

use std::fmt;

use crate::types::{Address, Capability, LazyLoadBlob, Message, Request, Response, SendError};

/// The largest message `net` sends to another node, serialized
/// (`net/utils.rs`, `MESSAGE_MAX_SIZE`). Local messages have no limit.
pub const MESSAGE_MAX_SIZE: usize = 10_485_800;

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

/// A message leaving its node for another, with the sending node's
/// signature of each capability attached to it (in their order).
#[derive(Clone, Debug)]
pub struct Outbound {
    pub km: KernelMessage,
    pub signatures: Vec<[u8; 64]>,
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

/// A native process's answer to a request (a runtime module's, the
/// kernel's own).
pub struct Answer {
    pub body: Vec<u8>,
    pub metadata: Option<String>,
    pub blob: Option<LazyLoadBlob>,
    /// Sent even if the request expected no response (some modules do).
    pub always: bool,
}

impl Answer {
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Answer {
            body: body.into(),
            metadata: None,
            blob: None,
            always: false,
        }
    }

    /// An answer sent whether or not a response was expected.
    pub fn always(body: impl Into<Vec<u8>>) -> Self {
        Answer {
            always: true,
            ..Answer::new(body)
        }
    }
}

impl KernelMessage {
    /// About how many bytes this message takes serialized between nodes,
    /// which `net` holds against its size limit: every body, blob,
    /// metadata, name and capability byte, plus a little for framing.
    /// Within a few hundred bytes of net's MessagePack for any message.
    pub fn wire_size(&self) -> usize {
        let address = |a: &Address| a.to_string().len() + 8;
        let caps = |caps: &[Capability]| -> usize {
            caps.iter()
                .map(|c| address(&c.issuer) + c.params.len() + 4)
                .sum()
        };
        let (body, metadata, capabilities) = match &self.message {
            Message::Request(r) => (r.body.len(), &r.metadata, caps(&r.capabilities)),
            Message::Response((r, context)) => (
                r.body.len() + context.as_ref().map_or(0, Vec::len),
                &r.metadata,
                caps(&r.capabilities),
            ),
        };
        let blob = self.blob.as_ref().map_or(0, |b| {
            b.bytes.len() + b.mime.as_ref().map_or(0, String::len)
        });
        let rsvp = self.rsvp.as_ref().map_or(0, address);
        32 + address(&self.source)
            + address(&self.target)
            + rsvp
            + body
            + metadata.as_ref().map_or(0, String::len)
            + capabilities
            + blob
    }

    /// `from`'s response to this message, if it gets one: to its rsvp,
    /// else (if it expects a response, or the answer goes `always`) to
    /// its source, with its id.
    pub fn answer(&self, from: Address, answer: Answer) -> Option<KernelMessage> {
        let target = match (&self.rsvp, self.expects_response() || answer.always) {
            (Some(rsvp), _) => rsvp.clone(),
            (None, true) => self.source.clone(),
            (None, false) => return None,
        };
        Some(KernelMessage {
            id: self.id,
            source: from,
            target,
            rsvp: None,
            message: Message::Response((
                Response {
                    inherit: false,
                    body: answer.body,
                    metadata: answer.metadata,
                    capabilities: vec![],
                },
                None,
            )),
            blob: answer.blob,
        })
    }

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

/// The kernel's own rendering (`{ id: .., source: .., message: Request(..) }`),
/// as it prints a message at verbosity 3 and in its "doesn't exist" line.
impl fmt::Display for KernelMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rsvp = self
            .rsvp
            .as_ref()
            .map_or("None".to_string(), ToString::to_string);
        write!(
            f,
            "{{\n    id: {},\n    source: {},\n    target: {},\n    rsvp: {rsvp},\n    message: {},\n    blob: {},\n}}",
            self.id,
            self.source,
            self.target,
            render_message(&self.message, "\n        "),
            self.blob.is_some()
        )
    }
}

/// A message's fields one per line, each line starting with `indent`.
fn render_message(message: &Message, indent: &str) -> String {
    let or_none = |m: &Option<String>| m.clone().unwrap_or_else(|| "None".into());
    let json_or_bytes = |bytes: &[u8]| match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(json) => json.to_string(),
        Err(_) => format!("{bytes:?}"),
    };
    let lines = match message {
        Message::Request(r) => vec![
            "Request(".to_string(),
            format!("inherit: {},", r.inherit),
            format!("expects_response: {:?},", r.expects_response),
            format!(
                "body: {},",
                match std::str::from_utf8(&r.body) {
                    Ok(text) => text.to_string(),
                    Err(_) => format!("{:?}", r.body),
                }
            ),
            format!("metadata: {},", or_none(&r.metadata)),
            format!("capabilities: {}", render_caps(&r.capabilities, indent)),
        ],
        Message::Response((r, context)) => vec![
            "Response(".to_string(),
            format!("inherit: {},", r.inherit),
            format!("body: {},", json_or_bytes(&r.body)),
            format!("metadata: {},", or_none(&r.metadata)),
            format!(
                "context: {},",
                context.as_deref().map_or("None".into(), json_or_bytes)
            ),
            format!("capabilities: {}", render_caps(&r.capabilities, indent)),
        ],
    };
    lines.join(indent) + &indent[..indent.len() - 4] + ")"
}

fn render_caps(caps: &[Capability], indent: &str) -> String {
    if caps.is_empty() {
        return "[],".into();
    }
    let mut out = "[".to_string();
    for cap in caps {
        let params = serde_json::from_str::<serde_json::Value>(&cap.params)
            .unwrap_or_else(|_| "invalid JSON in capability".into());
        out += &format!("{indent}    {}({params})", cap.issuer);
    }
    out + indent + "]"
}
