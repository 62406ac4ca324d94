//! Time formats Azure AD prints.
//!
//! - [`aad_instant`]: .NET round-trip with seven fractional digits, `2017-10-28T17:20:13.2960000Z`
//!   (the grant and TokensValidFrom instants of AADSTS50173).
//! - [`aad_timestamp`]: `2017-11-16 20:36:16Z` (the `Timestamp:` line and `timestamp` field).
//! - [`dotnet_timespan`]: `90.00:00:00` (lifetimes in 700081/700082).
//! - [`http_date`]: RFC 7231 `Thu, 16 Nov 2017 20:36:16 GMT`.

use std::time::SystemTime;

use time::macros::format_description;
use time::OffsetDateTime;

/// Converts a lab-kit instant.
pub fn from_system(t: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(t)
}

/// `2017-10-28T17:20:13.2960000Z`.
pub fn aad_instant(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let base = t
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    format!("{base}.{:07}Z", t.nanosecond() / 100)
}

/// `2017-11-16 20:36:16Z`.
pub fn aad_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let base = t
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    format!("{base}Z")
}

/// `d.hh:mm:ss` like .NET's `TimeSpan.ToString()` (`1.00:00:00`, `90.00:00:00`, `00:30:00`).
pub fn dotnet_timespan(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    if d > 0 {
        format!("{d}.{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// `Thu, 16 Nov 2017 20:36:16 GMT`: the one RFC 7231 date of the lab, shared with Exchange.
pub use lab_kit::wire::http_date;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats() {
        assert_eq!(
            aad_instant(datetime!(2017-10-28 17:20:13.296 UTC)),
            "2017-10-28T17:20:13.2960000Z"
        );
        assert_eq!(
            aad_timestamp(datetime!(2017-11-16 20:36:16 UTC)),
            "2017-11-16 20:36:16Z"
        );
        assert_eq!(dotnet_timespan(90 * 86_400), "90.00:00:00");
        assert_eq!(dotnet_timespan(86_400), "1.00:00:00");
        assert_eq!(dotnet_timespan(1800), "00:30:00");
        assert_eq!(
            http_date(datetime!(2017-11-16 20:36:16 UTC)),
            "Thu, 16 Nov 2017 20:36:16 GMT"
        );
    }
}
