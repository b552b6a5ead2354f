//! Reading a Bronze line that strict JSON parsing refuses, value by value.
//!
//! Bronze keeps records byte for byte, so it holds what exports really write: a number too
//! large for a double (`1e400`), bytes that are not UTF-8, a lone UTF-16 surrogate escape
//! (`"\ud800"`). Each spoils one value, not the record. [`repair`] rewrites just those values
//! (an out-of-range number becomes `null`, a bad byte or lone surrogate becomes U+FFFD) and
//! says which field each was in, so the record still reaches Silver with that field empty and
//! the field is reported as drift. The rewritten text is only parsed, never stored.

use std::borrow::Cow;

/// One value [`repair`] had to rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// The top-level field it is in (`wait_seconds`, `Agent` for `Agent.HoldDuration`).
    pub field: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A number outside the range of a double: read as null.
    NumberOutOfRange,
    /// Bytes that are not UTF-8, or a lone surrogate escape: read as U+FFFD.
    InvalidText,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::NumberOutOfRange => "number out of range (read as null)",
            Problem::InvalidText => "invalid UTF-8 or lone surrogate (read as U+FFFD)",
        }
    }
}

/// A container the scan is inside, with the key of the value being read.
enum Frame {
    Object { key: String, expect_key: bool },
    Array,
}

/// The line with every unreadable value rewritten, and what was rewritten; `None` when there
/// was nothing to rewrite (the line is bad JSON for another reason).
pub fn repair(bytes: &[u8]) -> Option<(String, Vec<Repair>)> {
    let text = String::from_utf8_lossy(bytes);
    let lossy = matches!(text, Cow::Owned(_));
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut repairs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let (body_end, end) = string_end(b, i);
                let body = &text[i + 1..body_end];
                let is_key = matches!(
                    stack.last(),
                    Some(Frame::Object {
                        expect_key: true,
                        ..
                    })
                );
                let fixed = fix_surrogates(body);
                let bad_bytes = lossy && body.contains('\u{FFFD}');
                if is_key {
                    if let Some(Frame::Object { key, .. }) = stack.last_mut() {
                        *key = body.to_string();
                    }
                } else if fixed.is_some() || bad_bytes {
                    repairs.push(Repair {
                        field: path(&stack),
                        problem: Problem::InvalidText,
                    });
                }
                if let Some(fixed) = fixed {
                    out.push_str(&text[copied..=i]);
                    out.push_str(&fixed);
                    copied = body_end;
                }
                i = end;
            }
            b'{' => {
                stack.push(Frame::Object {
                    key: String::new(),
                    expect_key: true,
                });
                i += 1;
            }
            b'[' => {
                stack.push(Frame::Array);
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b':' | b',' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = b[i] == b',';
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let end = i + b[i..]
                    .iter()
                    .position(|c| !matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .unwrap_or(b.len() - i);
                let number = &text[i..end];
                if number.parse::<f64>().is_ok_and(|v| v.is_infinite()) {
                    out.push_str(&text[copied..i]);
                    out.push_str("null");
                    copied = end;
                    repairs.push(Repair {
                        field: path(&stack),
                        problem: Problem::NumberOutOfRange,
                    });
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    if repairs.is_empty() && !lossy {
        return None;
    }
    out.push_str(&text[copied..]);
    Some((out, repairs))
}

/// Where the body of the string opening at `start` ends (its closing quote, or the end of an
/// unterminated line) and where the scan goes on.
fn string_end(b: &[u8], start: usize) -> (usize, usize) {
    let mut j = start + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return (j, j + 1),
            _ => j += 1,
        }
    }
    (b.len(), b.len())
}

/// The string body with each lone surrogate escape (`\ud800` without its pair, or a low half
/// alone) written as `\ufffd`; `None` when it has none.
fn fix_surrogates(body: &str) -> Option<String> {
    let b = body.as_bytes();
    let escape_at = |j: usize| -> Option<u32> {
        let hex = body.get(j + 2..j + 6)?;
        (b.get(j) == Some(&b'\\') && matches!(b.get(j + 1), Some(b'u' | b'U')))
            .then(|| u32::from_str_radix(hex, 16).ok())
            .flatten()
    };
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] != b'\\' {
            j += 1;
            continue;
        }
        let Some(unit) = escape_at(j) else {
            j += 2;
            continue;
        };
        let lone = match unit {
            0xD800..=0xDBFF => match escape_at(j + 6) {
                Some(0xDC00..=0xDFFF) => {
                    j += 12;
                    continue;
                }
                _ => true,
            },
            0xDC00..=0xDFFF => true,
            _ => false,
        };
        if lone {
            let o = out.get_or_insert_with(|| String::with_capacity(body.len()));
            o.push_str(&body[copied..j]);
            o.push_str("\\ufffd");
            copied = j + 6;
        }
        j += 6;
    }
    out.map(|mut o| {
        o.push_str(&body[copied..]);
        o
    })
}

/// The top-level field the value being read belongs to: drift is kept per top-level field, and
/// the keys of nested maps can themselves be personal data (Amazon Connect's `Attributes` keyed
/// by the caller's number).
fn path(stack: &[Frame]) -> String {
    match stack.first() {
        Some(Frame::Object { key, .. }) if !key.is_empty() => key.clone(),
        _ => "(record)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &[u8]) -> (serde_json::Value, Vec<(String, Problem)>) {
        let (text, r) = repair(line).expect("something to repair");
        let v: serde_json::Value = serde_json::from_str(&text).expect("repaired text parses");
        (v, r.into_iter().map(|r| (r.field, r.problem)).collect())
    }

    #[test]
    fn an_out_of_range_number_becomes_null_and_names_its_field() {
        let line = br#"{"contact_id":"c1","wait_seconds":1e400,"m":{"x":[1,-2E999]},"ok":2.5}"#;
        assert!(serde_json::from_slice::<serde_json::Value>(line).is_err());
        let (v, r) = fields(line);
        assert_eq!(v["wait_seconds"], serde_json::Value::Null);
        assert_eq!(v["m"]["x"][1], serde_json::Value::Null);
        assert_eq!(v["ok"], 2.5);
        assert_eq!(v["contact_id"], "c1");
        assert_eq!(
            r,
            [
                ("wait_seconds".into(), Problem::NumberOutOfRange),
                ("m".into(), Problem::NumberOutOfRange)
            ]
        );
    }

    #[test]
    fn bad_bytes_and_lone_surrogates_become_replacement_characters() {
        let mut line = br#"{"a":"ok","notes":"caf"#.to_vec();
        line.extend_from_slice(&[0xC3, 0x28]);
        line.extend_from_slice(br#"","b":"x\ud800y","c":"\ud83d\ude00","d":"\udc00"}"#);
        let (v, r) = fields(&line);
        assert_eq!(v["a"], "ok");
        assert!(v["notes"].as_str().unwrap().contains('\u{FFFD}'));
        assert_eq!(v["b"], "x\u{FFFD}y");
        assert_eq!(v["c"], "😀");
        assert_eq!(v["d"], "\u{FFFD}");
        let names: Vec<&str> = r.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["notes", "b", "d"]);
    }

    #[test]
    fn a_line_with_nothing_to_repair_is_left_to_its_error() {
        assert!(repair(br#"{"a": 1"#).is_none());
        assert!(repair(br#"{"a": 1e300}"#).is_none());
        assert!(repair(b"").is_none());
    }
}
