//! `OlmOutboundGroupSession` and `OlmInboundGroupSession`: outbound_group_session.h and
//! inbound_group_session.h.

use core::ffi::{c_char, c_int, c_void};

use caudata::DecryptionError;
use caudata::megolm::SessionKeyDecodeError;
use caudata::megolm::{
    ExportedSessionKey, GroupSession, InboundGroupSession, MegolmMessage, SessionConfig, SessionKey,
};
use caudata::primitives::{Ed25519PublicKey, Ed25519Signature};
use zeroize::Zeroizing;

use crate::abi::{CallerRandom, OLM_ERROR, b64_len, decode_in_place, guard, read_in, wipe, write_out, write_u32};
use crate::error::{code, string};
use crate::object::{self, INBOUND_GROUP, Kind, OUTBOUND_GROUP};
use crate::{pickle, scan};

/// libolm's `OlmOutboundGroupSession` (opaque; `olm_outbound_group_session_size()` bytes).
#[repr(C)]
pub struct OlmOutboundGroupSession {
    _private: [u8; 0],
}

/// libolm's `OlmInboundGroupSession` (opaque; `olm_inbound_group_session_size()` bytes).
#[repr(C)]
pub struct OlmInboundGroupSession {
    _private: [u8; 0],
}

const SESSION_KEY_LENGTH: usize = 1 + 4 + 128 + 32 + 64;
const EXPORT_LENGTH: usize = 1 + 4 + 128 + 32;

unsafe fn run_on(obj: *mut c_void, kind: &Kind, run: impl FnOnce() -> Result<usize, u32>) -> usize {
    let fail = |c| {
        // SAFETY: `obj` is null or an object of type `kind` (the caller's contract).
        unsafe { object::set_error(obj, kind, c) };
        OLM_ERROR
    };
    guard(|| fail(code::INTERNAL), || run().unwrap_or_else(fail))
}

unsafe fn load_outbound(session: *const OlmOutboundGroupSession) -> Result<GroupSession, u32> {
    // SAFETY: forwarded contract.
    let raw = unsafe { object::state(session.cast(), &OUTBOUND_GROUP) }.ok_or(code::UNINITIALISED)?;
    GroupSession::from_libolm_raw_pickle(&raw).map_err(|_| code::CORRUPTED_PICKLE)
}

unsafe fn store_outbound(session: *mut OlmOutboundGroupSession, s: &GroupSession) -> Result<(), u32> {
    let raw = s.to_libolm_raw_pickle().map_err(|_| code::CORRUPTED_PICKLE)?;
    // SAFETY: forwarded contract.
    if unsafe { object::set_state(session.cast(), &OUTBOUND_GROUP, &raw) } {
        Ok(())
    } else {
        Err(code::CORRUPTED_PICKLE)
    }
}

unsafe fn load_inbound(session: *const OlmInboundGroupSession) -> Result<InboundGroupSession, u32> {
    // SAFETY: forwarded contract.
    let raw = unsafe { object::state(session.cast(), &INBOUND_GROUP) }.ok_or(code::UNINITIALISED)?;
    InboundGroupSession::from_libolm_raw_pickle(&raw).map_err(|_| code::CORRUPTED_PICKLE)
}

unsafe fn store_inbound(session: *mut OlmInboundGroupSession, s: &InboundGroupSession) -> Result<(), u32> {
    let raw = s.to_libolm_raw_pickle().map_err(|_| code::CORRUPTED_PICKLE)?;
    // SAFETY: forwarded contract.
    if unsafe { object::set_state(session.cast(), &INBOUND_GROUP, &raw) } {
        Ok(())
    } else {
        Err(code::CORRUPTED_PICKLE)
    }
}

// ------------------------------------------------------------------ outbound

/// `olm_outbound_group_session_size`: the bytes an `OlmOutboundGroupSession` needs.
#[unsafe(no_mangle)]
pub extern "C" fn olm_outbound_group_session_size() -> usize {
    OUTBOUND_GROUP.size()
}

