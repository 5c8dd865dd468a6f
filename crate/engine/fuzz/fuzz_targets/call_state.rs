//! One connection (handshake, call, playout, outbound, close) driven by a script of peer bytes,
//! application operations and clock ticks: see `audiosocket_engine::fuzzing::call_state`.
#![no_main]

#[path = "../heap.rs"]
mod heap;

libfuzzer_sys::fuzz_target!(init: heap::install(), |data: &[u8]| {
    audiosocket_engine::fuzzing::call_state::check(data);
});
