//! How a batch of events crosses into JavaScript: three values for the whole batch, however
//! many events it holds.
//!
//! - `meta`: a Float64Array of records, each a record type then its fields (below);
//! - `pcm`: an Int16Array holding the samples of every audio frame of the batch back to back,
//!   of which JavaScript makes one zero-copy view per frame;
//! - `strings`: call ids, addresses and error texts, referred to by index from `meta`.
//!
//! Record layouts (mirrored by `decodeBatch` in src/engine/native/batch.ts):
//!
//! | type | fields |
//! |---|---|
//! | 0 call | call, id, remote address, remote port, family (4/6), wire kind, wire rate |
//! | 1 audio | call, first sample in `pcm`, samples |
//! | 2 dtmf | call, digit (char code), state (1 start, 0 end), duration ms (-1: none) |
//! | 3 mark | call, mark |
//! | 4 drain | call |
//! | 5 error | call, code, message |
//! | 6 reject | remote address ('' when accept() failed), remote port, family, code, message |
//! | 7 end | call, reason, error code (-1: none), error message (-1), unplayed ms, 9 stats (frames in, frames out, silence frames out, underruns, queued ms, max lateness ms, frames dropped, inbound dropped, latency dropped ms), marks n, n x (mark, ahead ms) |
//! | 8 closed | |

use std::net::SocketAddr;

use audiosocket_engine::error::EngineError;
use audiosocket_engine::events::{Batch, EndReason, Event};
use audiosocket_engine::protocol::DtmfState;

/// Record types, in `meta`.
mod record {
    pub const CALL: f64 = 0.0;
    pub const AUDIO: f64 = 1.0;
    pub const DTMF: f64 = 2.0;
    pub const MARK: f64 = 3.0;
    pub const DRAIN: f64 = 4.0;
    pub const ERROR: f64 = 5.0;
    pub const REJECT: f64 = 6.0;
    pub const END: f64 = 7.0;
    pub const CLOSED: f64 = 8.0;
}

/// `reason` of an end record.
fn reason_code(reason: EndReason) -> f64 {
    match reason {
        EndReason::RemoteHangup => 0.0,
        EndReason::LocalHangup => 1.0,
        EndReason::Error => 2.0,
        EndReason::Timeout => 3.0,
        EndReason::ServerClose => 4.0,
    }
}

/// The records and strings of one batch; reused from batch to batch.
#[derive(Default)]
pub struct Encoded {
    pub meta: Vec<f64>,
    pub strings: Vec<String>,
}

impl Encoded {
    /// Encodes `batch` (its `pcm` crosses as it is).
    pub fn encode(&mut self, batch: &Batch) {
        self.meta.clear();
        self.strings.clear();
        for event in &batch.events {
            self.event(event);
        }
    }

    fn string(&mut self, text: String) -> f64 {
        self.strings.push(text);
        (self.strings.len() - 1) as f64
    }

    fn remote(&mut self, remote: Option<&SocketAddr>) {
        let address = self.string(remote.map(|r| r.ip().to_string()).unwrap_or_default());
        let port = remote.map_or(0, SocketAddr::port);
        let family = if remote.is_some_and(SocketAddr::is_ipv6) {
            6.0
        } else {
            4.0
        };
        self.meta.extend([address, f64::from(port), family]);
    }

    fn error(&mut self, error: &EngineError) {
        let code = self.string(error.code.as_str().to_owned());
        let message = self.string(error.message.clone());
        self.meta.extend([code, message]);
    }

    fn event(&mut self, event: &Event) {
        match event {
            Event::Call {
                call,
                id,
                remote,
                wire,
            } => {
                let id = self.string(id.to_string());
                self.meta.extend([record::CALL, f64::from(*call), id]);
                self.remote(Some(remote));
                let rate = wire.sample_rate().unwrap_or(8000);
                self.meta.extend([f64::from(wire.0), f64::from(rate)]);
            }
            Event::Audio { call, start, len } => {
                self.meta
                    .extend([record::AUDIO, f64::from(*call), *start as f64, *len as f64]);
            }
            Event::Dtmf {
                call,
                digit,
                state,
                duration_ms,
            } => {
                let state = if *state == DtmfState::Start { 1.0 } else { 0.0 };
                let duration = duration_ms.map_or(-1.0, f64::from);
                self.meta.extend([
                    record::DTMF,
                    f64::from(*call),
                    f64::from(*digit),
                    state,
                    duration,
                ]);
            }
            Event::Mark { call, mark } => {
                self.meta
                    .extend([record::MARK, f64::from(*call), f64::from(*mark)]);
            }
            Event::Drain { call } => self.meta.extend([record::DRAIN, f64::from(*call)]),
            Event::Error { call, error } => {
                self.meta.extend([record::ERROR, f64::from(*call)]);
                self.error(error);
            }
            Event::Reject { remote, error } => {
                self.meta.push(record::REJECT);
                self.remote(remote.as_ref());
                self.error(error);
            }
            Event::End {
                call,
                reason,
                error,
                unplayed_ms,
                marks,
                stats,
            } => {
                self.meta
                    .extend([record::END, f64::from(*call), reason_code(*reason)]);
                match error {
                    Some(error) => self.error(error),
                    None => self.meta.extend([-1.0, -1.0]),
                }
                self.meta.extend([
                    *unplayed_ms,
                    stats.frames_in as f64,
                    stats.frames_out as f64,
                    stats.silence_frames_out as f64,
                    stats.underruns as f64,
                    stats.queued_ms,
                    stats.max_lateness_ms,
                    stats.frames_dropped as f64,
                    stats.inbound_dropped as f64,
                    stats.latency_dropped_ms,
                    marks.len() as f64,
                ]);
                for mark in marks {
                    self.meta.extend([f64::from(mark.mark), mark.ahead_ms]);
                }
            }
            Event::Closed => self.meta.push(record::CLOSED),
        }
    }
}
