//! Batch decryption: many messages of one or more inbound sessions at once, with the same
//! results and state changes as decrypting them one by one in order (SPEC.md, "Megolm batch
//! decryption").

use super::{DecryptedMessage, InboundGroupSession, MegolmMessage, MegolmRatchet, message_keys, offset_from};
use crate::error::DecryptionError;
use crate::primitives::{
    Ed25519Signature, HmacKey, OsRandom, RandomSource, aes256_cbc_decrypt, ct_eq, ed25519_verify_batch,
};
use crate::wire::megolm::MegolmMessageWire;

/// One result per message of a batch, in the order the messages were given.
pub type BatchResults = Vec<Result<DecryptedMessage, DecryptionError>>;

/// Decrypts the messages of several sessions at once: `batch[i] = (session, messages)` gives
/// `result[i]`, one result per message, exactly what [`InboundGroupSession::decrypt`] would
/// return for each message in order, and each session ends in the state that would leave.
///
/// The signatures of all the messages are verified together (randomised batch verification:
/// at most 2^-64 chance, per call, of accepting a signature that the one-by-one verification
/// refuses; a failing batch is re-verified one signature at a time, so one forged message
/// never makes another fail), and the ratchet is advanced once for each run of consecutive
/// indices. For a few messages (under about a hundred) it verifies one by one.
///
/// ```
/// use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig, decrypt_batch};
///
/// let mut alice = GroupSession::new(SessionConfig::version_1());
/// let mut bob = GroupSession::new(SessionConfig::version_1());
/// let mut from_alice = InboundGroupSession::new(&alice.session_key(), SessionConfig::version_1());
/// let mut from_bob = InboundGroupSession::new(&bob.session_key(), SessionConfig::version_1());
/// let a: Vec<_> = (0..3).map(|i| alice.encrypt(format!("alice {i}"))).collect();
/// let b: Vec<_> = (0..2).map(|i| bob.encrypt(format!("bob {i}"))).collect();
///
/// let results = decrypt_batch(&mut [(&mut from_alice, &a[..]), (&mut from_bob, &b[..])]);
/// assert_eq!(results[0][2].as_ref().unwrap().plaintext, b"alice 2");
/// assert_eq!(results[1][1].as_ref().unwrap().message_index, 1);
/// // A message of another session fails alone.
/// let mixed = [a[0].clone(), b[0].clone()];
/// let results = from_alice.decrypt_batch(&mixed);
/// assert!(results[0].is_ok() && results[1].is_err());
/// ```
pub fn decrypt_batch(batch: &mut [(&mut InboundGroupSession, &[MegolmMessage])]) -> Vec<BatchResults> {
    decrypt_batch_with_rng(batch, &mut OsRandom)
}

/// [`decrypt_batch`] with the batch verification's random weights drawn from `rng`.
pub(crate) fn decrypt_batch_with_rng(
    batch: &mut [(&mut InboundGroupSession, &[MegolmMessage])],
    rng: &mut impl RandomSource,
) -> Vec<BatchResults> {
    let keys: Vec<_> = batch.iter().map(|(s, _)| s.signing_key).collect();
    let signatures: Vec<Ed25519Signature> =
        batch.iter().flat_map(|(_, ms)| ms.iter().map(|m| Ed25519Signature::from_bytes(m.0.signature()))).collect();
    let items: Vec<(usize, &[u8], &Ed25519Signature)> = batch
        .iter()
        .enumerate()
        .flat_map(|(k, (_, ms))| ms.iter().map(move |m| (k, m.0.signed_bytes())))
        .zip(&signatures)
        .map(|((k, bytes), sig)| (k, bytes, sig))
        .collect();
    let verified = ed25519_verify_batch(&keys, &items, rng);
    let mut verified = verified.into_iter();
    batch
        .iter_mut()
        .map(|(session, messages)| {
            let ok: Vec<bool> = verified.by_ref().take(messages.len()).collect();
            session.decrypt_verified(messages, &ok)
        })
        .collect()
}

impl InboundGroupSession {
    /// Decrypts many messages of this session at once: one result per message, the same as
    /// [`InboundGroupSession::decrypt`] on each in order, and the same final state; see
    /// [`decrypt_batch`] for several sessions and how the signatures are verified.
    ///
    /// ```
    /// use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig};
    ///
    /// let mut outbound = GroupSession::new(SessionConfig::version_1());
    /// let mut inbound = InboundGroupSession::new(&outbound.session_key(), SessionConfig::version_1());
    /// let history: Vec<_> = (0..200).map(|i| outbound.encrypt(format!("message {i}"))).collect();
    /// let results = inbound.decrypt_batch(&history);
    /// assert_eq!(results.len(), 200);
    /// assert_eq!(results[199].as_ref().unwrap().plaintext, b"message 199");
    /// ```
    pub fn decrypt_batch(&mut self, messages: &[MegolmMessage]) -> BatchResults {
        decrypt_batch(&mut [(self, messages)]).pop().unwrap_or_default()
    }

