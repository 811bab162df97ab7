//! Limits and protocol constants, in one place.

/// Olm: the largest forward gap in a chain's message index that a receiver will derive keys
/// across (libolm: 2000).
pub const OLM_MAX_MESSAGE_GAP: u32 = 2000;
/// Olm: skipped message keys kept per receiving chain (libolm keeps 40).
pub const OLM_MAX_SKIPPED_KEYS: usize = 40;
/// Olm and interolm: receiving chains kept; the oldest is dropped beyond this.
pub const MAX_RECEIVER_CHAINS: usize = 5;
/// Olm: one-time private keys an account keeps; the oldest (lowest id) is evicted beyond this.
/// vodozemac 0.11 keeps 5 000 (libolm kept 100), a hundred times what a client keeps on the
/// server, so that keys claimed from the server whose pre-key message has not arrived yet
/// survive many later top-ups.
pub const MAX_ONE_TIME_KEYS: usize = 5_000;
/// Olm: how many one-time keys a client should keep published on the server
/// ([`Account::max_number_of_one_time_keys`](crate::olm::Account::max_number_of_one_time_keys)),
/// vodozemac's value. libolm's function of that name returned its storage size (100).
pub const MAX_ONE_TIME_KEYS_ON_SERVER: usize = 50;
/// Olm under [`OneTimeKeyContract::Libolm`](crate::olm::OneTimeKeyContract::Libolm): libolm
/// 3.2.16's `MAX_ONE_TIME_KEYS`, both the keys it keeps and what
/// `olm_account_max_number_of_one_time_keys` returns.
pub const LIBOLM_MAX_ONE_TIME_KEYS: usize = 100;

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

/// interolm sender keys: states a sender-key record keeps (libsignal's `MAX_SENDER_KEY_STATES`);
/// the oldest is dropped beyond this.
pub const MAX_SENDER_KEY_STATES: usize = 5;
/// interolm sender keys: the largest forward jump in a chain (libsignal uses its
/// `MAX_FORWARD_JUMPS` here too).
pub const SENDER_KEY_MAX_FORWARD_JUMPS: u32 = SIGNAL_MAX_FORWARD_JUMPS;
/// interolm sender keys: skipped message keys kept per state (libsignal's `MAX_MESSAGE_KEYS`).
pub const SENDER_KEY_MAX_SKIPPED_KEYS: usize = SIGNAL_MAX_SKIPPED_KEYS;
