//! Arbitrary bytes through the streaming decoder in arbitrary chunks: see
//! `audiosocket_engine::fuzzing::decoder` for the input layout and the checks.
#![no_main]

#[path = "../heap.rs"]
mod heap;

libfuzzer_sys::fuzz_target!(init: heap::install(), |data: &[u8]| {
    audiosocket_engine::fuzzing::decoder::check(data);
});
