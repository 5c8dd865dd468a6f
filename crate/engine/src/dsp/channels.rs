//! Mono and stereo PCM16 helpers. AudioSocket carries mono; TTS engines and files are often
//! stereo, interleaved (left, right, left, right...). The `*_into` functions write into the
//! caller's buffers, never allocate, and return the samples written (per channel for
//! [`deinterleave_into`]); the others allocate their result. The TypeScript twin is
//! `src/dsp/channels.ts`.
//!
//! Every `*_into` function panics if an output is too short or an interleaved input has an odd
//! length: those are bugs in the caller, not conditions of the stream.

fn frames(what: &str, interleaved: &[i16]) -> usize {
    assert!(
        interleaved.len().is_multiple_of(2),
        "{what}: interleaved stereo has an even number of samples, got {}",
        interleaved.len()
    );
    interleaved.len() / 2
}

fn check_room(what: &str, need: usize, have: usize) {
    assert!(
        have >= need,
        "{what}: the output holds {have} samples, {need} are needed"
    );
}

/// One stereo sample to mono: the average of left and right, rounded half away from zero (so
/// that inverting both channels inverts the result, and no DC offset creeps in), e.g.
/// (1, 2) -> 2, (-1, -2) -> -2. The result always fits: (32767, 32767) -> 32767.
#[inline]
#[must_use]
pub fn downmix(left: i16, right: i16) -> i16 {
    let sum = i32::from(left) + i32::from(right);
    // In range: |sum| <= 65536, and half of it rounded away from zero is within i16.
    (if sum >= 0 {
        (sum + 1) >> 1
    } else {
        -((1 - sum) >> 1)
    }) as i16
}

/// Stereo to mono, sample by sample as [`downmix`] does.
pub fn stereo_to_mono_into(interleaved: &[i16], out: &mut [i16]) -> usize {
    let n = frames("stereo_to_mono", interleaved);
    check_room("stereo_to_mono", n, out.len());
    for (m, lr) in out.iter_mut().zip(interleaved.chunks_exact(2)) {
        *m = downmix(lr[0], lr[1]);
    }
    n
}

/// [`stereo_to_mono_into`] into a new buffer.
#[must_use]
pub fn stereo_to_mono(interleaved: &[i16]) -> Vec<i16> {
    let mut out = vec![0; frames("stereo_to_mono", interleaved)];
    stereo_to_mono_into(interleaved, &mut out);
    out
}

/// Mono to interleaved stereo: each sample on both channels.
pub fn mono_to_stereo_into(mono: &[i16], out: &mut [i16]) -> usize {
    check_room("mono_to_stereo", 2 * mono.len(), out.len());
    for (lr, &m) in out.chunks_exact_mut(2).zip(mono) {
        lr[0] = m;
        lr[1] = m;
    }
    2 * mono.len()
}

/// [`mono_to_stereo_into`] into a new buffer.
#[must_use]
pub fn mono_to_stereo(mono: &[i16]) -> Vec<i16> {
    let mut out = vec![0; 2 * mono.len()];
    mono_to_stereo_into(mono, &mut out);
    out
}

/// Two channels of equal length into interleaved stereo (left first).
///
/// # Panics
///
/// Also if the channels differ in length.
pub fn interleave_into(left: &[i16], right: &[i16], out: &mut [i16]) -> usize {
    assert!(
        left.len() == right.len(),
        "interleave: the channels differ in length ({} and {})",
        left.len(),
        right.len()
    );
    check_room("interleave", 2 * left.len(), out.len());
    for ((lr, &l), &r) in out.chunks_exact_mut(2).zip(left).zip(right) {
        lr[0] = l;
        lr[1] = r;
    }
    2 * left.len()
}

/// [`interleave_into`] into a new buffer.
#[must_use]
pub fn interleave(left: &[i16], right: &[i16]) -> Vec<i16> {
    let mut out = vec![0; 2 * left.len()];
    interleave_into(left, right, &mut out);
    out
}

/// Interleaved stereo into its two channels; returns the samples per channel.
pub fn deinterleave_into(interleaved: &[i16], left: &mut [i16], right: &mut [i16]) -> usize {
    let n = frames("deinterleave", interleaved);
    check_room("deinterleave", n, left.len().min(right.len()));
    for ((lr, l), r) in interleaved
        .chunks_exact(2)
        .zip(left.iter_mut())
        .zip(right.iter_mut())
    {
        *l = lr[0];
        *r = lr[1];
    }
    n
}

/// [`deinterleave_into`] into two new buffers: `(left, right)`.
#[must_use]
pub fn deinterleave(interleaved: &[i16]) -> (Vec<i16>, Vec<i16>) {
    let n = frames("deinterleave", interleaved);
    let (mut left, mut right) = (vec![0; n], vec![0; n]);
    deinterleave_into(interleaved, &mut left, &mut right);
    (left, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_rounds_half_away_from_zero_and_never_overflows() {
        let stereo = [
            1, 2, -1, -2, 3, 3, 32767, 32767, -32768, -32768, -32768, 32767, 0, -1,
        ];
        assert_eq!(stereo_to_mono(&stereo), [2, -2, 3, 32767, -32768, -1, -1]);
    }

    #[test]
    fn interleave_and_deinterleave_are_inverse() {
        let (left, right) = ([1, 2, 3], [-4, -5, -6]);
        let stereo = interleave(&left, &right);
        assert_eq!(stereo, [1, -4, 2, -5, 3, -6]);
        assert_eq!(deinterleave(&stereo), (left.to_vec(), right.to_vec()));
        assert_eq!(mono_to_stereo(&left), [1, 1, 2, 2, 3, 3]);
        assert_eq!(stereo_to_mono(&mono_to_stereo(&right)), right);
    }

    #[test]
    #[should_panic(expected = "an even number of samples, got 3")]
    fn odd_interleaved_input_is_refused() {
        let _ = stereo_to_mono(&[1, 2, 3]);
    }
}
