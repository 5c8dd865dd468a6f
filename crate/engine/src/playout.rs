//! One call's outbound audio: the port of src/engine/js/playout.ts.
//!
//! A queue of app-format samples with absolute stream positions (samples ever written, samples
//! played), so that marks, `clear()` and the reports of unplayed audio are exact arithmetic on
//! two counters, in ms at the app rate whatever the wire carries. Pure logic, driven by the
//! engine's clock: one [`Playout::next_frame`] per tick, which the [`Outbound`] stage turns
//! into one frame at the wire rate. The queue is mono: a stereo app's writes are downmixed as
//! they are queued (the copy is made anyway, and half of it is cheaper to keep). Positions
//! count samples; the TypeScript engine counts the same samples, so every duration in ms comes
//! out identical.

use std::collections::VecDeque;

use crate::config::{EngineConfig, Idle};
use crate::dsp::channels::downmix;
use crate::error::{Code, EngineError};
use crate::events::{CancelledMark, ClearResult};
use crate::outbound::Outbound;

/// Milliseconds of audio per frame and per clock tick.
pub const FRAME_MS: u32 = 20;

/// Queue capacity, in samples, kept after the queue runs dry; a larger one is given back so
/// that a call that once queued a long prompt does not hold its memory for the rest of the call.
const RETAINED_CAPACITY: usize = 16 * 1024;

/// What one tick of playout produced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FrameKind {
    /// The frame holds a whole frame of queued audio (a short tail padded with silence).
    Audio,
    /// Send a frame of silence (idle or paused, with `idle: 'silence'`).
    Silence,
    /// Send nothing this tick.
    Nothing,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Idle,
    Buffering,
    Playing,
}

/// A mark queued at a stream position.
#[derive(Clone, Copy, Debug)]
struct QueuedMark {
    mark: u32,
    /// Samples ever written when the mark was queued: it is reached once that many are played.
    at: u64,
}

/// One call's playout queue (see the module docs).
#[derive(Debug)]
pub struct Playout {
    /// Wire samples per frame.
    frame_samples: usize,
    /// App samples per ms.
    samples_per_ms: f64,
    stereo: bool,
    prebuffer_ms: f64,
    prebuffer_ticks: u64,
    idle: Idle,
    high_water_ms: f64,
    low_water_ms: f64,
    max_queue_ms: f64,
    /// App samples per second.
    sample_rate: u32,
    /// The least `maxLatencyMs`: the prebuffer and one frame, ms.
    least_max_latency_ms: u32,
    /// `maxLatencyMs` in app samples (mono).
    max_latency_samples: Option<u64>,
    /// App samples dropped by the latency cap.
    latency_dropped: u64,
    /// App samples, mono, not yet taken by the outbound stage.
    queue: VecDeque<i16>,
    outbound: Outbound,
    written: u64,
    played: u64,
    marks: VecDeque<QueuedMark>,
    last_mark_at: Option<u64>,
    state: State,
    start_tick: u64,
    paused: bool,
    need_drain: bool,
    underruns: u64,
}

impl Playout {
    /// An empty playout for `config`, with 20 ms frames.
    #[must_use]
    pub fn new(config: &EngineConfig) -> Playout {
        Playout {
            frame_samples: (config.output_rate * FRAME_MS / 1000) as usize,
            samples_per_ms: f64::from(config.sample_rate) / 1000.0,
            stereo: config.channels == 2,
            prebuffer_ms: f64::from(config.prebuffer_ms),
            prebuffer_ticks: u64::from(config.prebuffer_ms.div_ceil(FRAME_MS)),
            idle: config.idle,
            high_water_ms: f64::from(config.high_water_ms),
            low_water_ms: f64::from(config.low_water_ms),
            max_queue_ms: f64::from(config.max_queue_ms),
            sample_rate: config.sample_rate,
            least_max_latency_ms: config.prebuffer_ms + FRAME_MS,
            max_latency_samples: config
                .max_latency_ms
                .map(|ms| cap_samples(ms, config.sample_rate)),
            latency_dropped: 0,
            queue: VecDeque::new(),
            outbound: Outbound::new(config.sample_rate, config.output_rate),
            written: 0,
            played: 0,
            marks: VecDeque::new(),
            last_mark_at: None,
            state: State::Idle,
            start_tick: 0,
            paused: false,
            need_drain: false,
            underruns: 0,
        }
    }

