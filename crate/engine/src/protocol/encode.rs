//! Building messages to send to Asterisk.
//!
//! Every builder writes ONE contiguous message (header and payload together) because Asterisk's
//! reader is fragile with split messages: 20.13 and older drop the call when a message arrives
//! in two TCP segments, 20.15+ wait only 5 ms for the rest of a payload. Handing one buffer to
//! one `write()` (with `TCP_NODELAY`) is what keeps a message in one segment.
//!
//! The builders append to a caller-owned `Vec<u8>` so that one buffer can be reused for every
//! frame of a call; [`write_frame`] writes into a fixed slice for a hot path with no allocation
//! at all.
//!
//! The audio builders refuse what Asterisk would hang up on or turn into noise (empty audio,
//! odd lengths, rates without a kind). [`encode_raw`] refuses nothing but oversize payloads: it
//! exists to test peers with arbitrary messages.

use super::error::{ErrorCode, ProtocolError, Result};
use super::kind::Kind;
use super::message::is_dtmf_digit;
use super::uuid::CallId;
use super::{HEADER_LEN, MAX_PAYLOAD};

/// Appends header and payload. The caller has checked `payload.len() <= MAX_PAYLOAD`.
fn push(out: &mut Vec<u8>, kind: Kind, payload: &[u8]) {
    debug_assert!(payload.len() <= MAX_PAYLOAD);
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&header(kind, payload.len()));
    out.extend_from_slice(payload);
}

fn header(kind: Kind, len: usize) -> [u8; HEADER_LEN] {
    let [hi, lo] = (len as u16).to_be_bytes();
    [kind.0, hi, lo]
}

fn check_len(len: usize) -> Result<()> {
    if len > MAX_PAYLOAD {
        return Err(ProtocolError::payload_too_large(len, MAX_PAYLOAD));
    }
    Ok(())
}

/// Appends a hangup (`00 00 00`). Send it before closing the socket: without it old Asterisk
/// versions spin at 100 % CPU with the call still up.
pub fn encode_hangup(out: &mut Vec<u8>) {
    push(out, Kind::HANGUP, &[]);
}

/// Appends an empty `0x02` (silence of the Go library). Asterisk 20.14+ hangs up on it: to keep
/// a call alive, send audio frames of zeros instead.
pub fn encode_silence(out: &mut Vec<u8>) {
    push(out, Kind::SILENCE, &[]);
}

/// Appends a `0x01` with the 16 id bytes: what Asterisk sends first. Useful to play Asterisk in
/// tests; Asterisk 20.14+ hangs up if a server sends it.
pub fn encode_uuid(out: &mut Vec<u8>, id: &CallId) {
    push(out, Kind::UUID, id.as_bytes());
}

/// Appends a `0x03` with one ASCII digit. Like [`encode_uuid`], this is what Asterisk sends, not
/// what it accepts.
///
/// # Errors
///
/// [`ErrorCode::BadDtmf`] unless `digit` is one of ASCII `0-9 * # A-D`.
pub fn encode_dtmf(out: &mut Vec<u8>, digit: u8) -> Result<()> {
    if !is_dtmf_digit(digit) {
        return Err(ProtocolError::new(
            ErrorCode::BadDtmf,
            format!("byte 0x{digit:02x} is not a DTMF digit (0-9 * # A-D)"),
        ));
    }
    push(out, Kind::DTMF, &[digit]);
    Ok(())
}

/// Appends one audio message of signed 16-bit little-endian mono PCM at `sample_rate` Hz.
///
/// Asterisk plays each message as soon as it arrives: pace them (one frame every 20 ms), and cut
/// them with [`pcm_frames`]. Keep messages under ~1400 bytes on real networks so that each fits
/// one TCP segment.
///
/// # Errors
///
/// In this order: [`ErrorCode::BadSampleRate`] for a rate with no kind;
/// [`ErrorCode::EmptyAudio`] for 0 bytes (Asterisk 20.14+ hangs up on it);
/// [`ErrorCode::OddAudio`] for an odd length (a split sample corrupts every later frame);
/// [`ErrorCode::PayloadTooLarge`] above 65535 bytes.
pub fn encode_audio(out: &mut Vec<u8>, sample_rate: u32, pcm_le: &[u8]) -> Result<()> {
    let kind = audio_kind(sample_rate)?;
    if pcm_le.is_empty() {
        return Err(ProtocolError::new(
            ErrorCode::EmptyAudio,
            "audio payload is empty; Asterisk hangs up on zero-length audio",
        ));
    }
    check_even(pcm_le.len())?;
    check_len(pcm_le.len())?;
    push(out, kind, pcm_le);
    Ok(())
}

