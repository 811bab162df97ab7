//! The MSC4108 secure channel for QR-code login, wire-compatible with vodozemac 0.11.1's
//! `vodozemac::ecies` (whose module, type and method names are kept): what matrix-rust-sdk and
//! matrix-js-sdk (through matrix-sdk-crypto-wasm) use for OAuth QR login today.
//!
//! Device **G** shows a QR code with its ephemeral public key ([`Ecies::public_key`]); device
//! **S** scans it, establishes the channel and sends the [`InitialMessage`]. Both derive, with
//! HKDF-**SHA-512** (vodozemac's choice; the MSC text says SHA-256, which does not
//! interoperate) from their X25519 secret, one ChaCha20-Poly1305 key per direction and a
//! [`CheckCode`] that the user compares (matrix-rust-sdk shows it with
//! [`DigitMode::AllowLeadingZero`]).
//!
//! ```
//! use caudata::ecies::{DigitMode, Ecies, InboundCreationResult, InitialMessage, Message, OutboundCreationResult};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let g = Ecies::new(); // its public key goes into the QR code
//! let OutboundCreationResult { ecies: mut s, message } =
//!     Ecies::new().establish_outbound_channel(g.public_key(), b"MATRIX_QR_CODE_LOGIN_INITIATE")?;
//!
//! let InboundCreationResult { ecies: mut g, message: hello } =
//!     g.establish_inbound_channel(&InitialMessage::decode(&message.encode())?)?;
//! assert_eq!(hello, b"MATRIX_QR_CODE_LOGIN_INITIATE");
//! assert_eq!(s.check_code().to_digit(DigitMode::AllowLeadingZero), g.check_code().to_digit(DigitMode::AllowLeadingZero));
//!
//! let ok = g.encrypt(b"MATRIX_QR_CODE_LOGIN_OK")?;
//! assert_eq!(s.decrypt(&Message::decode(&ok.encode())?)?, b"MATRIX_QR_CODE_LOGIN_OK");
//! # Ok(())
//! # }
//! ```
//!
//! **Nonces.** Each direction counts its messages from 0; the 12-byte nonce is the counter in
//! little-endian. S's initial message uses S's nonce 0, G's first message G's nonce 0.
//!
//! **Failure.** A failed [`decrypt`](EstablishedEcies::decrypt) changes nothing: the expected
//! message still decrypts afterwards. (vodozemac consumes the receive counter before
//! decrypting, so one bad message desynchronises its channel for good; messages that reach
//! caudata intact decrypt either way.) Set-up steps consume the unestablished [`Ecies`],
//! success or not, as in vodozemac: its ephemeral key is single-use.

mod messages;

pub use messages::{InitialMessage, Message, MessageDecodeError};

pub use crate::hpke::{CheckCode, DigitMode};
use crate::primitives::{
    CHACHA_NONCE_LEN, ChaChaKey, Curve25519PublicKey, Curve25519SecretKey, HkdfSha512, OsRandom, RandomSource,
    SecretBytes, SharedSecret,
};

/// The application info that QR-code login uses.
const MATRIX_QR_LOGIN_INFO_PREFIX: &str = "MATRIX_QR_CODE_LOGIN";

/// The MSC4108 channel failed. The channel (when it survives the call) is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Diffie-Hellman with the peer's key gave the all-zero result (a small-order key).
    #[error("non-contributory Diffie-Hellman: the peer's key has small order")]
    NonContributoryKey,
    /// The message did not decrypt: modified, replayed, out of order or for another channel.
    #[error("the message could not be decrypted")]
    Decryption,
    /// The channel cannot encrypt: its message counter is exhausted (after 2^64 − 1 messages)
    /// or the plaintext exceeds ChaCha20-Poly1305's limit (256 GiB).
    #[error("the channel cannot encrypt this message: counter or length limit reached")]
    Encryption,
}

/// Device G's or S's ephemeral key before the channel exists.
pub struct Ecies {
    secret_key: Curve25519SecretKey,
    info: String,
}

impl core::fmt::Debug for Ecies {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { secret_key, info } = self;
        f.debug_struct("Ecies")
            .field("public_key", &secret_key.public_key())
            .field("application_info_prefix", info)
            .finish_non_exhaustive()
    }
}

