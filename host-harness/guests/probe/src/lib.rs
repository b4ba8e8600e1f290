//! One test process for the harness's tests, written with the real SDK.
//! Its process name picks the scenario; each prints what it saw, and the
//! tests read those prints from the report. Names not listed here (e.g. a
//! spawned child with a random name) print their address and return.

// Built against Kinode 1.0's SDK by default, or Hyperware's with the
// `hyperware` feature (`make test-guests` builds both), like the template.
#[cfg(feature = "hyperware")]
use hyperware_process_lib as process_lib;
#[cfg(not(feature = "hyperware"))]
use kinode_process_lib as process_lib;
#[cfg(feature = "hyperware")]
use process_lib::hyperware::process::standard;
#[cfg(not(feature = "hyperware"))]
use process_lib::kinode::process::standard;
use process_lib::{
    await_message, call_init, get_blob, get_state, http, last_blob, println, save_capabilities,
    set_state, spawn, timer, Address, Capability, Message, OnExit, ProcessId, Request, Response,
};

#[cfg(not(feature = "hyperware"))]
wit_bindgen::generate!({
    path: "../../../wit",
    world: "process-v1",
});
#[cfg(feature = "hyperware")]
wit_bindgen_hyperware::generate!({
    path: "../../../wit/hyperware",
    world: "process-v1",
    runtime_path: "wit_bindgen_hyperware::rt",
});

mod hostile;
mod network;
mod web;

call_init!(init);
fn init(our: Address) {
    // kit's tester spawns tests as its own children, with random names.
    if our.package() == "tester" {
        return kit_test(&our);
    }
    match our.process() {
        "echo" => echo(),
        "pinger" => pinger(&our),
        "no-cap-sender" => no_cap_sender(&our),
        "restarter" => restarter(),
        "trapper" => panic!("boom: the trapper process panicked on purpose"),
        "dier" => dier(&our),
        // A process named `kernel` waits as a listener: on a node it never
        // hears a word (the kernel takes what is sent to it).
        "listener" | "kernel" => listener(),
        "spawner" => spawner(&our),
        "timer-user" => timer_user(),
        "sleeper" => sleeper(),
        "http-user" => http_user(),
        "stray-responder" => stray_responder(),
        "self-awaiter" => self_awaiter(&our),
        "cap-saver" => cap_saver(&our),
        "flooder" => flooder(&our),
        "slow-reader" => slow_reader(),
        "misnamed" => misnamed(),
        "remote" => remote(),
        "early-leaver" => early_leaver(our.clone()),
        "cap-giver" => cap_giver(&our),
        "api-tour" => api_tour(&our),
        "wasi-user" => wasi_user(),
        "eth-user" => eth_user(),
        "net-user" => net_user(&our),
        "state-blob" => state_blob(&our),
        "late-restarter" => late_restarter(&our),
        "late-prober" => late_prober(&our),
        "flood-asker" => flood_asker(&our),
        "flood-answerer" => flood_answerer(),
        "busy-reader" => busy_reader(&our),
        "busy-flooder" => busy_flooder(),
        "timer-debugger" => timer_debugger(),
        "our-timeout" => our_timeout(),
        "vfs-meta" => vfs_meta(&our),
        "pkg-lister" => pkg_lister(&our),
        "vfs-tour" => vfs_tour(&our),
        "racer" => racer(&our),
        "kv-user" => kv_user(&our),
        "counter" => counter(&our),
        "sqlite-user" => sqlite_user(&our),
        "commander" => commander(&our),
        "web-server" => web_server(),
        "ws-server" => ws_server(),
        "ws-closer" => web::ws_closer(),
        "web-router" => web::web_router(),
        "empty-binder" => web::empty_binder(),
        name if name.starts_with("spinner") => spin(),
        "spawn-bench" => spawn_bench(&our),
        "hog" => hog(),
        "chatterbox" => {
            let line = "x".repeat(1023);
            for _ in 0..4096 {
                std::println!("{line}");
            }
            println!("wrote 4 MiB to stdout");
        }
        "recurser" => println!("depth {}", recurse(0)),
        "roundtrip-bench" => roundtrip_bench(&our),
        "remote-roundtrip-bench" => remote_roundtrip_bench(&our),
        "relay" => network::relay(&our),
        "inbox" => network::inbox(),
        "ledger" => network::ledger(),
        "clerk" => network::clerk(),
        "quick-parent" => quick_parent(&our),
        "kernel-prober" => kernel_prober(&our),
        "quick-child" => quick_child(&our),
        name if hostile::run(&our, name) => {}
        // Children spawned without a name (random digits) just end.
        name if name.chars().all(|c| c.is_ascii_digit()) => {}
        _ => println!("started as {our}"),
    }
}

/// Spawns `quick-child` and returns at once (on-exit None: killed, and
/// what it issued revoked).
fn quick_parent(our: &Address) {
    let path = format!("{}/pkg/probe.wasm", our.package_id());
    spawn(
        Some("quick-child"),
        &path,
        OnExit::None,
        vec![],
        vec![],
        false,
    )
    .unwrap();
}

/// First thing: does it hold messaging to its parent? Then it waits, and
/// looks again.
fn quick_child(our: &Address) {
    let parent = peer(our, "quick-parent");
    let holds = || {
        process_lib::our_capabilities()
            .iter()
            .any(|c| c.issuer == parent && c.params == "\"messaging\"")
    };
    println!("holds parent at init {}", holds());
    let _ = timer::set_and_await_timer(10);
    println!("holds parent after a wait {}", holds());
}

