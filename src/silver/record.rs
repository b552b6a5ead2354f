//! One Bronze record's top-level fields, borrowed from the decompressed line.
//!
//! Silver reads every Bronze line once. Parsing into `serde_json::Map` (a B-tree of owned keys
//! and values) cost more than all of the mapping after it, so the top level is read into a short
//! list of borrowed fields instead: strings without escapes point into the line, nested objects
//! and arrays stay unparsed (`&RawValue`) until a mapper or the rescue path asks for them.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Number, Value};

use crate::sources::Shape;
use crate::sources::time::{TimeError, from_epoch, parse_timestamp_str};

/// A top-level value.
#[derive(Debug, Clone)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'a, str>),
    /// An object or an array, as its exact JSON text.
    Nested(&'a RawValue),
}

impl PartialEq for Val<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Val::Null, Val::Null) => true,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Number(a), Val::Number(b)) => a == b,
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Nested(a), Val::Nested(b)) => a.get() == b.get(),
            _ => false,
        }
    }
}

impl Val<'_> {
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// The value as a `serde_json::Value` (for rescued data and drift examples).
    pub fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Number(n) => Value::Number(n.clone()),
            Val::Str(s) => Value::String(s.to_string()),
            // The line's parse checks nested text only for its structure: a number beyond a
            // double or a lone surrogate inside it fails here, and is noted for a repair.
            Val::Nested(raw) => parse_nested(raw).unwrap_or(Value::Null),
        }
    }
}

thread_local! {
    /// Set when a nested value of the record being mapped did not parse (see [`parse_nested`]).
    static NESTED_UNREADABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Parses a nested value. A record's parse checks nested objects and arrays only for their
/// structure, so a value inside one that cannot be read (`1e400`, `"\ud800"`) fails only here;
/// the failure is noted so the caller can read the line again repaired
/// ([`take_nested_unreadable`]) instead of losing the whole object.
pub fn parse_nested<T: serde::de::DeserializeOwned>(raw: &RawValue) -> Option<T> {
    match serde_json::from_str(raw.get()) {
        Ok(v) => Some(v),
        Err(_) => {
            NESTED_UNREADABLE.with(|f| f.set(true));
            None
        }
    }
}

/// Whether a nested value failed to parse since the last call (and clears the note).
pub fn take_nested_unreadable() -> bool {
    NESTED_UNREADABLE.with(|f| f.replace(false))
}

/// A field name's length and end bytes in one word: mapping looks up some 30 names in each
/// record, and comparing one word per field rules nearly all of them out without touching
/// the names themselves.
fn fingerprint(name: &str) -> u32 {
    let b = name.as_bytes();
    let (first, last) = (b.first().copied(), b.last().copied());
    (b.len().min(0xffff) as u32)
        | u32::from(first.unwrap_or(0)) << 16
        | u32::from(last.unwrap_or(0)) << 24
}

/// The bit a fingerprint sets in a record's [`Record::seen`] filter.
fn filter_bit(print: u32) -> u64 {
    1 << (print.wrapping_mul(0x9E37_79B9) >> 26)
}

/// A record's top-level fields in line order; a repeated key keeps its last value, as
/// `serde_json` does.
#[derive(Debug, Clone, Default)]
pub struct Record<'a> {
    fields: Vec<(Cow<'a, str>, Val<'a>)>,
    /// [`fingerprint`] of each field's name, in the same order.
    prints: Vec<u32>,
    /// A one-word Bloom filter of the names' fingerprints. Most names mapping asks for are
    /// not in a given record (each shape has its own, and aliases), and a clear bit answers
    /// that without a scan. Taking a field leaves its bit set: a set bit only means "look".
    seen: u64,
}

/// Equal when the fields are (the filter is only a shortcut).
impl PartialEq for Record<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

