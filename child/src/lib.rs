//! The child process: spawned by `parent`, never listed in the manifest.
//!
//! Kinode book, "Spawning and Managing Child Processes", `child.rs`. The only
//! changes are the 1.0 names: world `process-v1` (the book: `process-v0`).

use kinode_process_lib::{call_init, println, Address};

wit_bindgen::generate!({
    path: "../wit",
    world: "process-v1",
});

call_init!(init);
fn init(our: Address) {
    println!("{our}: start");
    println!("this is the child process, wow!");
}
