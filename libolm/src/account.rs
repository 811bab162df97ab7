//! `OlmAccount`: olm.h's account functions.

use core::ffi::{c_char, c_void};

use caudata::olm::{Account, KeyId, OneTimeKeyContract};
use caudata::primitives::Curve25519PublicKey;

use crate::abi::{CallerRandom, OLM_ERROR, b64, b64_len, guard, read_in, wipe, write_out};
use crate::error::{code, string};
use crate::object::{self, ACCOUNT};
use crate::pickle;

/// libolm's `OlmAccount` (opaque; it lives in memory of `olm_account_size()` bytes).
#[repr(C)]
pub struct OlmAccount {
    _private: [u8; 0],
}

/// The account's memory as the object module sees it.
fn mem(account: *mut OlmAccount) -> *mut c_void {
    account.cast()
}

pub(crate) unsafe fn fail(account: *mut OlmAccount, code: u32) -> usize {
    // SAFETY: `account` is null or an account's memory (the caller's contract).
    unsafe { object::set_error(mem(account), &ACCOUNT, code) };
    OLM_ERROR
}

/// Loads the account from its memory.
///
/// # Safety
/// `account` is null or an account's memory.
pub(crate) unsafe fn load(account: *const OlmAccount) -> Result<Account, u32> {
    // SAFETY: forwarded contract.
    let raw = unsafe { object::state(account.cast(), &ACCOUNT) }.ok_or(code::UNINITIALISED)?;
    Account::from_libolm_raw_pickle_trusted(&raw).map_err(|_| code::CORRUPTED_PICKLE)
}

/// Stores the account into its memory.
///
/// # Safety
/// As [`load`].
pub(crate) unsafe fn store(account: *mut OlmAccount, a: &Account) -> Result<(), u32> {
    let raw = a.to_libolm_raw_pickle().map_err(|_| code::CORRUPTED_PICKLE)?;
    // SAFETY: forwarded contract.
    if unsafe { object::set_state(mem(account), &ACCOUNT, &raw) } { Ok(()) } else { Err(code::CORRUPTED_PICKLE) }
}

/// Runs `f` on the loaded account, storing it back when `f` succeeds and recording the error
/// code when anything fails.
unsafe fn with_account(account: *mut OlmAccount, f: impl FnOnce(&mut Account) -> Result<usize, u32>) -> usize {
    let run = || {
        // SAFETY: the caller's contract, forwarded.
        let mut a = unsafe { load(account) }?;
        let r = f(&mut a)?;
        // SAFETY: as above.
        unsafe { store(account, &a) }?;
        Ok(r)
    };
    // SAFETY: as above.
    guard(|| unsafe { fail(account, code::INTERNAL) }, || run().unwrap_or_else(|c| unsafe { fail(account, c) }))
}

/// Runs `f` on the loaded account without storing it back (queries).
unsafe fn read_account(account: *mut OlmAccount, f: impl FnOnce(&Account) -> Result<usize, u32>) -> usize {
    // SAFETY: the caller's contract, forwarded.
    let run = || f(&unsafe { load(account) }?);
    // SAFETY: as above.
    guard(|| unsafe { fail(account, code::INTERNAL) }, || run().unwrap_or_else(|c| unsafe { fail(account, c) }))
}

/// libolm writes key ids as base64 of their 4 big-endian bytes (`"AAAAAQ"` for 1).
fn key_id_b64(id: KeyId) -> String {
    #[allow(clippy::cast_possible_truncation)]
    b64(&(id.0 as u32).to_be_bytes())
}

/// `{"curve25519":{"<id>":"<key>",...}}`, newest key first, as libolm writes it.
fn keys_json(keys: &[(KeyId, Curve25519PublicKey)]) -> String {
    let mut s = String::from("{\"curve25519\":{");
    for (i, (id, key)) in keys.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        s.push_str(&key_id_b64(*id));
        s.push_str("\":\"");
        s.push_str(&key.to_base64());
        s.push('"');
    }
    s.push_str("}}");
    s
}

fn unpublished_one_time_keys(a: &Account) -> Vec<(KeyId, Curve25519PublicKey)> {
    let mut keys: Vec<_> = a.one_time_keys().into_iter().collect();
    keys.sort_by_key(|k| core::cmp::Reverse(k.0));
    keys
}

fn fallback_keys(a: &Account, unpublished_only: bool) -> Vec<(KeyId, Curve25519PublicKey)> {
    if unpublished_only {
        a.fallback_key().into_iter().collect()
    } else {
        a.current_fallback_key().into_iter().collect()
    }
}

