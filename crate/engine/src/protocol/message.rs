//! What a framed message means.
//!
//! Framing (header + payload) and meaning are separate on purpose: the decoder only cuts the
//! stream, and [`Message::parse`] gives each frame its meaning without ever failing. A
//! malformed payload of a known kind becomes [`Message::Invalid`] because the length header
//! still says where the next message starts: the stream is in sync and the call can go on.

use super::error::ErrorCode;
use super::kind::Kind;
use super::uuid::CallId;

/// Length of the CyCoreSystems fork's DTMF payload on kind `0x02`.
const FORK_DTMF_LEN: usize = 6;

/// Whether `byte` is a DTMF digit Asterisk sends: ASCII `0-9 * # A-D`.
///
/// Lower-case `a-d` is refused: Asterisk never sends it, so seeing it means the peer is not
/// Asterisk or the stream is corrupt.
#[must_use]
pub const fn is_dtmf_digit(byte: u8) -> bool {
    matches!(byte, b'0'..=b'9' | b'*' | b'#' | b'A'..=b'D')
}

/// Key down or key up, in the CyCoreSystems fork's DTMF.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DtmfState {
    /// Key down (state byte `1`).
    Start,
    /// Key up (state byte `0`).
    End,
}

/// The extra fields of the CyCoreSystems fork's DTMF (6-byte payload on kind `0x02`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ForkDtmf {
    /// Key down or key up.
    pub state: DtmfState,
    /// Duration of the digit in milliseconds (`u32` little-endian on the wire).
    pub duration_ms: u32,
}

/// One decoded message. Payloads borrow from the decoder's input or buffer (zero copy): copy
/// what must outlive the callback.
///
/// Every variant keeps access to the raw payload through [`Message::payload`], so nothing is
/// lost by classifying.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Message<'a> {
    /// `0x00`. A payload is not expected but is kept, as Asterisk would ignore it.
    Hangup {
        /// The payload as received, normally empty.
        payload: &'a [u8],
    },
    /// `0x01` with exactly 16 bytes.
    Uuid(CallId),
    /// `0x02` with an empty payload (Go library only).
    Silence,
    /// A DTMF digit: Asterisk's `0x03` (1 byte) or the fork's `0x02` (6 bytes).
    Dtmf {
        /// [`Kind::DTMF`] or, for the fork, [`Kind::SILENCE`].
        kind: Kind,
        /// The ASCII digit, one of `0-9 * # A-D`.
        digit: u8,
        /// Present for the fork's 6-byte form only.
        fork: Option<ForkDtmf>,
        /// The payload as received (1 or 6 bytes).
        payload: &'a [u8],
    },
    /// An audio kind `0x10..=0x18`, of any length, including 0 and odd lengths: Asterisk
    /// sends a short last frame, and on the `Dial()` path 0x10 carries ulaw/alaw (1 byte per
    /// sample), so the length is reported, not judged.
    Audio {
        /// The kind as received.
        kind: Kind,
        /// Hz, from the kind.
        sample_rate: u32,
        /// Signed 16-bit little-endian mono PCM (unless another codec was negotiated). Payloads
        /// start at an odd offset of the stream: read samples with `i16::from_le_bytes`.
        payload: &'a [u8],
    },
    /// `0xff`.
    Error {
        /// The first payload byte (Go library: 1 hangup, 2 frame forwarding, 4 memory), or
        /// `None` when the payload is empty.
        code: Option<u8>,
        /// The payload as received.
        payload: &'a [u8],
    },
    /// A kind with no known meaning.
    Unknown {
        /// The kind as received.
        kind: Kind,
        /// The payload as received.
        payload: &'a [u8],
    },
    /// A known kind whose payload is malformed. The stream itself is still in sync.
    Invalid {
        /// The kind as received.
        kind: Kind,
        /// The payload as received.
        payload: &'a [u8],
        /// What is wrong: [`ErrorCode::BadUuid`] or [`ErrorCode::BadDtmf`].
        error: ErrorCode,
    },
}

