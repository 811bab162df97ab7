//! `OlmSession`: olm.h's session functions.

use core::ffi::{c_char, c_int, c_void};

use caudata::DecryptionError;
use caudata::olm::{OlmMessage, PreKeyMessage, Session};
use caudata::primitives::Curve25519PublicKey;
use caudata::{DecodeError, SessionCreationError};

use crate::abi::{CallerRandom, OLM_ERROR, b64, b64_len, decode_in_place, decode_key, guard, read_in, wipe, write_out};
use crate::account::OlmAccount;
use crate::error::{code, string};
use crate::object::{self, SESSION};
use crate::{pickle, scan};

/// libolm's `OlmSession` (opaque; it lives in memory of `olm_session_size()` bytes).
#[repr(C)]
pub struct OlmSession {
    _private: [u8; 0],
}

fn mem(session: *mut OlmSession) -> *mut c_void {
    session.cast()
}

unsafe fn fail(session: *mut OlmSession, code: u32) -> usize {
    // SAFETY: `session` is null or a session's memory (the caller's contract).
    unsafe { object::set_error(mem(session), &SESSION, code) };
    OLM_ERROR
}

/// Loads the session from its memory.
///
/// # Safety
/// `session` is null or a session's memory.
pub(crate) unsafe fn load(session: *const OlmSession) -> Result<Session, u32> {
    // SAFETY: forwarded contract.
    let raw = unsafe { object::state(session.cast(), &SESSION) }.ok_or(code::UNINITIALISED)?;
    Session::from_libolm_raw_pickle(&raw).map_err(|_| code::CORRUPTED_PICKLE)
}

unsafe fn store(session: *mut OlmSession, s: &Session) -> Result<(), u32> {
    let raw = s.to_libolm_raw_pickle().map_err(|_| code::CORRUPTED_PICKLE)?;
    // SAFETY: forwarded contract.
    if unsafe { object::set_state(mem(session), &SESSION, &raw) } { Ok(()) } else { Err(code::CORRUPTED_PICKLE) }
}

/// Runs `run`, records its error code, and catches panics.
unsafe fn run_on(session: *mut OlmSession, run: impl FnOnce() -> Result<usize, u32>) -> usize {
    guard(
        // SAFETY: the caller's contract.
        || unsafe { fail(session, code::INTERNAL) },
        // SAFETY: as above.
        || run().unwrap_or_else(|c| unsafe { fail(session, c) }),
    )
}

/// Maps a strict decoding failure of a message libolm's reader accepted.
fn decode_code(e: &DecodeError) -> u32 {
    match e {
        DecodeError::UnsupportedVersion(_) | DecodeError::LegacyVersion(_) => code::BAD_MESSAGE_VERSION,
        _ => code::BAD_MESSAGE_FORMAT,
    }
}

/// Maps a decryption failure to libolm's code: every failure to authenticate or find the key
/// is `BAD_MESSAGE_MAC`, as in libolm. That includes a pre-key message whose outer keys are
/// not this session's (`SessionMismatch`): libolm reports `BAD_MESSAGE_MAC` for another
/// session's message, and would decrypt one whose outer keys were altered, which caudata
/// refuses (the keys are not covered by the MAC).
fn decryption_code(e: &DecryptionError) -> u32 {
    match e {
        DecryptionError::Decode(d) => decode_code(d),
        _ => code::BAD_MESSAGE_MAC,
    }
}

fn creation_code(e: &SessionCreationError) -> u32 {
    match e {
        SessionCreationError::Decryption(d) => decryption_code(d),
        SessionCreationError::Key(_) => code::NON_CONTRIBUTORY,
        _ => code::BAD_MESSAGE_KEY_ID,
    }
}

/// `olm_session_size`: the bytes an `OlmSession` needs.
#[unsafe(no_mangle)]
pub extern "C" fn olm_session_size() -> usize {
    SESSION.size()
}

/// `olm_session`: initialises a session in `memory` (of `olm_session_size()` bytes).
///
/// # Safety
/// `memory` is null or valid for `olm_session_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_session(memory: *mut c_void) -> *mut OlmSession {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &SESSION) }.cast()
}

