//! Checks shared by the cargo-fuzz targets (`crate/engine/fuzz`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`), behind the `fuzzing` feature. Not part of the API.
//!
//! Each check takes the raw bytes of one fuzz input and panics on the first broken invariant,
//! so that a fuzzer records the input and the replay test fails with the same message:
//!
//! - [`decoder::check`]: the streaming [`Decoder`](crate::protocol::Decoder) fed arbitrary
//!   bytes in arbitrary chunks, against a one-shot decode and an independent reference.
//! - [`call_state::check`]: one [`Connection`](crate::connection) (handshake, call, playout,
//!   outbound, close) over a real non-blocking socket pair, driven by a script of peer bytes,
//!   application operations and clock ticks, with the engine's output read back and checked.
//!
//! The heap is watched through a probe a binary may install ([`set_heap_probe`]): a global
//! allocator needs `unsafe`, which this crate forbids.

use std::sync::OnceLock;

pub mod call_state;
pub mod decoder;

static HEAP_PROBE: OnceLock<fn() -> usize> = OnceLock::new();

/// Installs `probe`, which returns the bytes currently allocated on the calling thread (a
/// counting global allocator of the binary). Later calls are ignored.
pub fn set_heap_probe(probe: fn() -> usize) {
    let _ = HEAP_PROBE.set(probe);
}

/// Bytes allocated on this thread now, if a probe is installed.
fn heap() -> Option<usize> {
    HEAP_PROBE.get().map(|probe| probe())
}

/// Reads a fuzz input front to back; past its end every read gives zeros, so that any input,
/// however short, is a complete script.
#[derive(Clone, Debug)]
pub(crate) struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// The rest of the input.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::from(self.byte()) % items.len()]
    }
}
