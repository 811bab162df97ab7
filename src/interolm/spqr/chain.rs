//! The SPQR chain: a symmetric KDF chain seeded by the PQXDH `auth_key`, re-keyed with every
//! epoch secret, handing out one 32-byte key per message and direction.
//!
//! ```text
//! start:      g = HKDF(salt 0³², auth_key, "Signal PQ Ratchet V1 Chain  Start", 96)   (two spaces)
//! add epoch:  g = HKDF(salt next_root, S_e, "Signal PQ Ratchet V1 Chain Add Epoch", 96)
//!             next_root = g[0..32]; A2B sub-chain = g[32..64]; B2A sub-chain = g[64..96]
//! key i:      o = HKDF(salt 0³², next, BE32(i) ‖ "Signal PQ Ratchet V1 Chain Next", 64)
//!             next = o[0..32]; key_i = o[32..64]          (i = 1, 2, …)
//! ```
//!
//! Each epoch ("link") has a send and a receive sub-chain. Sending moves the send epoch
//! forward; links older than `send_epoch − 1` are then dropped and the send halves of older
//! links wiped. A receive sub-chain keeps skipped keys (at most `max_ooo_keys` behind its
//! counter, garbage-collected once `max_ooo_keys·11/10 + 1` are held) and refuses jumps beyond
//! `max_jump`.

#![cfg_attr(not(feature = "hazmat"), allow(unreachable_pub, dead_code))]

use std::collections::VecDeque;

use zeroize::{Zeroize, Zeroizing};

use super::{Direction, SpqrError};
use crate::primitives::{SecretBytes, hkdf_sha256};

const LABEL_START: &[u8] = b"Signal PQ Ratchet V1 Chain  Start";
const LABEL_ADD_EPOCH: &[u8] = b"Signal PQ Ratchet V1 Chain Add Epoch";
const LABEL_NEXT: &[u8] = b"Signal PQ Ratchet V1 Chain Next";

/// libsignal's `max_jump`: how far ahead of a receive sub-chain an index may be.
pub const DEFAULT_MAX_JUMP: u32 = 25_000;
/// libsignal's `max_ooo_keys`: how far behind a receive sub-chain a skipped key is kept.
pub const DEFAULT_MAX_OOO_KEYS: u32 = 2_000;
/// The largest `max_ooo_keys` accepted (keeps a restored history's size bounded).
pub const MAX_OOO_KEYS_LIMIT: u32 = 50_000;
/// The most links a restored chain may hold (in use: at most 3).
pub(crate) const MAX_LINKS: usize = 8;

/// Bytes per stored skipped key: `BE32(index) ‖ key(32)`.
const ENTRY: usize = 4 + 32;

/// The chain's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainParams {
    /// How far ahead of a receive sub-chain an index may be (libsignal: 25 000; `u32::MAX`
    /// for a session with oneself).
    pub max_jump: u32,
    /// How far behind a receive sub-chain a skipped key is kept (libsignal: 2 000).
    pub max_ooo_keys: u32,
}

impl Default for ChainParams {
    fn default() -> Self {
        Self { max_jump: DEFAULT_MAX_JUMP, max_ooo_keys: DEFAULT_MAX_OOO_KEYS }
    }
}

impl ChainParams {
    pub(crate) fn validate(&self) -> Result<(), SpqrError> {
        if self.max_jump == 0 {
            return Err(SpqrError::InvalidConfig("max_jump must be at least 1"));
        }
        if self.max_ooo_keys == 0 || self.max_ooo_keys > MAX_OOO_KEYS_LIMIT {
            return Err(SpqrError::InvalidConfig("max_ooo_keys must be 1 to 50 000"));
        }
        Ok(())
    }

    /// History size at which garbage collection runs.
    fn trim_size(&self) -> usize {
        self.max_ooo_keys as usize * 11 / 10 + 1
    }
}

/// Skipped keys of one receive sub-chain, `BE32(index) ‖ key` each, in a buffer that is wiped
/// whenever it is freed, shrunk or grown.
#[derive(Clone, Default)]
pub(crate) struct KeyHistory {
    data: Zeroizing<Vec<u8>>,
}

impl KeyHistory {
    pub(crate) fn len(&self) -> usize {
        self.data.len() / ENTRY
    }

