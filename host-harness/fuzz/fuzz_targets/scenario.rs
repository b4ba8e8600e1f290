//! A scenario file (`tests/*.toml`) from arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| host_harness::fuzz::scenario(data));
