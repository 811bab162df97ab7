//! Layer 3: the one double-ratchet core.
//!
//! Olm and the Signal dialect run the same machine: a root key, one sending chain, a bounded
//! list of receiving chains, each with a bounded store of skipped message-key seeds. What
//! differs is a [`Dialect`] value (KDF labels, limits, and whether a new sending chain is made
//! as soon as a new ratchet key arrives, as Signal does, or on the next send, as Olm does) and
//! the setup and encoding, which live in the protocol modules above.
//!
//! Decryption is transactional: every new key is computed on copies, the caller's closure
//! authenticates and decrypts with the message-key seed, and only when it succeeds is anything
//! written back. A failed decrypt leaves the ratchet byte-for-byte as it was.

use std::collections::VecDeque;

use crate::error::DecryptionError;
use crate::primitives::{
    ContributoryKey, Curve25519PublicKey, Curve25519SecretKey, HmacKey, RandomSource, SecretBytes, hkdf_sha256,
};

/// The parameters that make the core speak one dialect.
#[derive(Debug)]
pub(crate) struct Dialect {
    /// Human-readable name, for errors and diagnostics.
    #[allow(dead_code)]
    pub(crate) name: &'static str,
    /// HKDF info of the root-key step.
    pub(crate) root_info: &'static [u8],
    /// Largest forward jump within a chain.
    pub(crate) max_gap: u32,
    /// Skipped seeds kept per receiving chain (oldest evicted).
    pub(crate) max_skipped: usize,
    /// Receiving chains kept (oldest dropped).
    pub(crate) max_receiver_chains: usize,
    /// Signal: on a new ratchet key, also make the next sending chain at once.
    /// Olm: make it on the next send.
    pub(crate) eager_sending_step: bool,
}

/// A root key, wiped on drop.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct RootKey(pub(crate) SecretBytes<32>);

impl RootKey {
    /// `R' ‖ C = HKDF(R, DH(ours, theirs), info, 64)`. Infallible: `theirs` was checked not to
    /// have small order when it was received.
    fn step(&self, info: &[u8], ours: &Curve25519SecretKey, theirs: &ContributoryKey) -> (RootKey, ChainKey) {
        let shared = ours.diffie_hellman_checked(theirs);
        let mut okm = SecretBytes::<64>::zero();
        hkdf_sha256(Some(self.0.expose()), shared.expose(), info, okm.expose_mut());
        split_root_and_chain(&okm)
    }
}

/// Splits 64 bytes of KDF output into a root key and a chain key at index 0.
pub(crate) fn split_root_and_chain(okm: &SecretBytes<64>) -> (RootKey, ChainKey) {
    let o = okm.expose();
    let root = SecretBytes::<32>::from_slice(&o[..32]).unwrap_or_else(SecretBytes::zero);
    let chain = SecretBytes::<32>::from_slice(&o[32..]).unwrap_or_else(SecretBytes::zero);
    (RootKey(root), ChainKey { key: chain, index: 0 })
}

/// A chain key and the index of the next message key it yields.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct ChainKey {
    pub(crate) key: SecretBytes<32>,
    pub(crate) index: u32,
}

impl ChainKey {
    /// The current message-key seed `HMAC(C, 0x01)`, then `C = HMAC(C, 0x02)`.
    fn next_seed(&mut self) -> MessageSeed {
        let mac = HmacKey::new(self.key.expose());
        let mut seed = MessageSeed { seed: SecretBytes::zero(), index: self.index };
        mac.mac_byte_into(1, seed.seed.expose_mut());
        mac.mac_byte_into(2, self.key.expose_mut());
        self.index = self.index.wrapping_add(1);
        seed
    }

    /// `C = HMAC(C, 0x02)` without the message-key seed (a skipped index whose seed would
    /// not be kept).
    fn skip(&mut self) {
        let mac = HmacKey::new(self.key.expose());
        mac.mac_byte_into(2, self.key.expose_mut());
        self.index = self.index.wrapping_add(1);
    }
}

/// A message-key seed (libolm's 32-byte "message key"; Signal's seed before
/// "WhisperMessageKeys"). Skipped keys are stored as seeds because the Signal dialect's salt
/// arrives with the message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct MessageSeed {
    pub(crate) seed: SecretBytes<32>,
    pub(crate) index: u32,
}

