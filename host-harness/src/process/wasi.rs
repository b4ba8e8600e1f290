//! WASI as the Kinode runtime links it: no stdin, no args, stdout thrown
//! away by the node (kept here for the report), stderr kept (5000 bytes)
//! and shown when the process traps, and one preopened directory, the
//! package's `tmp`, at the same path as on the host, named by `TEMP_DIR`.

use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use crate::node::lock;

/// The runtime's `STACK_TRACE_SIZE`.
pub const STDERR_CAPACITY: usize = 5000;
/// Kept for the report only; a node discards stdout.
pub const STDOUT_CAPACITY: usize = 1 << 20;

pub struct Stdio {
    pub stdout: KeptOutput,
    /// Like a node's: writing past its capacity fails.
    pub stderr: MemoryOutputPipe,
}

/// stdout as a node treats it, writes always succeed and go nowhere, but
/// the first `capacity` bytes are kept for the report.
#[derive(Clone)]
pub struct KeptOutput {
    capacity: usize,
    kept: Arc<Mutex<Vec<u8>>>,
}

impl KeptOutput {
    pub fn new(capacity: usize) -> Self {
        KeptOutput {
            capacity,
            kept: Arc::default(),
        }
    }

    fn keep(&self, bytes: &[u8]) {
        let mut kept = lock(&self.kept);
        let room = self.capacity.saturating_sub(kept.len());
        kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    pub fn contents(&self) -> Vec<u8> {
        lock(&self.kept).clone()
    }
}

impl IsTerminal for KeptOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for KeptOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for KeptOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.keep(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl OutputStream for KeptOutput {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.keep(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1 << 16)
    }
}

#[async_trait::async_trait]
impl Pollable for KeptOutput {
    async fn ready(&mut self) {}
}

pub fn context(tmp_dir: Option<&Path>) -> (WasiCtx, Stdio) {
    let stdio = Stdio {
        stdout: KeptOutput::new(STDOUT_CAPACITY),
        stderr: MemoryOutputPipe::new(STDERR_CAPACITY),
    };
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdout(stdio.stdout.clone())
        .stderr(stdio.stderr.clone());
    if let Some(dir) = tmp_dir {
        let path = dir.to_string_lossy();
        if builder
            .preopened_dir(dir, path.as_ref(), FsPerms::ReadWrite)
            .is_ok()
        {
            builder.env("TEMP_DIR", path.as_ref());
        }
    }
    (builder.build(), stdio)
}
