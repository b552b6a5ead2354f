//! Occurrence-time parsing: every form SPEC §1 accepts, to a UTC instant.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::value::RawValue;

/// Epoch values at or above this are milliseconds; below it, seconds (SPEC §1).
const EPOCH_MILLIS_THRESHOLD: f64 = 1e11;

/// Why a value could not be read as an occurrence time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TimeError {
    #[error("no occurrence time field (looked for {fields})")]
    Missing { fields: &'static str },
    #[error("occurrence time `{field}` = `{value}` is not a recognised timestamp")]
    Unparseable { field: &'static str, value: String },
    #[error(
        "occurrence time `{field}` = `{value}` is in the year {year}, outside 1970–9999: no \
         hour partition is made for it"
    )]
    OutOfRange {
        field: &'static str,
        value: String,
        year: i32,
    },
}

/// The years an occurrence time may fall in: Bronze partitions have four-digit years, and
/// no contact center exported a record before 1970.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// An occurrence time that parsed, checked against [`YEARS`].
pub fn in_range(
    t: DateTime<Utc>,
    field: &'static str,
    value: impl FnOnce() -> String,
) -> Result<DateTime<Utc>, TimeError> {
    use chrono::Datelike;
    if YEARS.contains(&t.year()) {
        Ok(t)
    } else {
        Err(TimeError::OutOfRange {
            field,
            value: value(),
            year: t.year(),
        })
    }
}

/// Parses a timestamp string: RFC 3339 with `Z` or an offset, ISO 8601 without a zone (UTC),
/// `YYYY-MM-DD HH:MM:SS[.fff]` (UTC), or a numeric string of epoch ms / seconds.
pub fn parse_timestamp_str(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // A numeric string is epoch time (f64 parsing also takes `1.7e12`; "NaN"/"inf" and
    // negatives are rejected by `from_epoch`).
    if let Ok(n) = s.parse::<f64>() {
        return from_epoch(n);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // Offsets without a colon (+0000), a space instead of `T`, or a lowercase `z`.
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    None
}

/// Epoch milliseconds (≥ 10^11) or seconds (< 10^11).
pub fn from_epoch(n: f64) -> Option<DateTime<Utc>> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let micros = if n >= EPOCH_MILLIS_THRESHOLD {
        n * 1_000.0
    } else {
        n * 1_000_000.0
    };
    // Beyond what an i64 of microseconds holds is no time at all; years past 9999 are times
    // that `in_range` refuses for a partition, with the year in its message.
    if micros >= i64::MAX as f64 {
        return None;
    }
    DateTime::from_timestamp_micros(micros.round() as i64)
}

/// Parses a raw JSON value (string or number) as an occurrence time.
pub fn parse_timestamp_json(raw: &RawValue) -> Option<DateTime<Utc>> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => {
            let s: std::borrow::Cow<'_, str> = serde_json::from_str(text).ok()?;
            parse_timestamp_str(&s)
        }
        Some(b'-' | b'0'..=b'9') => text.parse::<f64>().ok().and_then(from_epoch),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn accepts_every_spec_form() {
        let cases = [
            ("2026-09-01T14:03:12Z", "2026-09-01T14:03:12Z"),
            ("2026-09-01T14:03:12.345Z", "2026-09-01T14:03:12.345Z"),
            ("2026-09-01T16:03:12+02:00", "2026-09-01T14:03:12Z"),
            ("2026-09-01T09:03:12.5-05:00", "2026-09-01T14:03:12.5Z"),
            ("2026-09-01T16:03:12+0200", "2026-09-01T14:03:12Z"),
            ("2026-09-01T14:03:12", "2026-09-01T14:03:12Z"),
            ("2026-09-01T14:03:12.123456", "2026-09-01T14:03:12.123456Z"),
            ("2026-09-01 14:03:12", "2026-09-01T14:03:12Z"),
            ("2026-09-01 14:03:12.250", "2026-09-01T14:03:12.25Z"),
            ("1788271392000", "2026-09-01T14:03:12Z"),
            ("1788271392", "2026-09-01T14:03:12Z"),
            ("1.788271392E12", "2026-09-01T14:03:12Z"),
            (" 2026-09-01T14:03:12Z ", "2026-09-01T14:03:12Z"),
        ];
        for (input, want) in cases {
            assert_eq!(parse_timestamp_str(input), Some(at(want)), "{input}");
        }
    }

    #[test]
    fn numbers_split_at_ten_to_the_eleven() {
        // 10^11 - 1 seconds is year 5138; 10^11 ms is 1973.
        assert_eq!(from_epoch(1e11).unwrap(), at("1973-03-03T09:46:40Z"));
        assert_eq!(
            from_epoch(99_999_999_999.0)
                .unwrap()
                .format("%Y")
                .to_string(),
            "5138"
        );
        let raw: Box<RawValue> = serde_json::from_str("1788271392000").unwrap();
        assert_eq!(parse_timestamp_json(&raw), Some(at("2026-09-01T14:03:12Z")));
        let raw: Box<RawValue> = serde_json::from_str("1788271392.5").unwrap();
        assert_eq!(
            parse_timestamp_json(&raw),
            Some(at("2026-09-01T14:03:12.5Z"))
        );
        let raw: Box<RawValue> = serde_json::from_str("\"1788271392\"").unwrap();
        assert_eq!(parse_timestamp_json(&raw), Some(at("2026-09-01T14:03:12Z")));
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            "",
            "N/A",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-09-01",
            "-5",
            "12-34",
        ] {
            assert_eq!(parse_timestamp_str(bad), None, "{bad}");
        }
        for bad in ["null", "true", "{}", "[]", "-1"] {
            let raw: Box<RawValue> = serde_json::from_str(bad).unwrap();
            assert_eq!(parse_timestamp_json(&raw), None, "{bad}");
        }
    }
}
