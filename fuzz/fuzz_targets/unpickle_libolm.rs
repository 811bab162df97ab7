#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::unpickle_libolm`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::unpickle_libolm(data));
