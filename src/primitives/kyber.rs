//! Kyber1024 (NIST PQC round 3, **not** ML-KEM / FIPS 203), the KEM of libsignal's PQXDH.
//!
//! libsignal serializes every Kyber value with a leading type byte `0x08`:
//!
//! | value | bytes on the wire | here |
//! |---|---|---|
//! | public key | `0x08 ‖ pk` (1 + 1568) | [`Kyber1024PublicKey`] |
//! | secret key | `0x08 ‖ sk_pke(1536) ‖ pk(1568) ‖ SHA3-256(pk)(32) ‖ z(32)` (1 + 3168) | [`Kyber1024SecretKey`] |
//! | ciphertext | `0x08 ‖ ct` (1 + 1568) | [`Kyber1024Ciphertext`] |
//! | shared secret | 32 bytes, never serialized | [`SecretBytes<32>`] |
//!
//! The arithmetic is `libcrux-ml-kem`'s `kyber1024` module (formally verified, the crate
//! libsignal itself uses). Its ML-KEM-1024 mode computes the shared secret differently, so
//! the two are not interchangeable.

use libcrux_ml_kem::kyber1024;
use libcrux_ml_kem::mlkem1024::{MlKem1024Ciphertext, MlKem1024PrivateKey, MlKem1024PublicKey};
use zeroize::Zeroize;

use super::rng::RandomSource;
use super::secret::SecretBytes;
use super::stack::{KEM_SCRUB, scrubbed};
use crate::error::KeyError;

/// libsignal's key-type byte for Kyber1024.
pub const KYBER1024_KEY_TYPE: u8 = 0x08;

const PK_LEN: usize = 1568;
const SK_LEN: usize = 3168;
const CT_LEN: usize = 1568;
/// Offset of the embedded public key inside the secret key (`sk_pke` is 4 × 384 bytes).
const SK_PK_OFFSET: usize = 1536;

/// Strips the type byte from `bytes`, checking the length and the type.
fn strip_type(bytes: &[u8], len: usize) -> Result<&[u8], KeyError> {
    if bytes.len() != len + 1 {
        return Err(KeyError::InvalidLength { expected: len + 1, got: bytes.len() });
    }
    match bytes.split_first() {
        Some((&KYBER1024_KEY_TYPE, rest)) => Ok(rest),
        Some((&t, _)) => Err(KeyError::UnknownKeyType(t)),
        None => Err(KeyError::InvalidLength { expected: len + 1, got: 0 }),
    }
}

/// A Kyber1024 public key.
#[derive(Clone)]
pub struct Kyber1024PublicKey(Box<MlKem1024PublicKey>);

impl Kyber1024PublicKey {
    /// Length of the serialized form, type byte included (1569).
    pub const LENGTH: usize = PK_LEN + 1;

    /// From libsignal's serialized form `0x08 ‖ pk`. The key is also checked for
    /// well-formedness (every coefficient reduced modulo q), which honest keys always are.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`], [`KeyError::UnknownKeyType`], or [`KeyError::InvalidPoint`]
    /// for a key that fails the modulus check.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let raw = strip_type(bytes, PK_LEN)?;
        let pk = MlKem1024PublicKey::try_from(raw)
            .map_err(|_| KeyError::InvalidLength { expected: Self::LENGTH, got: bytes.len() })?;
        if !kyber1024::validate_public_key(&pk) {
            return Err(KeyError::InvalidPoint);
        }
        Ok(Self(Box::new(pk)))
    }

    /// The serialized form `0x08 ‖ pk` (1569 bytes), which is also what prekey signatures cover.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LENGTH);
        out.push(KYBER1024_KEY_TYPE);
        out.extend_from_slice(self.0.as_slice());
        out
    }

    /// Encapsulates a fresh shared secret to this key, drawing 32 bytes from `rng`. The stack
    /// libcrux used (the randomness, the shared secret) is overwritten afterwards.
    pub fn encapsulate(&self, rng: &mut impl RandomSource) -> (Kyber1024Ciphertext, SecretBytes<32>) {
        let mut randomness = SecretBytes::<32>::random(rng);
        scrubbed::<_, KEM_SCRUB>(|| {
            let (ct, mut ss) = kyber1024::encapsulate(&self.0, *randomness.expose());
            randomness.expose_mut().zeroize();
            let shared = SecretBytes::from_array(&mut ss);
            (Kyber1024Ciphertext(Box::new(ct)), shared)
        })
    }
}

impl PartialEq for Kyber1024PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice() == other.0.as_slice()
    }
}
impl Eq for Kyber1024PublicKey {}

