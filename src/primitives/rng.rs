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
