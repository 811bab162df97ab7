//! pk.h: `OlmPkEncryption`, `OlmPkDecryption` (key backup's
//! `m.megolm_backup.v1.curve25519-aes-sha2`) and `OlmPkSigning` (cross-signing keys).

use core::ffi::{c_char, c_void};

use caudata::Ed25519SecretKey;
use caudata::pk_encryption::{Message, PkDecryption, PkEncryption};
use caudata::primitives::{Curve25519PublicKey, Curve25519SecretKey, SecretBytes};
use zeroize::Zeroizing;

use crate::abi::{CallerRandom, OLM_ERROR, b64, b64_len, decode_key, guard, read_in, write_out};
use crate::error::{code, string};
use crate::object::{self, Kind, PK_DECRYPTION, PK_ENCRYPTION, PK_SIGNING};
use crate::pickle;

/// libolm's `OlmPkEncryption` (opaque; `olm_pk_encryption_size()` bytes).
#[repr(C)]
pub struct OlmPkEncryption {
    _private: [u8; 0],
}

/// libolm's `OlmPkDecryption` (opaque; `olm_pk_decryption_size()` bytes).
#[repr(C)]
pub struct OlmPkDecryption {
    _private: [u8; 0],
}

/// libolm's `OlmPkSigning` (opaque; `olm_pk_signing_size()` bytes).
#[repr(C)]
pub struct OlmPkSigning {
    _private: [u8; 0],
}

unsafe fn run_on(obj: *mut c_void, kind: &Kind, run: impl FnOnce() -> Result<usize, u32>) -> usize {
    let fail = |c| {
        // SAFETY: `obj` is null or an object of type `kind` (the caller's contract).
        unsafe { object::set_error(obj, kind, c) };
        OLM_ERROR
    };
    guard(|| fail(code::INTERNAL), || run().unwrap_or_else(fail))
}

const KEY_LENGTH: usize = 43;
const MAC_LENGTH: usize = 8;

// ------------------------------------------------------------------ encryption

/// `olm_pk_encryption_size`.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_encryption_size() -> usize {
    PK_ENCRYPTION.size()
}

/// `olm_pk_encryption`: initialises a PK encryption object in `memory`.
///
/// # Safety
/// `memory` is null or valid for `olm_pk_encryption_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_encryption(memory: *mut c_void) -> *mut OlmPkEncryption {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &PK_ENCRYPTION) }.cast()
}

/// `olm_pk_encryption_last_error`.
///
/// # Safety
/// `encryption` is null or a PK encryption object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_encryption_last_error(encryption: *const OlmPkEncryption) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(encryption.cast()) })
}

/// `olm_pk_encryption_last_error_code`.
///
/// # Safety
/// `encryption` is null or a PK encryption object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_encryption_last_error_code(encryption: *const OlmPkEncryption) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(encryption.cast()) }
}

/// `olm_clear_pk_encryption`: wipes the object; returns its size.
///
/// # Safety
/// `encryption` is null or a PK encryption object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_pk_encryption(encryption: *mut OlmPkEncryption) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(encryption.cast(), &PK_ENCRYPTION) }
}

/// `olm_pk_encryption_set_recipient_key`: the recipient's key, the first 43 base64 characters
/// of `key`.
///
/// # Safety
/// `encryption` is null or a PK encryption object's memory; `key` is valid for `key_length`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_encryption_set_recipient_key(
    encryption: *mut OlmPkEncryption,
    key: *const c_void,
    key_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if key_length < KEY_LENGTH {
            return Err(code::INPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let k = unsafe { read_in(key, KEY_LENGTH) }.and_then(|k| decode_key(&k)).ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        // SAFETY: as above.
        if unsafe { object::set_state(encryption.cast(), &PK_ENCRYPTION, &k) } { Ok(0) } else { Err(code::INTERNAL) }
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(encryption.cast(), &PK_ENCRYPTION, run) }
}

/// `olm_pk_ciphertext_length`: the base64 length of the ciphertext of `plaintext_length` bytes.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_ciphertext_length(_encryption: *const OlmPkEncryption, plaintext_length: usize) -> usize {
    b64_len(plaintext_length.wrapping_add(16 - plaintext_length % 16))
}

