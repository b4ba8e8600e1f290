//! Installing a package as a node's app store does
//! (`app-store/src/utils.rs`, `install`), in two passes over the manifest,
//! in its order:
//!
//! 1. Each entry is created (killing a process of that name first, so an
//!    entry listed twice replaces the earlier one) holding only `messaging`
//!    to itself; then what it requests, the network capability if it asks,
//!    and vfs read and write on its package's `pkg` drive are granted
//!    through the oracle, so a requested capability is revoked with its
//!    issuer like any other grant.
//! 2. Each entry's grants are applied, then it is run; the next entry's
//!    grants come after (on a node, while the process compiles).
//!
//! A capability entry the app store cannot read is skipped, with its
//! print where it prints one, and a diagnostic naming the entry.

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
    /// The package's `wit_version` (metadata.json).
    pub wit_version: Option<u32>,
    pub on_exit: OnExit,
    pub public: bool,
    pub request_networking: bool,
    /// `(process, params)`: a capability issued by that process.
    pub request_capabilities: Vec<(ProcessId, String)>,
    pub grant_capabilities: Vec<(ProcessId, String)>,
    /// Capability entries the app store skips.
    pub skipped: Vec<SkippedEntry>,
}

/// A capability entry of the manifest that the app store skips, and what
/// it says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    /// E.g. `request_capabilities[2]`.
    pub field: String,
    /// Whether it is a grant (skipped in the second pass).
    pub grant: bool,
    /// The entry as JSON.
    pub entry: String,
    /// Why it is skipped, in words.
    pub reason: String,
    /// The line the app store prints, if it prints one.
    pub printed: Option<String>,
}

impl Kernel {
    /// Installs `package`'s processes and runs them.
    pub fn install(&mut self, package: &PackageId, plans: Vec<InstallPlan>) {
        self.emit(Event::Installed {
            package: package.clone(),
        });
        for plan in &plans {
            self.create_entry(package, plan);
        }
        for plan in &plans {
            self.skip_entries(plan, true);
            self.apply_grants(&plan.id, &plan.grant_capabilities);
            self.run_process(&plan.id);
        }
    }

    /// The first pass for one entry.
    fn create_entry(&mut self, package: &PackageId, plan: &InstallPlan) {
        if self.processes.contains_key(&plan.id) {
            self.emit(Event::ListedTwice {
                id: plan.id.clone(),
            });
            self.kill_process(&plan.id, true, false);
        }
        let mut caps = CapSet::default();
        caps.insert(
            Capability::messaging(self.address(&plan.id)),
            Grant::AtCreation,
        );
        // The app store names the wasm by its vfs path.
        let relative = plan.wasm_path.trim_start_matches('/');
        let wasm_path = format!("/{package}/pkg/{relative}");
        let code = super::Code {
            wasm_path: wasm_path.clone(),
            wit_version: plan.wit_version,
        };
        self.register(
            plan.id.clone(),
            Program::Wasm(plan.wasm),
            code,
            plan.public,
            plan.on_exit.clone(),
            caps,
        );
        self.emit(Event::Created {
            id: plan.id.clone(),
            parent: None,
            wasm_path,
            public: plan.public,
            on_exit: plan.on_exit.clone(),
        });
        self.skip_entries(plan, false);
        let mut granted = Vec::new();
        for (process, params) in &plan.request_capabilities {
            let cap = Capability::new(self.address(process), params.clone());
            self.usage.requested(&plan.id, &cap);
            granted.push(cap);
        }
        if plan.request_networking {
            granted.push(network_capability(&self.node));
        }
        let vfs = self.address(&ProcessId::runtime("vfs"));
        let drive = format!("/{package}/pkg");
        for kind in ["read", "write"] {
            let params = serde_json::json!({ "kind": kind, "drive": drive });
            granted.push(Capability::new(vfs.clone(), params.to_string()));
        }
        self.grant_capabilities(&plan.id, granted);
    }

    /// The app store's word on each entry of `plan` it skips (its grants'
    /// in the second pass, its requests' in the first).
    fn skip_entries(&mut self, plan: &InstallPlan, grants: bool) {
        let app_store = ProcessId::new("main", "app-store", "sys");
        for skipped in plan.skipped.iter().filter(|s| s.grant == grants) {
            if let Some(line) = &skipped.printed {
                self.print_from(&app_store, 0, line.clone());
            }
            self.emit(Event::ManifestEntrySkipped {
                id: plan.id.clone(),
                entry: skipped.clone(),
            });
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
