//! A global allocator that counts the bytes live on each thread, for the heap bounds of
//! `audiosocket_engine::fuzzing` (which cannot hold the `unsafe` of an allocator itself).
//! Included by the fuzz targets and by `tests/fuzz_corpus.rs`; call [`install`] first.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct LiveBytes;

thread_local! {
    /// Bytes allocated minus bytes freed on this thread (what another thread frees of it
    /// is not seen; the checks allocate and free on one thread).
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(bytes: isize) {
    // `try_with`: the thread-local may already be gone while a thread shuts down.
    let _ = LIVE.try_with(|live| live.set(live.get() + bytes));
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting has no effect
// on the memory handed out.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            add(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            add(layout.size() as isize);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            add(new_size as isize - layout.size() as isize);
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as isize));
    }
}

#[global_allocator]
static ALLOCATOR: LiveBytes = LiveBytes;

/// Bytes live on this thread (relative: only differences mean anything).
fn live() -> usize {
    LIVE.with(|live| live.get().max(0) as usize)
}

/// Hands the probe to the checks.
pub fn install() {
    audiosocket_engine::fuzzing::set_heap_probe(live);
}