/// `olm_pk_mac_length`: 11.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_mac_length(_encryption: *const OlmPkEncryption) -> usize {
    b64_len(MAC_LENGTH)
}

/// `olm_pk_key_length`: 43.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_key_length() -> usize {
    KEY_LENGTH
}

/// `olm_pk_encrypt_random_length`: 32 (the ephemeral key).
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_encrypt_random_length(_encryption: *const OlmPkEncryption) -> usize {
    32
}

/// `olm_pk_encrypt`: encrypts `plaintext` to the recipient key with an ephemeral key from
/// `random`; writes the ciphertext, MAC and ephemeral key in base64. Returns 8 (libolm returns
/// the raw MAC length).
///
/// # Safety
/// `encryption` is null or a PK encryption object's memory; the buffers are valid for their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_encrypt(
    encryption: *mut OlmPkEncryption,
    plaintext: *const c_void,
    plaintext_length: usize,
    ciphertext: *mut c_void,
    ciphertext_length: usize,
    mac: *mut c_void,
    mac_length: usize,
    ephemeral_key: *mut c_void,
    ephemeral_key_size: usize,
    random: *const c_void,
    random_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        // libolm compares the MAC buffer with the *raw* MAC length (8) and then writes 11
        // characters; caudata requires room for the 11 it writes.
        if ciphertext_length < olm_pk_ciphertext_length(encryption, plaintext_length)
            || mac_length < b64_len(MAC_LENGTH)
            || ephemeral_key_size < KEY_LENGTH
            || !crate::abi::writable(ciphertext, ciphertext_length)
            || !crate::abi::writable(mac, mac_length)
            || !crate::abi::writable(ephemeral_key, ephemeral_key_size)
        {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        if random_length < 32 {
            return Err(code::NOT_ENOUGH_RANDOM);
        }
        // SAFETY: the caller's contract.
        let recipient = unsafe { object::state(encryption.cast(), &PK_ENCRYPTION) }.ok_or(code::UNINITIALISED)?;
        let recipient: [u8; 32] = recipient[..].try_into().map_err(|_| code::UNINITIALISED)?;
        let enc =
            PkEncryption::from_key(Curve25519PublicKey::from_bytes(recipient)).map_err(|_| code::NON_CONTRIBUTORY)?;
        // SAFETY: as above.
        let bytes = unsafe { read_in(random, 32) }.ok_or(code::NOT_ENOUGH_RANDOM)?;
        // SAFETY: as above.
        let pt = unsafe { read_in(plaintext, plaintext_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let m = enc.encrypt_with_rng(&pt, &mut CallerRandom::new(&bytes));
        let (ct, tag, eph) = m.to_base64_parts();
        // SAFETY: as above; every length was checked.
        unsafe {
            write_out(ephemeral_key, ephemeral_key_size, eph.as_bytes());
            write_out(mac, mac_length, tag.as_bytes());
            write_out(ciphertext, ciphertext_length, ct.as_bytes());
        }
        Ok(MAC_LENGTH)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(encryption.cast(), &PK_ENCRYPTION, run) }
}

// ------------------------------------------------------------------ decryption

unsafe fn load_decryption(decryption: *const OlmPkDecryption) -> Result<PkDecryption, u32> {
    // SAFETY: forwarded contract.
    let raw = unsafe { object::state(decryption.cast(), &PK_DECRYPTION) }.ok_or(code::UNINITIALISED)?;
    PkDecryption::from_libolm_raw_pickle(&raw).map_err(|_| code::CORRUPTED_PICKLE)
}

/// `olm_pk_decryption_size`.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_decryption_size() -> usize {
    PK_DECRYPTION.size()
}

/// `olm_pk_decryption`: initialises a PK decryption object in `memory`.
///
/// # Safety
/// `memory` is null or valid for `olm_pk_decryption_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_decryption(memory: *mut c_void) -> *mut OlmPkDecryption {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &PK_DECRYPTION) }.cast()
}

