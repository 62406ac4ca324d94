//! The lab clock.
//!
//! Every service in a lab reads time from one [`Clock`] that is passed in, never from
//! `SystemTime::now()` directly. A clock is real time plus an offset (or a frozen instant);
//! scenarios and the admin APIs move it forward with [`Clock::advance`] instead of sleeping, so a
//! test that needs a refresh token to go stale for 90 days takes microseconds.
//!
//! Clones share state: advancing one clone advances every service holding a clone.
//!
//! A clock moves at most [`MAX_OFFSET_SECS`] (a century) from its base either way, however many
//! moves it takes to get there: every date the lab computes from it (a token's `exp`, a refresh
//! token's inactivity limit, a certificate's validity) stays inside what the date types hold, so
//! no request can panic on an overflowing date. [`Clock::try_advance_secs`] refuses a move past
//! the bound (the admin APIs answer 400 with its message); the infallible moves stop at it.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far a lab clock may be moved from its base, either way: a century (of leap years).
pub const MAX_OFFSET_SECS: i64 = 100 * 366 * 86_400;
const MAX_OFFSET_US: i64 = MAX_OFFSET_SECS * 1_000_000;

/// A move that would take the clock more than a century from its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange {
    /// The move asked for, in seconds.
    pub requested_secs: i64,
    /// Where the clock stands, in seconds from its base (it was not moved).
    pub offset_secs: i64,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the lab clock moves at most a century ({MAX_OFFSET_SECS} s) from its start either way; \
             it stands at {} s, so a move of {} s is refused",
            self.offset_secs, self.requested_secs
        )
    }
}

impl std::error::Error for OutOfRange {}

#[derive(Debug)]
// Aligned past the `Arc`'s reference counts: every request clones the clock, and the offset
// every request reads would otherwise share a cache line with a count the other core writes.
#[repr(align(128))]
struct Inner {
    /// Microseconds added to real time.
    offset_us: AtomicI64,
    /// When `Some`, the clock is frozen at this many microseconds since the epoch (plus offset).
    frozen_us: Option<i64>,
}

/// A shared, advanceable clock. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

