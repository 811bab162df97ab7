//! The MSC4388 secure channel for QR-code login: RFC 9180 HPKE in base mode (DHKEM(X25519,
//! HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305), wire-compatible with vodozemac 0.11.1's
//! `vodozemac::hpke` (its module, type and method names are kept).
//!
//! Device **G** shows a QR code with its public key ([`HpkeRecipientChannel::public_key`]);
//! device **S** scans it and sends the [`InitialMessage`]; G answers with the
//! [`InitialResponse`], after which both hold an [`EstablishedHpkeChannel`] and compare the
//! [`CheckCode`] out of band (MSC4388 shows it with [`DigitMode::NoLeadingZero`]).
//!
//! ```
//! use caudata::hpke::{
//!     BidirectionalCreationResult, DigitMode, HpkeRecipientChannel, HpkeSenderChannel,
//!     RecipientCreationResult, SenderCreationResult,
//! };
//!
//! # fn main() -> Result<(), caudata::hpke::Error> {
//! let g = HpkeRecipientChannel::new(); // its public key goes into the QR code
//! let SenderCreationResult { channel: s, message } =
//!     HpkeSenderChannel::new().establish_channel(g.public_key(), b"MATRIX_QR_CODE_LOGIN_INITIATE", &[])?;
//!
//! let RecipientCreationResult { channel: g, message: hello } = g.establish_channel(&message, &[])?;
//! assert_eq!(hello, b"MATRIX_QR_CODE_LOGIN_INITIATE");
//! let BidirectionalCreationResult { channel: mut g, message: response } =
//!     g.establish_bidirectional_channel(b"MATRIX_QR_CODE_LOGIN_OK", &[])?;
//!
//! let BidirectionalCreationResult { channel: mut s, message: ok } =
//!     s.establish_bidirectional_channel(&response, &[])?;
//! assert_eq!(ok, b"MATRIX_QR_CODE_LOGIN_OK");
//! assert_eq!(s.check_code().to_digit(DigitMode::NoLeadingZero), g.check_code().to_digit(DigitMode::NoLeadingZero));
//!
//! let m = s.seal(b"secrets", &[])?;
//! assert_eq!(g.open(&m, &[])?, b"secrets");
//! # Ok(())
//! # }
//! ```
//!
//! Keys are unauthenticated until the check codes have been compared. A failed [`open`] changes
//! nothing (the next message still opens), as RFC 9180 specifies. Set-up steps consume their
//! one-shot state, success or not (vodozemac's shape): after a failure the login starts over.
//!
//! [`open`]: EstablishedHpkeChannel::open

mod messages;

pub use messages::{InitialMessage, InitialResponse, Message, MessageDecodeError};

use crate::primitives::{Curve25519PublicKey, Curve25519SecretKey, HpkeContext, OsRandom, RandomSource, ct_eq};

/// The application info (HPKE `info`, and the prefix of the check-code and response labels)
/// that QR-code login uses.
const MATRIX_QR_LOGIN_INFO_PREFIX: &str = "MATRIX_QR_CODE_LOGIN";

/// The MSC4388 channel failed. The channel (when it survives the call) is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Diffie-Hellman with the peer's key gave the all-zero result (a small-order key), which
    /// RFC 9180 requires to be refused.
    #[error("non-contributory Diffie-Hellman: the peer's key has small order")]
    NonContributoryKey,
    /// The message did not decrypt: modified, replayed, out of order, made for another channel
    /// or with other associated data.
    #[error("the message could not be decrypted")]
    Decryption,
    /// The channel cannot encrypt: its sequence number is exhausted (after 2^64 − 1 messages)
    /// or the plaintext exceeds ChaCha20-Poly1305's limit (256 GiB).
    #[error("the channel cannot encrypt this message: sequence number or length limit reached")]
    Encryption,
}