/// The JSON length libolm reports for `n` keys.
const fn keys_json_length(n: usize) -> usize {
    // `{"curve25519":{` and `}}`, plus `"AAAAAQ":"<43>"` per key, with a comma between keys
    if n == 0 { 17 } else { 16 + n * (1 + 6 + 3 + 43 + 1 + 1) }
}

const IDENTITY_JSON_LENGTH: usize = 1 + 13 + 1 + 43 + 2 + 10 + 1 + 43 + 2;

/// `olm_account_size`: the bytes an `OlmAccount` needs.
#[unsafe(no_mangle)]
pub extern "C" fn olm_account_size() -> usize {
    ACCOUNT.size()
}

/// `olm_account`: initialises an account in `memory` (of `olm_account_size()` bytes).
///
/// # Safety
/// `memory` is null or valid for `olm_account_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account(memory: *mut c_void) -> *mut OlmAccount {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &ACCOUNT) }.cast()
}

/// `olm_account_last_error`: libolm's name of the account's last error.
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_last_error(account: *const OlmAccount) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(account.cast()) })
}

/// `olm_account_last_error_code`: the account's last error.
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_last_error_code(account: *const OlmAccount) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(account.cast()) }
}

/// `olm_clear_account`: wipes the account (its secrets included); returns its size.
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_account(account: *mut OlmAccount) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(mem(account), &ACCOUNT) }
}

/// `olm_pickle_account_length`.
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_account_length(account: *const OlmAccount) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::length(account.cast(), &ACCOUNT) }
}

/// `olm_pickle_account`: libolm's pickle of the account under `key`.
///
/// # Safety
/// `account` is null or an account's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_account(
    account: *mut OlmAccount,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::pickle(mem(account), &ACCOUNT, key, key_length, pickled, pickled_length) }
}

/// `olm_unpickle_account`: loads an account from a libolm pickle (versions 2 to 4). The
/// pickle buffer is base64-decoded in place.
///
/// # Safety
/// `account` is null or an account's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_unpickle_account(
    account: *mut OlmAccount,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    let normalise = |raw: &[u8]| {
        let a = Account::from_libolm_raw_pickle(raw).map_err(|e| crate::error::pickle_code(&e))?;
        a.to_libolm_raw_pickle().map_err(|_| code::CORRUPTED_PICKLE)
    };
    // SAFETY: the caller's contract.
    unsafe { pickle::unpickle(mem(account), &ACCOUNT, key, key_length, pickled, pickled_length, normalise) }
}

/// `olm_create_account_random_length`: 64 (an Ed25519 seed, then a Curve25519 key).
#[unsafe(no_mangle)]
pub extern "C" fn olm_create_account_random_length(_account: *const OlmAccount) -> usize {
    64
}

/// `olm_create_account`: new identity keys from the caller's 64 random bytes, which are then
/// wiped. An account that had keys starts afresh.
///
/// # Safety
/// `account` is null or an account's memory; `random` is valid for `random_length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_create_account(
    account: *mut OlmAccount,
    random: *mut c_void,
    random_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if random_length < 64 {
            return Err(code::NOT_ENOUGH_RANDOM);
        }
        // SAFETY: the caller's contract.
        let bytes = unsafe { read_in(random, random_length) }.ok_or(code::NOT_ENOUGH_RANDOM)?;
        let mut rng = CallerRandom::new(&bytes);
        let mut a = Account::new_with_rng(&mut rng);
        a.set_one_time_key_contract(OneTimeKeyContract::Libolm);
        // SAFETY: as above.
        unsafe { store(account, &a) }?;
        Ok(0)
    };
    // SAFETY: the caller's contract.
    let r =
        guard(|| unsafe { fail(account, code::INTERNAL) }, || run().unwrap_or_else(|c| unsafe { fail(account, c) }));
    // SAFETY: as above; libolm wipes the random buffer whatever happened.
    unsafe { wipe(random, random_length) };
    r
}

/// `olm_account_identity_keys_length`: 116.
#[unsafe(no_mangle)]
pub extern "C" fn olm_account_identity_keys_length(_account: *const OlmAccount) -> usize {
    IDENTITY_JSON_LENGTH
}

