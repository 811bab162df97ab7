#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::decode_ecies`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::decode_ecies(data));