/// `olm_session_last_error`: libolm's name of the session's last error.
///
/// # Safety
/// `session` is null or a session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_session_last_error(session: *const OlmSession) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(session.cast()) })
}

/// `olm_session_last_error_code`: the session's last error.
///
/// # Safety
/// `session` is null or a session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_session_last_error_code(session: *const OlmSession) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(session.cast()) }
}

/// `olm_clear_session`: wipes the session; returns its size.
///
/// # Safety
/// `session` is null or a session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_session(session: *mut OlmSession) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(mem(session), &SESSION) }
}

/// `olm_pickle_session_length`.
///
/// # Safety
/// `session` is null or a session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_session_length(session: *const OlmSession) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::length(session.cast(), &SESSION) }
}

/// `olm_pickle_session`: libolm's pickle of the session under `key`.
///
/// # Safety
/// `session` is null or a session's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_session(
    session: *mut OlmSession,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::pickle(mem(session), &SESSION, key, key_length, pickled, pickled_length) }
}

/// `olm_unpickle_session`: loads a session from a libolm pickle (versions 1 and 0x80000001).
///
/// # Safety
/// `session` is null or a session's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_unpickle_session(
    session: *mut OlmSession,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    let normalise = |raw: &[u8]| {
        let s = Session::from_libolm_raw_pickle(raw).map_err(|e| crate::error::pickle_code(&e))?;
        s.to_libolm_raw_pickle().map_err(|_| code::CORRUPTED_PICKLE)
    };
    // SAFETY: the caller's contract.
    unsafe { pickle::unpickle(mem(session), &SESSION, key, key_length, pickled, pickled_length, normalise) }
}

/// `olm_create_outbound_session_random_length`: 64 (a base key, then a ratchet key).
#[unsafe(no_mangle)]
pub extern "C" fn olm_create_outbound_session_random_length(_session: *const OlmSession) -> usize {
    64
}

/// `olm_create_outbound_session`: a session to the owner of `their_identity_key` and
/// `their_one_time_key` (43 base64 characters each), from 64 random bytes (then wiped).
///
/// # Safety
/// `session` and `account` are null or objects of their types; the buffers are valid for their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_create_outbound_session(
    session: *mut OlmSession,
    account: *const OlmAccount,
    their_identity_key: *const c_void,
    their_identity_key_length: usize,
    their_one_time_key: *const c_void,
    their_one_time_key_length: usize,
    random: *mut c_void,
    random_length: usize,
) -> usize {
    if their_identity_key_length != 43 || their_one_time_key_length != 43 {
        // SAFETY: the caller's contract. libolm returns before wiping the random bytes here.
        return unsafe { fail(session, code::INVALID_BASE64) };
    }
    let run = || -> Result<usize, u32> {
        // SAFETY: the caller's contract.
        let id = unsafe { read_in(their_identity_key, 43) }.and_then(|k| decode_key(&k)).ok_or(code::INVALID_BASE64)?;
        // SAFETY: as above.
        let otk =
            unsafe { read_in(their_one_time_key, 43) }.and_then(|k| decode_key(&k)).ok_or(code::INVALID_BASE64)?;
        if random_length < 64 {
            return Err(code::NOT_ENOUGH_RANDOM);
        }
        // SAFETY: as above.
        let bytes = unsafe { read_in(random, 64) }.ok_or(code::NOT_ENOUGH_RANDOM)?;
        // SAFETY: as above.
        let a = unsafe { crate::account::load(account) }?;
        let s = a
            .create_outbound_session_with_rng(
                caudata::olm::SessionConfig::version_1(),
                Curve25519PublicKey::from_bytes(id),
                Curve25519PublicKey::from_bytes(otk),
                &mut CallerRandom::new(&bytes),
            )
            .map_err(|e| creation_code(&e))?;
        // SAFETY: as above.
        unsafe { store(session, &s) }?;
        Ok(0)
    };
    // SAFETY: the caller's contract.
    let r = unsafe { run_on(session, run) };
    // SAFETY: as above.
    unsafe { wipe(random, random_length) };
    r
}