/// Our current sending chain.
#[derive(Clone, Debug)]
pub(crate) struct SenderChain {
    pub(crate) ratchet_key: Curve25519SecretKey,
    pub(crate) chain: ChainKey,
}

impl SenderChain {
    pub(crate) fn new(ratchet_key: Curve25519SecretKey, chain: ChainKey) -> Self {
        Self { ratchet_key, chain }
    }

    /// Our ratchet public key: derived on the first message sent on this chain and kept with
    /// the secret key (never once per message), or known already (a pickle, a signed prekey).
    pub(crate) fn ratchet_public(&self) -> Curve25519PublicKey {
        self.ratchet_key.public_key()
    }
}

/// A receiving chain with its skipped seeds (oldest first). Its ratchet key is a
/// [`ContributoryKey`]: no key of small order can enter a chain, however the chain is made
/// (a message, or a pickle of any format), so answering it with a root step cannot fail.
#[derive(Clone, Debug)]
pub(crate) struct ReceiverChain {
    pub(crate) ratchet_key: ContributoryKey,
    pub(crate) chain: ChainKey,
    pub(crate) skipped: VecDeque<MessageSeed>,
}

/// A skipped seed in libolm's single list, with the ratchet key of its chain.
#[derive(Clone, Debug)]
pub(crate) struct SharedSeed {
    pub(crate) ratchet_key: Curve25519PublicKey,
    pub(crate) seed: MessageSeed,
}

/// The ratchet state.
#[derive(Clone, Debug)]
pub(crate) struct DoubleRatchet {
    pub(crate) dialect: &'static Dialect,
    pub(crate) root: RootKey,
    /// `None` only in Olm between receiving on a new chain and the next send.
    pub(crate) sender: Option<SenderChain>,
    /// Newest last.
    pub(crate) receivers: VecDeque<ReceiverChain>,
    /// Signal's `previous_counter`: the length of the previous sending chain.
    pub(crate) previous_counter: u32,
    /// `Some`: libolm's bookkeeping of skipped seeds, for its C interface (byte-identical
    /// states): one list for all receiving chains, newest first, of at most `max_skipped`
    /// seeds, which keeps a seed after its chain is forgotten (where it can no longer be used).
    /// The chains' own lists stay empty. `None`: caudata's (and vodozemac's), up to
    /// `max_skipped` seeds per chain, forgotten with their chain.
    pub(crate) shared_skipped: Option<VecDeque<SharedSeed>>,
}

/// What [`DoubleRatchet::encrypt`] hands to the message layer.
pub(crate) struct SendContext<'a> {
    pub(crate) ratchet_key: &'a Curve25519PublicKey,
    pub(crate) index: u32,
    pub(crate) previous_counter: u32,
    pub(crate) seed: MessageSeed,
}

enum Plan {
    Skipped {
        chain: usize,
        pos: usize,
    },
    SharedSkipped {
        pos: usize,
    },
    Advance {
        chain: usize,
        new_chain: ChainKey,
        skipped: Vec<MessageSeed>,
    },
    NewChain {
        theirs: ContributoryKey,
        root: RootKey,
        chain: ChainKey,
        skipped: Vec<MessageSeed>,
        next_sender: Option<(RootKey, SenderChain)>,
    },
}

impl DoubleRatchet {
    /// A ratchet that starts with a sending chain (the Olm initiator, the Signal initiator
    /// after its first step).
    pub(crate) fn with_sender(dialect: &'static Dialect, root: RootKey, sender: SenderChain) -> Self {
        Self {
            dialect,
            root,
            sender: Some(sender),
            receivers: VecDeque::new(),
            previous_counter: 0,
            shared_skipped: None,
        }
    }

    /// A ratchet that starts with one receiving chain and no sending chain (the Olm responder).
    pub(crate) fn with_receiver(
        dialect: &'static Dialect,
        root: RootKey,
        their_ratchet_key: ContributoryKey,
        chain: ChainKey,
    ) -> Self {
        let mut receivers = VecDeque::new();
        receivers.push_back(ReceiverChain { ratchet_key: their_ratchet_key, chain, skipped: VecDeque::new() });
        Self { dialect, root, sender: None, receivers, previous_counter: 0, shared_skipped: None }
    }

