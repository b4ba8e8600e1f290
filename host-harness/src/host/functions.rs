//! `kinode:process/standard` for one process. Each function delegates: the
//! message state to [`Messages`], the rules to the kernel through the
//! process's [`ProcessCtx`], waiting to its mailbox.

use std::collections::HashMap;
use std::time::Duration;

use tokio::task::AbortHandle;
use wasmtime::bail;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::kernel::event::{Event, NoFileCause};
use crate::kernel::message::Delivery;
use crate::kernel::SpawnRequest;
use crate::node::activity::InFlight;
use crate::node::mailbox::Wanted;
use crate::node::ProcessCtx;
use crate::types::{
    Address, Capability, Host, LazyLoadBlob, Message, OnExit, ProcessId, Request, Response,
    SendError, SendErrorKind, SpawnError,
};

use super::limits::Limits;
use super::messages::{Ingested, Messages, Received};
use super::wasi::{self, Stdio};

/// How long spawn waits for vfs to return the child's wasm (the kernel's 5 s).
const SPAWN_READ_TIMEOUT_SECS: u64 = 5;

pub struct ProcessHost {
    ctx: ProcessCtx,
    our: Address,
    /// Held while the process executes; dropped while it waits.
    busy: Option<InFlight>,
    messages: Messages,
    /// The timeout of each request waiting for an answer.
    timeouts: HashMap<u64, AbortHandle>,
    wasi: WasiCtx,
    table: ResourceTable,
    stdio: Stdio,
    pub limits: Limits,
    /// `our_capabilities()` in an order drawn from the seed (a node's is
    /// its hash map's, arbitrary).
    pub shuffle_capabilities: bool,
    /// It has waited for a message at least once.
    settled: bool,
}

impl ProcessHost {
    pub fn new(ctx: ProcessCtx, busy: InFlight, limits: Limits) -> Self {
        let (origin, wall_origin) = ctx.origin();
        let clocks = wasi::Clocks {
            origin,
            wall_origin,
        };
        let tmp = ctx.tmp_dir();
        let (wasi, stdio) = wasi::context(
            tmp.as_ref()
                .map(|(host, guest)| (host.as_path(), guest.as_str())),
            ctx.profile(),
            clocks,
            ctx.random(),
            ctx.simulated(),
        );
        let our = ctx.our();
        ProcessHost {
            messages: Messages::new(our.clone(), ctx.random()),
            our,
            ctx,
            busy: Some(busy),
            timeouts: HashMap::new(),
            wasi,
            table: ResourceTable::new(),
            stdio,
            limits,
            shuffle_capabilities: false,
            settled: false,
        }
    }

    /// The process is about to wait for a message: its CPU time stops
    /// counting, and the first time, the kernel hears it has settled.
    fn wait_begins(&mut self) {
        self.limits.waiting();
        if !self.settled {
            self.settled = true;
            self.ctx.settled();
        }
    }

    /// stdout and stderr written so far, as text.
    pub fn take_output(&mut self) -> (String, String) {
        let stdout = String::from_utf8_lossy(&self.stdio.stdout.contents()).into_owned();
        let stderr = String::from_utf8_lossy(&self.stdio.stderr.contents()).into_owned();
        (stdout, stderr)
    }

    pub fn take_busy(&mut self) -> Option<InFlight> {
        self.busy.take()
    }

    /// Sends a request as this process and returns its id. With
    /// `expects_response`, its timeout starts. The timeout's error names
    /// the target as the process wrote it (`our` included), as on a node.
    fn send_one(
        &mut self,
        target: Address,
        request: Request,
        context: Option<Vec<u8>>,
        blob: Option<LazyLoadBlob>,
    ) -> u64 {
        let expects = request.expects_response;
        let km = self.messages.request(target, request, context, blob);
        let id = km.id;
        if let Some(seconds) = expects {
            let error = SendError {
                kind: SendErrorKind::Timeout,
                target: km.target.clone(),
                message: km.message.clone(),
                lazy_load_blob: km.blob.clone(),
            };
            self.arm_timeout(id, seconds, error);
        }
        self.ctx.send(km);
        id
    }

