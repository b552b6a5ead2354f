//! The bounds a query a person typed runs within: memory and time.
//!
//! DataFusion's operators that hold data (joins, sorts, aggregations) reserve it from the
//! session's memory pool, and the rows a query returns are collected here under the same
//! limit, so a runaway query (a self cross join) ends with an error in words instead of
//! taking the machine's memory; a time limit ends one that would run for hours.

use std::time::Duration;

/// How much memory and time one query may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    pub memory_bytes: usize,
    pub time: Duration,
}

/// The share of the machine's memory a query may use unless configured.
const MEMORY_SHARE: u64 = 4;
/// When the machine's memory cannot be read.
const FALLBACK_MEMORY: usize = 4 << 30;
const DEFAULT_TIME: Duration = Duration::from_secs(300);

impl QueryLimits {
    /// `CCLAKE_QUERY_MEMORY` (`4GB`, `512MB`, or bytes) and `CCLAKE_QUERY_TIMEOUT` (seconds),
    /// else a quarter of the machine's memory and five minutes.
    pub fn from_env() -> QueryLimits {
        let memory_bytes = std::env::var("CCLAKE_QUERY_MEMORY")
            .ok()
            .and_then(|v| parse_size(&v))
            .unwrap_or_else(default_memory);
        let time = std::env::var("CCLAKE_QUERY_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(DEFAULT_TIME, Duration::from_secs_f64);
        QueryLimits { memory_bytes, time }
    }

    /// The limit in words (`4.0 GB`).
    pub fn memory_words(&self) -> String {
        crate::format::bytes(self.memory_bytes as u64)
    }
}

/// `4GB`, `4 GiB`, `512mb`, `1000000`: bytes.
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim().trim_end_matches("ib").trim_end_matches('b') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = n * scale;
    (bytes.is_finite() && bytes >= 1.0).then_some(bytes as usize)
}

fn default_memory() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    });
    total.map_or(FALLBACK_MEMORY, |t| {
        usize::try_from(t / MEMORY_SHARE).unwrap_or(FALLBACK_MEMORY)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("4GB"), Some(4 << 30));
        assert_eq!(parse_size("512 MiB"), Some(512 << 20));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("0"), None);
        assert!(default_memory() > 0);
    }
}
