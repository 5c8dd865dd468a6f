//! The engine settings as the TypeScript adapter passes them (contract.ts `EngineConfig`,
//! already validated and defaulted by the facade).

use audiosocket_engine::allow::AllowList;
use audiosocket_engine::config::{EngineConfig, Idle};
use audiosocket_engine::error::{Code, EngineError};
use audiosocket_engine::format::Wire;
use audiosocket_engine::rate_limit::RateLimit;
use napi_derive::napi;

/// contract.ts `EngineConfig`, field for field.
#[napi(object)]
pub struct JsEngineConfig {
    pub sample_rate: u32,
    pub channels: u32,
    /// `auto`, `slin`, `ulaw` or `alaw`.
    pub wire: String,
    pub output_rate: u32,
    pub prebuffer_ms: u32,
    /// `silence` or `none`.
    pub idle: String,
    pub handshake_timeout_ms: u32,
    pub max_calls: u32,
    pub allow: Vec<String>,
    /// Absent for no limit.
    pub connection_rate_limit: Option<JsRateLimit>,
    pub max_payload: u32,
    pub high_water_ms: u32,
    pub low_water_ms: u32,
    pub max_queue_ms: u32,
    /// Absent: no cap.
    pub max_latency_ms: Option<u32>,
    pub inbound_backlog_ms: u32,
}

/// contract.ts `ConnectionRateLimit`.
#[napi(object)]
pub struct JsRateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl TryFrom<JsEngineConfig> for EngineConfig {
    type Error = EngineError;

    fn try_from(js: JsEngineConfig) -> Result<EngineConfig, EngineError> {
        let idle = match js.idle.as_str() {
            "silence" => Idle::Silence,
            "none" => Idle::None,
            other => {
                let message = format!("idle must be 'silence' or 'none', got {other:?}");
                return Err(EngineError::new(Code::InvalidArgument, message));
            }
        };
        let wire = match js.wire.as_str() {
            "auto" => Wire::Auto,
            "slin" => Wire::Slin,
            "ulaw" => Wire::Ulaw,
            "alaw" => Wire::Alaw,
            other => {
                let message =
                    format!("wire must be 'auto', 'slin', 'ulaw' or 'alaw', got {other:?}");
                return Err(EngineError::new(Code::InvalidArgument, message));
            }
        };
        let config = EngineConfig {
            sample_rate: js.sample_rate,
            channels: js.channels,
            wire,
            output_rate: js.output_rate,
            prebuffer_ms: js.prebuffer_ms,
            idle,
            handshake_timeout_ms: js.handshake_timeout_ms,
            max_calls: js.max_calls,
            allow: AllowList::parse(&js.allow)?,
            connection_rate_limit: js.connection_rate_limit.map(|limit| RateLimit {
                per_second: limit.per_second,
                burst: limit.burst,
            }),
            max_payload: js.max_payload,
            high_water_ms: js.high_water_ms,
            low_water_ms: js.low_water_ms,
            max_queue_ms: js.max_queue_ms,
            max_latency_ms: js.max_latency_ms,
            inbound_backlog_ms: js.inbound_backlog_ms,
        };
        config.validate()?;
        Ok(config)
    }
}
