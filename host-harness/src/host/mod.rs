//! The wasm host: compiling components (`cache.rs`, kept on disk by
//! `disk.rs`; `interface.rs` reads which SDK built one), and running
//! processes: a wasmtime store per start (`run.rs`), linked as the Kinode
//! runtime links it (`kinode:process/standard` in `functions.rs`, over the
//! pure message state of `messages.rs`, plus all of WASI preview 2 in
//! `wasi.rs`), with the harness's own `limits.rs`. The node sees it only
//! as [`Programs`].

mod cache;
mod disk;
mod functions;
mod interface;
mod limits;
mod messages;
mod run;
mod wasi;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

use crate::node::activity::InFlight;
use crate::node::{ProcessCtx, Programs, Task};
use crate::types::{ProcessV1, ProcessV1Pre, Runtime, WasmKey};
use crate::util::lock;
pub(crate) use cache::{load_component, ComponentCache};
pub(crate) use disk::DiskCache;
use functions::ProcessHost;

/// How often a running process yields to the rest of the node.
const EPOCH_TICK: Duration = Duration::from_millis(2);

static SHARED: OnceLock<Result<Arc<WasmHost>, String>> = OnceLock::new();
static NO_DISK_CACHE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The engine, linker and compiled components every process shares.
pub(crate) struct WasmHost {
    engine: Engine,
    linker: Linker<ProcessHost>,
    components: ComponentCache,
    /// Each component linked once, ready to instantiate for every start.
    linked: Mutex<HashMap<WasmKey, ProcessV1Pre<ProcessHost>>>,
}

impl WasmHost {
    pub fn new(disk: Option<DiskCache>) -> wasmtime::Result<WasmHost> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
        // Every process yields to the others (and to the run's timeout)
        // each time the epoch moves on, so no busy process can starve them.
        config.epoch_interruption(true);
        // On virtual time they yield by fuel instead (at the same points on
        // every run); on real time each store has fuel without end.
        config.consume_fuel(true);
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
        Ok(WasmHost {
            engine,
            linker,
            components: ComponentCache::with_disk(disk),
            linked: Default::default(),
        })
    }

    /// One host for every run in this program: components compiled once
    /// serve every later run. Compilations are also kept on disk (see
    /// [`DiskCache::default_dir`]) unless [`WasmHost::disable_disk_cache`]
    /// was called first.
    pub fn shared() -> Result<Arc<WasmHost>, String> {
        SHARED
            .get_or_init(|| {
                WasmHost::new(WasmHost::disk_cache())
                    .map(Arc::new)
                    .map_err(|e| format!("{e:?}"))
            })
            .clone()
    }

    /// The disk cache this program uses, unless `--no-cache` turned it off.
    pub fn disk_cache() -> Option<DiskCache> {
        if NO_DISK_CACHE.load(std::sync::atomic::Ordering::SeqCst) {
            None
        } else {
            DiskCache::default_dir().map(DiskCache::new)
        }
    }

    /// Compile everything afresh in this program (`--no-cache`). Must come
    /// before the first run.
    pub fn disable_disk_cache() {
        NO_DISK_CACHE.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn load(&self, bytes: &[u8]) -> Result<WasmKey, String> {
        self.components.load(&self.engine, bytes)
    }

    /// The runtime the component behind `key` was built for.
    pub fn built_for(&self, key: &WasmKey) -> Option<Runtime> {
        self.components.get(key).map(|wasm| wasm.built_for)
    }

    /// The component behind `key`, linked: type-checked against the host
    /// once, then instantiated cheaply at every start.
    fn linked(&self, key: &WasmKey) -> Result<ProcessV1Pre<ProcessHost>, String> {
        if let Some(pre) = lock(&self.linked).get(key) {
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
        lock(&self.linked).insert(*key, pre.clone());
        Ok(pre)
    }
}

/// One run's processes: the shared host, with the run's limits.
pub(crate) struct Processes {
    pub host: Arc<WasmHost>,
    /// Memory each process may use, in bytes.
    pub memory_limit: usize,
    /// How long a process may compute without waiting for a message.
    pub cpu_limit: Option<Duration>,
    /// `our_capabilities()` in an order drawn from the seed.
    pub shuffle_capabilities: bool,
}

impl Programs for Processes {
    fn load(&self, bytes: &[u8]) -> Result<WasmKey, String> {
        self.host.load(bytes)
    }

    fn run(&self, process: ProcessCtx, busy: InFlight) -> Task {
        let limits = limits::Limits::new(self.memory_limit, self.cpu_limit, EPOCH_TICK);
        let shuffle = self.shuffle_capabilities;
        Box::pin(run::run(self.host.clone(), process, busy, limits, shuffle))
    }
}
