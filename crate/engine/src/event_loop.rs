//! The engine's thread: one readiness loop (epoll through mio) for the listener and every
//! connection, and the shared 20 ms clock on absolute deadlines, which each tick produces one
//! frame per call. There is no task or timer per call: a wake is one pass over the connections,
//! ticking those whose beat is due (each is given the beat with the fewest, see clock.rs), and
//! a socket costs a wake-up only when it has bytes to read or, after a partial write, room to
//! write. Events are collected per turn of the loop and posted as one batch.

use std::io;
use std::mem;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mio::event::Event as IoEvent;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

use crate::clock::{BeatClocks, BEATS};
use crate::connection::{Connection, Host};
use crate::error::{Code, EngineError};
use crate::events::{Batch, EndReason, Event};
use crate::format::OutFrame;
use crate::playout::Playout;
use crate::rate_limit::ConnectionRateLimiter;
use crate::server::{lock, Commands, Shared};

/// The listening socket's token; connections use their slab keys.
const LISTENER: Token = Token(usize::MAX);
/// The token of the waker the application's thread uses.
pub(crate) const WAKER: Token = Token(usize::MAX - 1);

/// Bytes read per read() call: many frames at once after a stall, shared by every connection.
const READ_BUFFER: usize = 64 * 1024;
/// Readiness events taken per poll; more ready sockets are taken by the next poll of the
/// same wake (a full batch polls again at once).
const EVENTS_PER_POLL: usize = 4096;

/// Where server.close() is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Closing {
    /// Serving.
    No,
    /// Calls may play out what they have queued until this instant.
    Draining(Instant),
    /// Every call has been hung up; waiting for the sockets to close.
    HungUp,
}

/// State of the engine's thread (see the module docs).
pub(crate) struct EventLoop {
    poll: Poll,
    listener: Option<TcpListener>,
    connections: Slab<Connection>,
    host: Host,
    /// Connections that count toward maxCalls: handshaking, in a call, or closing one.
    counted: usize,
    /// Run while there are connections.
    clocks: Option<BeatClocks>,
    /// Connections per beat; a new one joins the beat with the fewest.
    beat_load: [usize; BEATS],
    rate_limiter: Option<ConnectionRateLimiter>,
    read_buffer: Box<[u8]>,
    /// Where each call's frame is built, one after the other.
    frame: OutFrame,
    marks: Vec<u32>,
    dead: Vec<usize>,
    closing: Closing,
}

impl EventLoop {
    pub fn new(
        poll: Poll,
        mut listener: TcpListener,
        shared: Arc<Shared>,
    ) -> io::Result<EventLoop> {
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let config = &shared.config;
        let samples = Playout::new(config).frame_samples();
        let frame = OutFrame::new(config.frame_kind(), config.wire, samples);
        let rate_limiter = config.connection_rate_limit.map(ConnectionRateLimiter::new);
        Ok(EventLoop {
            poll,
            listener: Some(listener),
            connections: Slab::new(),
            host: Host {
                shared,
                batch: Batch::default(),
                now: Instant::now(),
                next_handle: 0,
                scratch: Vec::new(),
            },
            counted: 0,
            clocks: None,
            beat_load: [0; BEATS],
            rate_limiter,
            read_buffer: vec![0; READ_BUFFER].into_boxed_slice(),
            frame,
            marks: Vec::new(),
            dead: Vec::new(),
            closing: Closing::No,
        })
    }