/// `olm_pk_decryption_last_error`.
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_decryption_last_error(decryption: *const OlmPkDecryption) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(decryption.cast()) })
}

/// `olm_pk_decryption_last_error_code`.
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_decryption_last_error_code(decryption: *const OlmPkDecryption) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(decryption.cast()) }
}

/// `olm_clear_pk_decryption`: wipes the object (its secret key included); returns its size.
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_pk_decryption(decryption: *mut OlmPkDecryption) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(decryption.cast(), &PK_DECRYPTION) }
}

/// `olm_pk_private_key_length`: 32.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_private_key_length() -> usize {
    32
}

/// `olm_pk_generate_key_random_length`: 32.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_generate_key_random_length() -> usize {
    32
}

/// `olm_pk_key_from_private`: takes the 32-byte secret key `privkey` (kept as given) and
/// writes its public key in base64.
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory; the buffers are valid for their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_key_from_private(
    decryption: *mut OlmPkDecryption,
    pubkey: *mut c_void,
    pubkey_length: usize,
    privkey: *const c_void,
    privkey_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if pubkey_length < KEY_LENGTH || !crate::abi::writable(pubkey, pubkey_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        if privkey_length < 32 {
            return Err(code::INPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let secret = unsafe { read_in(privkey, 32) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let secret = SecretBytes::<32>::from_slice(&secret).ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let d = PkDecryption::from_key(Curve25519SecretKey::from_secret_bytes(&secret));
        let public = d.public_key().to_base64();
        // SAFETY: as above.
        if !unsafe { object::set_state(decryption.cast(), &PK_DECRYPTION, &d.to_libolm_raw_pickle()) } {
            return Err(code::INTERNAL);
        }
        // SAFETY: as above; the length was checked.
        unsafe { write_out(pubkey, pubkey_length, public.as_bytes()) };
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(decryption.cast(), &PK_DECRYPTION, run) }
}

/// `olm_pk_generate_key`: as `olm_pk_key_from_private` (the caller's random bytes are the key).
///
/// # Safety
/// As [`olm_pk_key_from_private`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_generate_key(
    decryption: *mut OlmPkDecryption,
    pubkey: *mut c_void,
    pubkey_length: usize,
    privkey: *const c_void,
    privkey_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { olm_pk_key_from_private(decryption, pubkey, pubkey_length, privkey, privkey_length) }
}

/// `olm_pickle_pk_decryption_length`.
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_pk_decryption_length(decryption: *const OlmPkDecryption) -> usize {
    // SAFETY: the caller's contract.
    let _ = decryption;
    b64_len(pickle::sealed_length(PK_DECRYPTION_RAW))
}

const PK_DECRYPTION_RAW: usize = 4 + 32 + 32;

/// `olm_pickle_pk_decryption`: libolm's pickle of the key under `key`.
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory; the buffers are valid for their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pickle_pk_decryption(
    decryption: *mut OlmPkDecryption,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
) -> usize {
    // SAFETY: the caller's contract.
    unsafe { pickle::pickle(decryption.cast(), &PK_DECRYPTION, key, key_length, pickled, pickled_length) }
}

/// `olm_unpickle_pk_decryption`: loads the key from a libolm pickle and writes its public key
/// to `pubkey` (if not null).
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory; the buffers are valid for their
/// lengths (`pubkey` may be null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_unpickle_pk_decryption(
    decryption: *mut OlmPkDecryption,
    key: *const c_void,
    key_length: usize,
    pickled: *mut c_void,
    pickled_length: usize,
    pubkey: *mut c_void,
    pubkey_length: usize,
) -> usize {
    if !pubkey.is_null() && pubkey_length < KEY_LENGTH {
        // SAFETY: the caller's contract.
        return unsafe { run_on(decryption.cast(), &PK_DECRYPTION, || Err(code::OUTPUT_BUFFER_TOO_SMALL)) };
    }
    let public = core::cell::Cell::new(None);
    let normalise = |raw: &[u8]| {
        let d = PkDecryption::from_libolm_raw_pickle(raw).map_err(|e| crate::error::pickle_code(&e))?;
        public.set(Some(d.public_key()));
        Ok(d.to_libolm_raw_pickle())
    };
    // SAFETY: the caller's contract.
    let r = unsafe {
        pickle::unpickle(decryption.cast(), &PK_DECRYPTION, key, key_length, pickled, pickled_length, normalise)
    };
    if r != OLM_ERROR
        && let Some(p) = public.get()
    {
        // SAFETY: the caller's contract; the length was checked.
        unsafe { write_out(pubkey, pubkey_length, p.to_base64().as_bytes()) };
    }
    r
}

/// `olm_pk_max_plaintext_length`: the decoded length of `ciphertext_length` base64 characters
/// (`(size_t)-1` if no base64 has that length, as in libolm).
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_max_plaintext_length(_decryption: *const OlmPkDecryption, ciphertext_length: usize) -> usize {
    caudata::hazmat::libolm_base64_decoded_length(ciphertext_length).unwrap_or(OLM_ERROR)
}

/// `olm_pk_decrypt`: decrypts a message (its ciphertext is decoded in place) into `plaintext`;
/// returns the plaintext's length.
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory; the buffers are valid for their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_decrypt(
    decryption: *mut OlmPkDecryption,
    ephemeral_key: *const c_void,
    ephemeral_key_length: usize,
    mac: *const c_void,
    mac_length: usize,
    ciphertext: *mut c_void,
    ciphertext_length: usize,
    plaintext: *mut c_void,
    max_plaintext_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if max_plaintext_length < olm_pk_max_plaintext_length(decryption, ciphertext_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        let raw_length = caudata::hazmat::libolm_base64_decoded_length(ciphertext_length);
        if ephemeral_key_length != KEY_LENGTH || mac_length != b64_len(MAC_LENGTH) || raw_length.is_none() {
            return Err(code::INVALID_BASE64);
        }
        // SAFETY: the caller's contract.
        let eph =
            unsafe { read_in(ephemeral_key, KEY_LENGTH) }.and_then(|k| decode_key(&k)).ok_or(code::INVALID_BASE64)?;
        // SAFETY: as above.
        let tag = unsafe { read_in(mac, mac_length) }
            .and_then(|m| caudata::hazmat::libolm_base64_decode(&m))
            .ok_or(code::INVALID_BASE64)?;
        // SAFETY: as above.
        let ct = unsafe { crate::abi::decode_in_place(ciphertext, ciphertext_length) }
            .map_err(|()| code::INPUT_BUFFER_TOO_SMALL)?
            .ok_or(code::INVALID_BASE64)?;
        // SAFETY: as above.
        let d = unsafe { load_decryption(decryption) }?;
        let m = Message { ciphertext: ct, mac: tag, ephemeral_key: Curve25519PublicKey::from_bytes(eph) };
        let pt = Zeroizing::new(d.decrypt(&m).map_err(|_| code::BAD_MESSAGE_MAC)?);
        if pt.len() > max_plaintext_length || !crate::abi::writable(plaintext, max_plaintext_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: as above; the length was checked.
        unsafe { write_out(plaintext, max_plaintext_length, &pt) };
        Ok(pt.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(decryption.cast(), &PK_DECRYPTION, run) }
}

/// `olm_pk_get_private_key`: copies the 32-byte secret key into `private_key`.
///
/// # Safety
/// `decryption` is null or a PK decryption object's memory; the buffer is valid for its
/// length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_get_private_key(
    decryption: *mut OlmPkDecryption,
    private_key: *mut c_void,
    private_key_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if private_key_length < 32 || !crate::abi::writable(private_key, private_key_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let d = unsafe { load_decryption(decryption) }?;
        let secret = d.secret_key().to_secret_bytes();
        // SAFETY: as above; the length was checked.
        unsafe { write_out(private_key, private_key_length, secret.expose()) };
        Ok(32)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(decryption.cast(), &PK_DECRYPTION, run) }
}

// ------------------------------------------------------------------ signing

/// `olm_pk_signing_size`.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_signing_size() -> usize {
    PK_SIGNING.size()
}

/// `olm_pk_signing`: initialises a signing object in `memory`.
///
/// # Safety
/// `memory` is null or valid for `olm_pk_signing_size()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_signing(memory: *mut c_void) -> *mut OlmPkSigning {
    // SAFETY: the caller's contract.
    unsafe { object::init(memory, &PK_SIGNING) }.cast()
}

