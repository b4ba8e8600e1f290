//! Several nodes in one run: the rules a Kinode 1.0 node applies to
//! messages between nodes, and the faults a network can have, each shown
//! by a scenario on two nodes (`a.os`, `b.os`) of the probe package:
//! `relay` sends where its request says and answers what came of it,
//! `inbox` prints everything it gets and answers.

use std::path::{Path, PathBuf};

use crate::common::*;
use host_harness::report::{BlockReason, Crossing, DiagnosticKind, NetworkReport};
use host_harness::scenario::{run_scenario, Scenario, ScenarioResult};

/// The probe package with a relay and an inbox; `networked` says which of
/// the two request networking.
fn package(relay_networked: bool, inbox_networked: bool) -> PathBuf {
    let net = |p: Probe, on: bool| if on { p.networking() } else { p };
    let net_module = ["net:distro:sys"];
    probe_package(&[
        net(probe("relay"), relay_networked)
            .requests(&net_module)
            .grants(&net_module)
            .on_exit("Restart"),
        net(probe("inbox"), inbox_networked).on_exit("Restart"),
    ])
}

/// Runs `steps` on nodes a.os and b.os, each running the package.
async fn two_nodes(dir: &Path, steps: &str) -> ScenarioResult {
    let text =
        format!("timeout = 10\n[[node]]\nname = \"a.os\"\n[[node]]\nname = \"b.os\"\n{steps}");
    let scenario = Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    run_scenario(dir, &scenario, "network").await
}

/// What each message a.os sent became, by body.
fn sent_from_a(network: &NetworkReport) -> Vec<(&str, Crossing)> {
    network
        .crossings
        .iter()
        .filter(|c| c.source.node == "a.os")
        .map(|c| (c.body.as_str(), c.outcome))
        .collect()
}

fn passed(result: &ScenarioResult) -> &NetworkReport {
    assert!(result.failures.is_empty(), "{:#?}", result.failures);
    result.network.as_ref().expect("a network report")
}

