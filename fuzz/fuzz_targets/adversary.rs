#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::adversary`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::adversary(data));
