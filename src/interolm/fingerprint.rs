//! Safety numbers: libsignal's numeric ("displayable") and scannable fingerprints, equal to
//! libsignal's for the same identities (`Fingerprint.new(iterations, version, localId,
//! localKey, remoteId, remoteKey)`).
//!
//! Each side's fingerprint is `h = SHA-512(0x00 0x00 ‖ key ‖ id ‖ key)` then `iterations − 1`
//! times `h = SHA-512(h ‖ key)` (key = `0x05 ‖ u`, 33 bytes; id = the stable identifier's
//! bytes, e.g. the ACI's 16 bytes or a phone number's text). Signal uses 5 200 iterations.
//!
//! * Displayable: each side's first 30 bytes as six 5-byte big-endian numbers mod 100 000,
//!   five digits each; the two 30-digit halves in ascending order (so both sides show the same
//!   60 digits).
//! * Scannable: `CombinedFingerprints { 1 version, 2 { 1 local fingerprint (first 32 bytes) },
//!   3 { 1 remote fingerprint } }`; comparing a scanned one checks the version and that its local
//!   and remote halves are ours swapped, in constant time.
//!
//! ```
//! use caudata::interolm::Fingerprint;
//! use caudata::primitives::Curve25519SecretKey;
//!
//! let (alice, bob) = (Curve25519SecretKey::new().public_key(), Curve25519SecretKey::new().public_key());
//! let a = Fingerprint::new(2, 5200, b"+14152222222", &alice, b"+14153333333", &bob).unwrap();
//! let b = Fingerprint::new(2, 5200, b"+14153333333", &bob, b"+14152222222", &alice).unwrap();
//! assert_eq!(a.display_string(), b.display_string());
//! assert_eq!(a.display_string().len(), 60);
//! assert!(a.scannable().compare(&b.scannable().to_bytes()).unwrap());
//! ```

use crate::error::{DecodeError, FingerprintError};
use crate::primitives::{Curve25519PublicKey, ct_eq, fingerprint_hash};
use crate::wire::codec::{Reader, as_bytes, as_u32, put_bytes_field, put_varint_field, set_once};
use crate::wire::signal::encode_public_key;

/// The iteration count Signal's apps use.
pub const DEFAULT_ITERATIONS: u32 = 5200;
/// libsignal refuses iteration counts above this (and of 0 or 1).
pub(crate) const MAX_ITERATIONS: u32 = 1_000_000;
/// Bytes of each side's hash in a scannable fingerprint.
const SCANNABLE_LENGTH: usize = 32;

/// A pair of safety numbers for a local and a remote identity.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Fingerprint {
    display: String,
    scannable: ScannableFingerprint,
}

impl Fingerprint {
    /// The fingerprints of the local and the remote identity (`version` is the scannable
    /// format's version: Signal uses 1 for phone numbers, 2 for ACIs).
    ///
    /// # Errors
    /// [`FingerprintError::InvalidIterations`] for 0, 1 or more than 1 000 000 iterations.
    pub fn new(
        version: u32,
        iterations: u32,
        local_id: &[u8],
        local_key: &Curve25519PublicKey,
        remote_id: &[u8],
        remote_key: &Curve25519PublicKey,
    ) -> Result<Self, FingerprintError> {
        if iterations <= 1 || iterations > MAX_ITERATIONS {
            return Err(FingerprintError::InvalidIterations(iterations));
        }
        let local = fingerprint_hash(iterations, [0, 0], &encode_public_key(local_key), local_id);
        let remote = fingerprint_hash(iterations, [0, 0], &encode_public_key(remote_key), remote_id);
        let (l, r) = (digits(&local), digits(&remote));
        let display = if l < r { l + &r } else { r + &l };
        let scannable = ScannableFingerprint {
            version,
            local: local[..SCANNABLE_LENGTH].to_vec(),
            remote: remote[..SCANNABLE_LENGTH].to_vec(),
        };
        Ok(Self { display, scannable })
    }

    /// The 60 digits to show (the same on both sides).
    pub fn display_string(&self) -> String {
        self.display.clone()
    }

