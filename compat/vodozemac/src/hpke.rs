//! The MSC4388 secure channel (QR-code login over RFC 9180 HPKE), as vodozemac 0.11.1 names
//! and shapes it; caudata's `hpke` module does the work.

use crate::{Curve25519PublicKey, KeyError, base64_decode, base64_encode};

/// The application info prefix of Matrix's QR-code login.
const MATRIX_QR_LOGIN_INFO_PREFIX: &str = "MATRIX_QR_CODE_LOGIN";

/// A channel could not be established, or a message did not decrypt.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The message does not decrypt (wrong key, modified, or out of order).
    #[error("Failed decrypting the message")]
    Decryption,
    /// Encapsulation to the recipient's key failed (a small-order key).
    #[error("Failed decrypting the message")]
    Encapsulation(#[from] hpke::HpkeError),
}

impl Error {
    fn from_core(e: caudata::hpke::Error) -> Self {
        match e {
            caudata::hpke::Error::NonContributoryKey => Self::Encapsulation(hpke::HpkeError::EncapError),
            caudata::hpke::Error::Decryption => Self::Decryption,
            _ => Self::Encapsulation(hpke::HpkeError::MessageLimitReached),
        }
    }
}

/// A message could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum MessageDecodeError {
    /// The message is too short.
    #[error("The message doesn't contain enough bytes to be decoded")]
    MessageIncomplete,
    /// An embedded key is invalid.
    #[error("The embedded ephemeral Curve25519 key could not have been decoded: {0:?}")]
    KeyError(#[from] KeyError),
    /// The text is not base64.
    #[error("The ciphertext could not have been decoded from a base64 string: {0:?}")]
    Base64(#[from] base64::DecodeError),
}

/// The two-byte check code both devices show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckCode {
    pub(crate) bytes: [u8; 2],
}

impl CheckCode {
    pub(crate) fn from_core(c: &caudata::hpke::CheckCode) -> Self {
        Self { bytes: *c.as_bytes() }
    }

    /// The two bytes.
    pub const fn as_bytes(&self) -> &[u8; 2] {
        &self.bytes
    }

    /// The two-digit number to show.
    pub const fn to_digit(&self, mode: DigitMode) -> u8 {
        let first = match mode {
            DigitMode::AllowLeadingZero => (self.bytes[0] % 10) * 10,
            DigitMode::NoLeadingZero => ((self.bytes[0] % 9) + 1) * 10,
        };
        first + self.bytes[1] % 10
    }
}

/// How a check code's first digit is formed.
pub enum DigitMode {
    /// 0–9.
    AllowLeadingZero,
    /// 1–9.
    NoLeadingZero,
}

fn split_prefix(bytes: &[u8]) -> Result<([u8; 32], Vec<u8>), MessageDecodeError> {
    bytes
        .split_first_chunk::<32>()
        .map(|(prefix, rest)| (*prefix, rest.to_vec()))
        .ok_or(MessageDecodeError::MessageIncomplete)
}

/// The sender's first message: its encapsulated key and first ciphertext.
#[derive(Debug, PartialEq, Eq)]
pub struct InitialMessage {
    /// The sender's encapsulated (ephemeral) key.
    pub encapsulated_key: Curve25519PublicKey,
    /// The first ciphertext.
    pub ciphertext: Vec<u8>,
}

impl InitialMessage {
    /// Unpadded base64 of [`InitialMessage::to_bytes`].
    pub fn encode(&self) -> String {
        base64_encode(self.to_bytes())
    }

    /// Decodes [`InitialMessage::encode`]'s form.
    ///
    /// # Errors
    /// A [`MessageDecodeError`].
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        Self::from_bytes(&base64_decode(message)?)
    }

    /// The key followed by the ciphertext.
    pub fn to_bytes(&self) -> Vec<u8> {
        [self.encapsulated_key.as_bytes().as_slice(), &self.ciphertext].concat()
    }

    /// Decodes [`InitialMessage::to_bytes`]'s form.
    ///
    /// # Errors
    /// [`MessageDecodeError::MessageIncomplete`] below 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MessageDecodeError> {
        let (key, ciphertext) = split_prefix(bytes)?;
        Ok(Self { encapsulated_key: Curve25519PublicKey::from_bytes(key), ciphertext })
    }

    fn to_core(&self) -> caudata::hpke::InitialMessage {
        caudata::hpke::InitialMessage {
            encapsulated_key: self.encapsulated_key.inner,
            ciphertext: self.ciphertext.clone(),
        }
    }
}

/// The recipient's answer: the response nonce and its first ciphertext.
#[derive(Debug)]
pub struct InitialResponse {
    /// The base nonce of the response direction.
    pub base_response_nonce: [u8; 32],
    /// The first ciphertext.
    pub ciphertext: Vec<u8>,
}

impl InitialResponse {
    /// Unpadded base64 of [`InitialResponse::to_bytes`].
    pub fn encode(&self) -> String {
        base64_encode(self.to_bytes())
    }

