//! Every function that takes text or bytes from an export, run on ten thousand generated inputs
//! each: strings mixing ASCII, multi-byte characters, full-width and Arabic-Indic digits,
//! combining marks, control characters, lone surrogate escapes and numbers beyond a double,
//! seeded with the values of the real-export fixtures. None may panic, and the ones that
//! promise something (a scrub leaves no phone behind, a repaired line parses, a person's phone
//! is found however it is written) keep the promise on every input.

use std::sync::LazyLock;

use cclake::compliance::subject::{Matcher, Subject};
use cclake::silver::digest::HmacKey;
use cclake::silver::drift::DriftCollector;
use cclake::silver::masking::Policy;
use cclake::silver::pii::{PhoneCache, ascii_digits, phone_text};
use cclake::silver::record::Record;
use cclake::sources::Shape;
use proptest::prelude::*;
use proptest::sample::Index;

const CASES: u32 = 10_000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // A failure is printed with its shrunk input; CI's checkout is read-only for files
        // proptest would keep.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every string value, number and key of the real-export fixtures, and phone, card and e-mail
/// forms exports write.
static SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut out: Vec<String> = [
        "+1 212 555 0000",
        "tel:+13175550123",
        "sip:+13175550123@10.1.2.3;user=phone",
        "(415) 555-0142",
        "(４１５) ５５５-０１４２",
        "☎☎+12065550100",
        "abc€123",
        "4111 1111 1111 1111",
        "jane.doe@example.com",
        "MBR12345678",
        "acct 12345678",
        "2026-10-01T10:00:00Z",
        "2026-10-01 10:00:00.123+05:30",
        "1759312800000",
    ]
    .map(String::from)
    .to_vec();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real");
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("fixture text");
        for line in std::iter::once(text.as_str()).chain(text.lines()) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                collect(&v, &mut out);
            }
        }
    }
    out.sort();
    out.dedup();
    out
});

fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Number(n) => out.push(n.to_string()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                collect(x, out);
            }
        }
        _ => {}
    }
}

fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range('0', '9'),
        4 => proptest::char::range(' ', '~'),
        2 => proptest::char::range('\u{FF10}', '\u{FF19}'),
        3 => prop::sample::select(vec![
            '☎', '€', '+', '(', ')', '-', '.', ' ', '/', ';', ':', '@', '"', '\\', '\u{0301}',
            '\u{200B}', '\u{1b}', '\u{7}', '\r', '\n', '\t', '\u{FEFF}', '\u{3000}', '\u{FF0B}',
            '\u{FF08}', '\u{FF09}', '\u{FF0D}', '\u{0660}', '\u{0669}', '\u{06F5}', '\u{0966}',
            'é', 'ß', '😀', '\u{10FFFF}', '\u{9b}', 'a', 'Z', 'x',
        ]),
        1 => any::<char>(),
    ]
}

/// Generated text, or a seed with a few characters put in at random places.
fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(nasty_char(), 0..40).prop_map(String::from_iter),
        (
            prop::sample::select(SEEDS.clone()),
            prop::collection::vec((any::<Index>(), nasty_char()), 0..4),
        )
            .prop_map(|(seed, edits)| {
                let mut chars: Vec<char> = seed.chars().collect();
                for (at, c) in edits {
                    let i = at.index(chars.len() + 1);
                    chars.insert(i, c);
                }
                chars.into_iter().collect()
            }),
    ]
}

static POLICY_TEXT: &str = cclake::config::PRESET_GENERAL;

static DETECTORS: LazyLock<cclake::silver::pii::Detectors> =
    LazyLock::new(|| Policy::parse(POLICY_TEXT).expect("preset").detectors);

fn key() -> HmacKey {
    HmacKey::from_bytes(b"property-test-key-0123456789abcdef".to_vec())
}

