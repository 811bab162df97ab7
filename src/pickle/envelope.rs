//! caudata's pickle envelope: a 7-byte header, then either the body as it is (unencrypted
//! form) or a random nonce, the body encrypted with ChaCha20-Poly1305 and the tag.
//!
//! | offset | length | field |
//! |---|---|---|
//! | 0 | 4 | magic `"cdpk"` (`63 64 70 6b`) |
//! | 4 | 1 | format version (2; 1 is still read) |
//! | 5 | 1 | object type (1 account, 2 Olm session, 3 group session, 4 inbound group session, 5 interolm session, 6 interolm account, 7 interolm session record, 8 interolm identity key pair, 9 / 10 / 11 interolm one-time / signed / Kyber prekey record, 12 interolm sender-key record) |
//! | 6 | 1 | protection: 0 none, 1 ChaCha20-Poly1305 |
//! | 7 | 12 | nonce (protection 1 only) |
//! | 19 | n | ciphertext of the body (protection 1) — or the body itself at offset 7 (protection 0) |
//! | 19 + n | 16 | Poly1305 tag (protection 1 only) |
//!
//! The AEAD key is `HKDF-SHA-256(salt = none, ikm = pickle key, info = "caudata pickle v1
//! ChaCha20-Poly1305", 32)`, the associated data is the 7 header bytes.

use zeroize::Zeroizing;

use crate::consts::MAX_MESSAGE_LENGTH;
use crate::error::PickleError;
use crate::primitives::{CHACHA_NONCE_LEN, CHACHA_TAG_LEN, ChaChaKey, RandomSource, SecretBytes, hkdf_sha256};

/// The four magic bytes that start every caudata pickle.
pub(crate) const MAGIC: [u8; 4] = *b"cdpk";
/// The format version this library writes, and the newest it reads.
///
/// Version 2 stores each Curve25519 secret key together with its public key, so loading a
/// pickle does no base-point multiplication; version 1 (the same layout without those public
/// keys) is still read, its public keys recomputed. Version 3 does the same for Ed25519 secret
/// keys (an account's identity key, an outbound group session's signing key): the public key
/// is stored beside the secret, so loading decompresses a point instead of multiplying the base
/// point.
///
/// Version 4 adds an Olm account's remembered uses of its fallback keys (so that a replayed
/// pre-key message cannot make a second session); every other body is as in version 3.
pub(crate) const FORMAT_VERSION: u8 = 4;
/// The oldest format version this library reads.
pub(crate) const MIN_FORMAT_VERSION: u8 = 1;
pub(crate) const HEADER_LEN: usize = 7;
pub(crate) const NONCE_LEN: usize = CHACHA_NONCE_LEN;
pub(crate) const TAG_LEN: usize = CHACHA_TAG_LEN;
const PROTECTION_NONE: u8 = 0;
const PROTECTION_CHACHA20_POLY1305: u8 = 1;
const KDF_INFO: &[u8] = b"caudata pickle v1 ChaCha20-Poly1305";

/// The largest pickle (binary form) accepted: a bound on everything that follows.
pub(crate) const MAX_PICKLE_LENGTH: usize = MAX_MESSAGE_LENGTH;

/// Object type tags (byte 5 of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum ObjectType {
    Account = 1,
    OlmSession = 2,
    GroupSession = 3,
    InboundGroupSession = 4,
    /// An interolm (Signal dialect) session.
    InterolmSession = 5,
    /// An interolm account (identity, registration id, prekeys).
    InterolmAccount = 6,
    /// An interolm session record (current and archived sessions with one device).
    InterolmSessionRecord = 7,
    /// An interolm identity key pair.
    InterolmIdentityKeyPair = 8,
    /// An interolm one-time prekey record.
    InterolmPreKey = 9,
    /// An interolm signed prekey record.
    InterolmSignedPreKey = 10,
    /// An interolm Kyber prekey record.
    InterolmKyberPreKey = 11,
    /// An interolm sender-key record (libsignal groups).
    SenderKeyRecord = 12,
}