    /// Performs a root step against `theirs` with a fresh ratchet key from `rng`.
    pub(crate) fn step_new_sender(
        &self,
        root: &RootKey,
        theirs: &ContributoryKey,
        rng: &mut impl RandomSource,
    ) -> (RootKey, SenderChain) {
        let ours = Curve25519SecretKey::random(rng);
        let (r, c) = root.step(self.dialect.root_info, &ours, theirs);
        (r, SenderChain::new(ours, c))
    }

    /// Takes the next message-key seed of the sending chain (making the chain first if Olm's
    /// lazy step is pending) and hands it to `f`.
    pub(crate) fn encrypt<T>(&mut self, rng: &mut impl RandomSource, f: impl FnOnce(SendContext<'_>) -> T) -> T {
        if self.sender.is_none()
            && let Some(theirs) = self.receivers.back().map(|r| r.ratchet_key)
        {
            // A receiving chain's key was checked when the chain was made: this step cannot fail.
            let (root, sender) = self.step_new_sender(&self.root, &theirs, rng);
            self.previous_counter = 0;
            self.root = root;
            self.sender = Some(sender);
        }
        // Both constructors and every transition leave a sender or a receiver; a ratchet
        // with neither cannot be built.
        #[allow(clippy::expect_used)]
        let sender = self.sender.as_mut().expect("a ratchet always has a sending or receiving chain");
        let seed = sender.chain.next_seed();
        let ratchet_public = sender.ratchet_public();
        f(SendContext {
            ratchet_key: &ratchet_public,
            index: seed.index,
            previous_counter: self.previous_counter,
            seed,
        })
    }

    /// The refusals of [`DoubleRatchet::decrypt`] that need no key derivation: an index over
    /// the gap limit, a skipped key that is not (or no longer) stored, a new ratchet key with
    /// nothing to answer it or of small order. A dialect with work of its own before the MAC
    /// (interolm's SPQR) calls this first, so that a message the double ratchet would refuse
    /// costs nothing else. `decrypt` makes the same checks itself.
    ///
    /// # Errors
    /// As [`DoubleRatchet::decrypt`] gives them for these cases.
    pub(crate) fn precheck(&self, their_ratchet_key: &Curve25519PublicKey, index: u32) -> Result<(), DecryptionError> {
        let d = self.dialect;
        match self.receivers.iter().find(|r| r.ratchet_key.key() == their_ratchet_key) {
            Some(rc) if index < rc.chain.index => {
                if rc.skipped.iter().any(|s| s.index == index) {
                    Ok(())
                } else {
                    Err(DecryptionError::MissingMessageKey { index })
                }
            }
            Some(rc) => {
                let gap = index - rc.chain.index;
                if gap > d.max_gap {
                    return Err(DecryptionError::TooBigMessageGap { got: gap.into(), max: d.max_gap.into() });
                }
                Ok(())
            }
            None => {
                if index > d.max_gap {
                    return Err(DecryptionError::TooBigMessageGap { got: index.into(), max: d.max_gap.into() });
                }
                if self.sender.is_none() {
                    return Err(DecryptionError::UnexpectedRatchetKey);
                }
                ContributoryKey::new(*their_ratchet_key)?;
                Ok(())
            }
        }
    }

    /// Finds or derives the seed for (`their_ratchet_key`, `index`), runs `f` with it, and
    /// commits the new state only if `f` succeeds.
    ///
    /// # Errors
    /// The limits of the dialect, a missing (used) key, or whatever `f` returns.
    pub(crate) fn decrypt<T>(
        &mut self,
        their_ratchet_key: &Curve25519PublicKey,
        index: u32,
        rng: &mut impl RandomSource,
        f: impl FnOnce(&MessageSeed) -> Result<T, DecryptionError>,
    ) -> Result<T, DecryptionError> {
        let d = self.dialect;
        let existing = self.receivers.iter().position(|r| r.ratchet_key.key() == their_ratchet_key);
        let (plan, result) = match existing {
            Some(ci) => {
                let rc = &self.receivers[ci];
                if index < rc.chain.index {
                    match &self.shared_skipped {
                        Some(list) => {
                            // libolm's list, newest first: the first seed of this chain and index
                            let pos = list
                                .iter()
                                .position(|s| s.seed.index == index && s.ratchet_key == *their_ratchet_key)
                                .ok_or(DecryptionError::MissingMessageKey { index })?;
                            let r = f(&list[pos].seed)?;
                            (Plan::SharedSkipped { pos }, r)
                        }
                        None => {
                            let pos = rc
                                .skipped
                                .iter()
                                .position(|s| s.index == index)
                                .ok_or(DecryptionError::MissingMessageKey { index })?;
                            let r = f(&rc.skipped[pos])?;
                            (Plan::Skipped { chain: ci, pos }, r)
                        }
                    }
                } else {
                    let gap = index - rc.chain.index;
                    if gap > d.max_gap {
                        return Err(DecryptionError::TooBigMessageGap { got: gap.into(), max: d.max_gap.into() });
                    }
                    let mut chain = rc.chain.clone();
                    let (seed, skipped) = advance_to(&mut chain, index, d.max_skipped);
                    let r = f(&seed)?;
                    (Plan::Advance { chain: ci, new_chain: chain, skipped }, r)
                }
            }
            None => {
                if index > d.max_gap {
                    return Err(DecryptionError::TooBigMessageGap { got: index.into(), max: d.max_gap.into() });
                }
                let sender = self.sender.as_ref().ok_or(DecryptionError::UnexpectedRatchetKey)?;
                // The one place a peer's new ratchet key enters: checked before anything else.
                let theirs = ContributoryKey::new(*their_ratchet_key)?;
                let (root, mut chain) = self.root.step(d.root_info, &sender.ratchet_key, &theirs);
                let next_sender =
                    if d.eager_sending_step { Some(self.step_new_sender(&root, &theirs, rng)) } else { None };
                let (seed, skipped) = advance_to(&mut chain, index, d.max_skipped);
                let r = f(&seed)?;
                (Plan::NewChain { theirs, root, chain, skipped, next_sender }, r)
            }
        };
        self.commit(plan);
        Ok(result)
    }

    fn commit(&mut self, plan: Plan) {
        let max_skipped = self.dialect.max_skipped;
        match plan {
            Plan::Skipped { chain, pos } => {
                if let Some(rc) = self.receivers.get_mut(chain) {
                    rc.skipped.remove(pos);
                }
            }
            Plan::SharedSkipped { pos } => {
                if let Some(list) = self.shared_skipped.as_mut() {
                    list.remove(pos);
                }
            }
            Plan::Advance { chain, new_chain, skipped } => {
                if let Some(rc) = self.receivers.get_mut(chain) {
                    rc.chain = new_chain;
                    match self.shared_skipped.as_mut() {
                        Some(list) => push_shared(list, *rc.ratchet_key.key(), skipped, max_skipped),
                        None => push_skipped(&mut rc.skipped, skipped, max_skipped),
                    }
                }
            }
            Plan::NewChain { theirs, root, chain, skipped, next_sender } => {
                let mut store = VecDeque::new();
                match self.shared_skipped.as_mut() {
                    Some(list) => push_shared(list, *theirs.key(), skipped, max_skipped),
                    None => push_skipped(&mut store, skipped, max_skipped),
                }
                self.receivers.push_back(ReceiverChain { ratchet_key: theirs, chain, skipped: store });
                while self.receivers.len() > self.dialect.max_receiver_chains {
                    self.receivers.pop_front();
                }
                match next_sender {
                    Some((root2, sender)) => {
                        self.previous_counter = self.sender.as_ref().map_or(0, |s| s.chain.index);
                        self.root = root2;
                        self.sender = Some(sender);
                    }
                    None => {
                        self.root = root;
                        self.sender = None;
                    }
                }
            }
        }
    }
}

/// Advances `chain` to `index`, returning the seed at `index` and (at most `max_skipped` of,
/// the newest) the seeds passed over.
fn advance_to(chain: &mut ChainKey, index: u32, max_skipped: usize) -> (MessageSeed, Vec<MessageSeed>) {
    let gap = (index - chain.index) as usize;
    let keep_from = gap.saturating_sub(max_skipped);
    let mut skipped = Vec::with_capacity(gap.min(max_skipped));
    // Seeds that would be evicted at once are never derived (the indices are public).
    for _ in 0..keep_from {
        chain.skip();
    }
    loop {
        let seed = chain.next_seed();
        if seed.index == index {
            return (seed, skipped);
        }
        skipped.push(seed);
    }
}

/// libolm's insertion into its one list: each new seed (oldest first) at the front, the
/// oldest dropped from the back beyond `max`.
fn push_shared(list: &mut VecDeque<SharedSeed>, ratchet_key: Curve25519PublicKey, new: Vec<MessageSeed>, max: usize) {
    for seed in new {
        list.push_front(SharedSeed { ratchet_key, seed });
    }
    list.truncate(max);
}

impl DoubleRatchet {
    /// The same ratchet with caudata's per-chain bookkeeping of skipped seeds, for encoders of
    /// formats that store them per chain: each shared seed goes back to its chain (oldest
    /// first), and the seeds of chains no longer kept are left out (they cannot be used).
    pub(crate) fn with_per_chain_skipped(&self) -> std::borrow::Cow<'_, DoubleRatchet> {
        let Some(list) = &self.shared_skipped else {
            return std::borrow::Cow::Borrowed(self);
        };
        let mut d = self.clone();
        d.shared_skipped = None;
        for s in list.iter().rev() {
            if let Some(rc) = d.receivers.iter_mut().find(|rc| *rc.ratchet_key.key() == s.ratchet_key) {
                rc.skipped.push_back(s.seed.clone());
            }
        }
        std::borrow::Cow::Owned(d)
    }
}

