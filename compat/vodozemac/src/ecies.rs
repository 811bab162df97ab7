//! The MSC4108 secure channel (QR-code login), as vodozemac 0.11.1 names and shapes it;
//! caudata's `ecies` module does the work.

pub use crate::hpke::{CheckCode, DigitMode};
use crate::{Curve25519PublicKey, KeyError, base64_decode, base64_encode};

/// A channel could not be established, or a message did not decrypt.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key gives a non-contributory Diffie-Hellman result (a small-order key).
    #[error("At least one of the keys did not have contributory behaviour")]
    NonContributoryKey,
    /// The message does not decrypt (wrong key, modified, or out of order).
    #[error("Failed decrypting the message")]
    Decryption,
}

impl Error {
    fn from_core(e: caudata::ecies::Error) -> Self {
        match e {
            caudata::ecies::Error::NonContributoryKey => Self::NonContributoryKey,
            _ => Self::Decryption,
        }
    }
}

/// A message could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum MessageDecodeError {
    /// The initial message has no `|` between its ciphertext and its key.
    #[error("The initial message is missing the | separator")]
    MissingSeparator,
    /// The initial message's key is invalid.
    #[error("The embedded ephemeral Curve25519 key could not have been decoded: {0:?}")]
    KeyError(#[from] KeyError),
    /// The ciphertext is not base64.
    #[error("The ciphertext could not have been decoded from a base64 string: {0:?}")]
    Base64(#[from] base64::DecodeError),
}

/// The first message of a channel: the initiator's public key and its first ciphertext.
#[derive(Debug, PartialEq, Eq)]
pub struct InitialMessage {
    /// The initiator's ephemeral public key.
    pub public_key: Curve25519PublicKey,
    /// The first ciphertext.
    pub ciphertext: Vec<u8>,
}

impl InitialMessage {
    /// `<base64 ciphertext>|<base64 key>`.
    pub fn encode(&self) -> String {
        format!("{}|{}", base64_encode(&self.ciphertext), self.public_key.to_base64())
    }

    /// Decodes [`InitialMessage::encode`]'s form.
    ///
    /// # Errors
    /// A [`MessageDecodeError`].
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        match message.split_once('|') {
            Some((ciphertext, key)) => {
                let public_key = Curve25519PublicKey::from_base64(key)?;
                let ciphertext = base64_decode(ciphertext)?;
                Ok(Self { ciphertext, public_key })
            }
            None => Err(MessageDecodeError::MissingSeparator),
        }
    }

    fn to_core(&self) -> caudata::ecies::InitialMessage {
        caudata::ecies::InitialMessage { public_key: self.public_key.inner, ciphertext: self.ciphertext.clone() }
    }
}

/// A later message of a channel.
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
    /// [`MessageDecodeError::Base64`].
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        Ok(Self { ciphertext: base64_decode(message)? })
    }
}

/// The recipient's side after the initial message.
#[derive(Debug)]
pub struct InboundCreationResult {
    /// The channel.
    pub ecies: EstablishedEcies,
    /// The initial message's plaintext.
    pub message: Vec<u8>,
}

/// The initiator's side after sending the initial message.
#[derive(Debug)]
pub struct OutboundCreationResult {
    /// The channel.
    pub ecies: EstablishedEcies,
    /// The initial message to send.
    pub message: InitialMessage,
}

/// An ephemeral key for one channel.
pub struct Ecies(caudata::ecies::Ecies);

impl Ecies {
    /// With the info prefix `MATRIX_QR_CODE_LOGIN`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(caudata::ecies::Ecies::new())
    }

    /// With another application's info prefix.
    pub fn with_info(info: &str) -> Self {
        Self(caudata::ecies::Ecies::with_info(info))
    }

    /// The initiator's side: encrypts `initial_plaintext` to the recipient's key.
    ///
    /// # Errors
    /// [`Error::NonContributoryKey`].
    pub fn establish_outbound_channel(
        self,
        their_public_key: Curve25519PublicKey,
        initial_plaintext: &[u8],
    ) -> Result<OutboundCreationResult, Error> {
        let r =
            self.0.establish_outbound_channel(their_public_key.inner, initial_plaintext).map_err(Error::from_core)?;
        Ok(OutboundCreationResult {
            ecies: EstablishedEcies::new(r.ecies, Role::Initiator),
            message: InitialMessage {
                public_key: Curve25519PublicKey::from_core(r.message.public_key),
                ciphertext: r.message.ciphertext,
            },
        })
    }

    /// The recipient's side: decrypts the initial message.
    ///
    /// # Errors
    /// [`Error::NonContributoryKey`] or [`Error::Decryption`].
    pub fn establish_inbound_channel(self, message: &InitialMessage) -> Result<InboundCreationResult, Error> {
        let r = self.0.establish_inbound_channel(&message.to_core()).map_err(Error::from_core)?;
        Ok(InboundCreationResult { ecies: EstablishedEcies::new(r.ecies, Role::Recipient), message: r.message })
    }

    /// The public key (the recipient's goes into the QR code).
    pub fn public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.0.public_key())
    }
}

#[derive(Debug, Clone, Copy)]
enum Role {
    Initiator,
    Recipient,
}

/// An established channel.
pub struct EstablishedEcies {
    inner: caudata::ecies::EstablishedEcies,
    check_code: CheckCode,
    role: Role,
}

impl std::fmt::Debug for EstablishedEcies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstablishedEcies")
            .field("our_public_key", &self.public_key())
            .field("their_public_key", &Curve25519PublicKey::from_core(self.inner.their_public_key()))
            .field("check_code", &self.check_code)
            .field("role", &self.role)
            .finish()
    }
}

impl zeroize::Zeroize for EstablishedEcies {
    /// Overwrites both channel keys with zeros in place.
    fn zeroize(&mut self) {
        self.inner.zeroize();
    }
}

impl Drop for EstablishedEcies {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self);
    }
}

impl EstablishedEcies {
    fn new(inner: caudata::ecies::EstablishedEcies, role: Role) -> Self {
        let check_code = CheckCode::from_core(inner.check_code());
        Self { inner, check_code, role }
    }

    /// Our public key.
    pub const fn public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.inner.public_key())
    }

    /// The check code both devices show.
    pub const fn check_code(&self) -> &CheckCode {
        &self.check_code
    }

    /// Encrypts the next message.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Message {
        // caudata refuses only past 2^96 messages or a plaintext over 256 GiB, where
        // vodozemac panics too.
        #[allow(clippy::expect_used)]
        let m = self.inner.encrypt(plaintext).expect("the channel's message counter and length limits are not reached");
        Message { ciphertext: m.ciphertext }
    }

    /// Decrypts the next message (messages must arrive in order).
    ///
    /// # Errors
    /// [`Error::Decryption`].
    pub fn decrypt(&mut self, message: &Message) -> Result<Vec<u8>, Error> {
        let m = caudata::ecies::Message { ciphertext: message.ciphertext.clone() };
        self.inner.decrypt(&m).map_err(Error::from_core)
    }
}
