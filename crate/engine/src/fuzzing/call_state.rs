//! The `call_state` fuzz target: one [`Connection`] (handshake, call, playout, outbound, close),
//! the engine thread's side of a socket, driven by a script.
//!
//! The connection gets one end of a non-blocking `AF_UNIX` stream pair in place of the TCP
//! socket the event loop accepts (it only ever reads, writes and shuts down its socket, which
//! behave the same on both), so everything runs in one thread, deterministically, at fuzzing
//! speed. The script plays the parts of the event loop (readable and writable edges, clock
//! ticks, commands), of the application (write, mark, clear, pause, resume, hangup, stats,
//! server close) and of Asterisk (bytes in any split, well-formed messages, half-close, close,
//! a peer that stops reading), interleaved as the input says.
//!
//! Input layout: 13 bytes of configuration (2 more for the format the call opens with, if it
//! has one of its own), then operations (one byte of opcode, then its arguments) until the
//! input ends, then a fixed epilogue that plays everything out, hangs up and closes, so that
//! the end-of-call invariants are checked on every input. Past its end, an input reads as
//! zeros. `AUDIOSOCKET_FUZZ_TRACE=1` prints the operations and events as they run.
//!
//! Checked, after every operation and at the end:
//!
//! - no panic;
//! - events in a legal order: at most one `Reject` and only instead of a call, at most one
//!   `Call`, nothing for the call after its `End`, exactly one `End` once a call has ended;
//! - queue accounting: samples written = played + cleared + queued, exactly, where cleared
//!   comes from the `clear()` results and the `End` event's unplayed ms; played never goes
//!   back, moves only on a tick and by at most a frame's worth (plus rounding) per tick;
//!   with `maxLatencyMs`, what the cap dropped is counted apart from what was played;
//!   `queued_ms` never exceeds `maxQueueMs`; a refused write queues nothing;
//! - marks: every mark is reported exactly once, reached (in order) or cancelled (the unreached
//!   tail of the queue, with a positive `ahead_ms` within what was cleared);
//! - drain only once per write that went above high water;
//! - application operations: `CALL_ENDED` exactly when the call has ended, `QUEUE_FULL` only
//!   past `maxQueueMs`, no other error;
//! - the bytes the peer receives: whole messages only, each a frame of the configured kind and
//!   size or a 0x00, the 0x00 at most once and last, nothing cut at the end of the stream, and
//!   as many frames as the call's `frames_out` once the peer has read everything;
//! - liveness: once resumed and ticked long enough, every queued sample is played;
//! - memory (with a heap probe): what the connection holds stays within a bound set by the
//!   configuration (payload limit, send-buffer cap, queue cap), whatever the peer does.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::mem;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Poll, Token, Waker};

use crate::call::SharedCall;
use crate::config::{EngineConfig, Idle};
use crate::connection::{Connection, Host, MAX_UNSENT_BYTES};
use crate::error::{Code, EngineError};
use crate::events::{Batch, CancelledMark, ClearResult, EndReason, Event, Notify};
use crate::format::{AppFormat, OutFrame, Wire, APP_RATES};
use crate::playout::{Playout, FRAME_MS};
use crate::protocol::{is_dtmf_digit, Decoder, Message, HEADER_LEN};
use crate::server::Shared;

use super::{heap, Input};

/// Operations a script may run before the epilogue (a bound on the work per input).
const MAX_OPS: usize = 512;

/// Runs the script of one fuzz input and the checks of the module docs.
///
/// # Panics
///
/// On the first broken invariant, with a message saying which.
pub fn check(data: &[u8]) {
    run(data);
}

fn run(data: &[u8]) -> Harness {
    let mut input = Input::new(data);
    let setup = Setup::read(&mut input);
    let mut harness = Harness::new(setup);
    let mut ops = 0;
    while !input.is_empty() && ops < MAX_OPS {
        harness.op(&mut input);
        ops += 1;
    }
    harness.epilogue();
    harness
}

/// The configuration and the opening of a script.
#[derive(Clone, Debug)]
struct Setup {
    config: EngineConfig,
    /// The connection arrives over maxCalls and is refused.
    refused: bool,
    /// How the application opens the call as soon as it is reported (as the facade does), if
    /// it does.
    open: Option<Option<AppFormat>>,
}

