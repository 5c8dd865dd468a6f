//! Notices G.711 arriving labelled 0x10 while the server reads 0x10 as slin (`wire: 'auto'`):
//! what `Dial(AudioSocket/...)` without `c(slin)` and ARI `externalMedia` with `format=ulaw`
//! send. The twin of src/engine/js/wire-detect.ts.
//!
//! G.711 in 20 ms frames is 160 bytes a frame, 50 frames a second; 160 bytes of 8 kHz slin is a
//! 10 ms frame (ptime 10), 100 a second. So a run of [`RUN`] consecutive 160-byte 0x10 frames is
//! judged by the median gap between their arrivals: at least [`G711_GAP_MS`] means G.711. The
//! median, not the mean, so that a stall that delivers several frames at once, or a pause in the
//! caller's audio (DTX), does not sway it. One verdict per call, and it is only reported: the
//! bytes cannot tell mu-law from A-law, and a wrong guess would turn into noise silently.

use std::time::Instant;

use crate::error::{Code, EngineError};
use crate::protocol::Kind;

/// Frames in a run judged at once.
pub const RUN: usize = 10;

/// Bytes of a 20 ms G.711 frame.
pub const G711_FRAME_BYTES: usize = 160;

/// Median gap between frames, ms, from which a run is taken for 20 ms frames rather than 10 ms
/// ones: between 10 and 20, with room for the native engine's 5 ms read beat.
pub const G711_GAP_MS: f64 = 14.0;

/// The warning, the same from both engines.
pub const MESSAGE: &str = "caller audio arrives as 0x10 frames of 160 bytes, 50 a second: \
    G.711 (ulaw or alaw) labelled as slin, which is read as noise. Likely cause: \
    Dial(AudioSocket/host:port/uuid) without c(slin) (or c(slin16)...), or ARI externalMedia \
    with format=ulaw or alaw. Ask for slin in the dialplan, or set the server's wire option to \
    'ulaw' or 'alaw'";

/// The detector of one call (module docs).
#[derive(Debug)]
pub struct G711Detector {
    /// Arrival of the last frame of the current run.
    last: Option<Instant>,
    /// Gaps between the frames of the current run, ms.
    gaps: [f64; RUN - 1],
    /// Frames in the current run.
    run: usize,
    /// A run was judged: nothing more to do.
    judged: bool,
}

impl Default for G711Detector {
    fn default() -> G711Detector {
        G711Detector {
            last: None,
            gaps: [0.0; RUN - 1],
            run: 0,
            judged: false,
        }
    }
}

impl G711Detector {
    /// Looks at one audio frame of `kind` and `bytes` received at `now`; returns the warning
    /// when a run looks like G.711 (at most once per call).
    pub fn frame(&mut self, kind: Kind, bytes: usize, now: Instant) -> Option<EngineError> {
        if self.judged {
            return None;
        }
        if kind != Kind::SLIN_8K || bytes != G711_FRAME_BYTES {
            self.run = 0;
            self.last = None;
            return None;
        }
        if let Some(last) = self.last {
            self.gaps[self.run - 1] = now.duration_since(last).as_secs_f64() * 1000.0;
        }
        self.last = Some(now);
        self.run += 1;
        if self.run < RUN {
            return None;
        }
        self.judged = true;
        let mut gaps = self.gaps;
        gaps.sort_unstable_by(f64::total_cmp);
        (gaps[gaps.len() / 2] >= G711_GAP_MS).then(|| EngineError::new(Code::WireFormat, MESSAGE))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Feeds frames at the given gaps (ms); returns on which frame (0-based) a warning came.
    fn warned_at(kind: Kind, bytes: usize, gaps_ms: &[u64]) -> Option<usize> {
        let mut detector = G711Detector::default();
        let mut at = Instant::now();
        let mut warned = None;
        for i in 0..=gaps_ms.len() {
            if i > 0 {
                at += Duration::from_millis(gaps_ms[i - 1]);
            }
            if detector.frame(kind, bytes, at).is_some() {
                assert!(warned.is_none(), "warned twice");
                warned = Some(i);
            }
        }
        warned
    }

    #[test]
    fn warns_once_on_the_tenth_160_byte_frame_at_50_a_second() {
        assert_eq!(warned_at(Kind::SLIN_8K, 160, &[20; 30]), Some(9));
    }

    #[test]
    fn a_stall_and_a_burst_do_not_hide_it() {
        let gaps = [20, 20, 100, 0, 0, 0, 20, 20, 20, 20, 20];
        assert_eq!(warned_at(Kind::SLIN_8K, 160, &gaps), Some(9));
    }

    #[test]
    fn slin_at_ptime_10_and_slin_at_20_ms_are_left_alone() {
        assert_eq!(warned_at(Kind::SLIN_8K, 160, &[10; 30]), None);
        assert_eq!(warned_at(Kind::SLIN_8K, 320, &[20; 30]), None);
        assert_eq!(warned_at(Kind::SLIN_16K, 160, &[20; 30]), None);
    }

    #[test]
    fn a_run_must_be_unbroken() {
        let mut detector = G711Detector::default();
        let mut at = Instant::now();
        for i in 0..18 {
            at += Duration::from_millis(20);
            let bytes = if i == 8 { 320 } else { 160 };
            assert!(
                detector.frame(Kind::SLIN_8K, bytes, at).is_none(),
                "frame {i}"
            );
        }
        at += Duration::from_millis(20);
        let warning = detector
            .frame(Kind::SLIN_8K, 160, at)
            .expect("the second run");
        assert_eq!(warning.code, Code::WireFormat);
    }
}