proptest! {
    #![proptest_config(config())]

    /// The PII detectors and scrubbers take any text, and a scrubbed text holds no phone the
    /// detectors would still find.
    #[test]
    fn pii_detectors_take_any_text_and_scrub_every_phone(s in nasty_text()) {
        let d = &*DETECTORS;
        let mut phones = PhoneCache::default();
        let _ = phone_text(&s);
        let _ = d.phone_e164(&s);
        let _ = d.identifier_pii(&s, &mut phones);
        let _ = d.is_member_id(&s);
        let _ = d.is_account_number(&s);
        let (scrubbed, _) = d.scrub(&s, &mut phones);
        // What the leak scan would look for in Silver: nothing a scrub catches survives it.
        let (_, again) = d.scrub(&scrubbed, &mut phones);
        prop_assert_eq!(again.total(), 0, "PII survived the scrub");
        // And outside identifiers (URLs, paths, ARNs, which scrubbing leaves whole on purpose),
        // no phone the subject search would find is left either.
        let identifier_like = s.contains('/') || s.matches(':').count() > 1;
        if !identifier_like {
            let left = d.phones_in(&scrubbed, &mut phones);
            prop_assert!(left.is_empty(), "a phone survived the scrub");
        }
    }

    /// A real phone written with full-width or Arabic-Indic digits, inside any text, is found
    /// and scrubbed like the same phone in ASCII.
    #[test]
    fn phones_in_wide_digits_are_masked(
        before in nasty_text(),
        after in nasty_text(),
        area in prop::sample::select(vec![206u32, 212, 317, 415, 646, 917]),
        line in 2000u32..9999,
        wide in prop::collection::vec(any::<bool>(), 10),
        arabic in any::<bool>(),
    ) {
        let digits = format!("{area}555{line:04}");
        let zero = if arabic { 0x0660 } else { 0xFF10 };
        let written: String = digits
            .chars()
            .zip(&wide)
            .map(|(c, w)| {
                let v = c.to_digit(10).unwrap_or(0);
                if *w { char::from_u32(zero + v).unwrap_or(c) } else { c }
            })
            .collect();
        let phone = format!("({}) {}-{}", &written_chars(&written, 0, 3), written_chars(&written, 3, 6), written_chars(&written, 6, 10));
        let text = format!("{before} call {phone} back {after}");
        let d = &*DETECTORS;
        let mut phones = PhoneCache::default();
        let e164 = format!("+1{digits}");
        prop_assert!(d.phones_in(&text, &mut phones).contains(&e164));
        let (scrubbed, counts) = d.scrub(&text, &mut phones);
        prop_assert!(counts.phones >= 1);
        prop_assert!(!scrubbed.contains(&phone));
        prop_assert!(!ascii_digits(&scrubbed).contains(&digits[3..]));
    }

    /// Occurrence times: any text, any epoch number.
    #[test]
    fn timestamps_take_any_text(s in nasty_text(), f in any::<f64>()) {
        let _ = cclake::sources::time::parse_timestamp_str(&s);
        let _ = cclake::sources::time::from_epoch(f);
    }

    /// The subject matcher reads any line, and finds the person's phone however it is written.
    #[test]
    fn the_subject_matcher_takes_any_line_and_finds_wide_phones(
        s in nasty_text(),
        wide in any::<bool>(),
    ) {
        let mut phones = PhoneCache::default();
        let _ = MATCHER.line(s.as_bytes(), &mut phones);
        let mut kinds = std::collections::BTreeSet::new();
        MATCHER.text(&s, &mut phones, &mut kinds);
        let number = if wide { "（２１２）５５５－００００" } else { "212-555-0000" };
        let line = format!(r#"{{"notes":{},"n":"{number}"}}"#, serde_json::to_string(&s).unwrap_or_default());
        prop_assert!(MATCHER.line(line.as_bytes(), &mut phones).contains("phone"));
    }

    /// Identifier patterns: spans they find lie on character boundaries.
    #[test]
    fn id_patterns_cut_at_character_boundaries(s in nasty_text()) {
        let words = cclake::silver::id_pattern::WordPattern::new("[A-Za-z]{2,4}[0-9]{6,12}")
            .expect("pattern");
        for (a, b) in words.find_spans(&s) {
            prop_assert!(s.is_char_boundary(a) && s.is_char_boundary(b) && a <= b);
        }
        let ids = cclake::silver::id_pattern::IdPattern::new("^[A-Za-z]{2,4}[0-9]{6,12}$")
            .expect("pattern");
        let _ = ids.is_match(&s);
    }
}

/// Characters `from..to` of a string.
fn written_chars(s: &str, from: usize, to: usize) -> String {
    s.chars().skip(from).take(to - from).collect()
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let subject = Subject {
        phones: vec!["+1 212 555 0000".into()],
        member_ids: vec!["MBR12345678".into()],
        emails: vec!["jane.doe@example.com".into()],
        customer_keys: Vec::new(),
    };
    Matcher::new(&subject, Policy::parse(POLICY_TEXT).expect("preset"), key()).expect("matcher")
});

