//! 北京时间: China Standard Time, UTC+8 all year (no daylight saving). Every
//! day Fengqiao counts — a receipt number's date, a task list's day, a plate's
//! daily limit, the overview's periods — and every time a page shows is read
//! on this clock. This module is the one place that knows the offset and the
//! calendar; everything else asks it.

use std::fmt;

use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};

/// UTC+8.
const OFFSET_MS: i64 = 8 * 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// A calendar day in China Standard Time: a call at 07:00 UTC on the 24th is
/// on the 25th. Written `YYYY-MM-DD`, which sorts as it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChinaDay(i64);

impl ChinaDay {
    /// The China day `at` falls on.
    pub fn of(at: Timestamp) -> ChinaDay {
        ChinaDay((at.millis() + OFFSET_MS).div_euclid(DAY_MS))
    }

    /// The day of a real date between 2000 and 9999, else `None`.
    pub fn from_date(year: i64, month: u8, day: u8) -> Option<ChinaDay> {
        let valid = (2000..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then(|| ChinaDay(days_from_civil(year, month, day)))
    }

    /// `YYYY-MM-DD`, a real date between 2000 and 9999.
    pub fn parse(field: &str, text: &str) -> Result<ChinaDay, FieldError> {
        let invalid = || FieldError::new(field, Reason::InvalidFormat { expected: "date" });
        let text = text.trim();
        let parts: Vec<&str> = text.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(invalid());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(invalid());
        }
        let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<u8>(), d.parse::<u8>()) else {
            return Err(invalid());
        };
        let day = ChinaDay::from_date(y, m, d).ok_or_else(invalid)?;
        // "2025-+1-05" parses its month as 1: one date has one spelling.
        if day.to_string() != text {
            return Err(invalid());
        }
        Ok(day)
    }

    /// 00:00 of this day in Beijing, as a UTC instant.
    pub fn starts_at(self) -> Timestamp {
        Timestamp(self.0 * DAY_MS - OFFSET_MS)
    }

    /// The first day that starts at or after `at`.
    pub fn first_from(at: Timestamp) -> ChinaDay {
        let day = ChinaDay::of(at);
        if day.starts_at() < at {
            day.plus_days(1)
        } else {
            day
        }
    }

    pub fn plus_days(self, days: i64) -> ChinaDay {
        ChinaDay(self.0 + days)
    }

    /// Whole days from `earlier` to this day.
    pub fn days_since(self, earlier: ChinaDay) -> i64 {
        self.0 - earlier.0
    }

    /// Days since 1970-01-01: a day's number in a seeded stream.
    pub fn number(self) -> i64 {
        self.0
    }

    /// (year, month, day).
    pub fn date(self) -> (i64, u8, u8) {
        civil_from_days(self.0)
    }

    /// Saturday or Sunday.
    pub fn is_weekend(self) -> bool {
        // 1970-01-01 was a Thursday: 2 and 3 are Saturday and Sunday.
        matches!(self.0.rem_euclid(7), 2 | 3)
    }
}

impl fmt::Display for ChinaDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.date();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// The hour (0 to 23) a Beijing clock shows at `at`.
pub fn hour_of_day(at: Timestamp) -> u8 {
    ((at.millis() + OFFSET_MS).rem_euclid(DAY_MS) / HOUR_MS) as u8
}

/// (hour, minute, second) on a Beijing clock.
fn clock_time(at: Timestamp) -> (i64, i64, i64) {
    let secs = (at.millis() + OFFSET_MS).rem_euclid(DAY_MS) / 1000;
    (secs / 3600, secs % 3600 / 60, secs % 60)
}

/// `2026-11-25 09:30`: a time as the pages show it.
pub fn minutes(at: Timestamp) -> String {
    let (h, m, _) = clock_time(at);
    format!("{} {h:02}:{m:02}", ChinaDay::of(at))
}

/// `2026-11-25T09:30:00+08:00`: RFC 3339 (W3C) with the China offset.
pub fn rfc3339(at: Timestamp) -> String {
    let (h, m, s) = clock_time(at);
    format!("{}T{h:02}:{m:02}:{s:02}+08:00", ChinaDay::of(at))
}

fn days_in_month(year: i64, month: u8) -> u8 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's algorithm,
/// exact for the whole proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) to days since 1970-01-01: the inverse of
/// `civil_from_days`.
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    /// 2025-11-25 00:00 in Beijing.
    const T0: Timestamp = Timestamp(1_764_000_000_000);

    #[test]
    fn the_day_is_the_beijing_day() {
        let clock = ManualClock::new(T0);
        let day = ChinaDay::of(clock.now());
        assert_eq!(day.to_string(), "2025-11-25");
        assert_eq!(day.starts_at(), T0);
        clock.set(Timestamp(T0.0 - 1));
        assert_eq!(ChinaDay::of(clock.now()).to_string(), "2025-11-24");
        clock.advance_minutes(24 * 60);
        assert_eq!(ChinaDay::of(clock.now()), day);
        assert_eq!(ChinaDay::parse("day", "2025-11-25").unwrap(), day);
        assert_eq!(day.plus_days(7).to_string(), "2025-12-02");
        assert_eq!(
            ChinaDay::parse("day", "2024-02-29").unwrap().to_string(),
            "2024-02-29"
        );
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "25-11-25",
            "2025/11/25",
            "",
            "2025-11-5",
            "2025-+1-05",
        ] {
            assert!(ChinaDay::parse("day", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for days in [-1, 0, 19_782, 20_417, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn first_day_from_an_instant() {
        assert_eq!(ChinaDay::first_from(T0), ChinaDay::of(T0));
        assert_eq!(
            ChinaDay::first_from(Timestamp(T0.0 + 1)),
            ChinaDay::of(T0).plus_days(1)
        );
    }

    #[test]
    fn times_read_on_a_beijing_clock() {
        // 2026-11-24 16:30:05 UTC is 2026-11-25 00:30:05 in Beijing.
        let at = Timestamp(1_795_537_805_000);
        assert_eq!(minutes(at), "2026-11-25 00:30");
        assert_eq!(rfc3339(at), "2026-11-25T00:30:05+08:00");
        assert_eq!(hour_of_day(at), 0);
        assert_eq!(hour_of_day(Timestamp(at.0 - 31 * 60_000)), 23);
        // 2025-11-29 was a Saturday, 2025-11-25 a Tuesday.
        assert!(ChinaDay::of(T0).plus_days(4).is_weekend());
        assert!(ChinaDay::of(T0).plus_days(5).is_weekend());
        assert!(!ChinaDay::of(T0).is_weekend());
        assert!(!ChinaDay::of(T0).plus_days(6).is_weekend());
    }
}