/// How a [`CheckCode`] is shown as two decimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigitMode {
    /// 00–99: `(b0 % 10) · 10 + b1 % 10` (MSC4108; what matrix-rust-sdk shows for ECIES).
    AllowLeadingZero,
    /// 10–99: `((b0 % 9) + 1) · 10 + b1 % 10` (MSC4388).
    NoLeadingZero,
}

/// Two bytes both devices derive from the channel's secret, compared by the user (as two
/// digits) to detect a man in the middle. Compared in constant time.
#[derive(Clone)]
pub struct CheckCode {
    bytes: [u8; 2],
}

impl CheckCode {
    pub(crate) const fn from_bytes(bytes: [u8; 2]) -> Self {
        Self { bytes }
    }

    /// The two bytes.
    pub const fn as_bytes(&self) -> &[u8; 2] {
        &self.bytes
    }

    /// The two digits to show, as a number (0–99 or 10–99 by `mode`).
    ///
    /// ```
    /// # use caudata::hpke::DigitMode;
    /// # fn check(code: &caudata::hpke::CheckCode) {
    /// let shown = format!("{:02}", code.to_digit(DigitMode::AllowLeadingZero));
    /// # }
    /// ```
    pub const fn to_digit(&self, mode: DigitMode) -> u8 {
        let first = match mode {
            DigitMode::AllowLeadingZero => self.bytes[0] % 10,
            DigitMode::NoLeadingZero => self.bytes[0] % 9 + 1,
        };
        first * 10 + self.bytes[1] % 10
    }
}

impl PartialEq for CheckCode {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.bytes, &other.bytes)
    }
}
impl Eq for CheckCode {}

impl core::fmt::Debug for CheckCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CheckCode(..)")
    }
}

/// `app_info ‖ "_CHECKCODE" ‖ Gp ‖ Sp` (raw keys; vodozemac 0.11.1's form: 0.11.0 used a
/// `|`-separated base64 string, whose codes differ).
fn check_code(context: &HpkeContext, info: &str, g: &Curve25519PublicKey, s: &Curve25519PublicKey) -> CheckCode {
    let label = [info.as_bytes(), b"_CHECKCODE", g.as_bytes(), s.as_bytes()].concat();
    let mut bytes = [0u8; 2];
    context.export(&label, &mut bytes);
    CheckCode::from_bytes(bytes)
}

fn response_label(info: &str) -> Vec<u8> {
    [info.as_bytes(), b"_RESPONSE"].concat()
}

// ------------------------------------------------------------------ S: the sender

/// Device S before it has scanned the QR code: only the application info.
#[derive(Debug, Clone)]
pub struct HpkeSenderChannel {
    info: String,
}

impl Default for HpkeSenderChannel {
    fn default() -> Self {
        Self::new()
    }
}

/// S's channel and the initial message to send.
#[derive(Debug)]
pub struct SenderCreationResult {
    /// S's channel, waiting for G's [`InitialResponse`].
    pub channel: UnidirectionalSenderChannel,
    /// The message for G.
    pub message: InitialMessage,
}

impl HpkeSenderChannel {
    /// With the QR-login application info (`"MATRIX_QR_CODE_LOGIN"`).
    pub fn new() -> Self {
        Self::with_info(MATRIX_QR_LOGIN_INFO_PREFIX)
    }

    /// With another application info (domain separation for other uses).
    pub fn with_info(info: &str) -> Self {
        Self { info: info.to_owned() }
    }

    /// Encapsulates to G's public key and encrypts the first plaintext (sequence number 0).
    ///
    /// # Errors
    /// [`Error::NonContributoryKey`] when G's key has small order; [`Error::Encryption`] for a
    /// plaintext beyond ChaCha20-Poly1305's limit.
    pub fn establish_channel(
        self,
        their_public_key: Curve25519PublicKey,
        initial_plaintext: &[u8],
        aad: &[u8],
    ) -> Result<SenderCreationResult, Error> {
        self.establish_inner(their_public_key, initial_plaintext, aad, &mut OsRandom)
    }

