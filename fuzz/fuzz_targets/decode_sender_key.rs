#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::decode_sender_key`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::decode_sender_key(data));
