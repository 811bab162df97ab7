//! crypto.h: the primitive functions libolm exports for its own unit tests, each a thin
//! call into caudata's primitives (`caudata::hazmat`, the key types). Key structures are
//! libolm's plain byte arrays.
//!
//! Two differences, as everywhere in caudata: Ed25519 verification is strict, and a
//! Curve25519 shared secret with a key of small order is refused; this function cannot
//! report an error, so it writes the 32 zero bytes that X25519 yields for such a key.

use core::ffi::c_int;

use caudata::hazmat;
use caudata::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature, SecretBytes,
};
use zeroize::Zeroizing;

use crate::abi::{guard, read_in};

/// `struct _olm_aes256_key`.
#[repr(C)]
pub struct OlmAes256Key {
    /// The key.
    pub key: [u8; 32],
}

/// `struct _olm_aes256_iv`.
#[repr(C)]
pub struct OlmAes256Iv {
    /// The IV.
    pub iv: [u8; 16],
}

/// `struct _olm_curve25519_key_pair`: public key, then private key.
#[repr(C)]
pub struct OlmCurve25519KeyPair {
    /// The public key.
    pub public_key: [u8; 32],
    /// The private key, as generated (unclamped).
    pub private_key: [u8; 32],
}

/// `struct _olm_ed25519_key_pair`: public key, then the 64-byte expanded private key.
#[repr(C)]
pub struct OlmEd25519KeyPair {
    /// The public key.
    pub public_key: [u8; 32],
    /// The expanded private key (clamped scalar, nonce prefix).
    pub private_key: [u8; 64],
}

/// Reads `len` bytes (or an empty slice for a null pointer with length 0).
unsafe fn bytes(ptr: *const u8, len: usize) -> Zeroizing<Vec<u8>> {
    // SAFETY: forwarded contract; an unreadable buffer (null with a length) reads as empty.
    unsafe { read_in(ptr.cast(), len) }.unwrap_or_default()
}

/// Writes `data` to `ptr` (nothing for a null pointer).
unsafe fn put(ptr: *mut u8, data: &[u8]) {
    // SAFETY: forwarded contract: `ptr` is valid for `data.len()` bytes.
    let _ = unsafe { crate::abi::write_out(ptr.cast(), data.len(), data) };
}

/// `_olm_crypto_aes_encrypt_cbc_length`: the padded length.
#[unsafe(no_mangle)]
pub extern "C" fn _olm_crypto_aes_encrypt_cbc_length(input_length: usize) -> usize {
    // wrapping, as libolm's `size_t` arithmetic (no panic for any length)
    input_length.wrapping_add(16 - input_length % 16)
}

/// `_olm_crypto_aes_encrypt_cbc`: AES-256-CBC with PKCS#7 padding.
///
/// # Safety
/// `key` and `iv` point to their structures; `input` is valid for `input_length` bytes and
/// `output` for `_olm_crypto_aes_encrypt_cbc_length(input_length)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_aes_encrypt_cbc(
    key: *const OlmAes256Key,
    iv: *const OlmAes256Iv,
    input: *const u8,
    input_length: usize,
    output: *mut u8,
) {
    if key.is_null() || iv.is_null() {
        return;
    }
    guard(
        || (),
        || {
            // SAFETY: non-null and pointing to the structures (the caller's contract).
            let (key, iv) = unsafe { (&(*key).key, &(*iv).iv) };
            // SAFETY: the caller's contract.
            let ct = hazmat::aes256_cbc_encrypt(key, iv, &unsafe { bytes(input, input_length) });
            // SAFETY: as above.
            unsafe { put(output, &ct) };
        },
    );
}

