#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::interaction_interolm`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::interaction_interolm(data));