impl Setup {
    fn read(input: &mut Input<'_>) -> Setup {
        let sample_rate = app_rate(input);
        let channels = 1 + u32::from(input.byte() % 2);
        let wire = input.pick(&[Wire::Auto, Wire::Slin, Wire::Ulaw, Wire::Alaw]);
        let output_rate = if wire.law().is_some() {
            input.byte();
            8000
        } else {
            // Mostly what Asterisk sends; the high rates cost a fuzzer most of its speed.
            input.pick(&[
                8000, 8000, 8000, 8000, 16_000, 16_000, 16_000, 12_000, 24_000, 32_000, 44_100,
                48_000, 96_000, 192_000,
            ])
        };
        let prebuffer_ms = u32::from(input.byte() % 121);
        // One byte for two settings, so that the inputs of the corpus keep their meaning.
        let idle_and_cap = input.byte();
        let idle = if idle_and_cap.is_multiple_of(4) {
            Idle::None
        } else {
            Idle::Silence
        };
        let max_latency_ms = (idle_and_cap & 0x30 == 0x30)
            .then(|| prebuffer_ms + FRAME_MS + u32::from(idle_and_cap >> 6) * 30);
        let handshake_timeout_ms = 20 + u32::from(input.byte()) * 10;
        let max_payload = input.pick(&[1, 3, 16, 161, 320, 1024, 8192, 32_768, 65_535]);
        let max_queue_ms = 20 + u32::from(input.byte()) * 2;
        let high_water_ms = max_queue_ms * u32::from(input.byte()) / 255;
        let low_water_ms = high_water_ms * u32::from(input.byte()) / 255;
        let refused = input.byte() == 0xff;
        let config = EngineConfig {
            sample_rate,
            channels,
            wire,
            output_rate,
            prebuffer_ms,
            idle,
            handshake_timeout_ms,
            max_calls: 1,
            max_payload,
            high_water_ms,
            low_water_ms,
            max_queue_ms,
            max_latency_ms,
            ..EngineConfig::default()
        };
        config.validate().expect("the fuzz configuration is valid");
        let open = match input.byte() % 8 {
            0 => None,
            1..=3 => Some(None),
            _ => Some(Some(app_format(input))),
        };
        Setup {
            config,
            refused,
            open,
        }
    }
}

struct NoNotify;

impl Notify for NoNotify {
    fn notify(&self) {}
}

/// An application operation, as [`crate::server::Server`] does it.
#[derive(Clone, Copy, Debug)]
enum AppOp {
    /// What the facade does as soon as it sees a call: lets caller audio flow, in the server's
    /// format or the call's own.
    Open(Option<AppFormat>),
    Write {
        samples: usize,
        seed: u8,
    },
    Mark,
    Clear,
    Pause,
    Resume,
    Hangup,
    Stats,
}

/// What the model knows of the call.
#[derive(Debug, Default)]
struct Model {
    /// The handle of the call, once `Call` was reported.
    handle: Option<u32>,
    call: Option<Arc<SharedCall>>,
    rejected: bool,
    ended: bool,
    /// The `End` event's frames_out, once reported.
    end_frames_out: Option<u64>,
    /// Mono app samples accepted by write().
    written: u64,
    /// Samples dropped by clear() and at the end.
    cleared: u64,
    /// Samples played, as of the last operation.
    played: u64,
    /// Marks queued and not yet reported, in queue order.
    marks: VecDeque<u32>,
    next_mark: u32,
    /// A write went above high water and drain has not been reported since.
    above_high_water: bool,
    /// A hang-up was requested and the engine thread has not run its command yet.
    hangup_command: bool,
    /// What the hang-up request dropped, until the end reports it.
    requested_unplayed: Option<u64>,
}

/// What the peer (Asterisk) has received from the engine.
#[derive(Debug)]
struct PeerInput {
    decoder: Decoder,
    frames: u64,
    hangups: u64,
    /// The engine closed its side: read returned 0.
    eof: bool,
    /// ... by a FIN, which it sends once everything before it has gone out (rather than by
    /// dropping a socket it gave up on, after the close grace).
    clean_eof: bool,
}

struct Harness {
    config: EngineConfig,
    /// Keeps the waker's registration alive.
    _poll: Poll,
    host: Host,
    conn: Option<Connection>,
    /// Asterisk's end of the socket; `None` once it has closed it.
    peer: Option<UnixStream>,
    /// Asterisk has shut down its sending side.
    peer_write_closed: bool,
    /// Asterisk closed its socket at some point (engine writes may fail from then on).
    peer_gone: bool,
    /// The engine's socket failed: what it counted as sent may not have arrived.
    frames_lost: bool,
    peer_in: PeerInput,
    frame: OutFrame,
    frame_samples: usize,
    frame_message_len: usize,
    marks: Vec<u32>,
    read_buf: Vec<u8>,
    tick: u64,
    start: Instant,
    elapsed: Duration,
    model: Model,
    heap_start: Option<usize>,
    heap_bound: usize,
    /// The call's app format: the server's, or its own once opened with one.
    format: AppFormat,
    /// How the call is opened when it is reported.
    open: Option<Option<AppFormat>>,
}

