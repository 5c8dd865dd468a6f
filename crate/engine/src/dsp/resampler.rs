//! Streaming sample-rate conversion of mono PCM16: polyphase Kaiser-windowed sinc at any
//! rational ratio (see [`super::filter`] for the design and its quality).
//!
//! Every pair of AudioSocket and app rates works (8000, 11025, 12000, 16000, 22050, 24000,
//! 32000, 44100, 48000, 96000, 192000 Hz), and any other whole rates whose reduced ratio needs at
//! most 4M coefficients.
//!
//! Streaming: feed input in chunks of any size; the output is the same, sample for sample, as
//! from one call with all of it, because each output sample depends only on the input before it
//! and the history is kept between calls. The output lags the input by
//! [`output_delay`](Resampler::output_delay) samples; [`flush`](Resampler::flush) plays out the
//! tail at the end of a stream, and [`resample`] does all of it for a whole buffer.
//!
//! Arithmetic: `f64`, the dot product of each output summed in [`LANES`] interleaved partial
//! sums, then rounded half away from zero and saturated. The TypeScript twin
//! (`src/dsp/resampler.ts`) performs the same operations in the same order, so both give the
//! same samples (`__test__/fixtures/resampler-vectors.json`).
//!
//! Real-time safety: [`Resampler::new`] allocates everything (the design is computed once per
//! pair of rates per process and shared). [`process_into`](Resampler::process_into),
//! [`flush`](Resampler::flush), [`output_len`](Resampler::output_len) and
//! [`reset`](Resampler::reset) never allocate, lock or make system calls
//! (`tests/dsp_no_alloc.rs` checks it). Cost per output sample: `taps` multiply-adds (64 when
//! upsampling, about 64 x input/output rate when downsampling).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::filter::{self, PolyphaseFilter, LANES};
use crate::protocol::Result;

/// Input samples taken in between two compactions of the history buffer.
const BLOCK: usize = 4096;

/// What one [`Resampler::process_into`] call did, in samples.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Processed {
    /// Input samples consumed, from the start of `input`.
    pub read: usize,
    /// Output samples written, from the start of `output`.
    pub written: usize,
}

/// Designs by pair of rates.
type Designs = Mutex<HashMap<(u32, u32), Arc<PolyphaseFilter>>>;

/// Designs are immutable: one per pair of rates, shared by every resampler of that pair.
fn shared_design(input_rate: u32, output_rate: u32) -> Result<Arc<PolyphaseFilter>> {
    static DESIGNS: OnceLock<Designs> = OnceLock::new();
    let designs = DESIGNS.get_or_init(Mutex::default);
    if let Some(design) = designs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(input_rate, output_rate))
    {
        return Ok(Arc::clone(design));
    }
    // Designed outside the lock: two threads may both design, and the first one stored wins.
    let design = Arc::new(filter::design(input_rate, output_rate)?);
    let mut designs = designs.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(Arc::clone(
        designs.entry((input_rate, output_rate)).or_insert(design),
    ))
}

/// The dot product of a phase's coefficients and the input window: [`LANES`] interleaved
/// partial sums (lane `k` takes every product `p` with `p % 8 == k`), then even lanes and odd
/// lanes reduced apart and added last. The TypeScript twin uses the same order; this one lets
/// the compiler keep pairs of lanes in SIMD registers with no shuffling in the loop.
#[inline]
fn dot(coefs: &[f64], window: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    for (c, x) in coefs.chunks_exact(LANES).zip(window.chunks_exact(LANES)) {
        for lane in 0..LANES {
            acc[lane] += c[lane] * x[lane];
        }
    }
    reduce(&acc)
}

/// The partial sums added up: even lanes and odd lanes apart, then together.
#[inline]
fn reduce(acc: &[f64; LANES]) -> f64 {
    ((acc[0] + acc[2]) + (acc[4] + acc[6])) + ((acc[1] + acc[3]) + (acc[5] + acc[7]))
}

/// Two dot products over the same window, each summed exactly as [`dot`] does.
#[inline]
fn dot2(first: &[f64], second: &[f64], window: &[f64]) -> (f64, f64) {
    let mut a = [0.0f64; LANES];
    let mut b = [0.0f64; LANES];
    for ((c, d), x) in first
        .chunks_exact(LANES)
        .zip(second.chunks_exact(LANES))
        .zip(window.chunks_exact(LANES))
    {
        for lane in 0..LANES {
            a[lane] += c[lane] * x[lane];
            b[lane] += d[lane] * x[lane];
        }
    }
    (reduce(&a), reduce(&b))
}

