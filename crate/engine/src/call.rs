//! The part of a call that the application drives from its own thread while the engine's
//! thread plays it out: the playout queue, the counters, and a hang-up request. One mutex per
//! call, held for microseconds by either side, never across I/O.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::config::EngineConfig;
use crate::error::{Code, EngineError};
use crate::events::{CallHandle, ClearResult, EndReason};
use crate::format::AppFormat;
use crate::playout::Playout;

/// Counters of a call (contract.ts `CallStats`).
#[derive(Clone, Copy, PartialEq, Debug, Default)]
pub struct CallStats {
    /// Audio frames received from Asterisk.
    pub frames_in: u64,
    /// Frames sent, audio and idle silence.
    pub frames_out: u64,
    /// Of `frames_out`, frames of silence sent while idle or paused.
    pub silence_frames_out: u64,
    /// Ticks on which playout ran dry without a mark ending it.
    pub underruns: u64,
    /// Audio queued for playout, ms.
    pub queued_ms: f64,
    /// Largest lateness of a clock tick against its deadline, ms.
    pub max_lateness_ms: f64,
    /// Frames not written because Asterisk stopped reading.
    pub frames_dropped: u64,
    /// Caller audio frames dropped because the application did not take them in time (more
    /// than `inbound_queue_frames` waiting).
    pub inbound_dropped: u64,
    /// Audio dropped from the playout queue by `max_latency_ms`, ms.
    pub latency_dropped_ms: f64,
}

/// A hang-up the application asked for, waiting for the engine's thread to send 0x00.
#[derive(Clone, Debug)]
pub struct HangupRequest {
    /// Why (`local-hangup`, or `error` for a failed handler).
    pub reason: EndReason,
    /// What was queued when the request was made: that moment, not the thread's next turn,
    /// is when the call stopped playing.
    pub unplayed: ClearResult,
    /// The counters at that moment.
    pub stats: CallStats,
}

/// What both threads touch, under the call's mutex.
#[derive(Debug)]
pub struct CallState {
    /// The outbound queue.
    pub playout: Playout,
    /// Counters except `frames_in` (an atomic of its own, bumped per inbound frame).
    pub stats: CallStats,
    /// The call has ended or is ending: no more audio, no more operations.
    pub ended: bool,
    /// Set by [`SharedCall::request_hangup`], taken by the engine's thread.
    pub hangup: Option<HangupRequest>,
    /// What the application reads and writes on this call.
    pub format: AppFormat,
}

/// A call as seen from both threads.
#[derive(Debug)]
pub struct SharedCall {
    /// The call's handle.
    pub handle: CallHandle,
    /// The engine thread's key for the connection that carries the call.
    pub(crate) token: usize,
    /// The beat of the period its frames leave on (see clock.rs).
    pub(crate) beat: usize,
    state: Mutex<CallState>,
    /// Frames received, counted by the engine's thread.
    frames_in: AtomicU64,
    /// Of those, frames whose events the application has taken: what stats() reports, so
    /// that a count read by the application never runs ahead of the audio it was handed.
    frames_in_taken: AtomicU64,
    /// Of those, frames dropped because too many waited for the application.
    inbound_dropped: AtomicU64,
    /// Mirrors `CallState::ended`, so the receive path can drop audio without the mutex.
    ended: AtomicBool,
    /// The application has seen the call and settled its format: caller audio may flow.
    opened: AtomicBool,
}

impl SharedCall {
    pub(crate) fn new(
        handle: CallHandle,
        token: usize,
        beat: usize,
        config: &EngineConfig,
    ) -> SharedCall {
        SharedCall {
            handle,
            token,
            beat,
            state: Mutex::new(CallState {
                playout: Playout::new(config),
                stats: CallStats::default(),
                ended: false,
                hangup: None,
                format: config.app_format(),
            }),
            frames_in: AtomicU64::new(0),
            frames_in_taken: AtomicU64::new(0),
            inbound_dropped: AtomicU64::new(0),
            ended: AtomicBool::new(false),
            opened: AtomicBool::new(false),
        }
    }