/// The pre-key message fields libolm requires before it makes an inbound session.
fn check_pre_key_fields(body: &[u8], f: &scan::Fields, have_their_identity_key: bool) -> Result<(), u32> {
    let key_ok = |i: usize| scan::field(body, f.bytes[i]).is_some_and(|k| k.len() == 32);
    let identity_ok = match f.bytes[2] {
        Some(_) => key_ok(2),
        None => have_their_identity_key,
    };
    if identity_ok && f.bytes[3].is_some() && key_ok(1) && key_ok(0) { Ok(()) } else { Err(code::BAD_MESSAGE_FORMAT) }
}

unsafe fn create_inbound(
    session: *mut OlmSession,
    account: *mut OlmAccount,
    their_identity_key: Option<(*const c_void, usize)>,
    message: *mut c_void,
    message_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        let theirs = match their_identity_key {
            Some((ptr, len)) => {
                if len != 43 {
                    return Err(code::INVALID_BASE64);
                }
                // SAFETY: the caller's contract.
                let k = unsafe { read_in(ptr, 43) }.and_then(|k| decode_key(&k)).ok_or(code::INVALID_BASE64)?;
                Some(Curve25519PublicKey::from_bytes(k))
            }
            None => None,
        };
        // SAFETY: the caller's contract.
        let body = unsafe { decode_in_place(message, message_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        let f = scan::pre_key_message(&body);
        check_pre_key_fields(&body, &f, theirs.is_some())?;
        if let (Some(theirs), Some(id)) = (theirs, scan::field(&body, f.bytes[2]))
            && theirs.as_bytes() != id
        {
            return Err(code::BAD_MESSAGE_KEY_ID);
        }
        let inner = scan::field(&body, f.bytes[3]).unwrap_or(&[]);
        let fi = scan::olm_message(inner);
        if scan::field(inner, fi.bytes[0]).is_none_or(|k| k.len() != 32) {
            return Err(code::BAD_MESSAGE_FORMAT);
        }
        // libolm's checks passed; caudata parses the whole message strictly
        let m = PreKeyMessage::from_bytes(&body).map_err(|e| decode_code(&e))?;
        // SAFETY: the caller's contract.
        let a = unsafe { crate::account::load(account) }?;
        let s = a.create_inbound_session_libolm(theirs, &m).map_err(|e| creation_code(&e))?;
        // SAFETY: as above.
        unsafe { store(session, &s) }?;
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session, run) }
}

/// `olm_create_inbound_session`: the responder's session from a pre-key message (decoded in
/// place). The message is not decrypted here: call `olm_decrypt` with it next.
///
/// # Safety
/// `session` and `account` are null or objects of their types; the buffer is valid for its
/// length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_create_inbound_session(
    session: *mut OlmSession,
    account: *mut OlmAccount,
    one_time_key_message: *mut c_void,
    message_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { create_inbound(session, account, None, one_time_key_message, message_length) }
}

/// `olm_create_inbound_session_from`: as `olm_create_inbound_session`, requiring the sender's
/// identity key to be `their_identity_key`.
///
/// # Safety
/// As [`olm_create_inbound_session`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_create_inbound_session_from(
    session: *mut OlmSession,
    account: *mut OlmAccount,
    their_identity_key: *const c_void,
    their_identity_key_length: usize,
    one_time_key_message: *mut c_void,
    message_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe {
        create_inbound(
            session,
            account,
            Some((their_identity_key, their_identity_key_length)),
            one_time_key_message,
            message_length,
        )
    }
}

/// `olm_session_id_length`: 43.
#[unsafe(no_mangle)]
pub extern "C" fn olm_session_id_length(_session: *const OlmSession) -> usize {
    b64_len(32)
}

