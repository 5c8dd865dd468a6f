//! Cutting a TCP byte stream into messages.
//!
//! TCP delivers bytes in arbitrary pieces: a read may end inside a header, inside a payload, or
//! hold many messages. [`Decoder`] is an explicit state machine fed with whatever each read
//! returned, so that no split can desynchronise it, and it is built for the receive path of
//! many concurrent calls:
//!
//! - zero copy when it can: a payload that lies whole inside the bytes of one `feed` is handed
//!   out borrowed from them;
//! - otherwise one internal buffer per decoder, reused, so that a warm decoder does not allocate
//!   per frame;
//! - a hard payload limit checked as soon as a header is complete, before anything is buffered,
//!   so that a peer that is not AudioSocket (an HTTP request reads as kind `G`, 17748 bytes)
//!   cannot make it hold memory.

use std::cmp::min;

use super::error::{ErrorCode, ProtocolError, Result};
use super::kind::Kind;
use super::message::Message;
use super::{HEADER_LEN, MAX_PAYLOAD};

/// Where the decoder is in the stream.
#[derive(Clone, Debug)]
enum State {
    /// Between messages or inside a header: `got` bytes of it are in `header`.
    Header {
        got: usize,
        header: [u8; HEADER_LEN],
    },
    /// Header complete, payload incomplete. The payload bytes received so far are in
    /// `Decoder::buf`: its length is the count, so no second counter can disagree with it.
    Payload { kind: Kind, len: usize },
    /// A fatal error. There is no way to find the next message boundary after a bad length, so
    /// the decoder refuses everything from then on.
    Failed(ProtocolError),
}

impl State {
    const START: State = State::Header {
        got: 0,
        header: [0; HEADER_LEN],
    };
}

