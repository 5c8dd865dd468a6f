//! The AudioSocket media engine, in plain Rust.
//!
//! AudioSocket is the small TCP protocol Asterisk uses to hand a call's audio to an external
//! server (`AudioSocket()` dialplan application, `Dial(AudioSocket/...)` channel driver, ARI
//! `externalMedia`). This crate holds everything that does not need Node.js, so that it can be
//! tested with `cargo test` alone and wrapped by the napi binding in `crate/node`. Each module
//! has a twin in the TypeScript engine (src/engine), so the two can be read side by side.
//!
//! - [`protocol`]: the wire format: message kinds, builders that write one contiguous message,
//!   frame cutting for paced audio, and a streaming decoder that takes bytes in any split.
//! - [`server::Server`]: a listening server with its engine thread (one per server): sockets,
//!   the shared 20 ms clock, one playout queue per call ([`playout`], [`clock`]), driven from the
//!   application's thread through [`call`] state, reporting [`events`] in batches.
//! - [`format`], [`outbound`], [`wire_detect`]: what each side of a call carries and the
//!   conversions between them (G.711, resampling, channels; [`dsp`] has the building blocks),
//!   and the warning for G.711 that arrives labelled as slin.
//! - [`config`], [`allow`], [`error`]: settings, the allow list, stable error codes.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod allow;
pub mod call;
pub mod clock;
pub mod config;
mod connection;
pub mod dsp;
pub mod error;
mod event_loop;
pub mod events;
pub mod format;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod outbound;
pub mod playout;
pub mod protocol;
pub mod rate_limit;
pub mod server;
pub mod wire_detect;
