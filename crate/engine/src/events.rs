//! What the engine reports to the application, and how it gets there: events are collected
//! into a [`Batch`] and posted to an [`Outbox`], which wakes the consumer once per batch (not
//! once per event) through a [`Notify`]. The consumer takes everything posted so far in one
//! go. With Node.js that is one crossing into JavaScript per 5 ms beat, for every call.

use std::mem;
use std::net::SocketAddr;
use std::sync::Mutex;

use std::sync::Arc;

use crate::call::{CallStats, SharedCall};
use crate::error::EngineError;
use crate::protocol::{CallId, DtmfState, Kind};

/// The engine's number for a call, unique for the life of a server.
pub type CallHandle = u32;

/// How a call ended (contract.ts `EndReason`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EndReason {
    /// Asterisk sent 0x00 or closed the connection.
    RemoteHangup,
    /// The application hung up.
    LocalHangup,
    /// A protocol or socket error, or a handler that threw.
    Error,
    /// No UUID in time (connections that never became calls).
    Timeout,
    /// The server closed.
    ServerClose,
}

impl EndReason {
    /// The string the contract uses.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            EndReason::RemoteHangup => "remote-hangup",
            EndReason::LocalHangup => "local-hangup",
            EndReason::Error => "error",
            EndReason::Timeout => "timeout",
            EndReason::ServerClose => "server-close",
        }
    }
}

/// A mark that was queued but never reached.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct CancelledMark {
    /// The mark's number, as given to `mark()`.
    pub mark: u32,
    /// Queued audio ahead of the mark when it was cancelled, ms.
    pub ahead_ms: f64,
}

/// What `clear()` dropped.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct ClearResult {
    /// Queued audio dropped, ms.
    pub cleared_ms: f64,
    /// Marks in the dropped audio, in queue order.
    pub marks: Vec<CancelledMark>,
}

/// One thing that happened (contract.ts `EngineEvent`).
#[derive(Clone, PartialEq, Debug)]
pub enum Event {
    /// A connection sent its UUID and became a call.
    Call {
        /// The new call's handle.
        call: CallHandle,
        /// The UUID it announced.
        id: CallId,
        /// The peer.
        remote: SocketAddr,
        /// The kind of the frames sent (every call of a server sends the same).
        wire: Kind,
    },
    /// One frame of caller audio: `len` samples from `start` in the batch's `pcm`.
    Audio {
        /// The call it came on.
        call: CallHandle,
        /// First sample in [`Batch::pcm`].
        start: usize,
        /// Samples.
        len: usize,
    },
    /// A DTMF digit.
    Dtmf {
        /// The call it came on.
        call: CallHandle,
        /// ASCII `0-9 * # A-D`.
        digit: u8,
        /// `End` for Asterisk's 0x03; the fork's 0x02 also reports `Start`.
        state: DtmfState,
        /// Fork DTMF only, ms.
        duration_ms: Option<u32>,
    },
    /// Playout reached a mark.
    Mark {
        /// The call.
        call: CallHandle,
        /// The mark's number.
        mark: u32,
    },
    /// The queue fell to low water after a write went above high water.
    Drain {
        /// The call.
        call: CallHandle,
    },
    /// A problem on a call that does not end it.
    Error {
        /// The call.
        call: CallHandle,
        /// What happened.
        error: EngineError,
    },
    /// A connection refused or failed before it became a call.
    Reject {
        /// The peer; `None` when accept() itself failed (out of file descriptors...).
        remote: Option<SocketAddr>,
        /// Why.
        error: EngineError,
    },
    /// A call ended; the last event of that call.
    End {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: EndReason,
        /// Set when the engine ended the call on an error.
        error: Option<EngineError>,
        /// Audio queued but never played, ms.
        unplayed_ms: f64,
        /// Marks that will never be reached.
        marks: Vec<CancelledMark>,
        /// The call's final counters (`queued_ms` is what was left unplayed).
        stats: CallStats,
    },
    /// The server has stopped: every connection is closed and its thread is ending. Last event.
    Closed,
}

/// Events in order, and the caller audio they refer to in one contiguous buffer.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// Events, in the order they happened.
    pub events: Vec<Event>,
    /// The samples of every [`Event::Audio`] of the batch, back to back.
    pub pcm: Vec<i16>,
    /// Frames received per call up to this batch, published when the batch is taken.
    pub(crate) frames_in: Vec<(Arc<SharedCall>, u64)>,
}