impl Harness {
    fn new(setup: Setup) -> Harness {
        let config = setup.config;
        let poll = Poll::new().expect("epoll");
        let waker = Waker::new(poll.registry(), Token(0)).expect("eventfd");
        let shared = Arc::new(Shared::new(config.clone(), waker, Box::new(NoNotify)));
        let start = Instant::now();
        let mut host = Host {
            shared,
            batch: Batch::default(),
            now: start,
            next_handle: 7,
            scratch: Vec::new(),
        };
        let (engine_side, peer) = UnixStream::pair().expect("socketpair");
        engine_side.set_nonblocking(true).expect("non-blocking");
        peer.set_nonblocking(true).expect("non-blocking");
        // The same calls as on a TCP socket: read, write, shutdown.
        let socket =
            mio::net::TcpStream::from_std(std::net::TcpStream::from(OwnedFd::from(engine_side)));
        let remote: SocketAddr = "192.0.2.7:40000".parse().expect("address");
        let mut conn = Connection::new(3, 0, socket, remote, &host);
        if setup.refused {
            conn = conn.refuse(&mut host);
        }
        let frame_samples = Playout::new(&config).frame_samples();
        let frame = OutFrame::new(config.frame_kind(), config.wire, frame_samples);
        let frame_message_len = HEADER_LEN + frame_samples * config.wire.bytes_per_sample();
        let heap_bound = heap_bound(&config, config.app_format(), frame_message_len);
        let mut harness = Harness {
            _poll: poll,
            host,
            conn: Some(conn),
            peer: Some(peer),
            peer_write_closed: false,
            peer_gone: false,
            frames_lost: false,
            peer_in: PeerInput {
                decoder: Decoder::new(),
                frames: 0,
                hangups: 0,
                eof: false,
                clean_eof: false,
            },
            frame,
            frame_samples,
            frame_message_len,
            marks: Vec::new(),
            read_buf: vec![0; 64 * 1024],
            tick: 0,
            start,
            elapsed: Duration::ZERO,
            model: Model::default(),
            heap_start: heap(),
            heap_bound,
            format: config.app_format(),
            open: setup.open,
            config,
        };
        harness.after_op(0);
        harness
    }

    // Operations.

    fn op(&mut self, input: &mut Input<'_>) {
        let command_due = self.model.hangup_command;
        let opcode = input.byte();
        if tracing() {
            eprintln!("op {:2} (byte {opcode})", opcode % 24);
        }
        let mut ticks = 0;
        match opcode % 24 {
            // Asterisk's bytes: raw, then (usually) a readable edge.
            0..=2 => {
                let len = usize::from(input.byte()) * 4 + usize::from(input.byte() % 4);
                let bytes = input.take(len).to_vec();
                let read = input.byte();
                self.peer_send(&bytes);
                if read < 0xc0 {
                    self.readable(read);
                }
            }
            // Well-formed messages, which get far faster than raw bytes.
            3..=6 => {
                let bytes = self.message(input);
                let read = input.byte();
                self.peer_send(&bytes);
                if read < 0xc0 {
                    self.readable(read);
                }
            }
            7 => {
                let size = input.byte();
                self.readable(size);
            }
            8 => self.writable(),
            9..=11 => {
                let count = 1 + input.byte() % 4;
                let late = input.byte();
                for _ in 0..count {
                    self.run_tick(f64::from(late) / 4.0);
                }
                ticks = u64::from(count);
            }
            12 => {
                let samples = usize::from(input.u16()) >> (input.byte() % 8);
                let seed = input.byte();
                self.app(AppOp::Write { samples, seed });
            }
            13 => self.app(AppOp::Mark),
            14 => self.app(AppOp::Clear),
            15 => self.app(AppOp::Pause),
            16 => self.app(AppOp::Resume),
            17 => self.app(AppOp::Hangup),
            18 => match input.byte() % 4 {
                0 => self.app(AppOp::Open(None)),
                1 => {
                    let format = app_format(input);
                    // Only before any audio or mark: open() starts the call's queue afresh.
                    if self.model.written == 0 && self.model.next_mark == 0 {
                        self.app(AppOp::Open(Some(format)));
                    }
                }
                _ => self.app(AppOp::Stats),
            },
            19 => {
                let limit = usize::from(input.u16());
                self.peer_read(Some(limit));
            }
            20 => match input.byte() % 4 {
                0 | 1 => self.peer_shutdown_write(),
                2 => self.peer_close(),
                _ => self.peer_read(None),
            },
            21 => match input.byte() % 3 {
                // server.close(drainMs), then its deadline.
                0 => self.with_conn(|c, host| c.drain(host)),
                1 => self.with_conn(|c, host| c.hangup(EndReason::ServerClose, None, host)),
                _ => self.abort(),
            },
            22 => {
                // Time passes with no tick run (a stalled thread): deadlines come due.
                self.elapsed += Duration::from_millis(u64::from(input.byte()) * 20);
                self.host.now = self.start + self.elapsed;
            }
            _ => {
                let samples = self.frame_samples * usize::from(1 + input.byte() % 8);
                let seed = input.byte();
                self.app(AppOp::Write { samples, seed });
                self.app(AppOp::Mark);
            }
        }
        // A hang-up request reaches the engine's thread after whatever ran meanwhile.
        if command_due {
            self.run_hangup_command();
        }
        self.after_op(ticks);
    }

