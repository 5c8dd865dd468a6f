//! The `connectionRateLimit` option: how fast one peer may open connections, as a token bucket
//! per source (an IPv4 address, or an IPv6 /64, which is what one host usually holds). The twin
//! of src/net/rate-limit.ts.
//!
//! Memory is bounded whatever the peers do: at most [`MAX_SOURCES`] buckets are kept; when the
//! table is full, buckets that have refilled (sources that went quiet) are forgotten, at most
//! once per [`SWEEP_PERIOD`] so that a flood from many sources costs no scan per connection, and
//! meanwhile new sources share one bucket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Sources tracked at once.
pub const MAX_SOURCES: usize = 10_000;
/// Least time between two sweeps of a full table.
pub const SWEEP_PERIOD: Duration = Duration::from_secs(1);

/// Connections per second and burst allowed to each source.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct RateLimit {
    /// Sustained connections per second, per source.
    pub per_second: f64,
    /// Connections a quiet source may open at once.
    pub burst: f64,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(limit: &RateLimit, now: Instant) -> Bucket {
        Bucket {
            tokens: limit.burst,
            updated: now,
        }
    }

    fn refill(&mut self, limit: &RateLimit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limit.per_second).min(limit.burst);
        self.updated = now;
    }

    fn take(&mut self, limit: &RateLimit, now: Instant) -> bool {
        self.refill(limit, now);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// The buckets of every recent source; see the module docs.
#[derive(Debug)]
pub struct ConnectionRateLimiter {
    limit: RateLimit,
    buckets: HashMap<u128, Bucket>,
    /// Shared by new sources while the table is full of busy ones.
    overflow: Option<Bucket>,
    last_sweep: Option<Instant>,
}

impl ConnectionRateLimiter {
    /// A limiter that has seen no one.
    #[must_use]
    pub fn new(limit: RateLimit) -> ConnectionRateLimiter {
        ConnectionRateLimiter {
            limit,
            buckets: HashMap::new(),
            overflow: None,
            last_sweep: None,
        }
    }

    /// Whether a connection from `address` at `now` is within the limit (and counts it).
    pub fn admit(&mut self, address: IpAddr, now: Instant) -> bool {
        let limit = self.limit;
        let source = source_of(address);
        if let Some(bucket) = self.buckets.get_mut(&source) {
            return bucket.take(&limit, now);
        }
        let sweep_due = self
            .last_sweep
            .is_none_or(|last| now.saturating_duration_since(last) >= SWEEP_PERIOD);
        if self.buckets.len() >= MAX_SOURCES && sweep_due {
            self.last_sweep = Some(now);
            self.forget_quiet(now);
        }
        if self.buckets.len() >= MAX_SOURCES {
            return self
                .overflow
                .get_or_insert_with(|| Bucket::full(&limit, now))
                .take(&limit, now);
        }
        let mut bucket = Bucket::full(&limit, now);
        let admitted = bucket.take(&limit, now);
        self.buckets.insert(source, bucket);
        admitted
    }

    /// Sources tracked now.
    #[must_use]
    pub fn sources(&self) -> usize {
        self.buckets.len()
    }

    /// Drops the buckets that have refilled: their sources would start afresh anyway.
    fn forget_quiet(&mut self, now: Instant) {
        let limit = self.limit;
        self.buckets.retain(|_, bucket| {
            bucket.refill(&limit, now);
            bucket.tokens < limit.burst
        });
    }
}

/// The key of a source: an IPv4 address (also when mapped into IPv6), or an IPv6 /64.
fn source_of(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => u128::from(v6) & !u128::from(u64::MAX),
        },
    }
}

#[cfg(test)]
mod tests {
    //! The cases of __test__/net/rate-limit.test.ts, one for one.
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        per_second: 2.0,
        burst: 3.0,
    };

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let mut limiter = ConnectionRateLimiter::new(LIMIT);
        let start = Instant::now();
        let admitted: Vec<bool> = (0..5)
            .map(|_| limiter.admit(ip("10.0.0.1"), start))
            .collect();
        assert_eq!(admitted, [true, true, true, false, false]);
        // Two a second: one token after 500 ms, not two.
        let later = start + Duration::from_millis(500);
        assert!(limiter.admit(ip("10.0.0.1"), later));
        assert!(!limiter.admit(ip("10.0.0.1"), later));
        // A quiet source gets its burst back, no more.
        let much_later = start + Duration::from_secs(60);
        let admitted = (0..4).filter(|_| limiter.admit(ip("10.0.0.1"), much_later));
        assert_eq!(admitted.count(), 3);
    }

    #[test]
    fn sources_are_counted_apart_ipv6_by_its_64_and_mapped_ipv4_as_ipv4() {
        let mut limiter = ConnectionRateLimiter::new(LIMIT);
        let now = Instant::now();
        for _ in 0..3 {
            assert!(limiter.admit(ip("10.0.0.1"), now));
        }
        assert!(!limiter.admit(ip("::ffff:10.0.0.1"), now));
        assert!(limiter.admit(ip("10.0.0.2"), now));
        for _ in 0..3 {
            assert!(limiter.admit(ip("2001:db8::1"), now));
        }
        assert!(!limiter.admit(ip("2001:db8::ffff:2"), now), "same /64");
        assert!(limiter.admit(ip("2001:db8:0:1::1"), now), "another /64");
    }

    #[test]
    fn memory_stays_bounded_when_every_connection_comes_from_a_new_source() {
        let mut limiter = ConnectionRateLimiter::new(LIMIT);
        let now = Instant::now();
        for n in 0..(MAX_SOURCES as u32 + 500) {
            limiter.admit(IpAddr::V4(n.into()), now);
        }
        assert_eq!(limiter.sources(), MAX_SOURCES);
        // The newcomers share one bucket: a burst of 3 among them, then refusals.
        let fresh = (0..10).filter(|n| limiter.admit(IpAddr::V4((u32::MAX - n).into()), now));
        assert_eq!(
            fresh.count(),
            0,
            "the shared bucket was spent by the 500 before"
        );
        // Once the table's sources have gone quiet, newcomers get buckets of their own again.
        let later = now + Duration::from_secs(10);
        assert!(limiter.admit(ip("192.0.2.1"), later));
        assert_eq!(limiter.sources(), 1);
    }
}
