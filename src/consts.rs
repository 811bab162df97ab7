//! Limits and protocol constants, in one place.

/// Olm: the largest forward gap in a chain's message index that a receiver will derive keys
/// across (libolm: 2000).
pub const OLM_MAX_MESSAGE_GAP: u32 = 2000;
/// Olm: skipped message keys kept per receiving chain (libolm keeps 40).
pub const OLM_MAX_SKIPPED_KEYS: usize = 40;
/// Olm and interolm: receiving chains kept; the oldest is dropped beyond this.
pub const MAX_RECEIVER_CHAINS: usize = 5;
/// Olm: one-time keys an account keeps; the oldest is evicted beyond this (libolm, vodozemac: 100).
pub const MAX_ONE_TIME_KEYS: usize = 100;

/// interolm: uses of last-resort Kyber prekeys an account remembers, so that a replayed pre-key
/// message is refused (libsignal asks the application to remember them); the oldest is
/// forgotten beyond this. Entries go also when their signed or Kyber prekey is removed.
pub const MAX_LAST_RESORT_USES: usize = 1024;

/// Olm: uses of fallback keys an account remembers, so that a replayed pre-key message to a
/// fallback key (which outlives its uses, unlike a one-time key) is refused instead of making a
/// second session; the oldest is forgotten beyond this. Entries go also when their fallback key
/// is forgotten.
pub const MAX_FALLBACK_KEY_USES: usize = 1024;

/// interolm: libsignal's `MAX_FORWARD_JUMPS`.
pub const SIGNAL_MAX_FORWARD_JUMPS: u32 = 25_000;
/// interolm: libsignal's `MAX_MESSAGE_KEYS` per chain.
pub const SIGNAL_MAX_SKIPPED_KEYS: usize = 2_000;

/// The largest message (or pickle) body caudata will decode, 1 MiB: anything bigger is refused
/// before any allocation that depends on it.
pub const MAX_MESSAGE_LENGTH: usize = 1 << 20;
