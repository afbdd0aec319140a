//! Random draws the generator needs, on its seeded ChaCha8 streams.

use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

pub(super) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

pub(super) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

pub(super) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

/// Two independent uniforms in [0, 1) with 32 bits each, from one 64-bit draw (the daily
/// attendance loop is the generator's hot path).
pub(super) fn two_uniforms(rng: &mut ChaCha8Rng) -> (f64, f64) {
    pub(super) const SCALE: f64 = 1.0 / 4_294_967_296.0;
    let x = rng.next_u64();
    ((x >> 32) as f64 * SCALE, (x & 0xffff_ffff) as f64 * SCALE)
}

/// Knuth's Poisson sampler; the mean is capped at 30, far above anything the model asks for.
pub(super) fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    let limit = (-mean.clamp(0.0, 30.0)).exp();
    let mut product: f64 = rng.gen();
    let mut count = 0;
    while product > limit {
        count += 1;
        product *= rng.gen::<f64>();
    }
    count
}

/// An index drawn with probability proportional to `weights`.
pub(super) fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    pick_by(rng, weights, |w| *w)
}

pub(super) fn pick_by<T>(rng: &mut ChaCha8Rng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let total: f64 = items.iter().map(&weight).sum();
    let mut x = rng.gen::<f64>() * total;
    for (i, item) in items.iter().enumerate() {
        let w = weight(item);
        if x < w {
            return i;
        }
        x -= w;
    }
    items.len().saturating_sub(1)
}
