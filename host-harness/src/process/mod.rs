//! Running one wasm process: a wasmtime store per start, linked like the
//! Kinode runtime links it (`kinode:process/standard` plus all of WASI
//! preview 2), `init` called with the process's address, and the kernel
//! told how it ended.

mod host;
mod wasi;

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::{ProcessId, ProcessV1};
use crate::kernel::activity::InFlight;
use crate::kernel::{Kernel, Outcome};
use crate::wasm::{ComponentCache, LoadedWasm};
pub use host::ProcessHost;

/// The engine, linker and compiled components every process shares.
pub struct Runtime {
    pub engine: Engine,
    linker: Linker<ProcessHost>,
    components: ComponentCache,
}

impl Runtime {
    pub fn new() -> wasmtime::Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        ProcessV1::add_to_linker::<ProcessHost, HasSelf<ProcessHost>>(&mut linker, |host| host)?;
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Ok(Runtime {
            engine,
            linker,
            components: ComponentCache::default(),
        })
    }

    pub fn load(&self, bytes: &[u8]) -> Result<Arc<LoadedWasm>, String> {
        self.components.load(&self.engine, bytes)
    }
}

/// Starts `id`'s task: instantiate, call `init`, apply on-exit, and for
/// `Restart` do it again after the kernel's backoff.
pub fn start(kernel: &Arc<Kernel>, id: ProcessId) {
    let busy = kernel.busy();
    tokio::spawn(run(kernel.clone(), id, busy));
}

async fn run(kernel: Arc<Kernel>, id: ProcessId, mut busy: InFlight) {
    let mut first = true;
    loop {
        let (Some(wasm), Some(mailbox)) = (kernel.wasm_of(&id), kernel.mailbox_of(&id)) else {
            return;
        };
        let host = ProcessHost::new(kernel.clone(), id.clone(), mailbox, busy);
        let mut store = Store::new(&kernel.runtime.engine, host);
        let bindings =
            match ProcessV1::instantiate_async(&mut store, &wasm.component, &kernel.runtime.linker)
                .await
            {
                Ok(bindings) => bindings,
                Err(e) => {
                    kernel.instantiate_failed(&id, &format!("{e:#}"));
                    return;
                }
            };
        if first {
            kernel.record_start_capabilities(&id);
            first = false;
        }
        let our = kernel.address(&id).to_string();
        let result = bindings.call_init(&mut store, &our).await;
        let host = store.data_mut();
        let (stdout, stderr) = host.take_output();
        let outcome = match result {
            Ok(()) => Outcome::Returned,
            // What the kernel prints: stderr if any, else the trap's cause.
            Err(trap) => Outcome::Trapped(if stderr.is_empty() {
                trap.root_cause().to_string()
            } else {
                stderr.clone()
            }),
        };
        // The process is still busy until the kernel has applied its exit.
        let still_busy = host.take_busy().unwrap_or_else(|| kernel.busy());
        let restart = kernel.process_ended(&id, outcome, stdout, stderr);
        drop(store);
        let Some(delay) = restart else { return };
        busy = still_busy;
        tokio::time::sleep(delay).await;
        kernel.restarting(&id);
    }
}