    /// Wire samples in one frame (160 at 8 kHz).
    #[must_use]
    pub fn frame_samples(&self) -> usize {
        self.frame_samples
    }

    /// App samples queued and not yet played (mono: one per stereo pair written).
    #[must_use]
    pub fn queued_samples(&self) -> u64 {
        self.written - self.played
    }

    /// Audio queued and not yet played, ms.
    #[must_use]
    pub fn queued_ms(&self) -> f64 {
        self.to_ms(self.queued_samples())
    }

    /// Ticks on which playout had started but less than a frame was queued and no mark ended it.
    #[must_use]
    pub fn underruns(&self) -> u64 {
        self.underruns
    }

    /// This call's `maxLatencyMs` from now on (`None`: no cap); the next tick applies it.
    ///
    /// # Errors
    ///
    /// `INVALID_ARGUMENT` below `prebufferMs` plus one frame; the cap is unchanged then.
    pub fn set_max_latency(&mut self, ms: Option<u32>) -> Result<(), EngineError> {
        let least = self.least_max_latency_ms;
        if let Some(ms) = ms.filter(|&ms| ms < least) {
            return Err(EngineError::new(
                Code::InvalidArgument,
                format!("maxLatencyMs must be at least prebufferMs + 20 ({least}), got {ms}"),
            ));
        }
        self.max_latency_samples = ms.map(|ms| cap_samples(ms, self.sample_rate));
        Ok(())
    }

    /// App samples dropped because more than `maxLatencyMs` was queued.
    #[must_use]
    pub fn latency_dropped_samples(&self) -> u64 {
        self.latency_dropped
    }

    /// Audio dropped because more than `maxLatencyMs` was queued, ms.
    #[must_use]
    pub fn latency_dropped_ms(&self) -> f64 {
        self.to_ms(self.latency_dropped)
    }

    /// Copies `pcm` (app format: interleaved when stereo) into the queue; `tick` is the clock's
    /// next tick, from which the prebuffer wait is counted. Returns the queue depth after it, ms.
    ///
    /// # Errors
    ///
    /// `QUEUE_FULL` when the queue would exceed `maxQueueMs`, `INVALID_ARGUMENT` for stereo
    /// that is not whole pairs; nothing of `pcm` is queued then.
    pub fn write(&mut self, pcm: &[i16], tick: u64) -> Result<f64, EngineError> {
        if self.stereo && !pcm.len().is_multiple_of(2) {
            return Err(EngineError::new(
                Code::InvalidArgument,
                format!(
                    "stereo audio is interleaved pairs: an even number of samples, got {}",
                    pcm.len()
                ),
            ));
        }
        let samples = if self.stereo {
            pcm.len() / 2
        } else {
            pcm.len()
        };
        let queued_ms = self.to_ms(self.queued_samples() + samples as u64);
        if queued_ms > self.max_queue_ms {
            return Err(EngineError::new(
                Code::QueueFull,
                format!(
                    "{} ms would be queued, more than maxQueueMs ({}); wait for 'drain'",
                    queued_ms.round(),
                    self.max_queue_ms
                ),
            ));
        }
        if samples == 0 {
            return Ok(self.queued_ms());
        }
        if self.stereo {
            self.queue
                .extend(pcm.chunks_exact(2).map(|lr| downmix(lr[0], lr[1])));
        } else {
            self.queue.extend(pcm);
        }
        self.written += samples as u64;
        if self.state == State::Idle {
            self.state = State::Buffering;
            self.start_tick = tick + self.prebuffer_ticks;
        }
        if queued_ms > self.high_water_ms {
            self.need_drain = true;
        }
        Ok(queued_ms)
    }

