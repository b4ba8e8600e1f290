//! Faults at node times: carrying out a schedule while the steps run,
//! drawing one from a seed (`--faults`), and shrinking a schedule that
//! makes a scenario fail to the smallest that still does.
//!
//! A schedule is made of units: a crash with its restart, a partition
//! with its heal, a latency spike with its end, or a single fault a
//! scenario file gives. Shrinking works on units (delta debugging: drop
//! each, then move each earlier and make it shorter) and keeps every
//! change after which the scenario still fails at the same step.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::network::links::Latency;
use crate::network::Network;
use crate::util::lock;

use super::format::{Fault, FaultKind, LatencyStep, Millis, NodeList, Partition, RandomFaults};

/// Faults on their way: the task carrying them out and how many are
/// still to come.
pub struct Pending {
    task: tokio::task::JoinHandle<()>,
    left: Arc<AtomicUsize>,
    /// The faults in the order they come, for naming those never applied.
    faults: Vec<Fault>,
    last: Duration,
}

/// Carries out `faults` at their node times, while the steps run; what
/// went wrong is added to `errors`. Pending faults do not keep the run
/// busy (a step still settles when nothing is in flight), but a step that
/// waits for something does not give up on an idle run while a fault is
/// still to come: the fault may be what it waits for.
pub fn schedule(
    network: &Arc<Network>,
    nodes: &[String],
    mut faults: Vec<Fault>,
    errors: Arc<Mutex<Vec<String>>>,
) -> Option<Pending> {
    if faults.is_empty() {
        return None;
    }
    faults.sort_by(|a, b| a.at.total_cmp(&b.at));
    let left = Arc::new(AtomicUsize::new(faults.len()));
    let last = faults.last().map_or(0.0, |f| f.at);
    let (network, nodes, todo, count) = (
        network.clone(),
        nodes.to_vec(),
        faults.clone(),
        left.clone(),
    );
    let task = tokio::spawn(async move {
        let origin = network.origin();
        for (index, fault) in todo.into_iter().enumerate() {
            let at = origin + Duration::from_secs_f64(fault.at);
            tokio::time::sleep_until(at).await;
            if let Err(e) = apply(&network, &nodes, &fault.kind).await {
                lock(&errors).push(format!("fault {} at {} s: {e}", index + 1, fault.at));
            }
            count.fetch_sub(1, Ordering::SeqCst);
            // Whoever watches for an idle run looks again.
            network.poke();
        }
    });
    Some(Pending {
        task,
        left,
        faults,
        last: Duration::from_secs_f64(last),
    })
}

impl Pending {
    /// How many faults are still to come, shared with the steps.
    pub fn counter(&self) -> Arc<AtomicUsize> {
        self.left.clone()
    }

    /// Lets the faults still to come happen: waits until the last one's
    /// time and then at most `timeout` more (a restart boots a node).
    /// Faults that did not happen by then are stopped and named.
    pub async fn finish(mut self, origin: tokio::time::Instant, timeout: Duration) -> Vec<String> {
        let deadline = (origin + self.last).max(tokio::time::Instant::now()) + timeout;
        if tokio::time::timeout_at(deadline, &mut self.task)
            .await
            .is_ok()
        {
            return Vec::new();
        }
        self.task.abort();
        let _ = (&mut self.task).await;
        let left = self.left.load(Ordering::SeqCst);
        let done = self.faults.len() - left;
        self.faults[done..]
            .iter()
            .enumerate()
            .map(|(i, fault)| {
                format!(
                    "fault {} at {} s ({}) did not happen: the fault before it was still going                      on {timeout:?} after the last fault's time",
                    done + i + 1,
                    fault.at,
                    kind_toml(&fault.kind)
                )
            })
            .collect()
    }
}

async fn apply(network: &Network, nodes: &[String], kind: &FaultKind) -> Result<(), String> {
    match kind {
        // Two drawn crashes of one node may overlap: the second finds it
        // down already, and there is nothing more to do.
        FaultKind::Crash(node) if network.node(node).is_none() && network.knows(node) => Ok(()),
        FaultKind::Crash(node) => network.crash(node).await,
        FaultKind::Restart(node) => network.restart(node).await,
        FaultKind::Partition(partition) => {
            let groups = &partition.groups;
            for (i, a) in groups.iter().enumerate() {
                for b in &groups[i + 1..] {
                    network.partition(a, b, partition.one_way);
                }
            }
            Ok(())
        }
        FaultKind::Heal(_) => {
            network.heal();
            Ok(())
        }
        FaultKind::Latency(step) => {
            set_latency(network, nodes, step);
            Ok(())
        }
    }
}

/// A `latency` step or fault, carried out.
pub fn set_latency(network: &Network, nodes: &[String], step: &LatencyStep) {
    let from = step.from.resolve(nodes);
    let to = step.to.resolve(nodes);
    let ms = |ms: f64| Duration::from_secs_f64(ms / 1000.0);
    let latency = match step.ms {
        Millis::Fixed(0.0) => Latency::None,
        Millis::Fixed(n) => Latency::Fixed(ms(n)),
        Millis::Range([low, high]) => Latency::Range(ms(low), ms(high)),
    };
    network.set_latency(&from, &to, latency);
    if !step.one_way {
        network.set_latency(&to, &from, latency);
    }
}