fn push_skipped(store: &mut VecDeque<MessageSeed>, new: Vec<MessageSeed>, max: usize) {
    store.extend(new);
    while store.len() > max {
        store.pop_front();
    }
}

#[cfg(test)]
mod tests {
    //! The core's limits and checks, driven directly with a tiny dialect so that every
    //! boundary is one message away. Written to kill the mutants that survived the unit tests
    //! (TESTING.md): each test pins the exact edge of a limit, not just "large is refused".

    use super::*;
    use crate::error::KeyError;
    use crate::primitives::OsRandom;

    static TINY: Dialect = Dialect {
        name: "tiny",
        root_info: b"TINY_RATCHET",
        max_gap: 6,
        max_skipped: 3,
        max_receiver_chains: 2,
        eager_sending_step: false,
    };

    fn secret(fill: u8) -> SecretBytes<32> {
        SecretBytes::from_array(&mut [fill; 32])
    }

    /// Alice holds a sending chain, Bob the matching receiving chain (Olm's starting point).
    fn pair() -> (DoubleRatchet, DoubleRatchet) {
        let ours = Curve25519SecretKey::from_secret_bytes(&secret(3));
        let theirs = ContributoryKey::new(ours.public_key()).unwrap();
        let chain = ChainKey { key: secret(2), index: 0 };
        let alice = DoubleRatchet::with_sender(&TINY, RootKey(secret(1)), SenderChain::new(ours, chain.clone()));
        let bob = DoubleRatchet::with_receiver(&TINY, RootKey(secret(1)), theirs, chain);
        (alice, bob)
    }

