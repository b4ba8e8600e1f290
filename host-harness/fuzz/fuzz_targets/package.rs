//! `metadata.json` and `pkg/manifest.json` from arbitrary bytes: split at
//! the first NUL into the two files.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (metadata, manifest) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"[]"[..]),
    };
    host_harness::fuzz::package(metadata, manifest);
});
