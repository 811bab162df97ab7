//! The two ways a Megolm session is shared: the signed `SessionKey` (v2) and the unsigned
//! `ExportedSessionKey` (v1). Both carry the secret ratchet, so both zeroize on drop and
//! print nothing.

use zeroize::Zeroizing;

use super::ratchet::MegolmRatchet;
use crate::error::{DecodeError, KeyError};
use crate::primitives::{Ed25519PublicKey, Ed25519Signature, SecretBytes, base64_decode_secret, base64_encode_secret};

/// Length of a session key.
pub const SESSION_KEY_LEN: usize = 229;
/// Length of an exported session key.
pub const EXPORTED_SESSION_KEY_LEN: usize = 165;

/// Why a session key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionKeyDecodeError {
    /// The version byte is wrong.
    #[error("session key version {got}, expected {expected}")]
    Version {
        /// Version required.
        expected: u8,
        /// Version received.
        got: u8,
    },
    /// The wrong number of bytes.
    #[error("session key of {got} bytes, expected {expected}")]
    Length {
        /// Length required.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// The signature does not verify.
    #[error("the session key's signature is invalid")]
    Signature,
    /// Bad base64 or Ed25519 key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Not base64.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

fn parse_common(
    bytes: &[u8],
    version: u8,
    len: usize,
) -> Result<(MegolmRatchet, Ed25519PublicKey), SessionKeyDecodeError> {
    if bytes.len() != len {
        return Err(SessionKeyDecodeError::Length { expected: len, got: bytes.len() });
    }
    if bytes[0] != version {
        return Err(SessionKeyDecodeError::Version { expected: version, got: bytes[0] });
    }
    let index = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let parts = SecretBytes::<128>::from_slice(&bytes[5..133])
        .ok_or(SessionKeyDecodeError::Length { expected: len, got: bytes.len() })?;
    let key = Ed25519PublicKey::from_slice(&bytes[133..165])?;
    Ok((MegolmRatchet::new(parts, index), key))
}

fn write_common(version: u8, ratchet: &MegolmRatchet, key: &Ed25519PublicKey, out: &mut Zeroizing<Vec<u8>>) {
    out.push(version);
    out.extend_from_slice(&ratchet.index.to_be_bytes());
    out.extend_from_slice(ratchet.parts.expose());
    out.extend_from_slice(key.as_bytes());
}

/// A signed session key: what the creator of a group session sends to the room's members.
pub struct SessionKey {
    pub(crate) ratchet: MegolmRatchet,
    pub(crate) signing_key: Ed25519PublicKey,
    pub(crate) signature: Ed25519Signature,
}

impl SessionKey {
    /// The 229 bytes. The result is wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(SESSION_KEY_LEN));
        write_common(2, &self.ratchet, &self.signing_key, &mut out);
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// Unpadded base64 (constant-time encoder), wiped on drop.
    pub fn to_base64(&self) -> Zeroizing<String> {
        base64_encode_secret(&self.to_bytes())
    }

    /// Parses and verifies (strictly) the signature.
    ///
    /// # Errors
    /// [`SessionKeyDecodeError`] for a wrong length or version, an invalid key or signature.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionKeyDecodeError> {
        let (ratchet, signing_key) = parse_common(bytes, 2, SESSION_KEY_LEN)?;
        let signature = Ed25519Signature::from_slice(&bytes[165..])?;
        signing_key.verify(&bytes[..165], &signature).map_err(|_| SessionKeyDecodeError::Signature)?;
        Ok(Self { ratchet, signing_key, signature })
    }

    /// From base64.
    ///
    /// # Errors
    /// As [`SessionKey::from_bytes`], or invalid base64.
    pub fn from_base64(input: &str) -> Result<Self, SessionKeyDecodeError> {
        let bytes = base64_decode_secret(input).map_err(|_| DecodeError::Base64)?;
        Self::from_bytes(&bytes)
    }

    /// The index the key starts at.
    pub fn index(&self) -> u32 {
        self.ratchet.index
    }
}

impl core::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionKey")
            .field("index", &self.ratchet.index)
            .field("signing_key", &self.signing_key)
            .finish_non_exhaustive()
    }
}

/// An unsigned exported session key (key backup, forwarding).
pub struct ExportedSessionKey {
    pub(crate) ratchet: MegolmRatchet,
    pub(crate) signing_key: Ed25519PublicKey,
}

