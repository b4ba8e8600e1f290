//! WASI as the Kinode runtime links it: no stdin, no args, stdout thrown
//! away by the node (kept here for the report), stderr kept (5000 bytes)
//! and shown when the process traps, and one preopened directory, the
//! package's `tmp`, at the same path as on the host, named by `TEMP_DIR`.

use std::path::Path;

use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

/// The runtime's `STACK_TRACE_SIZE`.
pub const STDERR_CAPACITY: usize = 5000;
/// Kept for the report only; a node discards stdout.
pub const STDOUT_CAPACITY: usize = 1 << 20;

pub struct Stdio {
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
}

pub fn context(tmp_dir: Option<&Path>) -> (WasiCtx, Stdio) {
    let stdio = Stdio {
        stdout: MemoryOutputPipe::new(STDOUT_CAPACITY),
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
