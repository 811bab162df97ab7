#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::interaction_olm`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::interaction_olm(data));