impl Default for Ecies {
    fn default() -> Self {
        Self::new()
    }
}

/// S's channel and the initial message to send.
#[derive(Debug)]
pub struct OutboundCreationResult {
    /// S's established channel.
    pub ecies: EstablishedEcies,
    /// The message for G.
    pub message: InitialMessage,
}

/// G's channel and the initial message's plaintext.
#[derive(Debug)]
pub struct InboundCreationResult {
    /// G's established channel.
    pub ecies: EstablishedEcies,
    /// The initial message's plaintext.
    pub message: Vec<u8>,
}

/// Whose key encrypts: S (who scanned, and initiates) or G (who showed the QR code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// S: encrypts with `ENCKEY_S`.
    Initiator,
    /// G: encrypts with `ENCKEY_G`.
    Recipient,
}

impl Ecies {
    /// A fresh ephemeral key, with the QR-login application info (`"MATRIX_QR_CODE_LOGIN"`).
    pub fn new() -> Self {
        Self::with_info(MATRIX_QR_LOGIN_INFO_PREFIX)
    }

    /// A fresh ephemeral key, with another application info (domain separation).
    pub fn with_info(info: &str) -> Self {
        Self::with_info_and_rng_inner(info, &mut OsRandom)
    }

    /// [`Ecies::with_info`] with the secret key drawn from `rng` (32 bytes).
    #[cfg(feature = "hazmat")]
    pub fn with_info_and_rng(info: &str, rng: &mut impl RandomSource) -> Self {
        Self::with_info_and_rng_inner(info, rng)
    }

    fn with_info_and_rng_inner(info: &str, rng: &mut impl RandomSource) -> Self {
        Self { secret_key: Curve25519SecretKey::random(rng), info: info.to_owned() }
    }

    /// Our ephemeral public key (G: for the QR code; S: sent in the initial message).
    pub fn public_key(&self) -> Curve25519PublicKey {
        self.secret_key.public_key()
    }

    /// S: establishes the channel to G's public key and encrypts the first plaintext.
    ///
    /// # Errors
    /// [`Error::NonContributoryKey`] when G's key has small order; [`Error::Encryption`] for a
    /// plaintext beyond ChaCha20-Poly1305's limit.
    pub fn establish_outbound_channel(
        self,
        their_public_key: Curve25519PublicKey,
        initial_plaintext: &[u8],
    ) -> Result<OutboundCreationResult, Error> {
        let shared = self.secret_key.diffie_hellman(&their_public_key).map_err(|_| Error::NonContributoryKey)?;
        let our_public_key = self.public_key();
        let mut ecies = EstablishedEcies::new(&shared, our_public_key, their_public_key, &self.info, Role::Initiator);
        let ciphertext = ecies.encrypt(initial_plaintext)?.ciphertext;
        Ok(OutboundCreationResult { ecies, message: InitialMessage { public_key: our_public_key, ciphertext } })
    }

    /// G: establishes the channel from S's initial message and decrypts it.
    ///
    /// # Errors
    /// [`Error::NonContributoryKey`] when S's key has small order; [`Error::Decryption`] when
    /// the message does not decrypt.
    pub fn establish_inbound_channel(self, message: &InitialMessage) -> Result<InboundCreationResult, Error> {
        let shared = self.secret_key.diffie_hellman(&message.public_key).map_err(|_| Error::NonContributoryKey)?;
        let mut ecies =
            EstablishedEcies::new(&shared, self.public_key(), message.public_key, &self.info, Role::Recipient);
        let plaintext = ecies.decrypt(&Message { ciphertext: message.ciphertext.clone() })?;
        Ok(InboundCreationResult { ecies, message: plaintext })
    }
}

/// The established channel, in either role. Its keys are wiped on drop.
pub struct EstablishedEcies {
    encryption_key: ChaChaKey,
    decryption_key: ChaChaKey,
    /// The next nonce counter to encrypt with, and to decrypt with.
    encryption_counter: u64,
    decryption_counter: u64,
    our_public_key: Curve25519PublicKey,
    their_public_key: Curve25519PublicKey,
    check_code: CheckCode,
    role: Role,
}