fn peer(our: &Address, name: &str) -> Address {
    Address::new(
        our.node(),
        ProcessId::new(Some(name), our.package(), our.publisher()),
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Answers every request with `echo:<body>`, passing the request's blob on.
fn echo() {
    loop {
        match await_message() {
            Ok(message) if message.is_request() => {
                let body = text(message.body());
                println!("echo got {body} from {}", message.source());
                if message.source().process() == "kernel" {
                    continue;
                }
                Response::new()
                    .inherit(true)
                    .body(format!("echo:{body}"))
                    .send()
                    .unwrap();
            }
            Ok(_) => println!("echo got a response"),
            Err(e) => println!("echo got an error: {:?}", e.kind()),
        }
    }
}

fn pinger(our: &Address) {
    let echo = peer(our, "echo");
    // send-and-await, with a blob that echo passes back.
    let reply = Request::to(&echo)
        .body("ping")
        .blob_bytes("b1")
        .send_and_await_response(5)
        .unwrap()
        .unwrap();
    println!(
        "reply {} blob {:?}",
        text(reply.body()),
        get_blob().map(|b| text(&b.bytes))
    );
    // A request with a context, answered through receive.
    Request::to(&echo)
        .body("with-context")
        .context("ctx-1")
        .expects_response(5)
        .send()
        .unwrap();
    let response = await_message().unwrap();
    println!(
        "response {} context {:?} blob {:?} last {:?}",
        text(response.body()),
        response.context().map(text),
        get_blob().map(|b| text(&b.bytes)),
        last_blob().map(|b| text(&b.bytes)),
    );
}

fn no_cap_sender(our: &Address) {
    let echo = peer(our, "echo");
    Request::to(&echo).body("quiet").send().unwrap();
    Request::to(&echo)
        .body("loud")
        .context("c")
        .expects_response(30)
        .send()
        .unwrap();
    match await_message() {
        Err(e) => println!(
            "send error {:?} context {:?}",
            e.kind(),
            e.context().map(text)
        ),
        Ok(m) => println!("unexpected message {}", text(m.body())),
    }
}

fn restarter() {
    let count = get_state().map_or(0, |s| s[0]) + 1;
    set_state(&[count]);
    println!("start {count}");
    if count >= 3 {
        OnExit::None.set().unwrap();
    }
}

fn dier(our: &Address) {
    let mut on_exit = OnExit::Requests(vec![]);
    on_exit.add_request(
        Request::to(peer(our, "listener"))
            .body("bye")
            .expects_response(5),
    );
    on_exit.set().unwrap();
    println!("dier exits");
}

fn listener() {
    loop {
        match await_message() {
            Ok(m) => println!(
                "listener got {} from {} expecting {:?} caps {:?}",
                text(m.body()),
                m.source().process(),
                matches!(&m, Message::Request { expects_response, .. } if expects_response.is_some()),
                m.capabilities()
                    .iter()
                    .map(|c| c.issuer().process().to_string())
                    .collect::<Vec<_>>(),
            ),
            Err(e) => println!("listener error {:?}", e.kind()),
        }
    }
}

fn spawner(our: &Address) {
    let path = format!("{}/pkg/probe.wasm", our.package_id());
    let http_client = Capability::new(
        Address::new(our.node(), ("http-client", "distro", "sys")),
        "\"messaging\"",
    );
    let timer = Capability::new(
        Address::new(our.node(), ("timer", "distro", "sys")),
        "\"messaging\"",
    );
    let unnamed = spawn(None, &path, OnExit::None, vec![], vec![], false);
    println!(
        "unnamed {:?}",
        unnamed.map(|id| id.process().chars().all(|c| c.is_ascii_digit()))
    );
    let missing = spawn(
        Some("ghost"),
        &format!("{}/pkg/missing.wasm", our.package_id()),
        OnExit::None,
        vec![],
        vec![],
        false,
    );
    println!("missing {:?}", missing.map_err(|e| e.name()));
    let taken = spawn(Some("echo"), &path, OnExit::None, vec![], vec![], false);
    println!("taken {:?}", taken.map(|id| id.to_string()));
    let echo_id = ProcessId::new(Some("echo"), our.package(), our.publisher());
    let nobody = ProcessId::new(Some("nobody"), "nowhere", "x.os");
    let caps = spawn(
        Some("capped"),
        &path,
        OnExit::None,
        vec![timer, http_client],
        vec![
            (echo_id, "\"messaging\"".into()),
            (nobody, "\"messaging\"".into()),
        ],
        false,
    );
    println!("capped {:?}", caps.map(|id| id.to_string()));
    let bad = spawn(Some("Bad_Name"), &path, OnExit::None, vec![], vec![], false);
    println!("not reached {bad:?}");
}

fn timer_user() {
    match timer::set_and_await_timer(50) {
        Ok(_) => println!("timer popped"),
        Err(e) => println!("timer error {:?}", e.kind()),
    }
}

/// Waits five minutes on a timer and one more in WASI's sleep, then says
/// how long its clock says it slept, the wall-clock time it started, and
/// a number from WASI's random source (through std's hasher seeds).
fn sleeper() {
    use std::hash::{BuildHasher, Hasher};
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let started = std::time::Instant::now();
    timer::set_and_await_timer(300_000).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(60));
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(1);
    println!(
        "slept {} s from wall {wall} random {}",
        started.elapsed().as_secs(),
        hasher.finish()
    );
}

fn http_user() {
    let url = url::Url::parse("https://example.com/data").unwrap();
    match http::client::send_request_await_response(http::Method::GET, url, None, 5, vec![]) {
        Ok(response) => println!(
            "http {} {}",
            response.status().as_u16(),
            text(response.body())
        ),
        Err(e) => println!("http error {e:?}"),
    }
}

fn stray_responder() {
    Response::new().body("nobody asked").send().unwrap();
    println!("stray response sent");
}

fn self_awaiter(our: &Address) {
    let result = Request::to(our).body("me").send_and_await_response(1);
    println!("not reached {:?}", result.is_ok());
}

fn cap_saver(our: &Address) {
    let forged = Capability::new(peer(our, "echo"), "\"messaging\"");
    save_capabilities(&[forged]);
    let reply = Request::to(peer(our, "echo"))
        .body("forged")
        .send_and_await_response(5)
        .unwrap();
    println!("forged cap works {}", reply.is_ok());
}

fn flooder(our: &Address) {
    for i in 0..120 {
        Request::to(peer(our, "slow-reader"))
            .body(format!("{i}"))
            .send()
            .unwrap();
    }
    println!("flooded");
}

fn slow_reader() {
    // Busy for a while (the timer is public; its answer needs our grant).
    let _ = timer::set_and_await_timer(300);
    let mut count = 0;
    while count < 120 {
        if await_message().is_ok() {
            count += 1;
        }
    }
    println!("read {count}");
}

/// The 0.x spelling of a runtime module: no such process on a 1.0 node.
fn misnamed() {
    let sent = Request::to(("our", "http_client", "distro", "sys"))
        .body("hi")
        .send_and_await_response(5)
        .unwrap();
    println!(
        "misnamed {:?}",
        sent.map_err(|e| e.kind().clone()).map(|_| ())
    );
}

fn remote() {
    let sent = Request::to(("other.os", "echo", "probe", "test.os"))
        .body("hi")
        .send_and_await_response(5)
        .unwrap();
    println!(
        "remote {:?}",
        sent.map_err(|e| e.kind().clone()).map(|_| ())
    );
}

/// Leaves while its request still waits for an answer that never comes.
fn early_leaver(our: Address) {
    Request::to(peer(&our, "listener"))
        .body("answer me")
        .expects_response(10)
        .send()
        .unwrap();
    println!("leaving");
}

/// Attaches one capability it holds and one it does not.
fn cap_giver(our: &Address) {
    let listener = peer(our, "listener");
    let held = Capability::new(listener.clone(), "\"messaging\"");
    let not_held = Capability::new(
        Address::new(our.node(), ("http-client", "distro", "sys")),
        "\"messaging\"",
    );
    Request::to(listener)
        .body("gift")
        .capabilities(vec![held, not_held])
        .send()
        .unwrap();
}

/// The standard functions no other scenario calls.
fn api_tour(our: &Address) {
    use crate::standard as wit;

    println!("on-exit none {}", OnExit::get().is_none());
    OnExit::Restart.set().unwrap();
    println!("on-exit restart {}", OnExit::get().is_restart());
    OnExit::None.set().unwrap();

    set_state(b"x");
    wit::clear_state();
    println!("state after clear {:?}", get_state());

    let timer = Capability::new(
        Address::new(our.node(), ("timer", "distro", "sys")),
        "\"messaging\"",
    );
    println!("holds timer {}", wit::our_capabilities().contains(&timer));
    wit::drop_capabilities(std::slice::from_ref(&timer));
    println!(
        "holds timer after drop {}",
        wit::our_capabilities().contains(&timer)
    );

    let echo = peer(our, "echo");
    let request = |body: &str| wit::Request {
        inherit: false,
        expects_response: Some(5),
        body: body.as_bytes().to_vec(),
        metadata: None,
        capabilities: vec![],
    };
    let blob = wit::LazyLoadBlob {
        mime: None,
        bytes: b"blob2".to_vec(),
    };
    wit::send_requests(&[
        (echo.clone(), request("one"), Some(b"c1".to_vec()), None),
        (echo, request("two"), Some(b"c2".to_vec()), Some(blob)),
    ]);
    for _ in 0..2 {
        let m = await_message().unwrap();
        println!(
            "got {} context {:?} has_blob {}",
            text(m.body()),
            m.context().map(text),
            wit::has_blob()
        );
    }
}

/// WASI as a node links it: a writable tmp dir named by TEMP_DIR, stdin
/// closed, stdout not shown.
fn wasi_user() {
    let dir = std::env::var("TEMP_DIR").unwrap();
    let path = format!("{dir}/note.txt");
    std::fs::write(&path, "hi").unwrap();
    println!("tmp read back {}", std::fs::read_to_string(&path).unwrap());
    println!("tmp dir {dir}");
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line).unwrap_or(0);
    println!("stdin gave {read} bytes");
    std::println!("to stdout");
}

