//! The kernel's rules, each checked by running the probe guest (a real
//! component built with the SDK) in the harness.

use crate::common::*;
use host_harness::report::{
    BlockReason, Consequence, DiagnosticKind, Ended, ExitKind, MessageKind, OnExitKind, SpawnResult,
};
use host_harness::{run, RunOptions};

const ECHO: &str = "echo:probe:test.os";

fn id(name: &str) -> String {
    format!("{name}:probe:test.os")
}

fn has_diagnostic(report: &host_harness::Report, needle: &str) -> bool {
    report
        .diagnostics
        .iter()
        .any(|d| d.message.contains(needle))
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_responses_contexts_and_blobs() {
    // Replies are checked too: pinger grants echo messaging so echo may answer.
    let dir = probe_package(&[
        probe("echo"),
        probe("pinger").requests(&[ECHO]).grants(&[ECHO]),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("pinger")),
        [
            // send-and-await: echo inherits the request's blob into its answer.
            "reply echo:ping blob Some(\"b1\")",
            // The second request has no blob, but `inherit` on a response
            // takes the *last* blob the responder ever received: b1 again.
            "response echo:with-context context Some(\"ctx-1\") blob Some(\"b1\") last Some(\"b1\")",
        ]
    );
    assert_eq!(exit_kind(&report, &id("pinger")), ExitKind::Returned);
    assert_eq!(exit_kind(&report, ECHO), ExitKind::Running);
    assert!(
        report.blocked_messages.is_empty(),
        "{:?}",
        report.blocked_messages
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_needs_a_capability_too() {
    // Without pinger's grant, echo's answer is blocked and pinger's
    // send-and-await times out (after 5 s, as on a node).
    let dir = probe_package(&[probe("echo"), probe("pinger").requests(&[ECHO])]);
    let report = run_dir(&dir).await;
    let blocked = &report.blocked_messages[0];
    assert_eq!(blocked.kind, MessageKind::Response);
    assert_eq!(blocked.source, format!("fake.os@{ECHO}").as_str());
    assert_eq!(exit_kind(&report, &id("pinger")), ExitKind::Trapped);
    assert!(report.diagnostics.iter().any(|d| d
        .hint
        .as_deref()
        .is_some_and(|h| h.contains("grant_capabilities"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_request_fails_at_once_and_fire_and_forget_vanishes() {
    let dir = probe_package(&[probe("echo"), probe("no-cap-sender")]);
    let report = run_dir(&dir).await;
    // expects_response(30) but the error comes at once: the run ends
    // idle well inside the 20 s test timeout, with the context returned.
    assert_eq!(
        prints_of(&report, &id("no-cap-sender")),
        ["send error Timeout context Some(\"c\")"]
    );
    let bodies: Vec<&str> = report
        .blocked_messages
        .iter()
        .map(|b| b.body.as_str())
        .collect();
    assert_eq!(bodies, ["quiet", "loud"]);
    let outcomes: Vec<(BlockReason, Consequence)> = report
        .blocked_messages
        .iter()
        .map(|b| (b.cause, b.consequence))
        .collect();
    assert_eq!(
        outcomes,
        [
            (BlockReason::NoMessagingCapability, Consequence::Dropped),
            (BlockReason::NoMessagingCapability, Consequence::Timeout)
        ]
    );
    assert!(prints_of(&report, ECHO).is_empty(), "echo got nothing");
    assert!(has_diagnostic(&report, "it was dropped silently"));
    assert!(has_diagnostic(
        &report,
        "SendError { kind: Timeout } at once"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_keeps_state_and_restarts_until_on_exit_changes() {
    // The backoff's timing is the kernel's unit test (a fake clock).
    let dir = probe_package(&[probe("restarter").on_exit("Restart")]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("restarter")),
        ["start 1", "start 2", "start 3"]
    );
    let record = report.process(&id("restarter")).unwrap();
    assert_eq!(record.restarts, 2);
    assert_eq!(record.exit.kind, ExitKind::Returned);
    assert_eq!(record.on_exit, OnExitKind::None, "set-on-exit is reflected");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_is_reported_with_stderr() {
    let report = run_dir(&probe_package(&[probe("trapper")])).await;
    let record = report.process(&id("trapper")).unwrap();
    assert_eq!(record.exit.kind, ExitKind::Trapped);
    assert!(record
        .exit
        .detail
        .contains("boom: the trapper process panicked on purpose"));
    assert!(record.stderr.contains("boom"));
    assert!(report.prints.iter().any(|p| p.verbosity == 0
        && p.text
            .contains("process fake.os@trapper:probe:test.os ended with error:")));
    assert_eq!(report.check_failures(), ["trapper:probe:test.os trapped"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_exit_requests_are_sent_as_the_dying_process_without_expecting_a_response() {
    let listener = id("listener");
    let dir = probe_package(&[
        probe("listener"),
        probe("dier").requests(&[listener.as_str()]),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(prints_of(&report, &id("dier")), ["dier exits"]);
    assert_eq!(
        prints_of(&report, &listener),
        ["listener got bye from dier expecting false caps []"]
    );
    assert!(report
        .prints
        .iter()
        .any(|p| p.text == "process dier:probe:test.os has OnExit behavior Requests"));
}

#[tokio::test(flavor = "multi_thread")]
async fn spawn_edge_cases() {
    let dir = probe_package(&[
        probe("echo"),
        probe("spawner").requests(&["vfs:distro:sys", "timer:distro:sys"]),
    ]);
    let report = run_dir(&dir).await;
    let spawner = id("spawner");
    assert_eq!(
        prints_of(&report, &spawner),
        [
            "unnamed Ok(true)",
            "missing Err(\"no-file-at-path\")",
            "taken Ok(\"echo:probe:test.os\")",
            "capped Ok(\"capped:probe:test.os\")",
        ]
    );
    // A bad name traps the caller with the kernel's words.
    let record = report.process(&spawner).unwrap();
    assert_eq!(record.exit.kind, ExitKind::Trapped);
    assert!(record
        .exit
        .detail
        .contains("Process name (Bad_Name) can only contain a-z, 0-9, `-`"));
    // A taken name: the running echo got the kernel's `run` request.
    assert!(prints_of(&report, ECHO)
        .contains(&"echo got run from fake.os@kernel:distro:sys".to_string()));
    assert!(report.prints.iter().any(|p| p.text.starts_with(
        "kernel: error initializing process: process with ID echo:probe:test.os already exists"
    )));
    let results: Vec<(&str, SpawnResult)> = report
        .spawns
        .iter()
        .map(|s| (s.name.as_deref().unwrap_or("?"), s.result))
        .filter(|(name, _)| !name.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(
        results,
        [
            ("ghost", SpawnResult::NoFileAtPath),
            ("echo", SpawnResult::Ok),
            ("capped", SpawnResult::Ok),
            ("Bad_Name", SpawnResult::Trapped)
        ]
    );
    // The capability the spawner does not hold was dropped; the one it
    // holds was passed on.
    let capped = report
        .spawns
        .iter()
        .find(|s| s.name.as_deref() == Some("capped"))
        .unwrap();
    assert_eq!(capped.dropped_capabilities.len(), 1);
    assert_eq!(
        capped.dropped_capabilities[0].capability.issuer,
        "fake.os@http-client:distro:sys"
    );
    let caps: Vec<&str> = report
        .process(&id("capped"))
        .unwrap()
        .capabilities_at_start
        .iter()
        .map(|c| c.issuer.as_str())
        .collect();
    assert!(caps.contains(&"fake.os@timer:distro:sys"));
    assert!(!caps.contains(&"fake.os@http-client:distro:sys"));
    let skipped: Vec<_> = report
        .diagnostics_of(DiagnosticKind::GrantSkipped)
        .collect();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0]
        .message
        .contains("grant of \"messaging\" to nobody:nowhere:x.os skipped"));
    // The unnamed child got a random u64 name and ran.
    let unnamed = report
        .processes
        .iter()
        .find(|p| p.id.process_name.chars().all(|c| c.is_ascii_digit()))
        .expect("the unnamed child");
    assert_eq!(unnamed.parent.clone().unwrap(), spawner.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_seed_gives_the_same_unnamed_child_and_the_report_says_which() {
    let dir = probe_package(&[probe("spawner").requests(&["vfs:distro:sys"])]);
    let unnamed = |report: &host_harness::Report| {
        report
            .processes
            .iter()
            .find(|p| p.id.process_name.chars().all(|c| c.is_ascii_digit()))
            .map(|p| p.id.to_string())
            .expect("the unnamed child")
    };
    let with_seed = |seed| {
        let mut options = RunOptions::new(&dir);
        options.seed = Some(seed);
        options
    };
    let first = run(&with_seed(7)).await.unwrap();
    let again = run(&with_seed(7)).await.unwrap();
    let other = run(&with_seed(8)).await.unwrap();
    assert_eq!(first.seed, 7);
    assert_eq!(unnamed(&first), unnamed(&again));
    assert_ne!(unnamed(&first), unnamed(&other));
    // Without a seed each run draws one, and reports it.
    let a = run(&RunOptions::new(&dir)).await.unwrap();
    let b = run(&RunOptions::new(&dir)).await.unwrap();
    assert_ne!(a.seed, b.seed);
}

#[tokio::test(flavor = "multi_thread")]
async fn timer_answers_after_the_delay_when_granted() {
    let dir = probe_package(&[probe("timer-user").grants(&["timer:distro:sys"])]);
    let report = run_dir(&dir).await;
    assert_eq!(prints_of(&report, &id("timer-user")), ["timer popped"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn timer_answers_are_blocked_without_a_grant() {
    // timer is public, so the request goes through; its answer does not.
    let dir = probe_package(&[probe("timer-user")]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("timer-user")),
        ["timer error Timeout"]
    );
    assert_eq!(
        report.blocked_messages[0].source,
        "fake.os@timer:distro:sys"
    );
    assert_eq!(report.blocked_messages[0].kind, MessageKind::Response);
}

#[tokio::test(flavor = "multi_thread")]
async fn http_client_answers_from_mocks_and_records_requests() {
    let dir = probe_package(&[probe("http-user")
        .requests(&["http-client:distro:sys"])
        .grants(&["http-client:distro:sys"])]);
    let mut options = host_harness::RunOptions::new(&dir);
    options.http_mocks = serde_json::from_str(
        r#"[{"method": "GET", "url": "https://example.com/data", "status": 201, "body": "hello"}]"#,
    )
    .unwrap();
    let report = host_harness::run(&options).await.unwrap();
    assert_eq!(prints_of(&report, &id("http-user")), ["http 201 hello"]);
    assert_eq!(report.http_requests[0].url, "https://example.com/data");
    assert_eq!(report.http_requests[0].status, Some(201));

    // No mock: the error a failed request gets, and a diagnostic.
    let report = run_dir(&dir).await;
    let printed = prints_of(&report, &id("http-user"));
    assert!(
        printed[0].starts_with("http error ExecuteRequestFailed"),
        "{printed:?}"
    );
    let no_mock: Vec<_> = report.diagnostics_of(DiagnosticKind::HttpNoMock).collect();
    assert_eq!(no_mock.len(), 1);
    assert!(no_mock[0]
        .message
        .contains("no mock for GET https://example.com/data"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_with_no_request_to_answer_is_dropped() {
    let report = run_dir(&probe_package(&[probe("stray-responder")])).await;
    assert_eq!(
        prints_of(&report, &id("stray-responder")),
        ["stray response sent"]
    );
    assert!(report.prints.iter().any(|p| p
        .text
        .starts_with("kernel: need non-None prompting_message to handle Response")));
    assert_eq!(
        exit_kind(&report, &id("stray-responder")),
        ExitKind::Returned
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn awaiting_oneself_traps() {
    let report = run_dir(&probe_package(&[probe("self-awaiter")])).await;
    let record = report.process(&id("self-awaiter")).unwrap();
    assert_eq!(record.exit.kind, ExitKind::Trapped);
    assert!(
        record
            .exit
            .detail
            .contains("cannot await a Request to `our`"),
        "{}",
        record.exit.detail
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn save_capabilities_does_not_check_ownership() {
    let dir = probe_package(&[probe("echo"), probe("cap-saver").grants(&[ECHO])]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("cap-saver")),
        ["forged cap works true"]
    );
    assert_eq!(
        report
            .diagnostics_of(DiagnosticKind::UnownedCapabilitySaved)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_busy_running_fills_its_channel_and_that_is_reported() {
    let flooder = id("busy-flooder");
    let dir = probe_package(&[
        probe("busy-reader")
            .requests(&[flooder.as_str()])
            .grants(&[flooder.as_str()]),
        probe("busy-flooder"),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("busy-reader")),
        ["busy reader read 150"]
    );
    let full: Vec<_> = report.diagnostics_of(DiagnosticKind::MailboxFull).collect();
    assert_eq!(full.len(), 1, "{:?}", report.diagnostics);
    assert_eq!(full[0].process.clone().unwrap(), id("busy-reader").as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_arriving_during_send_and_await_do_not_fill_the_channel() {
    // On a node they go to the process's own unbounded queue.
    let answerer = id("flood-answerer");
    let dir = probe_package(&[
        probe("flood-asker")
            .requests(&[answerer.as_str()])
            .grants(&[answerer.as_str()]),
        probe("flood-answerer"),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("flood-asker")),
        ["asker read 150, answered true"]
    );
    assert_eq!(
        report.diagnostics_of(DiagnosticKind::MailboxFull).count(),
        0,
        "{:?}",
        report.diagnostics
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn get_state_restores_the_last_blob_but_has_blob_shows_the_state() {
    let dir = probe_package(&[
        probe("echo"),
        probe("state-blob").requests(&[ECHO]).grants(&[ECHO]),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("state-blob")),
        [
            "get-state Some(\"s\") has_blob true get_blob Some(\"b1\")",
            "after clear None has_blob false get_blob None last Some(\"b1\")",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn set_on_exit_restart_on_a_process_started_without_it_leaves_it_dead() {
    let restarter = id("late-restarter");
    let dir = probe_package(&[
        probe("late-restarter").requests(&[id("late-prober").as_str()]),
        probe("late-prober").requests(&[restarter.as_str(), "vfs:distro:sys"]),
    ]);
    let report = run_dir(&dir).await;
    // Not restarted; messages to it vanish (the sender's own timeout
    // fires); its name cannot be spawned again.
    assert_eq!(prints_of(&report, &restarter), ["late-restarter exits"]);
    assert_eq!(
        prints_of(&report, &id("late-prober")),
        [
            "message to it Err(Timeout)",
            "respawn Err(\"no-file-at-path\")"
        ]
    );
    let record = report.process(&restarter).unwrap();
    assert_eq!(record.restarts, 0);
    assert_eq!(record.on_exit, OnExitKind::Restart);
    assert_eq!(
        report
            .diagnostics_of(DiagnosticKind::RestartImpossible)
            .count(),
        1
    );
    assert!(report
        .check_failures()
        .contains(&format!("{restarter} cannot restart (see diagnostics)")));
}

#[tokio::test(flavor = "multi_thread")]
async fn timer_debug_lists_the_active_timers() {
    let report = run_dir(&probe_package(&[probe("timer-debugger")])).await;
    let timer_lines: Vec<&str> = report
        .prints
        .iter()
        .filter(|p| p.process == "timer:distro:sys" && p.verbosity == 0)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(timer_lines.len(), 2, "{timer_lines:?}");
    assert_eq!(timer_lines[0], "timer service active timers (1):");
    let (pops_at, timers) = timer_lines[1].split_once(": ").unwrap();
    assert!(pops_at.parse::<u128>().is_ok(), "{pops_at}");
    assert!(timers.ends_with(
        ", Address { node: \"fake.os\", process: ProcessId { process_name: \"timer-debugger\", \
         package_name: \"probe\", publisher_node: \"test.os\" } })]"
    ), "{timers}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_timeout_names_the_target_as_written() {
    let listener = id("listener");
    let dir = probe_package(&[
        probe("listener"),
        probe("our-timeout").requests(&[listener.as_str()]),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("our-timeout")),
        ["timeout target node our"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn vfs_echoes_metadata_on_success_only() {
    let dir = probe_package(&[probe("vfs-meta").requests(&["vfs:distro:sys"])]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("vfs-meta")),
        ["found metadata Some(\"m1\")", "missing metadata None"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_to_a_missing_process_times_out_with_a_hint() {
    let report = run_dir(&probe_package(&[probe("misnamed")])).await;
    assert_eq!(
        prints_of(&report, &id("misnamed")),
        ["misnamed Err(Timeout)"]
    );
    let blocked = &report.blocked_messages[0];
    assert_eq!(blocked.target, "fake.os@http_client:distro:sys");
    assert!(blocked
        .reason
        .contains("no process http_client:distro:sys exists"));
    assert!(report.diagnostics.iter().any(|d| d
        .hint
        .as_deref()
        .is_some_and(|h| h.contains("did you mean http-client:distro:sys?"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn other_nodes_need_the_network_capability_and_are_offline() {
    let report = run_dir(&probe_package(&[probe("remote")])).await;
    assert_eq!(prints_of(&report, &id("remote")), ["remote Err(Timeout)"]);
    let loud: Vec<&str> = report
        .prints
        .iter()
        .filter(|p| p.verbosity == 0)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(
        loud[0],
        "event loop: process remote:probe:test.os doesn't have capability to send networked messages"
    );
    assert!(
        loud[1].starts_with("their capabilities: {Capability { issuer: "),
        "{loud:?}"
    );

    let report = run_dir(&probe_package(&[probe("remote").networking()])).await;
    assert_eq!(prints_of(&report, &id("remote")), ["remote Err(Offline)"]);
    assert!(report.blocked_messages[0].reason.contains("other.os"));
}

#[tokio::test(flavor = "multi_thread")]
async fn attached_capabilities_the_sender_does_not_hold_are_dropped() {
    let listener = id("listener");
    let dir = probe_package(&[
        probe("listener"),
        probe("cap-giver").requests(&[listener.as_str()]),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &listener),
        ["listener got gift from cap-giver expecting false caps [\"listener\"]"]
    );
    assert_eq!(
        report
            .diagnostics_of(DiagnosticKind::AttachedCapabilityDropped)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_that_ends_stops_waiting_for_its_responses() {
    let listener = id("listener");
    let dir = probe_package(&[
        probe("listener"),
        probe("early-leaver").requests(&[listener.as_str()]),
    ]);
    let mut options = host_harness::RunOptions::new(&dir);
    options.timeout = std::time::Duration::from_secs(5);
    let report = host_harness::run(&options).await.unwrap();
    assert_eq!(prints_of(&report, &id("early-leaver")), ["leaving"]);
    assert_eq!(
        prints_of(&report, &listener),
        ["listener got answer me from early-leaver expecting true caps []"]
    );
    // Its 10 s timeout died with it: the run ends idle, not at the 5 s
    // run timeout.
    assert_eq!(report.ended, Ended::Idle);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rest_of_the_standard_interface() {
    let dir = probe_package(&[
        probe("echo"),
        probe("api-tour")
            .requests(&[ECHO, "timer:distro:sys"])
            .grants(&[ECHO]),
    ]);
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("api-tour")),
        [
            "on-exit none true",
            "on-exit restart true",
            "state after clear None",
            "holds timer true",
            "holds timer after drop false",
            "got echo:one context Some(\"c1\") has_blob false",
            "got echo:two context Some(\"c2\") has_blob true",
        ]
    );
    assert_eq!(exit_kind(&report, &id("api-tour")), ExitKind::Returned);
}

#[tokio::test(flavor = "multi_thread")]
async fn wasi_is_linked_as_on_a_node() {
    let dir = probe_package(&[probe("wasi-user")]);
    let report = run_dir(&dir).await;
    let prints = prints_of(&report, &id("wasi-user"));
    assert_eq!(prints[0], "tmp read back hi");
    assert_eq!(prints[2], "stdin gave 0 bytes");
    // TEMP_DIR is the tmp drive's path on the host, as on a node.
    let tmp = prints[1].strip_prefix("tmp dir ").unwrap();
    assert!(tmp.ends_with("/vfs/probe:test.os/tmp"), "{tmp}");
    let record = report.process(&id("wasi-user")).unwrap();
    assert_eq!(
        record.stdout, "to stdout\n",
        "kept for the report, never printed"
    );
    assert_eq!(record.exit.kind, ExitKind::Returned);

    // On virtual time, at a path that is the same in every run, so a seed
    // replays what the process does with it; the file is still on the host.
    let mut options = RunOptions::new(&dir);
    options.virtual_time = true;
    let report = host_harness::run(&options).await.unwrap();
    let prints = prints_of(&report, &id("wasi-user"));
    assert_eq!(prints[0], "tmp read back hi");
    assert_eq!(
        prints[1],
        format!("tmp dir /{}/vfs/probe:test.os/tmp", report.node)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_child_whose_parent_returns_at_once_holds_its_link_to_the_parent_in_init_every_run() {
    // F21: on a node the child's init reads its capabilities before the
    // parent's death revokes what the parent issued; the revocation
    // reaches it a moment later. The same on every seed here.
    let dir = probe_package(&[probe("quick-parent").requests(&["vfs:distro:sys"])]);
    for seed in 0..12 {
        let mut options = RunOptions::new(&dir);
        options.virtual_time = true;
        options.seed = Some(seed);
        let report = run(&options).await.unwrap();
        assert_eq!(
            prints_of(&report, &id("quick-child")),
            [
                "holds parent at init true",
                "holds parent after a wait false"
            ],
            "seed {seed}"
        );
    }
    let report = run_dir(&dir).await;
    assert_eq!(
        prints_of(&report, &id("quick-child")),
        [
            "holds parent at init true",
            "holds parent after a wait false"
        ],
        "on real time"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kernel_commands_answer_as_a_nodes_kernel() {
    let dir = probe_package(&[
        probe("inbox"),
        probe("kernel"),
        probe("kernel-prober").requests(&[
            "kernel:distro:sys",
            "vfs:distro:sys",
            "kernel:probe:test.os",
        ]),
    ]);
    let report = run_dir(&dir).await;
    let prints = prints_of(&report, &id("kernel-prober"));
    assert_eq!(
        prints,
        [
            // F8: the SDK's kernel_types parse the answer, with the vfs path
            // the app store gives and the package's wit_version.
            "debug me /probe:test.os/pkg/probe.wasm wit Some(1) on_exit None public false",
            // Runtime modules hold messaging to one another.
            "timer holds vfs messaging Ok(Debug(HasCap(Some(true))))",
            // F5: only what the caller holds passes.
            "initialize made Ok(InitializedProcess)",
            "made holds issued false held true",
            // F7: no component, yet initialized and started.
            "initialize junk Ok(InitializedProcess)",
            "run junk Ok(StartedProcess)",
            // F9: the kernel answered for the process named `kernel`.
            "named kernel answers true",
        ],
        "{:#?}",
        report.prints
    );
    // F10: Booted sends `run` again to the processes already running.
    assert!(prints_of(&report, &id("inbox"))
        .iter()
        .any(|p| p.starts_with("inbox got request run from ") && p.contains("@kernel:distro:sys")));
    // The process named `kernel` never got the prober's message.
    assert!(
        prints_of(&report, &id("kernel"))
            .iter()
            .all(|p| !p.contains("kernel-prober")),
        "{:?}",
        prints_of(&report, &id("kernel"))
    );
    // ... and Shutdown stops the node: the prober never prints again.
    assert_eq!(report.ended, Ended::ShutDown);
    let junk = report.process(&id("junk")).unwrap();
    assert_eq!(junk.exit.kind, ExitKind::NeverRan);
    let kinds: Vec<DiagnosticKind> = report.diagnostics.iter().map(|d| d.kind).collect();
    assert!(
        kinds.contains(&DiagnosticKind::InitialCapabilityDropped),
        "{kinds:?}"
    );
    assert!(kinds.contains(&DiagnosticKind::NamedKernel), "{kinds:?}");
}
