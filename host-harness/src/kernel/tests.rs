//! The kernel's rules on their own: no wasm, no tasks, and time passed in
//! by hand (a fake clock).

use std::time::Duration;

use super::event::{BlockReason, Consequence, Event, Exit, SpawnOutcome};
use super::message::{Delivery, KernelMessage};
use super::*;
use crate::types::{Message, PackageId, Request, Runtime, SendErrorKind, SpawnError};

const KEY: WasmKey = [7; 32];

fn id(name: &str) -> ProcessId {
    ProcessId::new(name, "pkg", "pub.os")
}

fn plan(name: &str, on_exit: OnExit) -> InstallPlan {
    InstallPlan {
        id: id(name),
        wasm_path: format!("/{name}.wasm"),
        wasm: KEY,
        wit_version: Some(1),
        on_exit,
        public: false,
        request_networking: false,
        request_capabilities: vec![(ProcessId::runtime("vfs"), "\"messaging\"".into())],
        grant_capabilities: vec![],
        skipped: vec![],
    }
}

/// A kernel with `names` installed (on-exit None) and its output drained.
fn kernel_with(plans: Vec<InstallPlan>) -> Kernel {
    let mut kernel = Kernel::new("fake.os", Runtime::Kinode, 1);
    for module in ["kernel", "vfs", "state", "timer"] {
        kernel.register_module(ProcessId::runtime(module), module == "timer");
    }
    let package = PackageId::parse("pkg:pub.os").unwrap();
    kernel.install(&package, plans);
    kernel.drain();
    kernel
}

fn request(from: &Address, to: Address, expects: Option<u64>) -> KernelMessage {
    KernelMessage {
        id: 42,
        source: from.clone(),
        target: to,
        rsvp: None,
        message: Message::Request(Request {
            inherit: false,
            expects_response: expects,
            body: b"hi".to_vec(),
            metadata: None,
            capabilities: vec![],
        }),
        blob: None,
    }
}

fn prints(events: &[Event], verbosity: u8) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Print {
                verbosity: v, text, ..
            } if *v == verbosity => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn spawn_request(parent: &str, name: &str) -> SpawnRequest {
    SpawnRequest {
        parent: id(parent),
        name: Some(name.into()),
        wasm_path: "pkg:pub.os/pkg/child.wasm".into(),
        read: Ok(Ok(KEY)),
        on_exit: OnExit::None,
        request_caps: vec![],
        grant_caps: vec![],
        public: false,
    }
}

#[test]
fn restart_backoff_follows_the_kernel_on_a_fake_clock() {
    let mut backoff = Backoff::new(Runtime::Kinode.profile().backoff);
    let at = |secs: f64| Duration::from_secs_f64(secs);
    // Five exits at almost the same moment: at once, then wait until the
    // soonest time, which moves on by 2^attempts seconds each time.
    let waits: Vec<f64> = (0..5)
        .map(|i| {
            backoff
                .next(at(10.0 + f64::from(i) * 0.001))
                .as_secs_f64()
                .round()
        })
        .collect();
    assert_eq!(waits, [0.0, 1.0, 2.0, 4.0, 8.0]);
    // Once the soonest time has passed, the next restart is at once again.
    assert_eq!(backoff.next(at(100.0)), Duration::ZERO);
    assert_eq!(backoff.next(at(100.5)), at(0.5));
}

#[test]
fn a_restarting_process_waits_removed_and_comes_back_with_its_caps() {
    let mut kernel = kernel_with(vec![plan("p", OnExit::Restart), plan("q", OnExit::None)]);
    let p = id("p");
    let caps = kernel.caps_of(&p);
    kernel.ended(
        &p,
        Exit::Returned,
        String::new(),
        String::new(),
        Duration::from_secs(5),
    );
    let (effects, _) = kernel.drain();
    // The first restart is at once.
    assert!(matches!(effects.as_slice(), [Effect::Close(_), Effect::Start(s)] if *s == p));
    kernel.ended(
        &p,
        Exit::Returned,
        String::new(),
        String::new(),
        Duration::from_millis(5_200),
    );
    let (effects, _) = kernel.drain();
    assert!(
        matches!(effects.as_slice(), [Effect::Close(_), Effect::RestartAfter(s, wait)]
            if *s == p && *wait == Duration::from_millis(800))
    );
    // Meanwhile it is gone: a request to it fails at once.
    let q = kernel.address(&id("q"));
    kernel.save_caps(&id("q"), vec![Capability::messaging(kernel.address(&p))]);
    kernel.send(request(&q, kernel.address(&p), Some(5)));
    let (_, events) = kernel.drain();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Blocked {
            reason: BlockReason::Restarting,
            consequence: Consequence::Timeout,
            ..
        }
    )));
    kernel.restart_due(&p);
    let (effects, _) = kernel.drain();
    assert!(matches!(effects.as_slice(), [Effect::Start(s)] if *s == p));
    assert_eq!(kernel.caps_of(&p), caps, "the same capabilities");
}

