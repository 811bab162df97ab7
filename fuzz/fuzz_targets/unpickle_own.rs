#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::unpickle_own`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::unpickle_own(data));