    fn index_at(&self, i: usize) -> u32 {
        let at = i * ENTRY;
        u32::from_be_bytes([self.data[at], self.data[at + 1], self.data[at + 2], self.data[at + 3]])
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.data.chunks_exact(ENTRY).map(|e| (u32::from_be_bytes([e[0], e[1], e[2], e[3]]), &e[4..]))
    }

    pub(crate) fn push(&mut self, index: u32, key: &[u8; 32]) {
        if self.data.len() + ENTRY > self.data.capacity() {
            // Grow by hand so that the old buffer is wiped, not just freed.
            let mut bigger = Zeroizing::new(Vec::with_capacity((self.data.capacity() * 2).max(ENTRY * 8)));
            bigger.extend_from_slice(&self.data);
            self.data = bigger;
        }
        self.data.extend_from_slice(&index.to_be_bytes());
        self.data.extend_from_slice(key);
    }

    /// Removes entry `i` by moving the last entry into its place.
    fn remove(&mut self, i: usize) {
        let last = self.len() - 1;
        if i != last {
            self.data.copy_within(last * ENTRY..(last + 1) * ENTRY, i * ENTRY);
        }
        self.data[last * ENTRY..].zeroize();
        self.data.truncate(last * ENTRY);
    }

    /// Takes the key for `index` out of the history.
    fn take(&mut self, index: u32) -> Option<SecretBytes<32>> {
        let i = (0..self.len()).find(|&i| self.index_at(i) == index)?;
        let key = SecretBytes::from_slice(&self.data[i * ENTRY + 4..(i + 1) * ENTRY]);
        self.remove(i);
        key
    }

    /// Drops every key below `horizon`.
    fn retain_from(&mut self, horizon: u32) {
        let mut i = 0;
        while i < self.len() {
            if self.index_at(i) < horizon {
                self.remove(i); // the moved-in entry is checked next
            } else {
                i += 1;
            }
        }
    }

    fn clear(&mut self) {
        self.data.zeroize();
        self.data.clear();
    }
}

/// One direction of one epoch.
#[derive(Clone)]
pub(crate) struct SubChain {
    /// The index of the last key handed out (0: none yet).
    pub(crate) ctr: u32,
    /// The next chain key; `None` once wiped (an old send half).
    pub(crate) next: Option<SecretBytes<32>>,
    /// Skipped keys (receive halves only).
    pub(crate) history: KeyHistory,
}

impl SubChain {
    fn new(seed: &[u8]) -> Self {
        Self { ctr: 0, next: SecretBytes::from_slice(seed), history: KeyHistory::default() }
    }

    /// Steps once: `(ctr + 1, key_{ctr+1})`.
    fn step(&mut self) -> Result<(u32, SecretBytes<32>), SpqrError> {
        let mut key = SecretBytes::zero();
        let ctr = self.advance(Some(key.expose_mut()))?;
        Ok((ctr, key))
    }

    /// Steps once and returns `ctr + 1`, writing `key_{ctr+1}` into `key` if asked. A step whose
    /// key is not kept needs only the next chain key, the first half of the HKDF output: one
    /// HMAC block fewer (a skip of 25 000 runs mostly on such steps), and no allocation.
    fn advance(&mut self, key: Option<&mut [u8; 32]>) -> Result<u32, SpqrError> {
        let next = self.next.as_mut().ok_or(SpqrError::Internal("the sub-chain was wiped"))?;
        let ctr = self.ctr.checked_add(1).ok_or(SpqrError::Internal("sub-chain counter overflow"))?;
        let mut info = [0u8; 4 + LABEL_NEXT.len()];
        info[..4].copy_from_slice(&ctr.to_be_bytes());
        info[4..].copy_from_slice(LABEL_NEXT);
        let mut okm = Zeroizing::new([0u8; 64]);
        let len = if key.is_some() { 64 } else { 32 };
        hkdf_sha256(None, next.expose(), &info, &mut okm[..len]);
        next.expose_mut().copy_from_slice(&okm[..32]);
        if let Some(key) = key {
            key.copy_from_slice(&okm[32..]);
        }
        self.ctr = ctr;
        Ok(ctr)
    }

