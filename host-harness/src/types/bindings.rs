//! Host bindings of `wit/kinode.wit`, world `process-v1`.
//!
//! The generated types (`Address`, `Request`, `Capability`, ...) are the
//! kernel's own message types too: one set of types from the guest's call to
//! the report, no conversions. `ids.rs` and `capability.rs` add the parsing,
//! printing and equality the kernel needs.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "process-v1",
    // `receive` and `send-and-await-response` wait for messages, and a host
    // error (a bad spawn name, awaiting oneself) traps the caller, as in the
    // Kinode kernel.
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use kinode::process::standard::*;
