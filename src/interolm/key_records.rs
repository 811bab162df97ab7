//! The keys a Signal-dialect device keeps in its stores, one record each, as libsignal keeps
//! them: the identity key pair, one-time prekeys, signed prekeys and Kyber prekeys (the last
//! two with the time they were made, for rotation).
//!
//! Records are values: a store keeps them (as pickles, for a persistent store) and hands out
//! copies. Every secret in them is wiped on drop; `Debug` shows ids, times and public keys only.

use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, Kyber1024PublicKey, Kyber1024SecretKey, OsRandom, RandomSource,
    XEdDsaSignature,
};
use crate::wire::signal::encode_public_key;

/// A device's long-term identity: a Curve25519 key pair that signs prekeys with XEdDSA
/// (libsignal's `IdentityKeyPair`).
#[derive(Clone)]
pub struct IdentityKeyPair {
    secret: Curve25519SecretKey,
    public: Curve25519PublicKey,
}

impl core::fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IdentityKeyPair").field("public_key", &self.public).finish_non_exhaustive()
    }
}

impl IdentityKeyPair {
    /// A fresh identity.
    pub fn generate() -> Self {
        Self::from_secret_key(Curve25519SecretKey::random(&mut OsRandom))
    }

    /// [`IdentityKeyPair::generate`] from `rng` (32 bytes).
    #[cfg(feature = "hazmat")]
    pub fn generate_with_rng(rng: &mut impl RandomSource) -> Self {
        Self::from_secret_key(Curve25519SecretKey::random(rng))
    }

    /// The identity with this secret key (for instance an Olm account's, or one imported from
    /// libsignal).
    pub fn from_secret_key(secret: Curve25519SecretKey) -> Self {
        let public = secret.public_key();
        Self { secret, public }
    }

    /// The public identity key (serialized by Signal as `0x05 ‖ key`).
    pub fn public_key(&self) -> Curve25519PublicKey {
        self.public
    }

    /// The secret key.
    pub fn secret_key(&self) -> &Curve25519SecretKey {
        &self.secret
    }

    /// Signs `message` (XEdDSA, as libsignal's `PrivateKey::sign`).
    pub fn sign(&self, message: &[u8]) -> XEdDsaSignature {
        self.secret.sign_xeddsa(message)
    }

    pub(crate) fn sign_with(&self, message: &[u8], rng: &mut impl RandomSource) -> XEdDsaSignature {
        self.secret.sign_xeddsa_inner(message, rng)
    }
}

/// A one-time prekey (libsignal's `PreKeyRecord`): used by one initiator, then removed.
#[derive(Clone)]
pub struct PreKeyRecord {
    pub(crate) id: u32,
    pub(crate) key: Curve25519SecretKey,
    pub(crate) public: Curve25519PublicKey,
}

impl core::fmt::Debug for PreKeyRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreKeyRecord").field("id", &self.id).field("public_key", &self.public).finish_non_exhaustive()
    }
}

impl PreKeyRecord {
    /// A record for an existing key.
    pub fn new(id: u32, key: Curve25519SecretKey) -> Self {
        let public = key.public_key();
        Self { id, key, public }
    }

    /// A fresh one-time prekey.
    pub fn generate(id: u32) -> Self {
        Self::generate_inner(id, &mut OsRandom)
    }

    /// [`PreKeyRecord::generate`] from `rng` (32 bytes).
    #[cfg(feature = "hazmat")]
    pub fn generate_with_rng(id: u32, rng: &mut impl RandomSource) -> Self {
        Self::generate_inner(id, rng)
    }

    pub(crate) fn generate_inner(id: u32, rng: &mut impl RandomSource) -> Self {
        Self::new(id, Curve25519SecretKey::random(rng))
    }

    /// The id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The public key.
    pub fn public_key(&self) -> Curve25519PublicKey {
        self.public
    }

    /// The secret key.
    pub fn secret_key(&self) -> &Curve25519SecretKey {
        &self.key
    }
}

/// A signed prekey (libsignal's `SignedPreKeyRecord`): kept for a while after it is replaced,
/// so that pre-key messages still in flight decrypt. `timestamp` is when it was made, in
/// milliseconds since the Unix epoch (libsignal's unit), for rotation.
#[derive(Clone)]
pub struct SignedPreKeyRecord {
    pub(crate) id: u32,
    pub(crate) timestamp: u64,
    pub(crate) key: Curve25519SecretKey,
    pub(crate) public: Curve25519PublicKey,
    pub(crate) signature: XEdDsaSignature,
}

impl core::fmt::Debug for SignedPreKeyRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignedPreKeyRecord")
            .field("id", &self.id)
            .field("timestamp", &self.timestamp)
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}

