//! Errors of the media engine, with the same stable codes as the TypeScript `ErrorCode`
//! (src/errors.ts), so that both engines report a failure identically.

use std::fmt;

use crate::protocol::{self, ProtocolError};

/// What went wrong, as a stable code. Its string form is what JavaScript sees.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Code {
    /// A header announced more than `maxPayload` bytes.
    PayloadTooLarge,
    /// Zero-length audio from the peer.
    EmptyAudio,
    /// Odd-length audio from the peer.
    OddAudio,
    /// A UUID message that does not carry 16 bytes.
    BadUuid,
    /// A DTMF payload that is no digit, or a malformed fork DTMF.
    BadDtmf,
    /// The peer closed inside a message.
    Truncated,
    /// A sample rate no AudioSocket kind carries.
    BadSampleRate,
    /// An option or argument out of its range.
    InvalidArgument,
    /// A peer outside the `allow` list.
    NotAllowed,
    /// A connection beyond `maxCalls`.
    MaxCalls,
    /// A connection beyond `connectionRateLimit` for its source.
    RateLimited,
    /// No UUID within `handshakeTimeoutMs`.
    HandshakeTimeout,
    /// The first message was not a UUID, or the peer closed first.
    NoUuid,
    /// A second UUID, an unknown kind or an error kind from the peer.
    UnexpectedMessage,
    /// A write past `maxQueueMs`.
    QueueFull,
    /// Caller audio arrived faster than the application took it: frames past
    /// `inboundQueueFrames` were dropped (a warning, once per episode).
    InboundOverflow,
    /// The peer stopped reading: frames past the unsent bound were dropped (a warning, once
    /// per episode).
    OutboundOverflow,
    /// An operation on a call that has ended.
    CallEnded,
    /// The connection failed (reset, write error).
    Socket,
    /// The audio on the wire is not what the configuration says (G.711 labelled 0x10 with
    /// `wire: 'auto'`); a warning, the call goes on.
    WireFormat,
}

impl Code {
    /// The stable string form, identical to the TypeScript `ErrorCode` values.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::PayloadTooLarge => "ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE",
            Code::EmptyAudio => "ERR_AUDIOSOCKET_EMPTY_AUDIO",
            Code::OddAudio => "ERR_AUDIOSOCKET_ODD_AUDIO",
            Code::BadUuid => "ERR_AUDIOSOCKET_BAD_UUID",
            Code::BadDtmf => "ERR_AUDIOSOCKET_BAD_DTMF",
            Code::Truncated => "ERR_AUDIOSOCKET_TRUNCATED",
            Code::BadSampleRate => "ERR_AUDIOSOCKET_BAD_SAMPLE_RATE",
            Code::InvalidArgument => "ERR_AUDIOSOCKET_INVALID_ARGUMENT",
            Code::NotAllowed => "ERR_AUDIOSOCKET_NOT_ALLOWED",
            Code::MaxCalls => "ERR_AUDIOSOCKET_MAX_CALLS",
            Code::RateLimited => "ERR_AUDIOSOCKET_RATE_LIMITED",
            Code::HandshakeTimeout => "ERR_AUDIOSOCKET_HANDSHAKE_TIMEOUT",
            Code::NoUuid => "ERR_AUDIOSOCKET_NO_UUID",
            Code::UnexpectedMessage => "ERR_AUDIOSOCKET_UNEXPECTED_MESSAGE",
            Code::QueueFull => "ERR_AUDIOSOCKET_QUEUE_FULL",
            Code::InboundOverflow => "ERR_AUDIOSOCKET_INBOUND_OVERFLOW",
            Code::OutboundOverflow => "ERR_AUDIOSOCKET_OUTBOUND_OVERFLOW",
            Code::CallEnded => "ERR_AUDIOSOCKET_CALL_ENDED",
            Code::Socket => "ERR_AUDIOSOCKET_SOCKET",
            Code::WireFormat => "ERR_AUDIOSOCKET_WIRE_FORMAT",
        }
    }
}

impl From<protocol::ErrorCode> for Code {
    fn from(code: protocol::ErrorCode) -> Code {
        match code {
            protocol::ErrorCode::PayloadTooLarge => Code::PayloadTooLarge,
            protocol::ErrorCode::EmptyAudio => Code::EmptyAudio,
            protocol::ErrorCode::OddAudio => Code::OddAudio,
            protocol::ErrorCode::BadUuid => Code::BadUuid,
            protocol::ErrorCode::BadDtmf => Code::BadDtmf,
            protocol::ErrorCode::BadSampleRate => Code::BadSampleRate,
            protocol::ErrorCode::BadKind | protocol::ErrorCode::InvalidArgument => {
                Code::InvalidArgument
            }
            protocol::ErrorCode::Truncated => Code::Truncated,
        }
    }
}

/// An engine error: a stable [`Code`] and a message for humans (which may be reworded).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EngineError {
    /// What went wrong; match on this.
    pub code: Code,
    /// What happened, for humans.
    pub message: String,
}

impl EngineError {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> EngineError {
        EngineError {
            code,
            message: message.into(),
        }
    }
}

impl From<ProtocolError> for EngineError {
    fn from(error: ProtocolError) -> EngineError {
        EngineError::new(error.code.into(), error.message())
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for EngineError {}