/// vodozemac's `EstablishedEcies` implements `Zeroize`: both channel keys are overwritten with
/// zeros in place (the channel can no longer talk to its peer). The keys are also wiped when the
/// channel is dropped.
impl zeroize::Zeroize for EstablishedEcies {
    fn zeroize(&mut self) {
        self.encryption_key.wipe();
        self.decryption_key.wipe();
    }
}

impl core::fmt::Debug for EstablishedEcies {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { our_public_key, their_public_key, role, .. } = self;
        f.debug_struct("EstablishedEcies")
            .field("our_public_key", our_public_key)
            .field("their_public_key", their_public_key)
            .field("role", role)
            .finish_non_exhaustive()
    }
}

/// The nonce for message number `counter`: the counter little-endian, zero-padded to 12 bytes
/// (vodozemac: the first 12 bytes of a little-endian `u128`).
fn nonce(counter: u64) -> [u8; CHACHA_NONCE_LEN] {
    let mut n = [0u8; CHACHA_NONCE_LEN];
    n[..8].copy_from_slice(&counter.to_le_bytes());
    n
}

impl EstablishedEcies {
    /// `HKDF-SHA-512(salt = none, ikm = shared secret, info = "<app>_<what>|" b64(Gp) "|"
    /// b64(Sp), L)` for `ENCKEY_S`, `ENCKEY_G` (32 bytes each) and `CHECKCODE` (2 bytes).
    fn new(
        shared: &SharedSecret,
        our_public_key: Curve25519PublicKey,
        their_public_key: Curve25519PublicKey,
        info: &str,
        role: Role,
    ) -> Self {
        let (g, s) = match role {
            Role::Initiator => (their_public_key, our_public_key),
            Role::Recipient => (our_public_key, their_public_key),
        };
        let keys = format!("|{}|{}", g.to_base64(), s.to_base64());
        let info = info.as_bytes();
        let kdf = HkdfSha512::extract(shared.expose());
        let mut key_s = SecretBytes::<32>::zero();
        kdf.expand(&[info, b"_ENCKEY_S", keys.as_bytes()], key_s.expose_mut());
        let mut key_g = SecretBytes::<32>::zero();
        kdf.expand(&[info, b"_ENCKEY_G", keys.as_bytes()], key_g.expose_mut());
        let mut code = [0u8; 2];
        kdf.expand(&[info, b"_CHECKCODE", keys.as_bytes()], &mut code);
        let (encryption_key, decryption_key) = match role {
            Role::Initiator => (key_s, key_g),
            Role::Recipient => (key_g, key_s),
        };
        Self {
            encryption_key: ChaChaKey::new(encryption_key),
            decryption_key: ChaChaKey::new(decryption_key),
            encryption_counter: 0,
            decryption_counter: 0,
            our_public_key,
            their_public_key,
            check_code: CheckCode::from_bytes(code),
            role,
        }
    }

    /// Our ephemeral public key.
    pub const fn public_key(&self) -> Curve25519PublicKey {
        self.our_public_key
    }

    /// The other device's ephemeral public key.
    pub const fn their_public_key(&self) -> Curve25519PublicKey {
        self.their_public_key
    }

    /// The check code to compare with the other device.
    pub const fn check_code(&self) -> &CheckCode {
        &self.check_code
    }