/// `olm_session_id`: the session id (the same on both sides).
///
/// # Safety
/// `session` is null or a session's memory; the buffer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_session_id(session: *mut OlmSession, id: *mut c_void, id_length: usize) -> usize {
    let run = || -> Result<usize, u32> {
        if id_length < b64_len(32) || !crate::abi::writable(id, id_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let s = unsafe { load(session) }?;
        let text = s.session_id();
        // SAFETY: as above.
        unsafe { write_out(id, id_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session, run) }
}

/// `olm_session_has_received_message`: whether the session has decrypted a message.
///
/// # Safety
/// `session` is null or a session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_session_has_received_message(session: *const OlmSession) -> c_int {
    // SAFETY: the caller's contract.
    guard(|| 0, || unsafe { load(session) }.map(|s| c_int::from(s.has_received_message())).unwrap_or(0))
}

/// libolm's `olm_session_describe` text into `buf`, piece by piece as libolm's `snprintf`s
/// write it, cut with "..." where it does not fit.
fn describe_into(pieces: &[String], buf: &mut [u8]) {
    let buflen = buf.len();
    if buflen == 0 || buflen > i32::MAX as usize {
        return;
    }
    buf[0] = 0;
    if buflen < 23 {
        return;
    }
    let mut pos = 0usize;
    let mut remaining = buflen;
    for piece in pieces {
        let size = piece.len();
        // snprintf writes at most remaining - 1 bytes and a NUL
        if remaining > 0 {
            let n = size.min(remaining - 1);
            buf[pos..pos + n].copy_from_slice(&piece.as_bytes()[..n]);
            buf[pos + n] = 0;
        }
        if size > remaining {
            // elide: "..." in the last three bytes before the end, then the NUL
            let end = pos + remaining - 1;
            buf[end - 3..end].copy_from_slice(b"...");
            buf[end] = 0;
            return;
        } else if size > 0 {
            pos += size;
            remaining -= size;
        } else {
            return;
        }
    }
}

/// `olm_session_describe`: a description of the session's chains for logs (libolm's text:
/// `sender chain index: 0 receiver chain indices: 1 skipped message keys:`), cut to `buflen`
/// bytes with "..." if needed; empty if `buflen` is under 23.
///
/// # Safety
/// `session` is null or a session's memory; `buf` is valid for `buflen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_session_describe(session: *mut OlmSession, buf: *mut c_char, buflen: usize) {
    if buf.is_null() || buflen == 0 || buflen > isize::MAX as usize {
        return;
    }
    guard(
        || (),
        || {
            // SAFETY: the caller's contract.
            let indices = unsafe { load(session) }.map(|s| s.chain_indices()).unwrap_or_default();
            let mut pieces =
                vec![format!("sender chain index: {} ", indices.sender as i32), "receiver chain indices:".to_owned()];
            pieces.extend(indices.receivers.iter().map(|i| format!(" {}", *i as i32)));
            pieces.push(" skipped message keys:".to_owned());
            pieces.extend(indices.skipped.iter().map(|i| format!(" {}", *i as i32)));
            let mut out = vec![0u8; buflen];
            describe_into(&pieces, &mut out);
            // SAFETY: the caller's contract: `buf` is writable for `buflen` bytes.
            let _ = unsafe { write_out(buf.cast(), buflen, &out) };
        },
    );
}

unsafe fn matches(
    session: *mut OlmSession,
    their_identity_key: Option<(*const c_void, usize)>,
    message: *mut c_void,
    message_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        let theirs = match their_identity_key {
            Some((ptr, len)) => {
                if len != 43 {
                    return Err(code::INVALID_BASE64);
                }
                // SAFETY: the caller's contract.
                Some(unsafe { read_in(ptr, 43) }.and_then(|k| decode_key(&k)).ok_or(code::INVALID_BASE64)?)
            }
            None => None,
        };
        // SAFETY: the caller's contract.
        let body = unsafe { decode_in_place(message, message_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        let f = scan::pre_key_message(&body);
        if check_pre_key_fields(&body, &f, theirs.is_some()).is_err() {
            return Ok(0);
        }
        // SAFETY: the caller's contract.
        let keys = match unsafe { load(session) } {
            Ok(s) => s.session_keys(),
            Err(_) => return Ok(0),
        };
        let mut same = true;
        if let Some(id) = scan::field(&body, f.bytes[2]) {
            same &= id == keys.identity_key.as_bytes();
        }
        if let Some(theirs) = theirs {
            same &= &theirs == keys.identity_key.as_bytes();
        }
        same &= scan::field(&body, f.bytes[1]) == Some(&keys.base_key.as_bytes()[..]);
        same &= scan::field(&body, f.bytes[0]) == Some(&keys.one_time_key.as_bytes()[..]);
        Ok(usize::from(same))
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session, run) }
}

