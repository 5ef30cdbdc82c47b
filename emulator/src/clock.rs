//! The emulator's clock: wall time plus an offset that tests move at will.
//!
//! Every time the emulator reads (code expiry, token `iat`/`exp`, `created_at`) comes from
//! here, so a test can make a code expire without waiting ten minutes, or — by moving the
//! clock back — have the emulator issue access tokens that are already expired for a client
//! that reads the real time.

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time shifted by a signed offset.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Clock {
    offset_ms: i64,
}

impl Clock {
    /// Milliseconds since the Unix epoch, as the emulator sees them.
    pub(crate) fn now_ms(&self) -> i64 {
        system_now_ms().saturating_add(self.offset_ms)
    }

    /// Seconds since the Unix epoch, as the emulator sees them.
    pub(crate) fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves the clock by `delta_ms` (negative moves it back).
    pub(crate) fn shift_ms(&mut self, delta_ms: i64) {
        self.offset_ms = self.offset_ms.saturating_add(delta_ms);
    }

    /// The current offset from wall time, in milliseconds.
    pub(crate) fn offset_ms(&self) -> i64 {
        self.offset_ms
    }
}

fn system_now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        // A clock set before 1970: treat it as the epoch rather than fail.
        Err(_) => 0,
    }
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form WorkOS uses.
pub(crate) fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let secs_of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        secs_of_day / 3600,
        (secs_of_day / 60) % 60,
        secs_of_day % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_735_689_600_000), "2025-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn offset_moves_time_both_ways() {
        let mut clock = Clock::default();
        let before = clock.now_secs();
        clock.shift_ms(600_000);
        assert!(clock.now_secs() >= before + 600);
        clock.shift_ms(-1_200_000);
        assert!(clock.now_secs() < before);
        assert_eq!(clock.offset_ms(), -600_000);
    }
}
