#![no_main]
//! See fuzz/README.md and `caudata::fuzzing::serde_vodozemac`: serde inputs in vodozemac's
//! shapes, read through serde_json and rmp_serde.

use caudata::fuzzing::SerdeFormat;

struct Json;
impl SerdeFormat for Json {
    fn read<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Option<T> {
        serde_json::from_slice(bytes).ok()
    }
    fn write<T: serde::Serialize>(&self, value: &T) -> Option<Vec<u8>> {
        serde_json::to_vec(value).ok()
    }
}

struct MessagePack;
impl SerdeFormat for MessagePack {
    fn read<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Option<T> {
        rmp_serde::from_slice(bytes).ok()
    }
    fn write<T: serde::Serialize>(&self, value: &T) -> Option<Vec<u8>> {
        rmp_serde::to_vec_named(value).ok()
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    caudata::fuzzing::serde_vodozemac(data, &Json, &MessagePack);
});