/// `olm_pk_signing_last_error`.
///
/// # Safety
/// `sign` is null or a signing object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_signing_last_error(sign: *const OlmPkSigning) -> *const c_char {
    // SAFETY: the caller's contract.
    string(unsafe { object::last_error(sign.cast()) })
}

/// `olm_pk_signing_last_error_code`.
///
/// # Safety
/// `sign` is null or a signing object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_signing_last_error_code(sign: *const OlmPkSigning) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { object::last_error(sign.cast()) }
}

/// `olm_clear_pk_signing`: wipes the object (its seed included); returns its size.
///
/// # Safety
/// `sign` is null or a signing object's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_clear_pk_signing(sign: *mut OlmPkSigning) -> usize {
    // SAFETY: the caller's contract.
    unsafe { object::clear(sign.cast(), &PK_SIGNING) }
}

/// `olm_pk_signing_key_from_seed`: the Ed25519 key of the 32-byte `seed`; writes its public key
/// in base64.
///
/// # Safety
/// `signing` is null or a signing object's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_signing_key_from_seed(
    signing: *mut OlmPkSigning,
    pubkey: *mut c_void,
    pubkey_length: usize,
    seed: *const c_void,
    seed_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if pubkey_length < KEY_LENGTH || !crate::abi::writable(pubkey, pubkey_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        if seed_length < 32 {
            return Err(code::INPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let seed = unsafe { read_in(seed, 32) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let key = Ed25519SecretKey::from_seed(SecretBytes::from_slice(&seed).ok_or(code::INPUT_BUFFER_TOO_SMALL)?);
        // SAFETY: as above.
        if !unsafe { object::set_state(signing.cast(), &PK_SIGNING, &seed) } {
            return Err(code::INTERNAL);
        }
        // SAFETY: as above; the length was checked.
        unsafe { write_out(pubkey, pubkey_length, key.public_key().to_base64().as_bytes()) };
        Ok(0)
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(signing.cast(), &PK_SIGNING, run) }
}

/// `olm_pk_signing_seed_length`: 32.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_signing_seed_length() -> usize {
    32
}

/// `olm_pk_signing_public_key_length`: 43.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_signing_public_key_length() -> usize {
    KEY_LENGTH
}

