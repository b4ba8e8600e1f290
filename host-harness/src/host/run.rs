//! One start of a process: a wasmtime store of its own, the component
//! instantiated from its linked form, `init` called with the process's
//! address, and the kernel told how it ended.

use std::sync::Arc;

use wasmtime::Store;

use super::functions::ProcessHost;
use super::limits::Limits;
use super::WasmHost;
use crate::kernel::event::{Exit, Limit};
use crate::kernel::Program;
use crate::node::activity::InFlight;
use crate::node::ProcessCtx;

/// Fuel between two yields on virtual time: each start of a process draws
/// its slice from the run's seed, 50,000 to 200,000 (about 25 to 100 µs of
/// wasm), so a seed picks how computing processes interleave.
const YIELD_FUEL: std::ops::Range<u64> = 50_000..200_000;

/// `shuffle`: `our_capabilities()` in an order drawn from the seed.
pub(super) async fn run(
    host: Arc<WasmHost>,
    ctx: ProcessCtx,
    busy: InFlight,
    limits: Limits,
    shuffle: bool,
) {
    let Some(Program::Wasm(key)) = ctx.program() else {
        return;
    };
    // A component built for another runtime fails as a node fails it: its
    // process interface is not in this node's linker (the harness links
    // every runtime's under one name, so it says so itself).
    if let Some(built_for) = host.built_for(&key).filter(|r| *r != ctx.profile().runtime) {
        let error = format!(
            "component imports instance `{}`, but a matching implementation was not found in \
             the linker",
            built_for.profile().interface
        );
        ctx.instantiate_failed(&error, Some(built_for));
        return;
    }
    // What a guest may hand the host in one call: as much as its memory
    // holds (wasmtime's default, 128 MiB, would trap a blob a node takes).
    let hostcall_fuel = limits.memory_bytes();
    let mut process = ProcessHost::new(ctx.clone(), busy, limits);
    process.shuffle_capabilities = shuffle;
    let simulated = ctx.simulated();
    let budget = process.limits.fuel_budget();
    let slice = YIELD_FUEL.start + ctx.random() % (YIELD_FUEL.end - YIELD_FUEL.start);
    let mut store = Store::new(host.engine(), process);
    store.set_hostcall_fuel(hostcall_fuel);
    store.limiter(|process| &mut process.limits);
    if simulated {
        // Virtual time: yield after every slice of fuel (the same points
        // on every run), and count the CPU limit in fuel, afresh after
        // each wait for a message.
        let _ = store.set_fuel(budget);
        let _ = store.fuel_async_yield_interval(Some(slice));
        store.call_hook(move |mut context, hook| {
            if matches!(hook, wasmtime::CallHook::ReturningFromHost)
                && context.data_mut().limits.take_waited()
            {
                context.set_fuel(budget)?;
            }
            Ok(())
        });
        store.set_epoch_deadline(u64::MAX / 2);
    } else {
        let _ = store.set_fuel(u64::MAX);
        // Each tick: count it against the CPU budget, then yield to the rest.
        store.epoch_deadline_callback(|mut context| {
            context.data_mut().limits.tick()?;
            Ok(wasmtime::UpdateDeadline::Yield(1))
        });
        store.set_epoch_deadline(1);
    }
    let instance = match host.linked(&key) {
        Ok(pre) => pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| format!("{e:#}")),
        Err(e) => Err(e),
    };
    let bindings = match instance {
        Ok(bindings) => bindings,
        Err(e) => {
            ctx.instantiate_failed(&e, None);
            return;
        }
    };
    ctx.started();
    ctx.mailbox().begin();
    let our = ctx.our().to_string();
    let result = bindings.call_init(&mut store, &our).await;
    let process = store.data_mut();
    let (stdout, stderr) = process.take_output();
    let out_of_fuel = result
        .as_ref()
        .err()
        .and_then(|trap| trap.downcast_ref::<wasmtime::Trap>())
        == Some(&wasmtime::Trap::OutOfFuel);
    if out_of_fuel {
        let reason = process.limits.out_of_fuel();
        let (stdout, stderr) = process.take_output();
        let still_busy = process.take_busy();
        ctx.ended(Exit::LimitReached(Limit::CpuLimit, reason), stdout, stderr);
        drop(store);
        drop(still_busy);
        return;
    }
    let exit = match result {
        Ok(()) => Exit::Returned,
        // A limit's own words; else what the kernel prints: stderr if any,
        // else the trap's cause.
        Err(trap) => match process.limits.hit {
            Some(limit) => Exit::LimitReached(limit, trap.root_cause().to_string()),
            None if stderr.is_empty() => Exit::Trapped(trap.root_cause().to_string()),
            None => Exit::Trapped(stderr.clone()),
        },
    };
    // Still busy until the kernel has applied its exit.
    let still_busy = process.take_busy();
    ctx.ended(exit, stdout, stderr);
    drop(store);
    drop(still_busy);
}
