//! The settings of a server: the `EngineConfig` of src/engine/contract.ts, already validated and
//! defaulted by the facade, and checked again here where a bad value would break an invariant.

use crate::allow::AllowList;
use crate::error::{Code, EngineError};
use crate::format::{AppFormat, Wire, APP_RATES};
use crate::playout::FRAME_MS;
use crate::protocol::Kind;
use crate::rate_limit::RateLimit;

/// What is sent while nothing is queued or while paused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Idle {
    /// Paced frames of zeros: keeps Asterisk's 2 s inactivity timer (dialplan app) quiet.
    Silence,
    /// Nothing at all.
    None,
}

/// Settings every engine takes (contract.ts `EngineConfig`).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Hz of the audio the application reads and writes (default 8000): one of
    /// [`APP_RATES`].
    pub sample_rate: u32,
    /// Channels of the application's audio: 1, or 2 (interleaved; downmixed on the way out,
    /// caller audio duplicated on both) (default 1).
    pub channels: u32,
    /// How 0x10 frames are read and frames sent are encoded (default auto).
    pub wire: Wire,
    /// Hz of the frames sent, which sets their kind (default 8000; 8000 for G.711). The facade
    /// decides it from the app rate and the Asterisk version.
    pub output_rate: u32,
    /// Audio queued before playout starts, ms (default 40).
    pub prebuffer_ms: u32,
    /// What to send while idle or paused (default silence).
    pub idle: Idle,
    /// A connection must send its UUID within this many ms (default 2000).
    pub handshake_timeout_ms: u32,
    /// Calls and handshaking connections at once; more get 0x00 and are closed (default 5000).
    pub max_calls: u32,
    /// Peers allowed to connect; empty allows everyone.
    pub allow: AllowList,
    /// Connections per second and burst per source; `None` for no limit (default 200 per
    /// second, burst 1000).
    pub connection_rate_limit: Option<RateLimit>,
    /// Longest payload accepted from the network, bytes (default 32768).
    pub max_payload: u32,
    /// Queue depth above which write() reports back-pressure, ms (default 1000).
    pub high_water_ms: u32,
    /// Queue depth at which drain is reported after high water was passed, ms (default 500).
    pub low_water_ms: u32,
    /// Queue depth beyond which write() refuses audio with QUEUE_FULL, ms (default 60000).
    pub max_queue_ms: u32,
    /// For live audio: at each tick of a playing call, queued audio beyond this many ms is
    /// dropped, oldest first (default `None`: nothing is ever dropped). At least `prebuffer_ms`
    /// plus one frame.
    pub max_latency_ms: Option<u32>,
    /// Caller audio per call that may wait for the application to take it, ms (default 5000);
    /// newer frames are dropped past it, so a stalled application costs bounded memory.
    pub inbound_backlog_ms: u32,
}

impl EngineConfig {
    /// Caller audio frames per call that may wait for the application: `inbound_backlog_ms`
    /// in frames, at least one.
    #[must_use]
    pub fn inbound_backlog_frames(&self) -> u64 {
        let frame_ms = crate::clock::PERIOD.as_millis() as u64;
        u64::from(self.inbound_backlog_ms).div_ceil(frame_ms)
    }

    /// The server's app format: every call's unless it is opened with its own.
    #[must_use]
    pub fn app_format(&self) -> AppFormat {
        AppFormat {
            sample_rate: self.sample_rate,
            channels: self.channels,
        }
    }

    /// These settings with another app format, for a call opened with its own.
    ///
    /// # Errors
    ///
    /// `BAD_SAMPLE_RATE` or `INVALID_ARGUMENT` for a format no call can have.
    pub fn with_app_format(&self, format: AppFormat) -> Result<EngineConfig, EngineError> {
        let config = EngineConfig {
            sample_rate: format.sample_rate,
            channels: format.channels,
            allow: AllowList::default(), // only the listener uses it
            ..self.clone()
        };
        config.validate()?;
        Ok(config)
    }

    /// The kind of the frames sent.
    #[must_use]
    pub fn frame_kind(&self) -> Kind {
        Kind::for_sample_rate(self.output_rate).unwrap_or(Kind::SLIN_8K)
    }

    /// Checks what the engine relies on: an app rate the resampler takes, frames sent at a
    /// rate with a kind (8 kHz for G.711), water marks in order.
    ///
    /// # Errors
    ///
    /// `BAD_SAMPLE_RATE` or `INVALID_ARGUMENT`, naming the value.
    pub fn validate(&self) -> Result<(), EngineError> {
        if !APP_RATES.contains(&self.sample_rate) {
            return Err(EngineError::new(
                Code::BadSampleRate,
                format!(
                    "sampleRate {} Hz is not one of {APP_RATES:?}",
                    self.sample_rate
                ),
            ));
        }
        let g711 = self.wire.law().is_some();
        if Kind::for_sample_rate(self.output_rate).is_none() || (g711 && self.output_rate != 8000) {
            return Err(EngineError::new(
                Code::BadSampleRate,
                format!(
                    "outputRate {} Hz: frames are sent at a kind's rate, 8000 for G.711",
                    self.output_rate
                ),
            ));
        }
        if self.channels != 1 && self.channels != 2 {
            return Err(EngineError::new(
                Code::InvalidArgument,
                format!("channels must be 1 or 2, got {}", self.channels),
            ));
        }
        if self.low_water_ms > self.high_water_ms || self.high_water_ms > self.max_queue_ms {
            return Err(EngineError::new(
                Code::InvalidArgument,
                "lowWaterMs <= highWaterMs <= maxQueueMs is required",
            ));
        }
        if self
            .max_latency_ms
            .is_some_and(|ms| ms < self.prebuffer_ms + FRAME_MS)
        {
            return Err(EngineError::new(
                Code::InvalidArgument,
                "maxLatencyMs must be at least prebufferMs + 20 (one frame)",
            ));
        }
        let bad_rate = |limit: &RateLimit| {
            !(limit.per_second.is_finite() && limit.per_second > 0.0 && limit.burst >= 1.0)
        };
        if self.connection_rate_limit.as_ref().is_some_and(bad_rate) {
            return Err(EngineError::new(
                Code::InvalidArgument,
                "connectionRateLimit needs perSecond > 0 and burst >= 1",
            ));
        }
        if self.max_calls == 0 || self.max_payload == 0 || self.inbound_backlog_ms == 0 {
            return Err(EngineError::new(
                Code::InvalidArgument,
                "maxCalls, maxPayload and inboundBacklogMs must be at least 1",
            ));
        }
        Ok(())
    }
}

impl Default for EngineConfig {
    /// The facade's defaults (src/server.ts).
    fn default() -> EngineConfig {
        EngineConfig {
            sample_rate: 8000,
            channels: 1,
            wire: Wire::Auto,
            output_rate: 8000,
            prebuffer_ms: 40,
            idle: Idle::Silence,
            handshake_timeout_ms: 2000,
            max_calls: 5000,
            allow: AllowList::default(),
            connection_rate_limit: Some(RateLimit {
                per_second: 200.0,
                burst: 1000.0,
            }),
            max_payload: 32_768,
            high_water_ms: 1000,
            low_water_ms: 500,
            max_queue_ms: 60_000,
            max_latency_ms: None,
            inbound_backlog_ms: 5000,
        }
    }
}
