//! 回执号: the receipt number a caller is given, and the parts it is made
//! of — the station's short code and the China day of the call.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::china_time::ChinaDay;
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};

/// A station's short code for receipt numbers, e.g. `JXJ` for 浆洗街派出所:
/// 2 to 8 ASCII capitals and digits, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StationCode(String);

impl StationCode {
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let text = text.trim().to_ascii_uppercase();
        let valid = (2..=8).contains(&text.len())
            && text.as_bytes()[0].is_ascii_uppercase()
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !valid {
            return Err(FieldError::new(
                "station_code",
                Reason::InvalidFormat {
                    expected: "station_code",
                },
            ));
        }
        Ok(StationCode(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StationCode {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        StationCode::parse(&value)
    }
}

impl From<StationCode> for String {
    fn from(code: StationCode) -> Self {
        code.0
    }
}

/// The calendar day of a receipt number: the China day of the call, written
/// `YYYYMMDD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReceiptDate(ChinaDay);

impl ReceiptDate {
    pub fn of(at: Timestamp) -> Self {
        ReceiptDate(ChinaDay::of(at))
    }

    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        ChinaDay::from_date(i64::from(year), month, day).map(ReceiptDate)
    }

    pub fn day(self) -> ChinaDay {
        self.0
    }
}

impl fmt::Display for ReceiptDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.0.date();
        write!(f, "{year:04}{month:02}{day:02}")
    }
}

/// 回执号: the number a caller is given, per station and day:
/// `STATION-YYYYMMDD-NNNN`, e.g. `JXJ-20261125-0042`. The sequence starts at
/// 1 each day and has four digits, five from 10000 on; one number has one
/// spelling, so a sequence is never padded beyond four digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReceiptNumber {
    station: StationCode,
    date: ReceiptDate,
    sequence: u32,
}

impl ReceiptNumber {
    pub const MAX_SEQUENCE: u32 = 99_999;

    /// The `sequence`-th incident of `station` on the China day of
    /// `received_at`; the store counts the sequence per station and day.
    pub fn new(
        station: StationCode,
        received_at: Timestamp,
        sequence: u32,
    ) -> Result<Self, FieldError> {
        if !(1..=Self::MAX_SEQUENCE).contains(&sequence) {
            return Err(FieldError::new(
                "receipt_number",
                Reason::InvalidFormat {
                    expected: "sequence 1..=99999",
                },
            ));
        }
        Ok(ReceiptNumber {
            station,
            date: ReceiptDate::of(received_at),
            sequence,
        })
    }

    /// Reads a number as a resident types it: spaces around it and lower
    /// case are forgiven, everything else must match.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                "receipt_number",
                Reason::InvalidFormat {
                    expected: "receipt_number",
                },
            )
        };
        let text = text.trim().to_ascii_uppercase();
        let mut parts = text.split('-');
        let (Some(station), Some(date), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let station = StationCode::parse(station).map_err(|_| invalid())?;
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let date = ReceiptDate::new(
            date[..4].parse().map_err(|_| invalid())?,
            date[4..6].parse().map_err(|_| invalid())?,
            date[6..].parse().map_err(|_| invalid())?,
        )
        .ok_or_else(invalid)?;
        if !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let sequence: u32 = seq.parse().map_err(|_| invalid())?;
        let canonical_width = if sequence >= 10_000 { 5 } else { 4 };
        if seq.len() != canonical_width || !(1..=Self::MAX_SEQUENCE).contains(&sequence) {
            return Err(invalid());
        }
        Ok(ReceiptNumber {
            station,
            date,
            sequence,
        })
    }

    pub fn station(&self) -> &StationCode {
        &self.station
    }

    pub fn date(&self) -> ReceiptDate {
        self.date
    }

    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{:04}",
            self.station.as_str(),
            self.date,
            self.sequence
        )
    }
}

impl FromStr for ReceiptNumber {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReceiptNumber::parse(s)
    }
}

impl TryFrom<String> for ReceiptNumber {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        ReceiptNumber::parse(&value)
    }
}

impl From<ReceiptNumber> for String {
    fn from(n: ReceiptNumber) -> Self {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_numbers_round_trip_and_use_the_china_day() {
        let jxj = StationCode::parse("jxj").unwrap();
        // 2026-11-24 16:30 UTC is 2026-11-25 00:30 in Beijing.
        let late_utc = Timestamp(1_795_537_800_000);
        let receipt = ReceiptNumber::new(jxj.clone(), late_utc, 42).unwrap();
        assert_eq!(receipt.to_string(), "JXJ-20261125-0042");
        assert_eq!(
            ReceiptNumber::parse(" jxj-20261125-0042 ").unwrap(),
            receipt
        );
        let big = ReceiptNumber::new(jxj.clone(), late_utc, 12_345).unwrap();
        assert_eq!(big.to_string(), "JXJ-20261125-12345");
        assert_eq!(big.to_string().parse::<ReceiptNumber>().unwrap(), big);
        assert_eq!(
            ReceiptNumber::new(jxj.clone(), late_utc.minus_minutes(31), 1)
                .unwrap()
                .date()
                .to_string(),
            "20261124"
        );
        for bad in [
            "JXJ-20261125-42",
            "JXJ-20261125-00042",
            "JXJ-20261125-0000",
            "JXJ-20260230-0001",
            "JXJ-2026112-0001",
            "JXJ-20261125-0001-1",
            "J-20261125-0001",
            "1XJ-20261125-0001",
            "JXJ-20261125-+001",
            "",
        ] {
            assert!(ReceiptNumber::parse(bad).is_err(), "{bad}");
        }
        assert!(ReceiptNumber::parse("JXJ-20240229-0001").is_ok());
        assert!(ReceiptNumber::new(jxj, late_utc, 0).is_err());
        let json = serde_json::to_string(&receipt).unwrap();
        assert_eq!(json, "\"JXJ-20261125-0042\"");
    }
}
