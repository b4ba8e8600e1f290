//! `kernel:distro:sys` as a destination: the commands a process that may
//! message the kernel can send (`InitializeProcess`, `RunProcess`,
//! `KillProcess`, `GrantCapabilities`, `DropCapabilities`, `SetOnExit`,
//! `Debug`, and the runtime's own `Booted` and `Shutdown`), in the node's
//! JSON, answered with its `KernelResponse`s in the shape the SDK's
//! `kernel_types` parses. The node answers these itself, as the kernel's
//! own loop does on a node.

use std::sync::{Arc, Weak};

use serde::Deserialize;
use serde_json::json;

use super::{Module, ModuleCtx, Node};
use crate::kernel::message::{Answer, KernelMessage};
use crate::kernel::{Initialize, ProcessView};
use crate::types::{Address, Capability, OnExit, ProcessId, WireOnExit};

#[derive(Deserialize)]
enum KernelCommand {
    Booted,
    InitializeProcess {
        id: String,
        wasm_bytes_handle: String,
        wit_version: Option<u32>,
        on_exit: WireOnExit,
        initial_capabilities: Vec<WireCap>,
        public: bool,
    },
    GrantCapabilities {
        target: String,
        capabilities: Vec<WireCap>,
    },
    DropCapabilities {
        target: String,
        capabilities: Vec<WireCap>,
    },
    SetOnExit {
        target: String,
        on_exit: WireOnExit,
    },
    RunProcess(String),
    KillProcess(String),
    Shutdown,
    Debug(DebugCommand),
}

#[derive(Deserialize)]
enum DebugCommand {
    ProcessMap,
    Process(String),
    HasCap { on: String, cap: WireCap },
}

/// A capability as the kernel writes it: `{"issuer": "node@p:k:s", "params": ".."}`.
#[derive(Deserialize)]
struct WireCap {
    issuer: String,
    params: String,
}

impl WireCap {
    fn parse(&self) -> Result<Capability, String> {
        Ok(Capability::new(Address::parse(&self.issuer)?, &self.params))
    }
}

fn caps(list: &[WireCap]) -> Result<Vec<Capability>, String> {
    list.iter().map(WireCap::parse).collect()
}

fn cap_json(cap: &Capability) -> serde_json::Value {
    json!({ "issuer": cap.issuer.to_string(), "params": cap.params })
}

pub struct KernelCommands {
    node: Weak<Node>,
}

impl KernelCommands {
    pub fn new(node: &Arc<Node>) -> Self {
        KernelCommands {
            node: Arc::downgrade(node),
        }
    }

    /// Carries out `command`; the answer body, if the kernel sends one.
    fn run(
        node: &Node,
        km: &KernelMessage,
        command: KernelCommand,
    ) -> Result<Option<serde_json::Value>, String> {
        let source = km.source.process.clone();
        Ok(match command {
            KernelCommand::Booted => {
                node.kernel(|k| k.booted_command());
                None
            }
            // The node stops: every process ends, and the run with it.
            KernelCommand::Shutdown => {
                if let Some(wire) = node.wire.upgrade() {
                    wire.shut_down(node.name());
                }
                None
            }
            KernelCommand::InitializeProcess {
                id,
                wasm_bytes_handle,
                wit_version,
                on_exit,
                initial_capabilities,
                public,
            } => {
                let wasm = km
                    .blob
                    .as_ref()
                    .map(|blob| node.programs().load(&blob.bytes));
                let request = Initialize {
                    source,
                    id: ProcessId::parse(&id)?,
                    wasm_path: wasm_bytes_handle,
                    wit_version,
                    wasm,
                    on_exit: on_exit.to_on_exit()?,
                    capabilities: caps(&initial_capabilities)?,
                    public,
                };
                let done = node.kernel(|k| k.initialize(request));
                Some(json!(if done {
                    "InitializedProcess"
                } else {
                    "InitializeProcessError"
                }))
            }
            KernelCommand::GrantCapabilities {
                target,
                capabilities,
            } => {
                let (target, caps) = (ProcessId::parse(&target)?, caps(&capabilities)?);
                node.kernel(|k| k.grant_capabilities(&target, caps));
                None
            }
            KernelCommand::DropCapabilities {
                target,
                capabilities,
            } => {
                let (target, caps) = (ProcessId::parse(&target)?, caps(&capabilities)?);
                node.kernel(|k| k.drop_caps(&target, &caps));
                None
            }
            KernelCommand::SetOnExit { target, on_exit } => {
                let (target, on_exit) = (ProcessId::parse(&target)?, on_exit.to_on_exit()?);
                node.kernel(|k| k.command_set_on_exit(&target, on_exit));
                None
            }
            KernelCommand::RunProcess(id) => {
                let id = ProcessId::parse(&id)?;
                let ran = node.kernel(|k| k.run_process(&id));
                Some(json!(if ran {
                    "StartedProcess"
                } else {
                    "RunProcessError"
                }))
            }
            KernelCommand::KillProcess(id) => {
                let target = ProcessId::parse(&id)?;
                let request = km.request().ok_or("not a request")?;
                let revoke = request.metadata.as_deref() != Some("no-revoke");
                let loud = km.expects_response();
                let killed = node.kernel(|k| k.kill_process(&target, revoke, loud));
                // Only a request that expects a response is answered (an
                // rsvp alone is not enough).
                (killed && loud).then(|| json!({ "KilledProcess": id }))
            }
            KernelCommand::Debug(debug) => Some(json!({ "Debug": Self::debug(node, debug)? })),
        })
    }

