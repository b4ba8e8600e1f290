//! Which of the capabilities a manifest requests its processes ever use: a
//! `messaging` capability is used when its holder messages the issuer, or
//! passes it on (in a spawn, or attached to a message). What is never used
//! by the end of a run is reported, so a manifest can shed what it does
//! not need (a node says nothing).

use std::collections::HashMap;

use crate::types::{Address, Capability, ProcessId};

use super::event::Event;
use super::Kernel;

/// Per process: each requested messaging capability's issuer, and whether
/// it was used.
#[derive(Default)]
pub(super) struct Usage(HashMap<ProcessId, Vec<(Address, bool)>>);

impl Usage {
    pub fn requested(&mut self, holder: &ProcessId, cap: &Capability) {
        if cap.is_messaging() && cap.issuer.process != *holder {
            self.0
                .entry(holder.clone())
                .or_default()
                .push((cap.issuer.clone(), false));
        }
    }

    /// `holder` messaged `issuer`, or passed on its messaging capability.
    pub fn used(&mut self, holder: &ProcessId, issuer: &Address) {
        if let Some(requested) = self.0.get_mut(holder) {
            for (requested, used) in requested.iter_mut() {
                if requested == issuer {
                    *used = true;
                }
            }
        }
    }

    pub fn passed_on(&mut self, holder: &ProcessId, cap: &Capability) {
        if cap.is_messaging() {
            self.used(holder, &cap.issuer);
        }
    }
}

impl Kernel {
    /// The run is over: report each requested messaging capability never
    /// used.
    pub fn report_unused(&mut self) {
        let mut unused: Vec<(ProcessId, Address)> = self
            .usage
            .0
            .iter()
            .flat_map(|(holder, requested)| {
                requested
                    .iter()
                    .filter(|(_, used)| !used)
                    .map(move |(issuer, _)| (holder.clone(), issuer.clone()))
            })
            .collect();
        unused.sort_by_key(|(holder, issuer)| (holder.to_string(), issuer.to_string()));
        for (process, issuer) in unused {
            self.emit(Event::UnusedCapability { process, issuer });
        }
    }
}