    /// Encrypts the next message (no associated data).
    ///
    /// # Errors
    /// [`Error::Encryption`] when the counter is exhausted (2^64 − 1 messages) or the plaintext
    /// exceeds ChaCha20-Poly1305's limit; nothing changes.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Message, Error> {
        let next = self.encryption_counter.checked_add(1).ok_or(Error::Encryption)?;
        let ciphertext =
            self.encryption_key.seal(&nonce(self.encryption_counter), b"", plaintext).ok_or(Error::Encryption)?;
        self.encryption_counter = next;
        Ok(Message { ciphertext })
    }

    /// Decrypts the next message (messages must arrive in order).
    ///
    /// # Errors
    /// [`Error::Decryption`]; the channel is unchanged, so the expected message still decrypts.
    pub fn decrypt(&mut self, message: &Message) -> Result<Vec<u8>, Error> {
        let next = self.decryption_counter.checked_add(1).ok_or(Error::Decryption)?;
        let mut plaintext = self
            .decryption_key
            .open(&nonce(self.decryption_counter), b"", &message.ciphertext)
            .ok_or(Error::Decryption)?;
        self.decryption_counter = next;
        Ok(core::mem::take(&mut *plaintext))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fill(u8);
    impl RandomSource for Fill {
        fn fill(&mut self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
    }

    fn pair() -> (EstablishedEcies, EstablishedEcies) {
        let g = Ecies::with_info_and_rng_inner("test", &mut Fill(1));
        let s = Ecies::with_info_and_rng_inner("test", &mut Fill(2));
        let out = s.establish_outbound_channel(g.public_key(), b"hi").unwrap();
        let inb = g.establish_inbound_channel(&out.message).unwrap();
        assert_eq!(inb.message, b"hi");
        (out.ecies, inb.ecies)
    }

    #[test]
    fn zeroize_wipes_both_channel_keys() {
        use zeroize::Zeroize;
        let (mut s, mut g) = pair();
        let m = g.encrypt(b"before").unwrap();
        s.zeroize();
        assert!(s.encryption_key == ChaChaKey::from_array(&[0; 32]));
        assert!(s.decryption_key == ChaChaKey::from_array(&[0; 32]));
        assert_eq!(s.decrypt(&m), Err(Error::Decryption), "the wiped channel no longer decrypts");
    }

    #[test]
    fn nonces_are_little_endian_counters() {
        assert_eq!(nonce(0), [0; 12]);
        assert_eq!(nonce(1), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(nonce(0x0102), [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(nonce(u64::MAX)[8..], [0; 4]);
    }

    #[test]
    fn failed_decryption_changes_nothing_and_counters_never_wrap() {
        let (mut s, mut g) = pair();
        assert_eq!((s.encryption_counter, g.decryption_counter), (1, 1));
        let m = g.encrypt(b"ok").unwrap();
        let mut bad = m.clone();
        bad.ciphertext[3] ^= 0x80;
        assert_eq!(s.decrypt(&bad), Err(Error::Decryption));
        assert_eq!(s.decrypt(&Message { ciphertext: vec![] }), Err(Error::Decryption));
        assert_eq!(s.decryption_counter, 0);
        assert_eq!(s.decrypt(&m).unwrap(), b"ok");
        assert_eq!(s.decrypt(&m), Err(Error::Decryption), "a replay fails");
        // S's messages do not decrypt as G's: the directions have separate keys
        let own = s.encrypt(b"x").unwrap();
        assert_eq!(s.decrypt(&own), Err(Error::Decryption));
        assert_eq!(g.decrypt(&own).unwrap(), b"x");
        // the last counter value is refused, state unchanged
        s.encryption_counter = u64::MAX;
        assert_eq!(s.encrypt(b"y"), Err(Error::Encryption));
        assert_eq!(s.encryption_counter, u64::MAX);
        g.decryption_counter = u64::MAX;
        assert_eq!(g.decrypt(&own), Err(Error::Decryption));
        assert_eq!(g.decryption_counter, u64::MAX);
    }

    #[test]
    fn small_order_keys_are_refused() {
        let mut one = [0u8; 32];
        one[0] = 1;
        for bad in [[0u8; 32], one] {
            let bad = Curve25519PublicKey::from_bytes(bad);
            assert_eq!(Ecies::new().establish_outbound_channel(bad, b"").unwrap_err(), Error::NonContributoryKey);
            let m = InitialMessage { public_key: bad, ciphertext: vec![0; 16] };
            assert_eq!(Ecies::new().establish_inbound_channel(&m).unwrap_err(), Error::NonContributoryKey);
        }
    }

    #[test]
    fn check_codes_agree_and_debug_hides_secrets() {
        let (s, g) = pair();
        assert_eq!(s.check_code(), g.check_code());
        assert_eq!(s.their_public_key(), g.public_key());
        let d = format!("{s:?}");
        assert!(d.starts_with("EstablishedEcies { our_public_key: "), "{d}");
        assert!(!d.contains("encryption_key") && !d.contains("check_code") && d.ends_with(".. }"), "{d}");
    }
}
