//! The app-to-wire half of a call's conversion: samples at the app rate, taken from the playout
//! queue, become one frame of samples at the wire rate per tick. The twin of
//! src/engine/js/outbound.ts.
//!
//! The playout queue holds app-rate mono audio (a stereo write is downmixed as it is queued),
//! so that every unit the application sees (ms queued, water marks, marks, `clear()`) is exact
//! arithmetic at the app rate. This stage takes from it only the input each frame needs, through
//! a streaming resampler whose state lasts from frame to frame: audio written in pieces leaves
//! exactly as if it had been written at once.
//!
//! Streams. The resampler's output lags its input by `output_delay` samples. A stream starts on
//! an empty history and its first `output_delay` outputs are dropped, so that app sample `i` of
//! the stream is wire sample `i * wire / app`: the alignment of [`crate::dsp::resample`], whose
//! output a stream equals exactly. A stream ends with a flush, which plays out the tail the lag
//! holds back, and the next audio starts a new one. It ends when the queue has run dry and
//! either a mark follows the last sample written (`play()` always puts one there: the
//! application said the audio is complete), or a whole tick has passed with nothing new (the
//! writer has stopped). A queue that runs dry during a tick with no mark at its end is an
//! underrun: the frame is padded with silence but the stream goes on, so a writer that keeps
//! just up with real time is not cut into separately filtered pieces.
//!
//! Positions. [`Outbound::played`] counts the app samples whose wire audio has been produced:
//! from the wire samples of the current stream, `floor(out * app / wire)`, exact at each
//! stream's end. Marks and `clear()` use it, so a mark after N app samples is reached once the
//! wire samples that carry them have been sent.
//!
//! With equal rates the resampler is a copy with no lag, and all of this reduces to taking a
//! frame of samples from the queue.
//!
//! Real-time safety: [`Outbound::new`] allocates the resampler; [`fill`](Outbound::fill) and
//! [`restart`](Outbound::restart) never allocate.

use std::collections::VecDeque;

use crate::dsp::Resampler;

/// What one [`Outbound::fill`] produced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Filled {
    /// Wire samples written from the start of the frame.
    pub samples: usize,
    /// A stream ended in this frame (its tail was flushed): a short frame is then the end of
    /// the audio, not an underrun.
    pub ended_stream: bool,
}

/// The outbound stage of one call (module docs).
#[derive(Debug)]
pub struct Outbound {
    resampler: Resampler,
    app_rate: u64,
    wire_rate: u64,
    /// Outputs of the current stream still to drop: its share of the resampler's lag.
    trim: usize,
    /// The current stream's tail is being flushed.
    flushing: bool,
    /// App samples taken from the queue before the current stream started.
    stream_start: u64,
    /// App samples taken into the current stream.
    stream_in: u64,
    /// Wire samples the current stream has produced, after the trim.
    stream_out: u64,
}

impl Outbound {
    /// A stage from `app_rate` to `wire_rate` Hz.
    ///
    /// # Panics
    ///
    /// If the resampler refuses the pair (the configuration is validated before: every app
    /// rate converts to every AudioSocket rate).
    #[must_use]
    pub fn new(app_rate: u32, wire_rate: u32) -> Outbound {
        let resampler = Resampler::new(app_rate, wire_rate)
            .expect("every app rate converts to every AudioSocket rate");
        Outbound {
            trim: resampler.output_delay(),
            resampler,
            app_rate: u64::from(app_rate),
            wire_rate: u64::from(wire_rate),
            flushing: false,
            stream_start: 0,
            stream_in: 0,
            stream_out: 0,
        }
    }

    /// App samples whose wire audio has been produced, counted from the start of the call.
    #[must_use]
    pub fn played(&self) -> u64 {
        let out_as_app = self.stream_out * self.app_rate / self.wire_rate;
        self.stream_start + out_as_app.min(self.stream_in)
    }

    /// Whether app samples taken from the queue still wait for their wire audio (the lag of
    /// the resampler, or a flush under way).
    #[must_use]
    pub fn holds_audio(&self) -> bool {
        self.played() < self.stream_start + self.stream_in
    }

    /// Forgets the current stream (its pending input and tail are dropped): `clear()`. The
    /// next stream starts at app position `at`.
    pub fn restart(&mut self, at: u64) {
        self.resampler.reset();
        self.trim = self.resampler.output_delay();
        self.flushing = false;
        self.stream_start = at;
        self.stream_in = 0;
        self.stream_out = 0;
    }

