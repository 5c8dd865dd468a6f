//! What each side of a call carries, and the conversion of caller audio from the wire to the
//! application's format. The twin of src/engine/js/format.ts.
//!
//! - [`Wire`]: how 0x10 frames are read and frames sent are encoded (slin, or G.711 for
//!   `Dial()` / `externalMedia` without `c(slin)`).
//! - [`Inbound`]: one per call, on the engine's thread: decode G.711 if the wire carries it,
//!   resample from the frame's rate (its kind) to the app rate, duplicate mono to stereo for a
//!   stereo app. Resampler state is kept across frames, so chunked equals continuous.
//! - [`OutFrame`]: a frame sent, from wire samples to the message.
//!
//! The other direction (app to wire) is [`crate::outbound`], driven by the playout queue.

use crate::dsp::{Law, Resampler};
use crate::protocol::{Kind, HEADER_LEN};

/// Sample rates the application may read and write, Hz: every AudioSocket rate and the usual
/// TTS ones (11025, 22050, 44100). The resampler converts between any two of them.
pub const APP_RATES: [u32; 11] = [
    8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 96000, 192000,
];

/// What the application reads and writes for one call: PCM16 at `sample_rate`, `channels`
/// interleaved (contract.ts `AudioFormat`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AppFormat {
    /// Hz, one of [`APP_RATES`].
    pub sample_rate: u32,
    /// 1, or 2 (caller audio duplicated, written audio downmixed).
    pub channels: u32,
}

/// How 0x10 frames are read and frames sent are encoded (contract.ts `EngineConfig.wire`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wire {
    /// Slin, and a warning on the call when 0x10 frames look like G.711 (see
    /// [`crate::wire_detect`]).
    Auto,
    /// Slin at the rate of each kind, no detection.
    Slin,
    /// 0x10 frames carry mu-law, 160 bytes per 20 ms, both ways.
    Ulaw,
    /// 0x10 frames carry A-law, 160 bytes per 20 ms, both ways.
    Alaw,
}

impl Wire {
    /// The G.711 law of 0x10 frames (both ways), or `None` for slin.
    #[must_use]
    pub const fn law(self) -> Option<Law> {
        match self {
            Wire::Ulaw => Some(Law::Ulaw),
            Wire::Alaw => Some(Law::Alaw),
            Wire::Auto | Wire::Slin => None,
        }
    }

    /// Bytes per sample in the frames sent: 1 for G.711, 2 for slin.
    #[must_use]
    pub const fn bytes_per_sample(self) -> usize {
        if self.law().is_some() {
            1
        } else {
            2
        }
    }
}

/// Caller audio of one call, from the wire to the application's format (module docs).
#[derive(Debug)]
pub struct Inbound {
    wire: Wire,
    stereo: bool,
    /// From the rate of the frames received to the app rate; rebuilt if the kind changes.
    resampler: Resampler,
}

impl Inbound {
    /// A converter to `app_rate` Hz with `channels` (1 or 2), expecting 8 kHz frames until a
    /// frame says otherwise.
    ///
    /// # Panics
    ///
    /// If `app_rate` is not one of [`APP_RATES`] (the configuration is validated before).
    #[must_use]
    pub fn new(wire: Wire, app_rate: u32, channels: u32) -> Inbound {
        Inbound {
            wire,
            stereo: channels == 2,
            resampler: resampler(8000, app_rate),
        }
    }

    /// The G.711 law a frame of `kind` carries: only 0x10 frames, only when the wire says so
    /// (G.711 is 8 kHz; a 0x11+ frame is always slin).
    #[must_use]
    pub fn law_of(&self, kind: Kind) -> Option<Law> {
        if kind == Kind::SLIN_8K {
            self.wire.law()
        } else {
            None
        }
    }

    /// Converts one frame's payload (`kind` 0x10-0x18; slin payloads of whole samples, a
    /// trailing odd byte ignored) and appends the app-format samples to `out`, interleaved
    /// when stereo. Returns how many it appended (0 when the resampler has nothing to give
    /// yet). `scratch` holds the decoded wire samples; it and `out` only grow when a frame is
    /// larger than any before, so a warm call allocates nothing.
    pub fn convert(
        &mut self,
        kind: Kind,
        payload: &[u8],
        scratch: &mut Vec<i16>,
        out: &mut Vec<i16>,
    ) -> usize {
        scratch.clear();
        let rate = match self.law_of(kind) {
            Some(law) => {
                scratch.resize(payload.len(), 0);
                law.decode_into(payload, scratch);
                8000
            }
            None => {
                scratch.extend(
                    payload
                        .chunks_exact(2)
                        .map(|b| i16::from_le_bytes([b[0], b[1]])),
                );
                kind.sample_rate().unwrap_or(8000)
            }
        };
        if rate != self.resampler.input_rate() {
            // A new stream at another rate: happens once per call, if ever.
            self.resampler = resampler(rate, self.resampler.output_rate());
        }
        let start = out.len();
        let mono = self.resampler.output_len(scratch.len());
        let channels = if self.stereo { 2 } else { 1 };
        out.resize(start + mono * channels, 0);
        let done = self
            .resampler
            .process_into(scratch, &mut out[start..start + mono]);
        debug_assert_eq!((done.read, done.written), (scratch.len(), mono));
        if self.stereo {
            // Mono to stereo in place, from the end so that nothing is overwritten before it is read.
            let frame = &mut out[start..];
            for i in (0..mono).rev() {
                frame[2 * i] = frame[i];
                frame[2 * i + 1] = frame[i];
            }
        }
        mono * channels
    }
}

/// A resampler between two validated rates.
fn resampler(input_rate: u32, output_rate: u32) -> Resampler {
    Resampler::new(input_rate, output_rate)
        .expect("every AudioSocket rate converts to and from every app rate")
}

