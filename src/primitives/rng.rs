//! Randomness. The library draws every random byte through [`RandomSource`] so that
//! known-answer tests can replay a peer's randomness; applications use [`OsRandom`].

/// A source of cryptographically secure random bytes.
///
/// Implementations other than [`OsRandom`] exist for tests (replaying recorded randomness);
/// an application must never pass anything predictable here.
pub trait RandomSource {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]);
}

/// The operating system's random number generator (`getrandom`; in WebAssembly the platform's
/// `crypto.getRandomValues`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    #[allow(clippy::expect_used)]
    fn fill(&mut self, dest: &mut [u8]) {
        // There is no safe way to continue without randomness: generating a key from
        // predictable bytes would be worse than stopping.
        getrandom::fill(dest).expect("the operating system's random number generator failed");
    }
}

impl<R: RandomSource + ?Sized> RandomSource for &mut R {
    fn fill(&mut self, dest: &mut [u8]) {
        (**self).fill(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_source_fills_as_the_source_itself() {
        struct Counter(u8);
        impl RandomSource for Counter {
            fn fill(&mut self, dest: &mut [u8]) {
                for b in dest {
                    self.0 = self.0.wrapping_add(1);
                    *b = self.0;
                }
            }
        }
        fn draw(rng: &mut impl RandomSource) -> [u8; 4] {
            let mut out = [0; 4];
            rng.fill(&mut out);
            out
        }
        let mut source = Counter(0);
        let mut borrowed = &mut source;
        assert_eq!(draw(&mut borrowed), [1, 2, 3, 4]);
        assert_eq!(draw(&mut borrowed), [5, 6, 7, 8]);
        assert_eq!(source.0, 8);
        // the operating system's source, borrowed, fills too (8 bytes all zero: 2^-64)
        assert_ne!(draw(&mut &mut OsRandom).iter().chain(&draw(&mut &mut OsRandom)).copied().max(), Some(0));
    }
}