    /// Runs until close() has finished (then reports [`Event::Closed`]) or abort().
    pub fn run(mut self) {
        let mut events = Events::with_capacity(EVENTS_PER_POLL);
        let _ = self.host.shared.engine_thread.set(thread::current());
        loop {
            // While calls run, the thread wakes on every beat (5 ms) instead of on every
            // arrival: each wake harvests every ready socket at once and ticks the calls of its
            // beat, so 1000 calls cost 200 wake-ups a second, not 50,000. Caller audio waits at
            // most a beat to be read, and an answer to it usually makes its call's next tick.
            // A command from the application (close, hang-up) unparks the thread at once.
            // Without connections the thread sleeps until something happens.
            let timeout = match &self.clocks {
                Some(clocks) => {
                    let wake = clocks.next_wake(Instant::now());
                    thread::park_timeout(wake.saturating_duration_since(Instant::now()));
                    Some(Duration::ZERO)
                }
                None => None,
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    break; // the epoll instance is unusable: nothing more can be served
                }
            }
            self.host.now = Instant::now();
            let mut commands = None;
            for event in &events {
                match event.token() {
                    LISTENER => self.accept(),
                    WAKER => commands = Some(mem::take(&mut *lock(&self.host.shared.commands))),
                    Token(key) => self.io(key, event),
                }
            }
            if let Some(commands) = commands {
                if commands.abort {
                    return self.abort();
                }
                self.command(commands);
            }
            // Caller audio goes to the application before this wake's frames are written, so
            // that an answer to it can make the very next tick.
            self.host.shared.outbox.post(&mut self.host.batch);
            self.ticks();
            self.release_dead();
            if self.closing != Closing::No && self.connections.is_empty() {
                break;
            }
            self.host.shared.outbox.post(&mut self.host.batch);
        }
        self.host.batch.events.push(Event::Closed);
        self.host.shared.outbox.post(&mut self.host.batch);
    }

    fn accept(&mut self) {
        while let Some(listener) = &self.listener {
            match listener.accept() {
                Ok((socket, remote)) => self.admit(socket, remote),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    // Out of file descriptors...: one connection lost, not the server. It stays
                    // in the backlog until the next arrival raises a new edge.
                    let error = EngineError::new(Code::Socket, format!("accept failed: {e}"));
                    self.host.batch.events.push(Event::Reject {
                        remote: None,
                        error,
                    });
                    return;
                }
            }
        }
    }

    fn admit(&mut self, mut socket: TcpStream, remote: SocketAddr) {
        if self.closing != Closing::No {
            return;
        }
        let config = &self.host.shared.config;
        if !config.allow.allows(remote.ip()) {
            // A stranger: say nothing in the protocol, just close.
            let message = format!("{} is not in the allow list", remote.ip());
            let error = EngineError::new(Code::NotAllowed, message);
            self.host.batch.events.push(Event::Reject {
                remote: Some(remote),
                error,
            });
            self.host.post_before_socket();
            return;
        }
        let now = self.host.now;
        if let Some(limiter) = &mut self.rate_limiter {
            if !limiter.admit(remote.ip(), now) {
                // A flood: closing at once is the cheapest answer, and the kindest to the rest.
                let message = format!(
                    "{} opens connections faster than connectionRateLimit",
                    remote.ip()
                );
                let error = EngineError::new(Code::RateLimited, message);
                self.host.batch.events.push(Event::Reject {
                    remote: Some(remote),
                    error,
                });
                self.host.post_before_socket();
                return;
            }
        }
        let over_limit = self.counted >= config.max_calls as usize;
        // Best effort: a socket that refuses it still works, only with Nagle's delay.
        let _ = socket.set_nodelay(true);
        let entry = self.connections.vacant_entry();
        let key = entry.key();
        let interest = Interest::READABLE | Interest::WRITABLE;
        if self
            .poll
            .registry()
            .register(&mut socket, Token(key), interest)
            .is_err()
        {
            return;
        }
        let beat = (0..BEATS)
            .min_by_key(|&beat| self.beat_load[beat])
            .unwrap_or(0);
        self.beat_load[beat] += 1;
        let mut connection = Connection::new(key, beat, socket, remote, &self.host);
        if over_limit {
            connection = connection.refuse(&mut self.host);
        } else {
            self.counted += 1;
        }
        entry.insert(connection);
        self.clocks.get_or_insert_with(|| BeatClocks::new(now));
    }

    fn io(&mut self, key: usize, event: &IoEvent) {
        let Some(connection) = self.connections.get_mut(key) else {
            return;
        };
        if event.is_writable() {
            connection.on_writable(&mut self.host);
        }
        let hup = event.is_read_closed() || event.is_error();
        if event.is_readable() || hup {
            connection.on_readable(&mut self.read_buffer, hup, &mut self.host);
        }
        if connection.dead {
            self.dead.push(key);
        }
    }

    fn command(&mut self, commands: Commands) {
        for (key, handle) in commands.hangups {
            let Some(connection) = self.connections.get_mut(key) else {
                continue;
            };
            if connection.call().is_some_and(|call| call.handle == handle) {
                // The request recorded the reason; this one is only the fallback.
                connection.hangup(EndReason::LocalHangup, None, &mut self.host);
            }
        }
        if let (Some(drain), Closing::No) = (commands.close, self.closing) {
            self.start_close(self.host.now + drain);
        }
    }

    /// Stops accepting and lets every call play out what it has queued until `deadline`.
    fn start_close(&mut self, deadline: Instant) {
        self.closing = Closing::Draining(deadline);
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        for (_, connection) in &mut self.connections {
            connection.drain(&mut self.host);
        }
    }

    fn ticks(&mut self) {
        let now = self.host.now;
        if let Closing::Draining(deadline) = self.closing {
            if now >= deadline {
                self.closing = Closing::HungUp;
                for (_, connection) in &mut self.connections {
                    connection.hangup(EndReason::ServerClose, None, &mut self.host);
                }
            }
        }
        let Some(clocks) = &mut self.clocks else {
            return;
        };
        let due = clocks.due(now);
        if due.iter().all(Range::is_empty) {
            return;
        }
        for (beat, ticks) in due.iter().enumerate() {
            if !ticks.is_empty() {
                // Before the ticks: a write racing them counts its prebuffer from the next one.
                self.host.shared.next_tick[beat].store(ticks.end, Ordering::Release);
            }
        }
        // One pass over the connections, each ticked for its own beat.
        for (key, connection) in &mut self.connections {
            let beat = connection.beat;
            for tick in due[beat].clone() {
                if connection.dead {
                    break;
                }
                let late_ms = clocks.beat(beat).lateness_ms(tick, now);
                connection.tick(
                    tick,
                    late_ms,
                    &mut self.frame,
                    &mut self.marks,
                    &mut self.host,
                );
                if connection.dead {
                    self.dead.push(key);
                }
            }
        }
    }

    fn release_dead(&mut self) {
        for key in self.dead.drain(..) {
            let Some(connection) = self.connections.try_remove(key) else {
                continue;
            };
            if connection.counted {
                self.counted -= 1;
            }
            self.beat_load[connection.beat] -= 1;
            // The call stays registered until the application takes its end (take_events).
            // Dropping the socket closes it, which also removes it from the epoll set.
        }
        if self.connections.is_empty() {
            self.clocks = None;
        }
    }

    /// Stops at once (the environment is going away): best-effort 0x00s, no events.
    fn abort(mut self) {
        for (_, connection) in &mut self.connections {
            connection.abort();
            if let Some(call) = connection.call() {
                self.host.shared.unregister(call.handle);
            }
        }
    }
}
