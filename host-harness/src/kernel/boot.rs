//! A node's reboot, as the kernel does it: the process table it persisted
//! comes back, and every process in it starts again with the capabilities
//! it held (not those its manifest asked for), its `public` flag and its
//! persisted state; the runtime modules keep what processes granted them. What survives depends on how the node stopped: a clean
//! shutdown first drops every process whose on-exit is `None`, while a
//! crash leaves the table as it was, so such processes come back too. A
//! process whose on-exit is `Requests` sends them at boot, each one it
//! still holds messaging for, before anything starts.

use crate::types::{CapSet, Capability, Message, OnExit, ProcessId, Request};

use super::event::Event;
use super::message::KernelMessage;
use super::{Entry, Kernel, Program};

/// One process as the kernel persists it across a reboot.
#[derive(Clone)]
pub struct Persisted {
    id: ProcessId,
    entry: Entry,
    /// False for a process a clean shutdown dropped (on-exit `None`): it
    /// does not come back, which the next boot reports.
    comes_back: bool,
}

impl Kernel {
    /// The process table a node would boot from: after a clean shutdown
    /// (`crashed` false) the processes whose on-exit is `None` are marked
    /// gone. In the order the processes were created.
    pub fn persisted(&self, crashed: bool) -> Vec<Persisted> {
        let mut kept: Vec<Persisted> = self
            .processes
            .iter()
            .filter(|(_, entry)| entry.program != Program::Unloadable)
            .map(|(id, entry)| Persisted {
                id: id.clone(),
                entry: entry.clone(),
                comes_back: crashed || !matches!(entry.on_exit, OnExit::None),
            })
            .collect();
        kept.sort_by_key(|p| p.entry.created);
        kept
    }

    /// Boots from a persisted table: every process is registered, on-exit
    /// requests go out, then each starts.
    pub fn boot(&mut self, table: Vec<Persisted>) {
        let mut ids = Vec::new();
        for Persisted {
            id,
            entry,
            comes_back,
        } in table
        {
            let Program::Wasm(key) = entry.program else {
                // A runtime module (started already) keeps what processes
                // granted it, as its persisted entry does on a node.
                if let Some(module) = self.processes.get_mut(&id) {
                    for cap in entry.caps.iter() {
                        module.caps.insert(cap.clone(), crate::types::Grant::Added);
                    }
                }
                continue;
            };
            if !comes_back {
                self.emit(Event::NotRebooted { id });
                continue;
            }
            self.register(
                id.clone(),
                Program::Wasm(key),
                super::Code {
                    wasm_path: entry.wasm_path.clone(),
                    wit_version: entry.wit_version,
                },
                entry.public,
                entry.on_exit.clone(),
                entry.caps.clone(),
            );
            self.emit(Event::Created {
                id: id.clone(),
                parent: None,
                wasm_path: entry.wasm_path.clone(),
                public: entry.public,
                on_exit: entry.on_exit.clone(),
            });
            ids.push((id, entry.on_exit, entry.caps));
        }
        for (id, on_exit, caps) in &ids {
            if let OnExit::Requests(requests) = on_exit {
                self.boot_requests(id, requests, caps);
            }
        }
        for (id, _, _) in ids {
            self.start(&id);
        }
    }

    /// A `Requests` on-exit at boot: each request the process still holds
    /// messaging for, never expecting a response.
    fn boot_requests(
        &mut self,
        id: &ProcessId,
        requests: &[(
            crate::types::Address,
            Request,
            Option<crate::types::LazyLoadBlob>,
        )],
        caps: &CapSet,
    ) {
        for (target, request, blob) in requests {
            if !caps.contains(&Capability::messaging(target.clone())) {
                continue;
            }
            let message_id = self.random();
            let source = self.address(id);
            self.send(KernelMessage {
                id: message_id,
                source,
                target: target.clone(),
                rsvp: None,
                message: Message::Request(Request {
                    expects_response: None,
                    ..request.clone()
                }),
                blob: blob.clone(),
            });
        }
    }
}
