//! A run as a timeline: every message delivered, blocked or failed, every
//! spawn, start, exit and restart, capability change, print and HTTP
//! request, each with its node time. Kept only when asked for (`--html`,
//! `--trace`): recording every delivery costs a copy of each message.

use serde::Serialize;

use crate::kernel::event::{Event, Exit, ModuleEvent, SpawnOutcome};
use crate::kernel::message::KernelMessage;
use crate::types::{Address, Capability, Message};

use super::hints;

/// Events a report's timeline keeps; the rest are counted.
pub(crate) const TIMELINE_KEPT: usize = 200_000;

/// Bytes of a body the timeline keeps.
const BODY_KEPT: usize = 4096;

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    /// Node time, in milliseconds.
    pub at_ms: f64,
    pub node: String,
    #[serde(flatten)]
    pub what: Happening,
}

/// What happened, by kind.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Happening {
    /// A message put in its target's mailbox.
    Message(MessageView),
    /// A message the kernel (or the network) did not deliver.
    Blocked {
        #[serde(flatten)]
        message: MessageView,
        /// The kernel's rule, in words.
        reason: String,
        hint: Option<String>,
    },
    /// A request's error handed back to its sender.
    Error {
        to: String,
        #[serde(serialize_with = "as_text")]
        id: u64,
        error: String,
    },
    Spawn {
        process: String,
        child: Option<String>,
        result: String,
        wasm_path: String,
    },
    Started {
        process: String,
    },
    Exit {
        process: String,
        how: String,
        detail: String,
    },
    Restart {
        process: String,
        after_ms: u64,
    },
    Capability {
        process: String,
        capability: String,
        added: bool,
    },
    Revoked {
        process: String,
    },
    Print {
        process: String,
        text: String,
    },
    /// An HTTP request from outside, answered by the node's server.
    Http {
        process: Option<String>,
        method: String,
        path: String,
        status: u16,
    },
}

impl Happening {
    /// The processes (as addresses) it involves, each a lane.
    pub fn addresses(&self) -> Vec<&str> {
        match self {
            Happening::Message(m) | Happening::Blocked { message: m, .. } => vec![&m.from, &m.to],
            Happening::Error { to, .. } => vec![to],
            Happening::Spawn { process, child, .. } => {
                let mut all = vec![process.as_str()];
                all.extend(child.as_deref());
                all
            }
            Happening::Started { process }
            | Happening::Exit { process, .. }
            | Happening::Restart { process, .. }
            | Happening::Capability { process, .. }
            | Happening::Revoked { process }
            | Happening::Print { process, .. } => vec![process],
            Happening::Http { process, .. } => process.as_deref().into_iter().collect(),
        }
    }
}

/// A message as the timeline shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    #[serde(serialize_with = "as_text")]
    pub id: u64,
    pub from: String,
    pub to: String,
    /// `request` or `response`.
    pub message: &'static str,
    pub expects_response: Option<u64>,
    /// The body as text, its first 4 KiB (lossy where it is not UTF-8).
    pub body: String,
    /// The body's first 256 bytes in hex, when it is not UTF-8.
    pub body_hex: Option<String>,
    pub body_len: usize,
    pub blob_len: Option<usize>,
    pub capabilities: Vec<String>,
    pub context: Option<String>,
    /// The message as the kernel prints it at verbosity 3.
    pub line: String,
}

impl MessageView {
    pub fn of(km: &KernelMessage) -> Self {
        let (kind, body, expects, caps, context) = match &km.message {
            Message::Request(r) => (
                "request",
                &r.body,
                r.expects_response,
                &r.capabilities,
                None,
            ),
            Message::Response((r, context)) => {
                ("response", &r.body, None, &r.capabilities, context.as_ref())
            }
        };
        let text = std::str::from_utf8(body).ok();
        MessageView {
            id: km.id,
            from: km.source.to_string(),
            to: km.target.to_string(),
            message: kind,
            expects_response: expects,
            body: String::from_utf8_lossy(&body[..body.len().min(BODY_KEPT)]).into_owned(),
            body_hex: text.is_none().then(|| hex(&body[..body.len().min(256)])),
            body_len: body.len(),
            blob_len: km.blob.as_ref().map(|b| b.bytes.len()),
            capabilities: caps.iter().map(cap_text).collect(),
            context: context.map(|c| String::from_utf8_lossy(c).into_owned()),
            line: km.to_string(),
        }
    }
}