#[test]
fn a_set_on_exit_command_changes_the_kernels_record_not_the_running_tasks() {
    let mut kernel = kernel_with(vec![
        plan("none", OnExit::None),
        plan("again", OnExit::Restart),
    ]);
    let (none, again) = (id("none"), id("again"));
    kernel.command_set_on_exit(&none, OnExit::Restart);
    kernel.command_set_on_exit(&again, OnExit::None);
    let recorded = |kernel: &Kernel, who: &ProcessId| {
        kernel
            .process_map()
            .into_iter()
            .find(|(id, ..)| id == who)
            .map(|(_, view)| on_exit_name(&view.on_exit))
    };
    assert_eq!(recorded(&kernel, &none), Some("Restart"));
    // The tasks still see, and exit by, their own copies.
    assert_eq!(on_exit_name(&kernel.on_exit(&none)), "None");
    assert_eq!(on_exit_name(&kernel.on_exit(&again)), "Restart");
    for who in [&none, &again] {
        kernel.ended(
            who,
            Exit::Returned,
            String::new(),
            String::new(),
            Duration::ZERO,
        );
    }
    let (effects, events) = kernel.drain();
    assert!(!kernel.exists(&none), "killed by its task's None");
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::RestartImpossible { .. })));
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Start(s) if *s == again)));
    // The restart starts from the task's Restart again.
    assert_eq!(recorded(&kernel, &again), Some("Restart"));
}

#[test]
fn set_on_exit_restart_without_starting_with_it_leaves_a_dead_process() {
    // Fidelity fix 2: no backoff exists for it; the task panics at exit.
    let mut kernel = kernel_with(vec![plan("late", OnExit::None), plan("q", OnExit::None)]);
    let late = id("late");
    kernel.set_on_exit(&late, OnExit::Restart);
    kernel.ended(
        &late,
        Exit::Returned,
        String::new(),
        String::new(),
        Duration::ZERO,
    );
    let (effects, events) = kernel.drain();
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::RestartImpossible { id } if *id == late)));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::Start(_) | Effect::RestartAfter(..))));
    assert!(kernel.exists(&late), "neither restarted nor killed");
    // Messages to it vanish without an error.
    let q = kernel.address(&id("q"));
    kernel.save_caps(&id("q"), vec![Capability::messaging(kernel.address(&late))]);
    kernel.send(request(&q, kernel.address(&late), Some(5)));
    let (effects, events) = kernel.drain();
    assert!(effects.is_empty(), "{effects:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Blocked {
            reason: BlockReason::TargetNotRunning,
            consequence: Consequence::Dropped,
            ..
        }
    )));
    // A later spawn of its name: NoFileAtPath.
    let result = kernel.spawn(spawn_request("q", "late"));
    assert!(matches!(result, Ok(Err(SpawnError::NoFileAtPath))));
}