    /// Fills `frame` with wire samples, taking what it needs from the front of `queue`.
    /// `end_of_play`: a mark follows the last sample written. Returns how many samples were
    /// written; the rest of the frame is left for the caller to pad.
    pub fn fill(
        &mut self,
        queue: &mut VecDeque<i16>,
        frame: &mut [i16],
        end_of_play: bool,
    ) -> Filled {
        let mut filled = 0;
        let mut fed = false;
        let mut ended_stream = false;
        while filled < frame.len() {
            let target = &mut frame[filled..];
            let produced = if self.flushing {
                self.resampler.flush(target)
            } else {
                let (written, read) = self.feed(queue, target);
                fed |= read > 0;
                if written == 0 {
                    if queue.is_empty() && self.holds_audio() && (end_of_play || !fed) {
                        self.flushing = true;
                        continue;
                    }
                    break;
                }
                written
            };
            let kept = self.drop_trimmed(target, produced);
            filled += kept;
            self.stream_out += kept as u64;
            if self.flushing && self.resampler.flush_len() == 0 {
                self.restart(self.stream_start + self.stream_in);
                ended_stream = true;
            }
        }
        Filled {
            samples: filled,
            ended_stream,
        }
    }

    /// Converts into `target` the fewest queued samples that fill it (all of them if they do
    /// not); returns (outputs written, inputs taken).
    fn feed(&mut self, queue: &mut VecDeque<i16>, target: &mut [i16]) -> (usize, usize) {
        let wanted = self.input_for(target.len()).min(queue.len());
        let (head, tail) = queue.as_slices();
        let first = wanted.min(head.len());
        let done = self.resampler.process_into(&head[..first], target);
        let (mut read, mut written) = (done.read, done.written);
        if read == first && wanted > first {
            let done = self
                .resampler
                .process_into(&tail[..wanted - first], &mut target[written..]);
            read += done.read;
            written += done.written;
        }
        queue.drain(..read);
        self.stream_in += read as u64;
        (written, read)
    }

    /// The fewest input samples after which `outputs` outputs are available.
    fn input_for(&self, outputs: usize) -> usize {
        let resampler = &self.resampler;
        let pending = resampler.output_len(0);
        if pending >= outputs {
            return 0;
        }
        let missing = (outputs - pending) as u64;
        // An estimate from the ratio, then corrected by at most a few steps.
        let mut inputs = (missing * self.app_rate).div_ceil(self.wire_rate) as usize;
        while resampler.output_len(inputs) < outputs {
            inputs += 1;
        }
        while inputs > 0 && resampler.output_len(inputs - 1) >= outputs {
            inputs -= 1;
        }
        inputs
    }