/// Rounds half away from zero and saturates to 16 bits: `f64::round`, written with a
/// truncating conversion because `round` is a library call on baseline x86-64 (no SSE4.1).
#[inline]
fn to_sample(v: f64) -> i16 {
    if v >= 32767.0 {
        i16::MAX
    } else if v <= -32768.0 {
        i16::MIN
    } else {
        let t = v as i32; // toward zero; exact, and `v - t` is exact too
        let frac = v - f64::from(t);
        (t + i32::from(frac >= 0.5) - i32::from(frac <= -0.5)) as i16
    }
}

/// The filter and the stream position when the rates differ.
struct Filtering {
    design: Arc<PolyphaseFilter>,
    /// `floor(down / up)` and `down % up`: how far the input moves per output sample.
    step_whole: usize,
    step_frac: usize,
    /// Input history as `f64`: `taps - 1` samples of past, then what was taken since.
    buf: Box<[f64]>,
    /// Valid samples in `buf`.
    fill: usize,
    /// Index in `buf` of the newest input sample the next output needs.
    next: usize,
    /// Phase of the next output (`0..up`): which coefficients it uses.
    phase: usize,
    /// Output samples a flush still owes; `None` when no flush is under way.
    owed: Option<usize>,
}

impl Filtering {
    fn reset(&mut self) {
        let history = self.design.taps - 1;
        self.buf[..history].fill(0.0);
        self.fill = history;
        self.next = history;
        self.phase = 0;
        self.owed = None;
    }

    /// Writes outputs from index `written` while their input is in the buffer, up to `limit`.
    ///
    /// When upsampling, consecutive outputs often use the same input window with different
    /// phases: those are computed two at a time ([`dot2`]), loading the window once. Each output
    /// keeps its own partial sums, so the result is the same as one at a time.
    fn emit(&mut self, output: &mut [i16], mut written: usize, limit: usize) -> usize {
        let design = &*self.design;
        let (taps, up, bank, buf) = (design.taps, design.up, &design.bank[..], &self.buf[..]);
        let (whole, frac, fill) = (self.step_whole, self.step_frac, self.fill);
        let (mut next, mut phase) = (self.next, self.phase);
        let output = &mut output[..limit];
        while written < limit && next < fill {
            let window = &buf[next + 1 - taps..=next];
            let coefs = &bank[phase * taps..][..taps];
            let second = phase + frac;
            if whole == 0 && second < up && written + 1 < limit {
                let (a, b) = dot2(coefs, &bank[second * taps..][..taps], window);
                output[written] = to_sample(a);
                output[written + 1] = to_sample(b);
                written += 2;
                phase = second + frac;
            } else {
                output[written] = to_sample(dot(coefs, window));
                written += 1;
                phase += frac;
                next += whole;
            }
            if phase >= up {
                phase -= up;
                next += 1;
            }
        }
        self.next = next;
        self.phase = phase;
        written
    }

    /// Makes room at the end of the buffer by dropping what no output needs any more.
    fn compact(&mut self) {
        let start = self.next + 1 - self.design.taps;
        self.buf.copy_within(start..self.fill, 0);
        self.fill -= start;
        self.next -= start;
    }

    /// Appends input as much as fits; returns how much.
    fn take(&mut self, input: &[i16]) -> usize {
        if self.fill == self.buf.len() {
            self.compact();
        }
        let n = input.len().min(self.buf.len() - self.fill);
        for (slot, &x) in self.buf[self.fill..self.fill + n].iter_mut().zip(input) {
            *slot = f64::from(x);
        }
        self.fill += n;
        n
    }

    /// Appends the zeros the next output needs (flush).
    fn take_silence(&mut self) {
        let need = self.next + 1 - self.fill;
        if self.fill + need > self.buf.len() {
            self.compact();
        }
        self.buf[self.fill..self.fill + need].fill(0.0);
        self.fill += need;
    }

    fn output_len(&self, input_len: usize) -> usize {
        let (up, down) = (self.design.up, self.design.down);
        let ahead = (self.fill + input_len).saturating_sub(self.next) * up;
        (ahead.saturating_sub(self.phase)).div_ceil(down)
    }
}

