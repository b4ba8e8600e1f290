//! Running one wasm process: a wasmtime store per start, linked like the
//! Kinode runtime links it (`kinode:process/standard` plus all of WASI
//! preview 2), `init` called with the process's address, and the kernel
//! told how it ended.

mod host;
pub mod limits;
pub mod messages;
mod wasi;

use std::sync::{Arc, OnceLock};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::{ProcessId, ProcessV1, ProcessV1Pre};
use crate::kernel::event::Exit;
use crate::kernel::{Flavor, Program, WasmKey};
use crate::node::activity::InFlight;
use crate::node::Node;
use crate::wasm::{ComponentCache, DiskCache};
pub use host::ProcessHost;

/// How often a running process yields to the rest of the node.
const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(2);

static SHARED: OnceLock<Result<Arc<Runtime>, String>> = OnceLock::new();
static NO_DISK_CACHE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The engine, linker and compiled components every process shares.
pub struct Runtime {
    pub engine: Engine,
    linker: Linker<ProcessHost>,
    components: ComponentCache,
    /// Each component linked once, ready to instantiate for every start.
    linked: std::sync::Mutex<std::collections::HashMap<WasmKey, ProcessV1Pre<ProcessHost>>>,
}

impl Runtime {
    pub fn new(disk: Option<DiskCache>) -> wasmtime::Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
        // Every process yields to the others (and to the run's timeout)
        // each time the epoch moves on, so no busy process can starve them.
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("host-harness-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .map_err(wasmtime::Error::from)?;
        let mut linker = Linker::new(&engine);
        ProcessV1::add_to_linker::<ProcessHost, HasSelf<ProcessHost>>(&mut linker, |host| host)?;
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Ok(Runtime {
            engine,
            linker,
            components: ComponentCache::with_disk(disk),
            linked: Default::default(),
        })
    }

    /// One runtime for every run in this program: components compiled once
    /// serve every later run. Compilations are also kept on disk (see
    /// [`DiskCache::default_dir`]) unless [`Runtime::disable_disk_cache`]
    /// was called first.
    pub fn shared() -> Result<Arc<Runtime>, String> {
        SHARED
            .get_or_init(|| {
                let disk = if NO_DISK_CACHE.load(std::sync::atomic::Ordering::SeqCst) {
                    None
                } else {
                    DiskCache::default_dir().map(DiskCache::new)
                };
                Runtime::new(disk)
                    .map(Arc::new)
                    .map_err(|e| format!("{e:?}"))
            })
            .clone()
    }

    /// Compile everything afresh in this program (`--no-cache`). Must come
    /// before the first run.
    pub fn disable_disk_cache() {
        NO_DISK_CACHE.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn load(&self, bytes: &[u8]) -> Result<WasmKey, String> {
        self.components.load(&self.engine, bytes)
    }

    /// The process interface the component behind `key` was built against.
    pub fn interface(&self, key: &WasmKey) -> Option<crate::wasm::ProcessInterface> {
        self.components.get(key).map(|wasm| wasm.interface)
    }

    /// The component behind `key`, linked: type-checked against the host
    /// once, then instantiated cheaply at every start.
    fn linked(&self, key: &WasmKey) -> Result<ProcessV1Pre<ProcessHost>, String> {
        if let Some(pre) = crate::node::lock(&self.linked).get(key) {
            return Ok(pre.clone());
        }
        let wasm = self
            .components
            .get(key)
            .ok_or("the component is not compiled")?;
        let pre = self
            .linker
            .instantiate_pre(&wasm.component)
            .and_then(ProcessV1Pre::new)
            .map_err(|e| format!("{e:#}"))?;
        crate::node::lock(&self.linked).insert(*key, pre.clone());
        Ok(pre)
    }
}

/// A component built for the other runtime, and the linker error a node
/// gives it: a Kinode 1.0 node links only `kinode:process`, hyperdrive only
/// `hyperware:process` (the harness links both under one name).
fn built_for_other_runtime(node: &Node, key: &WasmKey) -> Option<(Flavor, String)> {
    let interface = node.runtime.interface(key)?;
    (interface.runtime() != node.flavor()).then(|| {
        let error = format!(
            "component imports instance `{}`, but a matching implementation was not found in \
             the linker",
            interface.import_name()
        );
        (interface.runtime(), error)
    })
}

/// One start of `id`: instantiate, call `init`, hand the kernel the
/// outcome (which may start it again later).
pub async fn run(node: Arc<Node>, id: ProcessId, busy: InFlight) {
    let Some(Program::Wasm(key)) = node.kernel(|k| k.program(&id)) else {
        return;
    };
    let mailbox = node.mailbox(&id);
    let tmp = node.tmp_dir(&id.package_id());
    let (memory, cpu) = node.limits();
    let limits = limits::Limits::new(memory, cpu, EPOCH_TICK);
    let host = ProcessHost::new(
        node.clone(),
        id.clone(),
        mailbox.clone(),
        busy,
        tmp.as_deref(),
        limits,
        node.flavor(),
    );
    let mut store = Store::new(&node.runtime.engine, host);
    store.limiter(|host| &mut host.limits);
    // Each tick: count it against the CPU budget, then yield to the rest.
    store.epoch_deadline_callback(|mut context| {
        context.data_mut().limits.tick()?;
        Ok(wasmtime::UpdateDeadline::Yield(1))
    });
    store.set_epoch_deadline(1);
    if let Some((built_for, error)) = built_for_other_runtime(&node, &key) {
        node.kernel(|k| k.built_for_other_runtime(&id, built_for, &error));
        return;
    }
    let instance = match node.runtime.linked(&key) {
        Ok(pre) => pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| format!("{e:#}")),
        Err(e) => Err(e),
    };
    let bindings = match instance {
        Ok(bindings) => bindings,
        Err(e) => {
            node.kernel(|k| k.instantiate_failed(&id, &e));
            return;
        }
    };
    let now = node.now();
    node.kernel(|k| k.started(&id, now));
    mailbox.begin();
    let our = format!("{}@{id}", node.name());
    let result = bindings.call_init(&mut store, &our).await;
    let host = store.data_mut();
    let (stdout, stderr) = host.take_output();
    let exit = match result {
        Ok(()) => Exit::Returned,
        // A limit's own words; else what the kernel prints: stderr if any,
        // else the trap's cause.
        Err(trap) if host.limits.hit.is_some() => {
            let limit = host.limits.hit.expect("checked");
            Exit::LimitReached(limit, trap.root_cause().to_string())
        }
        Err(trap) => Exit::Trapped(if stderr.is_empty() {
            trap.root_cause().to_string()
        } else {
            stderr.clone()
        }),
    };
    // Still busy until the kernel has applied its exit.
    let still_busy = host.take_busy();
    let now = node.now();
    node.kernel(|k| k.ended(&id, exit, stdout, stderr, now));
    drop(store);
    drop(still_busy);
}
