//! One call's outbound audio: the port of src/engine/js/playout.ts.
//!
//! A sample queue with absolute stream positions (samples ever written, samples played), so that
//! marks, `clear()` and the reports of unplayed audio are exact arithmetic on two counters. Pure
//! logic, driven by the engine's clock: one [`Playout::next_frame`] per tick. Positions count
//! samples where the TypeScript engine counts bytes; every duration in ms comes out identical
//! (the factor 2 cancels exactly in floating point).

use std::collections::VecDeque;

use crate::config::{EngineConfig, Idle};
use crate::error::{Code, EngineError};
use crate::events::{CancelledMark, ClearResult};

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
    frame_samples: usize,
    samples_per_ms: f64,
    prebuffer_ms: f64,
    prebuffer_ticks: u64,
    idle: Idle,
    high_water_ms: f64,
    low_water_ms: f64,
    max_queue_ms: f64,
    queue: VecDeque<i16>,
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
        let samples_per_ms = f64::from(config.sample_rate) / 1000.0;
        Playout {
            frame_samples: (samples_per_ms * f64::from(FRAME_MS)).round() as usize,
            samples_per_ms,
            prebuffer_ms: f64::from(config.prebuffer_ms),
            prebuffer_ticks: u64::from(config.prebuffer_ms.div_ceil(FRAME_MS)),
            idle: config.idle,
            high_water_ms: f64::from(config.high_water_ms),
            low_water_ms: f64::from(config.low_water_ms),
            max_queue_ms: f64::from(config.max_queue_ms),
            queue: VecDeque::new(),
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

    /// Samples in one frame (160 at 8 kHz).
    #[must_use]
    pub fn frame_samples(&self) -> usize {
        self.frame_samples
    }

    /// Samples queued and not yet played.
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

    /// Copies `pcm` into the queue; `tick` is the clock's next tick, from which the prebuffer
    /// wait is counted. Returns the queue depth after it, ms.
    ///
    /// # Errors
    ///
    /// `QUEUE_FULL` when the queue would exceed `maxQueueMs`; nothing of `pcm` is queued then.
    pub fn write(&mut self, pcm: &[i16], tick: u64) -> Result<f64, EngineError> {
        let queued_ms = self.to_ms(self.queued_samples() + pcm.len() as u64);
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
        if pcm.is_empty() {
            return Ok(self.queued_ms());
        }
        self.queue.extend(pcm);
        self.written += pcm.len() as u64;
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

    /// Drops all queued audio now; reports how much, and the marks that will never be reached.
    pub fn clear(&mut self) -> ClearResult {
        let result = ClearResult {
            cleared_ms: self.queued_ms(),
            marks: self.cancel_marks(),
        };
        self.queue = VecDeque::new();
        self.played = self.written;
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

    /// Produces this tick's frame into `frame` (`frame_samples() * 2` bytes, little-endian) and
    /// says what to send. Marks reached are appended to `marks`.
    pub fn next_frame(&mut self, tick: u64, frame: &mut [u8], marks: &mut Vec<u32>) -> FrameKind {
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
        let take = self.frame_samples.min(self.queue.len());
        if take < self.frame_samples && self.last_mark_at != Some(self.written) {
            self.underruns += 1;
        }
        let (audio, padding) = frame.split_at_mut(take * 2);
        for (bytes, sample) in audio.chunks_exact_mut(2).zip(self.queue.drain(..take)) {
            bytes.copy_from_slice(&sample.to_le_bytes());
        }
        padding.fill(0);
        self.played += take as u64;
        if self.queue.is_empty() {
            self.state = State::Idle;
            if self.queue.capacity() > RETAINED_CAPACITY {
                self.queue = VecDeque::new();
            }
        }
        self.reach_marks(marks);
        FrameKind::Audio
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

    fn idle_frame(&mut self, frame: &mut [u8], marks: &mut Vec<u32>) -> FrameKind {
        if !self.paused {
            self.reach_marks(marks);
        }
        if self.idle == Idle::None {
            return FrameKind::Nothing;
        }
        frame.fill(0);
        FrameKind::Silence
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
        frames: Vec<Vec<u8>>,
        marks: Vec<u32>,
    }

    fn run(playout: &mut Playout, from: u64, ticks: u64) -> Run {
        let mut out = Run {
            kinds: Vec::new(),
            frames: Vec::new(),
            marks: Vec::new(),
        };
        for tick in from..from + ticks {
            let mut frame = vec![0xee; playout.frame_samples() * 2];
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
        assert!(out.frames[2][..100].iter().all(|&b| b == 1));
        assert!(out.frames[2][100..].iter().all(|&b| b == 0));
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
    fn audio_leaves_bit_exact_little_endian_across_frames() {
        let mut playout = Playout::new(&EngineConfig {
            prebuffer_ms: 0,
            ..config()
        });
        let pcm: Vec<i16> = (0..400).map(|i| (i * 97 - 20_000) as i16).collect();
        playout.write(&pcm, 0).unwrap();
        let out = run(&mut playout, 0, 3);
        let bytes: Vec<u8> = out.frames.concat();
        let expected: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
        assert_eq!(&bytes[..800], &expected[..]);
        assert!(bytes[800..].iter().all(|&b| b == 0));
    }

    #[test]
    fn durations_match_the_typescript_arithmetic_at_44_1_khz() {
        let mut playout = Playout::new(&EngineConfig {
            sample_rate: 44_100,
            ..config()
        });
        assert_eq!(playout.frame_samples(), 882);
        playout.write(&samples(441, 1), 0).unwrap();
        // TypeScript: 882 bytes / 88.2 bytes per ms.
        assert_eq!(playout.queued_ms(), 882.0 / (44_100.0 * 2.0 / 1000.0));
    }
}