/// Faults that belong together: dropped, moved and shortened as one.
pub type Unit = Vec<Fault>;

/// The schedule `seed` draws for a scenario of `nodes`, within `bounds`.
pub fn draw(seed: u64, nodes: &[String], bounds: &RandomFaults) -> Vec<Unit> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6661_756c_7473);
    let mut kinds = Vec::new();
    if bounds.crash {
        kinds.push(0);
    }
    if bounds.partition && nodes.len() > 1 {
        kinds.push(1);
    }
    if bounds.latency && nodes.len() > 1 {
        kinds.push(2);
    }
    if kinds.is_empty() {
        return vec![];
    }
    let count = rng.gen_range(bounds.count[0]..=bounds.count[1]);
    let mut units = Vec::new();
    // Each node's drawn downtimes: a second crash of a node that is down
    // would do nothing, and its restart would reboot the node early.
    let mut down: Vec<(String, f64, f64)> = Vec::new();
    for _ in 0..count {
        let at = round(rng.gen_range(0.0..bounds.within));
        let until = round(at + rng.gen_range(0.05..=bounds.longest.max(0.05)));
        let unit = match kinds[rng.gen_range(0..kinds.len())] {
            0 => {
                let free: Vec<&String> = nodes
                    .iter()
                    .filter(|n| {
                        !down
                            .iter()
                            .any(|(d, from, to)| d == *n && at <= *to && *from <= until)
                    })
                    .collect();
                if free.is_empty() {
                    continue;
                }
                let node = free[rng.gen_range(0..free.len())].clone();
                down.push((node.clone(), at, until));
                vec![
                    fault(at, FaultKind::Crash(node.clone())),
                    fault(until, FaultKind::Restart(node)),
                ]
            }
            1 => {
                let mut shuffled = nodes.to_vec();
                for i in (1..shuffled.len()).rev() {
                    shuffled.swap(i, rng.gen_range(0..=i));
                }
                let split = rng.gen_range(1..shuffled.len());
                let (a, b) = shuffled.split_at(split);
                let partition = Partition {
                    groups: vec![a.to_vec(), b.to_vec()],
                    one_way: rng.gen_bool(0.25),
                };
                vec![
                    fault(at, FaultKind::Partition(partition)),
                    fault(until, FaultKind::Heal(true)),
                ]
            }
            _ => {
                let from = nodes[rng.gen_range(0..nodes.len())].clone();
                let others: Vec<&String> = nodes.iter().filter(|n| **n != from).collect();
                let to = others[rng.gen_range(0..others.len())].clone();
                let low = round(rng.gen_range(50.0..500.0));
                let spike = |ms| LatencyStep {
                    from: NodeList::One(from.clone()),
                    to: NodeList::One(to.clone()),
                    ms,
                    one_way: false,
                };
                vec![
                    fault(
                        at,
                        FaultKind::Latency(spike(Millis::Range([low, low * 4.0]))),
                    ),
                    fault(until, FaultKind::Latency(spike(Millis::Fixed(0.0)))),
                ]
            }
        };
        units.push(unit);
    }
    units
}

fn fault(at: f64, kind: FaultKind) -> Fault {
    Fault { at, kind }
}

/// Times to the millisecond, so a printed schedule replays exactly.
fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// Shrinks `units` while `fails` says the scenario still fails the same
/// way with what is left: drops units, then moves each earlier and makes
/// it shorter. At most `budget` tries.
pub async fn shrink<F, Fut>(mut units: Vec<Unit>, mut budget: usize, mut fails: F) -> Vec<Unit>
where
    F: FnMut(Vec<Fault>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let flat = |units: &[Unit]| units.iter().flatten().cloned().collect::<Vec<_>>();
    // Drop whole units, one at a time, from the last.
    let mut index = units.len();
    while index > 0 && budget > 0 {
        index -= 1;
        let mut fewer = units.clone();
        fewer.remove(index);
        budget -= 1;
        if fails(flat(&fewer)).await {
            units = fewer;
        }
    }
    // Then each unit earlier (halfway to 0), then shorter (half as long),
    // while that still fails.
    for index in 0..units.len() {
        for change in [earlier as fn(&Unit) -> Option<Unit>, shorter] {
            while budget > 0 {
                let Some(changed) = change(&units[index]) else {
                    break;
                };
                let mut tried = units.clone();
                tried[index] = changed;
                budget -= 1;
                if fails(flat(&tried)).await {
                    units = tried;
                } else {
                    break;
                }
            }
        }
    }
    units
}

/// The unit moved halfway to the start of the run.
fn earlier(unit: &Unit) -> Option<Unit> {
    let start = unit.first()?.at;
    let shift = round(start / 2.0);
    (shift >= 0.001).then(|| {
        unit.iter()
            .map(|f| fault(round(f.at - shift), f.kind.clone()))
            .collect()
    })
}

