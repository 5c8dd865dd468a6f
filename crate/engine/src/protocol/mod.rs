//! The AudioSocket wire protocol (see `PROTOCOL.md` at the repository root of the project).
//!
//! Every message is a 3-byte header, kind (`u8`) and payload length (`u16` big-endian), then
//! the payload. Audio is signed 16-bit little-endian mono PCM at the rate named by the kind.
//!
//! - [`Kind`]: the kind byte and the sample rates of the audio kinds.
//! - [`encode_audio`] and the other builders: one contiguous message per call, because
//!   Asterisk drops calls when a message is split across TCP segments; [`write_frame`] for an
//!   allocation-free hot path; [`pcm_frames`] to cut audio into paced frames.
//! - [`Decoder`]: bytes in any split in, [`Message`]s out, zero copy when possible.
//! - [`ProtocolError`] with a stable [`ErrorCode`], shared with the TypeScript implementation.
//!
//! This layer knows nothing of sockets, timers or Node.js: pacing and connection handling are
//! built on top of it.

mod decode;
mod encode;
mod error;
mod kind;
mod message;
mod uuid;

pub use decode::Decoder;
pub use encode::{
    encode_audio, encode_dtmf, encode_error, encode_hangup, encode_raw, encode_silence,
    encode_uuid, frame_bytes, pcm_frames, write_frame,
};
pub use error::{ErrorCode, ProtocolError, Result};
pub use kind::Kind;
pub use message::{is_dtmf_digit, DtmfState, ForkDtmf, Message};
pub use uuid::CallId;

/// Bytes in a message header: kind (1) and payload length (2, big-endian).
pub const HEADER_LEN: usize = 3;

/// The largest payload the 16-bit length field can announce, in bytes. The largest audio
/// payload is one less (65534), as audio must be whole 16-bit samples.
pub const MAX_PAYLOAD: usize = 65_535;
