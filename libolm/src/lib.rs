#![doc = include_str!("../README.md")]
#![deny(clippy::undocumented_unsafe_blocks)]
// The exported functions keep libolm's C names and signatures.
#![allow(non_camel_case_types, clippy::missing_safety_doc, clippy::too_many_arguments)]

mod abi;
mod account;
mod crypto;
mod error;
mod megolm;
mod object;
mod pickle;
mod pk;
mod sas;
mod scan;
mod session;
mod utility;

pub use account::*;
pub use crypto::*;
pub use error::_olm_error_to_string;
pub use megolm::*;
pub use pickle::{_olm_enc_input, _olm_enc_output, _olm_enc_output_length, _olm_enc_output_pos};
pub use pk::*;
pub use sas::*;
pub use session::*;
pub use utility::*;

/// `olm_get_library_version`: libolm's version this library replaces, 3.2.16.
///
/// # Safety
/// Each pointer is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_get_library_version(major: *mut u8, minor: *mut u8, patch: *mut u8) {
    for (p, v) in [(major, 3), (minor, 2), (patch, 16)] {
        if !p.is_null() {
            // SAFETY: non-null and writable by the caller's contract.
            unsafe { p.write(v) };
        }
    }
}

/// `olm_error`: the value every function returns on error, `(size_t)-1`.
#[unsafe(no_mangle)]
pub extern "C" fn olm_error() -> usize {
    abi::OLM_ERROR
}