/// The frame every tick is built in: the wire samples the playout produces, and the message
/// they are encoded into. One per engine thread, shared by its calls: every frame of a server
/// has the same kind and size, so the header is written once.
#[derive(Debug)]
pub struct OutFrame {
    law: Option<Law>,
    samples: Vec<i16>,
    message: Vec<u8>,
}

impl OutFrame {
    /// A frame of `samples` wire samples of kind `kind`, encoded as `wire` says.
    #[must_use]
    pub fn new(kind: Kind, wire: Wire, samples: usize) -> OutFrame {
        let payload = samples * wire.bytes_per_sample();
        let mut message = vec![0; HEADER_LEN + payload];
        message[0] = kind.0;
        message[1..HEADER_LEN].copy_from_slice(&(payload as u16).to_be_bytes());
        OutFrame {
            law: wire.law(),
            samples: vec![0; samples],
            message,
        }
    }

    /// Where the playout writes the frame's samples.
    pub fn samples_mut(&mut self) -> &mut [i16] {
        &mut self.samples
    }

    /// The samples encoded as the payload (G.711 codes, or little-endian slin): the whole
    /// message, ready for one write().
    pub fn encode(&mut self) -> &[u8] {
        let payload = &mut self.message[HEADER_LEN..];
        match self.law {
            Some(law) => {
                law.encode_into(&self.samples, payload);
            }
            None => {
                for (bytes, sample) in payload.chunks_exact_mut(2).zip(&self.samples) {
                    bytes.copy_from_slice(&sample.to_le_bytes());
                }
            }
        }
        &self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(samples: usize, rate: u32, hz: f64, amplitude: f64) -> Vec<i16> {
        (0..samples)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (amplitude * (2.0 * std::f64::consts::PI * hz * t).sin()).round() as i16
            })
            .collect()
    }

    fn le(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn slin_at_the_app_rate_passes_bit_exact() {
        let mut inbound = Inbound::new(Wire::Auto, 16000, 1);
        let pcm = tone(320, 16000, 440.0, 9000.0);
        let (mut scratch, mut out) = (Vec::new(), Vec::new());
        assert_eq!(
            inbound.convert(Kind::SLIN_16K, &le(&pcm), &mut scratch, &mut out),
            320
        );
        assert_eq!(out, pcm);
    }

    #[test]
    fn frames_resampled_one_by_one_equal_one_stream() {
        let pcm = tone(1600, 8000, 997.0, 12000.0);
        let mut inbound = Inbound::new(Wire::Slin, 16000, 1);
        let (mut scratch, mut out) = (Vec::new(), Vec::new());
        for frame in pcm.chunks(160) {
            inbound.convert(Kind::SLIN_8K, &le(frame), &mut scratch, &mut out);
        }
        let mut whole = Resampler::new(8000, 16000).unwrap();
        let mut expected = vec![0; whole.output_len(pcm.len())];
        whole.process_into(&pcm, &mut expected);
        assert_eq!(out, expected);
    }

    #[test]
    fn g711_wires_decode_0x10_frames_only() {
        let pcm = tone(160, 8000, 440.0, 8000.0);
        for (wire, law) in [(Wire::Ulaw, Law::Ulaw), (Wire::Alaw, Law::Alaw)] {
            let mut inbound = Inbound::new(wire, 8000, 1);
            let (mut scratch, mut out) = (Vec::new(), Vec::new());
            let codes = law.encode(&pcm);
            assert_eq!(
                inbound.convert(Kind::SLIN_8K, &codes, &mut scratch, &mut out),
                160
            );
            assert_eq!(out, law.decode(&codes));
            // A 0x12 frame is slin whatever the wire option says.
            assert_eq!(inbound.law_of(Kind::SLIN_16K), None);
        }
    }

    #[test]
    fn a_stereo_app_gets_each_sample_on_both_channels() {
        let mut inbound = Inbound::new(Wire::Auto, 8000, 2);
        let (mut scratch, mut out) = (Vec::new(), vec![7]);
        assert_eq!(
            inbound.convert(Kind::SLIN_8K, &le(&[1, -2, 3]), &mut scratch, &mut out),
            6
        );
        assert_eq!(out, [7, 1, 1, -2, -2, 3, 3]);
    }

    #[test]
    fn a_change_of_kind_starts_a_stream_at_the_new_rate() {
        let mut inbound = Inbound::new(Wire::Auto, 16000, 1);
        let (mut scratch, mut out) = (Vec::new(), Vec::new());
        inbound.convert(Kind::SLIN_8K, &le(&[100; 160]), &mut scratch, &mut out);
        out.clear();
        let pcm = tone(640, 16000, 300.0, 5000.0);
        inbound.convert(Kind::SLIN_16K, &le(&pcm), &mut scratch, &mut out);
        assert_eq!(out, pcm);
    }

    #[test]
    fn an_out_frame_encodes_slin_or_g711_behind_a_fixed_header() {
        let samples = [1000, -1000, 0];
        let mut slin = OutFrame::new(Kind::SLIN_16K, Wire::Auto, 3);
        slin.samples_mut().copy_from_slice(&samples);
        assert_eq!(slin.encode()[..3], [0x12, 0, 6]);
        assert_eq!(slin.encode()[3..], le(&samples)[..]);
        let mut alaw = OutFrame::new(Kind::SLIN_8K, Wire::Alaw, 3);
        alaw.samples_mut().copy_from_slice(&samples);
        assert_eq!(alaw.encode()[..3], [0x10, 0, 3]);
        assert_eq!(alaw.encode()[3..], Law::Alaw.encode(&samples)[..]);
    }
}
