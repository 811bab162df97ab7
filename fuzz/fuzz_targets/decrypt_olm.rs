#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::decrypt_olm`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::decrypt_olm(data));
