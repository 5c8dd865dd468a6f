//! Replays the committed fuzz corpus (crate/engine/fuzz/corpus/<target>/) through the same
//! checks as the cargo-fuzz targets, on stable Rust, so that `cargo test` keeps every input the
//! fuzzer ever found interesting passing. See docs/fuzzing.md.
//!
//! `AUDIOSOCKET_FUZZ_INPUT=<file> cargo test -p audiosocket-engine --test fuzz_corpus one_input
//! -- --nocapture` runs one file (a crash artifact, say); add `AUDIOSOCKET_FUZZ_TRACE=1` to see
//! a `call_state` script as it runs.

#[path = "../fuzz/heap.rs"]
mod heap;

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

use audiosocket_engine::fuzzing::{call_state, decoder};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on every file of the target's corpus, reporting every failing file.
fn replay(target: &str, check: fn(&[u8])) {
    heap::install();
    let files = corpus(target);
    assert!(!files.is_empty(), "the {target} corpus is empty");
    let failed: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let data = fs::read(path).expect("corpus file");
            let result = panic::catch_unwind(|| check(&data));
            result.is_err().then(|| path.display().to_string())
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs fail: {failed:#?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn decoder_corpus() {
    replay("decoder", decoder::check);
}

#[test]
fn call_state_corpus() {
    replay("call_state", call_state::check);
}

/// One input file through both checks' target, from `AUDIOSOCKET_FUZZ_INPUT` (and the target
/// from `AUDIOSOCKET_FUZZ_TARGET`, default call_state); does nothing without it.
#[test]
fn one_input() {
    let Some(path) = std::env::var_os("AUDIOSOCKET_FUZZ_INPUT") else {
        return;
    };
    heap::install();
    let data = fs::read(&path).expect("input file");
    match std::env::var("AUDIOSOCKET_FUZZ_TARGET").as_deref() {
        Ok("decoder") => decoder::check(&data),
        _ => call_state::check(&data),
    }
}
