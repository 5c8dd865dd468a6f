//! One AudioSocket connection on the engine's thread: handshake, then a call. The twin of
//! src/engine/js/connection.ts, with the same states, error codes and warn/fatal policy.
//!
//! Reads are never paused (Asterisk must always be drained, whatever the application does);
//! every message out is one `write()` of one contiguous buffer, and a partial write is finished
//! before any later byte, so framing survives a peer that reads slowly.

use std::io::{self, Read, Write};
use std::mem;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use crate::call::SharedCall;
use crate::error::{Code, EngineError};
use crate::events::{Batch, CallHandle, EndReason, Event};
use crate::format::{Inbound, OutFrame, Wire};
use crate::playout::FrameKind;
use crate::protocol::{CallId, Decoder, DtmfState, Kind, Message, HEADER_LEN};
use crate::server::Shared;
use crate::wire_detect::G711Detector;

/// Bytes Asterisk may leave unread in our send buffer before frames are dropped instead
/// (~1 s at 48 kHz), as in the TypeScript engine.
pub const MAX_UNSENT_BYTES: usize = 128 * 1024;

/// After our 0x00, how long the peer has to close before the socket is dropped.
pub const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How every AudioSocket connection opens: a UUID message announcing 16 bytes.
const UUID_HEADER: [u8; HEADER_LEN] = [0x01, 0x00, 0x10];

/// The hangup message.
const HANGUP: [u8; HEADER_LEN] = [0x00, 0x00, 0x00];

/// Send-buffer capacity kept once emptied; more is given back (only slow readers grow it).
const RETAINED_UNSENT: usize = 16 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Waiting for the UUID.
    Handshake,
    /// A call: audio both ways.
    Active,
    /// 0x00 sent or received: waiting for the socket to close.
    Closing,
}

/// What a connection needs from its engine thread (the `ConnectionHost` of connection.ts):
/// the shared state, the batch events go into, the time of this turn of the loop, the
/// numbering of calls, and a buffer for decoding caller audio.
pub(crate) struct Host {
    pub shared: Arc<Shared>,
    pub batch: Batch,
    /// When this turn of the loop started.
    pub now: Instant,
    pub next_handle: CallHandle,
    /// Caller audio decoded from the wire, before conversion; shared by every connection.
    pub scratch: Vec<i16>,
}

impl Host {
    /// Posts the events so far before a socket is answered or closed: the application's
    /// notification then comes first, and it learns why a connection was refused before the
    /// peer sees the close (the order the TypeScript engine gives).
    pub fn post_before_socket(&mut self) {
        self.shared.outbox.post(&mut self.batch);
    }
}

/// The engine thread's side of one connection.
pub(crate) struct Connection {
    token: usize,
    /// The beat of the period it is ticked on (see clock.rs).
    pub beat: usize,
    socket: TcpStream,
    remote: SocketAddr,
    phase: Phase,
    /// End of the handshake, or of the close grace.
    deadline: Instant,
    /// Bytes of the opening `01 00 10` checked so far.
    opening: usize,
    decoder: Decoder,
    call: Option<Arc<SharedCall>>,
    /// Caller audio to the app format, once a call.
    inbound: Option<Inbound>,
    /// With `wire: 'auto'`, once a call: watches for G.711 labelled 0x10.
    detector: Option<G711Detector>,
    /// Caller audio that arrived before the application opened the call (so its format was not
    /// settled yet): each frame's kind and its bytes in `held_bytes`.
    held: Vec<(Kind, std::ops::Range<usize>)>,
    held_bytes: Vec<u8>,
    /// More arrived before the open than may be held: told once.
    held_overflowing: bool,
    /// The call has been opened and `inbound` converts to its format.
    opened: bool,
    /// Caller audio is being dropped because the application is not taking it: the
    /// application was told when this began and is not told again until it ends.
    inbound_overflowing: bool,
    /// Frames are being dropped because the peer is not reading what is sent: the application
    /// was told when this began and is not told again until a frame goes out.
    outbound_overflowing: bool,
    /// Bytes accepted for sending that the socket has not taken yet, oldest first.
    unsent: Vec<u8>,
    /// Send FIN once `unsent` is empty.
    shutdown_pending: bool,
    read_closed: bool,
    write_closed: bool,
    /// server.close() with a drain time: hang up once the queue has played out.
    draining: bool,
    /// Counts toward maxCalls (false for a connection refused for being over it).
    pub counted: bool,
    /// The socket is finished with: release it.
    pub dead: bool,
}

