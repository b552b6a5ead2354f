//! Numbers as people read them, shared by the CLI and the app.

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in B, KB, MB, GB (powers of 1024, one decimal).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Seconds as `4.2 s`, `3 min 12 s` or `1 h 05 min`.
pub fn duration(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        format!("{} min {:02} s", (secs / 60.0) as u64, (secs % 60.0) as u64)
    } else {
        format!(
            "{} h {:02} min",
            (secs / 3600.0) as u64,
            ((secs % 3600.0) / 60.0) as u64
        )
    }
}

/// How long ago `then` was, in the largest whole unit: `just now`, `12 min ago`, `3 h ago`,
/// `5 days ago` (a time in the future reads `just now`: clocks of two machines differ).
pub fn ago(then: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (now - then).num_seconds();
    match secs {
        ..60 => "just now".to_string(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h ago", secs / 3600),
        86400..172800 => "1 day ago".to_string(),
        _ => format!("{} days ago", secs / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(2_000_000), "2,000,000");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(3 << 20), "3.0 MB");
        assert_eq!(duration(4.25), "4.2 s");
        let now = chrono::DateTime::from_timestamp(1_000_000, 0).unwrap();
        let before = |s| now - chrono::Duration::seconds(s);
        assert_eq!(ago(before(-5), now), "just now");
        assert_eq!(ago(before(59), now), "just now");
        assert_eq!(ago(before(61), now), "1 min ago");
        assert_eq!(ago(before(7200), now), "2 h ago");
        assert_eq!(ago(before(90000), now), "1 day ago");
        assert_eq!(ago(before(5 * 86400), now), "5 days ago");
        assert_eq!(duration(192.0), "3 min 12 s");
        assert_eq!(duration(3900.0), "1 h 05 min");
    }
}
