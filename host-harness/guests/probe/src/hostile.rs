//! What a hostile (or careless) package does to the machine it runs on:
//! each process tries one way out of the node home, or one way to keep the
//! harness busy for ever, and prints what it got. The harness's tests check
//! that it stayed contained and said so.

use super::process_lib::{self, println, save_capabilities, Address, Capability, Request};
use super::text;

/// Runs the hostile behaviour `name` names; false if it names none.
pub fn run(our: &Address, name: &str) -> bool {
    match name {
        "linker" => linker(our),
        "sql-spin" => sql_spin(our),
        "hasher" => hasher(our),
        "attacher" => attacher(our),
        "forger" => forger(our),
        "blob-sender" => blob_sender(our),
        "blob-sink" => blob_sink(),
        "readhuge" => readhuge(our),
        _ => return false,
    }
    true
}

/// A raw request to `module:distro:sys`, awaited; the answer's body (or
/// the error's kind).
fn ask(
    module: &'static str,
    body: serde_json::Value,
    blob: Option<Vec<u8>>,
    seconds: u64,
) -> String {
    let mut request = Request::to(("our", module, "distro", "sys")).body(body.to_string());
    if let Some(bytes) = blob {
        request = request.blob_bytes(bytes);
    }
    match request.send_and_await_response(seconds).unwrap() {
        Ok(answer) => text(answer.body()),
        Err(e) => format!("{:?}", e.kind()),
    }
}

/// A relative symbolic link in its tmp drive (WASI lets it make one),
/// pointing above the node home, then vfs requests through it.
fn linker(our: &Address) {
    let tmp = std::env::var("TEMP_DIR").unwrap();
    // tmp is <home>/vfs/<package>/tmp: four levels up is the home's parent.
    // `soft_link` is the one stable way to make a link on wasm32-wasip1.
    #[allow(deprecated)]
    let made = std::fs::soft_link("../../../..", format!("{tmp}/esc"));
    println!("link {:?}", made.map_err(|e| e.to_string()));
    let through = |rest: &str| format!("/{}/tmp/esc/{rest}", our.package_id());
    let vfs = |path: String, action: serde_json::Value, blob: Option<Vec<u8>>| {
        ask(
            "vfs",
            serde_json::json!({ "path": path, "action": action }),
            blob,
            5,
        )
    };
    println!("read {}", vfs(through("victim.txt"), "Read".into(), None));
    println!(
        "write {}",
        vfs(through("planted.txt"), "Write".into(), Some(b"x".to_vec()))
    );
    println!(
        "remove {}",
        vfs(through("victim"), "RemoveDirAll".into(), None)
    );
}

/// A query that never ends.
fn sql_spin(our: &Address) {
    let db = process_lib::sqlite::open(our.package_id(), "spin", None).unwrap();
    println!("sql-spin sent");
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) \
                   SELECT count(*) FROM c";
    let answer = db.read(endless.into(), vec![]);
    println!("sql-spin answered {:?}", answer.map_err(|e| e.to_string()));
}

/// The hash of a terabyte (sparse) file.
fn hasher(our: &Address) {
    let drive = process_lib::vfs::create_drive(our.package_id(), "big", None).unwrap();
    let path = format!("{drive}/sparse");
    let mut file = process_lib::vfs::create_file(&path, None).unwrap();
    file.set_len(1 << 40).unwrap();
    println!("hasher sent");
    let hash = ask(
        "vfs",
        serde_json::json!({ "path": path, "action": "Hash" }),
        None,
        600,
    );
    println!("hasher answered {hash}");
}

/// sqlite files outside the package's directory of databases.
fn attacher(our: &Address) {
    let db = process_lib::sqlite::open(our.package_id(), "main", None).unwrap();
    let outside = "/tmp/host-harness-probe-attached.db";
    let attach = db.read(format!("ATTACH DATABASE '{outside}' AS a"), vec![]);
    println!("attach {:?}", attach.map_err(|e| e.to_string()));
    let vacuum = db.write(format!("VACUUM INTO '{outside}'"), vec![], None);
    println!("vacuum {:?}", vacuum.map_err(|e| e.to_string()));
    let traversal = serde_json::json!({
        "package_id": { "package_name": "../../../escaped", "publisher_node": "x" },
        "db": "d",
        "action": "Open",
    });
    println!("traversal {}", ask("sqlite", traversal, None, 5));
}

/// Gives itself the kernel's messaging capability and the vfs root (a 1.0
/// node lets it), then asks the kernel for a process whose id climbs out.
fn forger(our: &Address) {
    let node = our.node();
    save_capabilities(&[
        Capability::new(
            Address::new(node, ("kernel", "distro", "sys")),
            "\"messaging\"",
        ),
        Capability::new(
            Address::new(node, ("vfs", "distro", "sys")),
            "{\"root\":true}",
        ),
    ]);
    let path = format!("/{}/pkg/probe.wasm", our.package_id());
    let wasm = process_lib::vfs::File::new(path.clone(), 5).read().unwrap();
    let initialize = serde_json::json!({ "InitializeProcess": {
        "id": format!("../../../../escaped:{}", our.package_id()),
        "wasm_bytes_handle": path,
        "wit_version": 1,
        "on_exit": "None",
        "initial_capabilities": [],
        "public": false,
    }});
    println!("initialize {}", ask("kernel", initialize, Some(wasm), 5));
}

/// 200 MiB in one blob: a node takes it.
fn blob_sender(our: &Address) {
    let sink = Address::new(our.node(), ("blob-sink", our.package(), our.publisher()));
    let answer = Request::to(sink)
        .body("big")
        .blob_bytes(vec![7u8; 200 << 20])
        .send_and_await_response(60)
        .unwrap();
    println!(
        "blob sent {:?}",
        answer.map(|a| text(a.body())).map_err(|e| e.kind().clone())
    );
}

fn blob_sink() {
    let message = process_lib::await_message().unwrap();
    let bytes = process_lib::get_blob().map_or(0, |blob| blob.bytes.len());
    println!("sink got {bytes} bytes");
    process_lib::Response::new()
        .body(bytes.to_string())
        .send()
        .unwrap();
    let _ = message;
}

/// A read of a 3 GiB (sparse) file: more than the harness's host memory
/// limit lets one request take.
fn readhuge(our: &Address) {
    let drive = process_lib::vfs::create_drive(our.package_id(), "big", None).unwrap();
    let path = format!("{drive}/huge");
    let mut file = process_lib::vfs::create_file(&path, None).unwrap();
    file.set_len(3 << 30).unwrap();
    let answer = ask(
        "vfs",
        serde_json::json!({ "path": path, "action": "Read" }),
        None,
        60,
    );
    println!("readhuge answered {answer}");
}
