//! The wire between nodes, as rules and nothing else (no nodes, no tokio):
//! given who sends to whom and when, on the network's clock, when does the
//! message arrive, or why does it fail. The rules are those of a Kinode
//! node's `net` over TCP:
//!
//! - Every node is in the name registry, so a name that is not one of the
//!   network's fails `Offline` at once (`net` finds no PKI entry).
//! - Nodes talk over one connection per pair, opened by the first message
//!   either way. Opening takes the handshake's round trip. A node that is
//!   down refuses it (`Offline` after one round trip); a partition in
//!   either direction makes it time out (`Offline` after net's 5 s
//!   `TIMEOUT`), and messages sent meanwhile fail with it.
//! - On an open connection a message arrives after the link's latency,
//!   never before one sent earlier on the same link (TCP keeps order). A
//!   partition that cuts an open connection holds what is sent into it
//!   until it heals, as TCP retransmits; a crash closes every connection
//!   of the node, and what was on them is lost. Healing does not save a
//!   connection attempt already timing out: what waits on it fails with it.
//! - A message larger than `MESSAGE_MAX_SIZE` breaks its connection:
//!   the message is lost without a word to the sender (or, over TCP, to
//!   the terminal), and the next message opens a new connection.
//! - A connection closes `IDLE_TIMEOUT` after it opened, busy or not (the
//!   timer net starts with it is never reset); the next message opens a
//!   new one, handshake and all.
//!
//! Latency draws come from the network's seeded generator, so one seed
//! gives the same arrivals.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::kernel::event::BlockReason;

/// `net`'s connection timeout (`net/utils.rs`, `TIMEOUT`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub use crate::kernel::message::MESSAGE_MAX_SIZE;

/// How long a connection lives after it opened (`net/utils.rs`).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How long a message takes over one link, one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Latency {
    #[default]
    None,
    Fixed(Duration),
    /// Drawn uniformly from `low..=high` for each message.
    Range(Duration, Duration),
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// It arrives at this time.
    Arrive(Duration),
    /// `Offline` reaches the sender at this time, for this reason.
    Fail(Duration, BlockReason),
    /// A partition holds it on its open connection until it heals.
    Hold,
    /// It is lost without a word to the sender, for this reason.
    Lost(BlockReason),
}

type Link = (String, String);

pub struct Links {
    /// Every node the registry knows, and whether it is up.
    up: BTreeMap<String, bool>,
    /// Open connections, each as its two nodes in order, and when each
    /// opened.
    open: BTreeMap<Link, Duration>,
    /// Connection attempts that will fail: from, to, and when.
    failing: BTreeMap<Link, Duration>,
    /// Directions a partition cuts.
    cut: BTreeSet<Link>,
    latency: BTreeMap<Link, Latency>,
    /// When the last message on each direction arrives (to keep order).
    last: BTreeMap<Link, Duration>,
    rng: ChaCha8Rng,
}

fn link(from: &str, to: &str) -> Link {
    (from.to_string(), to.to_string())
}

fn pair(a: &str, b: &str) -> Link {
    if a <= b {
        link(a, b)
    } else {
        link(b, a)
    }
}

