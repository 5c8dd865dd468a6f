//! The AudioSocket media engine, in plain Rust.
//!
//! AudioSocket is the small TCP protocol Asterisk uses to hand a call's audio to an external
//! server (`AudioSocket()` dialplan application, `Dial(AudioSocket/...)` channel driver, ARI
//! `externalMedia`). This crate holds everything that does not need Node.js, so that it can be
//! tested with `cargo test` alone and wrapped by the napi binding in `crate/node`.
//!
//! - [`protocol`]: the wire format: message kinds, builders that write one contiguous message,
//!   frame cutting for paced audio, and a streaming decoder that takes bytes in any split.
//!
//! The crate has no runtime dependencies.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod protocol;
