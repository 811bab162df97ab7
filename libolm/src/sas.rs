//! sas.h: `OlmSAS`, short authentication strings.
//!
//! The state is the 32-byte ephemeral secret and, once set, the other side's key; the shared
//! secret is recomputed by caudata for each call that needs it.

use core::ffi::{c_char, c_int, c_void};

use caudata::primitives::Curve25519PublicKey;
use caudata::sas::{EstablishedSas, Sas};

use crate::abi::{CallerRandom, OLM_ERROR, b64, b64_len, guard, read_in, write_out};
use crate::error::{code, string};
use crate::object::{self, SAS};

/// libolm's `OlmSAS` (opaque; `olm_sas_size()` bytes).
#[repr(C)]
pub struct OlmSAS {
    _private: [u8; 0],
}

const THEIR_KEY_SET: u32 = 1;

unsafe fn run_on(sas: *mut OlmSAS, run: impl FnOnce() -> Result<usize, u32>) -> usize {
    let fail = |c| {
        // SAFETY: `sas` is null or a SAS's memory (the caller's contract).
        unsafe { object::set_error(sas.cast(), &SAS, c) };
        OLM_ERROR
    };
    guard(|| fail(code::INTERNAL), || run().unwrap_or_else(fail))
}

/// Our ephemeral key, rebuilt from the stored secret.
unsafe fn ours(sas: *const OlmSAS) -> Option<Sas> {
    // SAFETY: forwarded contract.
    let state = unsafe { object::state(sas.cast(), &SAS) }?;
    let secret = state.get(..32)?;
    Some(Sas::new_with_rng(&mut CallerRandom::new(secret)))
}

/// The established SAS, or libolm's error for a missing key.
unsafe fn established(sas: *const OlmSAS) -> Result<EstablishedSas, u32> {
    // SAFETY: forwarded contract.
    if unsafe { object::flags(sas.cast(), &SAS) } & THEIR_KEY_SET == 0 {
        return Err(code::SAS_THEIR_KEY_NOT_SET);
    }
    // SAFETY: forwarded contract.
    let state = unsafe { object::state(sas.cast(), &SAS) }.ok_or(code::SAS_THEIR_KEY_NOT_SET)?;
    let theirs: [u8; 32] = state.get(32..64).and_then(|k| k.try_into().ok()).ok_or(code::SAS_THEIR_KEY_NOT_SET)?;
    let secret = state.get(..32).ok_or(code::SAS_THEIR_KEY_NOT_SET)?;
    Sas::new_with_rng(&mut CallerRandom::new(secret))
        .diffie_hellman(Curve25519PublicKey::from_bytes(theirs))
        .map_err(|_| code::NON_CONTRIBUTORY)
}

/// `olm_sas_last_error`.
///
/// # Safety
/// `sas` is null or a SAS's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_last_error(sas: *const OlmSAS) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(sas.cast()) })
}

/// `olm_sas_last_error_code`.
///
/// # Safety
/// `sas` is null or a SAS's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_last_error_code(sas: *const OlmSAS) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(sas.cast()) }
}

/// `olm_sas_size`.
#[unsafe(no_mangle)]
pub extern "C" fn olm_sas_size() -> usize {
    SAS.size()
}

/// `olm_sas`: initialises a SAS in `memory`.
///
/// # Safety
/// `memory` is null or valid for `olm_sas_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas(memory: *mut c_void) -> *mut OlmSAS {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &SAS) }.cast()
}

/// `olm_clear_sas`: wipes the SAS; returns its size.
///
/// # Safety
/// `sas` is null or a SAS's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_sas(sas: *mut OlmSAS) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(sas.cast(), &SAS) }
}

/// `olm_create_sas_random_length`: 32.
#[unsafe(no_mangle)]
pub extern "C" fn olm_create_sas_random_length(_sas: *const OlmSAS) -> usize {
    32
}

/// `olm_create_sas`: a new ephemeral key from 32 random bytes (the other side's key is unset).
///
/// # Safety
/// `sas` is null or a SAS's memory; `random` is valid for `random_length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_create_sas(sas: *mut OlmSAS, random: *mut c_void, random_length: usize) -> usize {
    let run = || -> Result<usize, u32> {
        if random_length < 32 {
            return Err(code::NOT_ENOUGH_RANDOM);
        }
        // SAFETY: the caller's contract.
        let secret = unsafe { read_in(random, 32) }.ok_or(code::NOT_ENOUGH_RANDOM)?;
        // SAFETY: as above.
        if !unsafe { object::set_state(sas.cast(), &SAS, &secret) } {
            return Err(code::INTERNAL);
        }
        // SAFETY: as above.
        unsafe { object::set_flags(sas.cast(), &SAS, 0) };
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(sas, run) }
}

/// `olm_sas_pubkey_length`: 43.
#[unsafe(no_mangle)]
pub extern "C" fn olm_sas_pubkey_length(_sas: *const OlmSAS) -> usize {
    b64_len(32)
}

/// `olm_sas_get_pubkey`: our ephemeral public key in base64.
///
/// # Safety
/// `sas` is null or a SAS's memory; the buffer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_get_pubkey(sas: *mut OlmSAS, pubkey: *mut c_void, pubkey_length: usize) -> usize {
    let run = || -> Result<usize, u32> {
        if pubkey_length < b64_len(32) || !crate::abi::writable(pubkey, pubkey_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let key = unsafe { ours(sas) }.ok_or(code::UNINITIALISED)?.public_key().to_base64();
        // SAFETY: as above; the length was checked.
        unsafe { write_out(pubkey, pubkey_length, key.as_bytes()) };
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(sas, run) }
}

