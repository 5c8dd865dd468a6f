//! Errors of the protocol layer.
//!
//! Every error carries a stable [`ErrorCode`] whose string form is shared with the TypeScript
//! implementation and the test vectors, so callers (and the Node binding) match on the code and
//! never on the human-readable message, which may be reworded.

use std::fmt;

/// What went wrong, as a stable code. Codes may be added, never renamed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ErrorCode {
    /// A payload longer than the wire allows (65535 bytes) or than a decoder's `max_payload`.
    PayloadTooLarge,
    /// Zero-length audio: Asterisk 20.14+ hangs up the call on it, so it is never built.
    EmptyAudio,
    /// Odd-length slin: a sample split across two messages turns every later frame into noise.
    OddAudio,
    /// A UUID payload that is not 16 bytes, or a UUID string that is not 8-4-4-4-12 hex.
    BadUuid,
    /// A DTMF digit outside ASCII `0-9 * # A-D`, or a malformed fork DTMF payload.
    BadDtmf,
    /// A sample rate with no AudioSocket kind (see [`Kind::for_sample_rate`](super::Kind::for_sample_rate)).
    BadSampleRate,
    /// A message kind outside `0..=255` (only reachable from bindings that pass plain integers).
    BadKind,
    /// An argument out of its documented range (too small a buffer, a zero frame duration, ...).
    InvalidArgument,
    /// The byte stream ended in the middle of a message.
    Truncated,
}

impl ErrorCode {
    /// The stable string form, identical in the TypeScript implementation and in the vectors.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::PayloadTooLarge => "ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE",
            ErrorCode::EmptyAudio => "ERR_AUDIOSOCKET_EMPTY_AUDIO",
            ErrorCode::OddAudio => "ERR_AUDIOSOCKET_ODD_AUDIO",
            ErrorCode::BadUuid => "ERR_AUDIOSOCKET_BAD_UUID",
            ErrorCode::BadDtmf => "ERR_AUDIOSOCKET_BAD_DTMF",
            ErrorCode::BadSampleRate => "ERR_AUDIOSOCKET_BAD_SAMPLE_RATE",
            ErrorCode::BadKind => "ERR_AUDIOSOCKET_BAD_KIND",
            ErrorCode::InvalidArgument => "ERR_AUDIOSOCKET_INVALID_ARGUMENT",
            ErrorCode::Truncated => "ERR_AUDIOSOCKET_TRUNCATED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the protocol layer: a stable [`code`](ProtocolError::code) plus a message for
/// humans (e.g. "payload of 70000 bytes exceeds the limit of 65535").
///
/// `Display` prints the message only, so a binding can put the code and the message in
/// separate fields without repeating the code.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProtocolError {
    /// What went wrong; match on this.
    pub code: ErrorCode,
    message: String,
}

impl ProtocolError {
    /// An error with `code` and a human-readable `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProtocolError {
            code,
            message: message.into(),
        }
    }

    /// The human-readable message. It may be reworded between versions: do not parse it.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error for a payload of `len` bytes over a `limit`, worded the same everywhere.
    pub(crate) fn payload_too_large(len: usize, limit: usize) -> Self {
        ProtocolError::new(
            ErrorCode::PayloadTooLarge,
            format!("payload of {len} bytes exceeds the limit of {limit}"),
        )
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProtocolError {}

/// The result type of the protocol layer.
pub type Result<T, E = ProtocolError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_message_and_code_is_separate() {
        let err = ProtocolError::payload_too_large(70_000, 65_535);
        assert_eq!(
            err.to_string(),
            "payload of 70000 bytes exceeds the limit of 65535"
        );
        assert_eq!(err.code.as_str(), "ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE");
        assert_eq!(err.code.to_string(), "ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE");
    }
}