/// `olm_outbound_group_session`: initialises an outbound group session in `memory`.
///
/// # Safety
/// `memory` is null or valid for `olm_outbound_group_session_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_outbound_group_session(memory: *mut c_void) -> *mut OlmOutboundGroupSession {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &OUTBOUND_GROUP) }.cast()
}

/// `olm_outbound_group_session_last_error`.
///
/// # Safety
/// `session` is null or an outbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_outbound_group_session_last_error(
    session: *const OlmOutboundGroupSession,
) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(session.cast()) })
}

/// `olm_outbound_group_session_last_error_code`.
///
/// # Safety
/// `session` is null or an outbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_outbound_group_session_last_error_code(session: *const OlmOutboundGroupSession) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(session.cast()) }
}

/// `olm_clear_outbound_group_session`: wipes the session; returns its size.
///
/// # Safety
/// `session` is null or an outbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_outbound_group_session(session: *mut OlmOutboundGroupSession) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(session.cast(), &OUTBOUND_GROUP) }
}

/// `olm_pickle_outbound_group_session_length`.
///
/// # Safety
/// `session` is null or an outbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_outbound_group_session_length(session: *const OlmOutboundGroupSession) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::length(session.cast(), &OUTBOUND_GROUP) }
}

/// `olm_pickle_outbound_group_session`: libolm's pickle of the session under `key`.
///
/// # Safety
/// `session` is null or an outbound group session's memory; the buffers are valid for their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_outbound_group_session(
    session: *mut OlmOutboundGroupSession,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::pickle(session.cast(), &OUTBOUND_GROUP, key, key_length, pickled, pickled_length) }
}

/// `olm_unpickle_outbound_group_session`: loads the session from a libolm pickle (version 1).
///
/// # Safety
/// As [`olm_pickle_outbound_group_session`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_unpickle_outbound_group_session(
    session: *mut OlmOutboundGroupSession,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    let normalise = |raw: &[u8]| {
        let s = GroupSession::from_libolm_raw_pickle(raw).map_err(|e| crate::error::pickle_code(&e))?;
        s.to_libolm_raw_pickle().map_err(|_| code::CORRUPTED_PICKLE)
    };
    // SAFETY: the caller's contract.
    unsafe { pickle::unpickle(session.cast(), &OUTBOUND_GROUP, key, key_length, pickled, pickled_length, normalise) }
}

/// `olm_init_outbound_group_session_random_length`: 160 (the ratchet, then an Ed25519 seed).
#[unsafe(no_mangle)]
pub extern "C" fn olm_init_outbound_group_session_random_length(_session: *const OlmOutboundGroupSession) -> usize {
    128 + 32
}

/// `olm_init_outbound_group_session`: a new session from 160 random bytes (then wiped).
///
/// # Safety
/// `session` is null or an outbound group session's memory; `random` is valid for
/// `random_length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_init_outbound_group_session(
    session: *mut OlmOutboundGroupSession,
    random: *mut u8,
    random_length: usize,
) -> usize {
    if random_length < 160 {
        // SAFETY: the caller's contract. libolm returns before wiping here.
        return unsafe { run_on(session.cast(), &OUTBOUND_GROUP, || Err(code::NOT_ENOUGH_RANDOM)) };
    }
    let run = || -> Result<usize, u32> {
        // SAFETY: the caller's contract.
        let bytes = unsafe { read_in(random.cast(), 160) }.ok_or(code::NOT_ENOUGH_RANDOM)?;
        let s = GroupSession::new_with_rng(SessionConfig::version_1(), &mut CallerRandom::new(&bytes));
        // SAFETY: as above.
        unsafe { store_outbound(session, &s) }?;
        Ok(0)
    };
    // SAFETY: the caller's contract.
    let r = unsafe { run_on(session.cast(), &OUTBOUND_GROUP, run) };
    // SAFETY: as above.
    unsafe { wipe(random.cast(), random_length) };
    r
}

