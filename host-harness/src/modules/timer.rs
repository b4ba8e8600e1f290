//! `timer:distro:sys` (public): `{"SetTimer": ms}` is answered with an
//! empty response after `ms - 1` real milliseconds (at once for 0), even
//! when the request expected no response, as the runtime does. `"Debug"`
//! prints the active timers at verbosity 0 and answers nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use crate::kernel::debug_address;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};
use crate::types::Address;
use crate::util::lock;

/// Pending timers by the unix time (ms) they pop at: (request id, asker).
type Timers = BTreeMap<u128, Vec<(u64, Address)>>;

#[derive(Default)]
pub struct Timer {
    active: Arc<Mutex<Timers>>,
}

impl Module for Timer {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        if km.source.node != ctx.node() {
            return;
        }
        let Some(request) = km.request() else { return };
        let body = serde_json::from_slice::<serde_json::Value>(&request.body).ok();
        // `"Debug"` or `{"Debug": null}`: serde reads either as the unit
        // variant on a node.
        let debug = body
            .as_ref()
            .is_some_and(|b| b == "Debug" || b.get("Debug").is_some_and(|v| v.is_null()));
        if debug {
            for line in self.debug_lines() {
                ctx.print(0, line);
            }
            return;
        }
        let Some(millis) = body.and_then(|v| v.get("SetTimer")?.as_u64()) else {
            ctx.print(
                1,
                "timer service received a request with an invalid body".into(),
            );
            return;
        };
        if millis == 0 {
            ctx.respond(&km, Answer::always(vec![]));
            return;
        }
        ctx.print(3, format!("set timer to pop in {millis}ms"));
        let pops_at = ctx.wall_clock().as_millis() + u128::from(millis);
        lock(&self.active)
            .entry(pops_at)
            .or_default()
            .push((km.id, km.source.clone()));
        let (task_ctx, active, pending) = (ctx.clone(), self.active.clone(), ctx.busy());
        ctx.spawn(Box::pin(async move {
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
            task_ctx.respond(&km, Answer::always(vec![]));
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::node::fake::{request, FakeNode};
    use crate::types::ProcessId;

    #[tokio::test(start_paused = true)]
    async fn a_timer_answers_after_its_time_even_unasked() {
        let node = FakeNode::new();
        let ctx = node.module("timer");
        let app = node.install("app:me.os", &["app"], &[]).remove(0);
        node.may_message(ctx.id(), &app);
        let timer = Timer::default();
        let mut set = request(&app, "timer", json!({ "SetTimer": 30_000 }), None);
        if let crate::types::Message::Request(r) = &mut set.message {
            r.expects_response = None;
        }
        let started = tokio::time::Instant::now();
        timer.handle(&ctx, set);
        assert!(node.delivered(&app).is_empty(), "not before its time");
        assert_eq!(timer.debug_lines().len(), 2, "{:?}", timer.debug_lines());
        node.settle().await;
        assert!(started.elapsed() >= Duration::from_millis(29_999));
        let popped = node.delivered(&app);
        assert_eq!(
            popped.len(),
            1,
            "answered although no response was expected"
        );
        assert_eq!(popped[0].source.process, ProcessId::runtime("timer"));
        assert_eq!(timer.debug_lines(), ["timer service active timers (0):"]);
        // `0` pops at once.
        timer.handle(&ctx, request(&app, "timer", json!({ "SetTimer": 0 }), None));
        assert_eq!(node.delivered(&app).len(), 1);
    }

    #[tokio::test]
    async fn debug_is_taken_bare_or_with_null() {
        let node = FakeNode::new();
        let ctx = node.module("timer");
        let app = node.install("app:me.os", &["app"], &[]).remove(0);
        let timer = Timer::default();
        node.events();
        for body in [json!("Debug"), json!({ "Debug": null })] {
            timer.handle(&ctx, request(&app, "timer", body, None));
        }
        let listings = node
            .events()
            .iter()
            .filter(|e| {
                matches!(e, crate::kernel::Event::Print { text, .. }
                    if text.starts_with("timer service active timers"))
            })
            .count();
        assert_eq!(listings, 2);
    }
}