impl<'a> Record<'a> {
    /// Parses one JSON object. Anything else (an array, a scalar, bad JSON) is an error.
    pub fn parse(line: &'a [u8]) -> Result<Record<'a>, serde_json::Error> {
        serde_json::from_slice(line)
    }

    /// [`Record::parse`] of text already known to be UTF-8. A one-pass scanner reads the usual
    /// line; anything it does not take (bad JSON above all) goes through `serde_json`, which
    /// then gives the answer and the error message.
    pub fn parse_str(line: &'a str) -> Result<Record<'a>, serde_json::Error> {
        match scan::object(line) {
            Some(r) => Ok(r),
            None => serde_json::from_str(line),
        }
    }

    fn with_capacity(n: usize) -> Self {
        Record {
            fields: Vec::with_capacity(n),
            prints: Vec::with_capacity(n),
            seen: 0,
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.position_printed(fingerprint(name), name)
    }

    /// [`Record::position`] with the name's fingerprint already worked out.
    fn position_printed(&self, print: u32, name: &str) -> Option<usize> {
        if self.seen & filter_bit(print) == 0 {
            return None;
        }
        self.prints
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == print)
            .map(|(i, _)| i)
            .find(|i| self.fields[*i].0 == name)
    }

    /// Adds a field as it is read; a repeated key replaces the earlier value.
    fn insert(&mut self, k: Cow<'a, str>, v: Val<'a>) {
        let print = fingerprint(&k);
        match self.position_printed(print, &k) {
            Some(i) => self.fields[i].1 = v,
            None => {
                self.seen |= filter_bit(print);
                self.prints.push(print);
                self.fields.push((k, v));
            }
        }
    }

    /// The value of a field, if the record has it.
    pub fn get(&self, name: &str) -> Option<&Val<'a>> {
        self.position(name).map(|i| &self.fields[i].1)
    }

    /// Present and not null.
    pub fn present(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_null())
    }

    /// Takes a field out (what is left at the end is rescued).
    pub fn take(&mut self, name: &str) -> Option<Val<'a>> {
        let i = self.position(name)?;
        self.prints.swap_remove(i);
        Some(self.fields.swap_remove(i).1)
    }

    /// The remaining fields.
    pub fn into_fields(self) -> impl Iterator<Item = (Cow<'a, str>, Val<'a>)> {
        self.fields.into_iter()
    }

    /// Shape (SPEC §1) and occurrence time, by the same rules Bronze partitioned by.
    pub fn facts(&self) -> (Shape, Result<DateTime<Utc>, TimeError>) {
        let shape = Shape::of(|f| self.present(f));
        let first = shape
            .time_fields()
            .iter()
            .find_map(|f| self.get(f).filter(|v| !v.is_null()).map(|v| (*f, v)));
        let at = match first {
            None => Err(TimeError::Missing {
                fields: shape.time_fields_text(),
            }),
            Some((field, v)) => {
                let t = match v {
                    Val::Str(s) => parse_timestamp_str(s),
                    Val::Number(n) => n.as_f64().and_then(from_epoch),
                    _ => None,
                };
                let text = || {
                    let mut value = v.to_value().to_string();
                    if value.chars().count() > 80 {
                        value = value.chars().take(80).collect::<String>() + "…";
                    }
                    value
                };
                t.ok_or_else(|| TimeError::Unparseable {
                    field,
                    value: text(),
                })
                .and_then(|t| crate::sources::time::in_range(t, field, text))
            }
        };
        (shape, at)
    }
}

/// The one-pass reader behind [`Record::parse_str`]. `serde_json` with `RawValue` walked each
/// value twice (once to find its end, once more to read it) and was the largest share of
/// parsing; this walks it once. It accepts only what `serde_json` accepts, and leaves anything
/// unusual (a string with a control character, a malformed number) to it by returning `None`.
mod scan {
    use super::{Record, Val};
    use serde_json::value::RawValue;
    use std::borrow::Cow;