    /// Locks the call's state. A panic elsewhere never poisons a call for good: the state is
    /// plain counters and a queue, valid between any two statements.
    pub fn lock(&self) -> MutexGuard<'_, CallState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the state of a call that has not ended.
    ///
    /// # Errors
    ///
    /// `CALL_ENDED` once the call has ended or a hang-up was requested.
    pub fn live(&self) -> Result<MutexGuard<'_, CallState>, EngineError> {
        let state = self.lock();
        if state.ended {
            return Err(call_ended(self.handle));
        }
        Ok(state)
    }

    /// Whether the call has ended (or is ending); cheap, for the receive path.
    pub fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Lets caller audio flow to the application, in `format` (`None`: the server's). Until
    /// then the engine holds what arrives, so that no frame is ever converted to a format the
    /// application did not ask for.
    ///
    /// # Errors
    ///
    /// `CALL_ENDED`; `INVALID_ARGUMENT` when the call was opened already, or for a format no
    /// call can have (also `BAD_SAMPLE_RATE`).
    pub fn open(
        &self,
        format: Option<AppFormat>,
        config: &EngineConfig,
    ) -> Result<(), EngineError> {
        let mut state = self.live()?;
        if self.is_opened() {
            let message = format!("call {} is open already", self.handle);
            return Err(EngineError::new(Code::InvalidArgument, message));
        }
        if let Some(format) = format {
            state.playout = Playout::new(&config.with_app_format(format)?);
            state.format = format;
        }
        self.opened.store(true, Ordering::Release);
        Ok(())
    }

    /// Whether [`SharedCall::open`] has happened.
    pub fn is_opened(&self) -> bool {
        self.opened.load(Ordering::Acquire)
    }

    /// Counts a frame received; returns the count.
    pub(crate) fn count_frame_in(&self) -> u64 {
        self.frames_in.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The application has taken the events of the first `frames` frames received.
    pub(crate) fn frames_in_taken(&self, frames: u64) {
        self.frames_in_taken.store(frames, Ordering::Relaxed);
    }

    /// Of the first `received` frames, how many the application has not taken yet.
    pub(crate) fn frames_waiting(&self, received: u64) -> u64 {
        received.saturating_sub(self.frames_in_taken.load(Ordering::Relaxed))
    }

    /// Counts a frame of caller audio dropped before the application took it.
    pub(crate) fn count_inbound_dropped(&self) {
        self.inbound_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// The call's counters now, `frames_in` as far as the application has taken events; once
    /// the call has ended, its final counters (the application may ask before it has taken the
    /// end: [`crate::server::Server::stats`] answers until then).
    pub fn stats(&self) -> CallStats {
        let state = self.lock();
        CallStats {
            frames_in: self.frames_in_taken.load(Ordering::Relaxed),
            ..self.stats_of(&state)
        }
    }

    /// The counters, from the state under its lock.
    pub(crate) fn stats_of(&self, state: &CallState) -> CallStats {
        CallStats {
            frames_in: self.frames_in.load(Ordering::Relaxed),
            inbound_dropped: self.inbound_dropped.load(Ordering::Relaxed),
            underruns: state.playout.underruns(),
            queued_ms: state.playout.queued_ms(),
            latency_dropped_ms: state.playout.latency_dropped_ms(),
            ..state.stats
        }
    }

    /// Ends the call's playout now and records why; the engine's thread sends 0x00 and reports
    /// the end. Returns false when the call had already ended.
    pub fn request_hangup(&self, reason: EndReason) -> bool {
        let mut state = self.lock();
        if state.ended {
            return false;
        }
        let stats = self.stats_of(&state);
        let unplayed = state.playout.clear();
        state.hangup = Some(HangupRequest {
            reason,
            unplayed,
            stats,
        });
        self.mark_ended(&mut state);
        true
    }

    /// Marks the call ended, under its lock.
    pub(crate) fn mark_ended(&self, state: &mut CallState) {
        state.ended = true;
        self.ended.store(true, Ordering::Release);
    }
}

/// The error for an operation on a call that is gone.
#[must_use]
pub fn call_ended(handle: CallHandle) -> EngineError {
    EngineError::new(Code::CallEnded, format!("call {handle} has ended"))
}
