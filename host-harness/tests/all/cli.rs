//! The `host-harness` command: exit codes, the JSON report, and clear
//! errors on bad input.

use std::process::{Command, Output};

use crate::common::*;

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_host-harness"))
        .args(args)
        .output()
        .expect("run host-harness")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn our_package_runs_clean_and_prints_like_a_node() {
    let root = workspace();
    let output = harness(&["run", root.to_str().unwrap()]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
    assert!(
        out.contains("spawn:template.os: this is the child process, wow!\n"),
        "{out}"
    );
    assert!(out.contains("spawned-child-process:spawn:template.os [returned; on_exit None]"));
    assert!(out.contains("fake.os@http-client:distro:sys \"messaging\""));
    assert!(out.ends_with("result: ok\n"), "{out}");
    // Verbosity 0 hides the kernel's debug lines; 2 shows them.
    assert!(!out.contains("spawned a new process"));
    let verbose = stdout(&harness(&["run", root.to_str().unwrap(), "-v", "2"]));
    assert!(
        verbose.contains("spawn:template.os: spawned a new process"),
        "{verbose}"
    );
    assert!(verbose.contains("process fake.os@parent:spawn:template.os returned without error"));
}

#[test]
fn json_report_has_the_documented_fields() {
    let root = workspace();
    let output = harness(&[
        "run",
        root.to_str().unwrap(),
        "--json",
        "-",
        "--node",
        "test.os",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("only JSON on stdout");
    assert_eq!(report["package"], "spawn:template.os");
    assert_eq!(report["node"], "test.os");
    let child = report["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "spawned-child-process:spawn:template.os")
        .unwrap();
    assert_eq!(child["parent"], "parent:spawn:template.os");
    assert_eq!(child["exit"]["kind"], "returned");
    assert_eq!(child["public"], false);
    assert!(child["capabilities_at_start"].as_array().unwrap().contains(
        &serde_json::json!({"issuer": "test.os@http-client:distro:sys", "params": "\"messaging\""})
    ));
    let spawn = &report["spawns"][0];
    assert_eq!(spawn["result"], "ok");
    assert_eq!(spawn["dropped_capabilities"], serde_json::json!([]));
    for field in ["prints", "blocked_messages", "diagnostics", "http_requests"] {
        assert!(report[field].is_array(), "{field}");
    }
}

#[test]
fn a_trapping_process_exits_1() {
    let dir = probe_package(&[probe("trapper")]);
    let output = harness(&["run", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains("trapper:probe:test.os [TRAPPED; on_exit None]"),
        "{out}"
    );
    assert!(
        out.contains("boom: the trapper process panicked on purpose"),
        "{out}"
    );
    assert!(
        out.contains("result: FAILED\n  - trapper:probe:test.os trapped"),
        "{out}"
    );
}

#[test]
fn a_dropped_capability_fails_the_run_with_the_fix() {
    let dir = our_package_with(|m| {
        m[0]["request_capabilities"] = serde_json::json!(["vfs:distro:sys"]);
    });
    let output = harness(&["run", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains("dropped fake.os@http-client:distro:sys \"messaging\""),
        "{out}"
    );
    assert!(
        out.contains("hint: add \"http-client:distro:sys\""),
        "{out}"
    );
}

/// Runs the harness expecting a bad-input exit (2, no panic) and returns
/// what it printed on stderr.
fn input_error(args: &[&str]) -> String {
    let output = harness(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let err = input_error(&["run", "/no/such/dir"]);
    assert_eq!(
        err.lines().next().unwrap(),
        "error: /no/such/dir/metadata.json: cannot read: No such file or directory (os error 2)"
    );

    let dir = our_package_with(|m| m[0]["on_exit"] = serde_json::json!("Never"));
    let err = input_error(&["run", dir.to_str().unwrap()]);
    assert!(
        err.contains("pkg/manifest.json: invalid JSON: unknown variant `Never`"),
        "{err}"
    );

    let dir = our_package_with(|_| {});
    std::fs::remove_file(dir.join("pkg/parent.wasm")).unwrap();
    let err = input_error(&["run", dir.to_str().unwrap()]);
    assert!(err.contains("pkg/parent.wasm: cannot read"), "{err}");

    let dir = our_package_with(|_| {});
    std::fs::write(dir.join("pkg/parent.wasm"), b"not wasm").unwrap();
    let err = input_error(&["run", dir.to_str().unwrap()]);
    assert!(
        err.contains("pkg/parent.wasm: process `parent:spawn:template.os`: not a loadable"),
        "{err}"
    );

    let mocks = dir.join("mocks.json");
    std::fs::write(&mocks, "{}").unwrap();
    let mocks = mocks.to_str().unwrap();
    let err = input_error(&["run", dir.to_str().unwrap(), "--http-mocks", mocks]);
    assert!(
        err.contains("mocks.json: not a list of HTTP mocks"),
        "{err}"
    );

    for timeout in ["0", "-1", "1e20", "NaN"] {
        let err = input_error(&["run", ".", &format!("--timeout={timeout}")]);
        assert!(err.contains("--timeout"), "{err}");
    }

    input_error(&["run", ".", "-v", "9"]);
}

#[test]
fn each_bad_limit_names_its_own_flag() {
    let root = workspace();
    let root = root.to_str().unwrap();
    for (args, wanted) in [
        (
            vec!["--cpu-limit", "nan"],
            "error: --cpu-limit NaN: must be more than 0",
        ),
        (
            vec!["--timeout=-1"],
            "error: --timeout -1: must be more than 0",
        ),
        (
            vec!["--memory-limit", "100000000"],
            "error: --memory-limit 100000000: must be 1 to 4096 MiB",
        ),
        (
            vec!["--host-memory-limit", "0"],
            "error: --host-memory-limit: must be at least 1 MiB",
        ),
        (
            vec!["--node", "a@b"],
            "error: --node: `a@b` is not a node name",
        ),
    ] {
        let mut all = vec!["run", root];
        all.extend(&args);
        let output = harness(&all);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(err.starts_with(wanted), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one message: {err}");
    }
}

#[test]
fn a_blocked_message_fails_run_unless_it_is_allowed() {
    // no-cap-sender messages echo without the capability, and handles the
    // error: nothing traps, yet on a node the package is broken.
    let dir = probe_package(&[probe("echo"), probe("no-cap-sender")]);
    let dir = dir.to_str().unwrap();
    let strict = harness(&["run", dir]);
    let out = stdout(&strict);
    assert_eq!(strict.status.code(), Some(1), "{out}");
    assert!(out.contains("result: FAILED"), "{out}");
    assert!(
        out.contains("from no-cap-sender:probe:test.os to echo:probe:test.os was blocked"),
        "{out}"
    );
    let allowed = harness(&["run", dir, "--allow-blocked"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stdout(&allowed));
    assert!(stdout(&allowed).contains("blocked messages:"));
    // The newcomer's case: a process that may ask kv but never granted it
    // messaging cannot open its database: kv's answer is blocked.
    let kv = probe_package(&[probe("kv-user").requests(&["kv:distro:sys"])]);
    let output = harness(&["run", kv.to_str().unwrap()]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("a response from kv:distro:sys to kv-user:probe:test.os was blocked"),
        "{out}"
    );
    assert!(
        out.contains("add \"kv:distro:sys\" to grant_capabilities"),
        "{out}"
    );
}

#[test]
fn run_with_nodes_reports_every_node_and_what_crossed() {
    let root = workspace();
    let output = harness(&[
        "run",
        root.to_str().unwrap(),
        "--nodes",
        "a.os,b.os",
        "--json",
        "-",
        "--seed",
        "3",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["seed"], 3);
    let nodes = report["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    for (node, name) in nodes.iter().zip(["a.os", "b.os"]) {
        assert_eq!(node["node"], name);
        // Every record names its node.
        for process in node["processes"].as_array().unwrap() {
            assert_eq!(process["node"], name);
        }
        for print in node["prints"].as_array().unwrap() {
            assert_eq!(print["node"], name);
        }
        assert_eq!(node["spawns"][0]["result"], "ok");
    }
    assert_eq!(report["crossings"], serde_json::json!([]));
    // The summary shows each node, then the network.
    let summary = stdout(&harness(&[
        "run",
        root.to_str().unwrap(),
        "--nodes",
        "a.os,b.os",
    ]));
    assert!(summary.contains("[a.os] spawn:template.os: this is the child process, wow!"));
    assert!(summary.contains("== host-harness: spawn:template.os on b.os (kinode-1.0) =="));
    assert!(summary
        .contains("== host-harness: network of 2 nodes ==\nbetween nodes:\n  nothing crossed"));
    // A name twice, or a bad name, is bad input.
    let twice = harness(&["run", root.to_str().unwrap(), "--nodes", "a.os,a.os"]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains("--nodes: node `a.os` is named twice"),
        "{}",
        stderr(&twice)
    );
    let bad = harness(&["run", root.to_str().unwrap(), "--nodes", "a.os,B!"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("`B!` is not a node name"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn kit_suites_write_json_and_junit_too() {
    let root = temp_dir("cli-kit");
    let probe = read_built(&workspace().join("target/test-guests/probe.wasm"));
    for (dir, process, request) in [
        ("probe", "echo", vec![]),
        ("a-test", "a-test", vec!["echo:probe:test.os"]),
    ] {
        let package = dir.strip_suffix("-test").map_or("probe", |_| "a-test");
        std::fs::create_dir_all(root.join(dir).join("pkg")).unwrap();
        std::fs::write(root.join(dir).join(format!("pkg/{process}.wasm")), &probe).unwrap();
        let metadata = serde_json::json!({
            "name": package, "description": "", "image": "", "external_url": "", "animation_url": "",
            "properties": {
                "package_name": package, "publisher": "test.os", "current_version": "0.1.0",
                "mirrors": [], "code_hashes": {}, "wit_version": 1, "dependencies": []
            }
        });
        std::fs::write(root.join(dir).join("metadata.json"), metadata.to_string()).unwrap();
        let manifest = serde_json::json!([{
            "process_name": process, "process_wasm_path": format!("/{process}.wasm"),
            "on_exit": "Restart", "request_networking": true, "request_capabilities": request,
            "grant_capabilities": request, "public": true
        }]);
        std::fs::write(
            root.join(dir).join("pkg/manifest.json"),
            manifest.to_string(),
        )
        .unwrap();
    }
    std::fs::write(
        root.join("tests.toml"),
        "[[tests]]\nsetup_packages = [{ path = \"probe\", run = true }]\n\
         test_package_paths = [\"a-test\"]\ntimeout_secs = 5\n\
         [[tests.nodes]]\nfake_node_name = \"first.dev\"\n\
         [[tests.nodes]]\nfake_node_name = \"second.dev\"\n",
    )
    .unwrap();
    let junit = root.join("junit.xml");
    let output = harness(&[
        "test",
        "--kit",
        root.join("tests.toml").to_str().unwrap(),
        "--json",
        "-",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let results: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(results[0]["name"], "a-test");
    assert_eq!(results[0]["passed"], true);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testcase name=\"a-test (seed "), "{xml}");
    assert!(xml.contains("tests=\"1\" failures=\"0\""), "{xml}");
}