/// `olm_pk_signature_length`: 86.
#[unsafe(no_mangle)]
pub extern "C" fn olm_pk_signature_length() -> usize {
    b64_len(64)
}

/// `olm_pk_sign`: the Ed25519 signature of `message`, in base64.
///
/// # Safety
/// `signing` is null or a signing object's memory; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn olm_pk_sign(
    signing: *mut OlmPkSigning,
    message: *const u8,
    message_length: usize,
    signature: *mut u8,
    signature_length: usize,
) -> usize {
    let run = || -> Result<usize, u32> {
        if signature_length < b64_len(64) || !crate::abi::writable(signature.cast(), signature_length) {
            return Err(code::OUTPUT_BUFFER_TOO_SMALL);
        }
        // SAFETY: the caller's contract.
        let seed = unsafe { object::state(signing.cast(), &PK_SIGNING) }.ok_or(code::UNINITIALISED)?;
        let key = Ed25519SecretKey::from_seed(SecretBytes::from_slice(&seed).ok_or(code::UNINITIALISED)?);
        // SAFETY: as above.
        let msg = unsafe { read_in(message.cast(), message_length) }.ok_or(code::INPUT_BUFFER_TOO_SMALL)?;
        let text = b64(&key.sign(&msg).to_bytes());
        // SAFETY: as above; the length was checked.
        unsafe { write_out(signature.cast(), signature_length, text.as_bytes()) };
        Ok(text.len())
    };
    // SAFETY: the caller's contract.
    unsafe { run_on(signing.cast(), &PK_SIGNING, run) }
}