#[test]
fn revocation_reaches_only_what_went_through_the_oracle() {
    // Fidelity fix 3.
    let mut kernel = kernel_with(vec![
        plan("parent", OnExit::None),
        plan("other", OnExit::None),
    ]);
    let parent = id("parent");
    let from_parent = Capability::new(kernel.address(&parent), "{\"x\":1}");
    let granted = Capability::new(kernel.address(&parent), "{\"y\":2}");
    let mut request = spawn_request("parent", "child");
    request.request_caps = vec![from_parent.clone()];
    let child = kernel.spawn(request).unwrap().unwrap();
    kernel.apply_grants(&parent, &[(child.clone(), "{\"y\":2}".into())]);
    let link = Capability::messaging(kernel.address(&parent));
    assert!(kernel.holds(&child, &link) && kernel.holds(&child, &granted));
    kernel.ended(
        &parent,
        Exit::Returned,
        String::new(),
        String::new(),
        Duration::ZERO,
    );
    // Spawn's request capabilities went in with the child's creation.
    assert!(kernel.holds(&child, &from_parent));
    // The child has not waited yet: on a node its init reads its
    // capabilities before the revocation lands (F21).
    assert!(kernel.holds(&child, &link));
    kernel.settled(&child);
    // The link and the grant were added through the oracle: revoked.
    assert!(!kernel.holds(&child, &link));
    assert!(!kernel.holds(&child, &granted));
}

