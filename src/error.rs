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
    /// interolm: a serialized key whose type byte is not the expected one (0x05 for
    /// Curve25519, 0x08 for Kyber1024).
    #[error("unknown key type {0:#04x}")]
    UnknownKeyType(u8),
    /// interolm: a Curve25519 key that is not the canonical encoding of its value (u ≥ 2^255 − 19,
    /// or bit 255 set).
    #[error("the key is not canonically encoded")]
    NonCanonical,
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
    /// interolm: a message version older than this library reads (libsignal's
    /// `LegacyCiphertextVersion`); [`DecodeError::UnsupportedVersion`] is for unknown/newer ones.
    #[error("version {0:#04x} is too old")]
    LegacyVersion(u8),
    /// interolm: a field of fixed length has another length.
    #[error("{field} must be {expected} bytes, got {got}")]
    InvalidFieldLength {
        /// The field.
        field: &'static str,
        /// The length required.
        expected: usize,
        /// The length received.
        got: usize,
    },
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
    #[error("a message of the {got} dialect given to a session of the {expected} dialect")]
    WrongDialect {
        /// The session's dialect.
        expected: &'static str,
        /// The message's dialect.
        got: &'static str,
    },
    /// interolm: the message was made for another session version (e.g. a PQXDH message
    /// given to an X3DH session).
    #[error("message of session version {got} given to a version {expected} session")]
    VersionMismatch {
        /// The session's version.
        expected: u8,
        /// The message's version.
        got: u8,
    },
    /// interolm: the message's SPQR part (SignalMessage field 5) was refused: malformed, an
    /// SPQR MAC that fails, an epoch or index this session has no key for, or a missing SPQR
    /// part in a session that requires SPQR V1 ([`SpqrError::MinimumVersion`]) or has
    /// negotiated it ([`SpqrError::VersionMismatch`]).
    ///
    /// [`SpqrError::MinimumVersion`]: crate::interolm::spqr::SpqrError::MinimumVersion
    /// [`SpqrError::VersionMismatch`]: crate::interolm::spqr::SpqrError::VersionMismatch
    #[error("post-quantum ratchet error: {0}")]
    Spqr(#[from] crate::interolm::spqr::SpqrError),
    /// interolm: the message's `addresses` field (SignalMessage field 6, libsignal ≥ 0.91)
    /// names another sender or recipient than the ones the message was decrypted for, or is
    /// malformed (checked after the MAC; libsignal reports "decryption failed").
    #[error("the message was addressed to or from another device")]
    AddressMismatch,
}

/// Creating a session failed. The account is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionCreationError {
    /// The pre-key message names a one-time or fallback key this account does not have
    /// (unknown, or already used): that key.
    #[error("the pre-key message uses an unknown or already used one-time key {0}")]
    MissingOneTimeKey(crate::Curve25519PublicKey),
    /// The identity key in the message is not the one the caller expected: the expected key,
    /// then the message's.
    #[error("the sender's identity key does not match: expected {0}, got {1}")]
    MismatchedIdentityKey(crate::Curve25519PublicKey, crate::Curve25519PublicKey),
    /// The pre-key message was made by a session of another configuration than the one
    /// expected (its message version says which).
    #[error("the pre-key message was made with session config version {}, expected version {}", .got.version(), .expected.version())]
    MismatchedSessionConfig {
        /// The configuration the caller expected.
        expected: crate::olm::SessionConfig,
        /// The configuration the message was made with.
        got: crate::olm::SessionConfig,
    },
    /// The first message did not decrypt.
    #[error(transparent)]
    Decryption(#[from] DecryptionError),
    /// A key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// interolm: the pre-key message names a prekey this account does not have (unknown, or
    /// already used).
    #[error("the pre-key message uses an unknown or already used {kind} prekey, id {id}")]
    UnknownPreKey {
        /// Which prekey.
        kind: PreKeyKind,
        /// Its id.
        id: u32,
    },
    /// interolm: the peer's prekey bundle cannot be used.
    #[error(transparent)]
    InvalidBundle(#[from] BundleError),
    /// interolm: the bundle or pre-key message is X3DH (session version 3, no Kyber prekey)
    /// and the account requires PQXDH.
    #[error("X3DH (session version 3) is not allowed: PQXDH is required")]
    X3dhNotAllowed,
    /// A pre-key message that already created a session with a key that outlives its uses: in
    /// interolm a last-resort Kyber prekey (same base key, signed and Kyber prekeys), in Olm a
    /// fallback key (same base and identity key). A replay, or a later pre-key message of that
    /// session, which belongs to it (routed by base key:
    /// [`crate::interolm::SessionRecord::find_pre_key_session`]; in Olm
    /// [`crate::olm::Session::matches`]).
    #[error("the pre-key message was already used to create a session (replay)")]
    ReplayedPreKeyMessage,
}

/// interolm: the three kinds of Signal prekeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PreKeyKind {
    /// A one-time (EC) prekey.
    OneTime,
    /// A signed (EC) prekey.
    Signed,
    /// A signed Kyber1024 prekey.
    Kyber,
}

