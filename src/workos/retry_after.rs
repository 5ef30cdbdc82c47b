//! Parsing of the `Retry-After` response header (RFC 9110 §10.2.3).
//!
//! The value is either a delay in seconds or an HTTP date. WorkOS sends seconds; the WorkOS Node
//! SDK also reads fractional seconds (`Number(value)`), so those are accepted too. Dates are read
//! in all three forms RFC 9110 §5.6.7 obliges a recipient to accept (IMF-fixdate, RFC 850,
//! asctime). Anything else is ignored: the header is advice, never a reason to fail a call.

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

/// Seconds since the Unix epoch for an HTTP date in any of the three RFC 9110 forms.
fn parse_http_date(value: &str) -> Option<u64> {
    let tokens: Vec<&str> = value.split_ascii_whitespace().collect();
    let (day, month, year, time) = match tokens.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [wd, day, month, year, time, "GMT"] if is_day_name(wd, ",", false) && year.len() == 4 => (
            parse_num(day, 2)?,
            month_number(month)?,
            parse_num(year, 4)?,
            *time,
        ),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [wd, date, time, "GMT"] if is_day_name(wd, ",", true) => {
            let mut parts = date.split('-');
            let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() {
                return None;
            }
            let yy = parse_num(y, 2)?;
            // Two-digit years: the RFC 9110 rule of "not more than 50 years ahead", fixed at 1970.
            let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
            (parse_num(d, 2)?, month_number(m)?, year, *time)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [wd, month, day, time, year] if is_day_name(wd, "", false) && year.len() == 4 => (
            parse_day_1_or_2(day)?,
            month_number(month)?,
            parse_num(year, 4)?,
            *time,
        ),
        _ => return None,
    };
    let mut hms = time.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let (h, m, s) = (parse_num(h, 2)?, parse_num(m, 2)?, parse_num(s, 2)?);
    if day == 0 || day > 31 || h > 23 || m > 59 || s > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// `Sun` (or `Sunday` when `long`), followed by `suffix`.
fn is_day_name(token: &str, suffix: &str, long: bool) -> bool {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let Some(name) = token.strip_suffix(suffix) else {
        return false;
    };
    DAYS.iter().any(|d| {
        if long {
            *d == name
        } else {
            d.get(..3) == Some(name)
        }
    })
}

fn parse_num(s: &str, digits: usize) -> Option<u64> {
    if s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn parse_day_1_or_2(s: &str) -> Option<u64> {
    parse_num(s, 1).or_else(|| parse_num(s, 2))
}

fn month_number(name: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS
        .iter()
        .zip(1..)
        .find_map(|(m, n)| (*m == name).then_some(n))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm), for years ≥ 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