/// Streaming sample-rate converter for mono PCM16 (see the [module](self) documentation).
pub struct Resampler {
    input_rate: u32,
    output_rate: u32,
    /// `None` when the rates are equal: a plain copy.
    filtering: Option<Filtering>,
}

impl fmt::Debug for Resampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resampler")
            .field("input_rate", &self.input_rate)
            .field("output_rate", &self.output_rate)
            .field("output_delay", &self.output_delay())
            .field("taps", &self.taps())
            .finish_non_exhaustive()
    }
}

impl Resampler {
    /// A resampler from `input_rate` to `output_rate` Hz.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::InvalidArgument`](crate::protocol::ErrorCode::InvalidArgument) if a rate is
    /// 0, or if the reduced ratio needs more than 4M coefficients (e.g. 44100 -> 96001).
    pub fn new(input_rate: u32, output_rate: u32) -> Result<Self> {
        let (up, down) = filter::ratio(input_rate, output_rate)?;
        let filtering = if up == down {
            None
        } else {
            let design = shared_design(input_rate, output_rate)?;
            let taps = design.taps;
            let mut filtering = Filtering {
                step_whole: design.down / design.up,
                step_frac: design.down % design.up,
                buf: vec![0.0; taps + BLOCK.max(taps)].into_boxed_slice(),
                design,
                fill: 0,
                next: 0,
                phase: 0,
                owed: None,
            };
            filtering.reset();
            Some(filtering)
        };
        Ok(Resampler {
            input_rate,
            output_rate,
            filtering,
        })
    }

    /// Input sample rate, Hz.
    #[must_use]
    pub fn input_rate(&self) -> u32 {
        self.input_rate
    }

    /// Output sample rate, Hz.
    #[must_use]
    pub fn output_rate(&self) -> u32 {
        self.output_rate
    }

    /// Delay of the output, in output samples: input sample `i` appears at output
    /// `output_delay + i * output_rate / input_rate`. 0 when the rates are equal.
    #[must_use]
    pub fn output_delay(&self) -> usize {
        self.filtering.as_ref().map_or(0, |f| f.design.delay)
    }

    /// Multiply-adds per output sample: the filter's coefficients per phase (0 when the rates
    /// are equal).
    #[must_use]
    pub fn taps(&self) -> usize {
        self.filtering.as_ref().map_or(0, |f| f.design.taps)
    }

    /// Converts as much of `input` as `output` has room for: consumes input (`read`) and
    /// writes every output sample it makes available (`written`), stopping when either runs
    /// out. Call again with the rest of the input when `read < input.len()`. Cancels a
    /// [`flush`](Self::flush) in progress.
    pub fn process_into(&mut self, input: &[i16], output: &mut [i16]) -> Processed {
        let Some(f) = self.filtering.as_mut() else {
            let n = input.len().min(output.len());
            output[..n].copy_from_slice(&input[..n]);
            return Processed {
                read: n,
                written: n,
            };
        };
        f.owed = None;
        let mut read = 0;
        let mut written = 0;
        loop {
            written = f.emit(output, written, output.len());
            // With the output full, input is still taken while no output is pending: input
            // too short to make an output (1 sample at 48 kHz to 8 kHz) must not be left
            // unread by a caller that sized the output with `output_len`, or it is lost.
            if read == input.len() || (written == output.len() && f.next < f.fill) {
                break;
            }
            read += f.take(&input[read..]);
        }
        Processed { read, written }
    }

    /// Output samples that `input_len` more input samples would produce, given what is
    /// pending: the room [`process_into`](Self::process_into) needs to consume all of them in
    /// one call.
    #[must_use]
    pub fn output_len(&self, input_len: usize) -> usize {
        self.filtering
            .as_ref()
            .map_or(input_len, |f| f.output_len(input_len))
    }