    /// One sent message: the ratchet key, the index, and the seed the sender used.
    type Sent = (Curve25519PublicKey, u32, MessageSeed);

    fn send(r: &mut DoubleRatchet) -> Sent {
        r.encrypt(&mut OsRandom, |c| (*c.ratchet_key, c.index, c.seed))
    }

    /// Decrypts with a closure that plays the MAC: it succeeds only on the sender's seed.
    fn recv(r: &mut DoubleRatchet, m: &Sent) -> Result<(), DecryptionError> {
        let checked = r.precheck(&m.0, m.1);
        let got = decrypt_only(r, m);
        // `precheck` refuses exactly what `decrypt` refuses before any key derivation, and
        // lets through only what fails later (here: the MAC).
        match (&checked, &got) {
            (Err(e), _) => assert_eq!(got.as_ref().err(), Some(e), "precheck and decrypt disagree"),
            (Ok(()), Err(e)) => assert_eq!(*e, DecryptionError::InvalidMac, "precheck let through {e:?}"),
            (Ok(()), Ok(())) => {}
        }
        got
    }

    /// [`recv`] without `precheck`, which only interolm calls (libolm's single list of
    /// skipped seeds, made only by Olm's libolm pickles, is not consulted there).
    fn decrypt_only(r: &mut DoubleRatchet, m: &Sent) -> Result<(), DecryptionError> {
        r.decrypt(&m.0, m.1, &mut OsRandom, |s| {
            if s.seed == m.2.seed && s.index == m.2.index { Ok(()) } else { Err(DecryptionError::InvalidMac) }
        })
    }