/// The raw length of a group message at `index` (as libolm computes it for a blank session).
fn group_message_length(index: u32, plaintext_length: usize) -> usize {
    let ct = plaintext_length - plaintext_length % 16 + 16;
    let varint = |mut n: u64| {
        let mut len = 1;
        while n >= 0x80 {
            n >>= 7;
            len += 1;
        }
        len
    };
    1 + 1 + varint(index.into()) + 1 + varint(ct as u64) + ct + 8 + 64
}

/// `olm_group_encrypt_message_length`: the base64 length of the next message.
///
/// # Safety
/// `session` is null or an outbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_group_encrypt_message_length(
    session: *mut OlmOutboundGroupSession,
    plaintext_length: usize,
) -> usize {
    guard(
        || OLM_ERROR,
        || {
            // SAFETY: the caller's contract.
            let raw = match unsafe { load_outbound(session) } {
                Ok(s) => s.encrypt_message_length(plaintext_length),
                Err(_) => group_message_length(0, plaintext_length),
            };
            b64_len(raw)
        },
    )
}

/// `olm_group_encrypt`: encrypts and signs `plaintext` into `message` (base64).
///
/// # Safety
/// `session` is null or an outbound group session's memory; the buffers are valid for their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_group_encrypt(
    session: *mut OlmOutboundGroupSession,
    plaintext: *const u8,
    plaintext_length: usize,
    message: *mut u8,
    max_message_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        // SAFETY: the caller's contract.
        let mut s = unsafe { load_outbound(session) }?;
        if max_message_length < b64_len(s.encrypt_message_length(plaintext_length))
            || !crate::abi::writable(message.cast(), max_message_length)
        {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: as above.
        let pt = unsafe { read_in(plaintext.cast(), plaintext_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let text = s.encrypt(&pt[..]).to_base64();
        // SAFETY: as above.
        unsafe { store_outbound(session, &s) }?;
        // SAFETY: as above; the length was checked.
        unsafe { write_out(message.cast(), max_message_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session.cast(), &OUTBOUND_GROUP, run) }
}

/// `olm_outbound_group_session_id_length`: 43.
#[unsafe(no_mangle)]
pub extern "C" fn olm_outbound_group_session_id_length(_session: *const OlmOutboundGroupSession) -> usize {
    b64_len(32)
}

/// `olm_outbound_group_session_id`: the session id (the Ed25519 public key in base64).
///
/// # Safety
/// `session` is null or an outbound group session's memory; the buffer is valid for its
/// length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_outbound_group_session_id(
    session: *mut OlmOutboundGroupSession,
    id: *mut u8,
    id_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if id_length < b64_len(32) || !crate::abi::writable(id.cast(), id_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let text = unsafe { load_outbound(session) }?.session_id();
        // SAFETY: as above.
        unsafe { write_out(id.cast(), id_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session.cast(), &OUTBOUND_GROUP, run) }
}

/// `olm_outbound_group_session_message_index`: the index of the next message.
///
/// # Safety
/// `session` is null or an outbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_outbound_group_session_message_index(session: *mut OlmOutboundGroupSession) -> u32 {
    // SAFETY: the caller's contract.
    guard(|| 0, || unsafe { load_outbound(session) }.map(|s| s.message_index()).unwrap_or(0))
}

/// `olm_outbound_group_session_key_length`: 306.
#[unsafe(no_mangle)]
pub extern "C" fn olm_outbound_group_session_key_length(_session: *const OlmOutboundGroupSession) -> usize {
    b64_len(SESSION_KEY_LENGTH)
}

/// `olm_outbound_group_session_key`: the signed session key at the current index, in base64.
///
/// # Safety
/// `session` is null or an outbound group session's memory; the buffer is valid for its
/// length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_outbound_group_session_key(
    session: *mut OlmOutboundGroupSession,
    key: *mut u8,
    key_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if key_length < b64_len(SESSION_KEY_LENGTH) || !crate::abi::writable(key.cast(), key_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let text = unsafe { load_outbound(session) }?.session_key().to_base64();
        // SAFETY: as above.
        unsafe { write_out(key.cast(), key_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session.cast(), &OUTBOUND_GROUP, run) }
}

// ------------------------------------------------------------------ inbound

/// `olm_inbound_group_session_size`: the bytes an `OlmInboundGroupSession` needs.
#[unsafe(no_mangle)]
pub extern "C" fn olm_inbound_group_session_size() -> usize {
    INBOUND_GROUP.size()
}

/// `olm_inbound_group_session`: initialises an inbound group session in `memory`.
///
/// # Safety
/// `memory` is null or valid for `olm_inbound_group_session_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_inbound_group_session(memory: *mut c_void) -> *mut OlmInboundGroupSession {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &INBOUND_GROUP) }.cast()
}