    /// Ends the stream: writes what the input so far still owes (its pending samples and the
    /// [`output_delay`](Self::output_delay) samples of filter tail, as if silence followed) and
    /// returns how many it wrote. With too small an `output`, call again until it returns less
    /// than `output.len()`; it returns 0 once all is out. [`flush_len`](Self::flush_len) is the
    /// room needed in one call. Afterwards, [`reset`](Self::reset) before an unrelated stream
    /// (feeding more input continues after the silence the tail assumed).
    pub fn flush(&mut self, output: &mut [i16]) -> usize {
        let owed = self.flush_len();
        let Some(f) = self.filtering.as_mut() else {
            return 0;
        };
        let mut owed = f.owed.unwrap_or(owed);
        let mut written = 0;
        while owed > 0 && written < output.len() {
            if f.next >= f.fill {
                f.take_silence();
            }
            let before = written;
            written = f.emit(output, written, output.len().min(written + owed));
            owed -= written - before;
        }
        f.owed = Some(owed);
        written
    }

    /// Samples [`flush`](Self::flush) writes from here: pending output plus
    /// [`output_delay`](Self::output_delay).
    #[must_use]
    pub fn flush_len(&self) -> usize {
        self.filtering.as_ref().map_or(0, |f| {
            f.owed.unwrap_or_else(|| f.output_len(0) + f.design.delay)
        })
    }

    /// Forgets the stream: history, position, flush. The next input starts a new stream.
    pub fn reset(&mut self) {
        if let Some(f) = self.filtering.as_mut() {
            f.reset();
        }
    }
}

