//! Hive-style partition paths, built and parsed in one place so every layer agrees on them.
//!
//! Bronze hour partitions look like
//! `bronze/event_type=contact/year=2026/month=09/day=01/hour=14/<file>`. Partition values are
//! escaped the way Hive escapes them (`%XX` for anything outside a safe set) so an odd
//! `event_type` can never create extra directory levels.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use object_store::path::Path;

/// Root folder of the Bronze layer inside the lake.
pub const BRONZE: &str = "bronze";
/// Quarantined input: unparseable text and records without an occurrence time.
pub const QUARANTINE: &str = "bronze/_quarantine";
/// The ingest ledger: one JSON row per ingested input file.
pub const INGEST_LOG: &str = "bronze/_ingest_log";
/// Markers of ingests in progress; a marker left behind means an ingest died half way.
pub const INGEST_PENDING: &str = "bronze/_ingest_log/_pending";

/// One Bronze partition: an event type and the UTC hour its records happened in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BronzePartition {
    pub event_type: String,
    /// Start of the hour, UTC.
    pub hour: DateTime<Utc>,
}

impl BronzePartition {
    /// The partition holding a record of `event_type` that happened at `at`.
    pub fn for_record(event_type: &str, at: DateTime<Utc>) -> Self {
        let hour = Utc
            .with_ymd_and_hms(at.year(), at.month(), at.day(), at.hour(), 0, 0)
            .single()
            .unwrap_or(at);
        BronzePartition {
            event_type: partition_value(event_type),
            hour,
        }
    }

    /// `event_type=contact/year=2026/month=09/day=01/hour=14`, relative to the Bronze root.
    pub fn relative_dir(&self) -> String {
        format!(
            "event_type={}/year={:04}/month={:02}/day={:02}/hour={:02}",
            self.event_type,
            self.hour.year(),
            self.hour.month(),
            self.hour.day(),
            self.hour.hour()
        )
    }

    /// Full object path of a file in this partition.
    pub fn file_path(&self, file_name: &str) -> Path {
        let raw = format!("{BRONZE}/{}/{file_name}", self.relative_dir());
        // Every segment is already safe (see `partition_value`); `from` would re-encode.
        Path::parse(&raw).unwrap_or_else(|_| Path::from(raw))
    }

    /// The UTC date of the partition.
    pub fn date(&self) -> NaiveDate {
        self.hour.date_naive()
    }

    /// Parses the partition out of a Bronze object path such as
    /// `bronze/event_type=contact/year=2026/month=09/day=01/hour=14/x.json.gz`.
    /// Returns `None` for paths outside the hour layout (quarantine, ledger).
    pub fn parse_file_path(path: &str) -> Option<Self> {
        let rest = path.strip_prefix(BRONZE)?.strip_prefix('/')?;
        let mut parts = rest.split('/');
        let event_type = parts.next()?.strip_prefix("event_type=")?.to_string();
        let mut num = |key: &str| -> Option<u32> {
            parts
                .next()?
                .strip_prefix(key)?
                .strip_prefix('=')?
                .parse()
                .ok()
        };
        let (year, month, day, hour) = (num("year")?, num("month")?, num("day")?, num("hour")?);
        let hour = Utc
            .with_ymd_and_hms(i32::try_from(year).ok()?, month, day, hour, 0, 0)
            .single()?;
        Some(BronzePartition { event_type, hour })
    }
}

/// Quarantine folder for one ingest date: `bronze/_quarantine/ingest_date=2026-09-01`.
pub fn quarantine_dir(ingest_date: NaiveDate) -> String {
    format!(
        "{QUARANTINE}/ingest_date={}",
        ingest_date.format("%Y-%m-%d")
    )
}

/// Makes a partition value safe as one path segment in every object store: lowercase ASCII
/// letters, digits, `_`, `-` and `.` stay, anything else becomes `_`. Event types are
/// identifiers (`contact`, `agent_state`); the record itself keeps the original text.
pub fn partition_value(value: &str) -> String {
    let mut out: String = value
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // "." and ".." would be relative directories.
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = out.replace('.', "_");
        if out.is_empty() {
            out.push('_');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_path_round_trips() {
        let at = Utc.with_ymd_and_hms(2026, 9, 1, 14, 37, 12).unwrap();
        let p = BronzePartition::for_record("contact", at);
        assert_eq!(
            p.relative_dir(),
            "event_type=contact/year=2026/month=09/day=01/hour=14"
        );
        let path = p.file_path("a_20260901_1500_b1.json.gz");
        assert_eq!(
            path.as_ref(),
            "bronze/event_type=contact/year=2026/month=09/day=01/hour=14/a_20260901_1500_b1.json.gz"
        );
        let back = BronzePartition::parse_file_path(path.as_ref()).unwrap();
        assert_eq!(back, p);
        assert_eq!(
            back.hour,
            Utc.with_ymd_and_hms(2026, 9, 1, 14, 0, 0).unwrap()
        );
    }

    #[test]
    fn odd_event_types_stay_one_level() {
        for (v, want) in [
            ("agent/state", "agent_state"),
            ("A=b", "a_b"),
            ("..", "__"),
            ("chat message", "chat_message"),
            ("", "_"),
        ] {
            assert_eq!(partition_value(v), want);
            let p = BronzePartition::for_record(v, Utc::now());
            let path = p.file_path("f.json.gz");
            assert_eq!(path.as_ref().matches('/').count(), 6, "{path}");
            let parsed = BronzePartition::parse_file_path(path.as_ref());
            assert_eq!(parsed.unwrap().event_type, want);
        }
    }

    #[test]
    fn non_partition_paths_are_not_parsed() {
        assert!(
            BronzePartition::parse_file_path("bronze/_quarantine/ingest_date=2026-09-01/b.json.gz")
                .is_none()
        );
        assert!(BronzePartition::parse_file_path("bronze/_ingest_log/x.json").is_none());
        assert!(BronzePartition::parse_file_path("silver/contacts/x").is_none());
    }
}