/// Streaming AudioSocket decoder: bytes in any split in, [`Message`]s out, in order.
///
/// One decoder per connection. Memory held is at most `max_payload` bytes of buffer plus the
/// struct itself.
///
/// ```
/// use audiosocket_engine::protocol::{Decoder, Message};
///
/// let mut decoder = Decoder::new();
/// let mut digits = Vec::new();
/// // One DTMF message, split by TCP across three reads.
/// for read in [&b"\x03\x00"[..], &b"\x01"[..], &b"5"[..]] {
///     decoder.feed(read, |msg| {
///         if let Message::Dtmf { digit, .. } = msg {
///             digits.push(digit);
///         }
///     })?;
/// }
/// decoder.finish()?; // at end of stream: nothing left half-read
/// assert_eq!(digits, b"5");
/// # Ok::<(), audiosocket_engine::protocol::ProtocolError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Decoder {
    state: State,
    /// Payload being assembled across feeds. Cleared, never shrunk: its capacity is what makes
    /// later frames allocation-free.
    buf: Vec<u8>,
    max_payload: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder accepting any payload the wire can carry (65535 bytes).
    #[must_use]
    pub fn new() -> Self {
        Decoder::with_max_payload(MAX_PAYLOAD)
    }

    /// A decoder refusing payloads longer than `max_payload` bytes with
    /// [`ErrorCode::PayloadTooLarge`]. Asterisk's largest frames are a few KB (7680 bytes for
    /// 20 ms at 192 kHz, 23040 for 60 ms), so a limit of that order is safe and stops a
    /// confused peer early. Values above 65535 behave as 65535.
    #[must_use]
    pub fn with_max_payload(max_payload: usize) -> Self {
        Decoder {
            state: State::START,
            buf: Vec::new(),
            max_payload,
        }
    }

    /// The payload limit in bytes this decoder was built with.
    #[must_use]
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// Bytes of the current, incomplete message received so far (header bytes included): 0
    /// between messages and after a failure.
    #[must_use]
    pub fn buffered(&self) -> usize {
        match self.state {
            State::Header { got, .. } => got,
            State::Payload { .. } => HEADER_LEN + self.buf.len(),
            State::Failed(_) => 0,
        }
    }

    /// Decodes `input`, the next bytes of the stream, calling `on_message` once per complete
    /// message, in stream order. Bytes of an incomplete message are kept for the next call.
    ///
    /// The message borrows from `input` when its payload lies whole inside it, else from the
    /// decoder's buffer: copy what must outlive the callback.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::PayloadTooLarge`] as soon as a header announces more than `max_payload`
    /// bytes; messages before it in `input` have been delivered. The decoder then stays failed:
    /// every later call returns the same error. Malformed payloads of known kinds are not errors
    /// (see [`Message::Invalid`]).
    pub fn feed(
        &mut self,
        mut input: &[u8],
        mut on_message: impl FnMut(Message<'_>),
    ) -> Result<()> {
        loop {
            match self.state {
                State::Failed(ref err) => return Err(err.clone()),
                State::Header { got, mut header } => {
                    if got == 0 && input.len() >= HEADER_LEN {
                        // The usual case: the header is whole in this read.
                        header.copy_from_slice(&input[..HEADER_LEN]);
                        input = &input[HEADER_LEN..];
                    } else {
                        let take = min(HEADER_LEN - got, input.len());
                        header[got..got + take].copy_from_slice(&input[..take]);
                        input = &input[take..];
                        if got + take < HEADER_LEN {
                            self.state = State::Header {
                                got: got + take,
                                header,
                            };
                            return Ok(());
                        }
                    }
                    let kind = Kind(header[0]);
                    let len = usize::from(u16::from_be_bytes([header[1], header[2]]));
                    if len > self.max_payload {
                        let err = ProtocolError::new(
                            ErrorCode::PayloadTooLarge,
                            format!(
                                "payload of {len} bytes (kind 0x{:02x}) exceeds the limit of {}",
                                kind.0, self.max_payload
                            ),
                        );
                        self.state = State::Failed(err.clone());
                        return Err(err);
                    }
                    if input.len() >= len {
                        let (payload, rest) = input.split_at(len);
                        // State first: if the callback panics, the decoder is still consistent.
                        self.state = State::START;
                        on_message(Message::parse(kind, payload));
                        input = rest;
                    } else {
                        self.buf.clear();
                        // One reservation for the whole payload: no regrowth while it arrives,
                        // and none at all once the buffer has seen a payload this large.
                        self.buf.reserve(len);
                        self.buf.extend_from_slice(input);
                        self.state = State::Payload { kind, len };
                        return Ok(());
                    }
                }
                State::Payload { kind, len } => {
                    let take = min(len - self.buf.len(), input.len());
                    self.buf.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if self.buf.len() < len {
                        return Ok(());
                    }
                    self.state = State::START;
                    on_message(Message::parse(kind, &self.buf));
                    self.buf.clear();
                }
            }
        }
    }

    /// Checks that the stream may end here: call it when the peer closes the connection.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::Truncated`] if the stream ended inside a message (its bytes are dropped);
    /// the decoder's own error if it had failed.
    pub fn finish(&self) -> Result<()> {
        match self.state {
            State::Header { got: 0, .. } => Ok(()),
            State::Header { got, .. } => Err(ProtocolError::new(
                ErrorCode::Truncated,
                format!("stream ended after {got} of the {HEADER_LEN} bytes of a message header"),
            )),
            State::Payload { kind, len } => Err(ProtocolError::new(
                ErrorCode::Truncated,
                format!(
                    "stream ended after {} of the {len} payload bytes of a kind 0x{:02x} message",
                    self.buf.len(),
                    kind.0
                ),
            )),
            State::Failed(ref err) => Err(err.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(outer: &[u8], inner: &[u8]) -> bool {
        let range = outer.as_ptr_range();
        range.start <= inner.as_ptr() && inner.as_ptr_range().end <= range.end
    }

    #[test]
    fn whole_payloads_are_borrowed_from_input() {
        let input = [0x10, 0, 2, 1, 2, 0x10, 0, 2, 3, 4];
        let mut decoder = Decoder::new();
        let mut seen = 0;
        decoder
            .feed(&input, |msg| {
                assert!(contains(&input, msg.payload()));
                seen += 1;
            })
            .unwrap();
        assert_eq!(seen, 2);
    }

    #[test]
    fn payload_after_a_split_header_is_still_borrowed() {
        let mut decoder = Decoder::new();
        decoder.feed(&[0x10, 0], |_| panic!("nothing yet")).unwrap();
        assert_eq!(decoder.buffered(), 2);
        let rest = [2, 1, 2];
        let mut seen = 0;
        decoder
            .feed(&rest, |msg| {
                assert!(contains(&rest, msg.payload()));
                seen += 1;
            })
            .unwrap();
        assert_eq!(seen, 1);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn assembly_buffer_is_reused() {
        let mut decoder = Decoder::new();
        let frame: Vec<u8> = [0x10, 0x01, 0x40].into_iter().chain([0; 320]).collect();
        let mut count = 0;
        decoder.feed(&frame[..100], |_| count += 1).unwrap();
        decoder.feed(&frame[100..], |_| count += 1).unwrap();
        let capacity = decoder.buf.capacity();
        let pointer = decoder.buf.as_ptr();
        for _ in 0..100 {
            decoder.feed(&frame[..7], |_| count += 1).unwrap();
            assert_eq!(decoder.buffered(), 7);
            decoder.feed(&frame[7..], |_| count += 1).unwrap();
        }
        assert_eq!(count, 101);
        assert_eq!(decoder.buf.capacity(), capacity);
        assert_eq!(decoder.buf.as_ptr(), pointer);
    }

    #[test]
    fn oversize_fails_before_buffering_and_stays_failed() {
        let mut decoder = Decoder::with_max_payload(4);
        let err = decoder
            .feed(&[0x10, 0, 5], |_| panic!("no message"))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::PayloadTooLarge);
        assert_eq!(
            err.to_string(),
            "payload of 5 bytes (kind 0x10) exceeds the limit of 4"
        );
        assert_eq!(decoder.buf.capacity(), 0);
        assert_eq!(decoder.buffered(), 0);
        assert_eq!(
            decoder
                .feed(&[0, 0, 0], |_| panic!("no message"))
                .unwrap_err(),
            err
        );
        assert_eq!(
            decoder.feed(&[], |_| panic!("no message")).unwrap_err(),
            err
        );
        assert_eq!(decoder.finish().unwrap_err(), err);
    }

    #[test]
    fn finish_reports_truncation() {
        let mut decoder = Decoder::new();
        decoder.finish().unwrap();
        decoder.feed(&[0x10], |_| {}).unwrap();
        assert_eq!(decoder.finish().unwrap_err().code, ErrorCode::Truncated);
        decoder.feed(&[0, 4, 1], |_| {}).unwrap();
        let err = decoder.finish().unwrap_err();
        assert_eq!(err.code, ErrorCode::Truncated);
        assert_eq!(
            err.to_string(),
            "stream ended after 1 of the 4 payload bytes of a kind 0x10 message"
        );
        assert_eq!(decoder.buffered(), 4);
        decoder.feed(&[2, 3, 4], |_| {}).unwrap();
        decoder.finish().unwrap();
    }

    #[test]
    fn zero_length_payload_completes_with_its_header() {
        let mut decoder = Decoder::new();
        let mut got = Vec::new();
        decoder.feed(&[0x00, 0x00], |m| got.push(m.kind())).unwrap();
        decoder.feed(&[0x00], |m| got.push(m.kind())).unwrap();
        assert_eq!(got, [Kind::HANGUP]);
        decoder.finish().unwrap();
    }
}