    /// Queues mark `mark` after the audio written so far.
    pub fn mark(&mut self, mark: u32) {
        self.marks.push_back(QueuedMark {
            mark,
            at: self.written,
        });
        self.last_mark_at = Some(self.written);
    }

    /// Drops all queued audio now (and what the outbound stage holds of it); reports how much,
    /// and the marks that will never be reached.
    pub fn clear(&mut self) -> ClearResult {
        let result = ClearResult {
            cleared_ms: self.queued_ms(),
            marks: self.cancel_marks(),
        };
        self.queue = VecDeque::new();
        self.played = self.written;
        self.outbound.restart(self.written);
        self.state = State::Idle;
        result
    }

    /// Holds playout where it is; idle frames meanwhile.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Plays on from where pause() stopped.
    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// Produces this tick's frame into `frame` (`frame_samples()` wire samples) and says what
    /// to send. Marks reached are appended to `marks`.
    pub fn next_frame(&mut self, tick: u64, frame: &mut [i16], marks: &mut Vec<u32>) -> FrameKind {
        if self.paused {
            return self.idle_frame(frame, marks);
        }
        if self.state == State::Buffering {
            let short = (self.queued_samples() as f64) < self.prebuffer_ms * self.samples_per_ms;
            if short && tick < self.start_tick {
                return self.idle_frame(frame, marks);
            }
            self.state = State::Playing;
        }
        if self.state != State::Playing {
            return self.idle_frame(frame, marks);
        }
        self.cap_latency();
        let end_of_play = self.last_mark_at == Some(self.written);
        let filled = self.outbound.fill(&mut self.queue, frame, end_of_play);
        if filled.samples < frame.len() && !end_of_play && !filled.ended_stream {
            self.underruns += 1;
        }
        frame[filled.samples..].fill(0);
        self.played = self.outbound.played();
        if self.queue.is_empty() && !self.outbound.holds_audio() {
            self.state = State::Idle;
            if self.queue.capacity() > RETAINED_CAPACITY {
                self.queue = VecDeque::new();
            }
        }
        self.reach_marks(marks);
        FrameKind::Audio
    }

    /// Drops the oldest queued audio beyond `maxLatencyMs`: a live writer that fell behind (a
    /// stalled thread that then wrote all it held, or jitter that left a frame standing) would
    /// otherwise keep that delay for the rest of the call, as a writer at the real-time rate
    /// never lets the queue shrink. The stream restarts where the kept audio begins, as after
    /// `clear()`; marks in what was dropped are reached with this tick's frame.
    fn cap_latency(&mut self) {
        let Some(cap) = self.max_latency_samples else {
            return;
        };
        let keep_from = self.written.saturating_sub(cap);
        let queue_from = self.written - self.queue.len() as u64;
        // Within the cap, or over it only by what the outbound stage holds (the resampler's
        // lag, a few samples): nothing to drop.
        if keep_from <= queue_from {
            return;
        }
        self.queue.drain(..(keep_from - queue_from) as usize);
        self.outbound.restart(keep_from);
        self.latency_dropped += keep_from - self.played;
        self.played = keep_from;
    }

    /// Whether the queue fell to the low-water mark after write() had gone above the high one;
    /// true once per crossing.
    pub fn take_drain(&mut self) -> bool {
        if !self.need_drain || self.queued_ms() > self.low_water_ms {
            return false;
        }
        self.need_drain = false;
        true
    }

    fn idle_frame(&mut self, frame: &mut [i16], marks: &mut Vec<u32>) -> FrameKind {
        if !self.paused {
            self.reach_marks(marks);
        }
        if self.idle == Idle::None {
            return FrameKind::Nothing;
        }
        frame.fill(0);
        FrameKind::Silence
    }

    /// Appends to `marks` the marks whose audio has all been played but that no tick has
    /// reported yet (one queued on an empty queue, or while paused): for the end of a call,
    /// after [`clear`](Self::clear), when there is no next tick to report them.
    pub fn take_reached_marks(&mut self, marks: &mut Vec<u32>) {
        self.reach_marks(marks);
    }

