//! The anti-aliasing filter of the [`super::Resampler`]: a Kaiser-windowed sinc, cut
//! into a polyphase bank for a rational ratio.
//!
//! Converting `input_rate` to `output_rate` Hz is upsampling by `up` and downsampling by `down`
//! (the ratio reduced by its gcd: 44100 -> 48000 is 160/147). The prototype low-pass runs at
//! the virtual rate `up * input_rate`; its cut-off sits just below the lower of the two Nyquist
//! frequencies, so that nothing above it survives (images when upsampling, aliases when
//! downsampling). Specification, as measured by the tests (`tests/dsp_quality.rs`,
//! `__test__/dsp/resampler.test.ts`):
//!
//! - passband flat within +-0.25 dB up to 0.85 x the lower Nyquist frequency;
//! - stopband from the lower Nyquist frequency on, attenuated >= 85 dB;
//! - a span of [`SPAN`] samples of the lower rate, so the delay is about 32 of those samples:
//!   4 ms at 8 kHz, whatever the other rate.
//!
//! The arithmetic is part of the contract: the TypeScript twin (`src/dsp/filter.ts`) performs
//! the same IEEE-754 double operations in the same order, with sine and Bessel function written
//! out here from `+ - * /` and `sqrt` (correctly rounded in both languages) rather than taken
//! from the platform's math library, whose last bit varies. Both produce the same coefficients
//! bit for bit, so the resamplers produce the same samples.

use std::f64::consts::PI;

use crate::protocol::{ErrorCode, ProtocolError, Result};

/// Length of the prototype filter, in samples of the lower rate: sets the transition width.
pub const SPAN: u64 = 64;
/// Stopband attenuation the Kaiser window is designed for, in dB (Kaiser's formulas).
const ATTENUATION_DB: f64 = 90.0;
/// Largest bank accepted (coefficients, 8 bytes each): 32 MiB. The ratios between AudioSocket
/// and common app rates need at most 1.8 MiB.
const MAX_COEFFICIENTS: u64 = 1 << 22;
/// Taps per phase are a multiple of this, the number of partial sums of the dot product.
pub const LANES: usize = 8;

/// A polyphase bank for one pair of rates. Shared, never modified after design.
#[derive(Debug)]
pub struct PolyphaseFilter {
    /// Interpolation factor L: `output_rate / gcd`.
    pub up: usize,
    /// Decimation factor M: `input_rate / gcd`.
    pub down: usize,
    /// Coefficients per phase (input samples per output sample), a multiple of [`LANES`].
    pub taps: usize,
    /// Group delay in output samples: an impulse at input 0 peaks at output `delay`.
    pub delay: usize,
    /// `up` phases of `taps` coefficients each, phase after phase. Within a phase, coefficient
    /// `p` weighs the `p`-th of the `taps` input samples ending at the newest one the output
    /// needs (oldest first). Unused leading taps are 0.
    pub bank: Box<[f64]>,
}

const fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The ratio `output_rate / input_rate` reduced: `(up, down)`.
///
/// # Errors
///
/// [`ErrorCode::InvalidArgument`] if a rate is 0.
pub fn ratio(input_rate: u32, output_rate: u32) -> Result<(u64, u64)> {
    if input_rate == 0 || output_rate == 0 {
        return Err(ProtocolError::new(
            ErrorCode::InvalidArgument,
            format!("sample rates are at least 1 Hz, got {input_rate} -> {output_rate}"),
        ));
    }
    let (i, o) = (u64::from(input_rate), u64::from(output_rate));
    let g = gcd(i, o);
    Ok((o / g, i / g))
}

/// sin(pi x) for x >= 0, to within a few ulps, from basic operations only: exact reduction to
/// [0, 1/2] (every step below is exact in binary floating point), then the Taylor series of sin
/// to z^27 in Horner form (error < 1e-20 for z <= pi/2).
fn sin_pi(x: f64) -> f64 {
    let mut r = x - 2.0 * (x / 2.0).floor(); // [0, 2)
    let mut sign = 1.0;
    if r >= 1.0 {
        r -= 1.0;
        sign = -1.0;
    }
    if r > 0.5 {
        r = 1.0 - r;
    }
    let z = PI * r;
    let z2 = z * z;
    let mut s = 1.0;
    for n in (1..=13u32).rev() {
        s = 1.0 - (z2 / f64::from(2 * n * (2 * n + 1))) * s;
    }
    sign * z * s
}

/// sin(pi x) / (pi x).
fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let a = x.abs();
    sin_pi(a) / (PI * a)
}

/// The modified Bessel function I0 by its power series, summed until terms stop counting.
fn bessel_i0(x: f64) -> f64 {
    let q = (x / 2.0) * (x / 2.0);
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// Designs the bank converting `input_rate` to `output_rate` (see [`PolyphaseFilter`]).
///
/// # Errors
///
/// [`ErrorCode::InvalidArgument`] if a rate is 0, if the rates are equal (nothing to filter),
/// or if the reduced ratio needs more than 4M coefficients (e.g. 44100 -> 96001).
pub fn design(input_rate: u32, output_rate: u32) -> Result<PolyphaseFilter> {
    let (up, down) = ratio(input_rate, output_rate)?;
    if up == down {
        return Err(ProtocolError::new(
            ErrorCode::InvalidArgument,
            format!("no filter converts {input_rate} Hz to itself"),
        ));
    }
    // The prototype runs at up * input_rate = down * output_rate; `wide` of its samples make one
    // sample at the lower rate.
    let wide = up.max(down);
    let taps = (SPAN * wide).div_ceil(up).div_ceil(LANES as u64) * LANES as u64;
    if up * taps > MAX_COEFFICIENTS {
        return Err(ProtocolError::new(
            ErrorCode::InvalidArgument,
            format!(
                "{input_rate} -> {output_rate} Hz reduces to {up}/{down}: {} coefficients, more than {MAX_COEFFICIENTS}",
                up * taps
            ),
        ));
    }
    // The longest odd, symmetric filter that fits the bank and is centred on an output sample:
    // length 2 * delay * down + 1, so that the group delay is a whole `delay` output samples.
    let delay = (taps * up - 1) / (2 * down);
    let center = delay * down;
    let length = 2 * center + 1;
    // Cut-off (as a fraction of the lower Nyquist frequency) half a transition band below it.
    // Kaiser: transition width = (A - 7.95) / (2.285 pi N) with N in samples of the lower rate.
    // Integers below 2^53 convert exactly.
    let (wide_f, center_f) = (wide as f64, center as f64);
    let cutoff = 1.0 - ((ATTENUATION_DB - 7.95) * wide_f) / (4.57 * PI * length as f64);
    let beta = 0.1102 * (ATTENUATION_DB - 8.7);

    let (up, taps) = (up as usize, taps as usize);
    let mut bank = vec![0.0; up * taps].into_boxed_slice();
    let mut sum = 0.0;
    for j in 0..length as usize {
        let t = j as f64 - center_f;
        let r = t / center_f;
        let h = sinc((cutoff * t) / wide_f) * bessel_i0(beta * (1.0 - r * r).sqrt());
        sum += h;
        let phase = j % up;
        bank[phase * taps + taps - 1 - j / up] = h;
    }
    // Unit gain at DC: each output sums one phase, and the phases together sum to `up`.
    let scale = up as f64 / sum;
    for c in bank.iter_mut() {
        *c *= scale;
    }
    Ok(PolyphaseFilter {
        up,
        down: down as usize,
        taps,
        delay: delay as usize,
        bank,
    })
}