/// Converts a whole buffer (e.g. a TTS prompt) from `input_rate` to `output_rate` Hz, delay
/// removed: `ceil(input.len() * output_rate / input_rate)` samples, output `n` aligned with
/// input time `n / output_rate`. For streams, use a [`Resampler`].
///
/// # Errors
///
/// As [`Resampler::new`].
pub fn resample(input: &[i16], input_rate: u32, output_rate: u32) -> Result<Vec<i16>> {
    let mut resampler = Resampler::new(input_rate, output_rate)?;
    let delay = resampler.output_delay();
    let len = resampler.output_len(input.len());
    let mut all = vec![0; delay + len];
    let done = resampler.process_into(input, &mut all);
    resampler.flush(&mut all[done.written..]);
    all.drain(..delay);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every AudioSocket and app rate.
    const RATES: [u32; 11] = [
        8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 96000, 192000,
    ];

    fn pairs() -> impl Iterator<Item = (u32, u32)> {
        RATES
            .iter()
            .flat_map(|&a| RATES.iter().map(move |&b| (a, b)))
    }

    /// A reproducible mix of a sweep and noise (xorshift32), with a full-scale burst that
    /// saturates.
    fn signal(len: usize) -> Vec<i16> {
        let mut state = 0x2545_f491u32;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let noise = f64::from(state) / 2f64.powi(32) - 0.5;
                let x = i as f64;
                let v = 12000.0 * (x * x / 4000.0).sin() + 6000.0 * noise;
                if (len / 2..len / 2 + 40).contains(&i) {
                    32767
                } else {
                    v.round() as i16
                }
            })
            .collect()
    }

    fn one_shot(r: &mut Resampler, input: &[i16]) -> Vec<i16> {
        let mut out = vec![0; r.output_len(input.len()) + r.flush_len()];
        let done = r.process_into(input, &mut out);
        assert_eq!(done.read, input.len());
        let tail = r.flush(&mut out[done.written..]);
        assert_eq!(done.written + tail, out.len());
        out
    }

    #[test]
    fn an_impulse_comes_out_where_output_delay_says() {
        for (a, b) in pairs() {
            let (up, down) = filter::ratio(a, b).expect("rates");
            let (up, down) = (up as usize, down as usize);
            let mut r = Resampler::new(a, b).expect("rates");
            // An input instant that falls on an output sample: a multiple of `down`.
            let at = down * 300usize.div_ceil(down);
            let mut input = vec![0i16; at + 400];
            input[at] = 20000;
            let out = one_shot(&mut r, &input);
            let peak = (0..out.len())
                .max_by_key(|&i| (i32::from(out[i]).abs(), std::cmp::Reverse(i)))
                .expect("output");
            assert_eq!(peak, r.output_delay() + at * up / down, "{a} -> {b}");
        }
    }

    #[test]
    fn chunked_output_equals_one_shot_output_and_lengths_add_up() {
        let input = signal(1500);
        for (a, b) in pairs() {
            let mut r = Resampler::new(a, b).expect("rates");
            let want = one_shot(&mut r, &input);
            let expected = r.output_delay() + (input.len() * b as usize).div_ceil(a as usize);
            assert_eq!(want.len(), expected, "{a} -> {b}");
            r.reset();
            let (mut got, mut pos, mut turn) = (Vec::new(), 0, 0);
            let mut buffer = [0i16; 29];
            while pos < input.len() {
                let n = [13, 160, 1, 0][turn % 4];
                let room = [29, 3][turn % 2];
                turn += 1;
                let done =
                    r.process_into(&input[pos..(pos + n).min(input.len())], &mut buffer[..room]);
                got.extend_from_slice(&buffer[..done.written]);
                pos += done.read;
            }
            loop {
                let written = r.flush(&mut buffer[..7]);
                got.extend_from_slice(&buffer[..written]);
                if written == 0 {
                    break;
                }
            }
            assert!(got == want, "{a} -> {b}: chunked differs");
        }
    }

    #[test]
    fn dc_passes_at_unit_gain() {
        for (a, b) in pairs() {
            let out = resample(&vec![10000; a as usize / 20], a, b).expect("rates");
            let middle = &out[out.len() / 4..3 * out.len() / 4];
            assert!(
                middle.iter().all(|&v| (9999..=10001).contains(&v)),
                "{a} -> {b}"
            );
        }
    }

    #[test]
    fn output_len_and_flush_len_predict_what_comes_out() {
        let mut r = Resampler::new(44100, 8000).expect("rates");
        let input = signal(4410);
        let mut out = [0i16; 1000];
        let mut total = 0;
        for chunk in input.chunks(441) {
            let expected = r.output_len(chunk.len());
            let done = r.process_into(chunk, &mut out);
            assert_eq!((done.read, done.written), (441, expected));
            total += done.written;
        }
        let tail = r.flush_len();
        assert_eq!(r.flush(&mut out), tail);
        assert_eq!(
            total + tail,
            r.output_delay() + (4410usize * 8000).div_ceil(44100)
        );
        assert_eq!(r.flush_len(), 0);
        assert_eq!(r.flush(&mut out), 0);
    }

    #[test]
    fn stops_at_a_full_output_and_takes_the_rest_later() {
        let mut r = Resampler::new(8000, 16000).expect("rates");
        let first = r.process_into(&[0; 160], &mut [0; 10]);
        assert_eq!(first.written, 10);
        let pending = r.output_len(0);
        let second = r.process_into(&[], &mut [0; 1000]);
        assert_eq!(
            second,
            Processed {
                read: 0,
                written: pending
            }
        );
    }

    #[test]
    fn equal_rates_copy_with_no_delay() {
        let mut r = Resampler::new(16000, 16000).expect("rates");
        assert_eq!((r.output_delay(), r.taps()), (0, 0));
        let input = signal(600);
        let mut out = [0i16; 500];
        assert_eq!(
            r.process_into(&input, &mut out),
            Processed {
                read: 500,
                written: 500
            }
        );
        assert_eq!(out[..], input[..500]);
        assert_eq!(r.flush(&mut out), 0);
        assert_eq!(resample(&input, 16000, 16000).expect("rates"), input);
    }

    #[test]
    fn resample_removes_the_delay() {
        let input: Vec<i16> = (0..8000)
            .map(|i| {
                (10000.0 * (2.0 * std::f64::consts::PI * 440.0 * f64::from(i) / 8000.0).sin())
                    .round() as i16
            })
            .collect();
        let out = resample(&input, 8000, 48000).expect("rates");
        assert_eq!(out.len(), 48000);
        for n in [6000usize, 24001, 40007] {
            let ideal = 10000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 48000.0).sin();
            assert!((f64::from(out[n]) - ideal).abs() < 3.0, "sample {n}");
        }
    }

    #[test]
    fn refuses_zero_rates_and_huge_banks() {
        for (a, b) in [(0, 8000), (8000, 0), (44100, 96001)] {
            let err = Resampler::new(a, b).expect_err("refused");
            assert_eq!(
                err.code,
                crate::protocol::ErrorCode::InvalidArgument,
                "{a} -> {b}"
            );
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero_and_saturates() {
        for (v, want) in [
            (0.5, 1),
            (-0.5, -1),
            (1.4999999999999998, 1),
            (-2.5, -3),
            (0.49999999999999994, 0),
            (32766.5, 32767),
            (40000.0, 32767),
            (-32768.5, -32768),
            (-1e9, -32768),
        ] {
            assert_eq!(to_sample(v), want, "{v}");
        }
    }
}
