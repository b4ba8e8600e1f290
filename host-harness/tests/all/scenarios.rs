//! Scenario files: the template's own checks and the probe package's
//! request/response and HTTP scenarios pass; a failing expectation says
//! what was expected and what happened; JSON and JUnit come out valid.

use crate::common::*;
use host_harness::scenario::{find, run_files, to_json, to_junit, Scenario};

#[tokio::test(flavor = "multi_thread")]
async fn the_templates_scenarios_and_the_probe_packages_pass() {
    let probe_package = workspace().join("host-harness/tests/probe-package");
    std::fs::copy(
        workspace().join("target/test-guests/probe.wasm"),
        probe_package.join("pkg/probe.wasm"),
    )
    .expect("make test-guests builds the probe first");
    for dir in [workspace(), probe_package] {
        let files = find(&dir, None).unwrap();
        assert!(files.len() >= 3, "{files:?}");
        let results = run_files(&dir, &files, 2).await.unwrap();
        for result in &results {
            assert!(result.passed(), "{}: {:?}", result.name, result.failures);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_expectation_says_what_happened_and_reports_validate() {
    let dir = our_package_with(|_| {});
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("tests/wrong.toml"),
        r#"
name = "expects the impossible"
[[step]]
expect = { spawn = { result = "no_file_at_path" }, print = { contains = "never printed" } }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("tests/right.toml"),
        "[[step]]\nexpect = { passes = true }\n",
    )
    .unwrap();
    let files = find(&dir, None).unwrap();
    let results = run_files(&dir, &files, 2).await.unwrap();
    let wrong = results
        .iter()
        .find(|r| r.name == "expects the impossible")
        .unwrap();
    assert_eq!(wrong.failures.len(), 1);
    let failure = &wrong.failures[0];
    assert!(failure.starts_with("step 1: expected a spawn"), "{failure}");
    assert!(
        failure.contains("expected a print containing \"never printed\""),
        "{failure}"
    );
    assert!(
        failure.contains("print [spawned-child-process:spawn:template.os]"),
        "{failure}"
    );
    assert!(results.iter().any(|r| r.name == "right" && r.passed()));

    let json = to_json(&results, true);
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries
        .iter()
        .all(|e| e["passed"].is_boolean() && e["duration_ms"].is_u64()));

    let xml = to_junit(&results, true);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().into_inner() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!((cases, failures), (2, 1));
}

#[test]
fn unknown_fields_are_refused_with_their_name() {
    let err = Scenario::from_toml("[[step]]\nexpect = { spawnn = {} }\n").unwrap_err();
    assert!(err.contains("spawnn"), "{err}");
}

/// Runs one scenario text against the template; its failures.
async fn failures_of(text: &str) -> Vec<String> {
    let scenario = Scenario::from_toml(text).unwrap();
    host_harness::scenario::run_scenario(&our_package_with(|_| {}), &scenario, "t")
        .await
        .failures
}

#[tokio::test(flavor = "multi_thread")]
async fn a_negative_check_on_a_process_that_never_existed_fails() {
    // Each would pass vacuously if the name were not checked against the run.
    for (text, missing) in [
        (
            "[[step]]\nexpect = { holds = { process = \"chlid\", issuer = \"http-client:distro:sys\", not = true } }\n",
            "chlid:spawn:template.os",
        ),
        (
            "[[step]]\nexpect = { holds = { process = \"spawned-child-process\", issuer = \"vfs:distro:sys\", at_start = true, not = true } }\n[[step]]\nexpect = { blocked = { from = \"parnet\", not = true } }\n",
            "parnet:spawn:template.os",
        ),
        (
            "[[step]]\nexpect = { blocked = { to = \"vfs\", not = true } }\n",
            "vfs:spawn:template.os",
        ),
    ] {
        let failures = failures_of(text).await;
        assert_eq!(failures.len(), 1, "{text}: {failures:?}");
        assert!(
            failures[0].contains(&format!("there is no process {missing} in this run")),
            "{failures:?}"
        );
        assert!(failures[0].contains("parent:spawn:template.os"), "lists the processes: {failures:?}");
    }
    // Named rightly, the same checks pass: the short names resolve in the
    // package under test, full ids stand as they are.
    let failures = failures_of(
        "[[step]]\nexpect = { holds = { process = \"spawned-child-process\", issuer = \"vfs:distro:sys\", at_start = true, not = true } }\n\
         [[step]]\nexpect = { blocked = { from = \"parent\", not = true }, exit = { process = \"parent\", kind = \"returned\" } }\n\
         [[step]]\nexpect = { blocked = { to = \"vfs:distro:sys\", not = true } }\n",
    )
    .await;
    assert!(failures.is_empty(), "{failures:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_that_cannot_end_well_fails_at_once() {
    // Both say why they cannot end well (a timeout says "waited 30s").
    let failures = failures_of(
        "timeout = 30\n[[step]]\nwait = { print = \"never printed\", process = \"spawned-child-process\" }\n\
         [[step]]\nwait = { print = \"never printed\" }\n",
    )
    .await;
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures[0].contains("spawned-child-process:spawn:template.os already ended (returned)"),
        "{failures:?}"
    );
    assert!(failures[1].contains("the run is idle"), "{failures:?}");
}

#[tokio::test]
async fn a_scenario_file_with_a_bad_value_is_an_input_error_naming_file_and_step() {
    let dir = our_package_with(|_| {});
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    let file = dir.join("tests/typo.toml");
    std::fs::write(
        &file,
        "[[step]]\nexpect = { passes = true }\n[[step]]\nexpect = { exit = { process = \"parent\", kind = \"returnd\" } }\n",
    )
    .unwrap();
    let err = run_files(&dir, std::slice::from_ref(&file), 1)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: step 2: ", file.display())),
        "{err}"
    );
    assert!(
        err.contains("unknown variant `returnd`, expected one of"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_change_that_breaks_the_package_names_the_package_file_not_a_copy() {
    let failures = failures_of(
        "[[manifest]]\nprocess = \"parent\"\non_exit = { Requests = \"junk\" }\n[[step]]\nexpect = { passes = true }\n",
    )
    .await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = &failures[0];
    assert!(
        failure.starts_with(
            "the package does not install (with the scenario's [[manifest]] changes): pkg/manifest.json: "
        ),
        "{failure}"
    );
    assert!(!failure.contains("host-harness-scenario"), "{failure}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_loop_fails_its_scenario_at_the_cpu_limit_saying_so() {
    let dir = probe_package(&[probe("echo"), probe("spinner")]);
    let scenario = Scenario::from_toml(
        "[[step]]\nsend = { to = \"echo\", body = \"hi\", expects_response = 5 }\n\
         [[step]]\nexpect = { response = \"echo:hi\", passes = true }\n",
    )
    .unwrap();
    let result = host_harness::scenario::run_scenario(&dir, &scenario, "spin").await;
    assert_eq!(result.failures.len(), 1, "{:?}", result.failures);
    let failure = &result.failures[0];
    assert!(
        failure.starts_with(
            "step 2: expected the run to pass; it fails: spinner:probe:test.os trapped"
        ),
        "{failure}"
    );
    assert!(
        failure.contains(
            "spinner:probe:test.os trapped:\n      | cpu_limit: ran for more than 1.000 s"
        ),
        "{failure}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn restarts_keep_state_kv_and_files_as_a_node_reboot_does() {
    // A node reboots only what it persisted: a process with on_exit
    // Restart (one with None is dropped at shutdown; see below).
    let dir = probe_package(&[probe("counter")
        .requests(&["kv:distro:sys"])
        .grants(&["kv:distro:sys"])
        .on_exit("Restart")]);
    let scenario = Scenario::from_toml(
        "[[file]]\npath = \"vfs/probe:test.os/data/kept.txt\"\ncontent = \"still here\"\n\
         [[step]]\nwait = { print = \"count 1 starts 1\", process = \"counter\" }\n\
         [[step]]\nrestart = { process = \"counter\" }\n\
         [[step]]\nwait = { print = \"count 2 starts 2\", process = \"counter\" }\n\
         [[step]]\nrestart = \"node\"\n\
         [[step]]\nwait = { print = \"count 3 starts 3\", process = \"counter\" }\n\
         [[step]]\nexpect = { file = { path = \"vfs/probe:test.os/data/kept.txt\", contains = \"still here\" }, passes = true }\n",
    )
    .unwrap();
    let result = host_harness::scenario::run_scenario(&dir, &scenario, "counter").await;
    assert!(result.failures.is_empty(), "{:?}", result.failures);
    let report = result.report.unwrap();
    // The report is the last boot's: it printed once.
    assert_eq!(
        prints_of(&report, "counter:probe:test.os"),
        ["count 3 starts 3"]
    );
    // A process that is gone cannot be restarted, and that says why.
    let failures = failures_of("[[step]]\nrestart = { process = \"parent\" }\n").await;
    assert!(
        failures[0].contains("parent:spawn:template.os cannot be restarted: it returned"),
        "{failures:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_id_a_step_names_is_checked_against_the_run() {
    for (text, missing) in [
        (
            "[[step]]\nexpect = { holds = { process = \"parent\", issuer = \"http-clinet:distro:sys\", not = true } }\n",
            "http-clinet:distro:sys",
        ),
        (
            "[[step]]\nexpect = { spawn = { parent = \"parnet\" } }\n",
            "parnet:spawn:template.os",
        ),
        (
            "[[step]]\nsend = { to = \"parent\", from = \"ghost\", body = \"x\" }\n",
            "ghost:spawn:template.os",
        ),
        (
            "timeout = 30\n[[step]]\nwait = { exit = \"ghost\" }\n",
            "ghost:spawn:template.os",
        ),
    ] {
        let started = std::time::Instant::now();
        let failures = failures_of(text).await;
        assert_eq!(failures.len(), 1, "{text}: {failures:?}");
        assert!(
            failures[0].contains(&format!("there is no process {missing} in this run")),
            "{failures:?}"
        );
        // At once, not at the timeout.
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_send_fails_at_once_and_a_send_without_answer_clears_the_response() {
    let dir = probe_package(&[probe("echo").on_exit("Restart")]);
    let scenario = Scenario::from_toml(
        "timeout = 30\n\
         [[step]]\nsend = { to = \"ghost\", body = \"x\", expects_response = 20 }\n\
         [[step]]\nsend = { to = \"echo\", body = \"hi\", expects_response = 5 }\n\
         [[step]]\nexpect = { response = \"echo:hi\" }\n\
         [[step]]\nsend = { to = \"echo\", body = \"no answer wanted\" }\n\
         [[step]]\nexpect = { response = \"echo:hi\" }\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let result = host_harness::scenario::run_scenario(&dir, &scenario, "refused").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(result.failures.len(), 2, "{:#?}", result.failures);
    assert!(
        result.failures[0].starts_with("step 1: the request to ghost:probe:test.os got SendError timeout at once: there is no process ghost:probe:test.os"),
        "{}",
        result.failures[0]
    );
    assert!(
        result.failures[1]
            .starts_with("step 5: expected the response to contain \"echo:hi\"; no send got one"),
        "{}",
        result.failures[1]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_that_does_not_settle_names_the_busy_process_and_stops() {
    let dir = probe_package(&[probe("echo"), probe("spinner")]);
    let scenario = Scenario::from_toml(
        "timeout = 1\ncpu_limit = 0\n\
         [[step]]\nsend = { to = \"echo\", body = \"x\" }\n\
         [[step]]\nexpect = { passes = true }\n",
    )
    .unwrap();
    // On real time: on virtual time computing takes no node time, and a
    // process computing without end is stopped by its cpu_limit.
    let settings = host_harness::scenario::Settings {
        real_time: true,
        ..Default::default()
    };
    let result =
        host_harness::scenario::run_scenario_with(&dir, &scenario, "busy", &settings).await;
    assert_eq!(result.failures.len(), 1, "{:#?}", result.failures);
    let failure = &result.failures[0];
    assert!(
        failure.starts_with(
            "step 1: the run did not settle within 1s: spinner:probe:test.os is computing"
        ),
        "{failure}"
    );
    assert!(
        failure.contains("the steps after this one were not run"),
        "{failure}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_sets_the_memory_limit() {
    let dir = probe_package(&[probe("hog")]);
    let scenario = Scenario::from_toml(
        "memory_limit = 16\n[[step]]\nwait = { exit = \"hog\" }\n\
         [[step]]\nexpect = { exit = { process = \"hog\", kind = \"trapped\" } }\n",
    )
    .unwrap();
    let result = host_harness::scenario::run_scenario(&dir, &scenario, "hog").await;
    assert!(result.failures.is_empty(), "{:#?}", result.failures);
    let report = result.report.unwrap();
    let hog = report.process("hog:probe:test.os").unwrap();
    assert_eq!(
        hog.exit.limit,
        Some(host_harness::report::Limit::MemoryLimit)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_and_json_carry_no_colour_even_when_a_process_traps() {
    let dir = probe_package(&[probe("trapper")]);
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("tests/trap.toml"),
        "[[step]]\nexpect = { passes = true }\n",
    )
    .unwrap();
    let files = find(&dir, None).unwrap();
    let results = run_files(&dir, &files, 1).await.unwrap();
    assert!(!results[0].passed());
    let failure = &results[0].failures[0];
    assert!(
        failure.contains("trapper:probe:test.os trapped"),
        "{failure}"
    );
    // The kernel's red "ended with error" line is in the trace, plain.
    assert!(failure.contains("ended with error"), "{failure}");
    let xml = to_junit(&results, true);
    let json = to_json(&results, true).to_string();
    assert!(!xml.contains('\x1b') && !json.contains("\\u001b"), "{xml}");
    assert!(!failure.contains('\x1b'), "{failure}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_requested_capability_never_used_is_noted() {
    let dir = probe_package(&[probe("echo").requests(&["kv:distro:sys"])]);
    let scenario = Scenario::from_toml(
        "[[step]]\nexpect = { diagnostic = \"unused_capability\", passes = true }\n",
    )
    .unwrap();
    // The note comes when the run ends; the report has it.
    let result = host_harness::scenario::run_scenario(&dir, &scenario, "unused").await;
    let report = result.report.unwrap();
    let note = report
        .diagnostics_of(host_harness::report::DiagnosticKind::UnusedCapability)
        .next()
        .expect("an unused_capability note");
    assert_eq!(note.level, host_harness::report::Level::Info);
    assert!(note.message.contains("kv:distro:sys"), "{note:?}");
    assert!(
        report.check_failures().is_empty(),
        "information, not a failure"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scenario_paths_stay_inside_the_home_and_links_do_not_lead_out() {
    // A seed file outside the home is refused before the run.
    let failures = failures_of(
        "[[file]]\npath = \"../outside.txt\"\ncontent = \"x\"\n[[step]]\nexpect = { passes = true }\n",
    )
    .await;
    assert!(
        failures[0].contains("`../outside.txt` must be a path inside the node home"),
        "{failures:?}"
    );
    // expect.file neither climbs nor follows a link out of the home.
    let dir = probe_package(&[probe("echo")]);
    let scenario = Scenario::from_toml(
        "[[step]]\nexpect = { file = { path = \"../../etc/passwd\", contains = \"root\" } }\n",
    )
    .unwrap();
    let result = host_harness::scenario::run_scenario(&dir, &scenario, "climb").await;
    assert!(
        result.failures[0].contains("`../../etc/passwd` must be a path inside the node home"),
        "{:?}",
        result.failures
    );
    // The linker makes `tmp/esc`, a link to the home's parent, which
    // holds the scenario's copy of the package: a check through it must
    // not read what is there.
    let dir = probe_package(&[probe("linker")]);
    let scenario = Scenario::from_toml(
        "[[step]]\nwait = { print = \"remove\", process = \"linker\" }\n\
         [[step]]\nexpect = { file = { path = \"vfs/probe:test.os/tmp/esc/metadata.json\", contains = \"probe\" } }\n",
    )
    .unwrap();
    let result = host_harness::scenario::run_scenario(&dir, &scenario, "link").await;
    assert_eq!(result.failures.len(), 1, "{:?}", result.failures);
    assert!(
        result.failures[0].starts_with(
            "step 2: expected vfs/probe:test.os/tmp/esc/metadata.json to contain \"probe\""
        ),
        "{:?}",
        result.failures
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http_step_sends_an_apps_own_cookie_to_its_secure_subdomain() {
    let http = ["http-server:distro:sys"];
    let dir = probe_package(&[probe("web-router").requests(&http).grants(&http)]);
    let scenario = Scenario::from_toml(
        r#"
[[step]]
wait = { print = "bound", process = "web-router" }
[[step]]
http = { path = "/web-router:probe:test.os/secure", cookie = true, host = "probe-test-os.localhost" }
[[step]]
expect = { http_status = 200, http_body = "<form" }
[[step]]
http = { path = "/web-router:probe:test.os/secure", cookie = "web-router", host = "probe-test-os.localhost" }
[[step]]
expect = { http_status = 200, http_body = "http GET /web-router:probe:test.os/secure" }
[[step]]
http = { path = "/web-router:probe:test.os/secure", cookie = "web-router" }
[[step]]
expect = { http_status = 307 }
"#,
    )
    .unwrap();
    let result = host_harness::scenario::run_scenario(&dir, &scenario, "secure").await;
    assert!(result.failures.is_empty(), "{:?}", result.failures);
}
