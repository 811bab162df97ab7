//! caudata-libolm against libolm 3.2.16, call for call, at the C ABI (see
//! fuzz/libolm-differential/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    libolm_differential::run(data);
});