    fn reach_marks(&mut self, marks: &mut Vec<u32>) {
        while let Some(mark) = self.marks.front() {
            if mark.at > self.played {
                break;
            }
            marks.push(mark.mark);
            self.marks.pop_front();
        }
    }

    fn cancel_marks(&mut self) -> Vec<CancelledMark> {
        let played = self.played;
        let cancelled = self
            .marks
            .iter()
            .filter(|m| m.at > played)
            .map(|m| CancelledMark {
                mark: m.mark,
                ahead_ms: self.to_ms(m.at - played),
            })
            .collect();
        self.marks.retain(|m| m.at <= played);
        cancelled
    }

    fn to_ms(&self, samples: u64) -> f64 {
        samples as f64 / self.samples_per_ms
    }
}

/// `ms` of app audio at `sample_rate`, in samples (rounded down, as the TypeScript engine does).
fn cap_samples(ms: u32, sample_rate: u32) -> u64 {
    u64::from(ms) * u64::from(sample_rate) / 1000
}

#[cfg(test)]
mod tests {
    //! The cases of __test__/engine/playout.test.ts, one for one.
    use super::*;

    fn config() -> EngineConfig {
        EngineConfig {
            sample_rate: 8000,
            prebuffer_ms: 40,
            idle: Idle::Silence,
            max_calls: 10,
            max_payload: 8192,
            high_water_ms: 100,
            low_water_ms: 40,
            max_queue_ms: 1000,
            ..EngineConfig::default()
        }
    }

    fn samples(n: usize, value: i16) -> Vec<i16> {
        vec![value; n]
    }

    struct Run {
        kinds: Vec<FrameKind>,
        frames: Vec<Vec<i16>>,
        marks: Vec<u32>,
    }

    fn run(playout: &mut Playout, from: u64, ticks: u64) -> Run {
        let mut out = Run {
            kinds: Vec::new(),
            frames: Vec::new(),
            marks: Vec::new(),
        };
        for tick in from..from + ticks {
            let mut frame = vec![0x7eee; playout.frame_samples()];
            out.kinds
                .push(playout.next_frame(tick, &mut frame, &mut out.marks));
            out.frames.push(frame);
        }
        out
    }

    use FrameKind::{Audio, Nothing, Silence};

    #[test]
    fn holds_audio_until_the_prebuffer_is_full_then_one_frame_per_tick() {
        let mut playout = Playout::new(&config());
        assert_eq!(playout.frame_samples(), 160);
        playout.write(&samples(160, 1), 0).unwrap();
        assert_eq!(run(&mut playout, 0, 1).kinds, [Silence]);
        playout.write(&samples(160, 1), 1).unwrap();
        assert_eq!(run(&mut playout, 1, 3).kinds, [Audio, Audio, Silence]);
    }

    #[test]
    fn plays_a_clip_shorter_than_the_prebuffer_once_its_time_has_passed() {
        let mut playout = Playout::new(&config());
        playout.write(&samples(50, 0x0101), 10).unwrap();
        let out = run(&mut playout, 10, 3);
        assert_eq!(out.kinds, [Silence, Silence, Audio]);
        assert!(out.frames[2][..50].iter().all(|&s| s == 0x0101));
        assert!(out.frames[2][50..].iter().all(|&s| s == 0));
    }

    #[test]
    fn counts_an_underrun_when_playout_runs_dry_without_a_mark_not_at_a_mark() {
        let mut playout = Playout::new(&EngineConfig {
            prebuffer_ms: 0,
            ..config()
        });
        playout.write(&samples(240, 1), 0).unwrap();
        run(&mut playout, 0, 3);
        assert_eq!(playout.underruns(), 1);
        playout.write(&samples(240, 1), 3).unwrap();
        playout.mark(7);
        assert_eq!(run(&mut playout, 3, 3).marks, [7]);
        assert_eq!(playout.underruns(), 1);
    }

