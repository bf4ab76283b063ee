//! The pseudo-random numbers behind a seeded schedule
//! ([`Builder::seed`](crate::Builder::seed)).
//!
//! A seeded runtime replaces two first-come-first-served choices by draws
//! from this generator: which ready task runs next (`executor.rs`) and in
//! which order timers due at the same instant fire (`time/timers.rs`). The
//! generator has to be *reproducible* (the same seed gives the same draws on
//! every machine and every run, so a failing schedule can be replayed) and
//! *cheap*; it does not have to be unpredictable. So it is SplitMix64
//! (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
//! OOPSLA 2014; Java's `SplittableRandom`): a 64-bit counter stepped by the
//! golden-ratio constant, each value scrambled by two xor-shift-multiply
//! rounds. Every seed, 0 included, gives a full-period, well-mixed stream,
//! which is why it is also the usual way to seed bigger generators.

/// A SplitMix64 generator. `Clone` on purpose: a copy replays the stream.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The generator for `seed`.
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        // 2^64 / φ, odd: the counter visits every u64 before repeating.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by Lemire's multiply-and-shift: the
    /// high 64 bits of a 64 × 64-bit product. Its bias, at most `n / 2^64`,
    /// is far below anything a schedule could show, and it needs no
    /// division.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "a draw from an empty range");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first outputs of the reference implementation (Vigna's
    /// `splitmix64.c`) for seed 1234567, the test vector other ports check
    /// against: a wrong constant changes every one of them.
    #[test]
    fn matches_the_reference_stream() {
        let mut rng = SplitMix64::new(1234567);
        let first: Vec<u64> = (0..5).map(|_| rng.next_u64()).collect();
        assert_eq!(
            first,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423,
                4593380528125082431,
                16408922859458223821
            ]
        );
    }

    #[test]
    fn below_stays_in_range_and_reaches_every_value() {
        let mut rng = SplitMix64::new(0);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            seen[rng.below(7)] += 1;
        }
        assert!(seen.iter().all(|&count| count > 800), "{seen:?}");
        assert_eq!(SplitMix64::new(9).below(1), 0);
    }
}