    /// The receive key for `index`, with skipped keys kept and old ones trimmed as libsignal does.
    fn key(&mut self, index: u32, params: &ChainParams) -> Result<SecretBytes<32>, SpqrError> {
        let max_ooo = u64::from(params.max_ooo_keys);
        if index == self.ctr {
            return Err(SpqrError::KeyAlreadyUsed { index });
        }
        if index < self.ctr {
            if u64::from(index) + max_ooo < u64::from(self.ctr) {
                return Err(SpqrError::KeyTrimmed { index });
            }
            return self.history.take(index).ok_or(SpqrError::KeyAlreadyUsed { index });
        }
        if index - self.ctr > params.max_jump {
            return Err(SpqrError::KeyJump { index, ctr: self.ctr, max_jump: params.max_jump });
        }
        if self.next.is_none() {
            return Err(SpqrError::Internal("the sub-chain was wiped"));
        }
        if u64::from(index) > u64::from(self.ctr) + max_ooo {
            self.history.clear();
        }
        let mut key = Zeroizing::new([0u8; 32]);
        while index > self.ctr + 1 {
            // Only the keys within `max_ooo_keys` of `index` are kept; the others are not derived.
            if u64::from(self.ctr) + 1 + max_ooo >= u64::from(index) {
                let i = self.advance(Some(&mut key))?;
                self.history.push(i, &key);
            } else {
                self.advance(None)?;
            }
        }
        if self.history.len() >= params.trim_size() {
            self.history.retain_from(self.ctr.saturating_sub(params.max_ooo_keys));
        }
        Ok(self.step()?.1)
    }
}

/// The send and receive sub-chains of one epoch.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) send: SubChain,
    pub(crate) recv: SubChain,
}

impl Link {
    fn from_okm(okm: &[u8; 96], dir: Direction) -> Self {
        let (a2b, b2a) = (&okm[32..64], &okm[64..96]);
        match dir {
            Direction::A2B => Self { send: SubChain::new(a2b), recv: SubChain::new(b2a) },
            Direction::B2A => Self { send: SubChain::new(b2a), recv: SubChain::new(a2b) },
        }
    }
}

/// The chain of one session (one side).
#[derive(Clone)]
pub struct Chain {
    pub(crate) dir: Direction,
    /// The last epoch added (0 at the start).
    pub(crate) current_epoch: u64,
    /// The chain epoch of the last send.
    pub(crate) send_epoch: u64,
    /// Links for epochs `current_epoch − len + 1 ..= current_epoch`.
    pub(crate) links: VecDeque<Link>,
    pub(crate) next_root: SecretBytes<32>,
    pub(crate) params: ChainParams,
}

impl Chain {
    /// The chain at epoch 0, from the PQXDH `auth_key`.
    pub fn new(auth_key: &[u8; 32], dir: Direction, params: ChainParams) -> Self {
        let mut okm = Zeroizing::new([0u8; 96]);
        hkdf_sha256(None, auth_key, LABEL_START, &mut okm[..]);
        let mut next_root = SecretBytes::zero();
        next_root.expose_mut().copy_from_slice(&okm[..32]);
        Self {
            dir,
            current_epoch: 0,
            send_epoch: 0,
            links: VecDeque::from([Link::from_okm(&okm, dir)]),
            next_root,
            params,
        }
    }

    /// Adds epoch `epoch` (which must be the next one) with its secret.
    ///
    /// # Errors
    /// [`SpqrError::Internal`] if `epoch` is not `current_epoch + 1`.
    pub fn add_epoch(&mut self, epoch: u64, secret: &SecretBytes<32>) -> Result<(), SpqrError> {
        if Some(epoch) != self.current_epoch.checked_add(1) {
            return Err(SpqrError::Internal("epoch secrets must arrive in order"));
        }
        if self.links.len() >= MAX_LINKS {
            return Err(SpqrError::Internal("too many chain epochs kept"));
        }
        let mut okm = Zeroizing::new([0u8; 96]);
        hkdf_sha256(Some(self.next_root.expose()), secret.expose(), LABEL_ADD_EPOCH, &mut okm[..]);
        self.next_root.expose_mut().copy_from_slice(&okm[..32]);
        self.links.push_back(Link::from_okm(&okm, self.dir));
        self.current_epoch = epoch;
        Ok(())
    }

    fn link_index(&self, epoch: u64) -> Result<usize, SpqrError> {
        let back = self.current_epoch.checked_sub(epoch).ok_or(SpqrError::EpochUnavailable { chain_epoch: epoch })?;
        if back >= self.links.len() as u64 {
            return Err(SpqrError::EpochUnavailable { chain_epoch: epoch });
        }
        Ok(self.links.len() - 1 - back as usize)
    }

