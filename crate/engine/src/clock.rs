//! The deadline arithmetic of the shared clock (the twin of src/engine/clock.ts): tick `n` is
//! due at `start + n * period` on the monotonic clock, so wake-up jitter never accumulates into
//! drift. After a stall at most `max_catch_up` ticks run back to back; older ones are skipped
//! (and counted), so a long stall never turns into a burst of audio that Asterisk would forward
//! at once and mixing bridges would throw away. Pure: the caller supplies `now`.
//!
//! The native engine runs one such clock per [beat](BEATS) of the period ([`BeatClocks`]) and
//! gives each call a beat: its frames then leave in one of four short bursts a beat apart rather
//! than in one long burst. A frame's place in its burst moves with how long the sends before it
//! took, so a burst a quarter as long is a quarter of that jitter. (The TypeScript engine sends
//! from one timer and keeps the single clock.)

use std::ops::Range;
use std::time::{Duration, Instant};

/// Tick period: one AudioSocket frame.
pub const PERIOD: Duration = Duration::from_millis(20);

/// Ticks run back to back after a stall before the clock skips to the present.
pub const MAX_CATCH_UP: u64 = 3;

/// Beats in a period: the calls are spread over this many offsets of the period.
pub const BEATS: usize = 4;

/// The time between two beats (5 ms).
#[allow(clippy::cast_possible_truncation)]
pub const BEAT: Duration = PERIOD.checked_div(BEATS as u32).expect("BEATS is not 0");

/// A running clock: its start, the next tick due and the ticks skipped so far.
#[derive(Clone, Debug)]
pub struct Clock {
    start: Instant,
    period: Duration,
    max_catch_up: u64,
    next: u64,
    skipped: u64,
}

impl Clock {
    /// A clock whose tick 0 is due at `start`, with the default period and catch-up bound.
    #[must_use]
    pub fn new(start: Instant) -> Clock {
        Clock::with_period(start, PERIOD, MAX_CATCH_UP)
    }

    /// A clock with another period and catch-up bound (`max_catch_up` at least 1).
    #[must_use]
    pub fn with_period(start: Instant, period: Duration, max_catch_up: u64) -> Clock {
        Clock {
            start,
            period,
            max_catch_up: max_catch_up.max(1),
            next: 0,
            skipped: 0,
        }
    }

    /// The tick that is due next.
    #[must_use]
    pub fn next_tick(&self) -> u64 {
        self.next
    }

    /// Ticks skipped because a stall lasted longer than the catch-up bound.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// When `tick` is due.
    #[must_use]
    pub fn deadline(&self, tick: u64) -> Instant {
        self.start + self.period * u32::try_from(tick).unwrap_or(u32::MAX)
    }

    /// The next instant, after `now`, at which a thread that wakes every `beat` (a divisor of
    /// the period) should wake: beats are aligned on the tick deadlines, so every tick gets a
    /// wake of its own. A deadline already passed (a stall) is due at once.
    #[must_use]
    pub fn next_wake(&self, now: Instant, beat: Duration) -> Instant {
        let tick = self.deadline(self.next);
        if tick <= now {
            return now;
        }
        let beats_before_tick = tick.duration_since(now).as_nanos() / beat.as_nanos();
        let beats = u32::try_from(beats_before_tick).unwrap_or(u32::MAX);
        tick - beat * beats
    }

    /// How late `tick` runs at `now`, ms (0 when early).
    #[must_use]
    pub fn lateness_ms(&self, tick: u64, now: Instant) -> f64 {
        now.saturating_duration_since(self.deadline(tick))
            .as_secs_f64()
            * 1000.0
    }

    /// The ticks to run at `now`, in order, and moves past them: empty before the next
    /// deadline, at most `max_catch_up` after a stall (the older ones are skipped and counted).
    pub fn due(&mut self, now: Instant) -> Range<u64> {
        if now < self.start {
            return self.next..self.next;
        }
        let elapsed = now.duration_since(self.start);
        let due = (elapsed.as_nanos() / self.period.as_nanos()) as u64;
        if due < self.next {
            return self.next..self.next;
        }
        if due - self.next >= self.max_catch_up {
            let skip = due - self.next - self.max_catch_up + 1;
            self.skipped += skip;
            self.next += skip;
        }
        let ticks = self.next..due + 1;
        self.next = due + 1;
        ticks
    }
}

/// One clock per beat: beat `b`'s tick `n` is due at `start + n * PERIOD + b * BEAT`. Each
/// beat's clock catches up and skips on its own, so every call keeps exactly the guarantees of
/// a single clock, shifted by its beat.
#[derive(Clone, Debug)]
pub struct BeatClocks {
    clocks: [Clock; BEATS],
}

impl BeatClocks {
    /// Clocks whose beat 0 has its tick 0 due at `start`.
    #[must_use]
    pub fn new(start: Instant) -> BeatClocks {
        let offset = |beat: usize| BEAT * u32::try_from(beat).unwrap_or(0);
        BeatClocks {
            clocks: std::array::from_fn(|beat| Clock::new(start + offset(beat))),
        }
    }

