//! `megolm::decrypt_batch` is `InboundGroupSession::decrypt` on each message in order: the same
//! result for every message and the same final state of every session, on random mixes of
//! honest, duplicated, reordered, forged (bit flips), malleated (`S + L`), foreign-session,
//! wrong-version and too-old messages, in batches large enough to take the batch verification.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::OnceLock;

use caudata::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig, decrypt_batch};
use caudata::primitives::RandomSource;
use proptest::prelude::*;

/// Messages made per sender.
const SENT: usize = 130;

struct Fixture {
    /// (session key, config, first known index of the receiving copy, its messages).
    senders: Vec<(InboundGroupSession, Vec<MegolmMessage>)>,
    /// Messages of a session nobody receives.
    foreign: Vec<MegolmMessage>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let make = |config: SessionConfig, first: u32| {
            let mut out = GroupSession::new(config);
            let inbound = InboundGroupSession::new(&out.session_key(), config);
            let inbound = InboundGroupSession::import(&inbound.export_at(first).unwrap(), config);
            let messages = (0..SENT).map(|i| out.encrypt(format!("message {i} of {config:?}"))).collect();
            (inbound, messages)
        };
        Fixture {
            senders: vec![
                make(SessionConfig::version_1(), 0),
                make(SessionConfig::version_1(), 20),
                make(SessionConfig::version_2(), 0),
            ],
            foreign: make(SessionConfig::version_1(), 0).1,
        }
    })
}

/// A fixed nonce, so that two pickles of equal sessions are equal bytes.
struct Zero;
impl RandomSource for Zero {
    fn fill(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
}

fn state(s: &InboundGroupSession) -> String {
    s.pickle().encrypt_with_rng(&[7; 32], &mut Zero)
}

fn copy(s: &InboundGroupSession) -> InboundGroupSession {
    InboundGroupSession::from_pickle(s.pickle())
}

/// `S + L`: the malleated twin of a valid signature (libolm accepts it).
fn malleate(m: &MegolmMessage) -> MegolmMessage {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut b = m.to_bytes();
    let n = b.len();
    let mut carry = 0u16;
    for (x, l) in b[n - 32..].iter_mut().zip(L) {
        let v = u16::from(*x) + u16::from(l) + carry;
        *x = v as u8;
        carry = v >> 8;
    }
    MegolmMessage::from_bytes(&b).unwrap()
}

/// One message of a batch, chosen from the fixture.
fn pick(session: usize, (kind, index, byte): (u8, usize, usize)) -> MegolmMessage {
    let f = fixture();
    let own = &f.senders[session].1;
    let honest = &own[index % SENT];
    match kind {
        // A flipped bit anywhere (signature, MAC, ciphertext, index); kept if it still decodes.
        6 => {
            let mut b = honest.to_bytes();
            let at = byte % b.len();
            b[at] ^= 1 << (byte % 8);
            MegolmMessage::from_bytes(&b).unwrap_or_else(|_| honest.clone())
        }
        7 => malleate(honest),
        8 => f.foreign[index % SENT].clone(),
        // Another receiver's sender (for session 2, a message of the other version).
        9 => f.senders[(session + 1) % 3].1[index % SENT].clone(),
        _ => honest.clone(),
    }
}

type Plain = Result<(Vec<u8>, u32), String>;

fn flatten(r: &Result<caudata::megolm::DecryptedMessage, caudata::DecryptionError>) -> Plain {
    match r {
        Ok(d) => Ok((d.plaintext.clone(), d.message_index)),
        Err(e) => Err(format!("{e:?}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn batch_equals_one_by_one(
        before in prop::collection::vec(prop::option::of(0usize..SENT), 3),
        // Without the signature forgeries (bit flips, foreign keys) the batch equation holds and
        // the batch path, not the one-by-one fallback, gives the results.
        clean in any::<bool>(),
        batches in prop::collection::vec(
            prop::collection::vec((0u8..10, 0usize..SENT, 0usize..4096), 0..160), 3),
    ) {
        let f = fixture();
        let mut one: Vec<InboundGroupSession> = f.senders.iter().map(|(s, _)| copy(s)).collect();
        // Some sessions have already decrypted a message (the latest ratchet moved).
        for ((s, b), (_, messages)) in one.iter_mut().zip(&before).zip(&f.senders) {
            if let Some(i) = b {
                let _ = s.decrypt(&messages[*i]);
            }
        }
        let mut many: Vec<InboundGroupSession> = one.iter().map(copy).collect();
        let messages: Vec<Vec<MegolmMessage>> = batches
            .iter()
            .enumerate()
            .map(|(s, ops)| {
                ops.iter()
                    .map(|&(kind, i, b)| pick(s, (if clean && matches!(kind, 6 | 8 | 9) { 0 } else { kind }, i, b)))
                    .collect()
            })
            .collect();

        let expected: Vec<Vec<Plain>> = one
            .iter_mut()
            .zip(&messages)
            .map(|(s, ms)| ms.iter().map(|m| flatten(&s.decrypt(m))).collect())
            .collect();
        let mut batch: Vec<(&mut InboundGroupSession, &[MegolmMessage])> =
            many.iter_mut().zip(&messages).map(|(s, m)| (s, m.as_slice())).collect();
        let got: Vec<Vec<Plain>> =
            decrypt_batch(&mut batch).iter().map(|rs| rs.iter().map(flatten).collect()).collect();
        prop_assert_eq!(&got, &expected);
        for (a, b) in one.iter().zip(&many) {
            prop_assert_eq!(state(a), state(b));
        }
        // The same through the one-session entry point, continuing from there.
        for ((s, t), ms) in many.iter_mut().zip(one.iter_mut()).zip(&messages) {
            let again: Vec<Plain> = s.decrypt_batch(ms).iter().map(flatten).collect();
            let want: Vec<Plain> = ms.iter().map(|m| flatten(&t.decrypt(m))).collect();
            prop_assert_eq!(again, want);
            prop_assert_eq!(state(s), state(t));
        }
    }
}

#[test]
fn a_forged_message_neither_hides_nor_taints_the_others() {
    let f = fixture();
    let (session, messages) = &f.senders[0];
    let mut history: Vec<MegolmMessage> = messages.clone();
    history[40] = malleate(&messages[40]);
    let mut b = messages[77].to_bytes();
    let n = b.len();
    b[n - 40] ^= 1;
    history[77] = MegolmMessage::from_bytes(&b).unwrap();
    let mut s = copy(session);
    let before = state(&s);
    let results = s.decrypt_batch(&history);
    for (i, r) in results.iter().enumerate() {
        match i {
            40 | 77 => assert!(matches!(r, Err(caudata::DecryptionError::InvalidSignature)), "{i}: {r:?}"),
            _ => assert_eq!(
                r.as_ref().unwrap().plaintext,
                format!("message {i} of {:?}", SessionConfig::version_1()).as_bytes()
            ),
        }
    }
    assert_ne!(state(&s), before, "the latest ratchet moved to the last message");
    // A batch of nothing but forgeries leaves the session byte-for-byte unchanged.
    let mut s = copy(session);
    let forged: Vec<MegolmMessage> = messages.iter().map(malleate).collect();
    let before = state(&s);
    assert!(s.decrypt_batch(&forged).iter().all(|r| matches!(r, Err(caudata::DecryptionError::InvalidSignature))));
    assert_eq!(state(&s), before);
}