    /// [`HpkeSenderChannel::establish_channel`] with the ephemeral key drawn from `rng` (32 bytes,
    /// used as the X25519 secret key).
    ///
    /// # Errors
    /// As [`HpkeSenderChannel::establish_channel`].
    #[cfg(feature = "hazmat")]
    pub fn establish_channel_with_rng(
        self,
        their_public_key: Curve25519PublicKey,
        initial_plaintext: &[u8],
        aad: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<SenderCreationResult, Error> {
        self.establish_inner(their_public_key, initial_plaintext, aad, rng)
    }

    fn establish_inner(
        self,
        their_public_key: Curve25519PublicKey,
        initial_plaintext: &[u8],
        aad: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<SenderCreationResult, Error> {
        let ephemeral = Curve25519SecretKey::random(rng);
        let (enc, mut context) = HpkeContext::setup_base_sender(&their_public_key, self.info.as_bytes(), &ephemeral)
            .map_err(|_| Error::NonContributoryKey)?;
        let ciphertext = context.seal(aad, initial_plaintext).ok_or(Error::Encryption)?;
        Ok(SenderCreationResult {
            channel: UnidirectionalSenderChannel { context, info: self.info, our_public_key: enc, their_public_key },
            message: InitialMessage { encapsulated_key: enc, ciphertext },
        })
    }
}

/// S after sending the initial message, waiting for G's [`InitialResponse`].
pub struct UnidirectionalSenderChannel {
    context: HpkeContext,
    info: String,
    our_public_key: Curve25519PublicKey,
    their_public_key: Curve25519PublicKey,
}

impl core::fmt::Debug for UnidirectionalSenderChannel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { context: _, info, our_public_key, their_public_key } = self;
        f.debug_struct("UnidirectionalSenderChannel")
            .field("application_info_prefix", info)
            .field("our_public_key", our_public_key)
            .field("their_public_key", their_public_key)
            .finish_non_exhaustive()
    }
}

/// The channel made bidirectional, and the plaintext the last step carried.
#[derive(Debug)]
pub struct BidirectionalCreationResult<T> {
    /// The established channel.
    pub channel: EstablishedHpkeChannel,
    /// S: the decrypted response ([`Vec<u8>`]); G: the [`InitialResponse`] to send.
    pub message: T,
}

impl UnidirectionalSenderChannel {
    /// Opens G's initial response (response sequence number 0) and establishes the channel.
    ///
    /// # Errors
    /// [`Error::Decryption`] when the response does not open.
    pub fn establish_bidirectional_channel(
        self,
        message: &InitialResponse,
        aad: &[u8],
    ) -> Result<BidirectionalCreationResult<Vec<u8>>, Error> {
        let Self { context, info, our_public_key, their_public_key } = self;
        let mut response =
            context.response_context(&response_label(&info), &our_public_key, &message.base_response_nonce);
        let plaintext = response.open(aad, &message.ciphertext).ok_or(Error::Decryption)?;
        // S's key is `enc`; G's is the QR code's.
        let check_code = check_code(&context, &info, &their_public_key, &our_public_key);
        Ok(BidirectionalCreationResult {
            channel: EstablishedHpkeChannel {
                our_public_key,
                their_public_key,
                check_code,
                role: Role::Sender { outbound: context, inbound: response },
            },
            message: plaintext,
        })
    }
}

// ------------------------------------------------------------------ G: the recipient

/// Device G before the initial message: its key pair (its public key goes into the QR code).
pub struct HpkeRecipientChannel {
    secret_key: Curve25519SecretKey,
    public_key: Curve25519PublicKey,
    info: String,
}

impl core::fmt::Debug for HpkeRecipientChannel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { secret_key: _, public_key, info } = self;
        f.debug_struct("HpkeRecipientChannel")
            .field("our_public_key", public_key)
            .field("application_info_prefix", info)
            .finish_non_exhaustive()
    }
}

impl Default for HpkeRecipientChannel {
    fn default() -> Self {
        Self::new()
    }
}