impl SignedPreKeyRecord {
    /// A record for an existing key and its signature (as given: peers check it).
    pub fn new(id: u32, timestamp: u64, key: Curve25519SecretKey, signature: XEdDsaSignature) -> Self {
        let public = key.public_key();
        Self { id, timestamp, key, public, signature }
    }

    /// A fresh signed prekey, signed by `identity` over its 33-byte form.
    pub fn generate(id: u32, timestamp: u64, identity: &IdentityKeyPair) -> Self {
        Self::generate_inner(id, timestamp, identity, &mut OsRandom)
    }

    /// [`SignedPreKeyRecord::generate`] from `rng` (32 bytes for the key, 64 for the
    /// signature).
    #[cfg(feature = "hazmat")]
    pub fn generate_with_rng(id: u32, timestamp: u64, identity: &IdentityKeyPair, rng: &mut impl RandomSource) -> Self {
        Self::generate_inner(id, timestamp, identity, rng)
    }

    pub(crate) fn generate_inner(
        id: u32,
        timestamp: u64,
        identity: &IdentityKeyPair,
        rng: &mut impl RandomSource,
    ) -> Self {
        let key = Curve25519SecretKey::random(rng);
        let signature = identity.sign_with(&encode_public_key(&key.public_key()), rng);
        Self::new(id, timestamp, key, signature)
    }

    /// The id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// When it was made (milliseconds since the Unix epoch).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The public key.
    pub fn public_key(&self) -> Curve25519PublicKey {
        self.public
    }

    /// The secret key.
    pub fn secret_key(&self) -> &Curve25519SecretKey {
        &self.key
    }

    /// The identity key's XEdDSA signature of `0x05 ‖ public key`.
    pub fn signature(&self) -> XEdDsaSignature {
        self.signature
    }
}

/// A Kyber1024 prekey (libsignal's `KyberPreKeyRecord`), signed by the identity key over its
/// 1569-byte form. A one-time Kyber prekey is removed when a session used it; a last-resort one
/// stays, and its uses are remembered against replay (see
/// [`PreKeyReplayStore`](super::PreKeyReplayStore)). libsignal's record has no last-resort flag
/// (its application decides in `markKyberPreKeyUsed`); caudata keeps the decision in the record.
#[derive(Clone)]
pub struct KyberPreKeyRecord {
    pub(crate) id: u32,
    pub(crate) timestamp: u64,
    pub(crate) key: Kyber1024SecretKey,
    pub(crate) signature: XEdDsaSignature,
    pub(crate) last_resort: bool,
}

impl core::fmt::Debug for KyberPreKeyRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KyberPreKeyRecord")
            .field("id", &self.id)
            .field("timestamp", &self.timestamp)
            .field("last_resort", &self.last_resort)
            .finish_non_exhaustive()
    }
}

impl KyberPreKeyRecord {
    /// A record for an existing key and its signature.
    pub fn new(
        id: u32,
        timestamp: u64,
        key: Kyber1024SecretKey,
        signature: XEdDsaSignature,
        last_resort: bool,
    ) -> Self {
        Self { id, timestamp, key, signature, last_resort }
    }

    /// A fresh Kyber1024 prekey, signed by `identity`.
    pub fn generate(id: u32, timestamp: u64, identity: &IdentityKeyPair, last_resort: bool) -> Self {
        Self::generate_inner(id, timestamp, identity, last_resort, &mut OsRandom)
    }

    /// [`KyberPreKeyRecord::generate`] from `rng` (64 bytes for the key, 64 for the signature).
    #[cfg(feature = "hazmat")]
    pub fn generate_with_rng(
        id: u32,
        timestamp: u64,
        identity: &IdentityKeyPair,
        last_resort: bool,
        rng: &mut impl RandomSource,
    ) -> Self {
        Self::generate_inner(id, timestamp, identity, last_resort, rng)
    }

    pub(crate) fn generate_inner(
        id: u32,
        timestamp: u64,
        identity: &IdentityKeyPair,
        last_resort: bool,
        rng: &mut impl RandomSource,
    ) -> Self {
        let key = Kyber1024SecretKey::generate(rng);
        let signature = identity.sign_with(&key.public_key().to_bytes(), rng);
        Self::new(id, timestamp, key, signature, last_resort)
    }

    /// The id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// When it was made (milliseconds since the Unix epoch).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The public key.
    pub fn public_key(&self) -> &Kyber1024PublicKey {
        self.key.public_key()
    }

    /// The secret key.
    pub fn secret_key(&self) -> &Kyber1024SecretKey {
        &self.key
    }

