//! The resampler's quality figures (issue 6), measured from the outside as
//! `bench/quality.mjs` does for the TypeScript suite and the codec benchmark:
//!
//! - THD+N of a 997 Hz tone at -6 dBFS <= -85 dB (everything but the tone, over the whole
//!   output band: least-squares fit of the tone and DC, residual power over tone power);
//! - passband within +-0.5 dB up to 0.85 x the lower Nyquist frequency;
//! - stopband >= 80 dB: upsampling, every image (k fs_in +- f) of tones up to 0.995 x the input
//!   Nyquist; downsampling, the alias of tones from the output Nyquist up.
//!
//! Tone amplitudes come from a DFT at the exact frequency under a Kaiser window (beta 20), so a
//! strong tone does not leak into the measurement of a weak image beside it.

use std::f64::consts::PI;

use audiosocket_engine::dsp::resample;

const LEVEL: f64 = 16422.8; // -6 dBFS
const SECONDS: f64 = 0.3;

fn tone(f: f64, rate: u32) -> Vec<i16> {
    let n = (f64::from(rate) * SECONDS).round() as usize;
    (0..n)
        .map(|i| (LEVEL * (2.0 * PI * f * i as f64 / f64::from(rate)).sin()).round() as i16)
        .collect()
}

/// The steady state: clear of start-up and end transients.
fn steady(rate: u32) -> (usize, usize) {
    let n = (f64::from(rate) * SECONDS).round() as usize;
    let margin = (f64::from(rate) * 0.04).round() as usize;
    (margin, n - margin)
}

fn bessel_i0(x: f64) -> f64 {
    let (q, mut term, mut sum, mut k) = ((x / 2.0) * (x / 2.0), 1.0, 1.0, 1.0);
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// Amplitude of the component at exactly `f` Hz in `signal[from..to]`.
fn amplitude(signal: &[i16], rate: u32, f: f64, (from, to): (usize, usize)) -> f64 {
    let omega = 2.0 * PI * f / f64::from(rate);
    let (mut re, mut im, mut gain) = (0.0, 0.0, 0.0);
    let len = (to - from) as f64;
    for (n, &s) in signal.iter().enumerate().take(to).skip(from) {
        let r = 2.0 * (n - from) as f64 / (len - 1.0) - 1.0;
        let w = bessel_i0(20.0 * (1.0 - r * r).max(0.0).sqrt());
        let v = f64::from(s) * w;
        re += v * (omega * n as f64).cos();
        im += v * (omega * n as f64).sin();
        gain += w;
    }
    2.0 * re.hypot(im) / gain
}

/// THD+N around a tone at `f` Hz, in dB: least-squares fit of `a cos + b sin + c`, residual over tone.
fn thd_n(signal: &[i16], rate: u32, f: f64, (from, to): (usize, usize)) -> f64 {
    let omega = 2.0 * PI * f / f64::from(rate);
    let basis = |n: usize| [(omega * n as f64).cos(), (omega * n as f64).sin(), 1.0];
    let (mut m, mut v) = ([[0.0; 3]; 3], [0.0; 3]);
    for (n, &s) in signal.iter().enumerate().take(to).skip(from) {
        let b = basis(n);
        for i in 0..3 {
            v[i] += b[i] * f64::from(s);
            for j in 0..3 {
                m[i][j] += b[i] * b[j];
            }
        }
    }
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&m);
    let x: Vec<f64> = (0..3)
        .map(|col| {
            let mut a = m;
            for row in 0..3 {
                a[row][col] = v[row];
            }
            det(&a) / d
        })
        .collect();
    let residual: f64 = (from..to)
        .map(|n| {
            let b = basis(n);
            let e = f64::from(signal[n]) - (x[0] * b[0] + x[1] * b[1] + x[2]);
            e * e
        })
        .sum();
    10.0 * (residual / (to - from) as f64 / ((x[0] * x[0] + x[1] * x[1]) / 2.0)).log10()
}

/// Where a tone at `f` Hz lands beyond the lower Nyquist frequency.
fn leaks(f: f64, a: u32, b: u32) -> Vec<f64> {
    let (fa, fb) = (f64::from(a), f64::from(b));
    if b > a {
        let mut out = Vec::new();
        let mut m = 1.0;
        while m * fa - f < fb / 2.0 {
            out.extend(
                [m * fa - f, m * fa + f]
                    .into_iter()
                    .filter(|&g| g < fb / 2.0),
            );
            m += 1.0;
        }
        out
    } else {
        let g = f % fb;
        vec![if g > fb / 2.0 { fb - g } else { g }]
    }
}

#[test]
fn thd_n_passband_and_stopband_meet_the_figures() {
    let mut report = Vec::new();
    for (a, b) in [
        (8000, 16000),
        (16000, 8000),
        (8000, 48000),
        (48000, 8000),
        (44100, 48000),
        (22050, 8000),
        (24000, 16000),
    ] {
        let convert = |x: &[i16]| resample(x, a, b).expect("rates");
        let nyquist = f64::from(a.min(b)) / 2.0;
        let thd = thd_n(&convert(&tone(997.0, a)), b, 997.0, steady(b));

        let mut passband: f64 = 0.0;
        for k in 0..=6 {
            let f = 100.0 + (0.85 * nyquist - 100.0) * f64::from(k) / 6.0;
            let input = tone(f, a);
            let gain =
                amplitude(&convert(&input), b, f, steady(b)) / amplitude(&input, a, f, steady(a));
            passband = passband.max((20.0 * gain.log10()).abs());
        }

        let tones: Vec<f64> = if b > a {
            [0.1, 0.4, 0.7, 0.85, 0.95, 0.99, 0.995]
                .map(|x| x * nyquist)
                .to_vec()
        } else {
            let top = 0.995 * f64::from(a) / 2.0;
            [1.004, 1.02, 1.1, 1.5, 2.0, 4.0]
                .map(|x| x * nyquist)
                .into_iter()
                .filter(|&f| f < top)
                .collect()
        };
        let mut stopband = f64::INFINITY;
        for f in tones {
            let input = tone(f, a);
            let reference = amplitude(&input, a, f, steady(a));
            let out = convert(&input);
            let leak: f64 = leaks(f, a, b)
                .into_iter()
                .map(|g| amplitude(&out, b, g, steady(b)).powi(2))
                .sum();
            stopband = stopband.min(-20.0 * (leak.sqrt() / reference).log10());
        }

        report.push(format!(
            "{a} -> {b}: THD+N {thd:.1} dB, passband +-{passband:.2} dB, stopband {stopband:.1} dB"
        ));
        assert!(thd <= -85.0, "{}", report.last().expect("line"));
        assert!(passband <= 0.5, "{}", report.last().expect("line"));
        assert!(stopband >= 80.0, "{}", report.last().expect("line"));
    }
    println!("{}", report.join("\n"));
}