/// G's channel and the plaintext of the initial message.
#[derive(Debug)]
pub struct RecipientCreationResult {
    /// G's channel, which must answer with [`UnidirectionalRecipientChannel::establish_bidirectional_channel`].
    pub channel: UnidirectionalRecipientChannel,
    /// The initial message's plaintext.
    pub message: Vec<u8>,
}

impl HpkeRecipientChannel {
    /// A fresh key pair, with the QR-login application info.
    pub fn new() -> Self {
        Self::with_info(MATRIX_QR_LOGIN_INFO_PREFIX)
    }

    /// A fresh key pair, with another application info.
    pub fn with_info(info: &str) -> Self {
        Self::with_info_and_rng_inner(info, &mut OsRandom)
    }

    /// [`HpkeRecipientChannel::with_info`] with the secret key drawn from `rng` (32 bytes).
    #[cfg(feature = "hazmat")]
    pub fn with_info_and_rng(info: &str, rng: &mut impl RandomSource) -> Self {
        Self::with_info_and_rng_inner(info, rng)
    }

    fn with_info_and_rng_inner(info: &str, rng: &mut impl RandomSource) -> Self {
        let secret_key = Curve25519SecretKey::random(rng);
        let public_key = secret_key.public_key();
        Self { secret_key, public_key, info: info.to_owned() }
    }

    /// G's public key, for the QR code.
    pub fn public_key(&self) -> Curve25519PublicKey {
        self.public_key
    }

    /// Decapsulates S's key and opens the initial message (sequence number 0).
    ///
    /// # Errors
    /// [`Error::NonContributoryKey`] for a small-order encapsulated key; [`Error::Decryption`]
    /// when the message does not open.
    pub fn establish_channel(self, message: &InitialMessage, aad: &[u8]) -> Result<RecipientCreationResult, Error> {
        let Self { secret_key, public_key, info } = self;
        let mut context = HpkeContext::setup_base_recipient(&message.encapsulated_key, &secret_key, info.as_bytes())
            .map_err(|_| Error::NonContributoryKey)?;
        let plaintext = context.open(aad, &message.ciphertext).ok_or(Error::Decryption)?;
        Ok(RecipientCreationResult {
            channel: UnidirectionalRecipientChannel {
                context,
                info,
                our_public_key: public_key,
                their_public_key: message.encapsulated_key,
            },
            message: plaintext,
        })
    }
}

/// G after the initial message, before it answers.
pub struct UnidirectionalRecipientChannel {
    context: HpkeContext,
    info: String,
    our_public_key: Curve25519PublicKey,
    their_public_key: Curve25519PublicKey,
}

impl core::fmt::Debug for UnidirectionalRecipientChannel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { context: _, info, our_public_key, their_public_key } = self;
        f.debug_struct("UnidirectionalRecipientChannel")
            .field("application_info_prefix", info)
            .field("their_public_key", their_public_key)
            .field("our_public_key", our_public_key)
            .finish_non_exhaustive()
    }
}

