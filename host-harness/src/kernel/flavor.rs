//! The two kernels the harness emulates. Kinode 1.0 and hyperdrive (its
//! renamed successor, 1.9) share almost every rule; where they differ, the
//! rule asks the flavour. Differences that live outside the kernel (the
//! WASI context, stderr, the distro processes) ask it too, through
//! `Node::flavor`.

use std::time::Duration;

/// Which runtime's rules a run follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Flavor {
    /// Kinode 1.0 (wasmtime 27), for `kinode:process` components.
    #[default]
    #[serde(rename = "kinode-1.0")]
    Kinode,
    /// Hyperware's hyperdrive 1.9 (wasmtime 33), for `hyperware:process`
    /// components.
    #[serde(rename = "hyperdrive")]
    Hyperdrive,
}

impl Flavor {
    pub const NAMES: [&'static str; 2] = ["kinode-1.0", "hyperdrive"];

    pub fn name(self) -> &'static str {
        match self {
            Flavor::Kinode => "kinode-1.0",
            Flavor::Hyperdrive => "hyperdrive",
        }
    }

    pub fn parse(text: &str) -> Option<Flavor> {
        match text {
            "kinode-1.0" | "kinode" => Some(Flavor::Kinode),
            "hyperdrive" | "hyperware" => Some(Flavor::Hyperdrive),
            _ => None,
        }
    }
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// hyperdrive's restart constants (`kernel/process.rs`).
const HD_BASE: Duration = Duration::from_secs(1);
const HD_MAX: Duration = Duration::from_secs(600);
const HD_MAX_HEALTHY: Duration = Duration::from_secs(3000);
const HD_HEALTHY_MULTIPLIER: u32 = 5;

/// The restart backoff of one process id. Times are the node's clock (time
/// since the run began).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// Kinode 1.0: when the next restart may come at the soonest, and how
    /// many came early.
    Kinode { pending: Option<(Duration, u32)> },
    /// hyperdrive: `None` before the first start.
    Hyperdrive { state: Option<HyperdriveBackoff> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HyperdriveBackoff {
    /// Restarts since the last healthy run, counting the first start.
    attempts: u32,
    /// The wait before the current run.
    current: Duration,
    /// When the current run started.
    last_start: Duration,
}

impl Backoff {
    pub fn new(flavor: Flavor) -> Backoff {
        match flavor {
            Flavor::Kinode => Backoff::Kinode { pending: None },
            Flavor::Hyperdrive => Backoff::Hyperdrive { state: None },
        }
    }

    /// A run begins (its `init` is called). Only hyperdrive keeps time from
    /// here: its uptime leaves out the wait before the run.
    pub fn started(&mut self, now: Duration) {
        if let Backoff::Hyperdrive { state } = self {
            match state {
                Some(state) => state.last_start = now,
                None => {
                    *state = Some(HyperdriveBackoff {
                        attempts: 1,
                        current: HD_BASE,
                        last_start: now,
                    })
                }
            }
        }
    }

    /// The process ended at `now` and restarts: how long to wait first.
    ///
    /// Kinode 1.0: with no record, or once the soonest time has passed,
    /// restart at once and allow the next one a second later; otherwise
    /// wait until the soonest time, and push it on by 2^attempts seconds.
    ///
    /// hyperdrive: a run that lasted 5 times the current wait (at most 50
    /// minutes) was healthy: back to attempt 1, which restarts at once.
    /// Otherwise the next attempt waits 2^(attempts-1) seconds, between 1 s
    /// and 10 minutes; so a process that crashes at once waits 2, 4, 8 s...
    pub fn next(&mut self, now: Duration) -> Duration {
        match self {
            Backoff::Kinode { pending } => match *pending {
                Some((soonest, attempts)) if now < soonest => {
                    let step = Duration::from_secs(1u64 << attempts.min(30));
                    *pending = Some((soonest + step, attempts + 1));
                    soonest - now
                }
                _ => {
                    *pending = Some((now + Duration::from_secs(1), 0));
                    Duration::ZERO
                }
            },
            Backoff::Hyperdrive { state } => {
                let state = state.get_or_insert(HyperdriveBackoff {
                    attempts: 1,
                    current: HD_BASE,
                    last_start: now,
                });
                let healthy = (state.current * HD_HEALTHY_MULTIPLIER).min(HD_MAX_HEALTHY);
                if now.saturating_sub(state.last_start) >= healthy {
                    state.attempts = 1;
                    state.current = HD_BASE;
                    return Duration::ZERO;
                }
                state.attempts += 1;
                let wait = Duration::from_secs(1u64 << (state.attempts - 1).min(30));
                state.current = wait.clamp(HD_BASE, HD_MAX);
                state.current
            }
        }
    }
}
