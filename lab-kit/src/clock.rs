//! The lab clock.
//!
//! Every service in a lab reads time from one [`Clock`] that is passed in, never from
//! `SystemTime::now()` directly. A clock is real time plus an offset (or a frozen instant);
//! scenarios and the admin APIs move it forward with [`Clock::advance`] instead of sleeping, so a
//! test that needs a refresh token to go stale for 90 days takes microseconds.
//!
//! Clones share state: advancing one clone advances every service holding a clone.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug)]
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

    /// Moves the clock forward (or back, for a negative value) by `secs` seconds.
    pub fn advance_secs(&self, secs: i64) {
        self.inner
            .offset_us
            .fetch_add(secs.saturating_mul(1_000_000), Ordering::Relaxed);
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.inner
            .offset_us
            .fetch_add(d.as_micros() as i64, Ordering::Relaxed);
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
    fn system_clock_moves_with_offset() {
        let c = Clock::system();
        let before = c.unix();
        c.advance_secs(1000);
        assert!(c.unix() >= before + 1000);
    }
}