impl<'a> Message<'a> {
    /// Gives a framed message its meaning. Never fails: malformed payloads of known kinds
    /// become [`Message::Invalid`], other kinds [`Message::Unknown`].
    #[must_use]
    pub fn parse(kind: Kind, payload: &'a [u8]) -> Message<'a> {
        let invalid = |error| Message::Invalid {
            kind,
            payload,
            error,
        };
        match kind {
            Kind::HANGUP => Message::Hangup { payload },
            Kind::UUID => match CallId::from_slice(payload) {
                Some(id) => Message::Uuid(id),
                None => invalid(ErrorCode::BadUuid),
            },
            Kind::SILENCE if payload.is_empty() => Message::Silence,
            Kind::SILENCE => match parse_fork_dtmf(payload) {
                Some((digit, fork)) => Message::Dtmf {
                    kind,
                    digit,
                    fork: Some(fork),
                    payload,
                },
                None => invalid(ErrorCode::BadDtmf),
            },
            Kind::DTMF => match *payload {
                [digit] if is_dtmf_digit(digit) => Message::Dtmf {
                    kind,
                    digit,
                    fork: None,
                    payload,
                },
                _ => invalid(ErrorCode::BadDtmf),
            },
            Kind::ERROR => Message::Error {
                code: payload.first().copied(),
                payload,
            },
            _ => match kind.sample_rate() {
                Some(sample_rate) => Message::Audio {
                    kind,
                    sample_rate,
                    payload,
                },
                None => Message::Unknown { kind, payload },
            },
        }
    }

    /// The kind byte this message had on the wire.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match *self {
            Message::Hangup { .. } => Kind::HANGUP,
            Message::Uuid(_) => Kind::UUID,
            Message::Silence => Kind::SILENCE,
            Message::Error { .. } => Kind::ERROR,
            Message::Dtmf { kind, .. }
            | Message::Audio { kind, .. }
            | Message::Unknown { kind, .. }
            | Message::Invalid { kind, .. } => kind,
        }
    }

    /// The payload as it was on the wire (empty for [`Message::Silence`], the 16 id bytes for
    /// [`Message::Uuid`]).
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        match self {
            Message::Silence => &[],
            Message::Uuid(id) => id.as_bytes(),
            Message::Hangup { payload }
            | Message::Dtmf { payload, .. }
            | Message::Audio { payload, .. }
            | Message::Error { payload, .. }
            | Message::Unknown { payload, .. }
            | Message::Invalid { payload, .. } => payload,
        }
    }
}

/// The digit and fields of a fork DTMF payload, or `None` if it is not exactly that.
fn parse_fork_dtmf(payload: &[u8]) -> Option<(u8, ForkDtmf)> {
    let [state, digit, d0, d1, d2, d3] = *<&[u8; FORK_DTMF_LEN]>::try_from(payload).ok()?;
    let state = match state {
        1 => DtmfState::Start,
        0 => DtmfState::End,
        _ => return None,
    };
    if !is_dtmf_digit(digit) {
        return None;
    }
    Some((
        digit,
        ForkDtmf {
            state,
            duration_ms: u32::from_le_bytes([d0, d1, d2, d3]),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_and_payload_survive_classification() {
        let cases: [(u8, &[u8]); 12] = [
            (0x00, b""),
            (0x00, b"\x01"),
            (0x01, &[7; 16]),
            (0x01, &[7; 15]),
            (0x02, b""),
            (0x02, b"\x01\x37\x00\x00\x00\x00"),
            (0x02, b"\x01\x02"),
            (0x03, b"5"),
            (0x03, b"55"),
            (0x12, b"\x01"),
            (0xff, b""),
            (0x42, b"xy"),
        ];
        for (kind, payload) in cases {
            let msg = Message::parse(Kind(kind), payload);
            assert_eq!(msg.kind(), Kind(kind), "{msg:?}");
            assert_eq!(msg.payload(), payload, "{msg:?}");
        }
    }

    #[test]
    fn fork_dtmf_fields() {
        let msg = Message::parse(Kind::SILENCE, b"\x00\x23\x87\xd6\x12\x00");
        assert_eq!(
            msg,
            Message::Dtmf {
                kind: Kind::SILENCE,
                digit: b'#',
                fork: Some(ForkDtmf {
                    state: DtmfState::End,
                    duration_ms: 1_234_567
                }),
                payload: b"\x00\x23\x87\xd6\x12\x00",
            }
        );
    }

    #[test]
    fn dtmf_digits_are_exactly_the_sixteen() {
        let digits: Vec<u8> = (0..=255u8).filter(|&b| is_dtmf_digit(b)).collect();
        assert_eq!(digits, b"#*0123456789ABCD");
    }
}