/// `_olm_crypto_aes_decrypt_cbc`: AES-256-CBC decryption; the plaintext's length, or
/// `(size_t)-1` for a bad length or padding.
///
/// # Safety
/// As [`_olm_crypto_aes_encrypt_cbc`], `output` valid for `input_length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_aes_decrypt_cbc(
    key: *const OlmAes256Key,
    iv: *const OlmAes256Iv,
    input: *const u8,
    input_length: usize,
    output: *mut u8,
) -> usize {
    if key.is_null() || iv.is_null() {
        return usize::MAX;
    }
    guard(
        || usize::MAX,
        || {
            // SAFETY: non-null and pointing to the structures (the caller's contract).
            let (key, iv) = unsafe { (&(*key).key, &(*iv).iv) };
            // SAFETY: the caller's contract.
            match hazmat::aes256_cbc_decrypt(key, iv, &unsafe { bytes(input, input_length) }) {
                Some(pt) => {
                    let pt = Zeroizing::new(pt);
                    // SAFETY: as above; the plaintext is shorter than the input.
                    unsafe { put(output, &pt) };
                    pt.len()
                }
                None => usize::MAX,
            }
        },
    )
}

/// `_olm_crypto_sha256`: 32 bytes of SHA-256.
///
/// # Safety
/// `input` is valid for `input_length` bytes, `output` for 32.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_sha256(input: *const u8, input_length: usize, output: *mut u8) {
    guard(
        || (),
        || {
            // SAFETY: the caller's contract.
            let digest = hazmat::sha256(&unsafe { bytes(input, input_length) });
            // SAFETY: as above.
            unsafe { put(output, &digest) };
        },
    );
}

/// `_olm_crypto_hmac_sha256`: 32 bytes of HMAC-SHA-256.
///
/// # Safety
/// The buffers are valid for their lengths, `output` for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_hmac_sha256(
    key: *const u8,
    key_length: usize,
    input: *const u8,
    input_length: usize,
    output: *mut u8,
) {
    guard(
        || (),
        || {
            // SAFETY: the caller's contract.
            let (key, input) = unsafe { (bytes(key, key_length), bytes(input, input_length)) };
            let mac = Zeroizing::new(hazmat::hmac_sha256(&key, &input));
            // SAFETY: as above.
            unsafe { put(output, &mac[..]) };
        },
    );
}

/// `_olm_crypto_hkdf_sha256`: HKDF-SHA-256 (a null `salt` is 32 zero bytes). The third and
/// fourth parameters are the salt, as libolm's definition uses them.
///
/// # Safety
/// The buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_hkdf_sha256(
    input: *const u8,
    input_length: usize,
    salt: *const u8,
    salt_length: usize,
    info: *const u8,
    info_length: usize,
    output: *mut u8,
    output_length: usize,
) {
    guard(
        || (),
        || {
            // SAFETY: the caller's contract.
            let (ikm, info) = unsafe { (bytes(input, input_length), bytes(info, info_length)) };
            // SAFETY: as above.
            let salt = if salt.is_null() { None } else { Some(unsafe { bytes(salt, salt_length) }) };
            let mut out = Zeroizing::new(vec![0u8; output_length]);
            hazmat::hkdf_sha256(salt.as_deref().map(|s| &s[..]), &ikm, &info, &mut out);
            // SAFETY: as above.
            unsafe { put(output, &out) };
        },
    );
}

/// `_olm_crypto_curve25519_generate_key`: the key pair whose private key is the 32 random
/// bytes.
///
/// # Safety
/// `random_32_bytes` is valid for 32 bytes; `output` points to a key pair.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_curve25519_generate_key(
    random_32_bytes: *const u8,
    output: *mut OlmCurve25519KeyPair,
) {
    if output.is_null() {
        return;
    }
    guard(
        || (),
        || {
            // SAFETY: the caller's contract.
            let random = unsafe { bytes(random_32_bytes, 32) };
            let Some(secret) = SecretBytes::<32>::from_slice(&random) else {
                return;
            };
            let key = Curve25519SecretKey::from_secret_bytes(&secret);
            // SAFETY: `output` points to a key pair (the caller's contract).
            let pair = unsafe { &mut *output };
            pair.public_key = *key.public_key().as_bytes();
            pair.private_key = *secret.expose();
        },
    );
}