    /// The rest of [`InboundGroupSession::decrypt`] for messages whose signature check gave
    /// `verified`: visits the usable indices in ring order from the first known index, so the
    /// ratchet is advanced once per run of consecutive indices, then moves the latest ratchet as
    /// the one-by-one decryptions would have (to the furthest index decrypted, if it is at or
    /// after the current one).
    fn decrypt_verified(&mut self, messages: &[MegolmMessage], verified: &[bool]) -> BatchResults {
        let version = self.config.message_version();
        let first = self.initial_ratchet.index;
        let mut results: BatchResults = Vec::with_capacity(messages.len());
        let mut pending: Vec<(u32, usize)> = Vec::new();
        for (i, (message, ok)) in messages.iter().zip(verified).enumerate() {
            let m = &message.0;
            results.push(if !ok {
                Err(DecryptionError::InvalidSignature)
            } else if m.version != version {
                Err(DecryptionError::InvalidMacLength {
                    expected: MegolmMessageWire::mac_len_for(version),
                    got: m.mac().len(),
                })
            } else if let Some(offset) = offset_from(first, m.message_index) {
                pending.push((offset, i));
                // Replaced below.
                Err(DecryptionError::InvalidMac)
            } else {
                Err(DecryptionError::UnknownMessageIndex { got: m.message_index, first_known: first })
            });
        }
        // Ascending offsets (ties by position). A binary heap's sort, not `sort_unstable`: the
        // same O(n log n) bound with a few hundred bytes of code instead of an 8 KB quicksort
        // instantiation in the WebAssembly module (bindings/wasm/README.md, "Size and speed").
        let pending = std::collections::BinaryHeap::from(pending).into_sorted_vec();
        let latest_offset = offset_from(first, self.latest_ratchet.index);
        let mut cursor: Option<(u32, MegolmRatchet)> = None;
        let mut keys = None;
        let mut furthest: Option<(u32, MegolmRatchet)> = None;
        for (offset, i) in pending {
            let m = &messages[i].0;
            if cursor.as_ref().is_none_or(|(at, _)| *at != offset) {
                let ratchet = match cursor.take() {
                    // Forwards from the previous index, or from the latest ratchet if that lies
                    // between the two.
                    Some((at, mut r)) => {
                        if latest_offset.is_some_and(|l| at < l && l <= offset) {
                            r = self.latest_ratchet.clone();
                        }
                        if r.index != m.message_index {
                            r.advance_to(m.message_index);
                        }
                        r
                    }
                    None => match self.ratchet_at(m.message_index) {
                        Some(r) => r,
                        None => continue,
                    },
                };
                keys = Some(message_keys(&ratchet));
                cursor = Some((offset, ratchet));
            }
            let Some(k) = keys.as_ref() else { continue };
            let tag = HmacKey::new(&k.mac_key).mac(&[m.authenticated_bytes()]);
            results[i] = if !ct_eq(&tag.expose()[..m.mac().len()], m.mac()) {
                Err(DecryptionError::InvalidMac)
            } else {
                match aes256_cbc_decrypt(&k.aes_key, &k.iv, &m.ciphertext) {
                    Some(plaintext) => {
                        if furthest.as_ref().is_none_or(|(f, _)| *f < offset)
                            && let Some((_, r)) = cursor.as_ref()
                        {
                            furthest = Some((offset, r.clone()));
                        }
                        Ok(DecryptedMessage { plaintext, message_index: m.message_index })
                    }
                    None => Err(DecryptionError::InvalidPadding),
                }
            };
        }
        if let Some((offset, ratchet)) = furthest
            && latest_offset.is_none_or(|l| offset >= l)
        {
            self.latest_ratchet = ratchet;
        }
        results
    }
}

#[cfg(test)]
mod tests {
    //! Batch decryption against one-by-one decryption, refusal by refusal (written to kill the
    //! mutants of `decrypt_verified` listed in TESTING.md; the core's fast suite had no test
    //! of the batch before).

    use super::*;
    use crate::megolm::{GroupSession, SessionConfig};

    /// Decrypts `messages` in a batch and one by one on two copies of `session`: the results
    /// and the final latest ratchets must be the same. Returns the batch's results.
    fn batch_equals_one_by_one(session: &InboundGroupSession, messages: &[MegolmMessage]) -> BatchResults {
        let mut single = session.duplicate();
        let want: BatchResults = messages.iter().map(|m| single.decrypt(m)).collect();
        let mut batched = session.duplicate();
        let got = batched.decrypt_batch(messages);
        assert_eq!(got, want);
        assert_eq!(batched.latest_ratchet, single.latest_ratchet, "the batch left another latest ratchet");
        assert_eq!(batched.initial_ratchet, session.initial_ratchet);
        got
    }

    fn errors(results: &BatchResults) -> Vec<Option<DecryptionError>> {
        results.iter().map(|r| r.as_ref().err().cloned()).collect()
    }