    /// Decodes [`InitialResponse::encode`]'s form.
    ///
    /// # Errors
    /// A [`MessageDecodeError`].
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        Self::from_bytes(&base64_decode(message)?)
    }

    /// Decodes [`InitialResponse::to_bytes`]'s form.
    ///
    /// # Errors
    /// [`MessageDecodeError::MessageIncomplete`] below 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MessageDecodeError> {
        let (base_response_nonce, ciphertext) = split_prefix(bytes)?;
        Ok(Self { base_response_nonce, ciphertext })
    }

    /// The nonce followed by the ciphertext.
    pub fn to_bytes(&self) -> Vec<u8> {
        [self.base_response_nonce.as_slice(), &self.ciphertext].concat()
    }

    fn to_core(&self) -> caudata::hpke::InitialResponse {
        caudata::hpke::InitialResponse {
            base_response_nonce: self.base_response_nonce,
            ciphertext: self.ciphertext.clone(),
        }
    }
}

/// A later message.
#[derive(Debug)]
pub struct Message {
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
}

impl Message {
    /// Unpadded base64 of the ciphertext.
    pub fn encode(&self) -> String {
        base64_encode(&self.ciphertext)
    }

    /// Decodes [`Message::encode`]'s form.
    ///
    /// # Errors
    /// A [`MessageDecodeError`] (also for an empty message).
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        let ciphertext = base64_decode(message)?;
        if ciphertext.is_empty() { Err(MessageDecodeError::MessageIncomplete) } else { Ok(Self { ciphertext }) }
    }
}

/// A channel and the message its creation produced.
pub struct BidirectionalCreationResult<T> {
    /// The channel.
    pub channel: EstablishedHpkeChannel,
    /// The message (a plaintext received, or a response to send).
    pub message: T,
}

/// An established channel, both directions.
pub struct EstablishedHpkeChannel {
    inner: caudata::hpke::EstablishedHpkeChannel,
    check_code: CheckCode,
    sender: bool,
}

impl std::fmt::Debug for EstablishedHpkeChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Role(bool);
        impl std::fmt::Debug for Role {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(if self.0 { "Sender" } else { "Recipient" })
            }
        }
        f.debug_struct("EstablishedHpkeChannel")
            .field("our_public_key", &self.public_key())
            .field("their_public_key", &self.their_public_key())
            .field("check_code", &self.check_code)
            .field("role", &Role(self.sender))
            .finish()
    }
}

impl EstablishedHpkeChannel {
    fn new(inner: caudata::hpke::EstablishedHpkeChannel, sender: bool) -> Self {
        let check_code = CheckCode::from_core(inner.check_code());
        Self { inner, check_code, sender }
    }

    /// Our public key.
    pub const fn public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.inner.public_key())
    }

    /// The other device's public key.
    pub const fn their_public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.inner.their_public_key())
    }

    /// The check code both devices show.
    pub fn check_code(&self) -> &CheckCode {
        &self.check_code
    }

    /// Encrypts the next message.
    pub fn seal(&mut self, plaintext: &[u8], aad: &[u8]) -> Message {
        // caudata refuses only past 2^64 messages or beyond the AEAD's length limit, where
        // vodozemac panics too.
        #[allow(clippy::expect_used)]
        let m =
            self.inner.seal(plaintext, aad).expect("the channel's sequence number and length limits are not reached");
        Message { ciphertext: m.ciphertext }
    }

    /// Decrypts the next message (messages must arrive in order).
    ///
    /// # Errors
    /// [`Error::Decryption`].
    pub fn open(&mut self, message: &Message, aad: &[u8]) -> Result<Vec<u8>, Error> {
        let m = caudata::hpke::Message { ciphertext: message.ciphertext.clone() };
        self.inner.open(&m, aad).map_err(Error::from_core)
    }
}

/// The sender's channel and initial message.
pub struct SenderCreationResult {
    /// The channel, waiting for the recipient's response.
    pub channel: UnidirectionalSenderChannel,
    /// The message for the recipient.
    pub message: InitialMessage,
}

/// The sender (the device that scans the QR code) before encapsulating.
#[derive(Debug)]
pub struct HpkeSenderChannel {
    application_info_prefix: String,
}

impl HpkeSenderChannel {
    /// With the info prefix `MATRIX_QR_CODE_LOGIN`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self::with_info(MATRIX_QR_LOGIN_INFO_PREFIX)
    }

    /// With another application's info prefix.
    pub fn with_info(info: &str) -> Self {
        Self { application_info_prefix: info.to_owned() }
    }

    /// Encapsulates to the recipient's key and encrypts the first plaintext.
    ///
    /// # Errors
    /// [`Error::Encapsulation`] for a small-order key.
    pub fn establish_channel(
        self,
        their_public_key: Curve25519PublicKey,
        initial_plaintext: &[u8],
        aad: &[u8],
    ) -> Result<SenderCreationResult, Error> {
        let Self { application_info_prefix } = self;
        let r = caudata::hpke::HpkeSenderChannel::with_info(&application_info_prefix)
            .establish_channel(their_public_key.inner, initial_plaintext, aad)
            .map_err(Error::from_core)?;
        let our_public_key = Curve25519PublicKey::from_core(r.message.encapsulated_key);
        Ok(SenderCreationResult {
            channel: UnidirectionalSenderChannel {
                inner: r.channel,
                application_info_prefix,
                our_public_key,
                their_public_key,
            },
            message: InitialMessage { encapsulated_key: our_public_key, ciphertext: r.message.ciphertext },
        })
    }
}