/// Appends a `0xff` error message with a one-byte `code` (Go library: 1 hangup, 2 frame
/// forwarding, 4 memory). Asterisk never sends it and 20.14+ hangs up on it.
pub fn encode_error(out: &mut Vec<u8>, code: u8) {
    push(out, Kind::ERROR, &[code]);
}

/// Appends a message of any `kind` with any payload, including an empty one. No meaning is
/// checked: this is for tests and for kinds this library does not know yet.
///
/// # Errors
///
/// [`ErrorCode::PayloadTooLarge`] above 65535 bytes, the most the length field can say.
pub fn encode_raw(out: &mut Vec<u8>, kind: u8, payload: &[u8]) -> Result<()> {
    check_len(payload.len())?;
    push(out, Kind(kind), payload);
    Ok(())
}

/// Writes one message into the start of `dst` and returns its length (`3 + payload.len()`),
/// without allocating. No meaning is checked, as with [`encode_raw`].
///
/// # Errors
///
/// [`ErrorCode::PayloadTooLarge`] above 65535 bytes; then [`ErrorCode::InvalidArgument`] if
/// `dst` is shorter than the message. Nothing is written on error.
pub fn write_frame(dst: &mut [u8], kind: Kind, payload: &[u8]) -> Result<usize> {
    check_len(payload.len())?;
    let total = HEADER_LEN + payload.len();
    let Some(dst) = dst.get_mut(..total) else {
        return Err(ProtocolError::new(
            ErrorCode::InvalidArgument,
            format!(
                "a message of {total} bytes does not fit a buffer of {} bytes",
                dst.len()
            ),
        ));
    };
    dst[..HEADER_LEN].copy_from_slice(&header(kind, payload.len()));
    dst[HEADER_LEN..].copy_from_slice(payload);
    Ok(total)
}

/// Bytes of slin in one frame of `frame_ms` milliseconds at `sample_rate` Hz (2 bytes per
/// sample): 320 for 20 ms at 8 kHz, 1764 for 20 ms at 44.1 kHz.
///
/// # Errors
///
/// In this order: [`ErrorCode::BadSampleRate`] for a rate with no kind;
/// [`ErrorCode::InvalidArgument`] if `frame_ms` is 0, if the frame is not a whole number of
/// samples (1 ms at 44.1 kHz is 44.1 samples), or if it would exceed 65535 bytes.
pub fn frame_bytes(sample_rate: u32, frame_ms: u32) -> Result<usize> {
    audio_kind(sample_rate)?;
    let invalid = |why: &str| {
        Err(ProtocolError::new(
            ErrorCode::InvalidArgument,
            format!("a frame of {frame_ms} ms at {sample_rate} Hz {why}"),
        ))
    };
    if frame_ms == 0 {
        return invalid("is empty; the duration must be at least 1 ms");
    }
    // u64: 192000 Hz * u32::MAX ms overflows u32.
    let millis_samples = u64::from(sample_rate) * u64::from(frame_ms);
    if !millis_samples.is_multiple_of(1000) {
        return invalid("is not a whole number of samples");
    }
    let bytes = millis_samples / 1000 * 2;
    if bytes > MAX_PAYLOAD as u64 {
        return invalid(&format!(
            "is {bytes} bytes, over the message limit of {MAX_PAYLOAD}"
        ));
    }
    Ok(bytes as usize)
}

/// Cuts slin PCM into payloads of `frame_ms` milliseconds, ready for [`encode_audio`] and
/// paced sending: the Go library's `SendSlinChunks`, but refusing odd input instead of
/// producing a split sample, and keeping a short last frame instead of dropping it.
///
/// Frames borrow from `pcm`. Every frame but the last has exactly
/// [`frame_bytes`]`(sample_rate, frame_ms)` bytes; the last may be shorter (never empty, always
/// even); empty input gives no frames.
///
/// # Errors
///
/// Those of [`frame_bytes`], then [`ErrorCode::OddAudio`] if `pcm` has an odd length.
pub fn pcm_frames(
    pcm: &[u8],
    sample_rate: u32,
    frame_ms: u32,
) -> Result<impl ExactSizeIterator<Item = &[u8]> + DoubleEndedIterator> {
    let size = frame_bytes(sample_rate, frame_ms)?;
    check_even(pcm.len())?;
    Ok(pcm.chunks(size))
}