impl Links {
    /// A network of `nodes`, all up, no connections yet.
    pub fn new(nodes: impl IntoIterator<Item = String>, seed: u64) -> Links {
        Links {
            up: nodes.into_iter().map(|n| (n, true)).collect(),
            open: BTreeMap::new(),
            failing: BTreeMap::new(),
            cut: BTreeSet::new(),
            latency: BTreeMap::new(),
            last: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The nodes `node` has an open connection with.
    pub fn peers(&self, node: &str) -> Vec<String> {
        self.open
            .keys()
            .filter_map(|(a, b)| {
                if a == node {
                    Some(b.clone())
                } else if b == node {
                    Some(a.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    /// A message of `size` bytes from `from` to `to` at `now`.
    pub fn route(&mut self, from: &str, to: &str, now: Duration, size: usize) -> Route {
        let Some(&up) = self.up.get(to) else {
            return Route::Fail(now, BlockReason::Offline);
        };
        if from == to {
            // A node's own messages never reach net; nothing to model.
            return Route::Arrive(now);
        }
        let connection = pair(from, to);
        if self
            .open
            .get(&connection)
            .is_some_and(|&opened| now >= opened + IDLE_TIMEOUT)
        {
            self.open.remove(&connection);
        }
        if self.open.contains_key(&connection) {
            if self.cut.contains(&link(from, to)) {
                return Route::Hold;
            }
            if size > MESSAGE_MAX_SIZE {
                self.open.remove(&connection);
                return Route::Lost(BlockReason::TooLarge);
            }
            let at = now + self.draw(from, to);
            return Route::Arrive(self.in_order(from, to, at));
        }
        if let Some(&fails) = self.failing.get(&link(from, to)) {
            if fails > now {
                return Route::Fail(fails, BlockReason::Unreachable);
            }
        }
        if !up {
            let refused = now + self.draw(from, to) + self.draw(to, from);
            return Route::Fail(refused, BlockReason::NodeDown);
        }
        if self.cut.contains(&link(from, to)) || self.cut.contains(&link(to, from)) {
            let fails = now + CONNECT_TIMEOUT;
            self.failing.insert(link(from, to), fails);
            return Route::Fail(fails, BlockReason::Unreachable);
        }
        if size > MESSAGE_MAX_SIZE {
            // The connection opens, and breaks on the first message.
            return Route::Lost(BlockReason::TooLarge);
        }
        self.open.insert(connection, now);
        // The handshake's round trip, then the message itself.
        let at = now + self.draw(from, to) + self.draw(to, from) + self.draw(from, to);
        Route::Arrive(self.in_order(from, to, at))
    }

    /// Not before the last message on the same direction.
    fn in_order(&mut self, from: &str, to: &str, at: Duration) -> Duration {
        let last = self.last.entry(link(from, to)).or_default();
        *last = (*last).max(at);
        *last
    }

    fn draw(&mut self, from: &str, to: &str) -> Duration {
        match self
            .latency
            .get(&link(from, to))
            .copied()
            .unwrap_or_default()
        {
            Latency::None => Duration::ZERO,
            Latency::Fixed(latency) => latency,
            Latency::Range(low, high) => {
                let nanos = self
                    .rng
                    .gen_range(low.as_nanos() as u64..=high.as_nanos() as u64);
                Duration::from_nanos(nanos)
            }
        }
    }

    /// Sets the latency from `from` to `to`.
    pub fn set_latency(&mut self, from: &str, to: &str, latency: Latency) {
        self.latency.insert(link(from, to), latency);
    }

    /// Cuts every direction from `a` to `b` (and back, unless `one_way`).
    pub fn partition(&mut self, a: &[String], b: &[String], one_way: bool) {
        for x in a {
            for y in b {
                if x != y {
                    self.cut.insert(link(x, y));
                    if !one_way {
                        self.cut.insert(link(y, x));
                    }
                }
            }
        }
    }

    /// Every partition is gone. A connection attempt already under way
    /// still times out (what is sent meanwhile fails with it).
    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// `node` crashed: it is down and every connection it had is closed.
    pub fn crash(&mut self, node: &str) {
        if let Some(up) = self.up.get_mut(node) {
            *up = false;
        }
        self.open.retain(|(a, b), _| a != node && b != node);
        self.failing.retain(|(a, b), _| a != node && b != node);
        self.last.retain(|(a, b), _| a != node && b != node);
    }

    /// `node` is up again, with no connections.
    pub fn boot(&mut self, node: &str) {
        if let Some(up) = self.up.get_mut(node) {
            *up = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn links() -> Links {
        Links::new(["a.os".into(), "b.os".into(), "c.os".into()], 1)
    }

    #[test]
    fn an_unknown_node_fails_at_once_and_a_known_one_connects() {
        let mut links = links();
        assert_eq!(
            links.route("a.os", "z.os", ms(3), 0),
            Route::Fail(ms(3), BlockReason::Offline)
        );
        assert_eq!(links.route("a.os", "b.os", ms(3), 0), Route::Arrive(ms(3)));
        assert_eq!(links.peers("b.os"), vec!["a.os".to_string()]);
        assert!(links.peers("c.os").is_empty());
    }

    #[test]
    fn a_connection_costs_a_round_trip_and_keeps_order_under_jitter() {
        let mut links = links();
        links.set_latency("a.os", "b.os", Latency::Fixed(ms(10)));
        links.set_latency("b.os", "a.os", Latency::Fixed(ms(10)));
        // Handshake (there and back) plus the message.
        assert_eq!(links.route("a.os", "b.os", ms(0), 0), Route::Arrive(ms(30)));
        assert_eq!(links.route("a.os", "b.os", ms(1), 0), Route::Arrive(ms(30)));
        links.set_latency("a.os", "b.os", Latency::Range(ms(1), ms(50)));
        let mut last = ms(0);
        for n in 0..200 {
            let Route::Arrive(at) = links.route("a.os", "b.os", ms(2 + n), 0) else {
                panic!("open connection")
            };
            assert!(at >= last, "message {n} arrived before an earlier one");
            last = at;
        }
    }

    #[test]
    fn a_partition_holds_an_open_connection_and_times_out_a_new_one() {
        let mut links = links();
        assert!(matches!(
            links.route("a.os", "b.os", ms(0), 0),
            Route::Arrive(_)
        ));
        links.partition(&["a.os".into()], &["b.os".into(), "c.os".into()], true);
        assert_eq!(links.route("a.os", "b.os", ms(1), 0), Route::Hold);
        // One way: b.os still reaches a.os over the open connection.
        assert!(matches!(
            links.route("b.os", "a.os", ms(1), 0),
            Route::Arrive(_)
        ));
        // A new connection needs both ways: it times out, and what is sent
        // meanwhile fails with it.
        let fails = ms(2) + CONNECT_TIMEOUT;
        let unreachable = Route::Fail(fails, BlockReason::Unreachable);
        assert_eq!(links.route("c.os", "a.os", ms(2), 0), unreachable);
        assert_eq!(links.route("c.os", "a.os", ms(3), 0), unreachable);
        // Healing does not save the attempt under way; once it has timed
        // out, a new one connects.
        links.heal();
        assert_eq!(links.route("c.os", "a.os", ms(4), 0), unreachable);
        assert!(matches!(
            links.route("c.os", "a.os", fails, 0),
            Route::Arrive(_)
        ));
    }

    #[test]
    fn a_message_over_the_size_limit_is_lost_and_breaks_its_connection() {
        let mut links = links();
        links.set_latency("a.os", "b.os", Latency::Fixed(ms(10)));
        links.set_latency("b.os", "a.os", Latency::Fixed(ms(10)));
        assert_eq!(
            links.route("a.os", "b.os", ms(0), MESSAGE_MAX_SIZE),
            Route::Arrive(ms(30))
        );
        assert_eq!(
            links.route("a.os", "b.os", ms(40), MESSAGE_MAX_SIZE + 1),
            Route::Lost(BlockReason::TooLarge)
        );
        assert!(links.peers("a.os").is_empty());
        // The next message opens a new connection: a handshake again.
        assert_eq!(
            links.route("a.os", "b.os", ms(50), 5),
            Route::Arrive(ms(80))
        );
    }

    #[test]
    fn a_connection_closes_thirty_minutes_after_it_opened_however_busy() {
        let mut links = links();
        links.set_latency("a.os", "b.os", Latency::Fixed(ms(10)));
        links.set_latency("b.os", "a.os", Latency::Fixed(ms(10)));
        assert_eq!(links.route("a.os", "b.os", ms(0), 1), Route::Arrive(ms(30)));
        let late = IDLE_TIMEOUT - ms(1);
        assert_eq!(
            links.route("b.os", "a.os", late, 1),
            Route::Arrive(late + ms(10))
        );
        assert_eq!(
            links.route("a.os", "b.os", IDLE_TIMEOUT, 1),
            Route::Arrive(IDLE_TIMEOUT + ms(30))
        );
    }

    #[test]
    fn a_crashed_node_refuses_connections_until_it_boots() {
        let mut links = links();
        links.set_latency("a.os", "b.os", Latency::Fixed(ms(5)));
        assert!(matches!(
            links.route("a.os", "b.os", ms(0), 0),
            Route::Arrive(_)
        ));
        links.crash("b.os");
        assert!(links.peers("a.os").is_empty());
        assert_eq!(
            links.route("a.os", "b.os", ms(100), 0),
            Route::Fail(ms(105), BlockReason::NodeDown)
        );
        links.boot("b.os");
        assert!(matches!(
            links.route("a.os", "b.os", ms(200), 0),
            Route::Arrive(_)
        ));
    }

    #[test]
    fn one_seed_draws_the_same_latencies() {
        let draws = |seed| {
            let mut links = Links::new(["a.os".into(), "b.os".into()], seed);
            links.set_latency("a.os", "b.os", Latency::Range(ms(1), ms(1000)));
            (0..20)
                .map(|n| links.route("a.os", "b.os", ms(n * 2000), 0))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(4), draws(4));
        assert_ne!(draws(4), draws(5));
    }
}
