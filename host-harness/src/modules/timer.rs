//! `timer:distro:sys` (public): `{"SetTimer": ms}` is answered with an
//! empty response after `ms - 1` real milliseconds (at once for 0), even
//! when the request expected no response, as the runtime does. `"Debug"`
//! prints the active timers at verbosity 0 and answers nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::bindings::{Address, ProcessId};
use crate::kernel::debug_address;
use crate::kernel::message::KernelMessage;
use crate::node::{lock, Port};

use super::{respond, Answer, Module};

/// Pending timers by the unix time (ms) they pop at: (request id, asker).
type Timers = BTreeMap<u128, Vec<(u64, Address)>>;

#[derive(Default)]
pub struct Timer {
    active: Arc<Mutex<Timers>>,
}

impl Module for Timer {
    fn handle(&self, port: &Arc<dyn Port>, km: KernelMessage) {
        if km.source.node != port.node() {
            return;
        }
        let Some(request) = km.request() else { return };
        let me = ProcessId::runtime("timer");
        let body = serde_json::from_slice::<serde_json::Value>(&request.body).ok();
        if body.as_ref().is_some_and(|b| b == "Debug") {
            let lines = self.debug_lines();
            port.kernel(|k| lines.into_iter().for_each(|line| k.print_as(&me, 0, line)));
            return;
        }
        let Some(millis) = body.and_then(|v| v.get("SetTimer")?.as_u64()) else {
            let text = "timer service received a request with an invalid body".to_string();
            port.kernel(|k| k.print_as(&me, 1, text));
            return;
        };
        if millis == 0 {
            respond(port, "timer", &km, Answer::always(vec![]));
            return;
        }
        port.kernel(|k| k.print_as(&me, 3, format!("set timer to pop in {millis}ms")));
        let pops_at = unix_ms() + u128::from(millis);
        lock(&self.active)
            .entry(pops_at)
            .or_default()
            .push((km.id, km.source.clone()));
        let (port, active, pending) = (port.clone(), self.active.clone(), port.busy());
        port.clone().spawn(Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(millis - 1)).await;
            {
                let mut active = lock(&active);
                if let Some(timers) = active.get_mut(&pops_at) {
                    timers.retain(|(id, _)| *id != km.id);
                    if timers.is_empty() {
                        active.remove(&pops_at);
                    }
                }
            }
            respond(&port, "timer", &km, Answer::always(vec![]));
            drop(pending);
        }));
    }
}

impl Timer {
    /// The node's listing: a count of pop times, then each pop time with
    /// its timers in Rust's debug form.
    fn debug_lines(&self) -> Vec<String> {
        let active = lock(&self.active);
        let mut lines = vec![format!("timer service active timers ({}):", active.len())];
        for (pops_at, timers) in active.iter() {
            let listed: Vec<String> = timers
                .iter()
                .map(|(id, address)| format!("({id}, {})", debug_address(address)))
                .collect();
            lines.push(format!("{pops_at}: [{}]", listed.join(", ")));
        }
        lines
    }
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}
