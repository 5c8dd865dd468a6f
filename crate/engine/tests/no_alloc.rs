//! "No per-frame allocation once warm": checked with a counting allocator rather than trusted.
//!
//! A call at 50 frames per second times hundreds of calls makes allocator traffic on the media
//! path a real cost, so the decoder's reused buffer and the encoders' caller-owned buffers are
//! held to zero allocations per frame after the first, and so is a call's format conversion
//! both ways (queue, resampling, G.711, channels, the frame sent), and a latency cap dropping
//! audio on every tick.

use audiosocket_engine::config::EngineConfig;
use audiosocket_engine::format::{Inbound, OutFrame, Wire};
use audiosocket_engine::playout::Playout;
use audiosocket_engine::protocol::{encode_audio, pcm_frames, write_frame, Decoder, Kind, Message};

mod common;

use common::alloc::allocations;

/// A stream of 20 ms frames at every rate, each followed by a DTMF digit.
fn stream() -> Vec<u8> {
    let mut out = Vec::new();
    for hz in [
        8_000, 12_000, 16_000, 24_000, 32_000, 44_100, 48_000, 96_000, 192_000,
    ] {
        let pcm = vec![0x5a; hz as usize / 50 * 2];
        encode_audio(&mut out, hz, &pcm).unwrap();
        out.extend_from_slice(&[0x03, 0x00, 0x01, b'7']);
    }
    out
}

#[test]
fn warm_decoder_does_not_allocate() {
    let stream = stream();
    let mut decoder = Decoder::new();
    let mut seen = 0usize;
    let mut run = |decoder: &mut Decoder| {
        // Awkward TCP-like reads: every message ends up split, headers included.
        for read in stream.chunks(1_000) {
            let (a, b) = read.split_at(read.len() / 3);
            for part in [a, b] {
                decoder
                    .feed(part, |msg| {
                        if let Message::Audio { payload, .. } = msg {
                            seen += payload.len();
                        }
                    })
                    .unwrap();
            }
        }
    };
    run(&mut decoder);
    let n = allocations(|| {
        for _ in 0..50 {
            run(&mut decoder);
        }
    });
    assert_eq!(n, 0, "allocations while decoding once warm");
    assert!(seen > 0);
    decoder.finish().unwrap();
}

#[test]
fn encoding_into_reused_buffers_does_not_allocate() {
    let pcm = vec![0x11u8; 16_000];
    let mut out = Vec::with_capacity(1_024);
    let mut dst = [0u8; 1_024];
    let n = allocations(|| {
        for frame in pcm_frames(&pcm, 8_000, 20).unwrap() {
            out.clear();
            encode_audio(&mut out, 8_000, frame).unwrap();
            let len = write_frame(&mut dst, Kind::SLIN_8K, frame).unwrap();
            assert_eq!(&dst[..len], &out[..]);
        }
    });
    assert_eq!(n, 0, "allocations while encoding into reused buffers");
}

#[test]
fn a_warm_call_converting_formats_both_ways_does_not_allocate() {
    // The busiest path: a 16 kHz stereo app over a mu-law wire.
    let config = EngineConfig {
        sample_rate: 16_000,
        channels: 2,
        wire: Wire::Ulaw,
        output_rate: 8_000,
        prebuffer_ms: 0,
        ..EngineConfig::default()
    };
    let mut playout = Playout::new(&config);
    let mut frame = OutFrame::new(Kind::SLIN_8K, Wire::Ulaw, playout.frame_samples());
    let mut inbound = Inbound::new(Wire::Ulaw, 16_000, 2);
    let (mut scratch, mut pcm, mut marks) = (Vec::new(), Vec::new(), Vec::new());
    let written: Vec<i16> = (0..640).map(|i| (i * 50 - 16_000) as i16).collect(); // 20 ms
    let codes: Vec<u8> = (0..160).map(|i| i as u8).collect();
    let mut run = |ticks: std::ops::Range<u64>| {
        for tick in ticks {
            playout.write(&written, tick).unwrap();
            if tick % 10 == 0 {
                playout.mark(tick as u32); // a flush and a new stream now and then
            }
            playout.next_frame(tick, frame.samples_mut(), &mut marks);
            assert_eq!(frame.encode().len(), 163);
            marks.clear();
            pcm.clear();
            inbound.convert(Kind::SLIN_8K, &codes, &mut scratch, &mut pcm);
        }
    };
    run(0..50);
    let n = allocations(|| run(50..550));
    assert_eq!(n, 0, "allocations while converting a warm call's audio");
}

#[test]
fn a_latency_cap_dropping_audio_every_tick_does_not_allocate() {
    // A relay writing twice the real-time rate under a 40 ms cap: the cap drops on every tick.
    let config = EngineConfig {
        sample_rate: 16_000,
        output_rate: 8_000,
        prebuffer_ms: 0,
        max_latency_ms: Some(40),
        ..EngineConfig::default()
    };
    let mut playout = Playout::new(&config);
    let mut frame = vec![0i16; playout.frame_samples()];
    let mut marks = Vec::new();
    let written: Vec<i16> = (0..640).map(|i| (i * 50 - 16_000) as i16).collect(); // 40 ms
    let mut run = |ticks: std::ops::Range<u64>| {
        for tick in ticks {
            playout.write(&written, tick).unwrap();
            playout.next_frame(tick, &mut frame, &mut marks);
        }
    };
    run(0..50);
    let n = allocations(|| run(50..550));
    assert_eq!(n, 0, "allocations while the latency cap drops audio");
    assert!(playout.latency_dropped_ms() >= 500.0 * 20.0);
}

#[test]
fn the_counter_sees_allocations() {
    // Guards every test here against passing vacuously with the allocator not installed.
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);
}