    fn chain_index(r: &DoubleRatchet, key: &Curve25519PublicKey) -> Option<u32> {
        r.receivers.iter().find(|c| c.ratchet_key.key() == key).map(|c| c.chain.index)
    }

    #[test]
    fn gap_limit_on_an_existing_chain_is_inclusive() {
        let (mut alice, mut bob) = pair();
        let sent: Vec<Sent> = (0..9).map(|_| send(&mut alice)).collect();
        recv(&mut bob, &sent[0]).unwrap();
        // The chain now expects index 1: index 8 is a gap of 7 (refused), 7 a gap of 6 (the limit).
        assert_eq!(recv(&mut bob, &sent[8]), Err(DecryptionError::TooBigMessageGap { got: 7, max: 6 }));
        assert_eq!(chain_index(&bob, &sent[0].0), Some(1), "a refused message changed the chain");
        recv(&mut bob, &sent[7]).unwrap();
        assert_eq!(chain_index(&bob, &sent[0].0), Some(8));
        recv(&mut bob, &sent[8]).unwrap();
    }

    #[test]
    fn skipped_keys_are_bounded_and_used_once() {
        let (mut alice, mut bob) = pair();
        let sent: Vec<Sent> = (0..8).map(|_| send(&mut alice)).collect();
        recv(&mut bob, &sent[0]).unwrap();
        // Skips 1..=6; only the newest three (4, 5, 6) are kept.
        recv(&mut bob, &sent[7]).unwrap();
        for old in [1, 2, 3] {
            assert_eq!(recv(&mut bob, &sent[old]), Err(DecryptionError::MissingMessageKey { index: old as u32 }));
        }
        for kept in [5, 4, 6] {
            recv(&mut bob, &sent[kept]).unwrap();
            // used once: a replay finds no key
            assert_eq!(recv(&mut bob, &sent[kept]), Err(DecryptionError::MissingMessageKey { index: kept as u32 }));
        }
        assert_eq!(recv(&mut bob, &sent[7]), Err(DecryptionError::MissingMessageKey { index: 7 }));
        assert_eq!(recv(&mut bob, &sent[0]), Err(DecryptionError::MissingMessageKey { index: 0 }));
    }

    #[test]
    fn a_failed_mac_changes_nothing() {
        let (mut alice, mut bob) = pair();
        let sent: Vec<Sent> = (0..4).map(|_| send(&mut alice)).collect();
        let mut forged = sent[3].clone();
        forged.2.seed = secret(9);
        assert_eq!(recv(&mut bob, &forged), Err(DecryptionError::InvalidMac));
        assert_eq!(chain_index(&bob, &sent[0].0), Some(0));
        for m in &sent {
            recv(&mut bob, m).unwrap();
        }
    }

    #[test]
    fn new_chains_gap_limit_small_order_keys_and_chain_count() {
        let (mut alice, mut bob) = pair();
        let a1 = send(&mut alice);
        let a1_late = send(&mut alice);
        recv(&mut bob, &a1).unwrap();

        // A new ratchet key before Bob has a sending chain has nothing to answer it with.
        let stranger = Curve25519SecretKey::from_secret_bytes(&secret(7)).public_key();
        assert_eq!(recv(&mut bob, &(stranger, 0, a1.2.clone())), Err(DecryptionError::UnexpectedRatchetKey));

        // Small-order ratchet keys are refused before anything is derived (all zeros, and the
        // point of order 8 u = 1), while Alice still has a sending chain to answer with.
        let mut one = [0u8; 32];
        one[0] = 1;
        for bad in [[0u8; 32], one] {
            let bad = Curve25519PublicKey::from_bytes(bad);
            assert_eq!(recv(&mut alice, &(bad, 0, a1.2.clone())), Err(DecryptionError::Key(KeyError::NonContributory)));
        }
        assert_eq!(alice.receivers.len(), 0);

        // Bob's first reply starts his sending chain; on a new chain the limit is the index itself.
        let replies: Vec<Sent> = (0..8).map(|_| send(&mut bob)).collect();
        assert_eq!(recv(&mut alice, &replies[7]), Err(DecryptionError::TooBigMessageGap { got: 7, max: 6 }));
        assert_eq!(alice.receivers.len(), 0, "a refused message made a chain");
        recv(&mut alice, &replies[6]).unwrap();
        assert_eq!(alice.receivers.len(), 1);
        assert_eq!(chain_index(&alice, &replies[0].0), Some(7));

        // Ping-pong: with two receiving chains kept, the previous chain still decrypts, the
        // one before it is gone.
        let a2 = send(&mut alice);
        let a2_late = send(&mut alice);
        recv(&mut bob, &a2).unwrap();
        let b2 = send(&mut bob);
        recv(&mut alice, &b2).unwrap();
        let a3 = send(&mut alice);
        recv(&mut bob, &a3).unwrap();
        assert_eq!(bob.receivers.len(), 2);
        recv(&mut bob, &a2_late).unwrap();
        // Chain A1 is gone: its key counts as new, and Bob (Olm: no sending chain until he
        // answers A3) has nothing to answer it with.
        assert_eq!(recv(&mut bob, &a1_late), Err(DecryptionError::UnexpectedRatchetKey));
        // and a skipped reply on Alice's older chain is still there
        recv(&mut alice, &replies[3]).unwrap();
    }

