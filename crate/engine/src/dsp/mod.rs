//! Audio conversions between what the wire carries and what the application reads and writes.
//!
//! - [`Law`]: G.711 mu-law and A-law, bit-exact with ITU-T G.191, for `Dial()` and
//!   `externalMedia` without `c(slin)`.
//! - [`Resampler`]: streaming polyphase sample-rate conversion between every AudioSocket and app
//!   rate, designed by [`filter`]; [`resample`] for a whole buffer.
//! - [`channels`]: stereo to mono and back, interleaving.
//!
//! Samples are `i16`. Each module has a twin in `src/dsp` with the same results, proven by the
//! shared vectors in `__test__/fixtures` (`tests/dsp_vectors.rs`). Nothing here allocates on
//! the per-frame paths once constructed.

pub mod channels;
pub mod filter;
pub mod g711;
pub mod resampler;

pub use g711::Law;
pub use resampler::{resample, Processed, Resampler};
