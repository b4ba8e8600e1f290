//! `kinode:process/standard` for one process: what each WIT function does,
//! following the Kinode 1.0 kernel (`standard_host_v1.rs`). Message state
//! that belongs to the process (outstanding requests and their contexts,
//! the request being answered, the last blob) lives here; everything shared
//! goes through the [`Kernel`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::bail;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{
    Address, Capability, Host, LazyLoadBlob, Message, OnExit, ProcessId, Request, Response,
    SendError, SendErrorKind, SpawnError,
};
use crate::kernel::activity::InFlight;
use crate::kernel::mailbox::Mailbox;
use crate::kernel::message::{Delivery, KernelMessage};
use crate::kernel::{Kernel, SpawnRequest, SpawnResult};
use crate::report::{Level, SpawnRecord};

use super::wasi::{self, Stdio};

/// How long spawn waits for vfs to return the child's wasm (the kernel's 5 s).
const SPAWN_READ_TIMEOUT_SECS: u64 = 5;

pub struct ProcessHost {
    kernel: Arc<Kernel>,
    id: ProcessId,
    our: Address,
    mailbox: Arc<Mailbox>,
    /// Held while the process executes; dropped while it waits.
    busy: Option<InFlight>,
    /// Requests sent with `expects_response`, by id.
    contexts: HashMap<u64, Outstanding>,
    /// The request a `send-response` answers: the last one received that
    /// expects a response or has an rsvp. Never cleared by answering.
    prompting: Option<KernelMessage>,
    last_blob: Option<LazyLoadBlob>,
    last_message_blobbed: bool,
    wasi: WasiCtx,
    table: ResourceTable,
    stdio: Stdio,
}

struct Outstanding {
    context: Option<Vec<u8>>,
    /// The prompting message when the request was sent; restored when its
    /// response arrives.
    prompting: Option<KernelMessage>,
    timeout: tokio::task::AbortHandle,
}

/// What `receive` hands the guest.
type Received = Result<(Address, Message), (SendError, Option<Vec<u8>>)>;

impl ProcessHost {
    pub fn new(kernel: Arc<Kernel>, id: ProcessId, mailbox: Arc<Mailbox>, busy: InFlight) -> Self {
        let tmp = kernel.tmp_dir(&id.package_id());
        let (wasi, stdio) = wasi::context(tmp.as_deref());
        ProcessHost {
            our: kernel.address(&id),
            kernel,
            id,
            mailbox,
            busy: Some(busy),
            contexts: HashMap::new(),
            prompting: None,
            last_blob: None,
            last_message_blobbed: false,
            wasi,
            table: ResourceTable::new(),
            stdio,
        }
    }

    /// stdout and stderr written so far, as text.
    pub fn take_output(&mut self) -> (String, String) {
        let text = |pipe: &wasmtime_wasi::p2::pipe::MemoryOutputPipe| {
            String::from_utf8_lossy(&pipe.contents()).into_owned()
        };
        (text(&self.stdio.stdout), text(&self.stdio.stderr))
    }

    pub fn take_busy(&mut self) -> Option<InFlight> {
        self.busy.take()
    }

    fn prefix(&self) -> String {
        format!("{}:{}", self.id.package_name, self.id.publisher_node)
    }

    /// A kernel print attributed to this process's package, as the kernel
    /// does for `set-on-exit`, `set-state` and spawn.
    fn print_debug(&self, text: &str) {
        let mut state = self.kernel.lock();
        let line = format!("{}: {text}", self.prefix());
        self.kernel.print_kernel(&mut state, 2, line);
    }

    fn diagnose(&self, level: Level, message: String, hint: Option<String>) {
        self.kernel.note(level, &self.id, message, hint);
    }

    /// Capabilities attached to an outgoing message: the kernel keeps those
    /// this process issued or holds and silently drops the rest.
    fn filter_attached(&self, caps: Vec<Capability>) -> Vec<Capability> {
        if caps.is_empty() {
            return caps;
        }
        let mut state = self.kernel.lock();
        let (kept, dropped): (Vec<_>, Vec<_>) = caps
            .into_iter()
            .partition(|cap| Kernel::may_pass_on(&state, &self.id, cap));
        for cap in dropped {
            self.kernel.diagnose(
                &mut state,
                Level::Warning,
                Some(&self.id),
                format!("capability {cap} attached to a message was dropped: this process neither holds nor issued it"),
                Some("a real node drops it without a word; attach only capabilities you hold".into()),
            );
        }
        kept
    }