    /// The scannable fingerprint (for a QR code).
    pub fn scannable(&self) -> &ScannableFingerprint {
        &self.scannable
    }
}

/// Thirty digits from the first 30 bytes.
fn digits(hash: &[u8; 64]) -> String {
    let mut s = String::with_capacity(30);
    for chunk in hash[..30].chunks_exact(5) {
        let n = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)) % 100_000;
        s.push_str(&format!("{n:05}"));
    }
    s
}

/// libsignal's `ScannableFingerprint`: the `CombinedFingerprints` protobuf.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScannableFingerprint {
    version: u32,
    local: Vec<u8>,
    remote: Vec<u8>,
}

impl ScannableFingerprint {
    /// The serialized form (libsignal `ScannableFingerprint.toBuffer()`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(74);
        put_varint_field(&mut out, 1, u64::from(self.version));
        for (field, part) in [(2, &self.local), (3, &self.remote)] {
            let mut inner = Vec::with_capacity(34);
            put_bytes_field(&mut inner, 1, part);
            put_bytes_field(&mut out, field, &inner);
        }
        out
    }

    /// The version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Compares a scanned fingerprint with ours: `Ok(true)` when the versions are equal and its
    /// local and remote halves are our remote and local ones (compared in constant time).
    ///
    /// # Errors
    /// [`FingerprintError::VersionMismatch`] when the versions differ (a missing version reads
    /// as 0, as libsignal), [`FingerprintError::Decode`] when the bytes do not decode or a half
    /// is missing.
    pub fn compare(&self, scanned: &[u8]) -> Result<bool, FingerprintError> {
        let (version, local, remote) = decode_combined(scanned)?;
        if version != self.version {
            return Err(FingerprintError::VersionMismatch { theirs: version, ours: self.version });
        }
        // Both comparisons run whatever the first one says.
        let same_local = ct_eq(local, &self.remote);
        let same_remote = ct_eq(remote, &self.local);
        Ok(same_local & same_remote)
    }
}

fn decode_combined(bytes: &[u8]) -> Result<(u32, &[u8], &[u8]), DecodeError> {
    let (mut version, mut local, mut remote) = (None, None, None);
    let mut r = Reader::new(bytes);
    while let Some((field, v)) = r.field()? {
        match field {
            0 => return Err(DecodeError::MalformedField("field number 0")),
            1 => set_once(&mut version, as_u32(v, "version")?, "version")?,
            2 => set_once(&mut local, logical(as_bytes(v, "local fingerprint")?)?, "local fingerprint")?,
            3 => set_once(&mut remote, logical(as_bytes(v, "remote fingerprint")?)?, "remote fingerprint")?,
            _ => {}
        }
    }
    Ok((
        version.unwrap_or(0),
        local.ok_or(DecodeError::MissingField("local fingerprint"))?,
        remote.ok_or(DecodeError::MissingField("remote fingerprint"))?,
    ))
}

