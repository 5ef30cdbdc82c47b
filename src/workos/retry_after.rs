//! Parsing of the `Retry-After` response header (RFC 9110 §10.2.3).
//!
//! The value is either a delay in seconds or an HTTP date. WorkOS sends seconds; the WorkOS Node
//! SDK also reads fractional seconds (`Number(value)`), so those are accepted too. Dates are read
//! in all three forms RFC 9110 §5.6.7 obliges a recipient to accept (IMF-fixdate, RFC 850,
//! asctime), by the `httpdate` crate. Anything else is ignored: the header is advice, never a
//! reason to fail a call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Delays above this are treated as this (a year): no caller waits that long, and it keeps
/// the arithmetic far from overflow.
const MAX_DELAY_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// The delay a `Retry-After` value asks for, counted from `now`. A date in the past means no
/// delay. `None` when the value is neither a number of seconds nor an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = value.parse().ok()?;
        return Some(Duration::from_secs_f64(secs.clamp(0.0, MAX_DELAY_SECS)));
    }
    let at = parse_http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(
        at.saturating_sub(now).min(MAX_DELAY_SECS as u64),
    ))
}

/// Seconds since the Unix epoch for an HTTP date in any of the three RFC 9110 forms, read
/// by `httpdate` (hyper's own parser, already in the tree): exact field widths, a weekday
/// that matches the date, years 1970 to 9999.
fn parse_http_date(value: &str) -> Option<u64> {
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1994-11-06T08:49:37Z, the RFC's example instant.
    const EXAMPLE: u64 = 784_111_777;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn seconds_are_read_as_a_delay() {
        assert_eq!(
            parse_retry_after("120", at(0)),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", at(0)), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", at(0)),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", at(0)),
            Some(Duration::from_secs(MAX_DELAY_SECS as u64))
        );
    }

    #[test]
    fn all_three_date_forms_give_the_same_instant() {
        let now = at(EXAMPLE - 30);
        for v in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(v, now),
                Some(Duration::from_secs(30)),
                "{v}"
            );
        }
    }

    #[test]
    fn a_past_date_means_no_delay() {
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at(EXAMPLE + 100)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn leap_years_and_month_ends_are_right() {
        // 2024-02-29T00:00:00Z and 2000-03-01T00:00:00Z.
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(1_709_164_800)
        );
        assert_eq!(
            parse_http_date("Wed, 01 Mar 2000 00:00:00 GMT"),
            Some(951_868_800)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    }

    #[test]
    fn garbage_is_ignored_without_panicking() {
        for v in [
            "",
            "soon",
            "-5",
            "1e3",
            "1.2.3",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sunday, 06-Nov-94-1 08:49:37 GMT",
            "Sun Nov 6 08:49:37:00 1994",
            "é, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sun, Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_retry_after(v, at(EXAMPLE)), None, "{v:?}");
        }
    }
}