    #[test]
    fn advance_to_derives_only_the_seeds_it_keeps() {
        // A gap of 6 with room for 3: the 3 oldest are skipped without a seed, the 3 newest
        // kept, and the chain ends past the wanted index.
        let mut fast = ChainKey { key: secret(2), index: 1 };
        let (seed, kept) = advance_to(&mut fast, 7, 3);
        assert_eq!(kept.iter().map(|s| s.index).collect::<Vec<_>>(), [4, 5, 6]);
        assert_eq!((seed.index, fast.index), (7, 8));
        // the same keys as deriving every seed
        let mut slow = ChainKey { key: secret(2), index: 1 };
        let all: Vec<MessageSeed> = (1..=7).map(|_| slow.next_seed()).collect();
        assert_eq!(&all[3..6], &kept[..]);
        assert_eq!(all[6], seed);
        assert_eq!(slow, fast);
    }

    /// The skipped seeds of each receiving chain: (chain's ratchet key, its seeds oldest first).
    fn per_chain(r: &DoubleRatchet) -> Vec<(Curve25519PublicKey, Vec<MessageSeed>)> {
        r.receivers.iter().map(|c| (*c.ratchet_key.key(), c.skipped.iter().cloned().collect())).collect()
    }

    #[test]
    fn libolms_single_list_finds_each_seed_by_chain_and_index() {
        let (mut alice, mut bob) = pair();
        // Bob's sending chain first, then a twin of him that keeps libolm's single list.
        let b0 = send(&mut bob);
        let mut libolm = bob.clone();
        libolm.shared_skipped = Some(VecDeque::new());
        let a: Vec<Sent> = (0..3).map(|_| send(&mut alice)).collect();
        recv(&mut alice, &b0).unwrap();
        let c: Vec<Sent> = (0..3).map(|_| send(&mut alice)).collect();
        assert_ne!(a[0].0, c[0].0);
        for m in [&a[0], &a[2], &c[2]] {
            recv(&mut bob, m).unwrap();
            decrypt_only(&mut libolm, m).unwrap();
        }
        // One list, newest first: chain C's 1 and 0, then chain A's 1 (each under its key).
        let list: Vec<(Curve25519PublicKey, u32)> =
            libolm.shared_skipped.iter().flatten().map(|s| (s.ratchet_key, s.seed.index)).collect();
        assert_eq!(list, [(c[0].0, 1), (c[0].0, 0), (a[0].0, 1)]);
        assert!(libolm.receivers.iter().all(|r| r.skipped.is_empty()));
        // Given back to their chains, they are the per-chain bookkeeping's seeds.
        assert_eq!(per_chain(&libolm.with_per_chain_skipped()), per_chain(&bob));
        assert_eq!(per_chain(&bob)[1].1.len(), 2);
        // Each seed is found by its chain and index (not the first of either), once.
        for m in [&c[0], &a[1], &c[1]] {
            decrypt_only(&mut libolm, m).unwrap();
            assert_eq!(decrypt_only(&mut libolm, m), Err(DecryptionError::MissingMessageKey { index: m.1 }));
        }
        assert_eq!(libolm.shared_skipped.as_ref().map(VecDeque::len), Some(0));
    }
}