/// `olm_matches_inbound_session`: 1 if the pre-key message (decoded in place) belongs to this
/// session, else 0.
///
/// # Safety
/// `session` is null or a session's memory; the buffer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_matches_inbound_session(
    session: *mut OlmSession,
    one_time_key_message: *mut c_void,
    message_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { matches(session, None, one_time_key_message, message_length) }
}

/// `olm_matches_inbound_session_from`: as `olm_matches_inbound_session`, also requiring the
/// sender's identity key to be `their_identity_key`.
///
/// # Safety
/// As [`olm_matches_inbound_session`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_matches_inbound_session_from(
    session: *mut OlmSession,
    their_identity_key: *const c_void,
    their_identity_key_length: usize,
    one_time_key_message: *mut c_void,
    message_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe {
        matches(session, Some((their_identity_key, their_identity_key_length)), one_time_key_message, message_length)
    }
}

/// `olm_encrypt_message_type`: 0 (pre-key) until the session has received a message, then 1.
///
/// # Safety
/// `session` is null or a session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_encrypt_message_type(session: *const OlmSession) -> usize {
    // SAFETY: the caller's contract.
    guard(|| 0, || unsafe { load(session) }.map(|s| usize::from(s.has_received_message())).unwrap_or(0))
}

/// `olm_encrypt_random_length`: 32 when the next message starts a new ratchet chain, else 0.
///
/// # Safety
/// `session` is null or a session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_encrypt_random_length(session: *const OlmSession) -> usize {
    // SAFETY: the caller's contract.
    guard(|| 32, || unsafe { load(session) }.map(|s| s.encrypt_random_length()).unwrap_or(32))
}

/// The raw length libolm computes for an object with no state (chain index 0, pre-key).
fn blank_message_length(plaintext_length: usize) -> usize {
    let ct = plaintext_length - plaintext_length % 16 + 16;
    let field = |n: usize| 1 + varint_len(n) + n;
    let normal = 1 + field(32) + 2 + field(ct) + 8;
    1 + 3 * field(32) + field(normal)
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// `olm_encrypt_message_length`: the base64 length of the next message of `plaintext_length`
/// bytes.
///
/// # Safety
/// `session` is null or a session's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_encrypt_message_length(session: *const OlmSession, plaintext_length: usize) -> usize {
    guard(
        || OLM_ERROR,
        || {
            // SAFETY: the caller's contract.
            let raw = match unsafe { load(session) } {
                Ok(s) => s.encrypt_message_length(plaintext_length),
                Err(_) => blank_message_length(plaintext_length),
            };
            b64_len(raw)
        },
    )
}