fn header(ty: ObjectType, protection: u8) -> [u8; HEADER_LEN] {
    header_for(ty as u8, FORMAT_VERSION, protection)
}

fn header_for(ty: u8, version: u8, protection: u8) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&MAGIC);
    h[4] = version;
    h[5] = ty;
    h[6] = protection;
    h
}

/// Encrypts an unencrypted pickle of any object type, keeping its type and format version:
/// the encrypted form of the same pickle.
pub(crate) fn seal_plain(
    bytes: &[u8],
    pickle_key: &[u8; 32],
    rng: &mut impl RandomSource,
) -> Result<Vec<u8>, PickleError> {
    check_prefix(bytes)?;
    if bytes[6] != PROTECTION_NONE {
        return Err(PickleError::WrongProtection { encrypted: bytes[6] == PROTECTION_CHACHA20_POLY1305 });
    }
    let h = header_for(bytes[5], bytes[4], PROTECTION_CHACHA20_POLY1305);
    let body = &bytes[HEADER_LEN..];
    if body.len() + HEADER_LEN + NONCE_LEN + TAG_LEN > MAX_PICKLE_LENGTH {
        return Err(PickleError::TooLong {
            got: body.len() + HEADER_LEN + NONCE_LEN + TAG_LEN,
            max: MAX_PICKLE_LENGTH,
        });
    }
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce);
    Ok(sealed(&h, &nonce, body, pickle_key))
}

/// Decrypts an encrypted pickle of any object type into its unencrypted form (the reverse of
/// [`seal_plain`]).
pub(crate) fn open_to_plain(bytes: &[u8], pickle_key: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>, PickleError> {
    check_prefix(bytes)?;
    if bytes[6] != PROTECTION_CHACHA20_POLY1305 {
        return Err(PickleError::WrongProtection { encrypted: false });
    }
    if bytes.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(PickleError::Truncated("nonce and tag"));
    }
    let (h, rest) = bytes.split_at(HEADER_LEN);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| PickleError::Truncated("nonce"))?;
    let body = aead_key(pickle_key).open(nonce, h, rest).ok_or(PickleError::Authentication)?;
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN + body.len()));
    out.extend_from_slice(&header_for(h[5], h[4], PROTECTION_NONE));
    out.extend_from_slice(&body);
    Ok(out)
}

/// The object type tag of a pickle (binary form), after the checks that come before it
/// ([`check_header`]'s order): size, magic, header, version. The tag is authenticated later,
/// as part of the header, by whichever decoder it selects.
pub(crate) fn peek_type(bytes: &[u8]) -> Result<u8, PickleError> {
    check_prefix(bytes)?;
    Ok(bytes[5])
}

/// Size, magic, header length and version.
fn check_prefix(bytes: &[u8]) -> Result<(), PickleError> {
    if bytes.len() > MAX_PICKLE_LENGTH {
        return Err(PickleError::TooLong { got: bytes.len(), max: MAX_PICKLE_LENGTH });
    }
    if bytes.len() < 4 || bytes[..4] != MAGIC {
        return Err(PickleError::NotAPickle);
    }
    if bytes.len() < HEADER_LEN {
        return Err(PickleError::Truncated("header"));
    }
    if !(MIN_FORMAT_VERSION..=FORMAT_VERSION).contains(&bytes[4]) {
        return Err(PickleError::UnknownVersion { got: bytes[4].into(), max: FORMAT_VERSION.into() });
    }
    Ok(())
}