/// `LogicalFingerprint { 1 content }`.
fn logical(bytes: &[u8]) -> Result<&[u8], DecodeError> {
    let mut content = None;
    let mut r = Reader::new(bytes);
    while let Some((field, v)) = r.field()? {
        match field {
            0 => return Err(DecodeError::MalformedField("field number 0")),
            1 => set_once(&mut content, as_bytes(v, "fingerprint content")?, "fingerprint content")?,
            _ => {}
        }
    }
    content.ok_or(DecodeError::MissingField("fingerprint content"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libsignal's own test vectors (testVectorsVersion1/2 of libsignal-protocol-java, kept in
    /// libsignal's `fingerprint.rs`): facts about its output for these inputs.
    #[test]
    fn libsignal_test_vectors() {
        let key = |h: &str| crate::wire::signal::decode_public_key(&hex::decode(h).unwrap()).unwrap();
        let alice = key("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868");
        let bob = key("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b");
        let a = Fingerprint::new(1, 5200, b"+14152222222", &alice, b"+14153333333", &bob).unwrap();
        let b = Fingerprint::new(1, 5200, b"+14153333333", &bob, b"+14152222222", &alice).unwrap();
        assert_eq!(a.display_string(), "300354477692869396892869876765458257569162576843440918079131");
        assert_eq!(b.display_string(), a.display_string());
        assert_eq!(
            hex::encode(a.scannable().to_bytes()),
            "080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d"
        );
        assert!(a.scannable().compare(&b.scannable().to_bytes()).unwrap());
        assert!(!a.scannable().compare(&a.scannable().to_bytes()).unwrap());
        let a2 = Fingerprint::new(2, 5200, b"+14152222222", &alice, b"+14153333333", &bob).unwrap();
        assert_eq!(
            a.scannable().compare(&a2.scannable().to_bytes()),
            Err(FingerprintError::VersionMismatch { theirs: 2, ours: 1 })
        );
        assert_eq!(Fingerprint::new(1, 1, b"", &alice, b"", &bob), Err(FingerprintError::InvalidIterations(1)));
    }

    /// A scanned fingerprint is ours only when both of its halves are (either one alone is
    /// not enough), and it decodes strictly: no field number 0, at the top or in a half, and
    /// both halves present.
    #[test]
    fn scanned_fingerprints_must_match_both_halves_and_decode_strictly() {
        let key = || crate::primitives::Curve25519SecretKey::new().public_key();
        let (alice, bob) = (key(), key());
        let ours = Fingerprint::new(2, 2, b"alice", &alice, b"bob", &bob).unwrap();
        let theirs = Fingerprint::new(2, 2, b"bob", &bob, b"alice", &alice).unwrap();
        let (ours, theirs) = (ours.scannable(), theirs.scannable());
        assert!(ours.compare(&theirs.to_bytes()).unwrap());
        let scanned = |version: u32, local: &[u8], remote: &[u8]| {
            ScannableFingerprint { version, local: local.to_vec(), remote: remote.to_vec() }.to_bytes()
        };
        assert!(ours.compare(&scanned(2, &theirs.local, &theirs.remote)).unwrap());
        assert!(!ours.compare(&scanned(2, &theirs.local, &ours.remote)).unwrap(), "their local half only");
        assert!(!ours.compare(&scanned(2, &ours.local, &theirs.remote)).unwrap(), "their remote half only");
        let decode = |e: DecodeError| Err(FingerprintError::Decode(e));
        let zero = DecodeError::MalformedField("field number 0");
        assert_eq!(ours.compare(&[&[0, 0][..], &theirs.to_bytes()].concat()), decode(zero.clone()));
        // a half whose LogicalFingerprint starts with field 0, or has no content
        let mut half_with_zero = vec![0, 0];
        put_bytes_field(&mut half_with_zero, 1, &theirs.local);
        let with_half = |half: &[u8]| {
            let mut out = Vec::new();
            put_varint_field(&mut out, 1, 2);
            put_bytes_field(&mut out, 2, half);
            let mut remote = Vec::new();
            put_bytes_field(&mut remote, 1, &theirs.remote);
            put_bytes_field(&mut out, 3, &remote);
            out
        };
        assert_eq!(ours.compare(&with_half(&half_with_zero)), decode(zero));
        assert_eq!(ours.compare(&with_half(&[])), decode(DecodeError::MissingField("fingerprint content")));
        assert!(ours.compare(&with_half(&half_with_zero[2..])).unwrap());
        // a missing version reads as 0
        let no_version = &theirs.to_bytes()[2..];
        assert_eq!(ours.compare(no_version), Err(FingerprintError::VersionMismatch { theirs: 0, ours: 2 }));
    }

    #[test]
    fn the_scannable_form_keeps_the_version() {
        let key = || crate::primitives::Curve25519SecretKey::new().public_key();
        for version in [1, 2] {
            let f = Fingerprint::new(version, 2, b"alice", &key(), b"bob", &key()).unwrap();
            assert_eq!(f.scannable().version(), version);
            assert_eq!(f.scannable().to_bytes()[..2], [0x08, version as u8]);
        }
    }
}
