//! The DSP's per-frame paths never allocate: checked with a counting allocator rather than
//! trusted. G.711, the channel helpers and a constructed [`Resampler`] (processing, flushing,
//! resetting) run on the media path of every call, 50 frames per second each.

use audiosocket_engine::dsp::{channels, Law, Resampler};

mod common;

use common::alloc::allocations;

#[test]
fn resampling_frames_does_not_allocate() {
    for (a, b) in [
        (8000, 16000),
        (48000, 8000),
        (44100, 48000),
        (22050, 8000),
        (16000, 16000),
    ] {
        let mut resampler = Resampler::new(a, b).expect("rates");
        let frame: Vec<i16> = (0..a as usize / 50)
            .map(|i| (i * 37 % 2000) as i16)
            .collect();
        let mut out = vec![0i16; b as usize / 50 + 8];
        let n = allocations(|| {
            // Ten seconds of 20 ms frames, then the end of the stream, twice.
            for _ in 0..2 {
                for _ in 0..500 {
                    let room = resampler.output_len(frame.len());
                    let done = resampler.process_into(&frame, &mut out[..room]);
                    assert_eq!((done.read, done.written), (frame.len(), room));
                }
                while resampler.flush(&mut out[..7]) > 0 {}
                resampler.reset();
            }
        });
        assert_eq!(n, 0, "{a} -> {b}: allocations while resampling");
    }
}

#[test]
fn g711_and_channels_into_buffers_do_not_allocate() {
    let pcm: Vec<i16> = (0..320).map(|i| (i * 101) as i16).collect();
    let (mut codes, mut back) = ([0u8; 320], [0i16; 320]);
    let (mut mono, mut stereo) = ([0i16; 160], [0i16; 320]);
    let (mut left, mut right) = ([0i16; 160], [0i16; 160]);
    let n = allocations(|| {
        for law in [Law::Ulaw, Law::Alaw] {
            law.encode_into(&pcm, &mut codes);
            law.decode_into(&codes, &mut back);
        }
        channels::stereo_to_mono_into(&pcm, &mut mono);
        channels::mono_to_stereo_into(&mono, &mut stereo);
        channels::deinterleave_into(&stereo, &mut left, &mut right);
        channels::interleave_into(&left, &right, &mut stereo);
    });
    assert_eq!(n, 0, "allocations in G.711 or channel helpers");
}