    /// One well-formed message, as Asterisk (or a confused peer) would send it.
    fn message(&mut self, input: &mut Input<'_>) -> Vec<u8> {
        let pick = input.byte();
        let (kind, payload): (u8, Vec<u8>) = match pick % 16 {
            0..=2 => (0x01, input.take(16).to_vec()),
            3..=8 => {
                let kind = 0x10 + input.byte() % 9;
                let len = match input.byte() % 8 {
                    0 => 0,
                    1 => 1 + usize::from(input.byte()),
                    2 => 160,
                    _ => usize::from(input.byte() % 24 + 1) * 40,
                };
                (kind, vec![input.byte(); len])
            }
            9 => (0x03, vec![input.pick(b"0123456789*#ABCDx")]),
            10 => {
                let state = input.byte() % 3;
                let digit = input.pick(b"0123456789*#ABCDa");
                let mut payload = vec![state, digit];
                payload.extend_from_slice(input.take(4));
                (0x02, payload)
            }
            11 => (0x00, Vec::new()),
            12 => (0x02, Vec::new()),
            13 => (0xff, input.take(1).to_vec()),
            14 => (input.byte(), input.take(4).to_vec()),
            _ => {
                let len = usize::from(input.u16());
                (input.byte(), vec![0; len])
            }
        };
        let mut out = vec![kind];
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(&payload);
        out
    }

    fn peer_send(&mut self, bytes: &[u8]) {
        if self.peer_write_closed || self.conn.is_none() {
            return;
        }
        let Some(peer) = &mut self.peer else { return };
        let mut rest = bytes;
        while !rest.is_empty() {
            match peer.write(rest) {
                Ok(n) => rest = &rest[n..],
                // A full socket: Asterisk's own writes would block; the rest is dropped.
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("peer write failed: {e}"),
            }
        }
    }

    /// A readable edge, read with a buffer of a size picked by `size`.
    fn readable(&mut self, size: u8) {
        let len = match size % 16 {
            0 => 1,
            1 => 2,
            2 => 3,
            3..=5 => 1 + usize::from(size),
            6 | 7 => 320,
            8 | 9 => 1403,
            _ => self.read_buf.len(),
        };
        let hup = self.peer_write_closed || self.peer_gone;
        let Some(conn) = &mut self.conn else { return };
        conn.on_readable(&mut self.read_buf[..len], hup, &mut self.host);
    }

    fn writable(&mut self) {
        self.with_conn(|c, host| c.on_writable(host));
    }

    fn with_conn(&mut self, f: impl FnOnce(&mut Connection, &mut Host)) {
        if let Some(conn) = &mut self.conn {
            f(conn, &mut self.host);
        }
    }

    fn run_tick(&mut self, late_ms: f64) {
        self.elapsed += Duration::from_millis(u64::from(FRAME_MS));
        self.host.now = self.start + self.elapsed;
        let tick = self.tick;
        self.tick += 1;
        // As the event loop: before the tick, so a write counts its prebuffer from the next.
        self.host.shared.next_tick[0].store(self.tick, Ordering::Release);
        let Some(conn) = &mut self.conn else { return };
        if conn.dead {
            return;
        }
        let before = self.model.call.as_ref().map(|call| {
            let state = call.lock();
            (state.stats.frames_out, state.stats.frames_dropped)
        });
        conn.tick(
            tick,
            late_ms,
            &mut self.frame,
            &mut self.marks,
            &mut self.host,
        );
        assert!(self.marks.is_empty(), "marks left in the tick's buffer");
        if let (Some(call), Some((out, dropped))) = (&self.model.call, before) {
            let state = call.lock();
            let sent = state.stats.frames_out - out + state.stats.frames_dropped - dropped;
            assert!(sent <= 1, "{sent} frames on one tick");
            if self.config.idle == Idle::Silence && !state.ended && !self.model.ended {
                assert_eq!(sent, 1, "idle silence, yet no frame on a tick");
            }
        }
    }

