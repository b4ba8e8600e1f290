//! WASI as the runtime links it: no stdin, no args, stdout thrown away by
//! the node (kept here for the report), stderr kept (5000 bytes) and shown
//! when the process traps. Kinode 1.0 also preopens one directory, the
//! package's `tmp`, at the same path as on the host (on virtual time, at a
//! path that does not change between runs), named by `TEMP_DIR`,
//! and fails a write past stderr's 5000 bytes; hyperdrive has no tmp
//! directory and no environment, and its stderr keeps the newest bytes
//! instead of failing. Its clocks are the node's and its random numbers
//! come from the run's seed, so on virtual time both replay.

use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

use crate::types::{Profile, StderrRule};
use crate::util::lock;

/// Kept for the report only; a node discards stdout.
pub const STDOUT_CAPACITY: usize = 1 << 20;

pub struct Stdio {
    pub stdout: KeptOutput,
    pub stderr: Stderr,
}

/// stderr as each runtime keeps it.
pub enum Stderr {
    /// Kinode 1.0: writing past its capacity fails.
    Bounded(MemoryOutputPipe),
    /// hyperdrive: two pipes of half the size, swapped when full, so
    /// writes never fail and the newest bytes are kept (here exactly the
    /// newest 5000).
    Rotating(KeptOutput),
}

impl Stderr {
    pub fn contents(&self) -> Vec<u8> {
        match self {
            Stderr::Bounded(pipe) => pipe.contents().to_vec(),
            Stderr::Rotating(kept) => kept.contents(),
        }
    }
}

/// Output whose writes always succeed; `capacity` bytes of it are kept,
/// the first ones (stdout, which a node discards, kept for the report) or
/// the newest (hyperdrive's stderr).
#[derive(Clone)]
pub struct KeptOutput {
    capacity: usize,
    newest: bool,
    kept: Arc<Mutex<Vec<u8>>>,
}

impl KeptOutput {
    /// Keeps the first `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        KeptOutput {
            capacity,
            newest: false,
            kept: Arc::default(),
        }
    }

    /// Keeps the newest `capacity` bytes.
    pub fn newest(capacity: usize) -> Self {
        KeptOutput {
            newest: true,
            ..KeptOutput::new(capacity)
        }
    }

    fn keep(&self, bytes: &[u8]) {
        let mut kept = lock(&self.kept);
        if self.newest {
            kept.extend_from_slice(bytes);
            let excess = kept.len().saturating_sub(self.capacity);
            kept.drain(..excess);
        } else {
            let room = self.capacity.saturating_sub(kept.len());
            kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
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

/// The clocks a process reads: the node's (tokio's, so on virtual time
/// they move with it), counted from the run's start, the wall clock from
/// the wall-clock time then.
#[derive(Clone, Copy)]
pub struct Clocks {
    pub origin: tokio::time::Instant,
    pub wall_origin: Duration,
}

impl HostMonotonicClock for Clocks {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }
}

impl HostWallClock for Clocks {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        self.wall_origin + self.origin.elapsed()
    }
}

/// A process's WASI random numbers, from a seed (so a run's seed replays
/// them too).
struct SeededRandom(rand_chacha::ChaCha8Rng);

impl wasi_rand_core::TryRng for SeededRandom {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(rand::RngCore::next_u32(&mut self.0))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(rand::RngCore::next_u64(&mut self.0))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        rand::RngCore::fill_bytes(&mut self.0, dst);
        Ok(())
    }
}

fn seeded(seed: u64) -> SeededRandom {
    SeededRandom(rand::SeedableRng::seed_from_u64(seed))
}

/// The WASI context of one process under `profile`'s rules; `tmp_dir` is
/// the package's tmp directory on the host and the path the process sees
/// it at, if the runtime preopens one; its clocks are `clocks` and its
/// random numbers come from `seed`. On virtual time (`simulated`) file
/// work runs on the one thread, in line, so its order is the seed's.
pub fn context(
    tmp_dir: Option<(&Path, &str)>,
    profile: &Profile,
    clocks: Clocks,
    seed: u64,
    simulated: bool,
) -> (WasiCtx, Stdio) {
    let mut builder = WasiCtxBuilder::new();
    builder.allow_blocking_current_thread(simulated);
    builder
        .wall_clock(clocks)
        .monotonic_clock(clocks)
        .secure_random(seeded(seed))
        .insecure_random(seeded(seed.rotate_left(21)))
        .insecure_random_seed(u128::from(seed.rotate_left(42)));
    let stdout = KeptOutput::new(STDOUT_CAPACITY);
    builder.stdout(stdout.clone());
    let stderr = match profile.stderr {
        StderrRule::FailPastCapacity(capacity) => {
            let pipe = MemoryOutputPipe::new(capacity);
            builder.stderr(pipe.clone());
            Stderr::Bounded(pipe)
        }
        StderrRule::KeepNewest(capacity) => {
            let kept = KeptOutput::newest(capacity);
            builder.stderr(kept.clone());
            Stderr::Rotating(kept)
        }
    };
    let stdio = Stdio { stdout, stderr };
    if let Some((dir, guest)) = tmp_dir.filter(|_| profile.tmp_dir) {
        if builder
            .preopened_dir(dir, guest, FsPerms::ReadWrite)
            .is_ok()
        {
            builder.env("TEMP_DIR", guest);
        }
    }
    (builder.build(), stdio)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_keeps_the_first_bytes_and_hyperdrives_stderr_the_newest() {
        let first = KeptOutput::new(4);
        let newest = KeptOutput::newest(4);
        for chunk in [&b"abc"[..], b"def", b"gh"] {
            first.keep(chunk);
            newest.keep(chunk);
        }
        assert_eq!(first.contents(), b"abcd");
        assert_eq!(newest.contents(), b"efgh");
    }

    #[test]
    fn kinode_stderr_refuses_writes_past_5000_bytes_and_hyperdrives_never_does() {
        use crate::types::Runtime;
        let big = bytes::Bytes::from(vec![b'x'; 5001]);
        let clocks = Clocks {
            origin: tokio::time::Instant::now(),
            wall_origin: Duration::ZERO,
        };
        let (_, kinode) = context(None, Runtime::Kinode.profile(), clocks, 1, false);
        let Stderr::Bounded(mut pipe) = kinode.stderr else {
            panic!("Kinode 1.0's stderr is a bounded pipe");
        };
        assert!(pipe.write(big.clone()).is_err());
        let (_, hyperdrive) = context(None, Runtime::Hyperdrive.profile(), clocks, 1, false);
        let Stderr::Rotating(mut kept) = hyperdrive.stderr else {
            panic!("hyperdrive's stderr rotates");
        };
        assert!(kept.write(big).is_ok());
        assert_eq!(kept.contents().len(), 5000);
    }
}