/// Asks eth for a block number: the harness has no chain.
fn eth_user() {
    let provider = process_lib::eth::Provider::new(8453, 5);
    println!("block number {:?}", provider.get_block_number());
}

/// Asks net what a lone node knows: its peers, itself, and whether its
/// signature checks out (and a changed message's does not).
fn net_user(our: &Address) {
    use process_lib::net::{NetAction, NetResponse};
    let net = Address::new(our.node(), ("net", "distro", "sys"));
    let ask = |action: &NetAction| {
        let response = Request::to(net.clone())
            .body(rmp_serde::to_vec(action).unwrap())
            .send_and_await_response(5)
            .unwrap()
            .unwrap();
        rmp_serde::from_slice::<NetResponse>(response.body()).unwrap()
    };
    match ask(&NetAction::GetPeers) {
        NetResponse::Peers(peers) => println!("peers {}", peers.len()),
        other => println!("unexpected {other:?}"),
    }
    match ask(&NetAction::GetPeer(our.node().to_string())) {
        NetResponse::Peer(Some(identity)) => println!("peer {}", identity.name),
        other => println!("unexpected {other:?}"),
    }
    let signature = process_lib::net::sign(b"hello".to_vec()).unwrap();
    let length = signature.len();
    let good = process_lib::net::verify(our.clone(), b"hello".to_vec(), signature.clone());
    let bad = process_lib::net::verify(our.clone(), b"hellO".to_vec(), signature);
    println!("signature {length} bytes, verifies {good:?}, changed {bad:?}");
}