/// Checks the header. The order of the checks makes the most useful error win: not a pickle,
/// then a version from the future, then the wrong object.
fn check_header(bytes: &[u8], ty: ObjectType, encrypted: bool) -> Result<(), PickleError> {
    check_prefix(bytes)?;
    if bytes[5] != ty as u8 {
        return Err(PickleError::WrongObjectType { expected: ty as u8, got: bytes[5] });
    }
    let is_encrypted = match bytes[6] {
        PROTECTION_NONE => false,
        PROTECTION_CHACHA20_POLY1305 => true,
        _ => return Err(PickleError::InvalidField("protection")),
    };
    if is_encrypted != encrypted {
        return Err(PickleError::WrongProtection { encrypted: is_encrypted });
    }
    Ok(())
}

/// The AEAD key of a pickle key.
fn aead_key(pickle_key: &[u8; 32]) -> ChaChaKey {
    let mut key = SecretBytes::<32>::zero();
    hkdf_sha256(None, pickle_key, KDF_INFO, key.expose_mut());
    ChaChaKey::new(key)
}

/// `header ‖ nonce ‖ ChaCha20-Poly1305(body, ad = header) ‖ tag`, through the one
/// ChaCha20-Poly1305 wrapper (`primitives::aead`, which the Wycheproof vectors test).
fn sealed(h: &[u8; HEADER_LEN], nonce: &[u8; NONCE_LEN], body: &[u8], pickle_key: &[u8; 32]) -> Vec<u8> {
    // ChaCha20-Poly1305 refuses only plaintexts over 256 GiB; pickles are bounded far below.
    #[allow(clippy::expect_used)]
    let ct_and_tag = aead_key(pickle_key)
        .seal(nonce, h, body)
        .expect("pickle bodies are far below ChaCha20-Poly1305's length limit");
    let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + ct_and_tag.len());
    out.extend_from_slice(h);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ct_and_tag);
    out
}

/// The unencrypted form: header ‖ body. Wiped on drop.
pub(crate) fn wrap_plain(ty: ObjectType, body: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN + body.len()));
    out.extend_from_slice(&header(ty, PROTECTION_NONE));
    out.extend_from_slice(body);
    out
}

/// The body of an unencrypted pickle and its format version.
pub(crate) fn unwrap_plain(ty: ObjectType, bytes: &[u8]) -> Result<(&[u8], u8), PickleError> {
    check_header(bytes, ty, false)?;
    Ok((&bytes[HEADER_LEN..], bytes[4]))
}

/// The encrypted form: header ‖ nonce ‖ ChaCha20-Poly1305(body, ad = header) ‖ tag.
pub(crate) fn seal(ty: ObjectType, body: &[u8], pickle_key: &[u8; 32], rng: &mut impl RandomSource) -> Vec<u8> {
    let h = header(ty, PROTECTION_CHACHA20_POLY1305);
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce);
    sealed(&h, &nonce, body, pickle_key)
}

