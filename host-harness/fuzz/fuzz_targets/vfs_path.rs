//! A vfs path from arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| host_harness::fuzz::vfs_path(data));