/// `olm_account_identity_keys`: `{"curve25519":"…","ed25519":"…"}`.
///
/// # Safety
/// `account` is null or an account's memory; `identity_keys` is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_identity_keys(
    account: *mut OlmAccount,
    identity_keys: *mut c_void,
    identity_key_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe {
        read_account(account, |a| {
            if identity_key_length < IDENTITY_JSON_LENGTH || !crate::abi::writable(identity_keys, identity_key_length) {
                return Err(code::OUTPUT_BUFFER_TOO_SMALL);
            }
            let k = a.identity_keys();
            let json = format!(
                "{{\"curve25519\":\"{}\",\"ed25519\":\"{}\"}}",
                k.curve25519.to_base64(),
                k.ed25519.to_base64()
            );
            write_out(identity_keys, identity_key_length, json.as_bytes());
            Ok(json.len())
        })
    }
}

/// `olm_account_signature_length`: 86.
#[unsafe(no_mangle)]
pub extern "C" fn olm_account_signature_length(_account: *const OlmAccount) -> usize {
    b64_len(64)
}

/// `olm_account_sign`: the account's Ed25519 signature of `message`, in base64.
///
/// # Safety
/// `account` is null or an account's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_sign(
    account: *mut OlmAccount,
    message: *const c_void,
    message_length: usize,
    signature: *mut c_void,
    signature_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe {
        read_account(account, |a| {
            if signature_length < b64_len(64) || !crate::abi::writable(signature, signature_length) {
                return Err(code::OUTPUT_BUFFER_TOO_SMALL);
            }
            let m = read_in(message, message_length).ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
            let sig = b64(&a.sign(&m[..]).to_bytes());
            write_out(signature, signature_length, sig.as_bytes());
            Ok(sig.len())
        })
    }
}

/// `olm_account_one_time_keys_length`.
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_one_time_keys_length(account: *const OlmAccount) -> usize {
    // SAFETY: the caller's contract.
    let n = unsafe { load(account) }.map(|a| a.one_time_keys().len()).unwrap_or(0);
    keys_json_length(n)
}

/// `olm_account_one_time_keys`: the unpublished one-time keys as libolm's JSON, newest first.
///
/// # Safety
/// `account` is null or an account's memory; the buffer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_one_time_keys(
    account: *mut OlmAccount,
    one_time_keys_json: *mut c_void,
    one_time_key_json_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe {
        read_account(account, |a| {
            let json = keys_json(&unpublished_one_time_keys(a));
            if one_time_key_json_length < json.len()
                || !write_out(one_time_keys_json, one_time_key_json_length, json.as_bytes())
            {
                return Err(code::OUTPUT_BUFFER_TOO_SMALL);
            }
            Ok(json.len())
        })
    }
}

/// `olm_account_mark_keys_as_published`: returns how many one-time keys it marked (the
/// current fallback key is marked too).
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_mark_keys_as_published(account: *mut OlmAccount) -> usize {
    // SAFETY: the caller's contract.
    unsafe {
        with_account(account, |a| {
            let n = a.one_time_keys().len();
            a.mark_keys_as_published();
            Ok(n)
        })
    }
}

/// `olm_account_max_number_of_one_time_keys`: 100, libolm's number.
#[unsafe(no_mangle)]
pub extern "C" fn olm_account_max_number_of_one_time_keys(_account: *const OlmAccount) -> usize {
    OneTimeKeyContract::Libolm.max_published_one_time_keys()
}

/// `olm_account_generate_one_time_keys_random_length`: 32 per key.
#[unsafe(no_mangle)]
pub extern "C" fn olm_account_generate_one_time_keys_random_length(
    _account: *const OlmAccount,
    number_of_keys: usize,
) -> usize {
    number_of_keys.wrapping_mul(32)
}

/// `olm_account_generate_one_time_keys`: `number_of_keys` keys from the caller's random bytes
/// (then wiped); the oldest keys beyond 100 are forgotten.
///
/// # Safety
/// `account` is null or an account's memory; `random` is valid for `random_length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_generate_one_time_keys(
    account: *mut OlmAccount,
    number_of_keys: usize,
    random: *mut c_void,
    random_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    let r = unsafe {
        with_account(account, |a| {
            let needed = number_of_keys.checked_mul(32).ok_or(code::NOT_ENOUGH_RANDOM)?;
            if random_length < needed {
                return Err(code::NOT_ENOUGH_RANDOM);
            }
            let bytes = read_in(random, needed).ok_or(code::NOT_ENOUGH_RANDOM)?;
            let mut rng = CallerRandom::new(&bytes);
            a.generate_one_time_keys_with_rng(number_of_keys, &mut rng);
            if rng.short() {
                return Err(code::NOT_ENOUGH_RANDOM);
            }
            Ok(number_of_keys)
        })
    };
    // SAFETY: as above; libolm wipes the random buffer whatever happened.
    unsafe { wipe(random, random_length) };
    r
}

