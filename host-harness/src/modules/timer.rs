//! `timer:distro:sys` (public): `{"SetTimer": ms}` is answered with an
//! empty response after `ms - 1` real milliseconds, at once for 0, even
//! when the request expected no response, as the runtime does.

use std::sync::Arc;
use std::time::Duration;

use crate::kernel::message::KernelMessage;
use crate::kernel::Kernel;

use super::{respond, Module};

pub struct Timer;

impl Module for Timer {
    fn handle(&self, kernel: &Arc<Kernel>, km: KernelMessage) {
        if km.source.node != kernel.node {
            return;
        }
        let Some(request) = km.request() else { return };
        let millis = serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|v| v.get("SetTimer")?.as_u64());
        let Some(millis) = millis else {
            let mut state = kernel.lock();
            kernel.print_kernel(
                &mut state,
                1,
                "timer service received a request with an invalid body".into(),
            );
            return;
        };
        if millis == 0 {
            respond(kernel, "timer", &km, vec![], None, true);
            return;
        }
        {
            let mut state = kernel.lock();
            kernel.print_kernel(&mut state, 3, format!("set timer to pop in {millis}ms"));
        }
        let pending = kernel.busy();
        let kernel = kernel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(millis - 1)).await;
            respond(&kernel, "timer", &km, vec![], None, true);
            drop(pending);
        });
    }
}