impl core::fmt::Debug for Kyber1024PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let digest = super::kdf::sha256(&[self.0.as_slice()]);
        write!(f, "Kyber1024PublicKey(sha256:{})", super::base64::base64_encode(&digest[..8]))
    }
}

/// A Kyber1024 ciphertext.
#[derive(Clone)]
pub struct Kyber1024Ciphertext(Box<MlKem1024Ciphertext>);

impl Kyber1024Ciphertext {
    /// Length of the serialized form, type byte included (1569).
    pub const LENGTH: usize = CT_LEN + 1;

    /// From the serialized form `0x08 ‖ ct`.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] or [`KeyError::UnknownKeyType`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let raw = strip_type(bytes, CT_LEN)?;
        let ct = MlKem1024Ciphertext::try_from(raw)
            .map_err(|_| KeyError::InvalidLength { expected: Self::LENGTH, got: bytes.len() })?;
        Ok(Self(Box::new(ct)))
    }

    /// The serialized form `0x08 ‖ ct` (1569 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LENGTH);
        out.push(KYBER1024_KEY_TYPE);
        out.extend_from_slice(self.0.as_slice());
        out
    }
}

impl PartialEq for Kyber1024Ciphertext {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice() == other.0.as_slice()
    }
}
impl Eq for Kyber1024Ciphertext {}

impl core::fmt::Debug for Kyber1024Ciphertext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Kyber1024Ciphertext(..)")
    }
}

/// A Kyber1024 secret key (with its public key), wiped on drop.
pub struct Kyber1024SecretKey {
    secret: Box<MlKem1024PrivateKey>,
    public: Kyber1024PublicKey,
}

impl Kyber1024SecretKey {
    /// Length of the serialized secret key, type byte included (3169).
    pub const LENGTH: usize = SK_LEN + 1;

    /// A fresh key pair from 64 bytes of `rng` (`d ‖ z` of the key generation). libcrux returns
    /// the pair by value: the secret key is copied into its box and the stack libcrux used is
    /// overwritten afterwards.
    pub fn generate(rng: &mut impl RandomSource) -> Self {
        let seed = SecretBytes::<64>::random(rng);
        let mut secret = Box::new(MlKem1024PrivateKey::default());
        let public = scrubbed::<_, KEM_SCRUB>(|| {
            let (mut sk, pk) = kyber1024::generate_key_pair(*seed.expose()).into_parts();
            secret[0..].copy_from_slice(sk.as_slice());
            sk[0..].zeroize();
            pk
        });
        Self { secret, public: Kyber1024PublicKey(Box::new(public)) }
    }

    /// From libsignal's serialized secret key `0x08 ‖ sk` (3169 bytes). The public key is the
    /// copy embedded in `sk`, checked against the hash stored next to it.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`], [`KeyError::UnknownKeyType`], or [`KeyError::InvalidPoint`]
    /// when the embedded public key is malformed or does not match its hash.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let raw = strip_type(bytes, SK_LEN)?;
        // Copied straight into its box: never an array on the stack.
        let mut secret = Box::new(MlKem1024PrivateKey::default());
        secret[0..].copy_from_slice(raw);
        let placeholder = MlKem1024Ciphertext::default();
        if !scrubbed::<_, KEM_SCRUB>(|| kyber1024::validate_private_key(&secret, &placeholder)) {
            let mut secret = secret;
            secret[0..].zeroize();
            return Err(KeyError::InvalidPoint);
        }
        let mut pk_bytes = Vec::with_capacity(PK_LEN + 1);
        pk_bytes.push(KYBER1024_KEY_TYPE);
        pk_bytes.extend_from_slice(&secret[SK_PK_OFFSET..SK_PK_OFFSET + PK_LEN]);
        match Kyber1024PublicKey::from_bytes(&pk_bytes) {
            Ok(public) => Ok(Self { secret, public }),
            Err(e) => {
                let mut secret = secret;
                secret[0..].zeroize();
                Err(e)
            }
        }
    }

    /// The serialized secret key `0x08 ‖ sk` (3169 bytes). The caller must wipe it.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(Self::LENGTH));
        out.push(KYBER1024_KEY_TYPE);
        out.extend_from_slice(self.secret.as_slice());
        out
    }

    /// The public key.
    pub fn public_key(&self) -> &Kyber1024PublicKey {
        &self.public
    }

    /// Decapsulates `ciphertext`. Kyber rejects implicitly: a ciphertext that was not made for
    /// this key gives an unrelated pseudo-random secret, and the MAC of the first message fails.
    ///
    /// The stack libcrux used (the unpacked secret key, the shared secret) is overwritten
    /// afterwards.
    pub fn decapsulate(&self, ciphertext: &Kyber1024Ciphertext) -> SecretBytes<32> {
        scrubbed::<_, KEM_SCRUB>(|| {
            let mut ss = kyber1024::decapsulate(&self.secret, &ciphertext.0);
            SecretBytes::from_array(&mut ss)
        })
    }
}