/// `olm_inbound_group_session_last_error`.
///
/// # Safety
/// `session` is null or an inbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_inbound_group_session_last_error(session: *const OlmInboundGroupSession) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(session.cast()) })
}

/// `olm_inbound_group_session_last_error_code`.
///
/// # Safety
/// `session` is null or an inbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_inbound_group_session_last_error_code(session: *const OlmInboundGroupSession) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(session.cast()) }
}

/// `olm_clear_inbound_group_session`: wipes the session; returns its size.
///
/// # Safety
/// `session` is null or an inbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_inbound_group_session(session: *mut OlmInboundGroupSession) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(session.cast(), &INBOUND_GROUP) }
}

/// `olm_pickle_inbound_group_session_length`.
///
/// # Safety
/// `session` is null or an inbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_inbound_group_session_length(session: *const OlmInboundGroupSession) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::length(session.cast(), &INBOUND_GROUP) }
}

/// `olm_pickle_inbound_group_session`: libolm's pickle of the session under `key`.
///
/// # Safety
/// `session` is null or an inbound group session's memory; the buffers are valid for their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_inbound_group_session(
    session: *mut OlmInboundGroupSession,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::pickle(session.cast(), &INBOUND_GROUP, key, key_length, pickled, pickled_length) }
}

/// `olm_unpickle_inbound_group_session`: loads the session from a libolm pickle (versions 1
/// and 2).
///
/// # Safety
/// As [`olm_pickle_inbound_group_session`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_unpickle_inbound_group_session(
    session: *mut OlmInboundGroupSession,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    let normalise = |raw: &[u8]| {
        let s = InboundGroupSession::from_libolm_raw_pickle(raw).map_err(|e| crate::error::pickle_code(&e))?;
        s.to_libolm_raw_pickle().map_err(|_| code::CORRUPTED_PICKLE)
    };
    // SAFETY: the caller's contract.
    unsafe { pickle::unpickle(session.cast(), &INBOUND_GROUP, key, key_length, pickled, pickled_length, normalise) }
}

fn key_code(e: &SessionKeyDecodeError) -> u32 {
    match e {
        SessionKeyDecodeError::Signature => code::BAD_SIGNATURE,
        _ => code::BAD_SESSION_KEY,
    }
}

