//! Node.js binding for audiosocket: a thin napi-rs layer over `audiosocket-engine`.
//! Logic lives in the engine crate, where `cargo test` reaches it without Node; these files only
//! convert between JavaScript and Rust values.
//!
//! - [`server::NativeServer`]: the native engine behind src/engine/native/engine.ts.
//! - [`batch`]: how a batch of events crosses into JavaScript.
//! - [`config`]: the engine settings as JavaScript passes them.

use napi_derive::napi;

mod batch;
mod config;
mod error;
mod server;

/// The version of the contract between this binary and the TypeScript package. The loader
/// refuses a binary whose number differs from its own, so a stale build is never half-used.
/// Bump it on any change to the exported functions or their argument shapes.
pub const ABI_VERSION: u32 = 5;

/// Version of the binding contract this binary implements; see `ABI_VERSION`.
#[napi]
pub fn abi_version() -> u32 {
    ABI_VERSION
}

/// Version of the Rust crates the binary was built from (the workspace shares one version).
#[napi]
pub fn engine_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
