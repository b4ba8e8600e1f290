//! Limits a node does not have but a test run wants: memory per process
//! (default 1 GiB) and, optionally, how long a process may compute without
//! waiting for a message. Hitting one traps the process with the reason,
//! and its on-exit applies as for any trap. On real time the computing is
//! counted in epoch ticks of the wall clock; on virtual time in fuel (the
//! wasm it ran), at [`FUEL_PER_SECOND`], so the limit replays too.

use std::time::Duration;

pub use crate::kernel::event::Limit;

/// Fuel a process burns in a second of computing, for a `cpu_limit` on
/// virtual time (about a wasm instruction a nanosecond or two).
pub const FUEL_PER_SECOND: u64 = 500_000_000;

/// What one process may use, and what it has used.
pub struct Limits {
    memory_bytes: usize,
    /// Epoch ticks a process may run between two waits.
    cpu_ticks: Option<u64>,
    /// Ticks run since it last waited for a message.
    ticks: u64,
    cpu_limit: Option<Duration>,
    pub hit: Option<Limit>,
    /// It waited for a message since the store last looked: on virtual
    /// time its fuel budget starts again.
    waited: bool,
}

impl Limits {
    pub fn new(memory_bytes: usize, cpu_limit: Option<Duration>, tick: Duration) -> Self {
        Limits {
            memory_bytes,
            cpu_ticks: cpu_limit.map(|c| (c.as_nanos() / tick.as_nanos().max(1)).max(1) as u64),
            ticks: 0,
            cpu_limit,
            hit: None,
            waited: false,
        }
    }

    /// The fuel a process may burn between two waits on virtual time.
    pub fn fuel_budget(&self) -> u64 {
        self.cpu_limit.map_or(u64::MAX, |limit| {
            (limit.as_secs_f64() * FUEL_PER_SECOND as f64).max(1.0) as u64
        })
    }

    /// Whether it waited since the last call (and forget it did).
    pub fn take_waited(&mut self) -> bool {
        std::mem::take(&mut self.waited)
    }

    /// Its fuel ran out: the CPU limit on virtual time. The reason, as a
    /// trap's.
    pub fn out_of_fuel(&mut self) -> String {
        self.hit = Some(Limit::CpuLimit);
        self.cpu_limit_reason()
    }

    fn cpu_limit_reason(&self) -> String {
        format!(
            "cpu_limit: ran for more than {:.3} s without waiting for a message (an endless \
             loop?); raise `run --cpu-limit`, or a scenario's `cpu_limit`, if it computes that \
             long on purpose",
            self.cpu_limit.unwrap_or_default().as_secs_f64()
        )
    }

    /// The most memory the process may have, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }

    /// The process waits for a message: its computing stretch is over.
    pub fn waiting(&mut self) {
        self.ticks = 0;
        self.waited = true;
    }

    /// One epoch tick of computing; `Err` once over the CPU budget.
    pub fn tick(&mut self) -> wasmtime::Result<()> {
        self.ticks += 1;
        match (self.cpu_ticks, self.cpu_limit) {
            (Some(budget), Some(_)) if self.ticks > budget => {
                self.hit = Some(Limit::CpuLimit);
                wasmtime::bail!("{}", self.cpu_limit_reason())
            }
            _ => Ok(()),
        }
    }
}

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.hit = Some(Limit::MemoryLimit);
            wasmtime::bail!(
                "memory_limit: tried to grow its memory to {desired} bytes, over the limit of {} (--memory-limit)",
                self.memory_bytes
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}