unsafe fn init_inbound(session: *mut OlmInboundGroupSession, key: *const u8, key_length: usize, signed: bool) -> usize {
    let run = || -> Result<usize, u32> {
        let expected = if signed { SESSION_KEY_LENGTH } else { EXPORT_LENGTH };
        let n = caudata::hazmat::libolm_base64_decoded_length(key_length).ok_or(code::INVALID_BASE64)?;
        if n != expected {
            return Err(code::BAD_SESSION_KEY);
        }
        // SAFETY: the caller's contract.
        let text = unsafe { read_in(key.cast(), key_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let mut raw = Zeroizing::new(text.to_vec());
        caudata::hazmat::libolm_base64_decode_in_place(&mut raw).ok_or(code::INVALID_BASE64)?;
        raw.truncate(n);
        let version = if signed { 2 } else { 1 };
        if raw[0] != version {
            return Err(code::BAD_SESSION_KEY);
        }
        let s = if signed {
            let k = SessionKey::from_bytes(&raw).map_err(|e| key_code(&e))?;
            InboundGroupSession::new(&k, SessionConfig::version_1())
        } else {
            let k = ExportedSessionKey::from_bytes(&raw).map_err(|e| key_code(&e))?;
            InboundGroupSession::import(&k, SessionConfig::version_1())
        };
        // SAFETY: as above.
        unsafe { store_inbound(session, &s) }?;
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session.cast(), &INBOUND_GROUP, run) }
}

/// `olm_init_inbound_group_session`: the session from a signed session key (base64; the
/// signature is verified strictly).
///
/// # Safety
/// `session` is null or an inbound group session's memory; the buffer is valid for its
/// length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_init_inbound_group_session(
    session: *mut OlmInboundGroupSession,
    session_key: *const u8,
    session_key_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { init_inbound(session, session_key, session_key_length, true) }
}

/// `olm_import_inbound_group_session`: the session from an exported (unsigned) key.
///
/// # Safety
/// As [`olm_init_inbound_group_session`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_import_inbound_group_session(
    session: *mut OlmInboundGroupSession,
    session_key: *const u8,
    session_key_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { init_inbound(session, session_key, session_key_length, false) }
}

/// `olm_group_decrypt_max_plaintext_length`: the largest plaintext the message (decoded in
/// place) can hold.
///
/// # Safety
/// `session` is null or an inbound group session's memory; the buffer is valid for its
/// length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_group_decrypt_max_plaintext_length(
    session: *mut OlmInboundGroupSession,
    message: *mut u8,
    message_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        // SAFETY: the caller's contract.
        let body = unsafe { decode_in_place(message.cast(), message_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        let f = scan::group_message(&body);
        if f.version != 3 {
            return Err(code::BAD_MESSAGE_VERSION);
        }
        f.bytes[0].map(|(_, len)| len).ok_or(code::BAD_MESSAGE_FORMAT)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session.cast(), &INBOUND_GROUP, run) }
}

fn group_decryption_code(e: &DecryptionError) -> u32 {
    match e {
        DecryptionError::InvalidSignature => code::BAD_SIGNATURE,
        DecryptionError::UnknownMessageIndex { .. } => code::UNKNOWN_MESSAGE_INDEX,
        DecryptionError::Decode(_) => code::BAD_MESSAGE_FORMAT,
        _ => code::BAD_MESSAGE_MAC,
    }
}

