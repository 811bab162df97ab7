//! `olm_pickle_*` and `olm_unpickle_*` for the objects whose state is libolm's raw pickle:
//! the pickle is libolm's cipher over the state bytes themselves, and unpickling loads the
//! raw bytes through caudata (every field checked) before they become the new state.
//!
//! The `_olm_enc_*` helpers that libolm's own tests call are here too.

use core::ffi::c_void;

use caudata::hazmat::{libolm_base64_decoded_length, open_libolm_pickle, seal_libolm_pickle};
use zeroize::Zeroizing;

use crate::abi::{OLM_ERROR, b64, b64_len, decode_secret_in_place, guard, read_in, write_out, write_u32};
use crate::error::{code, pickle_code};
use crate::object::{self, Kind};

/// libolm's pickle length for a raw state of `raw_length` bytes: base64 of the AES-CBC
/// ciphertext (padded to whole blocks, always adding one) and the 8-byte MAC.
pub(crate) const fn sealed_length(raw_length: usize) -> usize {
    // wrapping, as libolm's `size_t` arithmetic: any length from C gives an answer, not a panic
    raw_length.wrapping_add(16 - raw_length % 16).wrapping_add(8)
}

/// `*_pickle_*_length`: from the state's length (0 for an object with no state, whose pickle
/// is refused).
///
/// # Safety
/// `obj` is null or an object of type `kind`.
pub(crate) unsafe fn length(obj: *const c_void, kind: &Kind) -> usize {
    // SAFETY: forwarded contract.
    let raw_length = unsafe { object::state(obj, kind) }.map_or_else(|| kind.blank_raw().len(), |raw| raw.len());
    b64_len(sealed_length(raw_length))
}