/// `olm_account_generate_fallback_key_random_length`: 32.
#[unsafe(no_mangle)]
pub extern "C" fn olm_account_generate_fallback_key_random_length(_account: *const OlmAccount) -> usize {
    32
}

/// `olm_account_generate_fallback_key`: a new fallback key (the current one becomes the
/// previous one); returns 1. The random bytes are wiped.
///
/// # Safety
/// `account` is null or an account's memory; `random` is valid for `random_length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_generate_fallback_key(
    account: *mut OlmAccount,
    random: *mut c_void,
    random_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    let r = unsafe {
        with_account(account, |a| {
            if random_length < 32 {
                return Err(code::NOT_ENOUGH_RANDOM);
            }
            let bytes = read_in(random, 32).ok_or(code::NOT_ENOUGH_RANDOM)?;
            a.generate_fallback_key_with_rng(&mut CallerRandom::new(&bytes));
            Ok(1)
        })
    };
    // SAFETY: as above.
    unsafe { wipe(random, random_length) };
    r
}

fn fallback_json_length(account: *const OlmAccount, unpublished_only: bool) -> usize {
    guard(
        || keys_json_length(0),
        || {
            // SAFETY: called only from the exported functions below with the caller's pointer.
            let n = unsafe { load(account) }.map(|a| fallback_keys(&a, unpublished_only).len()).unwrap_or(0);
            keys_json_length(n)
        },
    )
}

unsafe fn fallback_json(
    account: *mut OlmAccount,
    out: *mut c_void,
    out_length: usize,
    unpublished_only: bool,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe {
        read_account(account, |a| {
            let json = keys_json(&fallback_keys(a, unpublished_only));
            if out_length < json.len() || !write_out(out, out_length, json.as_bytes()) {
                return Err(code::OUTPUT_BUFFER_TOO_SMALL);
            }
            Ok(json.len())
        })
    }
}

/// `olm_account_fallback_key_length`.
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_fallback_key_length(account: *const OlmAccount) -> usize {
    fallback_json_length(account, false)
}

/// `olm_account_fallback_key`: the current fallback key, published or not, as libolm's JSON.
///
/// # Safety
/// `account` is null or an account's memory; the buffer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_fallback_key(
    account: *mut OlmAccount,
    fallback_key_json: *mut c_void,
    fallback_key_json_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { fallback_json(account, fallback_key_json, fallback_key_json_length, false) }
}

/// `olm_account_unpublished_fallback_key_length`.
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_unpublished_fallback_key_length(account: *const OlmAccount) -> usize {
    fallback_json_length(account, true)
}

/// `olm_account_unpublished_fallback_key`: the current fallback key if not yet published.
///
/// # Safety
/// `account` is null or an account's memory; the buffer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_unpublished_fallback_key(
    account: *mut OlmAccount,
    fallback_key_json: *mut c_void,
    fallback_key_json_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { fallback_json(account, fallback_key_json, fallback_key_json_length, true) }
}

/// `olm_account_forget_old_fallback_key`: forgets the previous fallback key.
///
/// # Safety
/// `account` is null or an account's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_account_forget_old_fallback_key(account: *mut OlmAccount) {
    // SAFETY: the caller's contract. libolm reports nothing here; neither do we.
    let code_before = unsafe { object::last_error(account.cast()) };
    // SAFETY: as above.
    let r = unsafe {
        with_account(account, |a| {
            a.forget_fallback_key();
            Ok(0)
        })
    };
    if r == OLM_ERROR {
        // SAFETY: as above: a void function leaves the last error as it was.
        unsafe { object::set_error(mem(account), &ACCOUNT, code_before) };
    }
}

/// `olm_remove_one_time_keys`: removes the one-time key `session` was created with and returns
/// its id (for a fallback key, returns its id and keeps it).
///
/// # Safety
/// `account` and `session` are null or objects of their types.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_remove_one_time_keys(
    account: *mut OlmAccount,
    session: *mut crate::session::OlmSession,
) -> usize {
    // SAFETY: the caller's contract.
    let key = unsafe { crate::session::load(session) }.map(|s| s.session_keys().one_time_key);
    // SAFETY: as above.
    unsafe {
        with_account(account, |a| {
            let key = key.map_err(|_| code::BAD_MESSAGE_KEY_ID)?;
            a.remove_one_time_key_libolm(key).map(|id| id.0 as usize).ok_or(code::BAD_MESSAGE_KEY_ID)
        })
    }
}