/// `_olm_crypto_curve25519_shared_secret`: X25519 of our private key and their public key
/// (32 zero bytes for a key of small order, which caudata refuses to use).
///
/// # Safety
/// `our_key` and `their_key` point to their structures; `output` is valid for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_curve25519_shared_secret(
    our_key: *const OlmCurve25519KeyPair,
    their_key: *const [u8; 32],
    output: *mut u8,
) {
    if our_key.is_null() || their_key.is_null() {
        return;
    }
    guard(
        || (),
        || {
            // SAFETY: non-null and pointing to the structures (the caller's contract).
            let (ours, theirs) = unsafe { ((*our_key).private_key, *their_key) };
            let Some(secret) = SecretBytes::<32>::from_slice(&ours) else {
                return;
            };
            let key = Curve25519SecretKey::from_secret_bytes(&secret);
            let shared = key.diffie_hellman(&Curve25519PublicKey::from_bytes(theirs));
            let out = shared.map(|s| *s.expose()).unwrap_or([0; 32]);
            // SAFETY: as above.
            unsafe { put(output, &out) };
        },
    );
}

/// `_olm_crypto_ed25519_generate_key`: the Ed25519 key pair of the 32-byte seed (public key,
/// expanded private key).
///
/// # Safety
/// `random_bytes` is valid for 32 bytes; `output` points to a key pair.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_ed25519_generate_key(random_bytes: *const u8, output: *mut OlmEd25519KeyPair) {
    if output.is_null() {
        return;
    }
    guard(
        || (),
        || {
            // SAFETY: the caller's contract.
            let seed = unsafe { bytes(random_bytes, 32) };
            let Some(seed) = SecretBytes::<32>::from_slice(&seed) else {
                return;
            };
            let key = Ed25519SecretKey::from_seed(seed);
            // SAFETY: `output` points to a key pair (the caller's contract).
            let pair = unsafe { &mut *output };
            pair.public_key = *key.public_key().as_bytes();
            pair.private_key = *key.expanded_bytes().expose();
        },
    );
}

/// `_olm_crypto_ed25519_sign`: the signature of `message` (64 bytes) with the pair's
/// expanded private key.
///
/// # Safety
/// `our_key` points to a key pair; `message` is valid for `message_length` bytes, `output`
/// for 64.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_ed25519_sign(
    our_key: *const OlmEd25519KeyPair,
    message: *const u8,
    message_length: usize,
    output: *mut u8,
) {
    if our_key.is_null() {
        return;
    }
    guard(
        || (),
        || {
            // SAFETY: non-null and pointing to a key pair (the caller's contract).
            let expanded = Zeroizing::new(unsafe { (*our_key).private_key });
            let Some(expanded) = SecretBytes::<64>::from_slice(&expanded[..]) else {
                return;
            };
            let key = Ed25519SecretKey::from_expanded(expanded);
            // SAFETY: the caller's contract.
            let sig = key.sign(&unsafe { bytes(message, message_length) });
            // SAFETY: as above.
            unsafe { put(output, &sig.to_bytes()) };
        },
    );
}

/// `_olm_crypto_ed25519_verify`: non-zero if `signature` (64 bytes) is a valid strict
/// Ed25519 signature of `message` under `their_key`.
///
/// # Safety
/// `their_key` points to a 32-byte key; `message` is valid for `message_length` bytes and
/// `signature` for 64.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _olm_crypto_ed25519_verify(
    their_key: *const [u8; 32],
    message: *const u8,
    message_length: usize,
    signature: *const u8,
) -> c_int {
    if their_key.is_null() || signature.is_null() {
        return 0;
    }
    guard(
        || 0,
        || {
            // SAFETY: non-null, pointing to 32 bytes (the caller's contract).
            let key = unsafe { *their_key };
            // SAFETY: the caller's contract.
            let sig = unsafe { bytes(signature, 64) };
            let Ok(sig) = <[u8; 64]>::try_from(&sig[..]) else {
                return 0;
            };
            let Ok(key) = Ed25519PublicKey::from_bytes(&key) else {
                return 0;
            };
            // SAFETY: the caller's contract.
            let msg = unsafe { bytes(message, message_length) };
            c_int::from(key.verify(&msg, &Ed25519Signature::from_bytes(sig)).is_ok())
        },
    )
}