    fn debug(node: &Node, debug: DebugCommand) -> Result<serde_json::Value, String> {
        let map = node.kernel(|k| k.process_map());
        let describe = |id: &ProcessId| {
            map.iter()
                .find(|(known, _)| known == id)
                .map(|(_, view)| process_json(view))
        };
        Ok(match debug {
            DebugCommand::ProcessMap => {
                let all: serde_json::Map<String, serde_json::Value> = map
                    .iter()
                    .map(|(id, view)| (id.to_string(), process_json(view)))
                    .collect();
                json!({ "ProcessMap": all })
            }
            DebugCommand::Process(id) => json!({ "Process": describe(&ProcessId::parse(&id)?) }),
            DebugCommand::HasCap { on, cap } => {
                let (on, cap) = (ProcessId::parse(&on)?, cap.parse()?);
                let known = map.iter().any(|(id, _)| *id == on);
                let has = node.kernel(|k| k.holds(&on, &cap));
                json!({ "HasCap": known.then_some(has) })
            }
        })
    }
}

/// A process-table entry as the node's `Debug` writes it (the SDK's
/// `kernel_types::PersistedProcess`).
fn process_json(view: &ProcessView) -> serde_json::Value {
    json!({
        "wasm_bytes_handle": view.wasm_path,
        "wit_version": view.wit_version,
        "on_exit": on_exit_json(&view.on_exit),
        "capabilities": view.capabilities.iter().map(cap_json).collect::<Vec<_>>(),
        "public": view.public,
    })
}

/// An on-exit as the kernel serializes it: `"None"`, `"Restart"`, or
/// `{"Requests": [[address, request, blob], ...]}`, each request's
/// capabilities as `[capability, signature]` pairs (no signature here).
fn on_exit_json(on_exit: &OnExit) -> serde_json::Value {
    match on_exit {
        OnExit::None => json!("None"),
        OnExit::Restart => json!("Restart"),
        OnExit::Requests(requests) => {
            let list: Vec<serde_json::Value> = requests
                .iter()
                .map(|(target, request, blob)| {
                    let caps: Vec<serde_json::Value> = request
                        .capabilities
                        .iter()
                        .map(|cap| json!([cap_json(cap), []]))
                        .collect();
                    json!([
                        target.to_string(),
                        {
                            "inherit": request.inherit,
                            "expects_response": request.expects_response,
                            "body": request.body,
                            "metadata": request.metadata,
                            "capabilities": caps,
                        },
                        blob.as_ref().map(|b| json!({ "mime": b.mime, "bytes": b.bytes })),
                    ])
                })
                .collect();
            json!({ "Requests": list })
        }
    }
}

impl Module for KernelCommands {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        let Some(node) = self.node.upgrade() else {
            return;
        };
        if km.source.node != ctx.node() {
            return;
        }
        let Some(request) = km.request() else { return };
        let result = serde_json::from_slice::<KernelCommand>(&request.body)
            .map_err(|e| format!("{e:?}"))
            .and_then(|command| KernelCommands::run(&node, &km, command));
        match result {
            Ok(Some(body)) => ctx.respond(&km, Answer::new(body.to_string())),
            Ok(None) => {}
            Err(e) => ctx.print(0, format!("kernel: couldn't parse command: {e}")),
        }
    }
}