    /// The next send key of chain epoch `epoch`: `(index, key)`.
    ///
    /// # Errors
    /// [`SpqrError::Internal`] for an epoch older than the last send's, or one not held.
    pub fn send_key(&mut self, epoch: u64) -> Result<(u32, SecretBytes<32>), SpqrError> {
        if epoch < self.send_epoch {
            return Err(SpqrError::Internal("the send epoch cannot decrease"));
        }
        let mut at = self.link_index(epoch).map_err(|_| SpqrError::Internal("no chain link to send on"))?;
        if self.links[at].send.next.is_none() {
            return Err(SpqrError::Internal("the sub-chain was wiped"));
        }
        if epoch != self.send_epoch {
            self.send_epoch = epoch;
            while at > 1 {
                self.links.pop_front();
                at -= 1;
            }
            for link in self.links.iter_mut().take(at) {
                link.send.next = None;
            }
        }
        self.links[at].send.step()
    }

    /// The receive key of chain epoch `epoch`, index `index`.
    ///
    /// # Errors
    /// [`SpqrError::EpochUnavailable`], [`SpqrError::KeyJump`], [`SpqrError::KeyTrimmed`] or
    /// [`SpqrError::KeyAlreadyUsed`].
    pub fn recv_key(&mut self, epoch: u64, index: u32) -> Result<SecretBytes<32>, SpqrError> {
        let at = self.link_index(epoch)?;
        let params = self.params;
        self.links[at].recv.key(index, &params)
    }

    /// The last epoch added.
    pub fn current_epoch(&self) -> u64 {
        self.current_epoch
    }

    /// The chain epoch of the last send.
    pub fn send_epoch(&self) -> u64 {
        self.send_epoch
    }

    /// `(send ctr, receive ctr)` of every link held, oldest first.
    pub fn counters(&self) -> Vec<(u32, u32)> {
        self.links.iter().map(|l| (l.send.ctr, l.recv.ctr)).collect()
    }
}