impl Batch {
    /// Whether nothing is in the batch.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.frames_in.is_empty()
    }

    /// Adds a frame of caller audio: `append` appends its samples to the batch's `pcm` and
    /// returns how many. A frame of no samples (a resampler still filling) is no event.
    pub fn push_audio(&mut self, call: CallHandle, append: impl FnOnce(&mut Vec<i16>) -> usize) {
        let start = self.pcm.len();
        let len = append(&mut self.pcm);
        if len > 0 {
            self.events.push(Event::Audio { call, start, len });
        }
    }

    /// Records that `call` has received `frames` frames so far.
    pub(crate) fn count_frames_in(&mut self, call: &Arc<SharedCall>, frames: u64) {
        match self.frames_in.last_mut() {
            Some((last, count)) if Arc::ptr_eq(last, call) => *count = frames,
            _ => self.frames_in.push((call.clone(), frames)),
        }
    }

    /// Publishes the frame counts of the batch: its events are now the application's.
    pub(crate) fn publish_frames_in(&mut self) {
        for (call, frames) in self.frames_in.drain(..) {
            call.frames_in_taken(frames);
        }
    }

    /// Empties the batch, keeping its capacity.
    pub fn clear(&mut self) {
        self.events.clear();
        self.pcm.clear();
        self.frames_in.clear();
    }

    /// Moves every event of `other` to the end of this batch, leaving `other` empty.
    fn append(&mut self, other: &mut Batch) {
        if self.is_empty() {
            // The common case: hand the buffers over instead of copying them.
            mem::swap(self, other);
            other.clear();
            return;
        }
        let offset = self.pcm.len();
        self.pcm.append(&mut other.pcm);
        self.frames_in.append(&mut other.frames_in);
        self.events
            .extend(other.events.drain(..).map(|event| match event {
                Event::Audio { call, start, len } => Event::Audio {
                    call,
                    start: start + offset,
                    len,
                },
                event => event,
            }));
    }
}

/// Told when an outbox that was empty (or already taken) receives events.
pub trait Notify: Send + Sync {
    /// Schedule one [`Outbox::take`]. Called once per batch, from the engine's thread.
    fn notify(&self);
}

struct Pending {
    batch: Batch,
    /// A notification is out and its take() has not happened yet.
    scheduled: bool,
}

/// Where the engine leaves events for the application; see the module docs.
pub struct Outbox {
    pending: Mutex<Pending>,
    notify: Box<dyn Notify>,
}

impl Outbox {
    /// An empty outbox that calls `notify` when events wait.
    #[must_use]
    pub fn new(notify: Box<dyn Notify>) -> Outbox {
        Outbox {
            pending: Mutex::new(Pending {
                batch: Batch::default(),
                scheduled: false,
            }),
            notify,
        }
    }

    /// Moves the events of `batch` into the outbox (leaving it empty, capacity recycled) and
    /// notifies unless a notification is already out.
    pub fn post(&self, batch: &mut Batch) {
        if batch.is_empty() {
            return;
        }
        let notify = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.batch.append(batch);
            !mem::replace(&mut pending.scheduled, true)
        };
        if notify {
            self.notify.notify();
        }
    }

    /// Takes every event posted so far into `into` (which must be empty; its buffers are
    /// recycled), and re-arms the notification.
    pub fn take(&self, into: &mut Batch) {
        into.clear();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        mem::swap(&mut pending.batch, into);
        pending.scheduled = false;
        drop(pending);
        into.publish_frames_in();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    struct Count(Arc<AtomicUsize>);

    impl Notify for Count {
        fn notify(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn one_notification_per_batch_taken_and_audio_offsets_follow_appends() {
        let count = Arc::new(AtomicUsize::new(0));
        let outbox = Outbox::new(Box::new(Count(count.clone())));
        let mut local = Batch::default();
        let samples = |pcm: &[i16]| {
            let pcm = pcm.to_vec();
            move |out: &mut Vec<i16>| {
                out.extend(&pcm);
                pcm.len()
            }
        };
        local.push_audio(1, samples(&[1, 2]));
        outbox.post(&mut local);
        assert!(local.is_empty());
        local.push_audio(2, samples(&[3, 4]));
        local.push_audio(3, samples(&[]));
        outbox.post(&mut local);
        assert_eq!(count.load(Ordering::SeqCst), 1);

        let mut taken = Batch::default();
        outbox.take(&mut taken);
        assert_eq!(taken.pcm, [1, 2, 3, 4]);
        assert_eq!(
            taken.events,
            [
                Event::Audio {
                    call: 1,
                    start: 0,
                    len: 2
                },
                Event::Audio {
                    call: 2,
                    start: 2,
                    len: 2
                }
            ]
        );
        local.events.push(Event::Closed);
        outbox.post(&mut local);
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }
}
