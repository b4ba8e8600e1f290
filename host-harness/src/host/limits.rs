//! Limits a node does not have but a test run wants: memory per process
//! (default 1 GiB) and, optionally, how long a process may compute without
//! waiting for a message. Hitting one traps the process with the reason,
//! and its on-exit applies as for any trap.

use std::time::Duration;

pub use crate::kernel::event::Limit;

/// What one process may use, and what it has used.
pub struct Limits {
    memory_bytes: usize,
    /// Epoch ticks a process may run between two waits.
    cpu_ticks: Option<u64>,
    /// Ticks run since it last waited for a message.
    ticks: u64,
    cpu_limit: Option<Duration>,
    pub hit: Option<Limit>,
}

impl Limits {
    pub fn new(memory_bytes: usize, cpu_limit: Option<Duration>, tick: Duration) -> Self {
        Limits {
            memory_bytes,
            cpu_ticks: cpu_limit.map(|c| (c.as_nanos() / tick.as_nanos().max(1)).max(1) as u64),
            ticks: 0,
            cpu_limit,
            hit: None,
        }
    }

    /// The most memory the process may have, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }

    /// The process waits for a message: its computing stretch is over.
    pub fn waiting(&mut self) {
        self.ticks = 0;
    }

    /// One epoch tick of computing; `Err` once over the CPU budget.
    pub fn tick(&mut self) -> wasmtime::Result<()> {
        self.ticks += 1;
        match (self.cpu_ticks, self.cpu_limit) {
            (Some(budget), Some(limit)) if self.ticks > budget => {
                self.hit = Some(Limit::CpuLimit);
                wasmtime::bail!(
                    "cpu_limit: ran for more than {:.3} s without waiting for a message (an \
                     endless loop?); raise `run --cpu-limit`, or a scenario's `cpu_limit`, if it \
                     computes that long on purpose",
                    limit.as_secs_f64()
                )
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
