#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::spqr`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::spqr(data));