    #[test]
    fn every_refusal_and_the_latest_ratchet_match_one_by_one_decryption() {
        let mut outbound = GroupSession::new(SessionConfig::version_1());
        let key = outbound.session_key();
        let sent: Vec<MegolmMessage> = (0..16).map(|i| outbound.encrypt(format!("m{i}"))).collect();
        // Known from index 2 on, latest ratchet at 10.
        let full = InboundGroupSession::new(&key, SessionConfig::version_1());
        let mut inbound = InboundGroupSession::import(&full.export_at(2).unwrap(), SessionConfig::version_1());
        assert_eq!(inbound.decrypt(&sent[10]).unwrap().plaintext, b"m10");

        let mut forged = sent[5].to_bytes();
        let n = forged.len();
        forged[n - 64] ^= 1;
        let forged = MegolmMessage::from_bytes(&forged).unwrap();
        let stranger = GroupSession::new(SessionConfig::version_1()).encrypt("m6");
        // Out of order, duplicated, before the first known index, a forged signature, a
        // message of another session, below and above the latest ratchet, and only ever
        // forwards from it.
        let batch = [
            sent[12].clone(),
            sent[3].clone(),
            forged,
            sent[0].clone(),
            sent[4].clone(),
            sent[13].clone(),
            stranger,
            sent[4].clone(),
            sent[1].clone(),
            sent[9].clone(),
            sent[5].clone(),
        ];
        let got = batch_equals_one_by_one(&inbound, &batch);
        use DecryptionError::{InvalidSignature, UnknownMessageIndex};
        assert_eq!(
            errors(&got),
            [
                None,
                None,
                Some(InvalidSignature),
                Some(UnknownMessageIndex { got: 0, first_known: 2 }),
                None,
                None,
                Some(InvalidSignature),
                None,
                Some(UnknownMessageIndex { got: 1, first_known: 2 }),
                None,
                None,
            ]
        );
        assert_eq!(got[5].as_ref().unwrap().plaintext, b"m13");
        assert_eq!(got[7].as_ref().unwrap().message_index, 4);

        // The batch moves the latest ratchet to the furthest index decrypted (13)...
        let mut after = inbound.duplicate();
        after.decrypt_batch(&batch);
        assert_eq!(after.latest_ratchet.index, 13);
        // ...and never backwards: a batch below it leaves it at 10.
        assert_eq!(errors(&batch_equals_one_by_one(&inbound, &[sent[3].clone(), sent[2].clone()])), [None, None]);
        inbound.decrypt_batch(&[sent[3].clone(), sent[2].clone()]);
        assert_eq!(inbound.latest_ratchet.index, 10);
    }

    #[test]
    fn sessions_of_one_batch_get_their_own_verdicts() {
        let mut outbound = GroupSession::new(SessionConfig::version_1());
        let key = outbound.session_key();
        let sent: Vec<MegolmMessage> = (0..100).map(|i| outbound.encrypt(format!("m{i}"))).collect();
        let mut good = InboundGroupSession::new(&key, SessionConfig::version_1());
        // The same key configured for version 2: every version-1 message is refused.
        let mut other_version = InboundGroupSession::new(&key, SessionConfig::version_2());
        // A wrong ratchet behind the sender's signing key: valid signatures, wrong MACs.
        let mut wrong_ratchet = good.duplicate();
        wrong_ratchet.initial_ratchet.parts.expose_mut()[0] ^= 1;
        wrong_ratchet.latest_ratchet = wrong_ratchet.initial_ratchet.clone();
        let (good0, version0, wrong0) = (good.duplicate(), other_version.duplicate(), wrong_ratchet.duplicate());

        // 106 signatures: over the threshold (96) of the batched signature verification.
        let results = decrypt_batch(&mut [
            (&mut good, &sent[..]),
            (&mut other_version, &sent[..3]),
            (&mut wrong_ratchet, &sent[..3]),
        ]);
        assert_eq!(results.len(), 3);
        assert!(
            results[0].iter().enumerate().all(|(i, r)| r.as_ref().unwrap().plaintext == format!("m{i}").as_bytes())
        );
        assert_eq!(good.latest_ratchet.index, 99);
        assert_eq!(errors(&results[1]), vec![Some(DecryptionError::InvalidMacLength { expected: 32, got: 8 }); 3]);
        assert_eq!(errors(&results[2]), vec![Some(DecryptionError::InvalidMac); 3]);
        // A failed batch changes nothing.
        assert_eq!(other_version.latest_ratchet, version0.latest_ratchet);
        assert_eq!(wrong_ratchet.latest_ratchet, wrong0.latest_ratchet);
        for (session, messages, got) in
            [(&good0, &sent[..], &results[0]), (&version0, &sent[..3], &results[1]), (&wrong0, &sent[..3], &results[2])]
        {
            assert_eq!(&batch_equals_one_by_one(session, messages), got);
        }
    }
}