/// `olm_pickle_*`: libolm's pickle of the state under `key`, written at `pickled`.
///
/// # Safety
/// `obj` is null or an object of type `kind`; the buffers are valid for their lengths.
pub(crate) unsafe fn pickle(
    obj: *mut c_void,
    kind: &Kind,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        // SAFETY: forwarded contract. An object without state pickles as libolm's does.
        let raw = unsafe { object::state(obj, kind) }.unwrap_or_else(|| Zeroizing::new(kind.blank_raw()));
        let needed = b64_len(sealed_length(raw.len()));
        if pickled_length < needed || !crate::abi::writable(pickled, pickled_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: forwarded contract.
        let key = unsafe { read_in(key, key_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let text = b64(&seal_libolm_pickle(&raw, &key));
        // SAFETY: forwarded contract; `text.len() == needed <= pickled_length`.
        unsafe { write_out(pickled, pickled_length, text.as_bytes()) };
        Ok(text.len())
    };
    guard(
        // SAFETY: forwarded contract.
        || unsafe { fail(obj, kind, code::INTERNAL) },
        // SAFETY: as above.
        || run().unwrap_or_else(|c| unsafe { fail(obj, kind, c) }),
    )
}

/// Records `code` and returns `olm_error()`.
///
/// # Safety
/// `obj` is null or an object of type `kind`.
pub(crate) unsafe fn fail(obj: *mut c_void, kind: &Kind, code: u32) -> usize {
    // SAFETY: forwarded contract.
    unsafe { object::set_error(obj, kind, code) };
    OLM_ERROR
}

/// Decodes and opens a pickle buffer as libolm's `_olm_enc_input` does (the buffer is
/// base64-decoded in place), returning the raw state.
///
/// # Safety
/// `pickled` is valid for `pickled_length` bytes of reads and writes; `key` for `key_length`.
pub(crate) unsafe fn open(
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> Result<Zeroizing<Vec<u8>>, u32> {
    // SAFETY: forwarded contract.
    let sealed = unsafe { decode_secret_in_place(pickled, pickled_length) }
        .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
        .ok_or(code::INVALID_BASE64)?;
    // SAFETY: forwarded contract.
    let key = unsafe { read_in(key, key_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
    open_libolm_pickle(&sealed, &key).map_err(|e| pickle_code(&e))
}

/// `olm_unpickle_*`: opens the pickle, checks and normalises the raw state with `load`
/// (which returns it re-encoded as caudata holds it), and makes it the object's state.
/// Returns `pickled_length`, as libolm does.
///
/// # Safety
/// `obj` is null or an object of type `kind`; the buffers are valid for their lengths.
pub(crate) unsafe fn unpickle(
    obj: *mut c_void,
    kind: &Kind,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
    load: impl FnOnce(&[u8]) -> Result<Zeroizing<Vec<u8>>, u32>,
) -> usize {
    let run = || -> Result<usize, u32> {
        // SAFETY: forwarded contract.
        let raw = unsafe { open(key, key_length, pickled, pickled_length) }?;
        // libolm's pickle of an object that never had keys loads back as such an object
        let blank = kind.blank_raw();
        let state = if raw[..] == blank[..] {
            Zeroizing::new(Vec::new())
        } else if raw.len() > blank.len() && raw.starts_with(&blank) {
            return Err(code::PICKLE_EXTRA_DATA);
        } else {
            load(&raw)?
        };
        // SAFETY: forwarded contract.
        if !unsafe { object::set_state(obj, kind, &state) } {
            return Err(code::CORRUPTED_PICKLE);
        }
        Ok(pickled_length)
    };
    guard(
        // SAFETY: forwarded contract.
        || unsafe { fail(obj, kind, code::INTERNAL) },
        // SAFETY: as above.
        || run().unwrap_or_else(|c| unsafe { fail(obj, kind, c) }),
    )
}

/// `_olm_enc_output_length`: the pickle length for `raw_length` bytes of raw state.
#[unsafe(no_mangle)]
pub extern "C" fn _olm_enc_output_length(raw_length: usize) -> usize {
    b64_len(sealed_length(raw_length))
}

/// `_olm_enc_output_pos`: where in a pickle buffer the raw state goes before
/// [`_olm_enc_output`] encrypts it in place.
///
/// # Safety
/// `output` points into a buffer of at least `_olm_enc_output_length(raw_length)` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_enc_output_pos(output: *mut u8, raw_length: usize) -> *mut u8 {
    let sealed = sealed_length(raw_length);
    // libolm's offset; `wrapping_add` keeps a wrong length from being undefined behaviour here
    output.wrapping_add(b64_len(sealed).wrapping_sub(sealed))
}

/// `_olm_enc_output`: encrypts the `raw_length` bytes at `_olm_enc_output_pos(output,
/// raw_length)` under `key` and writes the pickle at `output`; returns its length.
///
/// # Safety
/// `output` is valid for `_olm_enc_output_length(raw_length)` bytes; `key` for `key_length`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_enc_output(
    key: *const u8,
    key_length: usize,
    output: *mut u8,
    raw_length: usize,
) -> usize {
    guard(
        || OLM_ERROR,
        || {
            let total = b64_len(sealed_length(raw_length));
            // SAFETY: the caller's contract: the raw bytes are at the position
            // `_olm_enc_output_pos` gave, inside the `total`-byte buffer.
            let raw = unsafe { read_in(_olm_enc_output_pos(output, raw_length).cast::<c_void>(), raw_length) };
            // SAFETY: the caller's contract.
            let key = unsafe { read_in(key.cast(), key_length) };
            let (Some(raw), Some(key)) = (raw, key) else {
                return OLM_ERROR;
            };
            let text = b64(&seal_libolm_pickle(&raw, &key));
            // SAFETY: the caller's contract; `text.len() == total`.
            if unsafe { write_out(output.cast(), total, text.as_bytes()) } { text.len() } else { OLM_ERROR }
        },
    )
}

/// `_olm_enc_input`: decodes (in place) and decrypts a pickle; the raw state is written at the
/// start of `input` and its length returned. On error `*last_error` (if not null) is set to
/// `OLM_INVALID_BASE64` or `OLM_BAD_ACCOUNT_KEY`.
///
/// # Safety
/// `input` is valid for `b64_length` bytes of reads and writes; `key` for `key_length`;
/// `last_error` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_enc_input(
    key: *const u8,
    key_length: usize,
    input: *mut u8,
    b64_length: usize,
    last_error: *mut u32,
) -> usize {
    guard(
        || OLM_ERROR,
        || {
            if libolm_base64_decoded_length(b64_length).is_none() {
                // SAFETY: the caller's contract.
                unsafe { write_u32(last_error, code::INVALID_BASE64) };
                return OLM_ERROR;
            }
            // SAFETY: the caller's contract.
            match unsafe { open(key.cast(), key_length, input.cast(), b64_length) } {
                Ok(raw) => {
                    // SAFETY: the caller's contract; the plaintext is shorter than the input.
                    unsafe { write_out(input.cast(), b64_length, &raw) };
                    raw.len()
                }
                Err(c) => {
                    let c = if c == code::INVALID_BASE64 { c } else { code::BAD_ACCOUNT_KEY };
                    // SAFETY: the caller's contract.
                    unsafe { write_u32(last_error, c) };
                    OLM_ERROR
                }
            }
        },
    )
}