/// `get-state` restores the last blob, but has-blob shows the state read.
fn state_blob(our: &Address) {
    use crate::standard as wit;

    Request::to(peer(our, "echo"))
        .body("x")
        .blob_bytes("b1")
        .send_and_await_response(5)
        .unwrap()
        .unwrap();
    set_state(b"s");
    let state = get_state();
    println!(
        "get-state {:?} has_blob {} get_blob {:?}",
        state.map(|s| text(&s)),
        wit::has_blob(),
        get_blob().map(|b| text(&b.bytes))
    );
    wit::clear_state();
    let state = get_state();
    println!(
        "after clear {:?} has_blob {} get_blob {:?} last {:?}",
        state.map(|s| text(&s)),
        wit::has_blob(),
        get_blob().map(|b| text(&b.bytes)),
        last_blob().map(|b| text(&b.bytes))
    );
}

/// Switches to Restart without having started with it, then ends.
fn late_restarter(our: &Address) {
    OnExit::Restart.set().unwrap();
    Request::to(peer(our, "late-prober"))
        .body("done")
        .send()
        .unwrap();
    println!("late-restarter exits");
}

/// After late-restarter ends: a message to it, then a spawn of its name.
fn late_prober(our: &Address) {
    let _ = await_message();
    let sent = Request::to(peer(our, "late-restarter"))
        .body("are you there")
        .send_and_await_response(1)
        .unwrap();
    println!(
        "message to it {:?}",
        sent.map_err(|e| e.kind().clone()).map(|_| ())
    );
    let path = format!("{}/pkg/probe.wasm", our.package_id());
    let again = spawn(
        Some("late-restarter"),
        &path,
        OnExit::None,
        vec![],
        vec![],
        false,
    );
    println!("respawn {:?}", again.map_err(|e| e.name()).map(|_| ()));
}

/// Waits in send-and-await while 150 requests arrive.
fn flood_asker(our: &Address) {
    let answer = Request::to(peer(our, "flood-answerer"))
        .body("flood me")
        .send_and_await_response(30)
        .unwrap();
    let mut count = 0;
    while count < 150 {
        if await_message().is_ok() {
            count += 1;
        }
    }
    println!("asker read {count}, answered {}", answer.is_ok());
}

fn flood_answerer() {
    let asker = await_message().unwrap();
    for i in 0..150 {
        Request::to(asker.source())
            .body(format!("{i}"))
            .send()
            .unwrap();
    }
    Response::new().body("done").send().unwrap();
}

/// Busy (not reading) while 150 requests arrive: a node would stall.
fn busy_reader(our: &Address) {
    let flag = format!("{}/flooded", std::env::var("TEMP_DIR").unwrap());
    Request::to(peer(our, "busy-flooder"))
        .body("go")
        .send()
        .unwrap();
    while std::fs::metadata(&flag).is_err() {}
    let mut count = 0;
    while count < 150 {
        if await_message().is_ok() {
            count += 1;
        }
    }
    println!("busy reader read {count}");
}

fn busy_flooder() {
    let reader = await_message().unwrap();
    for i in 0..150 {
        Request::to(reader.source())
            .body(format!("{i}"))
            .send()
            .unwrap();
    }
    let flag = format!("{}/flooded", std::env::var("TEMP_DIR").unwrap());
    std::fs::write(flag, "").unwrap();
}

/// Sets a timer, then asks timer for its debug listing.
fn timer_debugger() {
    let timer = ("our", "timer", "distro", "sys");
    Request::to(timer)
        .body("{\"SetTimer\":200}")
        .send()
        .unwrap();
    Request::to(timer).body("\"Debug\"").send().unwrap();
}

/// A request to `our@listener` that times out: the error names `our`.
fn our_timeout() {
    let sent = Request::to(("our", "listener", "probe", "test.os"))
        .body("wait")
        .send_and_await_response(1)
        .unwrap();
    match sent {
        Err(e) => println!("timeout target node {}", e.target().node()),
        Ok(_) => println!("answered"),
    }
}

/// vfs echoes metadata on success only.
fn vfs_meta(our: &Address) {
    let package = our.package_id();
    for (label, file) in [("found", "probe.wasm"), ("missing", "missing.wasm")] {
        let body = format!("{{\"path\":\"/{package}/pkg/{file}\",\"action\":\"Read\"}}");
        let answer = Request::to(("our", "vfs", "distro", "sys"))
            .body(body)
            .metadata("m1")
            .send_and_await_response(5)
            .unwrap()
            .unwrap();
        println!("{label} metadata {:?}", answer.metadata());
    }
}