impl UnidirectionalRecipientChannel {
    /// Draws the response nonce, builds the response context and encrypts the response
    /// (response sequence number 0).
    ///
    /// # Errors
    /// [`Error::Encryption`] only for a plaintext beyond ChaCha20-Poly1305's limit (vodozemac
    /// returns the result without a `Result`).
    pub fn establish_bidirectional_channel(
        self,
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<BidirectionalCreationResult<InitialResponse>, Error> {
        self.bidirectional_inner(plaintext, aad, &mut OsRandom)
    }

    /// [`UnidirectionalRecipientChannel::establish_bidirectional_channel`] with the response
    /// nonce drawn from `rng` (32 bytes).
    ///
    /// # Errors
    /// As [`UnidirectionalRecipientChannel::establish_bidirectional_channel`].
    #[cfg(feature = "hazmat")]
    pub fn establish_bidirectional_channel_with_rng(
        self,
        plaintext: &[u8],
        aad: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<BidirectionalCreationResult<InitialResponse>, Error> {
        self.bidirectional_inner(plaintext, aad, rng)
    }

    fn bidirectional_inner(
        self,
        plaintext: &[u8],
        aad: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<BidirectionalCreationResult<InitialResponse>, Error> {
        let Self { context, info, our_public_key, their_public_key } = self;
        let mut base_response_nonce = [0u8; 32];
        rng.fill(&mut base_response_nonce);
        let mut response = context.response_context(&response_label(&info), &their_public_key, &base_response_nonce);
        let ciphertext = response.seal(aad, plaintext).ok_or(Error::Encryption)?;
        let check_code = check_code(&context, &info, &our_public_key, &their_public_key);
        Ok(BidirectionalCreationResult {
            channel: EstablishedHpkeChannel {
                our_public_key,
                their_public_key,
                check_code,
                role: Role::Recipient { inbound: context, outbound: response },
            },
            message: InitialResponse { base_response_nonce, ciphertext },
        })
    }
}

// ------------------------------------------------------------------ both

/// Which context seals and which opens: S seals on the original HPKE context and opens on
/// G's response context; G the other way round.
enum Role {
    Sender { outbound: HpkeContext, inbound: HpkeContext },
    Recipient { inbound: HpkeContext, outbound: HpkeContext },
}

/// The established channel, in either role.
pub struct EstablishedHpkeChannel {
    our_public_key: Curve25519PublicKey,
    their_public_key: Curve25519PublicKey,
    check_code: CheckCode,
    role: Role,
}

impl core::fmt::Debug for EstablishedHpkeChannel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { our_public_key, their_public_key, check_code: _, role } = self;
        f.debug_struct("EstablishedHpkeChannel")
            .field("our_public_key", our_public_key)
            .field("their_public_key", their_public_key)
            .field(
                "role",
                &match role {
                    Role::Sender { .. } => "Sender",
                    Role::Recipient { .. } => "Recipient",
                },
            )
            .finish_non_exhaustive()
    }
}

impl EstablishedHpkeChannel {
    /// Our public key (S: the encapsulated key; G: the QR code's key).
    pub const fn public_key(&self) -> Curve25519PublicKey {
        self.our_public_key
    }

    /// The other device's public key.
    pub const fn their_public_key(&self) -> Curve25519PublicKey {
        self.their_public_key
    }

    /// The check code to compare with the other device.
    pub const fn check_code(&self) -> &CheckCode {
        &self.check_code
    }

    fn contexts(&mut self) -> (&mut HpkeContext, &mut HpkeContext) {
        match &mut self.role {
            Role::Sender { outbound, inbound } | Role::Recipient { inbound, outbound } => (outbound, inbound),
        }
    }

    /// Encrypts the next message.
    ///
    /// # Errors
    /// [`Error::Encryption`] when the sequence number is exhausted (2^64 − 1 messages) or the
    /// plaintext exceeds ChaCha20-Poly1305's limit; nothing changes.
    pub fn seal(&mut self, plaintext: &[u8], aad: &[u8]) -> Result<Message, Error> {
        let ciphertext = self.contexts().0.seal(aad, plaintext).ok_or(Error::Encryption)?;
        Ok(Message { ciphertext })
    }

    /// Decrypts the next message (messages must arrive in order).
    ///
    /// # Errors
    /// [`Error::Decryption`]; the channel is unchanged, so the expected message still opens.
    pub fn open(&mut self, message: &Message, aad: &[u8]) -> Result<Vec<u8>, Error> {
        self.contexts().1.open(aad, &message.ciphertext).ok_or(Error::Decryption)
    }

    /// The sequence numbers (next to seal, next to open), for tests of the limits.
    #[cfg(test)]
    fn sequence_numbers_for_testing(&mut self) -> (u64, u64) {
        let (o, i) = self.contexts();
        (o.seq(), i.seq())
    }
}

#[cfg(test)]
mod tests;
