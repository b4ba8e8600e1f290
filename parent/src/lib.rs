//! The parent process: spawns `spawned-child-process` and hands it the one
//! capability it needs, messaging `http-client:distro:sys`.
//!
//! This is the Kinode book's `parent.rs` ("Spawning and Managing Child
//! Processes") made to compile and run on a 1.0 node. Each `// book:` line
//! says what the book wrote and why ours differs.

// Kinode 1.0's SDK by default; Hyperware's with the `hyperware` feature
// (`make build FLAVOR=hyperware`). Same API, same WIT, two package names.
#[cfg(feature = "hyperware")]
use hyperware_process_lib as process_lib;
#[cfg(not(feature = "hyperware"))]
use kinode_process_lib as process_lib;
use process_lib::{call_init, println, spawn, Address, Capability, OnExit};

#[cfg(not(feature = "hyperware"))]
wit_bindgen::generate!({
    path: "../wit",
    // book: `world: "process-v0"`. 1.0 nodes run `process-v1`.
    world: "process-v1",
});
#[cfg(feature = "hyperware")]
wit_bindgen_hyperware::generate!({
    path: "../wit/hyperware",
    world: "process-v1",
    runtime_path: "wit_bindgen_hyperware::rt",
});
#[cfg(all(feature = "kinode", feature = "hyperware"))]
compile_error!(
    "one SDK per build: `kinode` (the default) or `--no-default-features --features hyperware`"
);
#[cfg(not(any(feature = "kinode", feature = "hyperware")))]
compile_error!("pick an SDK: the `kinode` feature (the default) or `hyperware`");

call_init!(init);
fn init(our: Address) {
    println!("{our}: start");

    // The capability to message the HTTP client. The parent holds it because
    // pkg/manifest.json requests it; spawn passes on only what the caller
    // holds and silently drops the rest.
    // book: `Capability { issuer: Address::new(&our.node, ("http_client",
    // "distro", "sys")), params: "\"messaging\"".to_string() }`. 1.0 spells
    // the module `http-client`, and its fields are private: use `new`.
    let http_client = Capability::new(
        Address::new(our.node(), ("http-client", "distro", "sys")),
        "\"messaging\"",
    );

    match spawn(
        // The child's name; `None` picks a random number.
        // book: `Some("spawned_child_process")`. 1.0 names allow only
        // `a-z`, `0-9` and `-`: an underscore traps the parent.
        Some("spawned-child-process"),
        // The child's wasm, in this package's `pkg` drive
        // (`<package>:<publisher>/pkg/child.wasm`). The kernel reads it through
        // vfs as this process, which is why the manifest requests `vfs:distro:sys`.
        &format!("{}/pkg/child.wasm", our.package_id()),
        // What the kernel does when the child's `init` returns: nothing.
        OnExit::None,
        // Capabilities the child starts with, besides messaging itself and
        // messaging its parent.
        vec![http_client],
        // Capabilities the child issues to other processes: none.
        // book: `vec![ProcessId::from_str("tester:tester:sys").unwrap()]`,
        // a `Vec<ProcessId>`; 1.0 takes `(ProcessId, params)` pairs, and
        // `from_str` pulls a regex engine into the wasm (~800 KB).
        vec![],
        // Not public: only holders of a messaging capability reach it.
        false,
    ) {
        Ok(child) => println!("spawned {child}"),
        Err(e) => println!("couldn't spawn the child: {e}"),
    }
}
