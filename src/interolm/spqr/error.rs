//! SPQR errors. None carries secret material.

use super::SpqrVersion;
use super::message::SpqrDecodeError;

/// An SPQR operation failed. On a receive the state is unchanged (the caller still holds it and
/// the would-be next state is dropped); on a send the state is unchanged too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpqrError {
    /// Field 5 is not a well-formed SPQR V1 message.
    #[error(transparent)]
    Decode(#[from] SpqrDecodeError),
    /// The header message `hdr ‖ mac_hdr` was complete but its MAC does not verify.
    #[error("the SPQR header MAC is invalid")]
    InvalidHeaderMac,
    /// `ct2 ‖ mac_ct` was complete but the ciphertext MAC does not verify (a forged or
    /// corrupted ct1 or ct2, or a ciphertext for another key).
    #[error("the SPQR ciphertext MAC is invalid")]
    InvalidCiphertextMac,
    /// The reassembled ek vector does not match the header's hash, or has a coefficient ≥ q
    /// (libsignal's `ErroneousDataReceived`).
    #[error("the SPQR encapsulation key does not match its header")]
    InvalidEncapsulationKey,
    /// The message's epoch is ahead of ours (other than the one step that tells a ct-sender
    /// the epoch is over).
    #[error("SPQR message of epoch {got} while this side is at epoch {current}")]
    EpochFromFuture {
        /// The message's epoch.
        got: u64,
        /// Our SCKA epoch.
        current: u64,
    },
    /// The chain has no keys for this chain epoch (the message's epoch − 1): older than the
    /// epoch before our current sending epoch, so its keys were dropped, or not yet agreed.
    #[error("no SPQR chain keys for chain epoch {chain_epoch}")]
    EpochUnavailable {
        /// The chain epoch asked for.
        chain_epoch: u64,
    },
    /// The message index is further ahead of the chain than the limit allows.
    #[error("SPQR message index {index} is more than {max_jump} past the chain's {ctr}")]
    KeyJump {
        /// The index in the message.
        index: u32,
        /// The chain's counter.
        ctr: u32,
        /// The limit.
        max_jump: u32,
    },
    /// The key for this index was dropped: more than `max_ooo_keys` behind the chain.
    #[error("SPQR message key {index} is too old and was trimmed")]
    KeyTrimmed {
        /// The index in the message.
        index: u32,
    },
    /// The key for this index was already handed out once (a replay).
    #[error("SPQR message key {index} was already used")]
    KeyAlreadyUsed {
        /// The index in the message.
        index: u32,
    },
    /// The peer sent an older SPQR version than our minimum (libsignal's `MinimumVersion`):
    /// e.g. no field 5 while SPQR V1 is required.
    #[error("SPQR version {got:?} is below the minimum {min:?}")]
    MinimumVersion {
        /// The message's version.
        got: SpqrVersion,
        /// Our minimum.
        min: SpqrVersion,
    },
    /// The peer sent an older SPQR version after negotiation closed.
    #[error("SPQR version {got:?} after negotiating {ours:?}")]
    VersionMismatch {
        /// The message's version.
        got: SpqrVersion,
        /// The negotiated version.
        ours: SpqrVersion,
    },
    /// After negotiation completed with SPQR V1, a message that would carry no SPQR message key:
    /// a version byte above V1 (`version`, which a newer peer's SPQR would be ignored for), or a
    /// V1 message with epoch 1 and index 0 (`version` 1). Accepting either would let anyone who
    /// knows only a classical chain key forge messages: a downgrade, refused (unlike libsignal).
    /// Only the peer's messages from before it first heard from us may lack a key
    /// ([`SpqrState::recv_pre_reply`](super::SpqrState::recv_pre_reply)).
    #[error("SPQR message without a key (version byte {version:#04x}) after SPQR V1 was negotiated")]
    KeylessAfterNegotiation {
        /// The message's version byte.
        version: u8,
    },
    /// A configuration value is out of range.
    #[error("invalid SPQR configuration: {0}")]
    InvalidConfig(&'static str),
    /// A serialized SPQR state could not be decoded.
    #[error("invalid SPQR state: {0}")]
    InvalidState(&'static str),
    /// An internal invariant failed (a library bug, or a hand-made state): nothing was changed.
    #[error("SPQR internal error: {0}")]
    Internal(&'static str),
}