    #[test]
    fn positions_marks_in_the_stream_and_cancels_only_the_unreached_ones_on_clear() {
        let mut playout = Playout::new(&EngineConfig {
            prebuffer_ms: 0,
            ..config()
        });
        playout.write(&samples(160, 1), 0).unwrap();
        playout.mark(1);
        playout.write(&samples(320, 1), 0).unwrap();
        playout.mark(2);
        assert_eq!(run(&mut playout, 0, 1).marks, [1]);
        let cleared = playout.clear();
        assert_eq!(
            cleared,
            ClearResult {
                cleared_ms: 40.0,
                marks: vec![CancelledMark {
                    mark: 2,
                    ahead_ms: 40.0
                }]
            }
        );
        assert_eq!(playout.queued_samples(), 0);
        assert_eq!(run(&mut playout, 1, 1).kinds, [Silence]);
    }

    #[test]
    fn a_mark_on_an_empty_queue_fires_on_the_next_tick() {
        let mut playout = Playout::new(&config());
        playout.mark(9);
        assert_eq!(run(&mut playout, 0, 1).marks, [9]);
    }

    #[test]
    fn pause_holds_position_and_marks_resume_continues() {
        let mut playout = Playout::new(&EngineConfig {
            prebuffer_ms: 0,
            ..config()
        });
        playout.write(&samples(320, 5), 0).unwrap();
        playout.mark(3);
        run(&mut playout, 0, 1);
        playout.pause();
        let paused = run(&mut playout, 1, 5);
        assert!(paused.kinds.iter().all(|&k| k == Silence));
        assert!(paused.marks.is_empty());
        playout.resume();
        let resumed = run(&mut playout, 6, 1);
        assert_eq!(resumed.kinds, [Audio]);
        assert_eq!(resumed.marks, [3]);
    }

    #[test]
    fn idle_none_produces_nothing_to_send() {
        let mut playout = Playout::new(&EngineConfig {
            idle: Idle::None,
            ..config()
        });
        assert_eq!(run(&mut playout, 0, 2).kinds, [Nothing, Nothing]);
    }

    #[test]
    fn reports_drain_once_after_high_water_then_low_water() {
        let mut playout = Playout::new(&EngineConfig {
            prebuffer_ms: 0,
            ..config()
        });
        playout.write(&samples(8 * 120, 1), 0).unwrap(); // 120 ms > highWaterMs
        assert!(!playout.take_drain());
        run(&mut playout, 0, 4); // 80 ms played, 40 left
        assert!(playout.take_drain());
        assert!(!playout.take_drain());
    }

    #[test]
    fn refuses_a_write_past_max_queue_ms_whole() {
        let mut playout = Playout::new(&config());
        playout.write(&samples(8 * 900, 1), 0).unwrap();
        let error = playout.write(&samples(8 * 200, 1), 0).unwrap_err();
        assert_eq!(error.code, Code::QueueFull);
        assert_eq!(playout.queued_ms(), 900.0);
    }

    #[test]
    fn a_latency_cap_drops_the_oldest_audio_beyond_it_and_reaches_its_marks() {
        let mut playout = Playout::new(&EngineConfig {
            prebuffer_ms: 0,
            max_latency_ms: Some(40),
            ..config()
        });
        playout.write(&samples(160, 1), 0).unwrap();
        playout.mark(1);
        for value in 2..=5 {
            playout.write(&samples(160, value), 0).unwrap();
        }
        // 100 ms queued against a 40 ms cap: the oldest 60 ms go, and mark 1 with them.
        let out = run(&mut playout, 0, 3);
        assert_eq!(out.kinds, [Audio, Audio, Silence]);
        assert!(out.frames[0].iter().all(|&s| s == 4));
        assert!(out.frames[1].iter().all(|&s| s == 5));
        assert_eq!(out.marks, [1]);
        assert_eq!(playout.latency_dropped_ms(), 60.0);
        assert_eq!((playout.queued_ms(), playout.underruns()), (0.0, 0));
    }