impl ExportedSessionKey {
    /// The 165 bytes, wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(EXPORTED_SESSION_KEY_LEN));
        write_common(1, &self.ratchet, &self.signing_key, &mut out);
        out
    }

    /// Unpadded base64, wiped on drop.
    pub fn to_base64(&self) -> Zeroizing<String> {
        base64_encode_secret(&self.to_bytes())
    }

    /// Parses.
    ///
    /// # Errors
    /// [`SessionKeyDecodeError`] for a wrong length, version or key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionKeyDecodeError> {
        let (ratchet, signing_key) = parse_common(bytes, 1, EXPORTED_SESSION_KEY_LEN)?;
        Ok(Self { ratchet, signing_key })
    }

    /// From base64.
    ///
    /// # Errors
    /// As [`ExportedSessionKey::from_bytes`], or invalid base64.
    pub fn from_base64(input: &str) -> Result<Self, SessionKeyDecodeError> {
        let bytes = base64_decode_secret(input).map_err(|_| DecodeError::Base64)?;
        Self::from_bytes(&bytes)
    }

    /// The index the key starts at.
    pub fn index(&self) -> u32 {
        self.ratchet.index
    }
}

impl core::fmt::Debug for ExportedSessionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExportedSessionKey")
            .field("index", &self.ratchet.index)
            .field("signing_key", &self.signing_key)
            .finish_non_exhaustive()
    }
}

// vodozemac's `SessionKey` and `ExportedSessionKey` implement `Zeroize` (matrix-rust-sdk calls
// it on received keys): the ratchet and its index are wiped in place, the public signing key
// (and signature) kept. Both types also wipe their ratchet when dropped.
impl zeroize::Zeroize for SessionKey {
    fn zeroize(&mut self) {
        self.ratchet.zeroize();
    }
}

impl zeroize::Zeroize for ExportedSessionKey {
    fn zeroize(&mut self) {
        self.ratchet.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use crate::megolm::GroupSession;
    use zeroize::Zeroize;

    #[test]
    fn zeroize_wipes_the_ratchet_and_keeps_the_signing_key() {
        let mut g = GroupSession::new(Default::default());
        g.encrypt(b"advance the index");
        let mut key = g.session_key();
        let mut exported =
            crate::megolm::InboundGroupSession::new(&key, Default::default()).export_at_first_known_index();
        let signing_key = key.signing_key;
        key.zeroize();
        exported.zeroize();
        for (index, parts, public) in [
            (key.ratchet.index, &key.ratchet.parts, key.signing_key),
            (exported.ratchet.index, &exported.ratchet.parts, exported.signing_key),
        ] {
            assert_eq!(index, 0);
            assert_eq!(parts.expose(), &[0u8; 128]);
            assert_eq!(public, signing_key);
        }
    }

    /// Both key forms (a peer's input) are read only at their exact length, with their version
    /// byte, and the signed one only with its signature; what is read is what was written,
    /// index included, in bytes and in base64.
    #[test]
    fn session_keys_are_read_only_at_their_length_version_and_signature() {
        use super::{ExportedSessionKey, SessionKey, SessionKeyDecodeError as E};
        let mut g = GroupSession::new(Default::default());
        g.encrypt(b"one");
        g.encrypt(b"two");
        let key = g.session_key();
        let bytes = key.to_bytes();
        assert_eq!((bytes.len(), bytes[0], key.index()), (229, 2, 2));
        let back = SessionKey::from_bytes(&bytes).unwrap();
        assert_eq!((back.to_bytes(), back.index()), (bytes.clone(), 2));
        assert_eq!(SessionKey::from_base64(&key.to_base64()).unwrap().to_bytes(), bytes);
        assert_eq!(SessionKey::from_bytes(&bytes[..228]).unwrap_err(), E::Length { expected: 229, got: 228 });
        assert_eq!(
            SessionKey::from_bytes(&[&bytes[..], &[0]].concat()).unwrap_err(),
            E::Length { expected: 229, got: 230 }
        );
        let patched = |at: usize, v: u8| {
            let mut b = bytes.to_vec();
            b[at] = v;
            SessionKey::from_bytes(&b).map(|k| k.index())
        };
        assert_eq!(patched(0, 1), Err(E::Version { expected: 2, got: 1 }));
        assert_eq!(patched(4, 3), Err(E::Signature));
        let exported = crate::megolm::InboundGroupSession::new(&key, Default::default()).export_at_first_known_index();
        let bytes = exported.to_bytes();
        assert_eq!((bytes.len(), bytes[0], exported.index()), (165, 1, 2));
        let back = ExportedSessionKey::from_bytes(&bytes).unwrap();
        assert_eq!((back.to_bytes(), back.index()), (bytes.clone(), 2));
        assert_eq!(ExportedSessionKey::from_base64(&exported.to_base64()).unwrap().to_bytes(), bytes);
        assert_eq!(ExportedSessionKey::from_bytes(&bytes[..164]).unwrap_err(), E::Length { expected: 165, got: 164 });
        let mut b = bytes.to_vec();
        b[0] = 2;
        assert_eq!(ExportedSessionKey::from_bytes(&b).unwrap_err(), E::Version { expected: 1, got: 2 });
        // the exported form is the signed one's first 165 bytes under version 1
        let mut signed_part = key.to_bytes()[..165].to_vec();
        signed_part[0] = 1;
        assert_eq!(&bytes[..], &signed_part[..]);
    }
}
