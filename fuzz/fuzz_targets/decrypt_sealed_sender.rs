#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::decrypt_sealed_sender`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::decrypt_sealed_sender(data));