/// A step asking a.os's relay to do `command`, expecting `answer` in its
/// response.
fn ask_relay(command: &str, answer: &str) -> String {
    format!(
        "[[step]]\nsend = {{ node = \"a.os\", to = \"relay\", json = {command}, expects_response = 10 }}\n\
         [[step]]\nexpect = {{ response = {answer:?} }}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_request_skips_the_messaging_check_and_its_response_and_blob_come_back() {
    // inbox is neither public nor granted to anyone: a remote process may
    // still message it, as on a node.
    let dir = package(true, true);
    let steps = ask_relay(
        r#"{ to = "b.os@inbox:probe:test.os", body = "hi", blob = "b1", timeout = 5 }"#,
        "answer inbox:hi blob b1",
    );
    let network = two_nodes(&dir, &steps).await;
    let network = passed(&network);
    let b = network.node("b.os").unwrap();
    assert_eq!(
        prints_of(b, "inbox:probe:test.os"),
        ["inbox got request hi from a.os@relay:probe:test.os blob Some(\"b1\") caps []"]
    );
    let crossed: Vec<_> = network
        .crossings
        .iter()
        .map(|c| (c.source.to_string(), c.target.to_string(), c.outcome))
        .collect();
    assert_eq!(
        crossed,
        [
            (
                "a.os@relay:probe:test.os".into(),
                "b.os@inbox:probe:test.os".into(),
                Crossing::Delivered
            ),
            (
                "b.os@inbox:probe:test.os".into(),
                "a.os@relay:probe:test.os".into(),
                Crossing::Delivered
            ),
        ]
    );
    // Each node's records say which node they are on.
    assert!(b.processes.iter().all(|p| p.node == "b.os"));
    assert!(b.prints.iter().all(|p| p.node == "b.os"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sending_to_another_node_needs_the_network_capability() {
    let dir = package(false, true);
    let steps = ask_relay(
        r#"{ to = "b.os@inbox:probe:test.os", body = "hi", timeout = 5 }"#,
        "error timeout",
    ) + "[[step]]\nexpect = { node = \"a.os\", blocked = { from = \"relay\" }, passes = false }\n";
    let result = two_nodes(&dir, &steps).await;
    assert!(result.failures.is_empty(), "{:#?}", result.failures);
    let a = result.network.as_ref().unwrap().node("a.os").unwrap();
    let blocked = &a.blocked_messages[0];
    assert_eq!(blocked.cause, BlockReason::NoNetworkCapability);
    let hint = a
        .diagnostics_of(DiagnosticKind::MessageBlocked)
        .next()
        .unwrap();
    assert!(
        hint.hint
            .as_deref()
            .unwrap()
            .contains("\"request_networking\": true for relay"),
        "{hint:?}"
    );
    assert!(result.network.as_ref().unwrap().crossings.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn receiving_from_another_node_needs_the_network_capability_too() {
    // The receiving kernel drops it; the sender is told nothing and times
    // out.
    let dir = package(true, false);
    let steps = ask_relay(
        r#"{ to = "b.os@inbox:probe:test.os", body = "hi", timeout = 1 }"#,
        "error timeout",
    );
    let result = two_nodes(&dir, &steps).await;
    let network = passed_or_failing(&result);
    assert_eq!(
        network.crossings[0].outcome,
        Crossing::Dropped(BlockReason::TargetLacksNetwork)
    );
    let b = network.node("b.os").unwrap();
    assert!(prints_of(b, "inbox:probe:test.os").is_empty());
    assert_eq!(b.blocked_messages[0].cause, BlockReason::TargetLacksNetwork);
    // It fails the run: the package cannot work between nodes.
    assert!(
        network
            .check_failures()
            .iter()
            .any(|f| f.starts_with("b.os: a request from relay")),
        "{:?}",
        network.check_failures()
    );
}

/// The network report of a scenario whose verdict may fail.
fn passed_or_failing(result: &ScenarioResult) -> &NetworkReport {
    assert!(
        result.failures.is_empty(),
        "the steps themselves passed: {:#?}",
        result.failures
    );
    result.network.as_ref().expect("a network report")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_process_or_node_is_dropped_or_offline() {
    let dir = package(true, true);
    // No such process on b.os: dropped there, the sender times out.
    let steps = ask_relay(
        r#"{ to = "b.os@ghost:probe:test.os", body = "hi", timeout = 1 }"#,
        "error timeout",
    ) +
    // No such node: net answers Offline at once.
    &ask_relay(
        r#"{ to = "z.os@inbox:probe:test.os", body = "hi", timeout = 5 }"#,
        "error offline",
    ) + "[[step]]\nexpect = { crossed = { to = \"b.os\", outcome = \"dropped\" } }\n";
    let result = two_nodes(&dir, &steps).await;
    let network = passed_or_failing(&result);
    let b = network.node("b.os").unwrap();
    assert_eq!(b.blocked_messages[0].cause, BlockReason::NoSuchProcess);
    assert_eq!(
        b.diagnostics_of(DiagnosticKind::MessageBlocked)
            .next()
            .unwrap()
            .process
            .as_ref()
            .unwrap()
            .to_string(),
        "ghost:probe:test.os"
    );
    let a = network.node("a.os").unwrap();
    let offline = a
        .blocked_messages
        .iter()
        .find(|b| b.cause == BlockReason::Offline)
        .expect("the message to z.os");
    assert!(
        offline.reason.contains("no node `z.os` in this network"),
        "{}",
        offline.reason
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn capabilities_cross_signed_and_a_node_believes_only_its_own_signature() {
    let dir = package(true, true);
    // One issued by the relay on a.os (passed unchecked), one claiming
    // b.os as issuer but signed by a.os's key (removed at b.os).
    let steps = ask_relay(
        r#"{ to = "b.os@inbox:probe:test.os", body = "caps", timeout = 5, attach = ["a.os@relay:probe:test.os", "b.os@relay:probe:test.os"] }"#,
        "answer inbox:caps",
    );
    let result = two_nodes(&dir, &steps).await;
    let network = passed(&result);
    let b = network.node("b.os").unwrap();
    assert_eq!(
        prints_of(b, "inbox:probe:test.os"),
        ["inbox got request caps from a.os@relay:probe:test.os blob None caps [\"a.os@relay:probe:test.os\"]"]
    );
    let rejected = b
        .diagnostics_of(DiagnosticKind::RemoteCapabilityRejected)
        .next()
        .expect("the forged one is reported");
    assert!(
        rejected.message.contains("b.os@relay:probe:test.os"),
        "{rejected:?}"
    );
    assert!(
        rejected.message.contains("signature is a.os's"),
        "{rejected:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_passed_on_with_inherit_is_answered_to_the_first_asker_across_nodes() {
    let dir = package(true, true);
    // The scenario asks a.os's relay, which passes the request on to b.os's
    // inbox with inherit: inbox's answer goes straight back to the asker.
    let steps = ask_relay(
        r#"{ forward = true, to = "b.os@inbox:probe:test.os", body = "fwd-me" }"#,
        "inbox:fwd-me",
    );
    let result = two_nodes(&dir, &steps).await;
    let network = passed(&result);
    let back = network
        .crossings
        .iter()
        .find(|c| c.source.node == "b.os")
        .unwrap();
    assert_eq!(back.target.to_string(), "a.os@driver:host-harness:sys");
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_on_one_connection_keep_their_order_whatever_the_latency() {
    let dir = package(true, true);
    let steps = "[[step]]\nlatency = { from = \"a.os\", to = \"b.os\", ms = [1, 40] }\n"
        .to_string()
        + &ask_relay(
            r#"{ to = "b.os@inbox:probe:test.os", body = "m", count = 20 }"#,
            "sent 20",
        )
        + "[[step]]\nwait = { node = \"b.os\", print = \"inbox got request m20\" }\n";
    let result = two_nodes(&dir, &steps).await;
    let network = passed(&result);
    let got: Vec<String> = prints_of(network.node("b.os").unwrap(), "inbox:probe:test.os")
        .iter()
        .map(|p| p.split(' ').nth(3).unwrap().to_string())
        .collect();
    let sent: Vec<String> = (1..=20).map(|n| format!("m{n}")).collect();
    assert_eq!(got, sent);
    // Each took its drawn latency (at least 1 ms).
    assert!(network
        .crossings
        .iter()
        .all(|c| c.at_ms.unwrap() - c.sent_ms >= 0.9));
}

#[tokio::test(flavor = "multi_thread")]
async fn net_knows_every_node_and_verifies_a_signature_with_the_signers_real_key() {
    let dir = package(true, true);
    let steps = ask_relay(r#"{ peers = true }"#, "peers ")
        + &ask_relay(r#"{ peer = "b.os" }"#, "peer b.os 0x")
        + &ask_relay(r#"{ peer = "z.os" }"#, "peer none")
        // Signed on a.os with a.os's key, checked on b.os against it.
        + &ask_relay(
            r#"{ sign = "hello", to = "b.os@relay:probe:test.os" }"#,
            "answer verified Some(true) tampered Some(false)",
        )
        // Now the two are connected.
        + &ask_relay(r#"{ peers = true }"#, "peers b.os");
    let result = two_nodes(&dir, &steps).await;
    passed(&result);
}

#[tokio::test(flavor = "multi_thread")]
async fn net_prints_a_hello_from_another_node_and_answers_ack() {
    let dir = package(true, true);
    let steps = "[[step]]\nsend = { node = \"a.os\", to = \"b.os@net:distro:sys\", body = \"hi there\", expects_response = 5 }\n\
                 [[step]]\nexpect = { response = \"ack\" }\n\
                 [[step]]\nexpect = { node = \"b.os\", print = { contains = \"a.os: hi there\" } }\n";
    let result = two_nodes(&dir, steps).await;
    passed(&result);

    // A NetAction from afar is a hello too: net answers only its own node.
    let steps = ask_relay(r#"{ get_peers_of = "b.os" }"#, "answer ack");
    let result = two_nodes(&dir, &steps).await;
    let network = passed(&result);
    let b = network.node("b.os").unwrap();
    assert!(
        prints_of(b, "net:distro:sys")
            .iter()
            .any(|p| p.contains("a.os: ")),
        "{:#?}",
        b.prints
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partition_holds_an_open_connection_until_it_heals() {
    let dir = package(true, true);
    // Connect, cut, send: held (the relay times out); heal: it arrives.
    let steps = ask_relay(
        r#"{ to = "b.os@inbox:probe:test.os", body = "one", timeout = 5 }"#,
        "answer inbox:one",
    ) + "[[step]]\npartition = { groups = [[\"a.os\"], [\"b.os\"]] }\n"
        + &ask_relay(
            r#"{ to = "b.os@inbox:probe:test.os", body = "two", timeout = 1 }"#,
            "error timeout",
        )
        + "[[step]]\nheal = true\n"
        + "[[step]]\nwait = { node = \"b.os\", print = \"inbox got request two\" }\n";
    let result = two_nodes(&dir, &steps).await;
    let network = passed(&result);
    let faults: Vec<&str> = network.faults.iter().map(|f| f.fault.as_str()).collect();
    assert_eq!(faults, ["partition a.os | b.os", "heal"]);
    // It arrived only once the partition healed, a second after it was sent.
    let healed = network.faults[1].at_ms;
    let two = network.crossings.iter().find(|c| c.body == "two").unwrap();
    assert_eq!(two.outcome, Crossing::Delivered);
    assert!(
        two.at_ms.unwrap() >= healed && two.sent_ms < healed - 900.0,
        "{two:?}"
    );
    // Its late answer finds no one waiting: a stray on a.os.
    let a = network.node("a.os").unwrap();
    assert!(a
        .diagnostics_of(DiagnosticKind::StrayResponse)
        .next()
        .is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partition_before_a_connection_makes_net_answer_offline_after_its_timeout() {
    let dir = package(true, true);
    let steps = "[[step]]\npartition = { groups = [[\"a.os\"], [\"b.os\"]], one_way = true }\n"
        .to_string()
        + &ask_relay(
            r#"{ to = "b.os@inbox:probe:test.os", body = "x", timeout = 8 }"#,
            "error offline",
        );
    let result = two_nodes(&dir, &steps).await;
    let network = passed_or_failing(&result);
    // net's 5 s connection timeout, not the relay's 8 s (node time: on
    // virtual time this takes no real time).
    let failed = network.crossings[0].at_ms.unwrap() - network.crossings[0].sent_ms;
    assert!((5000.0..8000.0).contains(&failed), "{failed}");
    assert_eq!(
        network.crossings[0].outcome,
        Crossing::Failed(BlockReason::Unreachable)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_delays_each_way() {
    let dir = package(true, true);
    let steps = "[[step]]\nlatency = { ms = 150 }\n".to_string()
        + &ask_relay(
            r#"{ to = "b.os@inbox:probe:test.os", body = "slow", timeout = 5 }"#,
            "answer inbox:slow",
        );
    let result = two_nodes(&dir, &steps).await;
    let network = passed(&result);
    let there = &network.crossings[0];
    let back = &network.crossings[1];
    // The first message waits for the handshake's round trip too.
    assert!(there.at_ms.unwrap() - there.sent_ms >= 450.0, "{there:?}");
    assert!(back.at_ms.unwrap() - back.sent_ms >= 150.0, "{back:?}");
    assert!(back.at_ms.unwrap() - back.sent_ms < 300.0, "{back:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_loses_what_was_on_its_way_and_the_node_is_offline_until_it_restarts() {
    let dir = probe_package(&[
        probe("relay").networking().on_exit("Restart"),
        probe("inbox").networking().on_exit("Restart"),
        // Counts its boots in kv and its state: both survive the crash.
        probe("counter")
            .requests(&["kv:distro:sys"])
            .grants(&["kv:distro:sys"])
            .on_exit("Restart"),
    ]);
    let steps = "[[step]]\nlatency = { from = \"a.os\", to = \"b.os\", ms = 300, one_way = true }\n"
        .to_string()
        // On its way for 900 ms (handshake and message) when b.os crashes.
        + "[[step]]\nsend = { node = \"a.os\", to = \"relay\", json = { to = \"b.os@inbox:probe:test.os\", body = \"lost\", count = 1 }, expects_response = 5, settle = false }\n"
        + "[[step]]\ncrash = \"b.os\"\n"
        + &ask_relay(r#"{ to = "b.os@inbox:probe:test.os", body = "x", timeout = 5 }"#, "error offline")
        + "[[step]]\nrestart = { node = \"b.os\" }\n"
        + "[[step]]\nwait = { node = \"b.os\", print = \"count 2 starts 2\", process = \"counter\" }\n"
        + &ask_relay(r#"{ to = "b.os@inbox:probe:test.os", body = "back", timeout = 5 }"#, "answer inbox:back");
    let result = two_nodes(&dir, &steps).await;
    let network = passed(&result);
    assert_eq!(
        sent_from_a(network),
        [
            ("lost1", Crossing::Failed(BlockReason::Lost)),
            ("x", Crossing::Failed(BlockReason::NodeDown)),
            ("back", Crossing::Delivered),
        ]
    );
    // b.os's first boot is kept, ended by the crash; its kv counter and
    // state survived into the second.
    assert_eq!(network.earlier_boots.len(), 1);
    assert_eq!(
        network.earlier_boots[0].ended,
        host_harness::report::Ended::Crashed
    );
    let faults: Vec<&str> = network.faults.iter().map(|f| f.fault.as_str()).collect();
    assert!(
        faults.contains(&"crash b.os") && faults.contains(&"restart b.os"),
        "{faults:?}"
    );
    let a = network.node("a.os").unwrap();
    assert!(a
        .blocked_messages
        .iter()
        .any(|b| b.cause == BlockReason::Lost));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_reboot_drops_processes_whose_on_exit_is_none_and_says_so() {
    let dir = probe_package(&[
        probe("inbox").networking().on_exit("Restart"),
        probe("listener"),
    ]);
    let steps = "[[step]]\nrestart = \"node\"\n\
                 [[step]]\nexpect = { diagnostic = \"not_rebooted\" }\n";
    let scenario = Scenario::from_toml(steps).unwrap();
    let result = run_scenario(&dir, &scenario, "reboot").await;
    assert!(result.failures.is_empty(), "{:#?}", result.failures);
    let report = result.report.unwrap();
    let ids: Vec<String> = report.processes.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(ids, ["inbox:probe:test.os"]);
    let note = report
        .diagnostics_of(DiagnosticKind::NotRebooted)
        .next()
        .unwrap();
    assert!(note
        .message
        .starts_with("listener:probe:test.os did not come back"));
    assert!(note
        .hint
        .as_deref()
        .unwrap()
        .contains("\"on_exit\": \"Restart\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_naming_an_unknown_node_is_refused_with_the_step() {
    let err = Scenario::from_toml(
        "[[node]]\nname = \"a.os\"\n[[node]]\nname = \"b.os\"\n[[step]]\ncrash = \"c.os\"\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        "step 1: there is no node `c.os` in this scenario (its nodes: a.os, b.os); declare it \
         in a [[node]]"
    );
    let err =
        Scenario::from_toml("[[node]]\nname = \"a.os\"\n[[node]]\nname = \"a.os\"\n").unwrap_err();
    assert_eq!(err, "node `a.os` is declared twice");
    let err =
        Scenario::from_toml("[[step]]\npartition = { groups = [[\"fake.os\"]] }\n").unwrap_err();
    assert!(
        err.starts_with("step 1: a `partition` needs at least two groups"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_on_an_idle_run_lasts_until_a_fault_to_come_has_happened() {
    // The run is idle from the start, but b.os crashes at 2 s and boots
    // again at 4 s: the wait watches the new boot rather than concluding
    // that nothing will happen.
    let dir = probe_package(&[probe("counter")
        .requests(&["kv:distro:sys"])
        .grants(&["kv:distro:sys"])
        .on_exit("Restart")]);
    let steps = "[[fault]]\nat = 2\ncrash = \"b.os\"\n[[fault]]\nat = 4\nrestart = \"b.os\"\n\
        [[step]]\nwait = { node = \"b.os\", print = \"count 2 starts 2\", process = \"counter\" }\n";
    let result = two_nodes(&dir, steps).await;
    let network = passed(&result);
    assert_eq!(network.earlier_boots.len(), 1);
    assert!(
        result.node_time.as_secs_f64() >= 4.0,
        "{:?}",
        result.node_time
    );

    // With no fault to come, the same wait fails at once, naming why.
    let result = two_nodes(
        &dir,
        "[[step]]\nwait = { node = \"b.os\", print = \"count 2 starts 2\", process = \"counter\" }\n",
    )
    .await;
    assert!(
        result.failures[0].contains("the run is idle"),
        "{:#?}",
        result.failures
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_long_after_the_last_step_still_happens_before_the_run_ends() {
    let dir = probe_package(&[probe("inbox").networking().on_exit("Restart")]);
    let result = two_nodes(&dir, "[[fault]]\nat = 60\ncrash = \"b.os\"\n").await;
    let network = passed(&result);
    let faults: Vec<&str> = network.faults.iter().map(|f| f.fault.as_str()).collect();
    assert_eq!(faults, ["crash b.os"]);
    let at = network.faults[0].at_ms;
    assert!((60_000.0..60_002.0).contains(&at), "{at}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_over_ten_megabytes_is_lost_and_the_next_one_reconnects() {
    let dir = package(true, true);
    let steps = ask_relay(
        r#"{ to = "b.os@inbox:probe:test.os", body = "big", blob_bytes = 10485800, timeout = 2 }"#,
        "error timeout",
    ) + &ask_relay(
        r#"{ to = "b.os@inbox:probe:test.os", body = "small", timeout = 5 }"#,
        "answer inbox:small",
    );
    let result = two_nodes(&dir, &steps).await;
    let network = passed(&result);
    assert_eq!(
        sent_from_a(network),
        [
            ("big", Crossing::Failed(BlockReason::TooLarge)),
            ("small", Crossing::Delivered),
        ]
    );
    // Over TCP, which nodes prefer, net says nothing.
    let a = network.node("a.os").unwrap();
    assert!(prints_of(a, "net:distro:sys").is_empty(), "{:#?}", a.prints);
    let blocked = a
        .blocked_messages
        .iter()
        .find(|b| b.cause == BlockReason::TooLarge)
        .expect("the big message is reported");
    assert!(
        blocked.reason.contains("10485800 bytes"),
        "{}",
        blocked.reason
    );
}