fn cap_text(cap: &Capability) -> String {
    format!("{} {}", cap.issuer, cap.params)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn address(node: &str, process: &crate::types::ProcessId) -> String {
    Address::new(node, process.clone()).to_string()
}

/// What `event` adds to the timeline of node `node`, if anything.
pub(crate) fn happening(node: &str, event: &Event) -> Option<Happening> {
    Some(match event {
        Event::Delivered { message, .. } => Happening::Message(MessageView::of(message)),
        Event::Blocked {
            message,
            reason,
            consequence,
        } => Happening::Blocked {
            message: MessageView::of(message),
            reason: hints::block_reason(message, *reason),
            hint: hints::blocked(message, *reason, *consequence).1,
        },
        Event::ErrorDelivered { to, id, error } => Happening::Error {
            to: address(node, to),
            id: *id,
            error: format!("{:?}", error.kind),
        },
        Event::Spawn(spawn) => {
            let (result, child) = match &spawn.outcome {
                SpawnOutcome::Started(child) | SpawnOutcome::Existing(child) => {
                    ("ok".to_string(), Some(address(node, child)))
                }
                SpawnOutcome::NoFileAtPath(cause) => (format!("no file at path ({cause:?})"), None),
                SpawnOutcome::Trapped(why) => (format!("trapped: {why}"), None),
            };
            Happening::Spawn {
                process: address(node, &spawn.parent),
                child,
                result,
                wasm_path: spawn.wasm_path.clone(),
            }
        }
        Event::Started { id, .. } => Happening::Started {
            process: address(node, id),
        },
        Event::Exited { id, how, .. } => {
            let (how, detail) = match how {
                Exit::Returned => ("returned", String::new()),
                Exit::Trapped(text) => ("trapped", first_line(text)),
                Exit::LimitReached(_, text) => ("limit", first_line(text)),
            };
            Happening::Exit {
                process: address(node, id),
                how: how.into(),
                detail,
            }
        }
        Event::Killed { id } => Happening::Exit {
            process: address(node, id),
            how: "killed".into(),
            detail: String::new(),
        },
        Event::NeverRan { id, reason, .. } => Happening::Exit {
            process: address(node, id),
            how: "never_ran".into(),
            detail: first_line(reason),
        },
        Event::Restarting { id, after_ms, .. } => Happening::Restart {
            process: address(node, id),
            after_ms: *after_ms,
        },
        Event::CapChanged {
            holder,
            capability,
            added,
        } => Happening::Capability {
            process: address(node, holder),
            capability: cap_text(capability),
            added: *added,
        },
        Event::Revoked { issuer } => Happening::Revoked {
            process: address(node, issuer),
        },
        Event::Print { source, text, .. } => Happening::Print {
            process: address(node, source),
            text: super::terminal::without_colour(text).into_owned(),
        },
        Event::Module(ModuleEvent::HttpServed {
            method,
            path,
            status,
            process,
            ..
        }) => Happening::Http {
            process: process.as_ref().map(|p| address(node, p)),
            method: method.clone(),
            path: path.clone(),
            status: *status,
        },
        _ => return None,
    })
}

fn first_line(text: &str) -> String {
    super::terminal::without_colour(text)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string()
}

/// Ids and seeds are written as text: JavaScript reads a JSON number as a
/// double, which rounds any integer past 2^53.
pub(crate) fn as_text<S: serde::Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}
