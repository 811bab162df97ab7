//! Deterministic randomness for the pickle tests' known-answer pickles: SHA-256(label ‖ u64be
//! counter) blocks, so that the same label gives the same keys on every run and platform
//! (test-vectors/pickle/kat.json and interolm_kat.json depend on this exact stream).

use caudata::primitives::RandomSource;
use sha2::Digest;

/// The key the known-answer pickles are encrypted under.
pub(crate) const KEY: [u8; 32] = *b"caudata pickle KAT key, 32 bytes";

/// A deterministic [`RandomSource`].
pub(crate) struct Det {
    label: Vec<u8>,
    counter: u64,
}

/// The stream for `label`, from its first block.
pub(crate) fn det(label: &str) -> Det {
    Det { label: label.as_bytes().to_vec(), counter: 0 }
}

impl RandomSource for Det {
    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            let mut h = sha2::Sha256::new();
            h.update(&self.label);
            h.update(self.counter.to_be_bytes());
            self.counter += 1;
            chunk.copy_from_slice(&h.finalize()[..chunk.len()]);
        }
    }
}