/// `olm_group_decrypt`: verifies and decrypts a message (decoded in place) into `plaintext`;
/// returns the plaintext's length and writes the message's index to `message_index` (if not
/// null).
///
/// # Safety
/// `session` is null or an inbound group session's memory; the buffers are valid for their
/// lengths; `message_index` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_group_decrypt(
    session: *mut OlmInboundGroupSession,
    message: *mut u8,
    message_length: usize,
    plaintext: *mut u8,
    max_plaintext_length: usize,
    message_index: *mut u32,
) -> usize {
    let run = || -> Result<usize, u32> {
        // SAFETY: the caller's contract.
        let body = unsafe { decode_in_place(message.cast(), message_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        let f = scan::group_message(&body);
        if f.version != 3 {
            return Err(code::BAD_MESSAGE_VERSION);
        }
        let (Some(index), Some((_, ciphertext_length))) = (f.varint, f.bytes[0]) else {
            return Err(code::BAD_MESSAGE_FORMAT);
        };
        // SAFETY: as above.
        unsafe { write_u32(message_index, index) };
        // SAFETY: as above.
        let mut s = unsafe { load_inbound(session) }?;
        // libolm checks the signature before the output buffer's size
        let (signed, signature) = body.split_at(body.len() - 64);
        let signing_key = Ed25519PublicKey::from_base64(&s.session_id()).map_err(|_| code::CORRUPTED_PICKLE)?;
        let signature: [u8; 64] = signature.try_into().map_err(|_| code::BAD_MESSAGE_FORMAT)?;
        signing_key.verify(signed, &Ed25519Signature::from_bytes(signature)).map_err(|_| code::BAD_SIGNATURE)?;
        if max_plaintext_length < ciphertext_length {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        let m = MegolmMessage::from_bytes(&body).map_err(|_| code::BAD_MESSAGE_FORMAT)?;
        let pt = Zeroizing::new(s.decrypt_libolm(&m).map_err(|e| group_decryption_code(&e))?.plaintext);
        if pt.len() > max_plaintext_length || !crate::abi::writable(plaintext.cast(), max_plaintext_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: as above.
        unsafe { store_inbound(session, &s) }?;
        // SAFETY: as above; the length was checked.
        unsafe { write_out(plaintext.cast(), max_plaintext_length, &pt) };
        Ok(pt.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session.cast(), &INBOUND_GROUP, run) }
}

/// `olm_inbound_group_session_id_length`: 43.
#[unsafe(no_mangle)]
pub extern "C" fn olm_inbound_group_session_id_length(_session: *const OlmInboundGroupSession) -> usize {
    b64_len(32)
}

/// `olm_inbound_group_session_id`: the session id (the sender's Ed25519 key in base64).
///
/// # Safety
/// `session` is null or an inbound group session's memory; the buffer is valid for its
/// length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_inbound_group_session_id(
    session: *mut OlmInboundGroupSession,
    id: *mut u8,
    id_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if id_length < b64_len(32) || !crate::abi::writable(id.cast(), id_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let text = unsafe { load_inbound(session) }?.session_id();
        // SAFETY: as above.
        unsafe { write_out(id.cast(), id_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session.cast(), &INBOUND_GROUP, run) }
}

/// `olm_inbound_group_session_first_known_index`.
///
/// # Safety
/// `session` is null or an inbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_inbound_group_session_first_known_index(session: *const OlmInboundGroupSession) -> u32 {
    // SAFETY: the caller's contract.
    guard(|| 0, || unsafe { load_inbound(session) }.map(|s| s.first_known_index()).unwrap_or(0))
}

/// `olm_inbound_group_session_is_verified`: 1 if the session came from a signed key or has
/// decrypted a message, else 0.
///
/// # Safety
/// `session` is null or an inbound group session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_inbound_group_session_is_verified(session: *const OlmInboundGroupSession) -> c_int {
    // SAFETY: the caller's contract.
    guard(|| 0, || unsafe { load_inbound(session) }.map(|s| c_int::from(s.signing_key_verified())).unwrap_or(0))
}

/// `olm_export_inbound_group_session_length`: 220.
#[unsafe(no_mangle)]
pub extern "C" fn olm_export_inbound_group_session_length(_session: *const OlmInboundGroupSession) -> usize {
    b64_len(EXPORT_LENGTH)
}

/// `olm_export_inbound_group_session`: the session exported at `message_index`, in base64.
///
/// # Safety
/// `session` is null or an inbound group session's memory; the buffer is valid for its
/// length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_export_inbound_group_session(
    session: *mut OlmInboundGroupSession,
    key: *mut u8,
    key_length: usize,
    message_index: u32,
) -> usize {
    let run = || -> Result<usize, u32> {
        if key_length < b64_len(EXPORT_LENGTH) || !crate::abi::writable(key.cast(), key_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let mut s = unsafe { load_inbound(session) }?;
        let exported = s.export_at_libolm(message_index).ok_or(code::UNKNOWN_MESSAGE_INDEX)?;
        let text = exported.to_base64();
        // SAFETY: as above.
        unsafe { store_inbound(session, &s) }?;
        // SAFETY: as above; the length was checked.
        unsafe { write_out(key.cast(), key_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session.cast(), &INBOUND_GROUP, run) }
}
