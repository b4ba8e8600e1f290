//! The harness's integration tests, in one binary (each test file a
//! module): linking wasmtime once instead of once per file saves most of a
//! warm `make test`'s build. `no_leaks.rs` stays apart: it counts the
//! nodes alive in its process, which other tests running beside it would
//! change.

mod common;

mod cli;
mod containment;
mod faults;
mod flavors;
mod http_server;
mod install;
mod kernel_rules;
mod kit_suites;
mod layers;
mod modules;
mod network;
mod new_package;
mod node_home;
mod our_package;
mod scenarios;
mod simulation;
mod view;
