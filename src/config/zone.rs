//! The reporting time zone: which local day and hour a contact counts in.
//!
//! Silver partitions by UTC date; Gold by the date in `reporting_timezone`. A day in a zone
//! with daylight saving has 23 or 25 hours, so an hour is identified by the UTC instant it
//! starts at (`hour_start`), with the local clock hour (`hour`) beside it for reading.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Array, Int32Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Timelike, Utc};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A reporting zone, parsed from an IANA name.
#[derive(Debug, Clone)]
pub struct ReportingZone {
    name: String,
    /// `None` for UTC, which needs no lookup.
    tz: Option<chrono_tz::Tz>,
}

/// An instant as seen in the reporting zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub date: NaiveDate,
    pub hour: u32,
    /// The instant (µs since the epoch, UTC) the local hour began.
    pub hour_start_us: i64,
}

impl ReportingZone {
    /// Parses an IANA zone name (`UTC`, `America/New_York`, …).
    pub fn parse(name: &str) -> Result<Self, String> {
        let trimmed = name.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("utc") || trimmed == "Etc/UTC" {
            return Ok(ReportingZone {
                name: "UTC".into(),
                tz: None,
            });
        }
        let tz: chrono_tz::Tz = trimmed.parse().map_err(|_| {
            format!(
                "reporting_timezone `{trimmed}` is not an IANA time zone name (e.g. Europe/London)"
            )
        })?;
        Ok(ReportingZone {
            name: trimmed.to_string(),
            tz: Some(tz),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Seconds the zone is ahead of UTC at the instant.
    fn offset_secs(&self, at: &DateTime<Utc>) -> i64 {
        match self.tz {
            None => 0,
            Some(tz) => tz
                .offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc() as i64,
        }
    }

    /// The local date, clock hour and hour start of an instant (µs since the epoch).
    pub fn local(&self, us: i64) -> LocalTime {
        let at = DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default();
        let local = at.naive_utc() + Duration::seconds(self.offset_secs(&at));
        let into_hour = (local.minute() as i64 * 60 + local.second() as i64) * 1_000_000
            + (local.nanosecond() as i64 / 1_000) % 1_000_000;
        LocalTime {
            date: local.date(),
            hour: local.hour(),
            hour_start_us: us - into_hour,
        }
    }

    /// The local dates whose contacts' KPIs can change when Silver rows of UTC date `utc` change:
    /// the local dates that UTC day overlaps, and for FCR every local date up to `window_days`
    /// before (a contact there may see a repeat contact on the changed day).
    pub fn affected_local_dates(&self, utc: NaiveDate, window_days: u32) -> BTreeSet<NaiveDate> {
        let day_start = utc.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let start_us = day_start.timestamp_micros() - window_days as i64 * MICROS_PER_DAY;
        let end_us = day_start.timestamp_micros() + MICROS_PER_DAY - 1;
        let first = self.local(start_us).date;
        let last = self.local(end_us).date;
        first.iter_days().take_while(|d| *d <= last).collect()
    }

    /// DataFusion functions over a UTC timestamp column in this zone:
    /// `cclake_local_date`, `cclake_local_hour` and `cclake_hour_start`.
    pub fn udfs(&self) -> Vec<ScalarUDF> {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let zone = Arc::new(self.clone());
        let z = zone.clone();
        let date = create_udf(
            "cclake_local_date",
            vec![ts.clone()],
            DataType::Date32,
            Volatility::Immutable,
            Arc::new(move |args: &[ColumnarValue]| {
                let a = timestamps(args)?;
                let out: Date32Array = a
                    .iter()
                    .map(|v| v.map(|us| days_since_epoch(z.local(us).date)))
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }),
        );
        let z = zone.clone();
        let hour = create_udf(
            "cclake_local_hour",
            vec![ts.clone()],
            DataType::Int32,
            Volatility::Immutable,
            Arc::new(move |args: &[ColumnarValue]| {
                let a = timestamps(args)?;
                let out: Int32Array = a
                    .iter()
                    .map(|v| v.map(|us| z.local(us).hour as i32))
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }),
        );
        let z = zone;
        let start = create_udf(
            "cclake_hour_start",
            vec![ts.clone()],
            ts,
            Volatility::Immutable,
            Arc::new(move |args: &[ColumnarValue]| {
                let a = timestamps(args)?;
                let out: TimestampMicrosecondArray = a
                    .iter()
                    .map(|v| v.map(|us| z.local(us).hour_start_us))
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out.with_timezone("UTC"))))
            }),
        );
        vec![date, hour, start]
    }
}