/// What the package's `pkg` drive holds as installed: its entries, and a
/// file of the unpacked `api.zip`.
fn pkg_lister(our: &Address) {
    use process_lib::vfs;
    let drive = format!("/{}/pkg", our.package_id());
    let mut names: Vec<String> = vfs::open_dir(&drive, false, Some(5))
        .unwrap()
        .read()
        .unwrap()
        .into_iter()
        .map(|entry| {
            entry
                .path
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    names.sort();
    println!("pkg holds {}", names.join(" "));
    let api = vfs::open_file(&format!("{drive}/api/hello.wit"), false, Some(5))
        .and_then(|file| file.read_to_string());
    println!("api file {api:?}");
}

/// Every vfs action through the SDK, then the refusals.
/// Two vfs writes to one file, neither awaited before the other is sent:
/// on a node they may be done in either order. Prints which won.
fn racer(our: &Address) {
    use process_lib::vfs::{self, VfsAction, VfsRequest};

    let drive = vfs::create_drive(our.package_id(), "race", None).unwrap();
    let path = format!("{drive}/f.txt");
    vfs::create_file(&path, None).unwrap();
    for content in ["first", "second"] {
        let request = VfsRequest {
            path: path.clone(),
            action: VfsAction::Write,
        };
        Request::to(("our", "vfs", "distro", "sys"))
            .body(serde_json::to_vec(&request).unwrap())
            .blob_bytes(content)
            .expects_response(5)
            .send()
            .unwrap();
    }
    for _ in 0..2 {
        let _ = await_message();
    }
    let file = vfs::open_file(&path, false, None).unwrap();
    println!("racer kept {}", text(&file.read().unwrap()));
}

fn vfs_tour(our: &Address) {
    use process_lib::vfs::{self, SeekFrom, VfsAction};

    let drive = vfs::create_drive(our.package_id(), "data", None).unwrap();
    println!("drive {drive}");
    let path = format!("{drive}/f.txt");
    let mut file = vfs::create_file(&path, None).unwrap();
    file.write_all(b"hello").unwrap();
    println!("seek {:?}", file.seek(SeekFrom::Start(1)));
    println!("read_to_string {:?}", file.read_to_string());
    file.append(b" world").unwrap();
    println!("read {:?}", file.read().map(|b| text(&b)));
    file.seek(SeekFrom::Start(6)).unwrap();
    let mut five = [0u8; 5];
    println!("read_at {:?} {}", file.read_at(&mut five), text(&five));
    let meta = file.metadata().unwrap();
    println!("metadata {:?} {}", meta.file_type, meta.len);
    file.set_len(5).unwrap();
    println!("after set_len {:?}", file.read().map(|b| text(&b)));
    let copy = file.copy(&format!("{drive}/g.txt")).unwrap();
    println!("copy {:?}", copy.read().map(|b| text(&b)));
    Request::to(("our", "vfs", "distro", "sys"))
        .body(
            serde_json::to_vec(&vfs::VfsRequest {
                path: format!("{drive}/g.txt"),
                action: VfsAction::Rename {
                    new_path: format!("{drive}/h.txt"),
                },
            })
            .unwrap(),
        )
        .send_and_await_response(5)
        .unwrap()
        .unwrap();
    let dir = vfs::open_dir(&format!("{drive}/sub/deeper"), true, None).unwrap();
    drop(dir);
    let listing = vfs::open_dir(&drive, false, None).unwrap().read().unwrap();
    let mut names: Vec<String> = listing
        .iter()
        .map(|e| format!("{} {:?}", e.path, e.file_type))
        .collect();
    names.sort();
    println!("read_dir {names:?}");
    vfs::remove_file(&format!("{drive}/h.txt"), None).unwrap();
    println!(
        "removed {:?}",
        vfs::metadata(&format!("{drive}/h.txt"), None).is_err()
    );
    vfs::remove_path(&format!("{drive}/sub/deeper"), None).unwrap();
    println!(
        "sub left {:?}",
        vfs::metadata(&format!("{drive}/sub"), None).map(|m| m.file_type)
    );
    let raw = |path: &str, action: VfsAction| {
        let answer = vfs::vfs_request(path, action)
            .send_and_await_response(5)
            .unwrap()
            .unwrap();
        match vfs::parse_response(answer.body()) {
            Ok(vfs::VfsResponse::Hash(hash)) => {
                format!("Hash starts {:02x}{:02x}", hash[0], hash[1])
            }
            other => format!("{other:?}"),
        }
    };
    let plain_path = format!("{drive}/plain.txt");
    let plain = vfs::File::new(plain_path.clone(), 5);
    plain.write(b"abc").unwrap();
    println!("write {:?}", plain.read().map(|b| text(&b)));
    let mut reopened = vfs::open_file(&plain_path, false, None).unwrap();
    reopened.seek(SeekFrom::Start(1)).unwrap();
    println!("read_to_end {:?}", reopened.read_to_end().map(|b| text(&b)));
    println!("sync_all {:?}", reopened.sync_all());
    println!("len {}", raw(&plain_path, VfsAction::Len));
    println!("hash {}", raw(&plain_path, VfsAction::Hash));
    println!(
        "create_dir {}",
        raw(&format!("{drive}/one"), VfsAction::CreateDir)
    );
    println!(
        "create_dir deep {}",
        raw(&format!("{drive}/one/two/three"), VfsAction::CreateDir)
    );
    println!(
        "remove_dir {:?}",
        vfs::remove_dir(&format!("{drive}/one"), None)
    );
    let away = VfsAction::Rename {
        new_path: "/other:someone.os/data/stolen".into(),
    };
    println!("rename away {}", raw(&plain_path, away));
    // Refusals, in the node's words.
    let other = "/other:someone.os/data/x";
    println!("open other {:?}", vfs::open_file(other, true, None).err());
    println!("read other {:?}", vfs::metadata(other, None).err());
    let stranger = "other:someone.os".parse().unwrap();
    println!(
        "drive other {:?}",
        vfs::create_drive(stranger, "data", None).err()
    );
    println!("escape {:?}", vfs::metadata("/../x", None).err());
    println!(
        "missing {:?}",
        vfs::metadata(&format!("{drive}/nope"), None).err()
    );
}

/// kv through the SDK: set, get, delete, a transaction, another package.
/// A count kept in kv and in its persisted state, bumped at every start:
/// it survives restarts only if both do. Then it waits for messages.
fn counter(our: &Address) {
    use process_lib::kv;

    let db = kv::open::<String, u64>(our.package_id(), "counter", None).unwrap();
    let count = db.get(&"count".to_string()).unwrap_or(0) + 1;
    db.set(&"count".to_string(), &count, None).unwrap();
    let starts = get_state().map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap())) + 1;
    set_state(&starts.to_le_bytes());
    println!("count {count} starts {starts}");
    loop {
        let _ = await_message();
    }
}