impl core::fmt::Display for PreKeyKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::OneTime => "one-time",
            Self::Signed => "signed",
            Self::Kyber => "Kyber",
        })
    }
}

/// interolm: a prekey bundle could not be decoded or used. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The serialized bundle could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A prekey's signature by the identity key does not verify.
    #[error("the {0} prekey's signature does not verify")]
    InvalidSignature(PreKeyKind),
    /// A key in the bundle is malformed, non-canonical or of small order (all-zero included).
    #[error("unusable {key} in the bundle: {error}")]
    InvalidKey {
        /// Which key ("identity key", "signed prekey", "one-time prekey", "Kyber prekey").
        key: &'static str,
        /// What is wrong with it.
        error: KeyError,
    },
}

/// A pickle could not be read or written. Reading never yields a partial object: on any error
/// nothing is returned. The messages name fields, never secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PickleError {
    /// The text is not valid base64.
    #[error("the pickle is not valid base64")]
    Base64,
    /// The input is larger than any pickle this library writes or reads.
    #[error("pickle of {got} bytes exceeds the limit of {max}")]
    TooLong {
        /// Bytes received.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// The pickle key is wrong, or the pickle was modified (one opaque error for both).
    #[error("the pickle key is wrong or the pickle was modified")]
    Authentication,
    /// The bytes are not a caudata pickle (wrong magic bytes).
    #[error("not a caudata pickle")]
    NotAPickle,
    /// A format version this library does not know, typically written by a newer library.
    /// `max` is the newest version this library reads for that format and object.
    #[error("pickle version {got} is unknown; the newest this library reads is {max}")]
    UnknownVersion {
        /// The version in the pickle.
        got: u32,
        /// The newest version known.
        max: u32,
    },
    /// A legacy version that is refused on purpose (libolm's account pickle version 1, whose
    /// Ed25519 keys must be considered compromised).
    #[error("{object} pickle version {got} is a refused legacy format")]
    LegacyVersion {
        /// The kind of object.
        object: &'static str,
        /// The version in the pickle.
        got: u32,
    },
    /// The pickle holds another kind of object than the one asked for.
    #[error("the pickle holds object type {got}, not {expected}")]
    WrongObjectType {
        /// The type tag asked for.
        expected: u8,
        /// The type tag in the pickle.
        got: u8,
    },
    /// An encrypted pickle was given where an unencrypted one was expected, or the reverse.
    #[error("the pickle is {}, the call expects the other form", if *.encrypted { "encrypted" } else { "unencrypted" })]
    WrongProtection {
        /// Whether the pickle given is encrypted.
        encrypted: bool,
    },
    /// The pickle ended inside a field.
    #[error("the pickle is truncated in {0}")]
    Truncated(&'static str),
    /// Bytes remained after the last field.
    #[error("trailing bytes after the pickle")]
    TrailingBytes,
    /// A list is longer than the protocol allows.
    #[error("{field}: {got} entries exceed the limit of {max}")]
    TooMany {
        /// Which list.
        field: &'static str,
        /// The count in the pickle.
        got: u64,
        /// The limit.
        max: u64,
    },
    /// A field holds a value that is not allowed (an unknown tag, an inconsistent state).
    #[error("invalid value in {0}")]
    InvalidField(&'static str),
    /// A stored public key does not match its secret key.
    #[error("{0}: the stored public key does not match the secret key")]
    KeyMismatch(&'static str),
    /// A key in the pickle is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// vodozemac import: the decrypted pickle is not the JSON this library reads.
    #[error("invalid JSON at byte {offset}: {reason}")]
    Json {
        /// Byte offset in the decrypted JSON.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// vodozemac import: a required field is missing or has the wrong JSON type.
    #[error("missing or mistyped field {0}")]
    MissingField(&'static str),
    /// Export: the object cannot be expressed in the target format (e.g. a key id beyond
    /// libolm's 32 bits, or a version-2 session configuration, which libolm does not speak).
    #[error("cannot be written in that format: {0}")]
    Unrepresentable(&'static str),
    /// An interolm session pickle holds an SPQR state that does not decode.
    #[error("invalid SPQR state in the pickle: {0}")]
    Spqr(crate::interolm::spqr::SpqrError),
    /// [`AnySessionPickle`](crate::pickle::AnySessionPickle): the pickle holds an object that
    /// is not a session (its object type tag).
    #[error("the pickle holds object type {0}, which is not a session")]
    NotASession(u8),
}

/// interolm: an address, service id or `addresses` field could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// A device id outside 1 … 127.
    #[error("device id {0} is outside 1 to 127")]
    InvalidDeviceId(u32),
    /// Not a hyphenated UUID (with `PNI:` before it for a PNI).
    #[error("not a service id (a hyphenated UUID, or PNI: and one)")]
    InvalidUuid,
    /// A fixed-width service id whose kind byte is neither 0 (ACI) nor 1 (PNI).
    #[error("unknown service id kind")]
    InvalidServiceId,
    /// An `addresses` field (SignalMessage field 6) that is not 36 bytes of two service ids and
    /// two device ids.
    #[error("malformed addresses field")]
    InvalidAddresses,
}

/// interolm: an application's store failed. The operation that called it changed nothing it
/// had not already stored (see [`crate::interolm::ProtocolStore`] for transactions).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage backend failed (I/O, database, lock).
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored value could not be read back.
    #[error("a stored value does not decode: {0}")]
    Pickle(#[from] PickleError),
    /// The store has no local identity (no identity key pair or registration id yet).
    #[error("the store has no local identity")]
    NoLocalIdentity,
}

impl StoreError {
    /// Wraps a backend's error.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(error))
    }
}

/// interolm: [`Session::try_encrypt`](crate::interolm::Session::try_encrypt) refused to
/// encrypt. The session is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptionError {
    /// The message would be longer than any receiver decodes
    /// ([`MAX_MESSAGE_LENGTH`](crate::consts::MAX_MESSAGE_LENGTH)): the plaintext is too long.
    #[error("a plaintext of {got} bytes makes a message over the limit; at most {max} bytes fit")]
    PlaintextTooLong {
        /// The plaintext's length.
        got: usize,
        /// The longest plaintext this session can send in one message now.
        max: usize,
    },
    /// interolm: SPQR could not make its part of the message. Its send chain for the epoch is
    /// exhausted (2^32 − 1 messages sent without hearing back), or a restored state is
    /// inconsistent ([`SpqrError::Internal`]). A message without its SPQR key would be a
    /// downgrade that a peer which negotiated SPQR refuses, so none is made.
    ///
    /// [`SpqrError::Internal`]: crate::interolm::spqr::SpqrError::Internal
    #[error("post-quantum ratchet error: {0}")]
    Spqr(#[from] crate::interolm::spqr::SpqrError),
}

/// interolm: an operation of the high-level API ([`crate::interolm::Device`]) failed. Nothing
/// was stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// There is no session with the address (libsignal's `SessionNotFound`): process its
    /// prekey bundle, or wait for its pre-key message.
    #[error("no session with {0}")]
    NoSession(crate::interolm::ProtocolAddress),
    /// The identity store does not trust this identity key for the address (libsignal's
    /// `UntrustedIdentity`): the correspondent's identity changed, or the store refuses it.
    #[error("untrusted identity for {0}")]
    UntrustedIdentity(crate::interolm::ProtocolAddress),
    /// A pre-key message whose identity key differs from the session it belongs to (libsignal
    /// 0.103.0: "remote identity key not consistent with previously-established session").
    #[error("the pre-key message's identity key is not the one of its session")]
    InconsistentIdentity,
    /// Encryption refused.
    #[error(transparent)]
    Encryption(#[from] EncryptionError),
    /// Decryption failed.
    #[error(transparent)]
    Decryption(#[from] DecryptionError),
    /// A session could not be created (bad bundle, unknown prekey, replay, …).
    #[error(transparent)]
    SessionCreation(#[from] SessionCreationError),
    /// The message could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<BundleError> for ProtocolError {
    fn from(e: BundleError) -> Self {
        Self::SessionCreation(e.into())
    }
}

/// A dehydrated device (MSC3814) could not be written or read. Nothing is returned on error;
/// the account being dehydrated is never changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DehydratedDeviceError {
    /// The decrypted device is too short to hold its version.
    #[error("the dehydrated device has no version")]
    MissingVersion,
    /// A version other than the one written (1, as vodozemac 0.11.1 writes and reads it;
    /// MSC3814's text says 0x80000000, which vodozemac refuses too).
    #[error("unsupported dehydrated device version {got}, expected {expected}")]
    Version {
        /// The version this library reads.
        expected: u32,
        /// The version in the device.
        got: u32,
    },
    /// The nonce is not 12 bytes.
    #[error("the nonce must be 12 bytes, got {got}")]
    InvalidNonce {
        /// Its length after base64 decoding.
        got: usize,
    },
    /// The device or its nonce is not valid base64.
    #[error("the dehydrated device is not valid base64")]
    Base64,
    /// The dehydration key is wrong, or the device was modified (one opaque error for both).
    #[error("the dehydration key is wrong or the device was modified")]
    Decryption,
    /// The decrypted device (or, for the legacy format, the libolm account pickle) does not
    /// decode; the error names the field.
    #[error(transparent)]
    Pickle(#[from] PickleError),
    /// The account cannot be dehydrated: its Ed25519 key exists only in libolm's expanded form
    /// (imported from a libolm pickle), and the format stores the seed.
    #[error("the account's Ed25519 key has no seed (it came from libolm) and cannot be dehydrated")]
    InvalidAccount,
    /// The input is larger than any dehydrated device this library reads.
    #[error("dehydrated device of {got} bytes exceeds the limit of {max}")]
    TooLong {
        /// Bytes received.
        got: usize,
        /// The limit.
        max: usize,
    },
}
/// interolm sender keys (libsignal groups): a group operation failed. The record is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SenderKeyError {
    /// The message or distribution message could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The record has no sender-key state at all (nothing distributed or received yet).
    #[error("no sender key state")]
    NoSenderKeyState,
    /// The message names a chain this record does not hold (libsignal `NoSenderKeyState`).
    #[error("no sender key state for chain id {chain_id}")]
    UnknownChain {
        /// The chain id in the message.
        chain_id: u32,
    },
    /// The message or distribution message belongs to another distribution (group) than the
    /// record.
    #[error("distribution id {got} given to the record of distribution {expected}")]
    WrongDistributionId {
        /// The record's distribution id.
        expected: crate::interolm::DistributionId,
        /// The message's distribution id.
        got: crate::interolm::DistributionId,
    },
    /// The message's signature does not verify with the chain's signing key.
    #[error("the sender key message signature is invalid")]
    InvalidSignature,
    /// The message's key was already used, or is older than every key kept (libsignal
    /// `DuplicatedMessage`).
    #[error("duplicated message: iteration {iteration}, the chain is at {current}")]
    DuplicatedMessage {
        /// The message's iteration.
        iteration: u32,
        /// The chain's current iteration.
        current: u32,
    },
    /// The message is further ahead in the chain than the limit allows.
    #[error("sender key message {got} iterations ahead exceeds the limit of {max}")]
    TooFarInFuture {
        /// How far ahead the message is.
        got: u64,
        /// The limit (libsignal's `MAX_FORWARD_JUMPS`).
        max: u32,
    },
    /// The ciphertext did not decrypt (a length or padding error).
    #[error("sender key message decryption failed")]
    DecryptionFailed,
    /// The chain is at iteration 2^32 − 1: it cannot advance, so the message cannot be used.
    #[error("the sender key chain is exhausted")]
    ChainExhausted,
    /// The record's current state can only receive (it holds no private signing key).
    #[error("the sender key state has no private signing key: it only receives")]
    NotSender,
    /// A distribution message's signing key is not canonical or has small order.
    #[error("invalid signing key in the distribution message: {0}")]
    InvalidSigningKey(KeyError),
    /// The message's version does not match the state's.
    #[error("sender key message version {got}, the state has version {expected}")]
    VersionMismatch {
        /// The state's version.
        expected: u8,
        /// The message's version.
        got: u8,
    },
}

/// interolm sender keys through a [`SenderKeyStore`](crate::interolm::SenderKeyStore): the
/// group operation or the store failed. On error nothing was stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// The sender-key operation was refused.
    #[error(transparent)]
    SenderKey(#[from] SenderKeyError),
    /// The store failed, or a stored record does not decode.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DecodeError> for GroupError {
    fn from(e: DecodeError) -> Self {
        Self::SenderKey(SenderKeyError::Decode(e))
    }
}

/// interolm sealed sender: a sender certificate did not validate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The server certificate's id is on the revocation list.
    #[error("server certificate {0:#x} is revoked")]
    Revoked(u32),
    /// No trust root signed the server certificate.
    #[error("the server certificate is not signed by a trust root")]
    UntrustedServer,
    /// The server certificate's key did not sign the sender certificate.
    #[error("the sender certificate is not signed by its server certificate")]
    InvalidSignature,
    /// The certificate expired before the validation time.
    #[error("the sender certificate expired at {expiration}, validated at {now}")]
    Expired {
        /// The certificate's expiration.
        expiration: u64,
        /// The validation time.
        now: u64,
    },
}

/// interolm sealed sender: a sealed message could not be made or opened. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealedSenderError {
    /// The envelope, the content or a certificate could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Decryption failed: a MAC, the AES-GCM-SIV tag, or v2's re-derived ephemeral key did not
    /// match (one opaque error for all).
    #[error("the sealed sender message does not decrypt")]
    DecryptionFailed,
    /// The sender certificate's identity key is not the key that sealed the message.
    #[error("the sender certificate's key does not match the message")]
    SenderKeyMismatch,
    /// A key in the message (or a recipient's identity key) is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The sender certificate did not validate.
    #[error("invalid sender certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// The sender is this very device (libsignal `SealedSenderSelfSend`).
    #[error("a sealed sender message from this device")]
    SelfSend,
    /// Multi-recipient: a registration id above 14 bits, a recipient without devices, or a
    /// recipient listed twice.
    #[error("invalid multi-recipient argument: {0}")]
    InvalidRecipient(&'static str),
}

/// interolm safety numbers: a fingerprint could not be made or compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FingerprintError {
    /// The iteration count is 0, 1 or above 1 000 000 (libsignal refuses them too).
    #[error("invalid fingerprint iteration count {0}")]
    InvalidIterations(u32),
    /// The scanned fingerprint has another version.
    #[error("scanned fingerprint version {theirs}, ours is {ours}")]
    VersionMismatch {
        /// The scanned fingerprint's version.
        theirs: u32,
        /// Ours.
        ours: u32,
    },
    /// The scanned fingerprint does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// interolm sealed sender on the high-level API ([`Device`](crate::interolm::Device)): the
/// envelope, the session or a store failed. Nothing was stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealedMessageError {
    /// The envelope could not be made or opened, or its certificate did not validate.
    #[error(transparent)]
    Sealed(#[from] SealedSenderError),
    /// The enclosed 1:1 message failed (as [`Device::decrypt`](crate::interolm::Device::decrypt)
    /// or [`Device::encrypt`](crate::interolm::Device::encrypt)).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The envelope holds a group message or a retry request: open it with
    /// [`sealed_sender_decrypt`](crate::interolm::sealed_sender_decrypt) instead.
    #[error("the sealed content is a {0:?} message, not a 1:1 message")]
    UnexpectedContent(crate::interolm::MessageType),
}
