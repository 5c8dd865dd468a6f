//! A server as the application holds it: `listen()` starts the engine's thread; the calls are
//! then driven from the application's thread (write, mark, clear, pause, resume, hangup,
//! stats) straight into each call's shared state, and events come back through the
//! [`Outbox`]. The contract is src/engine/contract.ts `Engine`.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Poll, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use crate::call::{call_ended, CallStats, SharedCall};
use crate::clock::BEATS;
use crate::config::EngineConfig;
use crate::error::EngineError;
use crate::event_loop::{EventLoop, WAKER};
use crate::events::{Batch, CallHandle, ClearResult, EndReason, Event, Notify, Outbox};
use crate::format::AppFormat;

/// What the application asks of the engine's thread, picked up when the waker fires.
#[derive(Default, Debug)]
pub(crate) struct Commands {
    /// Calls whose hang-up was requested: (connection token, call handle).
    pub hangups: Vec<(usize, CallHandle)>,
    /// close(): how long queued audio may still play.
    pub close: Option<Duration>,
    /// Stop at once, reporting nothing (the environment is going away).
    pub abort: bool,
}

/// What the application's thread and the engine's thread share.
pub(crate) struct Shared {
    pub config: EngineConfig,
    /// Calls by handle, for the application's operations: from the UUID until the application
    /// has taken the call's end.
    calls: Mutex<HashMap<CallHandle, Arc<SharedCall>>>,
    /// Each beat's next tick (see clock.rs), from which a write to a call on that beat counts
    /// its prebuffer wait.
    pub next_tick: [AtomicU64; BEATS],
    pub commands: Mutex<Commands>,
    pub waker: Waker,
    /// The engine's thread, set as it starts: between beats it sleeps without polling (so that
    /// arrivals do not wake it), and a command unparks it instead.
    pub engine_thread: OnceLock<Thread>,
    pub outbox: Outbox,
}

impl Shared {
    pub fn register(&self, call: Arc<SharedCall>) {
        lock(&self.calls).insert(call.handle, call);
    }

    pub fn unregister(&self, handle: CallHandle) {
        lock(&self.calls).remove(&handle);
    }

    fn call(&self, handle: CallHandle) -> Result<Arc<SharedCall>, EngineError> {
        lock(&self.calls)
            .get(&handle)
            .cloned()
            .ok_or_else(|| call_ended(handle))
    }

    /// Queues a command and wakes the engine's thread.
    fn command(&self, edit: impl FnOnce(&mut Commands)) {
        edit(&mut lock(&self.commands));
        // Fails only if the poll is gone, i.e. the thread has already stopped.
        let _ = self.waker.wake();
        if let Some(thread) = self.engine_thread.get() {
            thread.unpark();
        }
    }
}

impl Shared {
    /// The state of a server with no call yet. Also the fuzzing harness's (no thread, no
    /// listener: see [`crate::fuzzing`]).
    pub(crate) fn new(config: EngineConfig, waker: Waker, notify: Box<dyn Notify>) -> Self {
        Shared {
            config,
            calls: Mutex::new(HashMap::new()),
            next_tick: std::array::from_fn(|_| AtomicU64::new(0)),
            commands: Mutex::new(Commands::default()),
            waker,
            engine_thread: OnceLock::new(),
            outbox: Outbox::new(notify),
        }
    }
}

/// Locks a mutex whose data stays valid whatever panicked while it was held.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Connections the kernel queues for accept() (capped by net.core.somaxconn): the thread takes
/// them every harvest, 5 ms apart while calls run, so this is the burst it absorbs meanwhile.
const ACCEPT_BACKLOG: i32 = 4096;