    fn ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }

    /// A string starting at the quote at `i`: its value and the index after the closing quote.
    fn string(s: &str, i: usize) -> Option<(Cow<'_, str>, usize)> {
        let b = s.as_bytes();
        let start = i + 1;
        let mut j = start;
        // The common case: no escapes, so the value is the text between the quotes.
        while j < b.len() {
            // Eight bytes at a time up to the first one that needs a look (notes and other
            // long values were a byte-by-byte loop).
            if let Some(word) = b.get(j..j + 8) {
                let w = u64::from_le_bytes(word.try_into().unwrap_or([b'"'; 8]));
                match special_byte(w) {
                    None => {
                        j += 8;
                        continue;
                    }
                    Some(k) => j += k,
                }
            }
            match b[j] {
                b'"' => return Some((Cow::Borrowed(&s[start..j]), j + 1)),
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => j += 1,
            }
        }
        // With escapes: find the closing quote, then let serde_json decode (and check) them.
        while j < b.len() {
            match b[j] {
                b'"' => {
                    let decoded: String = serde_json::from_str(&s[i..=j]).ok()?;
                    return Some((Cow::Owned(decoded), j + 1));
                }
                b'\\' => j += 2,
                c if c < 0x20 => return None,
                _ => j += 1,
            }
        }
        None
    }

    /// The index of the first byte of `w` (little-endian) that is a quote, a backslash or a
    /// control character, if any. Each test flags its lowest matching byte exactly (a borrow
    /// can only flag bytes above a true match), so the lowest flag of the three is the answer.
    pub(super) fn special_byte(w: u64) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let flags =
            control | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')));
        (flags != 0).then(|| flags.trailing_zeros() as usize / 8)
    }

    /// An object or array starting at `i`: the index after its closing bracket.
    fn nested_end(b: &[u8], i: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut j = i;
        while j < b.len() {
            match b[j] {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j + 1);
                    }
                }
                b'"' => {
                    j += 1;
                    while j < b.len() && b[j] != b'"' {
                        j += if b[j] == b'\\' { 2 } else { 1 };
                    }
                }
                _ => {}
            }
            j += 1;
        }
        None
    }

    fn value(s: &str, i: usize) -> Option<(Val<'_>, usize)> {
        let b = s.as_bytes();
        let literal =
            |word: &str, v: Val<'static>| s[i..].starts_with(word).then(|| (v, i + word.len()));
        match *b.get(i)? {
            b'"' => string(s, i).map(|(v, e)| (Val::Str(v), e)),
            b'n' => literal("null", Val::Null),
            b't' => literal("true", Val::Bool(true)),
            b'f' => literal("false", Val::Bool(false)),
            b'{' | b'[' => {
                let end = nested_end(b, i)?;
                // Checked as serde_json would check it, kept as its exact text.
                let raw: &RawValue = serde_json::from_str(&s[i..end]).ok()?;
                Some((Val::Nested(raw), end))
            }
            b'-' | b'0'..=b'9' => {
                let mut e = i + 1;
                while e < b.len() && matches!(b[e], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    e += 1;
                }
                // serde_json reads the number, so its value (and what it refuses) is the same.
                let n: serde_json::Number = serde_json::from_str(&s[i..e]).ok()?;
                Some((Val::Number(n), e))
            }
            _ => None,
        }
    }

    pub(super) fn object(s: &str) -> Option<Record<'_>> {
        let b = s.as_bytes();
        let mut i = ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        let mut record = Record::with_capacity(16);
        i = ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                if b.get(i) != Some(&b'"') {
                    return None;
                }
                let (k, after) = string(s, i)?;
                i = ws(b, after);
                if b.get(i) != Some(&b':') {
                    return None;
                }
                let (v, after) = value(s, ws(b, i + 1))?;
                record.insert(k, v);
                i = ws(b, after);
                match b.get(i) {
                    Some(b',') => i = ws(b, i + 1),
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        (ws(b, i) == b.len()).then_some(record)
    }
}

/// An object key, borrowed unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Reads a value from its validated JSON text without building a tree.
fn val_of<E: de::Error>(raw: &RawValue) -> Result<Val<'_>, E> {
    let s = raw.get();
    Ok(match s.as_bytes().first() {
        Some(b'"') => {
            let inner = &s[1..s.len() - 1];
            if inner.contains('\\') {
                Val::Str(Cow::Owned(serde_json::from_str(s).map_err(E::custom)?))
            } else {
                Val::Str(Cow::Borrowed(inner))
            }
        }
        Some(b'n') => Val::Null,
        Some(b't') => Val::Bool(true),
        Some(b'f') => Val::Bool(false),
        Some(b'{' | b'[') => Val::Nested(raw),
        _ => Val::Number(serde_json::from_str(s).map_err(E::custom)?),
    })
}