fn audio_kind(sample_rate: u32) -> Result<Kind> {
    Kind::for_sample_rate(sample_rate).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::BadSampleRate,
            format!(
                "{sample_rate} Hz has no AudioSocket kind \
                 (8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000)"
            ),
        )
    })
}

fn check_even(len: usize) -> Result<()> {
    if !len.is_multiple_of(2) {
        return Err(ProtocolError::new(
            ErrorCode::OddAudio,
            format!("{len} bytes of 16-bit PCM is not a whole number of samples"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_append_one_contiguous_message() {
        let mut out = vec![0xaa];
        encode_hangup(&mut out);
        encode_audio(&mut out, 16_000, &[1, 2]).unwrap();
        assert_eq!(out, [0xaa, 0, 0, 0, 0x12, 0, 2, 1, 2]);
    }

    #[test]
    fn failed_builders_write_nothing() {
        let mut out = Vec::new();
        assert_eq!(
            encode_dtmf(&mut out, b'a').unwrap_err().code,
            ErrorCode::BadDtmf
        );
        assert_eq!(
            encode_audio(&mut out, 8_000, &[0; 3]).unwrap_err().code,
            ErrorCode::OddAudio
        );
        assert_eq!(
            encode_raw(&mut out, 4, &vec![0; 65_536]).unwrap_err().code,
            ErrorCode::PayloadTooLarge
        );
        assert!(out.is_empty());
    }

    #[test]
    fn audio_errors_come_in_documented_order() {
        let mut out = Vec::new();
        assert_eq!(
            encode_audio(&mut out, 22_050, &[]).unwrap_err().code,
            ErrorCode::BadSampleRate
        );
        assert_eq!(
            encode_audio(&mut out, 8_000, &[]).unwrap_err().code,
            ErrorCode::EmptyAudio
        );
        assert_eq!(
            encode_audio(&mut out, 8_000, &vec![0; 65_535])
                .unwrap_err()
                .code,
            ErrorCode::OddAudio
        );
        assert_eq!(
            encode_audio(&mut out, 8_000, &vec![0; 65_536])
                .unwrap_err()
                .code,
            ErrorCode::PayloadTooLarge
        );
    }

    #[test]
    fn write_frame_checks_room_and_writes_exactly() {
        let mut dst = [0xee; 8];
        assert_eq!(
            write_frame(&mut dst, Kind::SLIN_8K, &[1, 2, 3, 4]).unwrap(),
            7
        );
        assert_eq!(dst, [0x10, 0, 4, 1, 2, 3, 4, 0xee]);
        let err = write_frame(&mut dst[..6], Kind::SLIN_8K, &[1, 2, 3, 4]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        let err = write_frame(&mut [], Kind::SLIN_8K, &vec![0; 65_536]).unwrap_err();
        assert_eq!(err.code, ErrorCode::PayloadTooLarge);
    }

    #[test]
    fn frame_sizes() {
        assert_eq!(frame_bytes(8_000, 20).unwrap(), 320);
        assert_eq!(frame_bytes(44_100, 20).unwrap(), 1_764);
        assert_eq!(frame_bytes(44_100, 10).unwrap(), 882);
        assert_eq!(frame_bytes(192_000, 170).unwrap(), 65_280);
        assert_eq!(
            frame_bytes(192_000, 171).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            frame_bytes(192_000, u32::MAX).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            frame_bytes(22_050, 0).unwrap_err().code,
            ErrorCode::BadSampleRate
        );
    }

    #[test]
    fn frames_keep_the_short_tail() {
        let pcm = [0u8; 700];
        let sizes: Vec<usize> = pcm_frames(&pcm, 8_000, 20)
            .unwrap()
            .map(<[u8]>::len)
            .collect();
        assert_eq!(sizes, [320, 320, 60]);
        assert_eq!(pcm_frames(&[], 8_000, 20).unwrap().len(), 0);
        assert_eq!(
            pcm_frames(&[0; 3], 8_000, 20).err().unwrap().code,
            ErrorCode::OddAudio
        );
    }
}