    /// The identity key's XEdDSA signature of the public key's 1569-byte form.
    pub fn signature(&self) -> XEdDsaSignature {
        self.signature
    }

    /// Whether the key is last-resort (kept after use).
    pub fn is_last_resort(&self) -> bool {
        self.last_resort
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "hazmat")]
    struct Fill(u8);
    #[cfg(feature = "hazmat")]
    impl RandomSource for Fill {
        fn fill(&mut self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
    }

    /// Each record gives back what it was made with, its public key is its secret key's, and
    /// its signature verifies under the identity over the form libsignal signs (and over nothing
    /// else).
    #[test]
    fn records_keep_their_fields_and_verifiable_signatures() {
        let identity = IdentityKeyPair::generate();
        let id_public = identity.public_key();
        assert_eq!(identity.secret_key().public_key(), id_public);
        assert!(id_public.verify_xeddsa(b"m", &identity.sign(b"m")).is_ok());
        assert!(id_public.verify_xeddsa(b"m", &identity.sign_with(b"m", &mut OsRandom)).is_ok());
        assert!(id_public.verify_xeddsa(b"n", &identity.sign(b"m")).is_err());

        let pk = PreKeyRecord::generate(7);
        assert_eq!(pk.id(), 7);
        assert_eq!(pk.secret_key().public_key(), pk.public_key());

        let spk = SignedPreKeyRecord::generate(8, 1_700_000_000_000, &identity);
        assert_eq!((spk.id(), spk.timestamp()), (8, 1_700_000_000_000));
        assert_eq!(spk.secret_key().public_key(), spk.public_key());
        let signed = encode_public_key(&spk.public_key());
        assert!(id_public.verify_xeddsa(&signed, &spk.signature()).is_ok());
        assert!(id_public.verify_xeddsa(&signed[1..], &spk.signature()).is_err());

        for last_resort in [false, true] {
            let kyber = KyberPreKeyRecord::generate(9, 1_700_000_000_001, &identity, last_resort);
            assert_eq!((kyber.id(), kyber.timestamp(), kyber.is_last_resort()), (9, 1_700_000_000_001, last_resort));
            assert_eq!(kyber.public_key(), kyber.secret_key().public_key());
            let signed = kyber.public_key().to_bytes();
            assert_eq!(signed.len(), 1569);
            assert!(id_public.verify_xeddsa(&signed, &kyber.signature()).is_ok());
            assert!(id_public.verify_xeddsa(&signed[1..], &kyber.signature()).is_err());
        }
    }

    /// (hazmat) The same random bytes make the same records; other bytes, other keys.
    #[cfg(feature = "hazmat")]
    #[test]
    fn records_from_the_same_random_bytes_are_the_same() {
        let identity = IdentityKeyPair::generate_with_rng(&mut Fill(1));
        assert_eq!(identity.public_key(), IdentityKeyPair::generate_with_rng(&mut Fill(1)).public_key());
        assert_ne!(identity.public_key(), IdentityKeyPair::generate_with_rng(&mut Fill(2)).public_key());
        let pk = PreKeyRecord::generate_with_rng(3, &mut Fill(3));
        assert_eq!((pk.id(), pk.public_key()), (3, PreKeyRecord::generate_with_rng(3, &mut Fill(3)).public_key()));
        assert_ne!(pk.public_key(), PreKeyRecord::generate_with_rng(3, &mut Fill(4)).public_key());
        let spk = SignedPreKeyRecord::generate_with_rng(4, 5, &identity, &mut Fill(5));
        let again = SignedPreKeyRecord::generate_with_rng(4, 5, &identity, &mut Fill(5));
        assert_eq!((spk.id(), spk.timestamp(), spk.public_key()), (4, 5, again.public_key()));
        assert_eq!(spk.signature(), again.signature());
        assert!(identity.public_key().verify_xeddsa(&encode_public_key(&spk.public_key()), &spk.signature()).is_ok());
        let kyber = KyberPreKeyRecord::generate_with_rng(6, 7, &identity, true, &mut Fill(6));
        let again = KyberPreKeyRecord::generate_with_rng(6, 7, &identity, true, &mut Fill(6));
        assert_eq!((kyber.id(), kyber.timestamp(), kyber.is_last_resort()), (6, 7, true));
        assert_eq!(kyber.public_key(), again.public_key());
        assert_ne!(
            kyber.public_key(),
            KyberPreKeyRecord::generate_with_rng(6, 7, &identity, true, &mut Fill(7)).public_key()
        );
        assert!(identity.public_key().verify_xeddsa(&kyber.public_key().to_bytes(), &kyber.signature()).is_ok());
    }
}