impl<'de> serde::Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RecordVisitor;
        impl<'de> Visitor<'de> for RecordVisitor {
            type Value = Record<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Record<'de>, A::Error> {
                let mut record = Record::with_capacity(16);
                while let Some(Key(k)) = m.next_key::<Key<'de>>()? {
                    let raw: &'de RawValue = m.next_value()?;
                    let v = val_of(raw)?;
                    record.insert(k, v);
                }
                Ok(record)
            }
        }
        d.deserialize_map(RecordVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::shape::{Classified, classify};
    use serde_json::Map;

    #[test]
    fn lookups_agree_with_a_plain_search_however_full_the_filter() {
        // From no fields to far more than the filter's 64 bits; names alike in length and
        // end letters, so fingerprints and filter bits collide.
        for n in [0usize, 1, 5, 17, 80] {
            let names: Vec<String> = (0..n).map(|i| format!("f{i:03}x")).collect();
            let line = format!(
                "{{{}}}",
                names
                    .iter()
                    .enumerate()
                    .map(|(i, k)| format!("\"{k}\":{i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let mut r = Record::parse_str(&line).unwrap();
            for (i, k) in names.iter().enumerate() {
                assert_eq!(r.get(k).unwrap().to_value(), serde_json::json!(i), "{k}");
            }
            for absent in ["f999x", "g000x", "", "f00x", "event_id"] {
                assert!(r.get(absent).is_none(), "{absent} in {n}");
            }
            // Taken fields are gone; the rest still found.
            for k in names.iter().step_by(2) {
                assert!(r.take(k).is_some());
                assert!(r.take(k).is_none(), "{k} taken twice");
            }
            for (i, k) in names.iter().enumerate() {
                assert_eq!(r.get(k).is_some(), i % 2 == 1, "{k}");
            }
            assert_eq!(r.into_fields().count(), n / 2);
        }
    }

    #[test]
    fn the_word_scan_finds_the_first_byte_a_string_must_stop_at() {
        let naive = |w: u64| {
            w.to_le_bytes()
                .iter()
                .position(|b| *b == b'"' || *b == b'\\' || *b < 0x20)
        };
        // Random words, and words built from the bytes around each boundary (0x1f/0x20,
        // the quote and backslash and their neighbours, 0x7f/0x80, 0xff), where borrows
        // from one byte into the next are likeliest to mislead.
        let edges = [
            0x00u8,
            0x01,
            0x1f,
            0x20,
            0x21,
            b'"' - 1,
            b'"',
            b'"' + 1,
            b'\\' - 1,
            b'\\',
            b'\\' + 1,
            b'a',
            0x7f,
            0x80,
            0xa2,
            0xdc,
            0xff,
        ];
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for i in 0..400_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let w = if i % 2 == 0 {
                x
            } else {
                let mut bytes = [0u8; 8];
                for (k, b) in bytes.iter_mut().enumerate() {
                    *b = edges[((x >> (k * 5)) % edges.len() as u64) as usize];
                }
                u64::from_le_bytes(bytes)
            };
            assert_eq!(scan::special_byte(w), naive(w), "{w:#018x}");
        }
    }

    #[test]
    fn values_borrow_unless_escaped_and_keep_json_meaning() {
        let line = br#"{"a":"plain","b":"tab\there","c":12,"d":1.5e2,"e":null,"f":true,"g":[1,{"x":2}],"h":{"k":"v"},"a":"last"}"#;
        let r = Record::parse(line).unwrap();
        assert_eq!(r.fields.len(), 8, "the repeated key is one field");
        assert!(matches!(r.get("a"), Some(Val::Str(Cow::Borrowed("last")))));
        assert!(matches!(r.get("b"), Some(Val::Str(Cow::Owned(s))) if s == "tab\there"));
        assert_eq!(r.get("c").unwrap().to_value(), serde_json::json!(12));
        assert_eq!(r.get("d").unwrap().to_value(), serde_json::json!(150.0));
        assert!(r.get("e").unwrap().is_null() && !r.present("e"));
        assert_eq!(r.get("f"), Some(&Val::Bool(true)));
        assert_eq!(
            r.get("g").unwrap().to_value(),
            serde_json::json!([1, {"x": 2}])
        );
        let map: Map<String, Value> = r
            .fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect();
        let tree: Map<String, Value> = serde_json::from_slice(line).unwrap();
        assert_eq!(map, tree, "same meaning as a full parse");
        let from_text = Record::parse_str(std::str::from_utf8(line).unwrap()).unwrap();
        assert_eq!(from_text, r, "text and byte parsing agree");
        for bad in [&b"[1,2]"[..], b"12", b"{\"a\":", b"{\"a\":1}x"] {
            assert!(
                Record::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// A random JSON value's text, with the odd corners serde_json cares about.
    fn random_json(rng: &mut impl rand::Rng, depth: u32) -> String {
        const STRINGS: &[&str] = &[
            r#""plain""#,
            r#""""#,
            r#""tab\there""#,
            r#""quote \" and \\ slash""#,
            r#""\u00e9t\u00e9 \ud83d\ude00""#,
            "\"caf\u{e9} \u{1F600}\"",
            r#""a/b\/c""#,
            r#""}{][,:""#,
        ];
        const NUMBERS: &[&str] = &[
            "0",
            "-0",
            "12",
            "-7",
            "246.52",
            "1.5e2",
            "1E-3",
            "-2.5E+10",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "0.1",
            "3.141592653589793238",
        ];
        match rng.random_range(0..if depth > 2 { 5 } else { 7 }) {
            0 => STRINGS[rng.random_range(0..STRINGS.len())].to_string(),
            1 => NUMBERS[rng.random_range(0..NUMBERS.len())].to_string(),
            2 => "null".into(),
            3 => "true".into(),
            4 => "false".into(),
            5 => {
                let n = rng.random_range(0..4);
                let items: Vec<String> = (0..n).map(|_| random_json(rng, depth + 1)).collect();
                format!("[{}]", items.join(" , "))
            }
            _ => random_object(rng, depth + 1),
        }
    }

    fn random_object(rng: &mut impl rand::Rng, depth: u32) -> String {
        const KEYS: &[&str] = &[
            r#""event_id""#,
            r#""notes""#,
            r#""a""#,
            r#""a\u0062""#,
            r#""ab""#,
            r#""""#,
            r#""k\"q""#,
        ];
        const SPACE: &[&str] = &["", " ", "\t", "\r\n ", "  "];
        let sp = |rng: &mut dyn rand::RngCore| SPACE[rand::Rng::random_range(rng, 0..SPACE.len())];
        let n = rng.random_range(0..6);
        let mut out = format!("{}{{", sp(rng));
        for i in 0..n {
            if i > 0 {
                out.push_str(&format!("{},{}", sp(rng), sp(rng)));
            }
            let key = KEYS[rng.random_range(0..KEYS.len())];
            let value = random_json(rng, depth);
            out.push_str(&format!("{}{key}{}:{}{value}", sp(rng), sp(rng), sp(rng)));
        }
        out.push_str(&format!("{}}}{}", sp(rng), sp(rng)));
        out
    }

    #[test]
    fn the_scanner_agrees_with_serde_json_and_refuses_what_it_refuses() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (mut scanned, mut corrupt_refused) = (0, 0);
        for _ in 0..20_000 {
            let line = random_object(&mut rng, 0);
            let serde: Result<Record<'_>, _> = serde_json::from_str(&line);
            let serde = serde.unwrap_or_else(|e| panic!("{line}: {e}"));
            if let Some(fast) = scan::object(&line) {
                assert_eq!(fast, serde, "{line}");
                scanned += 1;
            }
            // Damage it: whatever the scanner still takes, serde_json takes the same way.
            let mut bytes = line.clone().into_bytes();
            for _ in 0..rng.random_range(1..3) {
                let at = rng.random_range(0..bytes.len());
                match rng.random_range(0..3) {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, b"{}[]\",:0e-.\x01x "[rng.random_range(0..14)]),
                    _ => bytes[at] = b"{}[]\",:0e-.x "[rng.random_range(0..13)],
                }
            }
            let Ok(bad) = std::str::from_utf8(&bytes) else {
                continue;
            };
            let serde: Result<Record<'_>, _> = serde_json::from_str(bad);
            match (scan::object(bad), serde) {
                (Some(fast), Ok(slow)) => assert_eq!(fast, slow, "{bad}"),
                (Some(fast), Err(e)) => panic!("scanner took {bad} as {fast:?}; serde_json: {e}"),
                (None, Err(_)) => corrupt_refused += 1,
                (None, Ok(_)) => {}
            }
        }
        assert!(
            scanned > 19_000,
            "the scanner reads ordinary lines ({scanned})"
        );
        assert!(corrupt_refused > 5_000, "{corrupt_refused}");
        // Errors still come from serde_json, with its position.
        let e = Record::parse_str(r#"{"a":1,}"#).unwrap_err();
        assert!(e.to_string().contains("column"), "{e}");
    }

    #[test]
    fn facts_agree_with_bronze_classify() {
        for json in [
            r#"{"conversationId":"g","participants":[],"conversationStart":"2026-09-01T10:00:00Z"}"#,
            r#"{"contactId":"1","skillId":"5","contactStart":null,"contactStartDate":"2026-09-01 10:00:00"}"#,
            r#"{"event_id":"e","timestamp":1788271392000,"event_type":"Agent_State"}"#,
            r#"{"event_id":"e","start_time":"2026-09-01T10:00:00"}"#,
            r#"{"event_id":"e","timestamp":"soon"}"#,
            r#"{"event_id":"e"}"#,
        ] {
            let Ok(Classified::Record(a)) = classify(json.as_bytes()) else {
                panic!("{json}")
            };
            let (shape, at) = Record::parse(json.as_bytes()).unwrap().facts();
            assert_eq!((shape, at), (a.shape, a.occurred_at), "{json}");
        }
    }
}