/// The unit half as long (its faults after the first come sooner).
fn shorter(unit: &Unit) -> Option<Unit> {
    let start = unit.first()?.at;
    let length = unit.last()?.at - start;
    (unit.len() > 1 && length >= 0.002).then(|| {
        unit.iter()
            .map(|f| fault(round(start + (f.at - start) / 2.0), f.kind.clone()))
            .collect()
    })
}

/// A schedule as `[[fault]]` entries to paste into a scenario.
pub fn to_toml(faults: &[Fault]) -> String {
    let mut out = String::new();
    for f in faults {
        out.push_str(&format!(
            "[[fault]]\nat = {}\n{}\n",
            f.at,
            kind_toml(&f.kind)
        ));
    }
    out
}

/// A fault's kind as the line a scenario file gives it in.
fn kind_toml(kind: &FaultKind) -> String {
    let names = |list: &NodeList| match list {
        NodeList::All => "[]".to_string(),
        NodeList::One(name) => format!("{name:?}"),
        NodeList::Some(names) => format!("{names:?}"),
    };
    let ms = |ms: &Millis| match ms {
        Millis::Fixed(n) => format!("{n}"),
        Millis::Range([low, high]) => format!("[{low}, {high}]"),
    };
    match kind {
        FaultKind::Crash(node) => format!("crash = {node:?}"),
        FaultKind::Restart(node) => format!("restart = {node:?}"),
        FaultKind::Heal(_) => "heal = true".into(),
        FaultKind::Partition(p) => format!(
            "partition = {{ groups = {:?}, one_way = {} }}",
            p.groups, p.one_way
        ),
        FaultKind::Latency(l) => format!(
            "latency = {{ from = {}, to = {}, ms = {}, one_way = {} }}",
            names(&l.from),
            names(&l.to),
            ms(&l.ms),
            l.one_way
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<String> {
        vec!["a.os".into(), "b.os".into(), "c.os".into()]
    }

    #[test]
    fn a_seed_draws_one_schedule_within_its_bounds() {
        let bounds = RandomFaults::default();
        assert_eq!(draw(5, &nodes(), &bounds), draw(5, &nodes(), &bounds));
        assert_ne!(draw(5, &nodes(), &bounds), draw(6, &nodes(), &bounds));
        for seed in 0..50 {
            let units = draw(seed, &nodes(), &bounds);
            assert!((1..=3).contains(&units.len()));
            for unit in &units {
                assert_eq!(unit.len(), 2);
                assert!(unit[0].at < 10.0 && unit[1].at <= unit[0].at + 3.0);
            }
        }
        let only_crashes = RandomFaults {
            partition: false,
            latency: false,
            ..bounds
        };
        let one = vec!["a.os".to_string()];
        assert!(draw(1, &one, &only_crashes)
            .iter()
            .flatten()
            .all(|f| matches!(f.kind, FaultKind::Crash(_) | FaultKind::Restart(_))));
    }

    #[test]
    fn drawn_crashes_of_one_node_never_overlap() {
        let crowded = RandomFaults {
            count: [6, 6],
            within: 2.0,
            partition: false,
            latency: false,
            ..RandomFaults::default()
        };
        let one = vec!["a.os".to_string()];
        for seed in 0..50 {
            let mut windows: Vec<(f64, f64)> = draw(seed, &one, &crowded)
                .iter()
                .map(|unit| (unit[0].at, unit[1].at))
                .collect();
            assert!(!windows.is_empty());
            windows.sort_by(|a, b| a.0.total_cmp(&b.0));
            for pair in windows.windows(2) {
                assert!(pair[0].1 < pair[1].0, "seed {seed}: {windows:?}");
            }
        }
    }

    #[tokio::test]
    async fn shrinking_keeps_only_what_still_fails_and_moves_it_earlier() {
        // Fails whenever b.os crashes at all: the crash of b.os is kept,
        // alone, as early and short as the budget allows.
        let units = draw(3, &nodes(), &RandomFaults::default());
        let crash_b = vec![
            fault(6.4, FaultKind::Crash("b.os".into())),
            fault(8.0, FaultKind::Restart("b.os".into())),
        ];
        let mut all = units.clone();
        all.push(crash_b.clone());
        let shrunk = shrink(all, 100, |faults: Vec<Fault>| async move {
            faults
                .iter()
                .any(|f| f.kind == FaultKind::Crash("b.os".into()))
        })
        .await;
        assert_eq!(shrunk.len(), 1, "{shrunk:?}");
        assert_eq!(shrunk[0][0].kind, FaultKind::Crash("b.os".into()));
        assert!(shrunk[0][0].at < 0.01, "{shrunk:?}");
        let toml = to_toml(&shrunk.concat());
        assert!(toml.starts_with("[[fault]]\nat = "), "{toml}");
        assert!(toml.contains("crash = \"b.os\""), "{toml}");
        // What it prints is a schedule a scenario file takes back.
        let scenario = crate::scenario::Scenario::from_toml(&format!(
            "[[node]]\nname = \"a.os\"\n[[node]]\nname = \"b.os\"\n{toml}"
        ))
        .unwrap();
        assert_eq!(scenario.fault, shrunk.concat());
    }
}