fn to_us(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

fn from_us(us: i64) -> SystemTime {
    if us >= 0 {
        UNIX_EPOCH + Duration::from_micros(us as u64)
    } else {
        UNIX_EPOCH - Duration::from_micros(us.unsigned_abs())
    }
}

impl Clock {
    /// Real time; [`advance`](Self::advance) adds an offset.
    pub fn system() -> Self {
        Clock {
            inner: Arc::new(Inner {
                offset_us: AtomicI64::new(0),
                frozen_us: None,
            }),
        }
    }

    /// A clock that stands still at `at` until advanced (for golden tests).
    pub fn frozen(at: SystemTime) -> Self {
        Clock {
            inner: Arc::new(Inner {
                offset_us: AtomicI64::new(0),
                frozen_us: Some(to_us(at)),
            }),
        }
    }

    /// A frozen clock at `secs` seconds after the Unix epoch.
    pub fn frozen_at_unix(secs: i64) -> Self {
        Self::frozen(from_us(secs.saturating_mul(1_000_000)))
    }

    /// The lab's current time.
    pub fn now(&self) -> SystemTime {
        let base = match self.inner.frozen_us {
            Some(us) => us,
            None => to_us(SystemTime::now()),
        };
        from_us(base.saturating_add(self.inner.offset_us.load(Ordering::Relaxed)))
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        to_us(self.now()).div_euclid(1_000_000)
    }

    /// Microseconds since the Unix epoch (for timestamps printed with sub-second digits).
    pub fn unix_micros(&self) -> i64 {
        to_us(self.now())
    }

    /// Moves the clock forward (or back, for a negative value) by `secs` seconds, unless that
    /// takes it more than [`MAX_OFFSET_SECS`] from its base: then it does not move at all.
    pub fn try_advance_secs(&self, secs: i64) -> Result<(), OutOfRange> {
        let step = secs.checked_mul(1_000_000);
        self.inner
            .offset_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| {
                step.and_then(|s| cur.checked_add(s))
                    .filter(|next| next.unsigned_abs() <= MAX_OFFSET_US.unsigned_abs())
            })
            .map(|_| ())
            .map_err(|cur| OutOfRange {
                requested_secs: secs,
                offset_secs: cur.div_euclid(1_000_000),
            })
    }

    /// Moves the clock forward (or back, for a negative value) by `secs` seconds, stopping at
    /// [`MAX_OFFSET_SECS`] from its base.
    pub fn advance_secs(&self, secs: i64) {
        self.add_clamped_us(secs.saturating_mul(1_000_000));
    }

    /// Moves the clock forward by `d`, stopping at [`MAX_OFFSET_SECS`] from its base.
    pub fn advance(&self, d: Duration) {
        self.add_clamped_us(i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    }

    fn add_clamped_us(&self, us: i64) {
        let _ = self
            .inner
            .offset_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| {
                Some(cur.saturating_add(us).clamp(-MAX_OFFSET_US, MAX_OFFSET_US))
            });
    }

    /// How far this clock has been moved from its base, in seconds.
    pub fn offset_secs(&self) -> i64 {
        self.inner
            .offset_us
            .load(Ordering::Relaxed)
            .div_euclid(1_000_000)
    }

    /// Whether two handles are the same clock.
    pub fn same_as(&self, other: &Clock) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_stands_still_until_advanced() {
        let c = Clock::frozen_at_unix(1_510_864_576);
        assert_eq!(c.unix(), 1_510_864_576);
        assert_eq!(c.unix(), 1_510_864_576);
        c.advance_secs(3600);
        assert_eq!(c.unix(), 1_510_868_176);
        assert_eq!(c.offset_secs(), 3600);
    }

    #[test]
    fn clones_share_time() {
        let a = Clock::frozen_at_unix(0);
        let b = a.clone();
        b.advance(Duration::from_secs(90 * 86_400));
        assert_eq!(a.unix(), 90 * 86_400);
        assert!(a.same_as(&b));
        assert!(!a.same_as(&Clock::frozen_at_unix(0)));
    }

    #[test]
    fn a_move_past_a_century_is_refused_and_leaves_the_clock_where_it_was() {
        let c = Clock::frozen_at_unix(1_510_864_576);
        let err = c.try_advance_secs(i64::MAX).unwrap_err();
        assert_eq!(err.requested_secs, i64::MAX);
        assert_eq!(err.offset_secs, 0);
        assert!(c.try_advance_secs(i64::MIN).is_err());
        assert!(c.try_advance_secs(MAX_OFFSET_SECS + 1).is_err());
        assert_eq!(c.unix(), 1_510_864_576);
        // Many small moves add up to the same bound.
        c.try_advance_secs(MAX_OFFSET_SECS).unwrap();
        let err = c.try_advance_secs(1).unwrap_err();
        assert_eq!(err.offset_secs, MAX_OFFSET_SECS);
        assert!(err.to_string().contains("at most a century"), "{err}");
        c.try_advance_secs(-2 * MAX_OFFSET_SECS).unwrap();
        assert_eq!(c.offset_secs(), -MAX_OFFSET_SECS);
        assert!(c.try_advance_secs(-1).is_err());
    }

    #[test]
    fn infallible_moves_stop_at_the_bound_and_time_still_reads() {
        let c = Clock::system();
        c.advance_secs(i64::MAX);
        c.advance(Duration::MAX);
        assert_eq!(c.offset_secs(), MAX_OFFSET_SECS);
        let _ = c.now();
        c.advance_secs(i64::MIN);
        c.advance_secs(i64::MIN);
        assert_eq!(c.offset_secs(), -MAX_OFFSET_SECS);
        let _ = c.now();
    }

    #[test]
    fn system_clock_moves_with_offset() {
        let c = Clock::system();
        let before = c.unix();
        c.advance_secs(1000);
        assert!(c.unix() >= before + 1000);
    }
}
