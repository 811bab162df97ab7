//! Set-ups that many unit tests share, written once: an Olm responder, Alice's first
//! pre-key message to it, the two sessions after Bob took it, and an interolm responder with
//! its published bundle. Each helper does exactly what the copies it replaced did.

use crate::Curve25519PublicKey;
use crate::interolm::PreKeyBundle;
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

/// Bob's interolm account with a signed prekey, a last-resort Kyber prekey and `one_time`
/// one-time prekeys, and the bundle it publishes (device 1).
pub(crate) fn interolm_responder(one_time: usize) -> (crate::interolm::Account, PreKeyBundle) {
    let mut bob = crate::interolm::Account::new();
    bob.generate_signed_pre_key();
    bob.generate_kyber_pre_key(true);
    if one_time > 0 {
        bob.generate_one_time_pre_keys(one_time);
    }
    let bundle = bob.pre_key_bundle(1).unwrap();
    (bob, bundle)
}