    /// Sends a request as this process and returns its id. With
    /// `expects_response`, registers the context and arms the timeout.
    fn send_one(
        &mut self,
        mut target: Address,
        mut request: Request,
        context: Option<Vec<u8>>,
        blob: Option<LazyLoadBlob>,
    ) -> u64 {
        if target.node == "our" {
            target.node = self.kernel.node.clone();
        }
        request.capabilities = self.filter_attached(std::mem::take(&mut request.capabilities));
        let id = match (&self.prompting, request.inherit) {
            (Some(prompting), true) => prompting.id,
            _ => loop {
                let id: u64 = rand::random();
                if !self.contexts.contains_key(&id) {
                    break id;
                }
            },
        };
        let blob = blob.or_else(|| request.inherit.then(|| self.last_blob.clone()).flatten());
        let rsvp = if request.expects_response.is_some() {
            Some(self.our.clone())
        } else if request.inherit {
            self.prompting.as_ref().and_then(|p| p.rsvp.clone())
        } else {
            None
        };
        if let Some(seconds) = request.expects_response {
            let error = SendError {
                kind: SendErrorKind::Timeout,
                target: target.clone(),
                message: Message::Request(request.clone()),
                lazy_load_blob: blob.clone(),
            };
            let timeout = self.arm_timeout(id, seconds, error);
            if let Some(old) = self.contexts.insert(
                id,
                Outstanding {
                    context,
                    prompting: self.prompting.clone(),
                    timeout,
                },
            ) {
                old.timeout.abort();
            }
        }
        self.kernel.send(KernelMessage {
            id,
            source: self.our.clone(),
            target,
            rsvp,
            message: Message::Request(request),
            blob,
        });
        id
    }

    /// After `seconds`, the request `id` fails with a timeout unless its
    /// response came first (then this task is aborted).
    fn arm_timeout(&self, id: u64, seconds: u64, error: SendError) -> tokio::task::AbortHandle {
        let mailbox = self.mailbox.clone();
        let guard = self.kernel.busy();
        let activity = self.kernel.activity.clone();
        tokio::spawn(async move {
            let _pending = guard;
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            mailbox.push(Delivery::Failed { id, error }, activity.enter());
        })
        .abort_handle()
    }

    /// Takes the next delivery `wanted` accepts and applies the kernel's
    /// bookkeeping. `None`: it was not for this process (a response or error
    /// nobody waits for), and was dropped.
    fn ingest(&mut self, delivery: Delivery) -> Option<Received> {
        match delivery {
            Delivery::Message(km) => match &km.message {
                Message::Request(request) => {
                    if request.expects_response.is_some() || km.rsvp.is_some() {
                        self.prompting = Some(km.clone());
                    }
                    self.take_blob(&km.blob);
                    Some(Ok((km.source.clone(), km.message)))
                }
                Message::Response((response, _)) => {
                    let Some(outstanding) = self.contexts.remove(&km.id) else {
                        self.diagnose(
                            Level::Info,
                            format!(
                                "response {} from {} dropped: no request of ours with that id is \
                                 waiting (it timed out, or was never sent by us)",
                                km.id, km.source
                            ),
                            None,
                        );
                        return None;
                    };
                    outstanding.timeout.abort();
                    self.prompting = outstanding.prompting;
                    self.take_blob(&km.blob);
                    Some(Ok((
                        km.source.clone(),
                        Message::Response((response.clone(), outstanding.context)),
                    )))
                }
            },
            Delivery::Failed { id, error } => {
                let outstanding = self.contexts.remove(&id)?;
                self.last_message_blobbed = false;
                outstanding.timeout.abort();
                self.prompting = outstanding.prompting;
                Some(Err((error, outstanding.context)))
            }
        }
    }

    fn take_blob(&mut self, blob: &Option<LazyLoadBlob>) {
        self.last_message_blobbed = blob.is_some();
        if let Some(blob) = blob {
            self.last_blob = Some(blob.clone());
        }
    }

