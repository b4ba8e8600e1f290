//! `kernel:distro:sys` as a destination: the commands a process that may
//! message the kernel can send (`InitializeProcess`, `RunProcess`,
//! `KillProcess`, `GrantCapabilities`, `DropCapabilities`, `SetOnExit`,
//! `Debug`), in the node's JSON, answered with its `KernelResponse`s.
//! `Booted` and `Shutdown` belong to the runtime and are ignored. The node
//! answers these itself, as the kernel's own loop does on a node.

use std::sync::{Arc, Weak};

use serde::Deserialize;
use serde_json::json;

use super::{Module, ModuleCtx, Node};
use crate::kernel::message::{Answer, KernelMessage};
use crate::kernel::Initialize;
use crate::types::{Address, Capability, ProcessId, WireOnExit};

#[derive(Deserialize)]
enum KernelCommand {
    Booted,
    InitializeProcess {
        id: String,
        wasm_bytes_handle: String,
        #[allow(dead_code)]
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
            KernelCommand::Booted | KernelCommand::Shutdown => None,
            KernelCommand::InitializeProcess {
                id,
                wasm_bytes_handle,
                wit_version: _,
                on_exit,
                initial_capabilities,
                public,
            } => {
                let wasm = match &km.blob {
                    Some(blob) => node.programs().load(&blob.bytes),
                    None => Err("no blob".into()),
                };
                let request = Initialize {
                    source,
                    id: ProcessId::parse(&id)?,
                    wasm_path: wasm_bytes_handle,
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
                killed.then(|| json!({ "KilledProcess": id }))
            }
            KernelCommand::Debug(debug) => Some(json!({ "Debug": Self::debug(node, debug)? })),
        })
    }

    fn debug(node: &Node, debug: DebugCommand) -> Result<serde_json::Value, String> {
        let map = node.kernel(|k| k.process_map());
        let describe = |id: &ProcessId| {
            map.iter()
                .find(|p| &p.0 == id)
                .map(|(_, on_exit, caps, public)| {
                    json!({
                        "on_exit": crate::kernel::on_exit_name(on_exit),
                        "capabilities": caps.iter().map(cap_json).collect::<Vec<_>>(),
                        "public": public,
                    })
                })
        };
        Ok(match debug {
            DebugCommand::ProcessMap => {
                let all: serde_json::Map<String, serde_json::Value> = map
                    .iter()
                    .filter_map(|(id, ..)| Some((id.to_string(), describe(id)?)))
                    .collect();
                json!({ "ProcessMap": all })
            }
            DebugCommand::Process(id) => json!({ "Process": describe(&ProcessId::parse(&id)?) }),
            DebugCommand::HasCap { on, cap } => {
                let (on, cap) = (ProcessId::parse(&on)?, cap.parse()?);
                let known = map.iter().any(|p| p.0 == on);
                let has = node.kernel(|k| k.holds(&on, &cap));
                json!({ "HasCap": known.then_some(has) })
            }
        })
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