    /// After `seconds`, the request `id` fails with a timeout unless its
    /// answer came first (then this task is aborted).
    fn arm_timeout(&mut self, id: u64, seconds: u64, error: SendError) {
        let ctx = self.ctx.clone();
        let pending = self.ctx.busy();
        let task = self.ctx.spawn_task(Box::pin(async move {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            ctx.deliver_failure(id, error);
            drop(pending);
        }));
        if let Some(old) = self.timeouts.insert(id, task) {
            old.abort();
        }
    }

    /// Takes in a delivery; `None` if the kernel's host drops it.
    fn ingest(&mut self, delivery: Delivery) -> Option<Received> {
        match self.messages.ingest(delivery) {
            Ingested::Message(received) => Some(received),
            Ingested::Answer(id, received) => {
                if let Some(timeout) = self.timeouts.remove(&id) {
                    timeout.abort();
                }
                Some(received)
            }
            Ingested::Stray { id, from } => {
                let process = self.ctx.id().clone();
                let from = from.map_or("the kernel".into(), |a| a.to_string());
                self.ctx.note(Event::StrayResponse { process, id, from });
                None
            }
        }
    }

    /// Sends `request` and waits for its answer, leaving every other
    /// message queued, in order.
    async fn await_response(
        &mut self,
        target: Address,
        request: Request,
        blob: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<Result<(Address, Message), SendError>> {
        let id = self.send_one(target, request, None, blob);
        loop {
            self.wait_begins();
            let delivery = self
                .ctx
                .mailbox()
                .take(&mut self.busy, Wanted::Id(id))
                .await;
            if let Delivery::Message(km) = &delivery {
                if km.request().is_some() {
                    bail!("fatal: received Request instead of Response");
                }
            }
            match self.ingest(delivery) {
                Some(Ok(received)) => return Ok(Ok(received)),
                Some(Err((error, _))) => return Ok(Err(error)),
                None => continue,
            }
        }
    }

    /// spawn's first step: read the wasm through vfs *as this process*.
    async fn read_through_vfs(
        &mut self,
        wasm_path: &str,
    ) -> wasmtime::Result<Result<Vec<u8>, NoFileCause>> {
        let body = serde_json::json!({ "path": wasm_path, "action": "Read" });
        let request = Request {
            inherit: false,
            expects_response: Some(SPAWN_READ_TIMEOUT_SECS),
            body: body.to_string().into_bytes(),
            metadata: None,
            capabilities: vec![],
        };
        let vfs = Address::new(self.ctx.node(), ProcessId::runtime("vfs"));
        Ok(match self.await_response(vfs, request, None).await? {
            Err(error) => Err(NoFileCause::ReadNotDelivered(format!("{:?}", error.kind))),
            Ok((_, Message::Response((response, _)))) => {
                let body: serde_json::Value =
                    serde_json::from_slice(&response.body).unwrap_or_default();
                if body != serde_json::json!("Read") {
                    Err(NoFileCause::VfsError(
                        String::from_utf8_lossy(&response.body).into_owned(),
                    ))
                } else {
                    self.messages
                        .get_blob()
                        .map(|blob| blob.bytes)
                        .ok_or(NoFileCause::NoBytes)
                }
            }
            Ok(_) => Err(NoFileCause::NoBytes),
        })
    }
}

impl Drop for ProcessHost {
    /// A process that ends stops waiting: its pending timeouts go with it.
    fn drop(&mut self) {
        for timeout in self.timeouts.values() {
            timeout.abort();
        }
    }
}

impl WasiView for ProcessHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl Host for ProcessHost {
    async fn print_to_terminal(&mut self, verbosity: u8, message: String) -> wasmtime::Result<()> {
        self.ctx.print(verbosity, message);
        Ok(())
    }

    async fn our(&mut self) -> wasmtime::Result<Address> {
        Ok(self.our.clone())
    }

    async fn get_on_exit(&mut self) -> wasmtime::Result<OnExit> {
        Ok(self.ctx.on_exit())
    }

    async fn set_on_exit(&mut self, on_exit: OnExit) -> wasmtime::Result<()> {
        self.ctx.set_on_exit(on_exit);
        Ok(())
    }

    // The state calls are round trips to `state:distro:sys` on a node; the
    // answer (a blob only for get-state with data) shows in has-blob.
    async fn get_state(&mut self) -> wasmtime::Result<Option<Vec<u8>>> {
        let state = self.ctx.get_state();
        let saved = self.messages.last_blob();
        self.messages.after_round_trip(saved, state.is_some());
        Ok(state)
    }