fn kv_user(our: &Address) {
    use process_lib::kv;

    let db = kv::open::<String, String>(our.package_id(), "store", None).unwrap();
    db.set(&"a".to_string(), &"1".to_string(), None).unwrap();
    println!("get a {:?}", db.get(&"a".to_string()).ok());
    db.delete(&"a".to_string(), None).unwrap();
    println!(
        "after delete {:?}",
        db.get(&"a".to_string()).map_err(|e| e.to_string())
    );
    let tx = db.begin_tx().unwrap();
    db.set(&"b".to_string(), &"2".to_string(), Some(tx))
        .unwrap();
    println!("before commit {:?}", db.get(&"b".to_string()).is_ok());
    db.commit_tx(tx).unwrap();
    println!("after commit {:?}", db.get(&"b".to_string()).ok());
    let stranger = "other:someone.os".parse().unwrap();
    let other = kv::open::<String, String>(stranger, "store", None);
    println!("open other {:?}", other.err().map(|e| e.to_string()));
}

/// sqlite through the SDK: a table, rows with parameters, a transaction.
fn sqlite_user(our: &Address) {
    use process_lib::sqlite;

    let db = sqlite::open(our.package_id(), "people", None).unwrap();
    db.write(
        "CREATE TABLE person (name TEXT, age INTEGER)".into(),
        vec![],
        None,
    )
    .unwrap();
    db.write(
        "INSERT INTO person VALUES (?1, ?2)".into(),
        vec!["hello".into(), 42.into()],
        None,
    )
    .unwrap();
    let tx = db.begin_tx().unwrap();
    db.write(
        "INSERT INTO person VALUES (?1, ?2)".into(),
        vec!["world".into(), 7.into()],
        Some(tx),
    )
    .unwrap();
    db.commit_tx(tx).unwrap();
    let rows = db
        .read("SELECT * FROM person ORDER BY age".into(), vec![])
        .unwrap();
    println!("rows {}", serde_json::to_string(&rows).unwrap());
    let bad = db.read("DELETE FROM person".into(), vec![]);
    println!("read keyword {:?}", bad.err().map(|e| e.to_string()));
}

/// Kernel commands as the SDK writes them, then a homepage entry.
fn commander(our: &Address) {
    use process_lib::kernel_types::{KernelCommand, KernelResponse};

    let command = |command: KernelCommand| {
        let answer = Request::to(("our", "kernel", "distro", "sys"))
            .body(serde_json::to_vec(&command).unwrap())
            .send_and_await_response(2)
            .unwrap();
        match answer {
            Ok(reply) => format!(
                "{} decodes {}",
                text(reply.body()),
                serde_json::from_slice::<KernelResponse>(reply.body()).is_ok()
            ),
            Err(e) => format!("{:?}", e.kind()),
        }
    };
    let listener = ProcessId::new(Some("listener"), our.package(), our.publisher());
    println!("kill {}", command(KernelCommand::KillProcess(listener)));
    let after = Request::to(peer(our, "listener"))
        .body("still there?")
        .send_and_await_response(5)
        .unwrap();
    println!(
        "after kill {:?}",
        after.map_err(|e| e.kind().clone()).map(|_| ())
    );
    let ghost = ProcessId::new(Some("ghost"), our.package(), our.publisher());
    println!(
        "run ghost {}",
        command(KernelCommand::RunProcess(ghost.clone()))
    );
    println!("kill ghost {}", command(KernelCommand::KillProcess(ghost)));
    process_lib::homepage::add_to_homepage("Probe", None, Some("/"), None);
    // A process made by hand: initialize with the wasm as the blob, then run.
    let path = format!("/{}/pkg/probe.wasm", our.package_id());
    let wasm = process_lib::vfs::File::new(path.clone(), 5).read().unwrap();
    let made = ProcessId::new(Some("made"), our.package(), our.publisher());
    let init = KernelCommand::InitializeProcess {
        id: made.clone(),
        wasm_bytes_handle: path,
        wit_version: Some(1),
        on_exit: process_lib::kernel_types::OnExit::None,
        initial_capabilities: Default::default(),
        public: false,
    };
    let answer = Request::to(("our", "kernel", "distro", "sys"))
        .body(serde_json::to_vec(&init).unwrap())
        .blob_bytes(wasm)
        .send_and_await_response(5)
        .unwrap()
        .unwrap();
    println!("initialize {}", text(answer.body()));
    println!("run made {}", command(KernelCommand::RunProcess(made)));
}