    #[test]
    fn within_the_cap_or_without_one_nothing_is_dropped() {
        for max_latency_ms in [None, Some(100)] {
            let mut playout = Playout::new(&EngineConfig {
                prebuffer_ms: 0,
                max_latency_ms,
                ..config()
            });
            for value in 1..=5 {
                playout.write(&samples(160, value), 0).unwrap();
            }
            let out = run(&mut playout, 0, 5);
            for (frame, value) in out.frames.iter().zip(1..) {
                assert!(frame.iter().all(|&s| s == value));
            }
            assert_eq!(playout.latency_dropped_ms(), 0.0);
        }
    }

    #[test]
    fn a_latency_cap_holds_while_paused_and_applies_on_the_first_tick_after() {
        let mut playout = Playout::new(&EngineConfig {
            max_latency_ms: Some(60),
            ..config()
        });
        playout.write(&samples(160, 1), 0).unwrap();
        playout.pause();
        playout.write(&samples(8 * 100, 2), 0).unwrap();
        assert_eq!(run(&mut playout, 0, 3).kinds, [Silence; 3]);
        assert_eq!(playout.latency_dropped_ms(), 0.0);
        playout.resume();
        // 120 ms queued: playing again, 60 ms are dropped before the first frame.
        let out = run(&mut playout, 3, 1);
        assert!(out.frames[0].iter().all(|&s| s == 2));
        assert_eq!(
            (playout.latency_dropped_ms(), playout.queued_ms()),
            (60.0, 40.0)
        );
    }

    #[test]
    fn set_max_latency_applies_at_the_next_tick_and_refuses_less_than_prebuffer_and_a_frame() {
        let mut playout = Playout::new(&config()); // prebuffer 40 ms
        let error = playout.set_max_latency(Some(59)).unwrap_err();
        assert_eq!(error.code, Code::InvalidArgument);
        playout.set_max_latency(Some(60)).unwrap();
        playout.write(&samples(8 * 200, 1), 0).unwrap();
        run(&mut playout, 0, 1);
        assert_eq!(playout.latency_dropped_ms(), 140.0);
        playout.set_max_latency(None).unwrap();
        playout.write(&samples(8 * 200, 1), 1).unwrap();
        run(&mut playout, 1, 1);
        assert_eq!(
            (playout.latency_dropped_ms(), playout.queued_ms()),
            (140.0, 220.0)
        );
    }

    #[test]
    fn a_latency_cap_keeps_positions_exact_through_the_resampler() {
        let mut playout = Playout::new(&EngineConfig {
            max_latency_ms: Some(40),
            ..resampling()
        });
        playout.write(&ramp(640), 0).unwrap();
        run(&mut playout, 0, 1); // a stream under way: the resampler holds its lag
        playout.write(&ramp(3200), 1).unwrap(); // 200 ms more
        playout.mark(9);
        let out = run(&mut playout, 1, 3);
        assert_eq!(out.kinds, [Audio, Audio, Silence]);
        assert_eq!(out.marks, [9]);
        // What was written is played or dropped, to the sample: 240 ms = 20 played + 220.
        assert_eq!(playout.queued_ms(), 0.0);
        assert_eq!(playout.latency_dropped_ms() + 20.0 + 40.0, 240.0);
    }

    #[test]
    fn audio_leaves_bit_exact_across_frames() {
        let mut playout = Playout::new(&EngineConfig {
            prebuffer_ms: 0,
            ..config()
        });
        let pcm: Vec<i16> = (0..400).map(|i| (i * 97 - 20_000) as i16).collect();
        playout.write(&pcm, 0).unwrap();
        let out = run(&mut playout, 0, 3).frames.concat();
        assert_eq!(&out[..400], &pcm[..]);
        assert!(out[400..].iter().all(|&s| s == 0));
    }

