//! `OlmUtility`: SHA-256 and Ed25519 verification.

use core::ffi::{c_char, c_void};

use caudata::primitives::{Ed25519PublicKey, Ed25519Signature};

use crate::abi::{OLM_ERROR, b64, b64_len, decode_in_place, decode_key, guard, read_in, write_out};
use crate::error::{code, string};
use crate::object::{self, UTILITY};

/// libolm's `OlmUtility` (opaque; it lives in memory of `olm_utility_size()` bytes).
#[repr(C)]
pub struct OlmUtility {
    _private: [u8; 0],
}

fn mem(utility: *mut OlmUtility) -> *mut c_void {
    utility.cast()
}

unsafe fn run_on(utility: *mut OlmUtility, run: impl FnOnce() -> Result<usize, u32>) -> usize {
    let fail = |c| {
        // SAFETY: `utility` is null or a utility's memory (the caller's contract).
        unsafe { object::set_error(mem(utility), &UTILITY, c) };
        OLM_ERROR
    };
    guard(|| fail(code::INTERNAL), || run().unwrap_or_else(fail))
}

/// `olm_utility_size`: the bytes an `OlmUtility` needs.
#[unsafe(no_mangle)]
pub extern "C" fn olm_utility_size() -> usize {
    UTILITY.size()
}

/// `olm_utility`: initialises a utility in `memory` (of `olm_utility_size()` bytes).
///
/// # Safety
/// `memory` is null or valid for `olm_utility_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_utility(memory: *mut c_void) -> *mut OlmUtility {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &UTILITY) }.cast()
}

/// `olm_utility_last_error`: libolm's name of the utility's last error.
///
/// # Safety
/// `utility` is null or a utility's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_utility_last_error(utility: *const OlmUtility) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(utility.cast()) })
}

/// `olm_utility_last_error_code`: the utility's last error.
///
/// # Safety
/// `utility` is null or a utility's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_utility_last_error_code(utility: *const OlmUtility) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(utility.cast()) }
}

/// `olm_clear_utility`: resets the utility; returns its size.
///
/// # Safety
/// `utility` is null or a utility's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_utility(utility: *mut OlmUtility) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(mem(utility), &UTILITY) }
}

/// `olm_sha256_length`: 43.
#[unsafe(no_mangle)]
pub extern "C" fn olm_sha256_length(_utility: *const OlmUtility) -> usize {
    b64_len(32)
}

/// `olm_sha256`: base64 of the SHA-256 of `input`.
///
/// # Safety
/// `utility` is null or a utility's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sha256(
    utility: *mut OlmUtility,
    input: *const c_void,
    input_length: usize,
    output: *mut c_void,
    output_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if output_length < b64_len(32) || !crate::abi::writable(output, output_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let data = unsafe { read_in(input, input_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let text = b64(&caudata::hazmat::sha256(&data));
        // SAFETY: as above.
        unsafe { write_out(output, output_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(utility, run) }
}

/// `olm_ed25519_verify`: 0 if `signature` (base64, decoded in place) is `key`'s (43 base64
/// characters) strict Ed25519 signature of `message`, else an error (`BAD_MESSAGE_MAC`).
///
/// # Safety
/// `utility` is null or a utility's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_ed25519_verify(
    utility: *mut OlmUtility,
    key: *const c_void,
    key_length: usize,
    message: *const c_void,
    message_length: usize,
    signature: *mut c_void,
    signature_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if key_length != 43 {
            return Err(code::INVALID_BASE64);
        }
        // SAFETY: the caller's contract.
        let key = unsafe { read_in(key, 43) }.and_then(|k| decode_key(&k)).ok_or(code::INVALID_BASE64)?;
        // SAFETY: as above.
        let sig = unsafe { decode_in_place(signature, signature_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        let sig: [u8; 64] = sig.get(..64).and_then(|s| s.try_into().ok()).ok_or(code::BAD_MESSAGE_MAC)?;
        // SAFETY: as above.
        let msg = unsafe { read_in(message, message_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let key = Ed25519PublicKey::from_bytes(&key).map_err(|_| code::BAD_MESSAGE_MAC)?;
        key.verify(&msg, &Ed25519Signature::from_bytes(sig)).map_err(|_| code::BAD_MESSAGE_MAC)?;
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(utility, run) }
}
