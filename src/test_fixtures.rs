//! Set-ups that many unit tests share, written once: an Olm responder, Alice's first
//! pre-key message to it, and the two sessions after Bob took it. Each helper does exactly
//! what the copies it replaced did.

use crate::Curve25519PublicKey;
use crate::olm::{Account, OlmMessage, PreKeyMessage, Session, SessionConfig};

/// Bob's Olm account with one fresh (unpublished) one-time key, and that key.
pub(crate) fn olm_responder() -> (Account, Curve25519PublicKey) {
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    (bob, otk)
}

/// Alice's outbound Olm session to Bob's one-time key `otk`, and the pre-key message it sent
/// first; Bob has not seen it yet (his one-time key is still stored).
pub(crate) struct OlmOutbound {
    pub(crate) alice: Account,
    pub(crate) bob: Account,
    pub(crate) otk: Curve25519PublicKey,
    /// Alice's session, after encrypting `first`.
    pub(crate) a: Session,
    pub(crate) first: PreKeyMessage,
}

/// A fresh Alice and [`olm_responder`]'s Bob; Alice opens a `config` session to Bob and
/// encrypts `first_plaintext`, a pre-key message.
pub(crate) fn olm_outbound(config: SessionConfig, first_plaintext: &[u8]) -> OlmOutbound {
    let alice = Account::new();
    let (bob, otk) = olm_responder();
    let mut a = alice.create_outbound_session(config, bob.curve25519_key(), otk).unwrap();
    let OlmMessage::PreKey(first) = a.encrypt(first_plaintext) else { panic!("not a pre-key message") };
    OlmOutbound { alice, bob, otk, a, first }
}

/// Alice's and Bob's `config` sessions after Bob took Alice's first pre-key message (of
/// `first_plaintext`): Alice has a sending chain, Bob one receiving chain.
pub(crate) fn olm_pair(config: SessionConfig, first_plaintext: &[u8]) -> (Session, Session) {
    let OlmOutbound { alice, mut bob, a, first, .. } = olm_outbound(config, first_plaintext);
    let b = bob.create_inbound_session(config, alice.curve25519_key(), &first).unwrap().session;
    (a, b)
}