impl core::fmt::Debug for Chain {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { dir, current_epoch, send_epoch, links, next_root: _, params } = self;
        f.debug_struct("Chain")
            .field("dir", dir)
            .field("current_epoch", current_epoch)
            .field("send_epoch", send_epoch)
            .field("links", &links.len())
            .field("params", params)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Chain, Chain) {
        let k = [7u8; 32];
        (Chain::new(&k, Direction::A2B, ChainParams::default()), Chain::new(&k, Direction::B2A, ChainParams::default()))
    }

    #[test]
    fn directions_match_across_epochs() {
        let (mut a, mut b) = pair();
        let (i, k) = a.send_key(0).unwrap();
        assert_eq!(i, 1);
        assert_eq!(b.recv_key(0, 1).unwrap(), k);
        let s = SecretBytes::from_array(&mut [9u8; 32]);
        a.add_epoch(1, &s).unwrap();
        b.add_epoch(1, &s).unwrap();
        for _ in 0..9 {
            a.send_key(1).unwrap();
        }
        let (i, k) = a.send_key(1).unwrap();
        assert_eq!(i, 10);
        assert_eq!(b.recv_key(1, 10).unwrap(), k);
        let (i, k) = b.send_key(1).unwrap();
        assert_eq!(a.recv_key(1, i).unwrap(), k);
        assert!(matches!(a.add_epoch(3, &s), Err(SpqrError::Internal(_))));
    }

    #[test]
    fn skipped_replayed_trimmed_and_jumps() {
        let (mut a, mut b) = pair();
        let keys: Vec<_> = (0..20).map(|_| a.send_key(0).unwrap()).collect();
        assert_eq!(b.recv_key(0, 20).unwrap(), keys[19].1);
        assert_eq!(b.recv_key(0, 3).unwrap(), keys[2].1);
        assert_eq!(b.recv_key(0, 3), Err(SpqrError::KeyAlreadyUsed { index: 3 }));
        assert_eq!(b.recv_key(0, 20), Err(SpqrError::KeyAlreadyUsed { index: 20 }));
        assert_eq!(b.recv_key(0, 20 + 25_001), Err(SpqrError::KeyJump { index: 25_021, ctr: 20, max_jump: 25_000 }));
        b.recv_key(0, 20 + 25_000).unwrap();
        assert_eq!(b.recv_key(0, 4), Err(SpqrError::KeyTrimmed { index: 4 }));
        assert_eq!(b.recv_key(1, 1), Err(SpqrError::EpochUnavailable { chain_epoch: 1 }));
    }

    #[test]
    fn the_history_is_trimmed_at_its_spec_size_and_holds_its_entries_exactly() {
        // SPEC.md §6: a receive history is trimmed once it holds max_ooo·11/10 + 1 entries (the
        // memory bound of every sub-chain, and which old keys a peer still finds)
        for (max_ooo_keys, size) in [(10, 12), (100, 111), (2_000, 2_201), (MAX_OOO_KEYS_LIMIT, 55_001)] {
            assert_eq!(ChainParams { max_jump: 1, max_ooo_keys }.trim_size(), size);
        }
        // a full buffer is not grown before the next push (and then doubles, wiping the old one)
        let mut h = KeyHistory::default();
        for n in 1..=33u32 {
            h.push(n, &[n as u8; 32]);
            let entries = h.data.capacity() / ENTRY;
            assert_eq!(entries, (n as usize).next_power_of_two().max(8), "{n} entries");
        }
        // indices are read as whole big-endian words: 0x0001_0005 is not 5
        h.push(0x0001_0005, &[0xa1; 32]);
        h.push(5 << 24, &[0xa2; 32]);
        h.push(0x0500, &[0xa3; 32]);
        assert_eq!(h.take(0x0001_0005).unwrap().expose(), &[0xa1; 32]);
        assert_eq!(h.take(5 << 24).unwrap().expose(), &[0xa2; 32]);
        assert_eq!(h.take(0x0500).unwrap().expose(), &[0xa3; 32]);
        assert_eq!(h.take(5).unwrap().expose(), &[5; 32]);
        assert!(h.take(5).is_none());
    }

    #[test]
    fn history_stays_bounded() {
        let params = ChainParams { max_jump: 100, max_ooo_keys: 10 };
        let mut b = Chain::new(&[1; 32], Direction::B2A, params);
        let mut at = 0u32;
        for _ in 0..50 {
            at += 9;
            b.recv_key(0, at).unwrap();
            assert!(b.links[0].recv.history.len() < params.trim_size() + 10);
        }
        assert_eq!(b.recv_key(0, at - 5).map(|_| ()), Ok(()));
        assert_eq!(b.recv_key(0, at - 11), Err(SpqrError::KeyTrimmed { index: at - 11 }));
    }

    /// The indices a receive history holds, in order.
    fn held(c: &Chain) -> Vec<u32> {
        let mut v: Vec<u32> = c.links[0].recv.history.entries().map(|(i, _)| i).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_trim_keeps_the_horizon_key_and_a_jump_past_the_window_forgets_the_rest() {
        // max_ooo 10: trims at 12 entries, down to the keys at most 10 behind the counter
        // before the new key (libsignal's horizon, SPEC.md §6); what is held is what a pickle
        // or a libsignal export carries
        let params = ChainParams { max_jump: 1000, max_ooo_keys: 10 };
        let mut a = Chain::new(&[1; 32], Direction::A2B, params);
        let mut b = Chain::new(&[1; 32], Direction::B2A, params);
        let keys: Vec<_> = (1..=40u32).map(|_| a.send_key(0).unwrap().1).collect();
        let key = |i: u32| keys[i as usize - 1].clone();
        assert_eq!(b.recv_key(0, 12).unwrap(), key(12));
        assert_eq!(held(&b), (2..=11).collect::<Vec<_>>(), "only the keys within max_ooo of 12 are derived");
        // 13 and 14 fill the history to 12 entries: trimmed below 14 - 10 = 4, 4 itself kept
        assert_eq!(b.recv_key(0, 15).unwrap(), key(15));
        assert_eq!(held(&b), [4, 5, 6, 7, 8, 9, 10, 11, 13, 14]);
        // at counter 15, 5 is the oldest key a peer may still use (5 + 10 = 15); 4 is trimmed
        // (refused as such, not looked up) although still held until the next trim
        assert_eq!(b.recv_key(0, 5).unwrap(), key(5));
        assert_eq!(b.recv_key(0, 4), Err(SpqrError::KeyTrimmed { index: 4 }));
        assert_eq!(b.recv_key(0, 3), Err(SpqrError::KeyTrimmed { index: 3 }));
        assert_eq!(b.recv_key(0, 5), Err(SpqrError::KeyAlreadyUsed { index: 5 }));
        assert_eq!(b.recv_key(0, 14).unwrap(), key(14));
        assert_eq!(held(&b), [4, 6, 7, 8, 9, 10, 11, 13]);

        // a jump more than max_ooo ahead drops every held key before keeping the new window:
        // with one old key held, the window of ten stays under the trim size, so only the
        // jump's own clearing forgets it
        let mut c = Chain::new(&[1; 32], Direction::B2A, params);
        assert_eq!(c.recv_key(0, 2).unwrap(), key(2));
        assert_eq!(held(&c), [1]);
        assert_eq!(c.recv_key(0, 20).unwrap(), key(20));
        assert_eq!(held(&c), (10..=19).collect::<Vec<_>>());
        assert_eq!(c.recv_key(0, 1), Err(SpqrError::KeyTrimmed { index: 1 }));
        assert_eq!(c.recv_key(0, 10).unwrap(), key(10));
        // a jump of exactly max_ooo keeps what is held (it is trimmed like any other key)
        let mut d = Chain::new(&[1; 32], Direction::B2A, params);
        d.recv_key(0, 2).unwrap();
        assert_eq!(d.recv_key(0, 12).unwrap(), key(12));
        assert_eq!(held(&d), [1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn sub_chain_keys_follow_the_spec_kdf() {
        // module docs / SPEC.md §6: o = HKDF(salt 0^32, next, BE32(i) || "Signal PQ Ratchet V1
        // Chain Next", 64); next = o[..32], key_i = o[32..]; i counts from 1
        let mut next = [0x5au8; 32];
        let mut sub = SubChain::new(&next);
        for i in 1..=3u32 {
            let mut info = i.to_be_bytes().to_vec();
            info.extend_from_slice(b"Signal PQ Ratchet V1 Chain Next");
            let mut o = [0u8; 64];
            hkdf_sha256(None, &next, &info, &mut o);
            let (ctr, key) = sub.step().unwrap();
            assert_eq!((ctr, key.expose()), (i, <&[u8; 32]>::try_from(&o[32..]).unwrap()));
            assert_eq!(sub.ctr, i);
            next.copy_from_slice(&o[..32]);
            assert_eq!(sub.next.as_ref().unwrap().expose(), &next);
        }
        // a skipped step (key not kept) moves the chain exactly as a kept one
        let mut kept = SubChain::new(&[0x5a; 32]);
        let mut skipped = SubChain::new(&[0x5a; 32]);
        kept.step().unwrap();
        assert_eq!(skipped.advance(None).unwrap(), 1);
        assert_eq!(kept.step().unwrap().1, skipped.step().unwrap().1);
    }

    #[test]
    fn send_epoch_drops_old_links() {
        let (mut a, _) = pair();
        let s = SecretBytes::from_array(&mut [9u8; 32]);
        a.send_key(0).unwrap();
        a.add_epoch(1, &s).unwrap();
        a.add_epoch(2, &s).unwrap();
        assert_eq!(a.links.len(), 3);
        a.send_key(1).unwrap();
        assert_eq!(a.links.len(), 3);
        assert_eq!((a.current_epoch(), a.send_epoch()), (2, 1));
        assert_eq!(a.counters(), [(1, 0), (1, 0), (0, 0)]);
        a.send_key(2).unwrap();
        assert_eq!(a.links.len(), 2);
        assert_eq!((a.current_epoch(), a.send_epoch()), (2, 2));
        assert_eq!(a.counters(), [(1, 0), (1, 0)]);
        assert!(a.links[0].send.next.is_none());
        assert!(matches!(a.send_key(1), Err(SpqrError::Internal(_))));
        assert_eq!(a.recv_key(0, 1).map(|_| ()), Err(SpqrError::EpochUnavailable { chain_epoch: 0 }));
        a.recv_key(1, 1).unwrap();
    }

    #[test]
    fn parameters_are_bounded_at_both_ends() {
        let p = |max_jump, max_ooo_keys| ChainParams { max_jump, max_ooo_keys }.validate();
        assert_eq!(p(1, 1), Ok(()));
        assert_eq!(p(1, MAX_OOO_KEYS_LIMIT), Ok(()));
        assert_eq!(p(u32::MAX, 2000), Ok(()));
        assert_eq!(p(0, 2000), Err(SpqrError::InvalidConfig("max_jump must be at least 1")));
        for bad in [0, MAX_OOO_KEYS_LIMIT + 1] {
            assert_eq!(p(1, bad), Err(SpqrError::InvalidConfig("max_ooo_keys must be 1 to 50 000")), "{bad}");
        }
    }
}