    /// Sends `request` and waits for its response (or failure), leaving
    /// every other message queued, in order.
    async fn await_response(
        &mut self,
        target: Address,
        request: Request,
        blob: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<Result<(Address, Message), SendError>> {
        let id = self.send_one(target, request, None, blob);
        loop {
            let delivery = self.mailbox.take(&mut self.busy, |d| d.id() == id).await;
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
    async fn read_through_vfs(&mut self, wasm_path: &str) -> Result<Vec<u8>, String> {
        let body = serde_json::json!({ "path": wasm_path, "action": "Read" });
        let request = Request {
            inherit: false,
            expects_response: Some(SPAWN_READ_TIMEOUT_SECS),
            body: body.to_string().into_bytes(),
            metadata: None,
            capabilities: vec![],
        };
        let vfs = self.kernel.address(&ProcessId::runtime("vfs"));
        let answer = self
            .await_response(vfs, request, None)
            .await
            .map_err(|e| e.to_string())?;
        match answer {
            Err(error) => Err(format!(
                "the read request to vfs failed with {:?}: the parent may not message vfs:distro:sys",
                error.kind
            )),
            Ok((_, Message::Response((response, _)))) => {
                let body: serde_json::Value =
                    serde_json::from_slice(&response.body).unwrap_or_default();
                if body != serde_json::json!("Read") {
                    return Err(format!(
                        "vfs answered {}",
                        String::from_utf8_lossy(&response.body)
                    ));
                }
                match &self.last_blob {
                    Some(blob) if self.last_message_blobbed => Ok(blob.bytes.clone()),
                    _ => Err("vfs answered Read without the file's bytes".into()),
                }
            }
            Ok(_) => Err("vfs answered with a request".into()),
        }
    }

    fn record_failed_spawn(
        &self,
        name: Option<String>,
        wasm_path: &str,
        result: &str,
        detail: String,
    ) {
        let mut state = self.kernel.lock();
        state.report.spawns.push(SpawnRecord {
            parent: self.id.to_string(),
            name,
            wasm_path: wasm_path.into(),
            result: result.into(),
            child: None,
            dropped_capabilities: vec![],
            detail: Some(detail),
        });
    }
}

impl Drop for ProcessHost {
    /// A process that ends stops waiting: its pending timeouts go with it.
    fn drop(&mut self) {
        for outstanding in self.contexts.values() {
            outstanding.timeout.abort();
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
        let line = format!("{}: {message}", self.prefix());
        self.kernel.terminal.print(verbosity, &line);
        let mut state = self.kernel.lock();
        state.report.prints.push(crate::report::PrintRecord {
            process: self.id.to_string(),
            verbosity,
            text: message,
        });
        Ok(())
    }

    async fn our(&mut self) -> wasmtime::Result<Address> {
        Ok(self.our.clone())
    }

    async fn get_on_exit(&mut self) -> wasmtime::Result<OnExit> {
        Ok(self
            .kernel
            .lock()
            .processes
            .get(&self.id)
            .map_or(OnExit::None, |e| e.on_exit.clone()))
    }

    async fn set_on_exit(&mut self, on_exit: OnExit) -> wasmtime::Result<()> {
        {
            let mut state = self.kernel.lock();
            if let Some(entry) = state.processes.get_mut(&self.id) {
                entry.on_exit = on_exit.clone();
            }
            if let Some(index) = Kernel::record_index(&state, &self.id) {
                state.report.processes[index].on_exit =
                    crate::report::on_exit_name(&on_exit).into();
            }
        }
        self.print_debug("set new on-exit behavior");
        Ok(())
    }

    // The state calls are round trips to `state:distro:sys` on a node, whose
    // answer (a blob only for get-state with data) becomes the current
    // message's blob.
    async fn get_state(&mut self) -> wasmtime::Result<Option<Vec<u8>>> {
        let state = self.kernel.lock().states.get(&self.id).cloned();
        self.last_message_blobbed = state.is_some();
        if let Some(bytes) = &state {
            self.last_blob = Some(LazyLoadBlob {
                mime: None,
                bytes: bytes.clone(),
            });
        }
        Ok(state)
    }

    async fn set_state(&mut self, bytes: Vec<u8>) -> wasmtime::Result<()> {
        self.last_message_blobbed = false;
        self.kernel.lock().states.insert(self.id.clone(), bytes);
        self.print_debug("persisted state");
        Ok(())
    }

    async fn clear_state(&mut self) -> wasmtime::Result<()> {
        self.last_message_blobbed = false;
        self.kernel.lock().states.remove(&self.id);
        self.print_debug("cleared persisted state");
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
        let old_last_blob = self.last_blob.clone();
        // 1. The wasm, read through vfs as this process.
        let bytes = match self.read_through_vfs(&wasm_path).await {
            Ok(bytes) => bytes,
            Err(reason) => {
                self.last_blob = old_last_blob;
                let detail = format!("could not read `{wasm_path}` through vfs: {reason}");
                self.diagnose(
                    Level::Error,
                    format!("spawn returned NoFileAtPath: {detail}"),
                    Some(format!(
                        "the path must be `{}/pkg/<file>.wasm` (use format!(\"{{}}/pkg/child.wasm\", our.package_id())), \
                         the file must be in pkg/, and the parent needs \"vfs:distro:sys\" in its \
                         request_capabilities",
                        self.id.package_id()
                    )),
                );
                self.record_failed_spawn(name, &wasm_path, "NoFileAtPath", detail);
                return Ok(Err(SpawnError::NoFileAtPath));
            }
        };
        // 2. The name: random if none; a bad one traps the caller.
        let name = name.unwrap_or_else(|| rand::random::<u64>().to_string());
        if let Err(trap) = crate::ids::check_process_name(&name) {
            self.last_blob = old_last_blob;
            self.record_failed_spawn(Some(name.clone()), &wasm_path, "trapped", trap.clone());
            self.diagnose(
                Level::Error,
                format!("spawn trapped the caller: {trap}"),
                Some(format!(
                    "use a name of a-z, 0-9 and `-`, e.g. {:?}",
                    name.to_lowercase()
                        .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                )),
            );
            bail!(trap);
        }
        // 3-7. Compile, then the kernel does the rest.
        let wasm = self.kernel.runtime.load(&bytes);
        let result = self.kernel.spawn_child(SpawnRequest {
            parent: self.id.clone(),
            name,
            wasm_path,
            wasm,
            on_exit,
            request_caps: request_capabilities,
            grant_caps: grant_capabilities,
            public,
        });
        self.last_blob = old_last_blob;
        self.last_message_blobbed = false;
        Ok(match result {
            SpawnResult::Started(child) => {
                crate::process::start(&self.kernel, child.clone());
                Ok(child)
            }
            SpawnResult::Existing(child) => Ok(child),
            SpawnResult::Failed => Err(SpawnError::NoFileAtPath),
        })
    }

    async fn save_capabilities(&mut self, caps: Vec<Capability>) -> wasmtime::Result<()> {
        let mut state = self.kernel.lock();
        for cap in caps {
            let issued = cap.issuer.process == self.id;
            let held = Kernel::holds(&state, &self.id, &cap);
            Kernel::add_cap(&mut state, &self.id, cap.clone());
            if !issued && !held {
                self.kernel.diagnose(
                    &mut state,
                    Level::Info,
                    Some(&self.id),
                    format!("save-capabilities added {cap}, which it was never given"),
                    Some(
                        "Kinode 1.0 does not check ownership here; do not rely on it, later \
                         runtimes may"
                            .into(),
                    ),
                );
            }
        }
        Ok(())
    }

    async fn drop_capabilities(&mut self, caps: Vec<Capability>) -> wasmtime::Result<()> {
        let mut state = self.kernel.lock();
        if let Some(entry) = state.processes.get_mut(&self.id) {
            for cap in &caps {
                entry.caps.remove(cap);
            }
        }
        Ok(())
    }

    async fn our_capabilities(&mut self) -> wasmtime::Result<Vec<Capability>> {
        Ok(self
            .kernel
            .lock()
            .processes
            .get(&self.id)
            .map(|e| e.caps.to_vec())
            .unwrap_or_default())
    }

    async fn receive(&mut self) -> wasmtime::Result<Received> {
        loop {
            let delivery = self.mailbox.take(&mut self.busy, |_| true).await;
            if let Some(received) = self.ingest(delivery) {
                return Ok(received);
            }
        }
    }

    async fn has_blob(&mut self) -> wasmtime::Result<bool> {
        Ok(self.last_message_blobbed)
    }

    async fn get_blob(&mut self) -> wasmtime::Result<Option<LazyLoadBlob>> {
        Ok(if self.last_message_blobbed {
            self.last_blob.clone()
        } else {
            None
        })
    }

    async fn last_blob(&mut self) -> wasmtime::Result<Option<LazyLoadBlob>> {
        Ok(self.last_blob.clone())
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
        mut response: Response,
        lazy_load_blob: Option<LazyLoadBlob>,
    ) -> wasmtime::Result<()> {
        let Some(prompting) = self.prompting.clone() else {
            let mut state = self.kernel.lock();
            self.kernel.print_kernel(
                &mut state,
                0,
                format!("kernel: need non-None prompting_message to handle Response {response:?}"),
            );
            self.kernel.diagnose(
                &mut state,
                Level::Warning,
                Some(&self.id),
                "send-response dropped: this process is not handling a request that expects a response".into(),
                Some("answer only requests sent with expects_response (or an rsvp)".into()),
            );
            return Ok(());
        };
        let blob = if response.inherit {
            self.last_blob.clone()
        } else {
            lazy_load_blob
        };
        response.capabilities = self.filter_attached(std::mem::take(&mut response.capabilities));
        self.kernel.send(KernelMessage {
            id: prompting.id,
            source: self.our.clone(),
            target: prompting.rsvp.clone().unwrap_or(prompting.source.clone()),
            rsvp: None,
            message: Message::Response((response, None)),
            blob,
        });
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
        let is_us =
            target.process == self.id && (target.node == self.kernel.node || target.node == "our");
        if is_us {
            bail!(
                "kernel: got invalid send_and_await_response() Request from and to {}: cannot await a Request to `our`: will deadlock",
                self.our
            );
        }
        self.await_response(target, request, lazy_load_blob).await
    }
}
