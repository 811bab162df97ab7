//! Error types, one per concern. All are `#[non_exhaustive]`; none prints secret material.

/// A key or signature could not be parsed or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not valid base64.
    #[error("invalid base64 in a key")]
    Base64,
    /// The wrong number of bytes.
    #[error("a key must be {expected} bytes, got {got}")]
    InvalidLength {
        /// The length required.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// Not a valid curve point.
    #[error("the key is not a valid curve point")]
    InvalidPoint,
    /// Diffie-Hellman gave the all-zero (non-contributory) result: the peer's key has small order.
    #[error("non-contributory Diffie-Hellman: the peer key has small order")]
    NonContributory,
}

/// A signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature is invalid (wrong key, wrong message, or non-canonical encoding).
    #[error("the signature is invalid")]
    Invalid,
    /// The signature or key could not be parsed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A message or key format could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated input: {0}")]
    Truncated(&'static str),
    /// The version byte is not one this library reads.
    #[error("unsupported version {0:#04x}")]
    UnsupportedVersion(u8),
    /// A required field was absent.
    #[error("missing field: {0}")]
    MissingField(&'static str),
    /// A field appeared twice.
    #[error("duplicate field: {0}")]
    DuplicateField(&'static str),
    /// A varint was longer than its type allows.
    #[error("oversize varint in {0}")]
    OversizeVarint(&'static str),
    /// A field had the wrong wire type or length.
    #[error("malformed field: {0}")]
    MalformedField(&'static str),
    /// Bytes remained after the last field.
    #[error("trailing bytes after the message")]
    TrailingBytes,
    /// The input is larger than any valid message.
    #[error("input of {got} bytes exceeds the limit of {max}")]
    TooLong {
        /// Bytes received.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// An invalid key inside the message.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Invalid base64.
    #[error("invalid base64")]
    Base64,
    /// A Matrix message type other than 0 (pre-key) or 1 (normal).
    #[error("unknown message type {0}")]
    UnknownMessageType(usize),
}

/// Decryption failed. The session is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptionError {
    /// The message could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The MAC did not verify (tampered, foreign, or for another session).
    #[error("the message authentication code is invalid")]
    InvalidMac,
    /// The MAC has the wrong length for the session's configuration.
    #[error("MAC of {got} bytes, the session expects {expected}")]
    InvalidMacLength {
        /// Length the configuration requires.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// The ciphertext decrypted to invalid padding (only reachable after a valid MAC).
    #[error("invalid padding")]
    InvalidPadding,
    /// The message key was already used or discarded: a replay, or too old.
    #[error("no message key for chain index {index}: already used or too old")]
    MissingMessageKey {
        /// The chain index the message claimed.
        index: u32,
    },
    /// The message is further ahead in its chain than the limit allows.
    #[error("message gap of {got} exceeds the limit of {max}")]
    TooBigMessageGap {
        /// The gap requested.
        got: u64,
        /// The limit.
        max: u64,
    },
    /// The message starts a new chain but this session has no ratchet key to answer it with.
    #[error("unexpected new ratchet key")]
    UnexpectedRatchetKey,
    /// A pre-key message whose session keys are not this session's.
    #[error("the pre-key message belongs to another session")]
    SessionMismatch,
    /// Diffie-Hellman with a key in the message failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A signature in the message did not verify.
    #[error("the message signature is invalid")]
    InvalidSignature,
    /// The message index is below the first index this group session knows.
    #[error("unknown message index {got}: the first known index is {first_known}")]
    UnknownMessageIndex {
        /// The index in the message.
        got: u32,
        /// The first known index.
        first_known: u32,
    },
    /// A message of another protocol (e.g. an Olm message given to a Signal-dialect session).
    #[error("message of the {got} dialect given to a {expected} session")]
    WrongDialect {
        /// The session's dialect.
        expected: &'static str,
        /// The message's dialect.
        got: &'static str,
    },
}

/// Creating a session failed. The account is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionCreationError {
    /// The pre-key message names a one-time or fallback key this account does not have
    /// (unknown, or already used).
    #[error("the pre-key message uses an unknown or already used one-time key {0}")]
    MissingOneTimeKey(String),
    /// The identity key in the message is not the one the caller expected.
    #[error("the sender's identity key does not match")]
    MismatchedIdentityKey,
    /// The first message did not decrypt.
    #[error(transparent)]
    Decryption(#[from] DecryptionError),
    /// A key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
}
