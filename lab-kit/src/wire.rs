//! Encodings and identifiers both Microsoft products put on the wire, written once: Exchange's
//! application id (in Azure AD's directory and in Exchange's Bearer challenge), the RFC 7231
//! `Date` both send, and .NET's URL encoding.

use time::OffsetDateTime;

/// Office 365 Exchange Online's application id: the `client_id` of Exchange's Bearer challenge,
/// the service principal `Get-MsolServicePrincipal -AppPrincipalId` names, and the audience of an
/// Exchange token. mock-aad holds it as a `Uuid` made from this text.
pub const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";

/// RFC 7231 IMF-fixdate in UTC, `Thu, 13 Jul 2017 18:22:13 GMT`: the `Date` header of IIS and
/// of Azure AD, and MAPI/HTTP's `X-StartTime`.
pub fn http_date(t: OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month() as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// .NET `HttpUtility.UrlEncode`: alphanumerics and `-_.!*()` stay, space is `+`, every other byte
/// `%xx` with lowercase hex — the form of the field guide's
/// `AADSTS50001%3a+The+application+named+https%3a%2f%2fmail…` and of OWA's `url=` parameter.
pub fn dotnet_url_encode(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'*'
            | b'('
            | b')' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02x}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_httputility_urlencode() {
        assert_eq!(
            dotnet_url_encode("AADSTS50001: The application named https://mail.contoso.com/ was"),
            "AADSTS50001%3a+The+application+named+https%3a%2f%2fmail.contoso.com%2f+was"
        );
        assert_eq!(
            dotnet_url_encode("a-b_c.d!e*f(g)\r\n"),
            "a-b_c.d!e*f(g)%0d%0a"
        );
        assert_eq!(dotnet_url_encode("é"), "%c3%a9");
    }

    #[test]
    fn http_date_matches_the_captures() {
        use time::macros::datetime;
        // IIS (guide capture), Azure AD (guide capture), MAPI/HTTP X-StartTime.
        assert_eq!(
            http_date(datetime!(2017-07-13 18:22:13 UTC)),
            "Thu, 13 Jul 2017 18:22:13 GMT"
        );
        assert_eq!(
            http_date(datetime!(2017-11-16 20:36:16.9 UTC)),
            "Thu, 16 Nov 2017 20:36:16 GMT"
        );
        assert_eq!(
            http_date(datetime!(2018-03-01 11:00:00 +01:00)),
            "Thu, 01 Mar 2018 10:00:00 GMT"
        );
        assert_eq!(
            http_date(datetime!(2017-12-19 12:00:00 UTC)),
            "Tue, 19 Dec 2017 12:00:00 GMT"
        );
    }
}
