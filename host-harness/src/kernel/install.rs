//! Installing a package as the runtime does: every manifest process is
//! created with the capabilities it requests (no ownership check for
//! packages), `messaging` to itself, the network capability if it asks,
//! and vfs read and write on its package's `pkg` drive. Grants are applied
//! once all exist (through the oracle); then they start in manifest order.

use crate::types::{Address, Capability, OnExit, PackageId, ProcessId};
use crate::types::{CapSet, Grant};

use super::event::Event;
use super::{Kernel, Program, WasmKey};

/// One manifest process, its wasm already compiled by the node.
#[derive(Clone)]
pub struct InstallPlan {
    pub id: ProcessId,
    /// As written in the manifest, e.g. `/parent.wasm`.
    pub wasm_path: String,
    pub wasm: WasmKey,
    pub on_exit: OnExit,
    pub public: bool,
    pub request_networking: bool,
    /// `(process, params)`: a capability issued by that process.
    pub request_capabilities: Vec<(ProcessId, String)>,
    pub grant_capabilities: Vec<(ProcessId, String)>,
}

impl Kernel {
    /// Registers and starts `package`'s processes.
    pub fn install(&mut self, package: &PackageId, plans: Vec<InstallPlan>) {
        self.emit(Event::Installed {
            package: package.clone(),
        });
        let vfs = self.address(&ProcessId::runtime("vfs"));
        let drive = format!("/{package}/pkg");
        for plan in &plans {
            let mut caps = CapSet::default();
            let mut give = |cap| {
                caps.insert(cap, Grant::AtCreation);
            };
            for (process, params) in &plan.request_capabilities {
                let cap = Capability::new(self.address(process), params.clone());
                self.usage.requested(&plan.id, &cap);
                give(cap);
            }
            give(Capability::messaging(self.address(&plan.id)));
            if plan.request_networking {
                give(network_capability(&self.node));
            }
            for kind in ["read", "write"] {
                let params = serde_json::json!({ "kind": kind, "drive": drive });
                give(Capability::new(vfs.clone(), params.to_string()));
            }
            self.register(
                plan.id.clone(),
                Program::Wasm(plan.wasm),
                plan.wasm_path.clone(),
                plan.public,
                plan.on_exit.clone(),
                caps,
            );
            self.emit(Event::Created {
                id: plan.id.clone(),
                parent: None,
                wasm_path: plan.wasm_path.clone(),
                public: plan.public,
                on_exit: plan.on_exit.clone(),
            });
        }
        for plan in &plans {
            self.apply_grants(&plan.id, &plan.grant_capabilities);
        }
        for plan in plans {
            self.start(&plan.id);
        }
    }
}

/// The capability to send messages to other nodes.
pub fn network_capability(node: &str) -> Capability {
    Capability::new(
        Address::new(node, ProcessId::runtime("kernel")),
        "\"network\"",
    )
}
