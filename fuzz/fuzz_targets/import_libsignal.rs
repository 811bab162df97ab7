#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::import_libsignal`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| caudata::fuzzing::import_libsignal(data));