    /// Drops the first outputs of a stream (its lag) from the `produced` samples at the start
    /// of `target`; returns how many are left there.
    fn drop_trimmed(&mut self, target: &mut [i16], produced: usize) -> usize {
        let dropped = self.trim.min(produced);
        if dropped > 0 {
            target.copy_within(dropped..produced, 0);
            self.trim -= dropped;
        }
        produced - dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::resample;

    fn signal(len: usize, seed: u32) -> Vec<i16> {
        let mut state = seed;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let x = i as f64;
                (9000.0 * (x * x / 9000.0).sin() + f64::from(state % 2000) - 1000.0).round() as i16
            })
            .collect()
    }

    /// Ticks until the stage has nothing more to give; the frames concatenated, and per frame
    /// what `fill` said.
    fn drain(
        stage: &mut Outbound,
        queue: &mut VecDeque<i16>,
        frame: usize,
        end_of_play: bool,
    ) -> (Vec<i16>, Vec<Filled>) {
        let (mut out, mut fills) = (Vec::new(), Vec::new());
        let mut buffer = vec![0; frame];
        loop {
            let filled = stage.fill(queue, &mut buffer, end_of_play);
            if filled.samples == 0 && !filled.ended_stream {
                return (out, fills);
            }
            out.extend_from_slice(&buffer[..filled.samples]);
            fills.push(filled);
        }
    }

    #[test]
    fn a_play_leaves_exactly_as_resample_would_convert_it() {
        for (app, wire) in [
            (16000, 8000),
            (8000, 16000),
            (22050, 24000),
            (48000, 8000),
            (11025, 12000),
        ] {
            let pcm = signal(app as usize / 3, 7);
            let mut stage = Outbound::new(app, wire);
            let mut queue: VecDeque<i16> = pcm.iter().copied().collect();
            let (out, fills) = drain(&mut stage, &mut queue, wire as usize / 50, true);
            assert_eq!(out, resample(&pcm, app, wire).unwrap(), "{app} -> {wire}");
            assert!(fills.last().unwrap().ended_stream);
            assert_eq!(stage.played(), pcm.len() as u64);
            assert!(!stage.holds_audio());
        }
    }

    #[test]
    fn audio_queued_in_pieces_between_frames_is_one_stream() {
        let pcm = signal(4800, 3);
        let mut stage = Outbound::new(16000, 8000);
        let mut queue = VecDeque::new();
        let mut out = Vec::new();
        let mut frame = [0i16; 160];
        // A writer a little ahead of real time, in odd-sized pieces.
        for piece in pcm.chunks(333) {
            queue.extend(piece);
            while queue.len() > 400 {
                let filled = stage.fill(&mut queue, &mut frame, false);
                assert_eq!(filled.samples, 160);
                out.extend_from_slice(&frame);
            }
        }
        let (rest, _) = drain(&mut stage, &mut queue, 160, true);
        out.extend(rest);
        assert_eq!(out, resample(&pcm, 16000, 8000).unwrap());
    }

    #[test]
    fn played_follows_the_wire_samples_out() {
        let mut stage = Outbound::new(16000, 8000);
        let mut queue: VecDeque<i16> = signal(3200, 1).into_iter().collect();
        let mut frame = [0i16; 160];
        stage.fill(&mut queue, &mut frame, true);
        // 160 wire samples carry 320 app samples; more were taken (the lag), not yet played.
        assert_eq!(stage.played(), 320);
        assert!(3200 - queue.len() as u64 > 320);
        assert!(stage.holds_audio());
    }

    #[test]
    fn a_writer_just_in_time_underruns_once_then_flows_without_a_restart() {
        let pcm = signal(160 * 20, 9);
        let mut stage = Outbound::new(8000, 16000);
        let mut queue = VecDeque::new();
        let mut out = Vec::new();
        let mut frame = [0i16; 320];
        let mut short = 0;
        for piece in pcm.chunks(160) {
            queue.extend(piece);
            let filled = stage.fill(&mut queue, &mut frame, false);
            assert!(!filled.ended_stream);
            short += usize::from(filled.samples < 320);
            out.extend_from_slice(&frame[..filled.samples]);
        }
        assert_eq!(short, 1);
        // The writer stops: the next tick, with nothing new, ends the stream with its tail.
        let filled = stage.fill(&mut queue, &mut frame, false);
        assert!(filled.ended_stream);
        out.extend_from_slice(&frame[..filled.samples]);
        assert_eq!(out, resample(&pcm, 8000, 16000).unwrap());
    }

    #[test]
    fn restart_drops_the_stream_and_counts_from_the_new_position() {
        let mut stage = Outbound::new(24000, 8000);
        let mut queue: VecDeque<i16> = signal(2400, 5).into_iter().collect();
        let mut frame = [0i16; 160];
        stage.fill(&mut queue, &mut frame, false);
        stage.restart(2400);
        queue.clear();
        assert_eq!(stage.played(), 2400);
        assert!(!stage.holds_audio());
        let pcm = signal(480, 6);
        queue.extend(&pcm);
        let (out, _) = drain(&mut stage, &mut queue, 160, true);
        assert_eq!(out, resample(&pcm, 24000, 8000).unwrap());
        assert_eq!(stage.played(), 2880);
    }

    #[test]
    fn equal_rates_take_a_frame_of_samples() {
        let mut stage = Outbound::new(8000, 8000);
        let mut queue: VecDeque<i16> = (1..=200).collect();
        let mut frame = [0i16; 160];
        let filled = stage.fill(&mut queue, &mut frame, false);
        assert_eq!(filled.samples, 160);
        assert_eq!(frame[159], 160);
        let filled = stage.fill(&mut queue, &mut frame, false);
        assert_eq!(
            filled,
            Filled {
                samples: 40,
                ended_stream: false
            }
        );
        assert_eq!((stage.played(), stage.holds_audio()), (200, false));
    }
}