/// A JSON value as exports write them, warts included.
fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => nasty_text().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        2 => prop::sample::select(vec![
            "1e400", "-1e400", "1E999", "123456789012345678901234567890123", "0", "-0.0",
            "1e-400", "null", "true", "\"\\ud800\"", "\"a\\udc00b\"", "\"\\ud83d\\ude00\"", "[]",
            "{}", "[1e400, \"x\"]", "{\"x\":\"\\ud800\",\"y\":1e400}", "\"\"", "\"False\"", "\"187\"",
        ])
        .prop_map(String::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
        1 => any::<i64>().prop_map(|i| i.to_string()),
    ]
}

/// A record line of `shape`: its time field, then fields it knows and others, with values from
/// [`json_value`], now and then a byte that is not UTF-8 inside a string.
fn record_line(shape: Shape) -> impl Strategy<Value = Vec<u8>> {
    let mut names: Vec<String> = cclake::silver::canonical::known_fields(shape)
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend(["notes", "Attributes", "x-custom", "ani", "phone_number"].map(String::from));
    let time_field = shape.time_fields().first().copied().unwrap_or("timestamp");
    (
        prop::collection::vec((prop::sample::select(names), json_value()), 0..12),
        prop::option::of(any::<Index>()),
        prop::sample::select(vec![0xC3u8, 0xFF, 0x80, 0xED]),
    )
        .prop_map(move |(fields, bad_at, bad)| {
            let mut bytes = format!(r#"{{"{time_field}":"2026-10-01T10:00:00Z""#).into_bytes();
            // A bad byte just inside one string value.
            let strings: Vec<usize> = (0..fields.len())
                .filter(|&i| fields[i].1.starts_with('"'))
                .collect();
            let spoiled = bad_at
                .filter(|_| !strings.is_empty())
                .map(|at| strings[at.index(strings.len())]);
            for (i, (k, v)) in fields.iter().enumerate() {
                bytes.extend_from_slice(
                    format!(",{}:", serde_json::to_string(k).unwrap_or_default()).as_bytes(),
                );
                if spoiled == Some(i) {
                    bytes.push(b'"');
                    bytes.push(bad);
                    bytes.extend_from_slice(&v.as_bytes()[1..]);
                } else {
                    bytes.extend_from_slice(v.as_bytes());
                }
            }
            bytes.push(b'}');
            bytes
        })
}

fn any_record_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        record_line(Shape::Genesys),
        record_line(Shape::Cxone),
        record_line(Shape::Connect),
        record_line(Shape::Generic),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Shape detection and the canonical mapping of each platform take any record; a line
    /// strict parsing refuses is repaired into JSON that parses, and the mapping takes it.
    #[test]
    fn every_record_is_classified_parsed_or_repaired_and_mapped(line in any_record_line()) {
        let _ = cclake::sources::shape::classify(&line);
        let repaired: String;
        let record = match Record::parse(&line) {
            Ok(r) => r,
            Err(_) => {
                let (text, fixes) = cclake::silver::repair::repair(&line)
                    .expect("a generated record's only faults are repairable values");
                prop_assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
                prop_assert!(fixes.iter().all(|f| !f.field.is_empty()));
                repaired = text;
                Record::parse_str(&repaired).expect("the repaired line parses")
            }
        };
        let (shape, at) = record.facts();
        if let Ok(at) = at {
            let mut drift = DriftCollector::default();
            let schema = cclake::config::SchemaConfig::default();
            let _ = cclake::silver::canonical::map_record(shape, record, at, &schema, &mut drift);
        }
    }

    /// The readers take any bytes: each record is read or named malformed.
    #[test]
    fn readers_take_any_bytes(
        lines in prop::collection::vec(prop_oneof![
            any_record_line(),
            prop::collection::vec(any::<u8>(), 0..64),
            nasty_text().prop_map(String::into_bytes),
        ], 0..6),
        sep in prop::sample::select(vec![&b"\n"[..], b"\r\n", b"", b" ", b",\n"]),
        wrap in any::<bool>(),
    ) {
        let mut bytes = Vec::new();
        if wrap {
            bytes.extend_from_slice(b"[");
        }
        for l in &lines {
            bytes.extend_from_slice(l);
            bytes.extend_from_slice(sep);
        }
        if wrap {
            bytes.extend_from_slice(b"]");
        }
        let mut n = 0usize;
        let read = cclake::sources::reader::read_stream(
            std::io::Cursor::new(&bytes),
            "generated",
            1 << 20,
            |_item| {
                n += 1;
                Ok::<(), std::convert::Infallible>(())
            },
        );
        // Bad text is an error or a malformed item, never a panic.
        let _ = (read.is_ok(), n);
        let _ = cclake::sources::shape::classify(&bytes);
        let _ = cclake::silver::repair::repair(&bytes);
    }
}