    #[test]
    fn durations_match_the_typescript_arithmetic_at_44_1_khz() {
        let mut playout = Playout::new(&EngineConfig {
            sample_rate: 44_100,
            output_rate: 44_100,
            ..config()
        });
        assert_eq!(playout.frame_samples(), 882);
        playout.write(&samples(441, 1), 0).unwrap();
        assert_eq!(playout.queued_ms(), 441.0 / (44_100.0 / 1000.0));
    }

    /// A 16 kHz app over an 8 kHz wire.
    fn resampling() -> EngineConfig {
        EngineConfig {
            sample_rate: 16_000,
            output_rate: 8000,
            prebuffer_ms: 0,
            ..config()
        }
    }

    fn ramp(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| ((i * 37) % 20_000) as i16 - 10_000)
            .collect()
    }

    #[test]
    fn a_play_at_another_rate_leaves_whole_as_resample_makes_it_and_its_mark_follows_it() {
        let mut playout = Playout::new(&resampling());
        let pcm = ramp(3200); // 200 ms at 16 kHz
        playout.write(&pcm, 0).unwrap();
        playout.mark(1);
        assert_eq!(playout.queued_ms(), 200.0);
        let out = run(&mut playout, 0, 12);
        assert_eq!(playout.frame_samples(), 160);
        // 1600 wire samples: ten whole frames, the tail flushed into the tenth, the mark with it.
        assert_eq!(out.kinds[..10], [Audio; 10]);
        assert_eq!(out.kinds[10], Silence);
        let wire = out.frames[..10].concat();
        assert_eq!(wire, crate::dsp::resample(&pcm, 16_000, 8000).unwrap());
        assert_eq!(out.marks, [1]);
        assert_eq!((playout.queued_ms(), playout.underruns()), (0.0, 0));
    }

    #[test]
    fn a_mark_mid_stream_is_reached_when_its_wire_audio_is_out_not_when_its_input_is_taken() {
        let mut playout = Playout::new(&resampling());
        playout.write(&ramp(640), 0).unwrap(); // 40 ms
        playout.mark(1);
        playout.write(&ramp(640), 0).unwrap();
        let first = run(&mut playout, 0, 1);
        // 20 ms out; the resampler has taken more than that (its lag), which is not played.
        assert!(first.marks.is_empty());
        assert_eq!(playout.queued_ms(), 60.0);
        assert_eq!(run(&mut playout, 1, 1).marks, [1]);
        assert_eq!(playout.queued_ms(), 40.0);
    }

    #[test]
    fn clear_reports_exact_ms_at_the_app_rate_including_what_the_resampler_held() {
        let mut playout = Playout::new(&resampling());
        playout.write(&ramp(16_000), 0).unwrap(); // 1 s
        playout.mark(4);
        run(&mut playout, 0, 5);
        let cleared = playout.clear();
        assert_eq!(cleared.cleared_ms, 900.0);
        assert_eq!(
            cleared.marks,
            [CancelledMark {
                mark: 4,
                ahead_ms: 900.0
            }]
        );
        // The next audio is a stream of its own, from a clean history.
        let pcm = ramp(320);
        playout.write(&pcm, 5).unwrap();
        playout.mark(5);
        let out = run(&mut playout, 5, 1);
        assert_eq!(out.marks, [5]);
        let expected = crate::dsp::resample(&pcm, 16_000, 8000).unwrap();
        assert_eq!(out.frames[0], expected);
    }

    #[test]
    fn a_stereo_app_is_downmixed_as_queued_and_counted_in_pairs() {
        let mut playout = Playout::new(&EngineConfig {
            channels: 2,
            prebuffer_ms: 0,
            ..config()
        });
        let error = playout.write(&[1, 2, 3], 0).unwrap_err();
        assert_eq!(error.code, Code::InvalidArgument);
        let stereo: Vec<i16> = (0..320)
            .map(|i| if i % 2 == 0 { 1000 } else { -3001 })
            .collect();
        assert_eq!(playout.write(&stereo, 0).unwrap(), 20.0);
        let out = run(&mut playout, 0, 1);
        assert!(out.frames[0].iter().all(|&s| s == -1001));
    }
}