/// A non-blocking listener on `addr` with [`ACCEPT_BACKLOG`], address reuse as mio's own bind.
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(ACCEPT_BACKLOG)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// A listening server and its engine thread (one thread per server: the socket readiness
/// loop, the shared 20 ms clock and every call's playout).
pub struct Server {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Server {
    /// Binds `addr` and starts the engine's thread. Events go to an outbox that calls
    /// `notify` once per batch.
    ///
    /// # Errors
    ///
    /// The bind error (address in use, permission...), or a failure to start the thread.
    pub fn listen(
        config: EngineConfig,
        addr: SocketAddr,
        notify: Box<dyn Notify>,
    ) -> io::Result<Server> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let listener = bind(addr)?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, waker, notify));
        let event_loop = EventLoop::new(poll, listener, shared.clone())?;
        let thread = thread::Builder::new()
            .name("audiosocket".into())
            .spawn(move || {
                raise_priority();
                event_loop.run();
            })?;
        Ok(Server {
            shared,
            local_addr,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The engine's configuration.
    #[must_use]
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Lets the call's caller audio flow to the application, in `format` (`None`: the server's);
    /// see [`SharedCall::open`].
    ///
    /// # Errors
    ///
    /// `CALL_ENDED`, `INVALID_ARGUMENT`, `BAD_SAMPLE_RATE`.
    pub fn open(&self, call: CallHandle, format: Option<AppFormat>) -> Result<(), EngineError> {
        self.shared.call(call)?.open(format, &self.shared.config)
    }

    /// Queues PCM for paced playout; returns the queue depth after it, ms.
    ///
    /// # Errors
    ///
    /// `CALL_ENDED`, or `QUEUE_FULL` past maxQueueMs (nothing queued then).
    pub fn write(&self, call: CallHandle, pcm: &[i16]) -> Result<f64, EngineError> {
        let call = self.shared.call(call)?;
        let mut state = call.live()?;
        // Read under the call's lock: the engine's thread moves next_tick before it takes that
        // lock to tick the call, so a tick this write missed is always counted.
        let next_tick = self.shared.next_tick[call.beat].load(Ordering::Acquire);
        state.playout.write(pcm, next_tick)
    }

    /// Queues a mark after the audio written so far.
    ///
    /// # Errors
    ///
    /// `CALL_ENDED`.
    pub fn mark(&self, call: CallHandle, mark: u32) -> Result<(), EngineError> {
        self.shared.call(call)?.live()?.playout.mark(mark);
        Ok(())
    }

    /// Drops all queued audio now and cancels the marks in it.
    ///
    /// # Errors
    ///
    /// `CALL_ENDED`.
    pub fn clear(&self, call: CallHandle) -> Result<ClearResult, EngineError> {
        Ok(self.shared.call(call)?.live()?.playout.clear())
    }

    /// Holds playout where it is.
    ///
    /// # Errors
    ///
    /// `CALL_ENDED`.
    pub fn pause(&self, call: CallHandle) -> Result<(), EngineError> {
        self.shared.call(call)?.live()?.playout.pause();
        Ok(())
    }

    /// Sets the call's `maxLatencyMs` (`None`: no cap), from its next tick.
    ///
    /// # Errors
    ///
    /// `CALL_ENDED`; `INVALID_ARGUMENT` below `prebufferMs` plus one frame.
    pub fn set_max_latency(&self, call: CallHandle, ms: Option<u32>) -> Result<(), EngineError> {
        self.shared.call(call)?.live()?.playout.set_max_latency(ms)
    }

    /// Plays on.
    ///
    /// # Errors
    ///
    /// `CALL_ENDED`.
    pub fn resume(&self, call: CallHandle) -> Result<(), EngineError> {
        self.shared.call(call)?.live()?.playout.resume();
        Ok(())
    }

    /// Stops the call's playout now; the engine's thread sends 0x00, closes, and reports the
    /// end with `reason`. Nothing happens for a call that has ended.
    pub fn hangup(&self, call: CallHandle, reason: EndReason) {
        let Ok(call) = self.shared.call(call) else {
            return;
        };
        if call.request_hangup(reason) {
            let target = (call.token, call.handle);
            self.shared.command(|c| c.hangups.push(target));
        }
    }

    /// The call's counters; after its end, the final ones, until the application has taken
    /// the end (so that a call it still sees as live always answers).
    ///
    /// # Errors
    ///
    /// `CALL_ENDED` once the call's end has been taken.
    pub fn stats(&self, call: CallHandle) -> Result<CallStats, EngineError> {
        Ok(self.shared.call(call)?.stats())
    }

    /// Takes every event reported since the last take (see [`Outbox::take`]). A call whose
    /// end is among them is forgotten: from now on its operations fail with `CALL_ENDED`.
    pub fn take_events(&self, into: &mut Batch) {
        self.shared.outbox.take(into);
        for event in &into.events {
            if let Event::End { call, .. } = event {
                self.shared.unregister(*call);
            }
        }
    }

    /// Stops accepting, lets queued audio play for at most `drain`, then hangs up every call
    /// and stops the thread. Returns at once: [`Event::Closed`](crate::events::Event::Closed)
    /// is the last event, after every call's end.
    pub fn close(&self, drain: Duration) {
        self.shared.command(|c| {
            c.close.get_or_insert(drain);
        });
    }

    /// Waits for the engine's thread to finish (at once after `Closed` was reported).
    pub fn join(&self) {
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            // A panic on the engine thread has already been reported by the panic hook.
            let _ = thread.join();
        }
    }

    /// Stops now, reporting nothing, and waits for the thread: for an environment that is
    /// going away (a worker thread exiting) or a server dropped without close().
    pub fn abort(&self) {
        self.shared.command(|c| c.abort = true);
        self.join();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Asks for the highest priority the process may set without real-time scheduling (the
/// lowest nice value it is allowed): the clock must not wait behind a JavaScript thread that is
/// busy on the same core. Best effort: an unprivileged process keeps its normal priority.
fn raise_priority() {
    let _ = thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Max);
}