    fn app(&mut self, op: AppOp) {
        let Some(call) = self.model.call.clone() else {
            return;
        };
        let next_tick = self.host.shared.next_tick[0].load(Ordering::Acquire);
        let ended = self.model.ended || call.lock().ended;
        let result: Result<(), EngineError> = match op {
            AppOp::Write { samples, seed } => {
                let pcm = pcm(samples, seed);
                let result = call.live().and_then(|mut state| {
                    let before = state.playout.queued_samples();
                    let ms = state.playout.write(&pcm, next_tick)?;
                    Ok((ms, before, state.playout.queued_samples()))
                });
                match result {
                    Ok((ms, before, after)) => {
                        let mono = if self.format.channels == 2 {
                            samples / 2
                        } else {
                            samples
                        };
                        assert_eq!(after, before + mono as u64, "write queued the wrong count");
                        assert_eq!(ms, self.to_ms(after), "write reported the wrong depth");
                        assert!(ms <= f64::from(self.config.max_queue_ms));
                        self.model.written += mono as u64;
                        if ms > f64::from(self.config.high_water_ms) && mono > 0 {
                            self.model.above_high_water = true;
                        }
                        Ok(())
                    }
                    Err(e) => {
                        let queued = call.lock().playout.queued_samples();
                        let mono = samples / self.format.channels as usize;
                        match e.code {
                            Code::QueueFull => assert!(
                                self.to_ms(queued + mono as u64)
                                    > f64::from(self.config.max_queue_ms),
                                "QUEUE_FULL below maxQueueMs"
                            ),
                            Code::InvalidArgument => {
                                assert!(self.format.channels == 2 && samples % 2 == 1);
                            }
                            _ => {}
                        }
                        Err(e)
                    }
                }
            }
            AppOp::Open(format) => {
                let result = call.open(format, &self.config);
                if result.is_ok() {
                    if let Some(format) = format {
                        assert!(self.model.written == 0 && self.model.next_mark == 0);
                        self.format = format;
                        self.heap_bound = heap_bound(&self.config, format, self.frame_message_len);
                    }
                }
                result
            }
            AppOp::Mark => call.live().map(|mut state| {
                let mark = self.model.next_mark;
                self.model.next_mark += 1;
                state.playout.mark(mark);
                self.model.marks.push_back(mark);
            }),
            AppOp::Clear => {
                let cleared = call.live().map(|mut state| {
                    let queued = state.playout.queued_samples();
                    let result = state.playout.clear();
                    assert_eq!(state.playout.queued_samples(), 0, "clear left audio queued");
                    (queued, result)
                });
                cleared.map(|(queued, result)| {
                    assert_eq!(result.cleared_ms, self.to_ms(queued), "clear() misreported");
                    self.cancel(&result, queued);
                })
            }
            AppOp::Pause => call.live().map(|mut state| state.playout.pause()),
            AppOp::Resume => call.live().map(|mut state| state.playout.resume()),
            AppOp::Hangup => {
                // The request drops the queue at once; the end reports it later.
                let queued = call.lock().playout.queued_samples();
                if call.request_hangup(EndReason::LocalHangup) {
                    assert!(!ended, "hang-up accepted on an ended call");
                    self.model.hangup_command = true;
                    self.model.cleared += queued;
                    self.model.requested_unplayed = Some(queued);
                }
                Ok(())
            }
            AppOp::Stats => {
                // Answered after the end too: the final counters.
                let stats = call.stats();
                let state = call.lock();
                assert_eq!(stats.queued_ms, state.playout.queued_ms());
                assert!(stats.silence_frames_out <= stats.frames_out);
                Ok(())
            }
        };
        match result {
            Err(e) if e.code == Code::CallEnded => {
                assert!(ended, "CALL_ENDED on a live call");
            }
            Err(e) => assert!(
                match op {
                    AppOp::Write { .. } =>
                        matches!(e.code, Code::QueueFull | Code::InvalidArgument),
                    AppOp::Open(_) => e.code == Code::InvalidArgument, // opened already
                    _ => false,
                },
                "{op:?} failed: {e:?}"
            ),
            Ok(()) => assert!(
                !ended || matches!(op, AppOp::Hangup | AppOp::Stats),
                "{op:?} succeeded on an ended call"
            ),
        }
    }

    /// The event loop's turn after server.hangup(): the connection sends 0x00 and reports the end.
    fn run_hangup_command(&mut self) {
        self.model.hangup_command = false;
        self.with_conn(|c, host| {
            if c.call().is_some() {
                c.hangup(EndReason::LocalHangup, None, host);
            }
        });
    }

