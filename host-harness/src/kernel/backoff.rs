//! The restart backoff of one process id, by the run's [`BackoffRule`].
//! Times are the node's clock (time since the run began), passed in.

use std::time::Duration;

use crate::types::BackoffRule;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    rule: BackoffRule,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing yet: no restart, and (for `Doubling`) no start.
    Fresh,
    /// `SoonestTime`: when the next restart may come at the soonest, and
    /// how many came early.
    Soonest { at: Duration, early: u32 },
    /// `Doubling`: restarts since the last healthy run (counting the first
    /// start), the wait before the current run, and when that run began.
    Doubling {
        attempts: u32,
        current: Duration,
        last_start: Duration,
    },
}

impl Backoff {
    pub fn new(rule: BackoffRule) -> Backoff {
        Backoff {
            rule,
            state: State::Fresh,
        }
    }

    /// A run begins (its `init` is called). Only `Doubling` keeps time
    /// from here: its uptime leaves out the wait before the run.
    pub fn started(&mut self, now: Duration) {
        let BackoffRule::Doubling { base, .. } = self.rule else {
            return;
        };
        match &mut self.state {
            State::Doubling { last_start, .. } => *last_start = now,
            _ => {
                self.state = State::Doubling {
                    attempts: 1,
                    current: base,
                    last_start: now,
                }
            }
        }
    }

    /// The process ended at `now` and restarts: how long to wait first.
    pub fn next(&mut self, now: Duration) -> Duration {
        match self.rule {
            BackoffRule::SoonestTime => match self.state {
                State::Soonest { at, early } if now < at => {
                    let step = Duration::from_secs(1u64 << early.min(30));
                    self.state = State::Soonest {
                        at: at + step,
                        early: early + 1,
                    };
                    at - now
                }
                _ => {
                    self.state = State::Soonest {
                        at: now + Duration::from_secs(1),
                        early: 0,
                    };
                    Duration::ZERO
                }
            },
            BackoffRule::Doubling {
                base,
                max,
                healthy_multiplier,
                max_healthy,
            } => {
                let (mut attempts, current, last_start) = match self.state {
                    State::Doubling {
                        attempts,
                        current,
                        last_start,
                    } => (attempts, current, last_start),
                    _ => (1, base, now),
                };
                let healthy = (current * healthy_multiplier).min(max_healthy);
                if now.saturating_sub(last_start) >= healthy {
                    self.state = State::Doubling {
                        attempts: 1,
                        current: base,
                        last_start,
                    };
                    return Duration::ZERO;
                }
                attempts += 1;
                let wait = Duration::from_secs(1u64 << (attempts - 1).min(30)).clamp(base, max);
                self.state = State::Doubling {
                    attempts,
                    current: wait,
                    last_start,
                };
                wait
            }
        }
    }
}