/// Kernel commands where a node's answers are easy to get wrong: `Debug`
/// parsed with the SDK's types, `InitializeProcess` with capabilities the
/// caller issued but does not hold and with bytes that are no component,
/// `Booted`, a message to a process named `kernel`, then `Shutdown`.
fn kernel_prober(our: &Address) {
    use process_lib::kernel_types::{
        Capability as KCap, KernelCommand, KernelPrint, KernelPrintResponse, KernelResponse,
    };
    let kernel = Address::new(our.node(), ("kernel", "distro", "sys"));
    let ask = |to: &Address, command: &KernelCommand, blob: Option<Vec<u8>>| {
        let mut request = Request::to(to.clone()).body(serde_json::to_vec(command).unwrap());
        if let Some(bytes) = blob {
            request = request.blob_bytes(bytes);
        }
        match request.send_and_await_response(5).unwrap() {
            Ok(reply) => serde_json::from_slice::<KernelResponse>(reply.body())
                .map_err(|e| format!("{e} in {}", text(reply.body()))),
            Err(e) => Err(format!("{:?}", e.kind())),
        }
    };
    let debug = |id: &ProcessId| {
        ask(
            &kernel,
            &KernelCommand::Debug(KernelPrint::Process(id.clone())),
            None,
        )
    };
    let me = our.process.clone();
    match debug(&me) {
        Ok(KernelResponse::Debug(KernelPrintResponse::Process(Some(p)))) => println!(
            "debug me {} wit {:?} on_exit {:?} public {}",
            p.wasm_bytes_handle, p.wit_version, p.on_exit, p.public
        ),
        other => println!("debug me {other:?}"),
    }
    let timer = ProcessId::new(Some("timer"), "distro", "sys");
    let vfs_messaging = KCap {
        issuer: Address::new(our.node(), ("vfs", "distro", "sys")),
        params: "\"messaging\"".into(),
    };
    let has = ask(
        &kernel,
        &KernelCommand::Debug(KernelPrint::HasCap {
            on: timer,
            cap: vfs_messaging,
        }),
        None,
    );
    println!("timer holds vfs messaging {has:?}");
    // Issued by us but not held, and held: only the held one passes.
    let issued = KCap {
        issuer: our.clone(),
        params: "\"admin\"".into(),
    };
    let held = KCap {
        issuer: Address::new(our.node(), ("vfs", "distro", "sys")),
        params: "\"messaging\"".into(),
    };
    let path = format!("/{}/pkg/probe.wasm", our.package_id());
    let wasm = process_lib::vfs::File::new(path.clone(), 5).read().unwrap();
    let made = ProcessId::new(Some("made"), our.package(), our.publisher());
    let init = |id: &ProcessId, caps: Vec<KCap>| KernelCommand::InitializeProcess {
        id: id.clone(),
        wasm_bytes_handle: path.clone(),
        wit_version: Some(1),
        on_exit: process_lib::kernel_types::OnExit::None,
        initial_capabilities: caps.into_iter().collect(),
        public: false,
    };
    let answer = ask(
        &kernel,
        &init(&made, vec![issued.clone(), held.clone()]),
        Some(wasm),
    );
    println!("initialize made {answer:?}");
    if let Ok(KernelResponse::Debug(KernelPrintResponse::Process(Some(p)))) = debug(&made) {
        println!(
            "made holds issued {} held {}",
            p.capabilities.contains(&issued),
            p.capabilities.contains(&held)
        );
    }
    // Bytes that are no component: initialized and started all the same.
    let junk = ProcessId::new(Some("junk"), our.package(), our.publisher());
    let answer = ask(&kernel, &init(&junk, vec![]), Some(b"not wasm".to_vec()));
    println!("initialize junk {answer:?}");
    println!(
        "run junk {:?}",
        ask(&kernel, &KernelCommand::RunProcess(junk), None)
    );
    // Booted: every process gets the kernel's `run` again (inbox prints it).
    Request::to(kernel.clone())
        .body(serde_json::to_vec(&KernelCommand::Booted).unwrap())
        .send()
        .unwrap();
    // A process named `kernel` in this package: a node takes what is sent
    // to it as a kernel command.
    let named = peer(our, "kernel");
    let answer = ask(
        &named,
        &KernelCommand::Debug(KernelPrint::Process(me)),
        None,
    );
    println!("named kernel answers {}", answer.is_ok());
    let _ = timer::set_and_await_timer(50);
    Request::to(kernel)
        .body(serde_json::to_vec(&KernelCommand::Shutdown).unwrap())
        .send()
        .unwrap();
    let _ = timer::set_and_await_timer(1000);
    println!("still here after shutdown");
}