    fn abort(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.abort();
            assert!(conn.dead);
        }
        // No events after an abort: the engine is going away; the model stops here.
        self.model.call = None;
    }

    fn peer_shutdown_write(&mut self) {
        if let Some(peer) = &self.peer {
            let _ = peer.shutdown(Shutdown::Write);
            self.peer_write_closed = true;
        }
    }

    fn peer_close(&mut self) {
        self.peer_read(None);
        if self.peer.take().is_some() {
            self.peer_gone = true;
            self.peer_write_closed = true;
        }
    }

    /// Asterisk reads up to `limit` bytes (all it can with `None`) and checks the framing.
    fn peer_read(&mut self, limit: Option<usize>) {
        let mut buf = [0u8; 4096];
        let mut left = limit.unwrap_or(usize::MAX);
        while left > 0 && !self.peer_in.eof {
            let want = left.min(buf.len());
            let Some(peer) = &mut self.peer else { return };
            match peer.read(&mut buf[..want]) {
                // 0: a FIN, sent after everything else while the connection lives, or the close
                // of a socket it released. A reset: released with bytes of ours unread.
                Ok(0) => self.peer_eof(self.conn.is_some()),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => self.peer_eof(false),
                Ok(n) => {
                    left -= n;
                    let expected_len = self.frame_message_len;
                    let kind = self.config.frame_kind();
                    let PeerInput {
                        decoder,
                        frames,
                        hangups,
                        ..
                    } = &mut self.peer_in;
                    let result = decoder.feed(&buf[..n], |msg| {
                        assert_eq!(*hangups, 0, "the engine sent {msg:?} after its 0x00");
                        match msg {
                            Message::Hangup { payload } => {
                                assert!(payload.is_empty());
                                *hangups += 1;
                            }
                            Message::Audio {
                                kind: k, payload, ..
                            } => {
                                assert_eq!(k, kind, "a frame of the wrong kind");
                                assert_eq!(HEADER_LEN + payload.len(), expected_len);
                                *frames += 1;
                            }
                            other => panic!("the engine sent {other:?}"),
                        }
                    });
                    result.expect("the engine's stream decodes");
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("peer read failed: {e}"),
            }
        }
    }

    /// The engine's side is closed. A FIN comes after everything sent: whole messages only.
    /// A socket the engine gave up on (no reading within the close grace) may end inside the
    /// message it was writing, which nobody reads any more.
    fn peer_eof(&mut self, clean: bool) {
        self.peer_in.eof = true;
        self.peer_in.clean_eof = clean;
        if clean {
            if let Err(e) = self.peer_in.decoder.finish() {
                panic!("the engine's stream ended inside a message: {e}");
            }
        }
    }

    // Checks after every operation.

    /// `ticks`: clock ticks the operation ran.
    fn after_op(&mut self, ticks: u64) {
        let mut taken = Batch::default();
        self.host.shared.outbox.take(&mut taken);
        self.events(&taken);
        let batch = mem::take(&mut self.host.batch);
        self.events(&batch);
        drop((taken, batch));
        // As the event loop: a dead connection is released, which closes its socket.
        if self.conn.as_ref().is_some_and(|c| c.dead) {
            self.conn = None;
        }

        if let Some(call) = self.model.call.clone() {
            let state = call.lock();
            let queued = state.playout.queued_samples();
            assert!(
                state.playout.queued_ms() <= f64::from(self.config.max_queue_ms),
                "queue over maxQueueMs"
            );
            // Audio the latency cap dropped leaves the queue as played audio does, unsent.
            let dropped = state.playout.latency_dropped_samples();
            let accounted = self.model.cleared + queued;
            assert!(
                accounted + dropped <= self.model.written,
                "queued {queued} + cleared {} + dropped {dropped} > written {}",
                self.model.cleared,
                self.model.written
            );
            let played = self.model.written - accounted - dropped;
            assert!(played >= self.model.played, "played went back");
            let advance = played - self.model.played;
            // A frame's worth of app samples per tick, plus the rounding of a stream's end.
            let per_tick = (self.frame_samples as u64 * u64::from(self.format.sample_rate))
                .div_ceil(u64::from(self.config.output_rate))
                + 2;
            assert!(
                advance <= ticks * per_tick,
                "played {advance} samples in {ticks} ticks"
            );
            self.model.played = played;
            if state.ended {
                assert_eq!(queued, 0, "an ended call still has audio queued");
            }
            assert!(self.model.marks.len() <= self.model.next_mark as usize);
        }

        if let (Some(start), Some(now)) = (self.heap_start, heap()) {
            let held = now.saturating_sub(start);
            assert!(
                held <= self.heap_bound,
                "the connection holds {held} bytes (bound {})",
                self.heap_bound
            );
        }
    }

    fn events(&mut self, batch: &Batch) {
        for event in &batch.events {
            if tracing() {
                eprintln!("  event {event:?}");
            }
            if self.model.ended {
                panic!("{event:?} after the call's end");
            }
            match event {
                Event::Reject { remote, error } => {
                    assert!(remote.is_some());
                    assert!(self.model.handle.is_none(), "reject after the call began");
                    assert!(!self.model.rejected, "two rejects");
                    self.model.rejected = true;
                    assert!(
                        matches!(
                            error.code,
                            Code::NoUuid
                                | Code::BadUuid
                                | Code::HandshakeTimeout
                                | Code::PayloadTooLarge
                                | Code::MaxCalls
                                | Code::Socket
                        ),
                        "reject with {error:?}"
                    );
                }
                Event::Call { call, wire, .. } => {
                    assert!(!self.model.rejected, "a call after a reject");
                    assert!(self.model.handle.is_none(), "two calls");
                    assert_eq!(*wire, self.config.frame_kind());
                    self.model.handle = Some(*call);
                    let shared = self
                        .conn
                        .as_ref()
                        .and_then(|c| c.call().cloned())
                        .expect("the connection has its call");
                    assert_eq!(shared.handle, *call);
                    self.model.call = Some(shared);
                    if let Some(format) = self.open {
                        self.app(AppOp::Open(format));
                    }
                }
                Event::Audio { call, start, len } => {
                    self.own(*call);
                    assert!(*len > 0, "an empty audio event");
                    assert!(start + len <= batch.pcm.len(), "audio outside the batch");
                    if self.format.channels == 2 {
                        assert_eq!(len % 2, 0, "stereo audio of odd length");
                        let pcm = &batch.pcm[*start..start + len];
                        assert!(pcm.chunks_exact(2).all(|lr| lr[0] == lr[1]));
                    }
                }
                Event::Dtmf { call, digit, .. } => {
                    self.own(*call);
                    assert!(is_dtmf_digit(*digit));
                }
                Event::Mark { call, mark } => {
                    self.own(*call);
                    assert_eq!(
                        self.model.marks.pop_front(),
                        Some(*mark),
                        "mark reported out of order or twice"
                    );
                }
                Event::Drain { call } => {
                    self.own(*call);
                    assert!(self.model.above_high_water, "drain without high water");
                    self.model.above_high_water = false;
                }
                Event::Error { call, error } => {
                    self.own(*call);
                    assert!(
                        matches!(
                            error.code,
                            Code::EmptyAudio
                                | Code::OddAudio
                                | Code::BadUuid
                                | Code::BadDtmf
                                | Code::UnexpectedMessage
                                | Code::Truncated
                                | Code::WireFormat
                                | Code::InboundOverflow
                                | Code::OutboundOverflow
                        ),
                        "warning {error:?}"
                    );
                }
                Event::End {
                    call,
                    reason,
                    error,
                    unplayed_ms,
                    marks,
                    stats,
                } => {
                    self.own(*call);
                    assert_eq!(error.is_some(), *reason == EndReason::Error, "{event:?}");
                    assert_eq!(stats.queued_ms, *unplayed_ms, "end stats disagree");
                    assert!(stats.silence_frames_out <= stats.frames_out);
                    let samples = (unplayed_ms * self.samples_per_ms()).round() as u64;
                    assert_eq!(self.to_ms(samples), *unplayed_ms, "unplayed ms not exact");
                    let result = ClearResult {
                        cleared_ms: *unplayed_ms,
                        marks: marks.clone(),
                    };
                    match self.model.requested_unplayed.take() {
                        Some(queued) => {
                            assert_eq!(samples, queued, "the end misreports the request");
                            self.cancel(&result, 0);
                        }
                        None => self.cancel(&result, samples),
                    }
                    if error.as_ref().is_some_and(|e| e.code == Code::Socket) {
                        self.frames_lost = true;
                    }
                    self.model.ended = true;
                    self.model.end_frames_out = Some(stats.frames_out);
                }
                Event::Closed => panic!("Closed from a connection"),
            }
        }
    }

    fn own(&self, call: u32) {
        assert_eq!(Some(call), self.model.handle, "an event for another call");
    }

    /// Marks cancelled by a clear (or the end) are the unreached tail of the queue; `cleared`
    /// samples more are accounted as dropped.
    fn cancel(&mut self, result: &ClearResult, cleared: u64) {
        self.model.cleared += cleared;
        let n = result.marks.len();
        assert!(n <= self.model.marks.len(), "unknown marks cancelled");
        let tail = self.model.marks.split_off(self.model.marks.len() - n);
        let ids: Vec<u32> = result.marks.iter().map(|m| m.mark).collect();
        assert_eq!(
            Vec::from(tail),
            ids,
            "cancelled marks are not the queue's tail"
        );
        let mut last = 0.0;
        for &CancelledMark { ahead_ms, .. } in &result.marks {
            assert!(ahead_ms > 0.0, "a cancelled mark had been reached");
            assert!(ahead_ms >= last, "cancelled marks out of order");
            assert!(
                ahead_ms <= result.cleared_ms,
                "a mark beyond the cleared audio"
            );
            last = ahead_ms;
        }
    }

    // The end of every script.

    fn epilogue(&mut self) {
        if self.model.hangup_command {
            self.run_hangup_command();
            self.after_op(0);
        }
        // Play out what is queued: resumed, with the peer reading, every sample leaves.
        let live = self
            .model
            .call
            .as_ref()
            .is_some_and(|call| !call.has_ended());
        if live && !self.model.ended {
            self.app(AppOp::Resume);
            self.after_op(0);
            let queued_ms = self
                .model
                .call
                .as_ref()
                .map_or(0.0, |call| call.lock().playout.queued_ms());
            let ticks = (queued_ms + f64::from(self.config.prebuffer_ms)) / f64::from(FRAME_MS);
            for _ in 0..ticks.ceil() as usize + 8 {
                self.peer_read(None);
                self.writable();
                self.run_tick(0.0);
                self.after_op(1);
            }
            if !self.model.ended {
                let call = self.model.call.as_ref().expect("a live call");
                let state = call.lock();
                assert_eq!(state.playout.queued_samples(), 0, "audio never played");
                drop(state);
                assert!(
                    self.model.marks.is_empty(),
                    "marks never reached: {:?}",
                    self.model.marks
                );
            }
        }
        // The application hangs up.
        self.app(AppOp::Hangup);
        if self.model.hangup_command {
            self.run_hangup_command();
        }
        self.after_op(0);
        if self.model.handle.is_some() && self.conn.is_some() {
            assert!(self.model.ended, "the call never ended");
        }
        if self.model.ended {
            assert!(
                self.model.marks.is_empty(),
                "marks neither reached nor cancelled at the end: {:?}",
                self.model.marks
            );
        }
        // Asterisk reads everything, then closes its side; the connection finishes.
        for _ in 0..4 {
            self.writable();
            self.peer_read(None);
        }
        self.peer_shutdown_write();
        self.readable(7);
        self.after_op(0);
        self.elapsed += Duration::from_secs(3);
        self.host.now = self.start + self.elapsed;
        self.run_tick(0.0);
        self.after_op(0);
        for _ in 0..4 {
            self.writable();
            self.peer_read(None);
        }
        assert!(
            self.conn.is_none(),
            "the connection outlived both closes and its grace"
        );
        // What the peer received: whole messages, one 0x00 at most, every frame counted sent
        // (all of them when the engine closed with a FIN, which follows everything it sent).
        if let Some(frames_out) = self.model.end_frames_out {
            assert!(
                self.peer_in.frames <= frames_out,
                "more frames received than sent"
            );
            if self.peer_in.clean_eof && !self.frames_lost {
                assert_eq!(
                    self.peer_in.frames, frames_out,
                    "frames counted != frames received"
                );
            }
        }
        assert!(self.peer_in.hangups <= 1);
        if self.peer.is_some() {
            assert!(self.peer_in.eof, "the engine never closed its side");
        }
    }

    fn samples_per_ms(&self) -> f64 {
        f64::from(self.format.sample_rate) / 1000.0
    }

    fn to_ms(&self, samples: u64) -> f64 {
        samples as f64 / self.samples_per_ms()
    }
}