/// Days since 1970-01-01 (Arrow's Date32).
pub fn days_since_epoch(d: NaiveDate) -> i32 {
    d.signed_duration_since(NaiveDate::default()).num_days() as i32
}

fn timestamps(args: &[ColumnarValue]) -> datafusion::error::Result<TimestampMicrosecondArray> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let Some(first) = arrays.first() else {
        return Err(datafusion::error::DataFusionError::Plan(
            "cclake time-zone functions take one timestamp argument".into(),
        ));
    };
    let cast = arrow::compute::cast(
        first,
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    )?;
    let a = cast.as_primitive::<TimestampMicrosecondType>().clone();
    debug_assert_eq!(a.len(), first.len());
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn utc_is_the_identity() {
        let z = ReportingZone::parse("UTC").unwrap();
        let l = z.local(us("2026-10-05T23:59:59.5Z"));
        assert_eq!(l.date, NaiveDate::from_ymd_opt(2026, 10, 5).unwrap());
        assert_eq!(l.hour, 23);
        assert_eq!(l.hour_start_us, us("2026-10-05T23:00:00Z"));
    }

    #[test]
    fn a_fall_back_day_has_25_distinct_hours_and_a_spring_day_23() {
        let z = ReportingZone::parse("America/New_York").unwrap();
        // 2026-11-01: clocks go back at 02:00 EDT. Count distinct hour starts that fall on it.
        let count = |day: &str| {
            let d: NaiveDate = day.parse().unwrap();
            let start = us(&format!("{}T00:00:00Z", d - Duration::days(1)));
            let mut hours = BTreeSet::new();
            let mut t = start;
            while t < start + 3 * MICROS_PER_DAY {
                let l = z.local(t);
                if l.date == d {
                    hours.insert(l.hour_start_us);
                }
                t += 60_000_000 * 15;
            }
            hours.len()
        };
        assert_eq!(count("2026-11-01"), 25);
        assert_eq!(count("2026-03-08"), 23);
        assert_eq!(count("2026-10-01"), 24);
        // 01:30 EDT and 01:30 EST are the same clock hour but different hours.
        let a = z.local(us("2026-11-01T05:30:00Z"));
        let b = z.local(us("2026-11-01T06:30:00Z"));
        assert_eq!((a.hour, b.hour), (1, 1));
        assert_ne!(a.hour_start_us, b.hour_start_us);
    }

    #[test]
    fn half_hour_zones_start_hours_on_the_local_hour() {
        let z = ReportingZone::parse("Asia/Kolkata").unwrap();
        let l = z.local(us("2026-10-05T04:45:00Z")); // 10:15 IST
        assert_eq!(l.hour, 10);
        assert_eq!(l.hour_start_us, us("2026-10-05T04:30:00Z"));
    }

    #[test]
    fn a_late_utc_day_affects_the_local_days_it_overlaps_and_the_fcr_window_before() {
        let z = ReportingZone::parse("America/Los_Angeles").unwrap();
        let d: NaiveDate = "2026-10-10".parse().unwrap();
        let dates = z.affected_local_dates(d, 7);
        // UTC Oct 10 00:00 is Oct 9 17:00 PDT; minus 7 days is Oct 2 17:00 PDT.
        assert_eq!(dates.first(), Some(&"2026-10-02".parse().unwrap()));
        assert_eq!(dates.last(), Some(&"2026-10-10".parse().unwrap()));
        let utc = ReportingZone::parse("UTC").unwrap();
        let dates = utc.affected_local_dates(d, 0);
        assert_eq!(dates.into_iter().collect::<Vec<_>>(), vec![d]);
    }

    #[test]
    fn bad_zone_names_are_refused_with_the_name() {
        let e = ReportingZone::parse("Mars/Olympus").unwrap_err();
        assert!(e.contains("Mars/Olympus"), "{e}");
    }
}