/// Binds HTTP paths and answers what comes, describing each request.
/// Binds a WebSocket path (the cookie wanted), greets each channel, echoes
/// text upper-cased, and ends when a channel closes.
fn ws_server() {
    use process_lib::http::server::{
        send_ws_push, HttpServer, HttpServerRequest, WsBindingConfig, WsMessageType,
    };
    let push = |channel_id, text: String| {
        let blob = process_lib::LazyLoadBlob::new(None::<String>, text.into_bytes());
        send_ws_push(channel_id, WsMessageType::Text, blob);
    };
    let mut server = HttpServer::new(5);
    server
        .bind_ws_path("/ws", WsBindingConfig::new(true, false, false))
        .unwrap();
    println!("bound");
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        match HttpServerRequest::from_bytes(message.body()) {
            // Hyperware's adds the client's address (`..`).
            Ok(HttpServerRequest::WebSocketOpen {
                path, channel_id, ..
            }) => {
                println!("open {path}");
                push(channel_id, "hello".into());
            }
            Ok(HttpServerRequest::WebSocketPush {
                channel_id,
                message_type,
            }) => {
                let said = get_blob().map(|b| text(&b.bytes)).unwrap_or_default();
                println!("push {message_type:?} {said}");
                push(channel_id, said.to_uppercase());
            }
            Ok(HttpServerRequest::WebSocketClose(_)) => {
                println!("closed");
                return;
            }
            _ => {}
        }
    }
}

fn web_server() {
    use process_lib::http::server::{
        send_response, HttpBindingConfig, HttpServer, HttpServerRequest,
    };
    use process_lib::http::StatusCode;

    let mut server = HttpServer::new(5);
    let open = HttpBindingConfig::new(false, false, false, None);
    server.bind_http_path("/hello/:name", open.clone()).unwrap();
    server
        .bind_http_path("/secret", HttpBindingConfig::default())
        .unwrap();
    server
        .bind_http_static_path(
            "/static",
            false,
            false,
            Some("text/plain".into()),
            b"static bytes".to_vec(),
        )
        .unwrap();
    println!("bound");
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        let Ok(HttpServerRequest::Http(request)) = HttpServerRequest::from_bytes(message.body())
        else {
            continue;
        };
        let body = get_blob().map(|b| text(&b.bytes)).unwrap_or_default();
        let described = format!(
            "{} {} name={:?} q={:?} body={body}",
            request.method().unwrap(),
            request.bound_path(None),
            request.url_params().get("name"),
            request.query_params().get("q"),
        );
        println!("served {described}");
        let headers = std::collections::HashMap::from([("X-Probe".to_string(), "yes".to_string())]);
        send_response(StatusCode::CREATED, Some(headers), described.into_bytes());
    }
}

/// Computes forever without a host call.
fn spin() {
    let mut x: u64 = 1;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// A kit-style test: answers the tester's `Run` with `Run(Ok)` if echo
/// answers as expected, else with where it failed. On a node whose name
/// starts with `broken` it expects the wrong answer, to fail on purpose.
fn kit_test(our: &Address) {
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        if !message.is_request() {
            continue;
        }
        // kit's `Run`: with several nodes, the echo to ask is the second
        // node's (as kit's chat test asks the other node's chat).
        let run: serde_json::Value = serde_json::from_slice(message.body()).unwrap_or_default();
        let nodes: Vec<String> =
            serde_json::from_value(run["Run"]["input_node_names"].clone()).unwrap_or_default();
        let node = nodes.get(1).map_or(our.node(), String::as_str);
        let bad = our.node().starts_with("broken");
        let wanted = if bad { "echo:pong" } else { "echo:ping" };
        let echo = Address::new(node, ("echo", "probe", "test.os"));
        let answer = Request::to(echo)
            .body("ping")
            .send_and_await_response(5)
            .unwrap();
        let body = match answer {
            Ok(reply) if text(reply.body()) == wanted => {
                serde_json::json!({ "Run": { "Ok": null } })
            }
            _ => serde_json::json!({ "Run": { "Err": {
                "test": "probe_test", "file": file!(), "line": line!(), "column": column!()
            } } }),
        };
        Response::new().body(body.to_string()).send().unwrap();
    }
}

/// Times 1,000 spawns of the template's child (it prints and ends).
fn spawn_bench(our: &Address) {
    let path = format!("{}/pkg/child.wasm", our.package_id());
    let mut micros = Vec::with_capacity(1000);
    let started = std::time::Instant::now();
    for _ in 0..1000 {
        let one = std::time::Instant::now();
        spawn(None, &path, OnExit::None, vec![], vec![], false).unwrap();
        micros.push(one.elapsed().as_micros() as u64);
    }
    let total = started.elapsed().as_micros();
    println!(
        "spawned {total} {}",
        serde_json::to_string(&micros).unwrap()
    );
}

/// Times 1,000 request/response round trips to echo.
fn roundtrip_bench(our: &Address) {
    roundtrips(peer(our, "echo"), "roundtrips");
}

/// The same, to `echo` on node `bench-b.os` (the bench's second node).
fn remote_roundtrip_bench(our: &Address) {
    let echo = Address::new("bench-b.os", ("echo", our.package(), our.publisher()));
    roundtrips(echo, "remote roundtrips");
}

/// Asks `echo` 1,000 times and prints each round trip in microseconds.
fn roundtrips(echo: Address, label: &str) {
    let mut micros = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let one = std::time::Instant::now();
        Request::to(&echo)
            .body("x")
            .send_and_await_response(5)
            .unwrap()
            .unwrap();
        micros.push(one.elapsed().as_micros() as u64);
    }
    println!("{label} {}", serde_json::to_string(&micros).unwrap());
}

/// Allocates (and touches) a mebibyte at a time, forever.
fn hog() {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&kept);
    }
}

/// Recurses until the stack runs out.
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    let frame = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[0]
}
