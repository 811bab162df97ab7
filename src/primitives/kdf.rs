//! HMAC-SHA-256, HKDF-SHA-256 and SHA-256.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::secret::SecretBytes;

type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA-256 key whose inner and outer hash states are computed once, so that every
/// HMAC under it costs two compression functions fewer.
#[derive(Clone)]
pub(crate) struct HmacKey(HmacSha256);

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> Self {
        // HMAC accepts keys of any length; this cannot fail.
        #[allow(clippy::expect_used)]
        Self(HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length"))
    }

    /// HMAC over the concatenation of `parts`.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> SecretBytes<32> {
        let mut m = self.0.clone();
        for p in parts {
            m.update(p);
        }
        let mut out: [u8; 32] = m.finalize().into_bytes().into();
        SecretBytes::from_array(&mut out)
    }
}

impl core::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

/// HKDF-SHA-256 into `out`. `salt` `None` means 32 zero bytes (the same HMAC key as empty).
pub(crate) fn hkdf_sha256(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], out: &mut [u8]) {
    let hk = hkdf::Hkdf::<Sha256>::new(salt, ikm);
    // Every caller asks for at most 96 bytes, far below HKDF's 255 * 32 limit.
    if hk.expand(info, out).is_err() {
        out.zeroize();
    }
}

/// SHA-256 of the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}