/// An app rate: every one possible, the usual ones more often.
fn app_rate(input: &mut Input<'_>) -> u32 {
    let byte = input.byte();
    if byte < 0x80 {
        [8000, 16_000][usize::from(byte % 2)]
    } else {
        APP_RATES[usize::from(byte) % APP_RATES.len()]
    }
}

/// A format a call may be opened with.
fn app_format(input: &mut Input<'_>) -> AppFormat {
    AppFormat {
        sample_rate: app_rate(input),
        channels: 1 + u32::from(input.byte() % 2),
    }
}

/// What the connection may hold: its decoder's buffer (and the scratch of the largest frame),
/// a send buffer over the cap by a frame at most, and a queue at `maxQueueMs` (mono), each
/// with room for a `Vec`'s doubling, plus 1 MiB for resamplers, filters and small change.
fn heap_bound(config: &EngineConfig, format: AppFormat, frame_message_len: usize) -> usize {
    let queue_bytes = u64::from(config.max_queue_ms) * u64::from(format.sample_rate) / 1000 * 2;
    (1 << 20)
        + 6 * config.max_payload as usize
        + 2 * (MAX_UNSENT_BYTES + 2 * frame_message_len)
        + 4 * queue_bytes as usize
        + 4 * config.inbound_backlog_frames() as usize * config.max_payload as usize
}