/// `olm_encrypt`: encrypts `plaintext` into `message` (base64), taking the random bytes it
/// needs (`olm_encrypt_random_length`) from `random`, which is then wiped.
///
/// # Safety
/// `session` is null or a session's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_encrypt(
    session: *mut OlmSession,
    plaintext: *const c_void,
    plaintext_length: usize,
    random: *mut c_void,
    random_length: usize,
    message: *mut c_void,
    message_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    let mut s = match unsafe { load(session) } {
        Ok(s) => s,
        // SAFETY: as above.
        Err(c) => return unsafe { fail(session, c) },
    };
    if message_length < b64_len(s.encrypt_message_length(plaintext_length))
        || !crate::abi::writable(message, message_length)
    {
        // SAFETY: as above. libolm returns before wiping the random bytes here.
        return unsafe { fail(session, code::OUTPUT_BUFFER_TOO_SMALL) };
    }
    let run = || -> Result<usize, u32> {
        let needed = s.encrypt_random_length();
        if random_length < needed {
            return Err(code::NOT_ENOUGH_RANDOM);
        }
        // SAFETY: the caller's contract.
        let bytes = unsafe { read_in(random, needed) }.ok_or(code::NOT_ENOUGH_RANDOM)?;
        // SAFETY: as above.
        let pt = unsafe { read_in(plaintext, plaintext_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let mut rng = CallerRandom::new(&bytes);
        let m = s.encrypt_with_rng(&pt, &mut rng);
        if rng.short() {
            return Err(code::NOT_ENOUGH_RANDOM);
        }
        let (_, body) = m.to_parts();
        let text = b64(&body);
        // SAFETY: as above.
        unsafe { store(session, &s) }?;
        // SAFETY: as above; the length was checked above.
        unsafe { write_out(message, message_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    let r = unsafe { run_on(session, run) };
    // SAFETY: as above.
    unsafe { wipe(random, random_length) };
    r
}

/// libolm's checks on a message body before decrypting, in its order; returns the strict
/// parse of the message.
fn check_message(message_type: usize, body: &[u8], max_plaintext_length: Option<usize>) -> Result<OlmMessage, u32> {
    let inner = if message_type == 1 {
        body
    } else {
        let f = scan::pre_key_message(body);
        scan::field(body, f.bytes[3]).ok_or(code::BAD_MESSAGE_FORMAT)?
    };
    let f = scan::olm_message(inner);
    if f.version != 3 {
        return Err(code::BAD_MESSAGE_VERSION);
    }
    if f.varint.is_none() || f.bytes[0].is_none() || f.bytes[1].is_none() {
        return Err(code::BAD_MESSAGE_FORMAT);
    }
    let ciphertext_length = f.bytes[1].map_or(0, |(_, len)| len);
    if let Some(max) = max_plaintext_length
        && max < ciphertext_length
    {
        return Err(code::OUTPUT_BUFFER_TOO_SMALL);
    }
    if scan::field(inner, f.bytes[0]).is_none_or(|k| k.len() != 32) {
        return Err(code::BAD_MESSAGE_FORMAT);
    }
    let ty = if message_type == 1 { 1 } else { 0 };
    OlmMessage::from_parts(ty, body).map_err(|e| decode_code(&e))
}

/// `olm_decrypt_max_plaintext_length`: the largest plaintext the message (decoded in place)
/// can hold.
///
/// # Safety
/// `session` is null or a session's memory; the buffer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_decrypt_max_plaintext_length(
    session: *mut OlmSession,
    message_type: usize,
    message: *mut c_void,
    message_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        // SAFETY: the caller's contract.
        let body = unsafe { decode_in_place(message, message_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        let inner = if message_type == 1 {
            &body[..]
        } else {
            let f = scan::pre_key_message(&body);
            scan::field(&body, f.bytes[3]).ok_or(code::BAD_MESSAGE_FORMAT)?
        };
        let f = scan::olm_message(inner);
        f.bytes[1].map(|(_, len)| len).ok_or(code::BAD_MESSAGE_FORMAT)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session, run) }
}

/// `olm_decrypt`: decrypts a message (decoded in place) of `message_type` (0 pre-key, 1
/// normal) into `plaintext`; returns the plaintext's length.
///
/// # Safety
/// `session` is null or a session's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_decrypt(
    session: *mut OlmSession,
    message_type: usize,
    message: *mut c_void,
    message_length: usize,
    plaintext: *mut c_void,
    max_plaintext_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        // SAFETY: the caller's contract.
        let body = unsafe { decode_in_place(message, message_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        let m = check_message(message_type, &body, Some(max_plaintext_length))?;
        // SAFETY: as above.
        let mut s = unsafe { load(session) }?;
        let pt = s.decrypt(&m).map_err(|e| decryption_code(&e))?;
        if !crate::abi::writable(plaintext, max_plaintext_length) || pt.len() > max_plaintext_length {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: as above.
        unsafe { store(session, &s) }?;
        // SAFETY: as above; the length was checked above.
        unsafe { write_out(plaintext, max_plaintext_length, &pt) };
        Ok(pt.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(session, run) }
}