impl Connection {
    /// A new connection, ticked on `beat`, waiting for its UUID until
    /// `now + handshakeTimeoutMs`.
    pub fn new(
        token: usize,
        beat: usize,
        socket: TcpStream,
        remote: SocketAddr,
        ctx: &Host,
    ) -> Connection {
        let config = &ctx.shared.config;
        Connection {
            token,
            beat,
            socket,
            remote,
            phase: Phase::Handshake,
            deadline: ctx.now + Duration::from_millis(config.handshake_timeout_ms.into()),
            opening: 0,
            decoder: Decoder::with_max_payload(config.max_payload as usize),
            call: None,
            inbound: None,
            detector: None,
            held: Vec::new(),
            held_bytes: Vec::new(),
            held_overflowing: false,
            opened: false,
            inbound_overflowing: false,
            outbound_overflowing: false,
            unsent: Vec::new(),
            shutdown_pending: false,
            read_closed: false,
            write_closed: false,
            draining: false,
            counted: true,
            dead: false,
        }
    }

    /// A connection over maxCalls: 0x00 at once (Asterisk 20.14+ continues the dialplan, so the
    /// caller is not left in silence), then read and discard until the peer closes, for at most
    /// handshakeTimeoutMs.
    pub fn refuse(mut self, ctx: &mut Host) -> Connection {
        let max_calls = ctx.shared.config.max_calls;
        self.counted = false;
        self.phase = Phase::Closing;
        ctx.batch.events.push(Event::Reject {
            remote: Some(self.remote),
            error: EngineError::new(Code::MaxCalls, format!("maxCalls ({max_calls}) reached")),
        });
        ctx.post_before_socket();
        self.send_or_fail(&HANGUP, ctx);
        self.shutdown_after_flush(ctx);
        self
    }

    /// The call this connection carries, once the UUID has arrived.
    pub fn call(&self) -> Option<&Arc<SharedCall>> {
        self.call.as_ref()
    }

    fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Handshake | Phase::Active)
    }

    // Socket events.

    /// Reads everything available. `hup` says the peer's close (or an error) is pending, so
    /// reading goes on to the end of the stream even after a short read.
    pub fn on_readable(&mut self, buf: &mut [u8], hup: bool, ctx: &mut Host) {
        while !self.dead && !self.read_closed {
            match self.socket.read(buf) {
                Ok(0) => return self.on_eof(ctx),
                Ok(n) => {
                    self.on_bytes(&buf[..n], ctx);
                    // A short read emptied the socket; new data will raise a new edge.
                    if n < buf.len() && !hup {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.on_error(&e, ctx),
            }
        }
    }

    /// The socket can take more: finish what is unsent.
    pub fn on_writable(&mut self, ctx: &mut Host) {
        if let Err(e) = self.flush() {
            self.on_error(&e, ctx);
        }
        self.settle_close();
    }

    fn on_bytes(&mut self, chunk: &[u8], ctx: &mut Host) {
        if !self.is_open() {
            return; // after our 0x00: keep reading so the close is clean, ignore the rest
        }
        if self.phase == Phase::Handshake && !self.check_opening(chunk, ctx) {
            return;
        }
        let mut decoder = mem::take(&mut self.decoder);
        let result = decoder.feed(chunk, |message| self.on_message(message, ctx));
        self.decoder = decoder;
        if let Err(error) = result {
            self.fail(error.into(), ctx);
        }
    }

    /// The peer half-closed: it sends nothing more. End the call and finish our side.
    fn on_eof(&mut self, ctx: &mut Host) {
        self.read_closed = true;
        match self.phase {
            Phase::Handshake => {
                let error = EngineError::new(
                    Code::NoUuid,
                    "the peer closed the connection before sending a UUID",
                );
                return self.reject(error, false, ctx);
            }
            Phase::Active => {
                let buffered = self.decoder.buffered();
                if buffered > 0 {
                    let message = format!(
                        "the connection closed inside a message ({buffered} bytes of it received)"
                    );
                    self.warn(EngineError::new(Code::Truncated, message), ctx);
                }
                self.phase = Phase::Closing;
                self.deadline = ctx.now + CLOSE_GRACE;
                self.end(EndReason::RemoteHangup, None, ctx);
            }
            Phase::Closing => {}
        }
        self.shutdown_after_flush(ctx);
    }

    /// The socket failed (reset, broken pipe): the call ends with a SOCKET error, the socket goes.
    fn on_error(&mut self, cause: &io::Error, ctx: &mut Host) {
        let error = EngineError::new(Code::Socket, format!("socket error: {cause}"));
        match self.phase {
            Phase::Handshake => self.reject(error, false, ctx),
            Phase::Active => {
                self.phase = Phase::Closing;
                self.end(EndReason::Error, Some(error), ctx);
            }
            Phase::Closing => {}
        }
        self.dead = true;
    }

    // Messages.

    /// Judges the first bytes before anything is buffered: Asterisk always opens with exactly
    /// `01 00 10`, so a peer that does not (an HTTP probe, a port scanner) is turned away at once
    /// instead of being waited on for a payload its garbage "header" announced.
    fn check_opening(&mut self, chunk: &[u8], ctx: &mut Host) -> bool {
        for &byte in chunk.iter().take(HEADER_LEN - self.opening) {
            if byte != UUID_HEADER[self.opening] {
                let error = if self.opening == 0 {
                    EngineError::new(
                        Code::NoUuid,
                        format!("the first message is of kind 0x{byte:02x}, not a UUID"),
                    )
                } else {
                    EngineError::new(Code::BadUuid, "the UUID message does not announce 16 bytes")
                };
                self.reject(error, true, ctx);
                return false;
            }
            self.opening += 1;
        }
        true
    }

    fn on_message(&mut self, message: Message<'_>, ctx: &mut Host) {
        match self.phase {
            Phase::Handshake => return self.handshake(message, ctx),
            Phase::Active => {}
            Phase::Closing => return,
        }
        let Some(call) = self.call.clone() else {
            return;
        };
        if call.has_ended() {
            return; // the application hung up; the engine thread has not sent 0x00 yet
        }
        let handle = call.handle;
        match message {
            Message::Audio { kind, payload, .. } => self.audio(&call, kind, payload, ctx),
            Message::Dtmf { digit, fork, .. } => ctx.batch.events.push(Event::Dtmf {
                call: handle,
                digit,
                state: fork.map_or(DtmfState::End, |f| f.state),
                duration_ms: fork.map(|f| f.duration_ms),
            }),
            Message::Hangup { .. } => {
                self.phase = Phase::Closing;
                self.deadline = ctx.now + CLOSE_GRACE;
                self.shutdown_after_flush(ctx);
                self.end(EndReason::RemoteHangup, None, ctx);
            }
            Message::Silence => {}
            Message::Invalid {
                kind,
                payload,
                error,
            } => {
                let message = format!(
                    "malformed message of kind 0x{:02x} ({} bytes)",
                    kind.0,
                    payload.len()
                );
                self.warn(EngineError::new(error.into(), message), ctx);
            }
            Message::Uuid(id) => {
                let message = format!("a second UUID ({id}) on call {handle}");
                self.warn(EngineError::new(Code::UnexpectedMessage, message), ctx);
            }
            Message::Error { code, .. } => {
                let code = code.map_or_else(|| "undefined".to_owned(), |c| c.to_string());
                let message = format!("the peer sent an error message (code {code})");
                self.warn(EngineError::new(Code::UnexpectedMessage, message), ctx);
            }
            Message::Unknown { kind, .. } => {
                let message = format!("unknown message kind 0x{:02x}", kind.0);
                self.warn(EngineError::new(Code::UnexpectedMessage, message), ctx);
            }
        }
    }

    fn handshake(&mut self, message: Message<'_>, ctx: &mut Host) {
        match message {
            Message::Uuid(id) => self.become_call(id, ctx),
            Message::Invalid { kind, payload, .. } if kind == Kind::UUID => {
                let message = format!("a UUID message of {} bytes (16 expected)", payload.len());
                self.reject(EngineError::new(Code::BadUuid, message), true, ctx);
            }
            message => {
                let message = format!(
                    "the first message was of kind 0x{:02x}, not a UUID",
                    message.kind().0
                );
                self.reject(EngineError::new(Code::NoUuid, message), true, ctx);
            }
        }
    }

    fn become_call(&mut self, id: CallId, ctx: &mut Host) {
        let handle = ctx.next_handle;
        ctx.next_handle = handle.wrapping_add(1);
        let config = &ctx.shared.config;
        let call = Arc::new(SharedCall::new(handle, self.token, self.beat, config));
        self.inbound = Some(Inbound::new(
            config.wire,
            config.sample_rate,
            config.channels,
        ));
        self.detector = (config.wire == Wire::Auto).then(G711Detector::default);
        ctx.shared.register(call.clone());
        self.call = Some(call);
        self.phase = Phase::Active;
        ctx.batch.events.push(Event::Call {
            call: handle,
            id,
            remote: self.remote,
            wire: ctx.shared.config.frame_kind(),
        });
    }

    fn audio(&mut self, call: &Arc<SharedCall>, kind: Kind, payload: &[u8], ctx: &mut Host) {
        let frames = call.count_frame_in();
        ctx.batch.count_frames_in(call, frames);
        let detected = self
            .detector
            .as_mut()
            .and_then(|detector| detector.frame(kind, payload.len(), ctx.now));
        if let Some(warning) = detected {
            self.warn(warning, ctx);
        }
        if payload.is_empty() {
            let error = EngineError::new(Code::EmptyAudio, "zero-length audio frame ignored");
            return self.warn(error, ctx);
        }
        let g711 = self
            .inbound
            .as_ref()
            .is_some_and(|inbound| inbound.law_of(kind).is_some());
        if !g711 && !payload.len().is_multiple_of(2) {
            let message = format!(
                "audio frame of {} bytes: the last byte is dropped",
                payload.len()
            );
            self.warn(EngineError::new(Code::OddAudio, message), ctx);
            if payload.len() == 1 {
                return;
            }
        }
        if self.over_inbound_queue(call, frames, ctx) {
            return;
        }
        if !self.open_if_opened(call, ctx) {
            return self.hold(call, kind, payload, ctx);
        }
        self.deliver(call.handle, kind, payload, ctx);
    }

    /// Converts one frame of caller audio to the call's format and adds it to the batch.
    fn deliver(&mut self, handle: CallHandle, kind: Kind, payload: &[u8], ctx: &mut Host) {
        let Some(inbound) = self.inbound.as_mut() else {
            return;
        };
        let scratch = &mut ctx.scratch;
        ctx.batch
            .push_audio(handle, |pcm| inbound.convert(kind, payload, scratch, pcm));
    }

    /// Whether caller audio may flow: once the application has opened the call, converts to its
    /// format from then on and delivers what was held meanwhile.
    fn open_if_opened(&mut self, call: &SharedCall, ctx: &mut Host) -> bool {
        if self.opened {
            return true;
        }
        if !call.is_opened() {
            return false;
        }
        self.opened = true;
        let format = call.lock().format;
        if format != ctx.shared.config.app_format() {
            let wire = ctx.shared.config.wire;
            self.inbound = Some(Inbound::new(wire, format.sample_rate, format.channels));
        }
        let held = mem::take(&mut self.held);
        let bytes = mem::take(&mut self.held_bytes);
        for (kind, range) in held {
            self.deliver(call.handle, kind, &bytes[range], ctx);
        }
        true
    }

    /// Keeps a frame that arrived before the call was opened; no more than the backlog allows
    /// (the facade opens every call as soon as it sees it, so this is a few frames at most).
    fn hold(&mut self, call: &SharedCall, kind: Kind, payload: &[u8], ctx: &mut Host) {
        if self.held.len() as u64 >= ctx.shared.config.inbound_backlog_frames() {
            call.count_inbound_dropped();
            if !mem::replace(&mut self.held_overflowing, true) {
                let message = "caller audio arrived before the call was opened, more than inboundBacklogMs of it: newer frames are dropped until it is";
                self.warn(EngineError::new(Code::InboundOverflow, message), ctx);
            }
            return;
        }
        let start = self.held_bytes.len();
        self.held_bytes.extend_from_slice(payload);
        self.held.push((kind, start..self.held_bytes.len()));
    }

    /// Whether the frame numbered `received` must be dropped because `inboundBacklogMs` of
    /// frames already wait for the application, so that a saturated or stalled application
    /// thread costs bounded memory. The newest frame goes rather than the oldest: what waits
    /// stays whole and in order, and the delay is the same either way (the limit). Told once
    /// per episode.
    fn over_inbound_queue(&mut self, call: &SharedCall, received: u64, ctx: &mut Host) -> bool {
        let limit = ctx.shared.config.inbound_backlog_frames();
        if call.frames_waiting(received) <= limit {
            self.inbound_overflowing = false;
            return false;
        }
        call.count_inbound_dropped();
        if !mem::replace(&mut self.inbound_overflowing, true) {
            let message = format!(
                "caller audio arrives faster than the application takes it: over {limit} frames wait, newer frames are dropped until it catches up"
            );
            self.warn(EngineError::new(Code::InboundOverflow, message), ctx);
        }
        true
    }

    /// A problem that does not end the call.
    fn warn(&self, error: EngineError, ctx: &mut Host) {
        if let Some(call) = &self.call {
            ctx.batch.events.push(Event::Error {
                call: call.handle,
                error,
            });
        }
    }

    /// A fatal error: the call (or the would-be call) ends, the peer gets 0x00.
    fn fail(&mut self, error: EngineError, ctx: &mut Host) {
        if self.phase == Phase::Handshake {
            return self.reject(error, true, ctx);
        }
        self.hangup(EndReason::Error, Some(error), ctx);
    }

    fn reject(&mut self, error: EngineError, send_hangup: bool, ctx: &mut Host) {
        if self.phase != Phase::Handshake {
            return;
        }
        ctx.batch.events.push(Event::Reject {
            remote: Some(self.remote),
            error,
        });
        ctx.post_before_socket();
        if send_hangup {
            self.phase = Phase::Closing;
            self.deadline = ctx.now + CLOSE_GRACE;
            self.send_or_fail(&HANGUP, ctx);
            self.shutdown_after_flush(ctx);
        } else {
            self.phase = Phase::Closing;
            self.dead = true;
        }
    }

    // Ending.

    /// Sends 0x00, ends the call with `reason` (unless the application's own hang-up request
    /// says otherwise), and closes the socket once the peer has.
    pub fn hangup(&mut self, reason: EndReason, error: Option<EngineError>, ctx: &mut Host) {
        if !self.is_open() {
            return;
        }
        let was_call = self.phase == Phase::Active;
        self.phase = Phase::Closing;
        self.deadline = ctx.now + CLOSE_GRACE;
        self.send_or_fail(&HANGUP, ctx);
        self.shutdown_after_flush(ctx);
        if was_call {
            self.end(reason, error, ctx);
        }
    }

    /// Hang up once the queue has played out (server.close with drainMs).
    pub fn drain(&mut self, ctx: &mut Host) {
        if self.phase == Phase::Handshake {
            self.hangup(EndReason::ServerClose, None, ctx);
        }
        self.draining = true;
    }

    /// Reports the end of the call, once. An application hang-up requested before wins: its
    /// reason and the audio that was queued at that moment are what is reported.
    fn end(&mut self, reason: EndReason, error: Option<EngineError>, ctx: &mut Host) {
        let Some(call) = &self.call else { return };
        let mut state = call.lock();
        let (reason, error, unplayed, stats) = match state.hangup.take() {
            Some(request) => (request.reason, None, request.unplayed, request.stats),
            None if state.ended => return,
            None => {
                let stats = call.stats_of(&state);
                (reason, error, state.playout.clear(), stats)
            }
        };
        call.mark_ended(&mut state);
        // Marks whose audio is all out but that no tick has reported yet (a mark on an empty
        // queue, or while paused): reported now, or they would never be.
        let mut reached = Vec::new();
        state.playout.take_reached_marks(&mut reached);
        drop(state);
        let handle = call.handle;
        ctx.batch.events.extend(
            reached
                .into_iter()
                .map(|mark| Event::Mark { call: handle, mark }),
        );
        ctx.batch.events.push(Event::End {
            call: call.handle,
            reason,
            error,
            unplayed_ms: unplayed.cleared_ms,
            marks: unplayed.marks,
            stats,
        });
    }

    // Ticks.

    /// One clock tick: deadlines, then this call's frame, built in `frame`.
    pub fn tick(
        &mut self,
        tick: u64,
        late_ms: f64,
        frame: &mut OutFrame,
        marks: &mut Vec<u32>,
        ctx: &mut Host,
    ) {
        match self.phase {
            Phase::Handshake if ctx.now >= self.deadline => {
                let ms = ctx.shared.config.handshake_timeout_ms;
                let error =
                    EngineError::new(Code::HandshakeTimeout, format!("no UUID within {ms} ms"));
                self.reject(error, true, ctx);
            }
            Phase::Closing if ctx.now >= self.deadline => self.dead = true,
            Phase::Active => {
                // Held audio goes out as soon as the call is opened, not with the next arrival.
                if let Some(call) = self.call.clone() {
                    self.open_if_opened(&call, ctx);
                }
                self.play(tick, late_ms, frame, marks, ctx);
            }
            Phase::Handshake | Phase::Closing => {}
        }
    }

    fn play(
        &mut self,
        tick: u64,
        late_ms: f64,
        frame: &mut OutFrame,
        marks: &mut Vec<u32>,
        ctx: &mut Host,
    ) {
        let Some(call) = self.call.clone() else {
            return;
        };
        // Decided before the frame is taken, so that the counters and the queue agree exactly
        // for anyone who reads them between two ticks.
        let dropped = self.unsent.len() > MAX_UNSENT_BYTES;
        let mut state = call.lock();
        if state.ended {
            return; // a hang-up request waits for this thread: nothing more is sent
        }
        if late_ms > state.stats.max_lateness_ms {
            state.stats.max_lateness_ms = late_ms;
        }
        let kind = state.playout.next_frame(tick, frame.samples_mut(), marks);
        if kind != FrameKind::Nothing {
            if dropped {
                state.stats.frames_dropped += 1;
            } else {
                state.stats.frames_out += 1;
                if kind == FrameKind::Silence {
                    state.stats.silence_frames_out += 1;
                }
            }
        }
        let drain = state.playout.take_drain();
        let played_out = self.draining && state.playout.queued_samples() == 0;
        drop(state);

        // Reported before the frame is written: a write that fails ends the call, and nothing
        // of a call may follow its end.
        let handle = call.handle;
        ctx.batch.events.extend(
            marks
                .drain(..)
                .map(|mark| Event::Mark { call: handle, mark }),
        );
        if drain {
            ctx.batch.events.push(Event::Drain { call: handle });
        }
        if kind != FrameKind::Nothing && !dropped {
            self.outbound_overflowing = false;
            self.send_or_fail(frame.encode(), ctx);
        }
        if kind != FrameKind::Nothing
            && dropped
            && !mem::replace(&mut self.outbound_overflowing, true)
        {
            let message = format!(
                "the peer is not reading: over {MAX_UNSENT_BYTES} bytes unsent, frames are dropped until it reads again (stats().framesDropped)"
            );
            self.warn(EngineError::new(Code::OutboundOverflow, message), ctx);
        }
        if played_out && !self.dead {
            self.hangup(EndReason::ServerClose, None, ctx);
        }
    }

    // Writing.

    /// Sends one whole message, or fails the connection if the socket is broken.
    fn send_or_fail(&mut self, message: &[u8], ctx: &mut Host) {
        if let Err(e) = self.send(message) {
            self.on_error(&e, ctx);
        }
    }

    /// Writes `message` in one write() when nothing is pending; otherwise (or for the part
    /// the socket did not take) queues it behind what is, to go out on the next writable edge.
    fn send(&mut self, message: &[u8]) -> io::Result<()> {
        if self.write_closed || self.shutdown_pending || self.dead {
            return Ok(());
        }
        if !self.unsent.is_empty() {
            self.unsent.extend_from_slice(message);
            return Ok(());
        }
        let written = loop {
            match self.socket.write(message) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.unsent.extend_from_slice(&message[written..]);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        while !self.unsent.is_empty() {
            match self.socket.write(&self.unsent) {
                Ok(n) => {
                    self.unsent.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.unsent.capacity() > RETAINED_UNSENT {
            self.unsent = Vec::new();
        }
        if self.shutdown_pending {
            self.shutdown_pending = false;
            self.write_closed = true;
            // An error here means the peer is already gone: the close completes either way.
            let _ = self.socket.shutdown(Shutdown::Write);
        }
        Ok(())
    }

    /// Sends FIN after whatever is still unsent (like Node's `socket.end()`).
    fn shutdown_after_flush(&mut self, ctx: &mut Host) {
        if !self.write_closed && !self.dead {
            self.shutdown_pending = true;
            if self.unsent.is_empty() {
                if let Err(e) = self.flush() {
                    self.on_error(&e, ctx);
                }
            }
        }
        self.settle_close();
    }

    /// Both directions closed and nothing left to send: the socket can go.
    fn settle_close(&mut self) {
        if self.read_closed && self.write_closed {
            self.dead = true;
        }
    }

    /// Stops at once, for an engine being torn down: a best-effort 0x00 if the peer has not
    /// had one, no events.
    pub fn abort(&mut self) {
        if self.is_open() && self.unsent.is_empty() {
            let _ = self.socket.write(&HANGUP);
        }
        self.dead = true;
    }
}