    async fn set_state(&mut self, bytes: Vec<u8>) -> wasmtime::Result<()> {
        self.ctx.set_state(bytes);
        let saved = self.messages.last_blob();
        self.messages.after_round_trip(saved, false);
        Ok(())
    }

    async fn clear_state(&mut self) -> wasmtime::Result<()> {
        self.ctx.clear_state();
        let saved = self.messages.last_blob();
        self.messages.after_round_trip(saved, false);
        Ok(())
    }

    async fn spawn(
        &mut self,
        name: Option<String>,
        wasm_path: String,
        on_exit: OnExit,
        request_capabilities: Vec<Capability>,
        grant_capabilities: Vec<(ProcessId, String)>,
        public: bool,
    ) -> wasmtime::Result<Result<ProcessId, SpawnError>> {
        let saved = self.messages.last_blob();
        let read = self.read_through_vfs(&wasm_path).await?;
        self.messages.after_round_trip(saved, false);
        let read = read.map(|bytes| self.ctx.load(&bytes));
        let request = SpawnRequest {
            parent: self.ctx.id().clone(),
            name,
            wasm_path,
            read,
            on_exit,
            request_caps: request_capabilities,
            grant_caps: grant_capabilities,
            public,
        };
        match self.ctx.spawn(request) {
            Ok(result) => Ok(result),
            Err(trap) => bail!(trap),
        }
    }

    async fn save_capabilities(&mut self, caps: Vec<Capability>) -> wasmtime::Result<()> {
        self.ctx.save_capabilities(caps);
        Ok(())
    }

    async fn drop_capabilities(&mut self, caps: Vec<Capability>) -> wasmtime::Result<()> {
        self.ctx.drop_capabilities(&caps);
        Ok(())
    }

    async fn our_capabilities(&mut self) -> wasmtime::Result<Vec<Capability>> {
        let mut caps = self.ctx.capabilities();
        if self.shuffle_capabilities {
            use rand::seq::SliceRandom;
            use rand::SeedableRng;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.ctx.random());
            caps.shuffle(&mut rng);
        }
        Ok(caps)
    }

    async fn receive(&mut self) -> wasmtime::Result<Received> {
        loop {
            self.wait_begins();
            let delivery = self.ctx.mailbox().take(&mut self.busy, Wanted::Any).await;
            if let Some(received) = self.ingest(delivery) {
                return Ok(received);
            }
        }
    }

    async fn has_blob(&mut self) -> wasmtime::Result<bool> {
        Ok(self.messages.has_blob())
    }

    async fn get_blob(&mut self) -> wasmtime::Result<Option<LazyLoadBlob>> {
        Ok(self.messages.get_blob())
    }

    async fn last_blob(&mut self) -> wasmtime::Result<Option<LazyLoadBlob>> {
        Ok(self.messages.last_blob())
    }

    async fn send_request(
        &mut self,
        target: Address,
        request: Request,
        context: Option<Vec<u8>>,
        lazy_load_blob: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<()> {
        self.send_one(target, request, context, lazy_load_blob);
        Ok(())
    }

    async fn send_requests(
        &mut self,
        requests: Vec<(Address, Request, Option<Vec<u8>>, Option<LazyLoadBlob>)>,
    ) -> wasmtime::Result<()> {
        for (target, request, context, blob) in requests {
            self.send_one(target, request, context, blob);
        }
        Ok(())
    }

    async fn send_response(
        &mut self,
        response: Response,
        lazy_load_blob: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<()> {
        match self.messages.response(response.clone(), lazy_load_blob) {
            Some(km) => self.ctx.send(km),
            None => self.ctx.respond_to_nothing(&response),
        }
        Ok(())
    }

    async fn send_and_await_response(
        &mut self,
        target: Address,
        request: Request,
        lazy_load_blob: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<Result<(Address, Message), SendError>> {
        if request.expects_response.is_none() {
            bail!(
                "kernel: got invalid send_and_await_response() Request from {}: must expect response",
                self.our
            );
        }
        if target == self.our {
            bail!(
                "kernel: got invalid send_and_await_response() Request from and to {}: cannot await a Request to `our`: will deadlock",
                self.our
            );
        }
        self.await_response(target, request, lazy_load_blob).await
    }
}