/// The sender's channel before the recipient's response.
pub struct UnidirectionalSenderChannel {
    inner: caudata::hpke::UnidirectionalSenderChannel,
    application_info_prefix: String,
    our_public_key: Curve25519PublicKey,
    their_public_key: Curve25519PublicKey,
}

impl std::fmt::Debug for UnidirectionalSenderChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnidirectionalSenderChannel")
            .field("application_info_prefix", &self.application_info_prefix)
            .field("our_public_key", &self.our_public_key)
            .field("their_public_key", &self.their_public_key)
            .finish_non_exhaustive()
    }
}

impl UnidirectionalSenderChannel {
    /// Opens the recipient's response, completing the channel.
    ///
    /// # Errors
    /// [`Error::Decryption`].
    pub fn establish_bidirectional_channel(
        self,
        message: &InitialResponse,
        aad: &[u8],
    ) -> Result<BidirectionalCreationResult<Vec<u8>>, Error> {
        let r = self.inner.establish_bidirectional_channel(&message.to_core(), aad).map_err(Error::from_core)?;
        Ok(BidirectionalCreationResult { channel: EstablishedHpkeChannel::new(r.channel, true), message: r.message })
    }
}

/// The recipient's channel and the initial message's plaintext.
#[derive(Debug)]
pub struct RecipientCreationResult {
    /// The channel, ready to answer.
    pub channel: UnidirectionalRecipientChannel,
    /// The initial message's plaintext.
    pub message: Vec<u8>,
}

/// The recipient (the device that shows the QR code): its key pair.
pub struct HpkeRecipientChannel {
    inner: caudata::hpke::HpkeRecipientChannel,
    application_info_prefix: String,
}

impl std::fmt::Debug for HpkeRecipientChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HpkeRecipientChannel")
            .field("our_public_key", &self.public_key())
            .field("application_info_prefix", &self.application_info_prefix)
            .finish_non_exhaustive()
    }
}

impl HpkeRecipientChannel {
    /// A fresh key pair, with the info prefix `MATRIX_QR_CODE_LOGIN`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self::with_info(MATRIX_QR_LOGIN_INFO_PREFIX)
    }

    /// A fresh key pair with another application's info prefix.
    pub fn with_info(info: &str) -> Self {
        Self { inner: caudata::hpke::HpkeRecipientChannel::with_info(info), application_info_prefix: info.to_owned() }
    }

    /// Opens the sender's initial message.
    ///
    /// # Errors
    /// [`Error::Decryption`].
    pub fn establish_channel(self, message: &InitialMessage, aad: &[u8]) -> Result<RecipientCreationResult, Error> {
        let our_public_key = self.public_key();
        let r = self.inner.establish_channel(&message.to_core(), aad).map_err(Error::from_core)?;
        Ok(RecipientCreationResult {
            channel: UnidirectionalRecipientChannel {
                inner: r.channel,
                application_info_prefix: self.application_info_prefix,
                their_public_key: message.encapsulated_key,
                our_public_key,
            },
            message: r.message,
        })
    }

    /// The public key (it goes into the QR code).
    pub fn public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.inner.public_key())
    }
}

/// The recipient's channel before it answers.
pub struct UnidirectionalRecipientChannel {
    inner: caudata::hpke::UnidirectionalRecipientChannel,
    application_info_prefix: String,
    their_public_key: Curve25519PublicKey,
    our_public_key: Curve25519PublicKey,
}

impl std::fmt::Debug for UnidirectionalRecipientChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnidirectionalRecipientChannel")
            .field("application_info_prefix", &self.application_info_prefix)
            .field("their_public_key", &self.their_public_key)
            .field("our_public_key", &self.our_public_key)
            .finish_non_exhaustive()
    }
}

impl UnidirectionalRecipientChannel {
    /// Answers with `plaintext`, completing the channel.
    pub fn establish_bidirectional_channel(
        self,
        plaintext: &[u8],
        aad: &[u8],
    ) -> BidirectionalCreationResult<InitialResponse> {
        // caudata refuses only a plaintext beyond the AEAD's length limit, where vodozemac
        // panics too.
        #[allow(clippy::expect_used)]
        let r = self
            .inner
            .establish_bidirectional_channel(plaintext, aad)
            .expect("the response is within the AEAD's limit");
        BidirectionalCreationResult {
            channel: EstablishedHpkeChannel::new(r.channel, false),
            message: InitialResponse {
                base_response_nonce: r.message.base_response_nonce,
                ciphertext: r.message.ciphertext,
            },
        }
    }
}