/// Authenticates and decrypts an encrypted pickle; returns the body (wiped on drop) and the
/// format version (authenticated with the rest of the header).
pub(crate) fn open(
    ty: ObjectType,
    bytes: &[u8],
    pickle_key: &[u8; 32],
) -> Result<(Zeroizing<Vec<u8>>, u8), PickleError> {
    check_header(bytes, ty, true)?;
    if bytes.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(PickleError::Truncated("nonce and tag"));
    }
    let (h, rest) = bytes.split_at(HEADER_LEN);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| PickleError::Truncated("nonce"))?;
    let body = aead_key(pickle_key).open(nonce, h, rest).ok_or(PickleError::Authentication)?;
    Ok((body, h[4]))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u8);
    impl RandomSource for Fixed {
        fn fill(&mut self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
    }

    #[test]
    fn seal_open_and_header_checks() {
        let key = [7u8; 32];
        let sealed = seal(ObjectType::Account, b"body", &key, &mut Fixed(1));
        assert_eq!(&sealed[..7], b"cdpk\x04\x01\x01");
        assert_eq!(sealed.len(), 7 + 12 + 4 + 16);
        let (body, version) = open(ObjectType::Account, &sealed, &key).unwrap();
        assert_eq!((&body[..], version), (&b"body"[..], 4));
        assert_eq!(open(ObjectType::Account, &sealed, &[8; 32]).unwrap_err(), PickleError::Authentication);
        assert_eq!(
            open(ObjectType::OlmSession, &sealed, &key).unwrap_err(),
            PickleError::WrongObjectType { expected: 2, got: 1 }
        );
        for v in [0u8, FORMAT_VERSION + 1] {
            let mut other = sealed.clone();
            other[4] = v;
            assert_eq!(
                open(ObjectType::Account, &other, &key).unwrap_err(),
                PickleError::UnknownVersion { got: v.into(), max: FORMAT_VERSION.into() }
            );
        }
        // the version byte is authenticated: an older version's layout cannot be forced on a
        // newer pickle's body
        let mut older = sealed.clone();
        older[4] = 1;
        assert_eq!(open(ObjectType::Account, &older, &key).unwrap_err(), PickleError::Authentication);
        assert_eq!(
            unwrap_plain(ObjectType::Account, &sealed).unwrap_err(),
            PickleError::WrongProtection { encrypted: true }
        );
        // the header is authenticated: flipping the protection byte's neighbour (type) of a
        // valid pickle and asking for that type fails authentication
        let mut retyped = sealed.clone();
        retyped[5] = 2;
        assert_eq!(open(ObjectType::OlmSession, &retyped, &key).unwrap_err(), PickleError::Authentication);
        let plain = wrap_plain(ObjectType::GroupSession, b"xyz");
        assert_eq!(unwrap_plain(ObjectType::GroupSession, &plain).unwrap(), (&b"xyz"[..], 4));
        assert_eq!(
            open(ObjectType::GroupSession, &plain, &key).unwrap_err(),
            PickleError::WrongProtection { encrypted: false }
        );
        assert_eq!(unwrap_plain(ObjectType::Account, b"nope").unwrap_err(), PickleError::NotAPickle);
    }

    #[test]
    fn size_and_truncation_limits_and_the_plain_conversion() {
        let key = [7u8; 32];
        let overhead = HEADER_LEN + NONCE_LEN + TAG_LEN;
        // a pickle of exactly the limit opens, one byte more is refused before anything else
        let body = vec![5u8; MAX_PICKLE_LENGTH - overhead];
        let largest = seal(ObjectType::Account, &body, &key, &mut Fixed(1));
        assert_eq!(largest.len(), MAX_PICKLE_LENGTH);
        assert_eq!(*open(ObjectType::Account, &largest, &key).unwrap().0, body);
        let mut over = largest.clone();
        over.push(0);
        let too_long = PickleError::TooLong { got: MAX_PICKLE_LENGTH + 1, max: MAX_PICKLE_LENGTH };
        assert_eq!(open(ObjectType::Account, &over, &key).unwrap_err(), too_long);
        assert_eq!(peek_type(&over).unwrap_err(), too_long);
        assert_eq!(open_to_plain(&over, &key).unwrap_err(), too_long);
        // magic, then the rest of the header
        assert_eq!(peek_type(b"cdp").unwrap_err(), PickleError::NotAPickle);
        assert_eq!(peek_type(b"xdpk\x04\x01\x01").unwrap_err(), PickleError::NotAPickle);
        assert_eq!(peek_type(b"cdpk").unwrap_err(), PickleError::Truncated("header"));
        assert_eq!(peek_type(b"cdpk\x04\x01").unwrap_err(), PickleError::Truncated("header"));
        for v in MIN_FORMAT_VERSION..=FORMAT_VERSION {
            assert_eq!(peek_type(&header_for(3, v, PROTECTION_NONE)), Ok(3), "version {v}");
        }
        // nonce and tag: an empty body opens, one byte fewer is truncated
        let empty = seal(ObjectType::Account, b"", &key, &mut Fixed(2));
        assert_eq!(empty.len(), overhead);
        assert!(open(ObjectType::Account, &empty, &key).unwrap().0.is_empty());
        let short = &empty[..overhead - 1];
        assert_eq!(open(ObjectType::Account, short, &key).unwrap_err(), PickleError::Truncated("nonce and tag"));
        assert_eq!(open_to_plain(short, &key).unwrap_err(), PickleError::Truncated("nonce and tag"));
        // the conversion to the unencrypted form and back, and its refusals
        let sealed = seal(ObjectType::OlmSession, b"body", &key, &mut Fixed(3));
        let plain = open_to_plain(&sealed, &key).unwrap();
        assert_eq!(*plain, *wrap_plain(ObjectType::OlmSession, b"body"));
        assert_eq!(open_to_plain(&empty, &key).unwrap(), wrap_plain(ObjectType::Account, b""));
        assert_eq!(open_to_plain(&sealed, &[8; 32]).unwrap_err(), PickleError::Authentication);
        assert_eq!(open_to_plain(&plain, &key).unwrap_err(), PickleError::WrongProtection { encrypted: false });
        assert_eq!(seal_plain(&plain, &key, &mut Fixed(3)).unwrap(), sealed);
        // the public pair (a fresh nonce from the OS): what a store that does not know the type
        // uses, each the other's inverse
        let resealed = crate::pickle::seal_unencrypted(&plain, &key).unwrap();
        assert_eq!((resealed.len(), &resealed[..6]), (sealed.len(), &sealed[..6]));
        assert_eq!(crate::pickle::open_to_unencrypted(&resealed, &key).unwrap(), plain);
        assert_eq!(
            seal_plain(&sealed, &key, &mut Fixed(3)).unwrap_err(),
            PickleError::WrongProtection { encrypted: true }
        );
        // a protection byte that is neither
        let mut odd = plain.to_vec();
        odd[6] = 9;
        assert_eq!(unwrap_plain(ObjectType::OlmSession, &odd).unwrap_err(), PickleError::InvalidField("protection"));
        assert_eq!(
            unwrap_plain(ObjectType::Account, &plain).unwrap_err(),
            PickleError::WrongObjectType { expected: 1, got: 2 }
        );
    }

    #[test]
    fn plain_pickles_are_sealed_up_to_the_limit_of_their_sealed_form() {
        let key = [7u8; 32];
        let overhead = NONCE_LEN + TAG_LEN;
        // the longest unencrypted pickle whose encrypted form is within the limit is sealed
        // (and opens back), one byte longer is refused with the encrypted form's length
        let longest = wrap_plain(ObjectType::Account, &vec![5u8; MAX_PICKLE_LENGTH - HEADER_LEN - overhead]);
        let sealed = seal_plain(&longest, &key, &mut Fixed(4)).unwrap();
        assert_eq!(sealed.len(), MAX_PICKLE_LENGTH);
        assert_eq!(open_to_plain(&sealed, &key).unwrap(), longest);
        let mut over = longest.to_vec();
        over.push(5);
        assert_eq!(
            seal_plain(&over, &key, &mut Fixed(4)).unwrap_err(),
            PickleError::TooLong { got: MAX_PICKLE_LENGTH + 1, max: MAX_PICKLE_LENGTH }
        );
        // a protection byte that is neither is not called encrypted
        let mut odd = wrap_plain(ObjectType::Account, b"x").to_vec();
        odd[6] = 9;
        assert_eq!(
            seal_plain(&odd, &key, &mut Fixed(4)).unwrap_err(),
            PickleError::WrongProtection { encrypted: false }
        );
        // the version and type are kept
        let old = [&header_for(9, 1, PROTECTION_NONE)[..], b"abc"].concat();
        let sealed = seal_plain(&old, &key, &mut Fixed(4)).unwrap();
        assert_eq!(&sealed[..7], b"cdpk\x01\x09\x01");
        assert_eq!(*open_to_plain(&sealed, &key).unwrap(), old);
    }
}