    /// The clock of `beat` (below [`BEATS`]).
    #[must_use]
    pub fn beat(&self, beat: usize) -> &Clock {
        &self.clocks[beat]
    }

    /// The ticks each beat is to run at `now`, and moves past them (see [`Clock::due`]).
    pub fn due(&mut self, now: Instant) -> [Range<u64>; BEATS] {
        std::array::from_fn(|beat| self.clocks[beat].due(now))
    }

    /// The next instant, after `now`, at which some beat's tick is due; at once after a stall.
    #[must_use]
    pub fn next_wake(&self, now: Instant) -> Instant {
        self.clocks
            .iter()
            .map(|clock| clock.next_wake(now, BEAT))
            .min()
            .unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn nothing_is_due_before_a_deadline_and_ticks_are_numbered_from_zero() {
        let t0 = Instant::now();
        let mut clock = Clock::new(t0);
        assert_eq!(clock.due(t0), 0..1);
        assert_eq!(clock.due(t0 + 19 * MS), 1..1);
        assert_eq!(clock.deadline(1), t0 + 20 * MS);
        assert_eq!(clock.due(t0 + 20 * MS), 1..2);
        assert_eq!(clock.due(t0 + 45 * MS), 2..3);
        assert_eq!(clock.next_tick(), 3);
        assert_eq!(clock.skipped(), 0);
    }

    #[test]
    fn wakes_are_beats_aligned_on_the_tick_deadlines() {
        let t0 = Instant::now();
        let mut clock = Clock::new(t0);
        let _ = clock.due(t0); // tick 0 ran; tick 1 is due at t0 + 20 ms
        let beat = 10 * MS;
        assert_eq!(clock.next_wake(t0 + MS, beat), t0 + 10 * MS);
        assert_eq!(clock.next_wake(t0 + 12 * MS, beat), t0 + 20 * MS);
        assert_eq!(clock.next_wake(t0 + 20 * MS, beat), t0 + 20 * MS);
        // A stall past the deadline: due at once.
        assert_eq!(clock.next_wake(t0 + 35 * MS, beat), t0 + 35 * MS);
    }

    #[test]
    fn deadlines_are_absolute_so_late_wakeups_do_not_drift() {
        let t0 = Instant::now();
        let mut clock = Clock::new(t0);
        let mut ran = 0;
        for n in 0..1000u32 {
            // Every wake-up 7 ms late: still one tick per period.
            ran += clock.due(t0 + 20 * MS * n + 7 * MS).count();
        }
        assert_eq!(ran, 1000);
        assert!((clock.lateness_ms(999, t0 + 20 * MS * 999 + 7 * MS) - 7.0).abs() < 1e-9);
    }

    #[test]
    fn each_beat_ticks_once_a_period_a_beat_after_the_one_before() {
        let t0 = Instant::now();
        let mut clocks = BeatClocks::new(t0);
        let mut ran = Vec::new();
        let mut now = t0;
        while now < t0 + 100 * MS {
            for (beat, ticks) in clocks.due(now).into_iter().enumerate() {
                for tick in ticks {
                    ran.push((now.duration_since(t0).as_millis(), beat, tick));
                }
            }
            now = clocks.next_wake(now + Duration::from_nanos(1));
        }
        let expected: Vec<(u128, usize, u64)> = (0..20u64)
            .map(|n| (u128::from(n) * 5, (n % 4) as usize, n / 4))
            .collect();
        assert_eq!(ran, expected);
    }

    #[test]
    fn after_a_stall_every_beat_catches_up_on_its_own() {
        let t0 = Instant::now();
        let mut clocks = BeatClocks::new(t0);
        assert_eq!(clocks.due(t0), [0..1, 0..0, 0..0, 0..0]);
        assert_eq!(clocks.next_wake(t0 + MS), t0 + 5 * MS);
        // 200 ms later: beat 0 had ticks 1..=10 due, beat 3 (due 15 ms after) 0..=9.
        let late = t0 + 200 * MS;
        assert_eq!(clocks.next_wake(late), late);
        let due = clocks.due(late);
        assert_eq!((due[0].clone(), due[3].clone()), (8..11, 7..10));
        assert_eq!(clocks.beat(0).skipped(), 7);
        assert_eq!(clocks.beat(3).skipped(), 7);
        assert!((clocks.beat(3).lateness_ms(9, late) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn after_a_stall_at_most_max_catch_up_ticks_run_and_the_rest_are_counted() {
        let t0 = Instant::now();
        let mut clock = Clock::new(t0);
        assert_eq!(clock.due(t0), 0..1);
        // 200 ms stall: ticks 1..=10 are due, only the last three run.
        assert_eq!(clock.due(t0 + 200 * MS), 8..11);
        assert_eq!(clock.skipped(), 7);
        assert_eq!(clock.due(t0 + 220 * MS), 11..12);
        // A short stall within the bound is caught up whole.
        assert_eq!(clock.due(t0 + 262 * MS), 12..14);
        assert_eq!(clock.skipped(), 7);
    }
}
