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

/// One CSV field: quoted, inner quotes doubled, and neutralised by [`csv_safe`].
pub fn csv_field(cell: &str) -> String {
    format!("\"{}\"", csv_safe(cell).replace('"', "\"\""))
}

#[cfg(test)]
mod safe_text_tests {
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

/// An error or panic message with every quoted part taken out: library messages quote the
/// value they choked on (`invalid type: string "+1 206…"`, ``… of `(４１５) 555-0142` ``), and
/// a message about an export's record must not carry the record. What is left says what went
/// wrong and where (line, column, byte index), which is what a person needs.
pub fn scrub_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(240));
    // The open quote and what it has held so far.
    let mut quoted: Option<(char, String)> = None;
    for c in message.chars() {
        match &mut quoted {
            Some((q, inner)) if c == *q => {
                // A parser naming punctuation (expected `,` or `}`) quotes no data.
                let harmless = inner.len() <= 3 && inner.chars().all(|c| c.is_ascii_punctuation());
                out.push_str(if harmless { inner } else { "…" });
                out.push(c);
                quoted = None;
            }
            Some((_, inner)) => inner.push(c),
            None if matches!(c, '"' | '`' | '\'') => {
                out.push(c);
                quoted = Some((c, String::new()));
            }
            None => out.push(c),
        }
        if out.len() >= 240 {
            out.push('…');
            quoted = None;
            break;
        }
    }
    if quoted.is_some() {
        out.push('…');
    }
    escape_control(&out).into_owned()
}

/// Text for a terminal: control characters (ESC, BEL, CR, DEL, C1) written as `\x1b`-style
/// escapes, so data and file names cannot move the cursor, retitle the window or hide a line.
/// Tabs and newlines stay. Text without control characters comes back borrowed.
pub fn escape_control(text: &str) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write;
    let bad = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if bad(c) {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A CSV cell that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+…`, `-…`, `@…`,
/// or one starting with a tab or carriage return) prefixed with `'`, as OWASP's CSV-injection
/// guidance recommends; anything else comes back as it is. Numbers are not text cells and are
/// never passed here, so `-3.5` in a numeric column stays a number.
pub fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => {
            std::borrow::Cow::Owned(format!("'{cell}"))
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_every_quoted_value() {
        let m = "byte index 4 is not a char boundary; it is inside '€' (bytes 3..6) of `abc€123`";
        let s = scrub_message(m);
        assert!(!s.contains("abc") && !s.contains('€'), "{s}");
        assert!(s.contains("byte index 4 is not a char boundary"), "{s}");
        let s = scrub_message("invalid type: string \"+12065550100\", expected u64 at line 1");
        assert_eq!(s, "invalid type: string \"…\", expected u64 at line 1");
        // An unterminated quote hides the rest.
        assert_eq!(scrub_message("bad `+1206"), "bad `…");
        // Punctuation a parser expected is no data.
        assert_eq!(
            scrub_message("expected `,` or `}` at line 1 column 9"),
            "expected `,` or `}` at line 1 column 9"
        );
    }

    #[test]
    fn control_characters_are_escaped_for_terminals() {
        assert_eq!(escape_control("a\x1b[2Jb\x07\r"), "a\\x1b[2Jb\\x07\\x0d");
        assert!(matches!(
            escape_control("plain\tline\n"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(escape_control("\u{9b}x"), "\\x9bx");
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_safe(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(csv_safe("queue A"), "queue A");
        assert_eq!(csv_safe(""), "");
    }
}