/// `olm_sas_set_their_key`: the other side's public key (base64, decoded in place).
///
/// # Safety
/// `sas` is null or a SAS's memory; the buffer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_set_their_key(
    sas: *mut OlmSAS,
    their_key: *mut c_void,
    their_key_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if their_key_length < b64_len(32) {
            return Err(code::INPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let raw = unsafe { crate::abi::decode_in_place(their_key, their_key_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        let theirs: [u8; 32] = raw.get(..32).and_then(|k| k.try_into().ok()).ok_or(code::INVALID_BASE64)?;
        // SAFETY: as above.
        let ours = unsafe { ours(sas) }.ok_or(code::UNINITIALISED)?;
        ours.diffie_hellman_keeping_key(Curve25519PublicKey::from_bytes(theirs)).map_err(|_| code::NON_CONTRIBUTORY)?;
        // SAFETY: as above.
        let mut state = unsafe { object::state(sas.cast(), &SAS) }.ok_or(code::UNINITIALISED)?;
        state.truncate(32);
        state.extend_from_slice(&theirs);
        // SAFETY: as above.
        if !unsafe { object::set_state(sas.cast(), &SAS, &state) } {
            return Err(code::INTERNAL);
        }
        // SAFETY: as above.
        unsafe { object::set_flags(sas.cast(), &SAS, THEIR_KEY_SET) };
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(sas, run) }
}

/// `olm_sas_is_their_key_set`: 1 once `olm_sas_set_their_key` succeeded.
///
/// # Safety
/// `sas` is null or a SAS's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_is_their_key_set(sas: *const OlmSAS) -> c_int {
    // SAFETY: the caller's contract.
    c_int::from(unsafe { object::flags(sas.cast(), &SAS) } & THEIR_KEY_SET != 0)
}

/// `olm_sas_generate_bytes`: `output_length` bytes of HKDF of the shared secret under `info`.
///
/// # Safety
/// `sas` is null or a SAS's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_generate_bytes(
    sas: *mut OlmSAS,
    info: *const c_void,
    info_length: usize,
    output: *mut c_void,
    output_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        // SAFETY: the caller's contract.
        let e = unsafe { established(sas) }?;
        // SAFETY: as above.
        let info = unsafe { read_in(info, info_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        if !crate::abi::writable(output, output_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        let bytes = e.bytes_raw(&info[..], output_length).map_err(|_| code::OUTPUT_BUFFER_TOO_SMALL)?;
        // SAFETY: as above; `bytes` has `output_length` bytes.
        unsafe { write_out(output, output_length, &bytes) };
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(sas, run) }
}

/// `olm_sas_mac_length`: 43.
#[unsafe(no_mangle)]
pub extern "C" fn olm_sas_mac_length(_sas: *const OlmSAS) -> usize {
    b64_len(32)
}

#[derive(Clone, Copy)]
enum MacKind {
    InPlaceBase64,
    Fixed,
    LongKdf,
}

unsafe fn calculate_mac(
    sas: *mut OlmSAS,
    kind: MacKind,
    input: *const c_void,
    input_length: usize,
    info: *const c_void,
    info_length: usize,
    mac: *mut c_void,
    mac_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if mac_length < b64_len(32) || !crate::abi::writable(mac, mac_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let e = unsafe { established(sas) }?;
        // SAFETY: as above.
        let input = unsafe { read_in(input, input_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        // SAFETY: as above.
        let info = unsafe { read_in(info, info_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let text = match kind {
            MacKind::InPlaceBase64 => e.calculate_mac_invalid_base64(&input[..], &info[..]),
            MacKind::Fixed => b64(e.calculate_mac(&input[..], &info[..]).as_bytes()),
            MacKind::LongKdf => e.calculate_mac_long_kdf(&input[..], &info[..]),
        };
        // SAFETY: as above; the length was checked.
        unsafe { write_out(mac, mac_length, text.as_bytes()) };
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(sas, run) }
}

/// `olm_sas_calculate_mac`: the `hkdf-hmac-sha256` MAC in libolm's in-place base64 (43
/// characters, of which only the first four are standard base64 of the MAC).
///
/// # Safety
/// `sas` is null or a SAS's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_calculate_mac(
    sas: *mut OlmSAS,
    input: *const c_void,
    input_length: usize,
    info: *const c_void,
    info_length: usize,
    mac: *mut c_void,
    mac_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { calculate_mac(sas, MacKind::InPlaceBase64, input, input_length, info, info_length, mac, mac_length) }
}

/// `olm_sas_calculate_mac_fixed_base64`: the `hkdf-hmac-sha256.v2` MAC in standard base64.
///
/// # Safety
/// As [`olm_sas_calculate_mac`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_calculate_mac_fixed_base64(
    sas: *mut OlmSAS,
    input: *const c_void,
    input_length: usize,
    info: *const c_void,
    info_length: usize,
    mac: *mut c_void,
    mac_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { calculate_mac(sas, MacKind::Fixed, input, input_length, info, info_length, mac, mac_length) }
}

/// `olm_sas_calculate_mac_long_kdf`: old Riot's `hmac-sha256` MAC (a 256-byte HMAC key), in
/// libolm's in-place base64.
///
/// # Safety
/// As [`olm_sas_calculate_mac`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_sas_calculate_mac_long_kdf(
    sas: *mut OlmSAS,
    input: *const c_void,
    input_length: usize,
    info: *const c_void,
    info_length: usize,
    mac: *mut c_void,
    mac_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { calculate_mac(sas, MacKind::LongKdf, input, input_length, info, info_length, mac, mac_length) }
}
