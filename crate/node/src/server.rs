//! `NativeServer`: the native engine as the TypeScript adapter (src/engine/native/engine.ts)
//! drives it. One engine thread per listening server; events reach JavaScript through one
//! ThreadsafeFunction, called once per batch with no arguments, after which JavaScript takes the
//! batch with `takeBatch()`.
//!
//! Lifetime: the ThreadsafeFunction exists from `listen()` to `dispose()` (which the adapter
//! calls on the batch that reports `closed`): while it exists it keeps the process alive, like a
//! listening socket; after it the process may exit. An env cleanup hook stops the engine thread
//! when the environment goes away first (a worker thread that exits).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audiosocket_engine::config::EngineConfig;
use audiosocket_engine::events::{Batch, EndReason, Notify};
use audiosocket_engine::format::AppFormat;
use audiosocket_engine::server::Server;
use napi::bindgen_prelude::{
    Float64ArraySlice, Function, FunctionRef, Int16ArraySlice, Object, Unknown,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{CleanupEnvHook, Env, Status};
use napi_derive::napi;

use crate::batch::Encoded;
use crate::config::JsEngineConfig;
use crate::error::{failed, from_napi, thrown, JsCode};
use napi::Result;

/// Called with no arguments when a batch is waiting; strong (keeps the process alive).
type BatchReady = ThreadsafeFunction<(), Unknown<'static>, (), Status, false>;

/// The ThreadsafeFunction, shared by the server object and the engine thread's notifier so that
/// `dispose()` can release it while the engine still holds the notifier.
type SharedBatchReady = Arc<Mutex<Option<BatchReady>>>;

struct Notifier(SharedBatchReady);

impl Notify for Notifier {
    fn notify(&self) {
        let ready = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ready) = ready.as_ref() {
            // Fails only while the environment is tearing down: nobody is left to tell.
            let _ = ready.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// Where a server listens (Node's `AddressInfo`).
#[napi(object)]
pub struct AddressInfo {
    pub address: String,
    pub port: u32,
    /// `IPv4` or `IPv6`.
    pub family: String,
}

impl From<SocketAddr> for AddressInfo {
    fn from(addr: SocketAddr) -> AddressInfo {
        AddressInfo {
            address: addr.ip().to_string(),
            port: u32::from(addr.port()),
            family: if addr.is_ipv4() { "IPv4" } else { "IPv6" }.to_owned(),
        }
    }
}

/// contract.ts `CancelledMark`.
#[napi(object)]
pub struct JsCancelledMark {
    pub mark: u32,
    pub ahead_ms: f64,
}

/// contract.ts `ClearResult`.
#[napi(object)]
pub struct JsClearResult {
    pub cleared_ms: f64,
    pub marks: Vec<JsCancelledMark>,
}

/// contract.ts `AudioFormat`.
#[napi(object)]
pub struct JsAppFormat {
    pub sample_rate: u32,
    pub channels: u32,
}

/// contract.ts `CallStats`.
#[napi(object)]
pub struct JsCallStats {
    pub frames_in: f64,
    pub frames_out: f64,
    pub silence_frames_out: f64,
    pub underruns: f64,
    pub queued_ms: f64,
    pub max_lateness_ms: f64,
    pub frames_dropped: f64,
    pub inbound_dropped: f64,
    pub latency_dropped_ms: f64,
}

/// The native engine of one AudioSocketServer.
#[napi]
pub struct NativeServer {
    /// Until listen().
    config: Option<EngineConfig>,
    on_batch: FunctionRef<(), Unknown<'static>>,
    server: Option<Arc<Server>>,
    ready: SharedBatchReady,
    cleanup: Option<CleanupEnvHook<Arc<Server>>>,
    /// The batch being handed to JavaScript, and its encoding; reused.
    batch: Batch,
    encoded: Encoded,
}

#[napi]
impl NativeServer {
    /// Validates `config` (the allow list above all) and keeps `onBatch`, called with no
    /// arguments whenever events wait to be taken with `takeBatch()`. Starts nothing.
    #[napi(constructor)]
    pub fn new(
        config: JsEngineConfig,
        on_batch: Function<(), Unknown<'static>>,
    ) -> Result<NativeServer, JsCode> {
        let config = EngineConfig::try_from(config).map_err(thrown)?;
        Ok(NativeServer {
            config: Some(config),
            on_batch: on_batch.create_ref().map_err(from_napi)?,
            server: None,
            ready: Arc::new(Mutex::new(None)),
            cleanup: None,
            batch: Batch::default(),
            encoded: Encoded::default(),
        })
    }

    /// Binds `host` (an IP address: the adapter resolves names) and `port`, and starts the
    /// engine thread.
    #[napi]
    pub fn listen(&mut self, env: &Env, host: String, port: u32) -> Result<AddressInfo, JsCode> {
        let config = self.config.take().ok_or_else(|| {
            failed(
                "ERR_AUDIOSOCKET_SERVER_CLOSED",
                "listen() was already called",
            )
        })?;
        let ip: IpAddr = host.parse().map_err(|_| {
            failed(
                "ERR_AUDIOSOCKET_INVALID_ARGUMENT",
                format!("not an IP address: {host:?}"),
            )
        })?;
        let port = u16::try_from(port).map_err(|_| {
            failed(
                "ERR_AUDIOSOCKET_INVALID_ARGUMENT",
                format!("port {port} is out of range"),
            )
        })?;
        let ready = self
            .on_batch
            .borrow_back(env)
            .and_then(|f| f.build_threadsafe_function().build_callback(|_| Ok(())))
            .map_err(from_napi)?;
        *self.ready.lock().unwrap_or_else(|e| e.into_inner()) = Some(ready);
        let server = Server::listen(
            config,
            SocketAddr::new(ip, port),
            Box::new(Notifier(self.ready.clone())),
        )
        .map_err(|e| {
            self.ready.lock().unwrap_or_else(|e| e.into_inner()).take();
            let code = e
                .raw_os_error()
                .map_or("ERR_AUDIOSOCKET_SOCKET", os_error_code);
            failed(code, format!("listen {host}:{port}: {e}"))
        })?;
        let address = AddressInfo::from(server.local_addr());
        let server = Arc::new(server);
        let hook = env
            .add_env_cleanup_hook(server.clone(), |server| server.abort())
            .map_err(from_napi)?;
        self.cleanup = Some(hook);
        self.server = Some(server);
        Ok(address)
    }

    /// The bound address, or null before listen() and after dispose().
    #[napi]
    pub fn address(&self) -> Option<AddressInfo> {
        self.server.as_ref().map(|s| s.local_addr().into())
    }

    /// Stops accepting, lets queued audio play for at most `drainMs`, then hangs up every call.
    /// Returns at once; the batch that reports `closed` ends it.
    #[napi]
    pub fn close(&self, drain_ms: f64) {
        if let Some(server) = &self.server {
            server.close(Duration::from_secs_f64(drain_ms.max(0.0) / 1000.0));
        }
    }

    /// After `closed`: joins the engine thread and releases the ThreadsafeFunction and the
    /// cleanup hook, so nothing of this server keeps the process alive.
    #[napi]
    pub fn dispose(&mut self, env: &Env) {
        if let Some(server) = self.server.take() {
            server.join();
        }
        if let Some(hook) = self.cleanup.take() {
            // Fails only while the environment is already tearing down.
            let _ = env.remove_env_cleanup_hook(hook);
        }
        self.ready.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Every event reported since the last call, as `{ meta, pcm, strings }` (see batch.rs),
    /// or null when there is none.
    #[napi(ts_return_type = "{ meta: Float64Array; pcm: Int16Array; strings: string[] } | null")]
    pub fn take_batch<'env>(&mut self, env: &'env Env) -> Result<Option<Object<'env>>, JsCode> {
        let Some(server) = &self.server else {
            return Ok(None);
        };
        server.take_events(&mut self.batch);
        if self.batch.is_empty() {
            return Ok(None);
        }
        self.encoded.encode(&self.batch);
        let mut object = Object::new(env).map_err(from_napi)?;
        let meta = Float64ArraySlice::copy_from(env, &self.encoded.meta).map_err(from_napi)?;
        let pcm = Int16ArraySlice::copy_from(env, &self.batch.pcm).map_err(from_napi)?;
        object.set("meta", meta).map_err(from_napi)?;
        object.set("pcm", pcm).map_err(from_napi)?;
        object
            .set("strings", std::mem::take(&mut self.encoded.strings))
            .map_err(from_napi)?;
        self.batch.clear();
        Ok(Some(object))
    }

    /// Lets the call's caller audio flow, in `format` (absent: the server's); what arrived
    /// before waits for this.
    #[napi]
    pub fn open(&self, call: u32, format: Option<JsAppFormat>) -> Result<(), JsCode> {
        let format = format.map(|f| AppFormat {
            sample_rate: f.sample_rate,
            channels: f.channels,
        });
        self.server()?.open(call, format).map_err(thrown)
    }

    /// Queues PCM for paced playout; returns the queue depth after it, ms.
    #[napi]
    pub fn write(&self, call: u32, pcm: &[i16]) -> Result<f64, JsCode> {
        self.server()?.write(call, pcm).map_err(thrown)
    }

    /// Queues mark `mark` after the audio written so far.
    #[napi]
    pub fn mark(&self, call: u32, mark: u32) -> Result<(), JsCode> {
        self.server()?.mark(call, mark).map_err(thrown)
    }

    /// Drops all queued audio now; says how much, and the marks cancelled.
    #[napi]
    pub fn clear(&self, call: u32) -> Result<JsClearResult, JsCode> {
        let result = self.server()?.clear(call).map_err(thrown)?;
        Ok(JsClearResult {
            cleared_ms: result.cleared_ms,
            marks: result
                .marks
                .into_iter()
                .map(|m| JsCancelledMark {
                    mark: m.mark,
                    ahead_ms: m.ahead_ms,
                })
                .collect(),
        })
    }

    #[napi]
    pub fn pause(&self, call: u32) -> Result<(), JsCode> {
        self.server()?.pause(call).map_err(thrown)
    }

    #[napi]
    pub fn resume(&self, call: u32) -> Result<(), JsCode> {
        self.server()?.resume(call).map_err(thrown)
    }

    /// Absent `ms`: no cap.
    #[napi]
    pub fn set_max_latency(&self, call: u32, ms: Option<u32>) -> Result<(), JsCode> {
        self.server()?.set_max_latency(call, ms).map_err(thrown)
    }

    /// Ends the call's playout now; 0x00 and the end follow from the engine thread. `reason`
    /// is `local-hangup` or `error` (a failed handler; the adapter keeps the error itself).
    #[napi]
    pub fn hangup(&self, call: u32, reason: String) {
        let reason = match reason.as_str() {
            "error" => EndReason::Error,
            "server-close" => EndReason::ServerClose,
            _ => EndReason::LocalHangup,
        };
        if let Some(server) = &self.server {
            server.hangup(call, reason);
        }
    }

    #[napi]
    pub fn stats(&self, call: u32) -> Result<JsCallStats, JsCode> {
        let stats = self.server()?.stats(call).map_err(thrown)?;
        Ok(JsCallStats {
            frames_in: stats.frames_in as f64,
            frames_out: stats.frames_out as f64,
            silence_frames_out: stats.silence_frames_out as f64,
            underruns: stats.underruns as f64,
            queued_ms: stats.queued_ms,
            max_lateness_ms: stats.max_lateness_ms,
            frames_dropped: stats.frames_dropped as f64,
            inbound_dropped: stats.inbound_dropped as f64,
            latency_dropped_ms: stats.latency_dropped_ms,
        })
    }

    fn server(&self) -> Result<&Server, JsCode> {
        self.server
            .as_deref()
            .ok_or_else(|| failed("ERR_AUDIOSOCKET_CALL_ENDED", "the server is not running"))
    }
}

/// Node's code for an OS error of bind(), so that `EADDRINUSE` reads the same on both engines.
fn os_error_code(errno: i32) -> &'static str {
    match errno {
        98 => "EADDRINUSE",
        99 => "EADDRNOTAVAIL",
        13 => "EACCES",
        _ => "ERR_AUDIOSOCKET_SOCKET",
    }
}