#[test]
fn a_name_reused_during_the_backoff_wins_and_the_restart_fails() {
    // Fidelity fix 9.
    let mut kernel = kernel_with(vec![plan("p", OnExit::Restart), plan("q", OnExit::None)]);
    let p = id("p");
    for at in [0, 10] {
        kernel.ended(
            &p,
            Exit::Returned,
            String::new(),
            String::new(),
            Duration::from_millis(at),
        );
    }
    kernel.drain();
    // While p waits, q spawns a new process under its name.
    let spawned = kernel.spawn(spawn_request("q", "p"));
    assert_eq!(spawned, Ok(Ok(p.clone())));
    let (effects, _) = kernel.drain();
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Start(s) if *s == p)));
    // The pending restart then fails, and its `run` reaches the new p.
    kernel.restart_due(&p);
    let (effects, events) = kernel.drain();
    assert_eq!(
        prints(&events, 0),
        ["kernel: error initializing process: process with ID p:pkg:pub.os already exists"]
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::RestartFailed { .. })));
    match effects.as_slice() {
        [Effect::Deliver(target, delivery)] => {
            let Delivery::Message(km) = delivery.as_ref() else {
                panic!("{delivery:?}")
            };
            assert_eq!(
                (target, km.request().unwrap().body.as_slice()),
                (&p, &b"run"[..])
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn kernel_vfs_and_state_get_the_loud_line_for_a_missing_target() {
    // Fidelity fix 11: a module answering a process that has ended.
    let mut kernel = kernel_with(vec![]);
    let vfs = kernel.address(&ProcessId::runtime("vfs"));
    let gone = kernel.address(&id("gone"));
    kernel.send(request(&vfs, gone.clone(), None));
    let (_, events) = kernel.drain();
    let loud = prints(&events, 0);
    assert_eq!(loud.len(), 1, "{loud:?}");
    assert!(loud[0].starts_with(
        "event loop: got Request from ProcessId { process_name: \"vfs\", package_name: \"distro\", \
         publisher_node: \"sys\" } for ProcessId { process_name: \"gone\", package_name: \"pkg\", \
         publisher_node: \"pub.os\" }, but target doesn't exist (perhaps it terminated): {\n    id: 42,"
    ), "{}", loud[0]);
    // Any other sender gets the quiet (verbosity 2) line.
    let timer = kernel.address(&ProcessId::runtime("timer"));
    kernel.send(request(&timer, gone, None));
    let (_, events) = kernel.drain();
    assert!(prints(&events, 0).is_empty());
    assert_eq!(
        prints(&events, 2),
        ["event loop: process timer:distro:sys sent message to non-existing gone:pkg:pub.os; dropping message"]
    );
}

#[test]
fn a_network_block_prints_both_lines_and_fails_at_once() {
    // Fidelity fix 12.
    let mut kernel = kernel_with(vec![plan("p", OnExit::None)]);
    let p = kernel.address(&id("p"));
    let remote = Address::new("other.os", id("p"));
    kernel.send(request(&p, remote, Some(5)));
    let (effects, events) = kernel.drain();
    let lines = prints(&events, 0);
    assert_eq!(
        lines[0],
        "event loop: process p:pkg:pub.os doesn't have capability to send networked messages"
    );
    assert!(lines[1].starts_with("their capabilities: {Capability { issuer: Address { node: \"fake.os\", process: ProcessId {"), "{}", lines[1]);
    assert_eq!(lines.len(), 2);
    match effects.as_slice() {
        [Effect::Deliver(_, delivery)] => {
            let Delivery::Failed { error, .. } = delivery.as_ref() else {
                panic!("{delivery:?}")
            };
            assert_eq!(error.kind, SendErrorKind::Timeout);
            assert_eq!(error.target.node, "other.os");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_blocked_request_names_the_real_node_in_its_error() {
    // The kernel's own errors name the node; only the process's local
    // timeout keeps `our` as written (see the probe's `our-timeout`).
    let mut kernel = kernel_with(vec![plan("p", OnExit::None)]);
    let p = kernel.address(&id("p"));
    kernel.send(request(&p, Address::new("our", id("nobody")), Some(5)));
    let (effects, _) = kernel.drain();
    match effects.as_slice() {
        [Effect::Deliver(_, delivery)] => {
            let Delivery::Failed { error, .. } = delivery.as_ref() else {
                panic!("{delivery:?}")
            };
            assert_eq!(error.target.node, "fake.os");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn spawn_outcomes() {
    let mut kernel = kernel_with(vec![plan("p", OnExit::None)]);
    // A failed read: NoFileAtPath, the name never checked.
    let mut bad = spawn_request("p", "Bad_Name");
    bad.read = Err(super::event::NoFileCause::NoBytes);
    assert_eq!(kernel.spawn(bad), Ok(Err(SpawnError::NoFileAtPath)));
    // A bad name traps the caller with the kernel's words.
    let trap = kernel.spawn(spawn_request("p", "Bad_Name")).unwrap_err();
    assert_eq!(
        trap,
        "Process name (Bad_Name) can only contain a-z, 0-9, `-`"
    );
    // Unloadable bytes: spawn says Ok, the child never runs.
    let mut junk = spawn_request("p", "junk");
    junk.read = Ok(Err("not a component".into()));
    assert_eq!(kernel.spawn(junk), Ok(Ok(id("junk"))));
    let (effects, events) = kernel.drain();
    assert!(!effects.iter().any(|e| matches!(e, Effect::Start(_))));
    assert!(events.iter().any(|e| matches!(e, Event::NeverRan { .. })));
    let outcomes: Vec<&SpawnOutcome> = events
        .iter()
        .filter_map(|e| match e {
            Event::Spawn(s) => Some(&s.outcome),
            _ => None,
        })
        .collect();
    assert!(matches!(
        outcomes.as_slice(),
        [
            SpawnOutcome::NoFileAtPath(_),
            SpawnOutcome::Trapped(_),
            SpawnOutcome::Started(_)
        ]
    ));
}

#[test]
fn hyperdrive_backoff_doubles_from_2_s_to_10_minutes_and_resets_after_a_healthy_run() {
    let mut backoff = Backoff::new(Runtime::Hyperdrive.profile().backoff);
    let at = |secs: u64| Duration::from_secs(secs);
    // A process that crashes right after every start: no immediate
    // restart, then 2, 4, 8 ... s, capped at 600 s.
    let mut now = at(10);
    let mut waits = Vec::new();
    for _ in 0..12 {
        backoff.started(now);
        let wait = backoff.next(now);
        waits.push(wait.as_secs());
        now += wait;
    }
    assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]);
    // A run of 5 times the current wait (capped at 50 minutes) is healthy:
    // the next crash restarts at once and the count starts again.
    backoff.started(now);
    now += at(3000);
    assert_eq!(backoff.next(now), Duration::ZERO);
    backoff.started(now);
    assert_eq!(backoff.next(now + at(4)), at(2));
    // Just short of healthy (5 x 2 s) is not.
    backoff.started(now + at(10));
    assert_eq!(backoff.next(now + at(19)), at(4));
}

#[test]
fn invalid_wasm_is_silent_on_kinode_and_named_on_hyperdrive() {
    for (runtime, expected) in [(Runtime::Kinode, false), (Runtime::Hyperdrive, true)] {
        let mut kernel = Kernel::new("fake.os", runtime, 1);
        kernel.register_module(ProcessId::runtime("vfs"), false);
        let package = PackageId::parse("pkg:pub.os").unwrap();
        kernel.install(&package, vec![plan("p", OnExit::None)]);
        kernel.drain();
        let mut junk = spawn_request("p", "junk");
        junk.read = Ok(Err("not a component".into()));
        assert!(
            kernel.spawn(junk).unwrap().is_ok(),
            "the parent's spawn succeeds"
        );
        let (_, events) = kernel.drain();
        let line = "kernel: process junk:pkg:pub.os invalid wasm file: not a component";
        assert_eq!(
            prints(&events, 0).iter().any(|t| t == line),
            expected,
            "{runtime}: {events:?}"
        );
    }
}

#[test]
fn the_kernel_knows_nothing_of_wasmtime_or_tokio() {
    // The rules stay testable without a runtime: keep it that way.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/kernel");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for crate_name in ["tokio", "wasmtime"] {
                assert!(
                    !line.contains(&format!("{crate_name}::")),
                    "{}: uses {crate_name}: {line}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn run_and_kill_commands_on_a_process_that_never_ran() {
    let mut kernel = kernel_with(vec![plan("p", OnExit::None)]);
    let mut junk = spawn_request("p", "junk");
    junk.read = Ok(Err("not a component".into()));
    kernel.spawn(junk).unwrap().unwrap();
    kernel.drain();
    // Its task is gone: RunProcess fails without the "no such process" line.
    assert!(!kernel.run_process(&id("junk")));
    let (_, events) = kernel.drain();
    assert!(prints(&events, 0).is_empty());
    // A node can still kill it (it is in its table).
    assert!(kernel.kill_process(&id("junk"), true, true));
    assert!(!kernel.exists(&id("junk")));
    // An unknown process: no kill, and the kernel's quiet line.
    assert!(!kernel.kill_process(&id("ghost"), true, true));
    let (_, events) = kernel.drain();
    assert_eq!(
        prints(&events, 2).last().unwrap(),
        "kernel: no such process ghost:pkg:pub.os to kill"
    );
}

#[test]
fn only_a_component_for_the_other_runtime_is_marked_so() {
    let mut kernel = kernel_with(vec![plan("a", OnExit::None), plan("b", OnExit::None)]);
    // An instantiation error that merely names the interface (a wrong
    // function type, say) is not a runtime mismatch.
    let error = "component imports instance `kinode:process/standard@1.0.0`, but a matching \
                 implementation was not found in the linker: instance export `our` has the \
                 wrong type";
    kernel.instantiate_failed(&id("a"), error, None);
    kernel.instantiate_failed(&id("b"), error, Some(Runtime::Hyperdrive));
    let (_, events) = kernel.drain();
    let built_for: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::NeverRan { id, built_for, .. } => Some((id.process_name.clone(), *built_for)),
            _ => None,
        })
        .collect();
    assert_eq!(
        built_for,
        [("a".into(), None), ("b".into(), Some(Runtime::Hyperdrive))]
    );
}

#[test]
fn initialize_refuses_an_id_a_node_would_not_take() {
    let mut kernel = kernel_with(vec![plan("maker", OnExit::None)]);
    let initialize = |id: &str| Initialize {
        source: ProcessId::runtime("kernel"),
        id: ProcessId::parse(id).unwrap(),
        wasm_path: "/x.wasm".into(),
        wit_version: Some(1),
        wasm: Some(Ok(KEY)),
        on_exit: OnExit::None,
        capabilities: vec![],
        public: false,
    };
    assert!(!kernel.initialize(initialize("../../../x:pkg:pub.os")));
    assert!(!kernel.initialize(initialize("x:pkg:pub/os")));
    let (_, events) = kernel.drain();
    assert_eq!(
        prints(&events, 0),
        [
            "kernel: Process name (../../../x) can only contain a-z, 0-9, `-`",
            "kernel: Publisher node (pub/os) can only contain a-z, 0-9, `-`, `.`"
        ]
    );
    assert!(!kernel.exists(&ProcessId::parse("../../../x:pkg:pub.os").unwrap()));
    assert!(kernel.initialize(initialize("fine:pkg:pub.os")));
}

#[test]
fn what_a_manifest_requests_is_revoked_with_its_issuer_as_the_app_store_grants_it() {
    // F2: the app store creates each process holding only messaging to
    // itself and grants what it requests afterwards, through the oracle.
    let mut holder = plan("holder", OnExit::None);
    holder.request_capabilities = vec![
        (id("issuer"), "\"messaging\"".into()),
        (id("issuer"), "{\"admin\":true}".into()),
    ];
    let mut kernel = kernel_with(vec![plan("issuer", OnExit::None), holder]);
    let issuer = kernel.address(&id("issuer"));
    let messaging = Capability::messaging(issuer.clone());
    let admin = Capability::new(issuer, "{\"admin\":true}");
    assert!(kernel.holds(&id("holder"), &messaging) && kernel.holds(&id("holder"), &admin));
    kernel.ended(
        &id("issuer"),
        Exit::Returned,
        String::new(),
        String::new(),
        Duration::ZERO,
    );
    assert!(!kernel.holds(&id("holder"), &messaging));
    assert!(!kernel.holds(&id("holder"), &admin));
    // Its messaging to itself came with its creation, as on a node.
    let own = Capability::messaging(kernel.address(&id("holder")));
    assert!(kernel.holds(&id("holder"), &own));
}

#[test]
fn an_entry_listed_twice_replaces_the_first_and_is_run_twice() {
    let mut first = plan("p", OnExit::None);
    first.grant_capabilities = vec![(id("other"), "\"first\"".into())];
    let mut second = plan("p", OnExit::Restart);
    second.wasm_path = "/second.wasm".into();
    second.grant_capabilities = vec![(id("other"), "\"second\"".into())];
    let mut kernel = Kernel::new("fake.os", Runtime::Kinode, 1);
    kernel.register_module(ProcessId::runtime("vfs"), false);
    let package = PackageId::parse("pkg:pub.os").unwrap();
    kernel.install(&package, vec![plan("other", OnExit::None), first, second]);
    let (effects, events) = kernel.drain();
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::ListedTwice { id: twice } if *twice == id("p"))));
    assert!(matches!(kernel.on_exit(&id("p")), OnExit::Restart));
    // Both entries' grants land (issued by the one process p).
    let p = kernel.address(&id("p"));
    for params in ["\"first\"", "\"second\""] {
        assert!(kernel.holds(&id("other"), &Capability::new(p.clone(), params)));
    }
    // Run twice: started, then the kernel's `run` as a message.
    let starts = effects
        .iter()
        .filter(|e| matches!(e, Effect::Start(started) if *started == id("p")))
        .count();
    let runs = effects
        .iter()
        .filter(|e| matches!(e, Effect::Deliver(to, _) if *to == id("p")))
        .count();
    assert_eq!((starts, runs), (1, 1), "{effects:?}");
}

#[test]
fn skipped_manifest_entries_print_the_app_stores_line_and_are_diagnosed() {
    let mut p = plan("p", OnExit::None);
    p.skipped = vec![
        SkippedEntry {
            field: "grant_capabilities[0]".into(),
            grant: true,
            entry: "\"nope\"".into(),
            reason: "not an id".into(),
            printed: Some("p:pkg:pub.os manifest tried to grant invalid cap: \"nope\"".into()),
        },
        SkippedEntry {
            field: "request_capabilities[0]".into(),
            grant: false,
            entry: "{\"process\":\"X:y:z\"}".into(),
            reason: "not an id".into(),
            printed: None,
        },
    ];
    let mut kernel = Kernel::new("fake.os", Runtime::Kinode, 1);
    kernel.register_module(ProcessId::runtime("vfs"), false);
    let package = PackageId::parse("pkg:pub.os").unwrap();
    kernel.install(&package, vec![p]);
    let (_, events) = kernel.drain();
    let printed: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Print { source, text, .. } => Some((source.to_string(), text.clone())),
            _ => None,
        })
        .collect();
    assert!(printed.contains(&(
        "main:app-store:sys".into(),
        "p:pkg:pub.os manifest tried to grant invalid cap: \"nope\"".into()
    )));
    let skipped = events
        .iter()
        .filter(|e| matches!(e, Event::ManifestEntrySkipped { .. }))
        .count();
    assert_eq!(skipped, 2);
}
