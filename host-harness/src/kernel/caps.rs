//! The capability calls a process makes (`save-capabilities`,
//! `drop-capabilities`, `our-capabilities`) and grants, which the kernel
//! adds through its capabilities oracle, so they die with their issuer.

use crate::types::Grant;
use crate::types::{Capability, ProcessId};

use super::event::Event;
use super::Kernel;

impl Kernel {
    /// `id` gives up `caps`.
    pub fn drop_caps(&mut self, id: &ProcessId, caps: &[Capability]) {
        if let Some(entry) = self.processes.get_mut(id) {
            for cap in caps {
                entry.caps.remove(cap);
            }
        }
        if self.timeline {
            for cap in caps {
                self.emit(Event::CapChanged {
                    holder: id.clone(),
                    capability: cap.clone(),
                    added: false,
                });
            }
        }
    }

    /// `save-capabilities`: the 1.0 kernel adds anything, unchecked.
    pub fn save_caps(&mut self, id: &ProcessId, caps: Vec<Capability>) {
        for capability in caps {
            if !self.may_pass_on(id, &capability) {
                self.emit(Event::UnownedCapSaved {
                    holder: id.clone(),
                    capability: capability.clone(),
                });
            }
            self.add_cap(id, capability, Grant::Added);
        }
    }

    /// A runtime module gives `holder` a capability it issues (the
    /// oracle's `Add`, as vfs, kv and sqlite do); false if there is no
    /// such process.
    pub fn add_capability(&mut self, holder: &ProcessId, cap: Capability) -> bool {
        self.add_cap(holder, cap, Grant::Added)
    }

    pub fn caps_of(&self, id: &ProcessId) -> Vec<Capability> {
        self.processes
            .get(id)
            .map(|e| e.caps.to_vec())
            .unwrap_or_default()
    }

    /// Grants: each named process gets a capability issued by `issuer`
    /// with the given params. Unknown processes are skipped.
    pub(super) fn apply_grants(&mut self, issuer: &ProcessId, grants: &[(ProcessId, String)]) {
        let issuer_address = self.address(issuer);
        for (to, params) in grants {
            let cap = Capability::new(issuer_address.clone(), params.clone());
            if !self.add_cap(to, cap, Grant::Added) {
                self.emit(Event::GrantSkipped {
                    issuer: issuer.clone(),
                    to: to.clone(),
                    params: params.clone(),
                });
            }
        }
    }
}
