//! The child process: spawned by `parent`, never listed in the manifest.
//!
//! Kinode book, "Spawning and Managing Child Processes", `child.rs`. The only
//! changes are the 1.0 names: world `process-v1` (the book: `process-v0`).

// The SDK and WIT follow the build's flavour, as in `parent`.
#[cfg(feature = "hyperware")]
use hyperware_process_lib as process_lib;
#[cfg(not(feature = "hyperware"))]
use kinode_process_lib as process_lib;
use process_lib::{call_init, println, Address};

#[cfg(not(feature = "hyperware"))]
wit_bindgen::generate!({
    path: "../wit",
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
    println!("this is the child process, wow!");
}
