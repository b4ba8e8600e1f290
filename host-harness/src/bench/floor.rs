//! The floors the harness is judged against, measured in the same
//! invocation as the harness itself: what wasmtime costs to instantiate
//! the template's child and run its `init` with no harness around it (a
//! host whose functions do nothing), and what tokio costs to pass a
//! message between two tasks and back.

use std::time::Instant;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::host::load_component;
use crate::types::{
    Address, Capability, Host, LazyLoadBlob, Message, OnExit, ProcessId, ProcessV1, ProcessV1Pre,
    Request, Response, SendError, SpawnError,
};

/// A process host that does nothing: prints go nowhere, every other call
/// fails (the template's child only prints).
struct Bare {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn unused<T>() -> wasmtime::Result<T> {
    Err(wasmtime::Error::msg("not part of the floor"))
}

impl Host for Bare {
    async fn print_to_terminal(&mut self, _: u8, _: String) -> wasmtime::Result<()> {
        Ok(())
    }
    async fn our(&mut self) -> wasmtime::Result<Address> {
        unused()
    }
    async fn get_on_exit(&mut self) -> wasmtime::Result<OnExit> {
        unused()
    }
    async fn set_on_exit(&mut self, _: OnExit) -> wasmtime::Result<()> {
        unused()
    }
    async fn get_state(&mut self) -> wasmtime::Result<Option<Vec<u8>>> {
        unused()
    }
    async fn set_state(&mut self, _: Vec<u8>) -> wasmtime::Result<()> {
        unused()
    }
    async fn clear_state(&mut self) -> wasmtime::Result<()> {
        unused()
    }
    async fn spawn(
        &mut self,
        _: Option<String>,
        _: String,
        _: OnExit,
        _: Vec<Capability>,
        _: Vec<(ProcessId, String)>,
        _: bool,
    ) -> wasmtime::Result<Result<ProcessId, SpawnError>> {
        unused()
    }
    async fn save_capabilities(&mut self, _: Vec<Capability>) -> wasmtime::Result<()> {
        unused()
    }
    async fn drop_capabilities(&mut self, _: Vec<Capability>) -> wasmtime::Result<()> {
        unused()
    }
    async fn our_capabilities(&mut self) -> wasmtime::Result<Vec<Capability>> {
        unused()
    }
    async fn receive(
        &mut self,
    ) -> wasmtime::Result<Result<(Address, Message), (SendError, Option<Vec<u8>>)>> {
        unused()
    }
    async fn has_blob(&mut self) -> wasmtime::Result<bool> {
        unused()
    }
    async fn get_blob(&mut self) -> wasmtime::Result<Option<LazyLoadBlob>> {
        unused()
    }
    async fn last_blob(&mut self) -> wasmtime::Result<Option<LazyLoadBlob>> {
        unused()
    }
    async fn send_request(
        &mut self,
        _: Address,
        _: Request,
        _: Option<Vec<u8>>,
        _: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<()> {
        unused()
    }
    async fn send_requests(
        &mut self,
        _: Vec<(Address, Request, Option<Vec<u8>>, Option<LazyLoadBlob>)>,
    ) -> wasmtime::Result<()> {
        unused()
    }
    async fn send_response(
        &mut self,
        _: Response,
        _: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<()> {
        unused()
    }
    async fn send_and_await_response(
        &mut self,
        _: Address,
        _: Request,
        _: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<Result<(Address, Message), SendError>> {
        unused()
    }
}

/// Median microseconds to instantiate `child` (a component, compiled once
/// here) from its prepared instance and run its `init`, `runs` times, on
/// `engine` (the harness's, so the same configuration).
pub async fn instantiate(engine: &Engine, child: &[u8], runs: usize) -> Result<f64, String> {
    let loaded = load_component(engine, child)?;
    let mut linker: Linker<Bare> = Linker::new(engine);
    ProcessV1::add_to_linker::<Bare, HasSelf<Bare>>(&mut linker, |bare| bare)
        .map_err(|e| e.to_string())?;
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| e.to_string())?;
    let pre = linker
        .instantiate_pre(&loaded.component)
        .and_then(ProcessV1Pre::new)
        .map_err(|e| format!("{e:#}"))?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let bare = Bare {
            wasi: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(engine, bare);
        store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
        store.set_epoch_deadline(u64::MAX / 2);
        let bindings = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| format!("{e:#}"))?;
        bindings
            .call_init(&mut store, "fake.os@child:spawn:template.os")
            .await
            .map_err(|e| format!("{e:#}"))?;
        drop(store);
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    Ok(super::median(times))
}

/// Median microseconds for a message to go from one tokio task to another
/// and back, on the runtime this is called on.
pub async fn channel_roundtrip(runs: usize) -> f64 {
    let (to_echo, mut echo_in) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let (to_caller, mut caller_in) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let echo = tokio::spawn(async move {
        while let Some(n) = echo_in.recv().await {
            if to_caller.send(n).is_err() {
                return;
            }
        }
    });
    let mut times = Vec::with_capacity(runs);
    for n in 0..runs as u64 {
        let started = Instant::now();
        if to_echo.send(n).is_err() || caller_in.recv().await.is_none() {
            break;
        }
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    drop(to_echo);
    let _ = echo.await;
    super::median(times)
}
