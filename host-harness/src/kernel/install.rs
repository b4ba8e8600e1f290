//! Installing a package as the runtime does: every manifest process gets
//! the capabilities it requests (no ownership check for packages),
//! `messaging` to itself, the network capability if it asks for it, and
//! vfs read and write on its package's `pkg` drive. Grants are applied once
//! all exist; the caller then starts them in manifest order.

use std::sync::Arc;

use crate::bindings::{Address, Capability, ProcessId};
use crate::capability::CapSet;
use crate::error::InputError;
use crate::package::Package;
use crate::report::{on_exit_name, ExitKind, ExitRecord, ProcessRecord};

use super::{EntryKind, Kernel};

impl Kernel {
    /// Registers `package`'s processes; returns their ids in manifest order.
    pub fn install(self: &Arc<Self>, package: &Package) -> Result<Vec<ProcessId>, InputError> {
        // Read and compile first: a missing or broken file is the user's
        // input error, reported before anything runs.
        let mut loaded = Vec::new();
        for plan in &package.processes {
            let bytes = std::fs::read(&plan.wasm_file).map_err(|source| InputError::Read {
                path: plan.wasm_file.clone(),
                source,
            })?;
            let wasm = self.runtime.load(&bytes).map_err(|reason| {
                InputError::invalid(&plan.wasm_file, format!("process `{}`: {reason}", plan.id))
            })?;
            loaded.push(wasm);
        }

        let mut state = self.lock();
        state.report.package = package.id.to_string();
        state.report.node = self.node.clone();
        state
            .drives
            .insert(package.id.to_string(), package.pkg_dir());
        let vfs = self.address(&ProcessId::runtime("vfs"));
        let drive = format!("/{}/pkg", package.id);
        let mut ids = Vec::new();
        for (plan, wasm) in package.processes.iter().zip(loaded) {
            let mut caps = CapSet::default();
            for entry in &plan.request_capabilities {
                caps.insert(Capability::new(
                    self.address(&entry.process),
                    entry.params.clone(),
                ));
            }
            caps.insert(Capability::messaging(self.address(&plan.id)));
            if plan.request_networking {
                caps.insert(network_capability(&self.node));
            }
            for kind in ["read", "write"] {
                let params = serde_json::json!({ "kind": kind, "drive": drive });
                caps.insert(Capability::new(vfs.clone(), params.to_string()));
            }
            self.register(
                &mut state,
                plan.id.clone(),
                EntryKind::Wasm(Some(wasm)),
                plan.public,
                plan.on_exit.clone(),
                caps,
            );
            self.add_record(
                &mut state,
                ProcessRecord {
                    id: plan.id.to_string(),
                    parent: None,
                    wasm_path: plan.wasm_path.clone(),
                    public: plan.public,
                    on_exit: on_exit_name(&plan.on_exit).into(),
                    capabilities_at_start: vec![],
                    restarts: 0,
                    exit: ExitRecord {
                        kind: ExitKind::Running,
                        detail: String::new(),
                    },
                    stdout: String::new(),
                    stderr: String::new(),
                },
            );
            ids.push(plan.id.clone());
        }
        for plan in &package.processes {
            let grants: Vec<(ProcessId, String)> = plan
                .grant_capabilities
                .iter()
                .map(|g| (g.process.clone(), g.params.clone()))
                .collect();
            self.apply_grants(&mut state, &plan.id, &grants);
        }
        Ok(ids)
    }
}

/// The capability to send messages to other nodes.
pub fn network_capability(node: &str) -> Capability {
    Capability::new(
        Address::new(node, ProcessId::runtime("kernel")),
        "\"network\"",
    )
}