/// Whether to print the script and the events as they run (`AUDIOSOCKET_FUZZ_TRACE=1`), to
/// read a failing input.
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("AUDIOSOCKET_FUZZ_TRACE").is_some())
}

/// `samples` of a cheap pseudo-random signal.
fn pcm(samples: usize, seed: u8) -> Vec<i16> {
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    (0..samples)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 16) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_inputs_are_whole_scripts() {
        check(&[]);
        check(&[0; 13]);
    }

    #[test]
    fn a_script_gets_through_the_handshake_plays_and_reaches_its_marks() {
        // 8 kHz mono slin both ways, no prebuffer, silence when idle, 2 s of queue, the call
        // opened in the server's format.
        let mut script = vec![0, 0, 1, 0, 0, 1, 100, 6, 250, 128, 64, 0, 1];
        script.extend([3, 0]); // a well-formed UUID, read at once with a 1-byte buffer
        script.extend([7u8; 16]);
        script.push(0);
        script.extend([23, 1, 5]); // write two frames and a mark
        script.extend([3, 3, 0x10, 2, 9, 4]); // a 160-byte 8 kHz frame, read 320 at a time
        script.extend([9, 3, 0]); // four ticks
        let harness = run(&script);
        assert_eq!(harness.model.handle, Some(7));
        assert!(harness.model.ended);
        assert_eq!(harness.model.next_mark, 1);
        assert_eq!(harness.model.written, 320);
        assert_eq!(harness.model.played, 320);
        assert!(harness.peer_in.frames >= 4);
        assert_eq!(harness.peer_in.hangups, 1);
    }

    /// 8 kHz mono slin, no prebuffer, idle silence, 520 ms of queue, the call opened at once,
    /// then a UUID read a byte at a time.
    fn call_script() -> Vec<u8> {
        let mut script = vec![0, 0, 1, 0, 0, 1, 100, 6, 250, 128, 64, 0, 1];
        script.extend([3, 0]);
        script.extend([7u8; 16]);
        script.push(0);
        script
    }

    // Bugs the fuzzer found, as the scripts that show them (the checks say what was wrong).

    #[test]
    fn a_mark_on_an_empty_queue_is_reported_when_the_call_ends_before_the_next_tick() {
        let mut script = call_script();
        script.extend([13, 17]); // mark, hang up
        let harness = run(&script);
        assert!(harness.model.ended && harness.model.next_mark == 1);
    }

    #[test]
    fn a_mark_queued_while_paused_is_reported_when_asterisk_hangs_up() {
        let mut script = call_script();
        script.extend([15, 13, 3, 11, 0]); // pause, mark, 0x00 from the peer
        let harness = run(&script);
        assert!(harness.model.ended && harness.model.next_mark == 1);
    }

    #[test]
    fn a_mark_reached_on_a_tick_whose_frame_cannot_be_written_comes_before_the_end() {
        let mut script = call_script();
        // A frame and a mark, the peer closes, then the tick that plays them fails to write.
        script.extend([23, 0, 0, 20, 2, 9, 0, 0]);
        let harness = run(&script);
        assert!(harness.model.ended && harness.frames_lost);
    }

    #[test]
    fn one_sample_of_96_khz_caller_audio_to_an_8_khz_app_is_not_lost() {
        let mut script = call_script();
        // Two 2-byte 0x17 frames: the first sample makes an output at once, the second none.
        script.extend([3, 3, 7, 1, 1, 0x55, 0, 3, 3, 7, 1, 1, 0x55, 0]);
        run(&script);
    }
}