impl Clone for Kyber1024SecretKey {
    /// Copies from box to box (`Box::clone` would build the copy on the stack first).
    fn clone(&self) -> Self {
        let mut secret = Box::new(MlKem1024PrivateKey::default());
        secret[0..].copy_from_slice(self.secret.as_slice());
        Self { secret, public: self.public.clone() }
    }
}

impl Drop for Kyber1024SecretKey {
    fn drop(&mut self) {
        self.secret[0..].zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for Kyber1024SecretKey {}

impl core::fmt::Debug for Kyber1024SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { secret: _, public } = self;
        f.debug_struct("Kyber1024SecretKey").field("public", public).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::OsRandom;

    #[test]
    fn round_trip_and_serialization() {
        let sk = Kyber1024SecretKey::generate(&mut OsRandom);
        let (ct, ss) = sk.public_key().encapsulate(&mut OsRandom);
        assert_eq!(sk.decapsulate(&ct), ss);
        let sk2 = Kyber1024SecretKey::from_bytes(&sk.to_bytes()).unwrap();
        assert_eq!(sk2.public_key(), sk.public_key());
        let ct2 = Kyber1024Ciphertext::from_bytes(&ct.to_bytes()).unwrap();
        assert_eq!(sk2.decapsulate(&ct2), ss);
        let pk = Kyber1024PublicKey::from_bytes(&sk.public_key().to_bytes()).unwrap();
        assert_eq!(&pk, sk.public_key());
        // the published lengths are those of the serialized forms
        assert_eq!(pk.to_bytes().len(), Kyber1024PublicKey::LENGTH);
        assert_eq!(ct.to_bytes().len(), Kyber1024Ciphertext::LENGTH);
        assert_eq!(sk.to_bytes().len(), Kyber1024SecretKey::LENGTH);
        assert_eq!((Kyber1024PublicKey::LENGTH, Kyber1024SecretKey::LENGTH), (1569, 3169));
    }

    #[test]
    fn different_keys_and_ciphertexts_are_unequal() {
        let (a, b) = (Kyber1024SecretKey::generate(&mut OsRandom), Kyber1024SecretKey::generate(&mut OsRandom));
        assert_ne!(a.public_key(), b.public_key());
        assert_eq!(a.public_key(), a.clone().public_key());
        let (ct1, _) = a.public_key().encapsulate(&mut OsRandom);
        let (ct2, _) = a.public_key().encapsulate(&mut OsRandom);
        assert_ne!(ct1, ct2);
        assert_eq!(ct1, ct1.clone());
    }

    #[test]
    fn rejects_bad_encodings() {
        let sk = Kyber1024SecretKey::generate(&mut OsRandom);
        let mut pk = sk.public_key().to_bytes();
        assert_eq!(
            Kyber1024PublicKey::from_bytes(&pk[..1568]),
            Err(KeyError::InvalidLength { expected: 1569, got: 1568 })
        );
        pk[0] = 0x07;
        assert_eq!(Kyber1024PublicKey::from_bytes(&pk), Err(KeyError::UnknownKeyType(7)));
        pk[0] = 0x08;
        // A coefficient of 0xFFF (≥ q = 3329) fails the modulus check.
        pk[1] = 0xFF;
        pk[2] |= 0x0F;
        assert_eq!(Kyber1024PublicKey::from_bytes(&pk), Err(KeyError::InvalidPoint));
        let mut skb = sk.to_bytes();
        skb[1 + 1536 + 10] ^= 1;
        assert_eq!(Kyber1024SecretKey::from_bytes(&skb).err(), Some(KeyError::InvalidPoint));
    }

    /// Debug names a public key by a short digest and shows no ciphertext or secret bytes.
    #[test]
    fn debug_shows_a_digest_of_the_public_key_only() {
        let sk = Kyber1024SecretKey::generate(&mut OsRandom);
        let digest = crate::primitives::kdf::sha256(&[sk.public_key().0.as_slice()]);
        let public = format!("Kyber1024PublicKey(sha256:{})", crate::primitives::base64_encode(&digest[..8]));
        assert_eq!(format!("{:?}", sk.public_key()), public);
        assert_eq!(format!("{sk:?}"), format!("Kyber1024SecretKey {{ public: {public}, .. }}"));
        let (ct, _) = sk.public_key().encapsulate(&mut OsRandom);
        assert_eq!(format!("{ct:?}"), "Kyber1024Ciphertext(..)");
    }
}
