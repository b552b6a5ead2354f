use super::*;
use crate::sources::shape::Shape;

/// (raw, ok?, line) for each item of an input.
fn items(input: &str) -> (Layout, Vec<(String, bool, u64)>) {
    let (layout, got) = items_limited(input, DEFAULT_MAX_VALUE_BYTES);
    let out = got
        .into_iter()
        .map(|(t, ok, line, _)| (t, ok, line))
        .collect();
    (layout, out)
}

/// (raw, ok?, line, oversized length) for each item, with a size limit.
#[allow(clippy::type_complexity)]
fn items_limited(input: &str, limit: usize) -> (Layout, Vec<(String, bool, u64, u64)>) {
    let mut out = Vec::new();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let layout = read_stream(input.as_bytes(), "test", limit, |item| {
        match item {
            Item::Record { raw, loc, .. } => out.push((text(raw), true, loc.line, 0)),
            Item::Malformed { raw, loc, .. } => out.push((text(raw), false, loc.line, 0)),
            Item::Oversized {
                head, length, loc, ..
            } => out.push((text(head), false, loc.line, length)),
        }
        Ok::<(), ()>(())
    })
    .unwrap();
    (layout, out)
}

#[test]
fn values_over_the_limit_are_passed_over_with_their_length() {
    let big = format!(r#"{{"event_id":"big","blob":"{}"}}"#, "x".repeat(10_000));
    // NDJSON: the long line is reported, the lines around it are read.
    let (layout, got) = items_limited(&format!("{A}\n{big}\n{B}\n"), 2048);
    assert_eq!(layout, Layout::Ndjson);
    assert_eq!(got.len(), 3);
    assert!(got[0].1 && got[2].1);
    assert_eq!((got[1].2, got[1].3), (2, big.len() as u64 + 1));
    assert!(got[1].0.len() <= OVERSIZED_HEAD_BYTES);
    // A first line over the limit, and an array element over it.
    let (_, got) = items_limited(&format!("{big}\n{A}\n"), 2048);
    assert_eq!((got.len(), got[0].3 > 0, got[1].1), (2, true, true));
    let (layout, got) = items_limited(&format!("[{A}, {big}, {B}]"), 2048);
    assert_eq!(layout, Layout::JsonArray);
    assert_eq!(
        got.iter().map(|g| (g.1, g.3)).collect::<Vec<_>>(),
        vec![(true, 0), (false, big.len() as u64), (true, 0)]
    );
    // Cut off inside the value: reported by its length so far, nothing else lost.
    let (_, got) = items_limited(&format!("[{A}, {}", &big[..9000]), 2048);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].3, 9000);
}

const A: &str = r#"{"event_id":"a","timestamp":"2026-09-01T10:00:00Z"}"#;
const B: &str = r#"{"event_id":"b", "timestamp": 1788271392000}"#;

#[test]
fn ndjson_lines_keep_their_bytes() {
    let (layout, got) = items(&format!("{A}\r\n\n  {B}  \n"));
    assert_eq!(layout, Layout::Ndjson);
    assert_eq!(got, vec![(A.into(), true, 1), (B.into(), true, 3)]);
}

#[test]
fn malformed_ndjson_lines_are_isolated() {
    let (_, got) = items(&format!("{A}\n{{\"event_id\": \"x\", \n{B}\nnot json\n"));
    assert_eq!(got.len(), 4);
    assert_eq!(got[1], ("{\"event_id\": \"x\",".into(), false, 2));
    assert!(got[2].1);
    assert_eq!(got[3], ("not json".into(), false, 4));
    // A broken first line does not turn the file into one big quarantined value.
    let (layout, got) = items(&format!("{{\"event_id\": \"x\", \n{A}\n{B}\n"));
    assert_eq!(layout, Layout::Ndjson);
    assert_eq!(got.iter().filter(|g| g.1).count(), 2);
}

#[test]
fn arrays_stream_elements_with_exact_bytes() {
    let input = format!("[\n  {A},\n  {B}\n]\n");
    let (layout, got) = items(&input);
    assert_eq!(layout, Layout::JsonArray);
    assert_eq!(got, vec![(A.into(), true, 2), (B.into(), true, 3)]);
    let (_, got) = items("[]");
    assert!(got.is_empty());
}

#[test]
fn a_broken_array_quarantines_only_the_rest() {
    let input = format!("[{A}, {{\"event_id\": \"x\" {B}");
    let (_, got) = items(&input);
    assert_eq!(got[0], (A.into(), true, 1));
    assert_eq!(got.len(), 2);
    assert!(!got[1].1);
    assert!(got[1].0.contains("\"x\""), "the rest is kept: {}", got[1].0);
    // Element that is balanced but invalid: only it is quarantined.
    let (_, got) = items(&format!("[{A}, {{\"a\": tru}}, {B}]"));
    assert_eq!(
        got.iter().map(|g| g.1).collect::<Vec<_>>(),
        vec![true, false, true]
    );
}

#[test]
fn pretty_printed_envelope_pages() {
    let page = r#"{
  "conversations": [
{"conversationId": "c1", "participants": [], "conversationStart": "2026-09-01T10:00:00Z"},
{"conversationId": "c2", "participants": [], "conversationStart": "2026-09-01T11:00:00Z"}
  ],
  "cursor": "abc"
}
{
  "conversations": [
{"conversationId": "c3", "participants": [], "conversationStart": "2026-09-01T12:00:00Z"}
  ]
}"#;
    let (layout, got) = items(page);
    assert_eq!(layout, Layout::JsonStream);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|g| g.1));
    assert_eq!(got.iter().map(|g| g.2).collect::<Vec<_>>(), vec![3, 4, 10]);
    assert!(got[0].0.starts_with("{\"conversationId\": \"c1\""));
}

#[test]
fn single_objects_and_ndjson_envelopes() {
    let (layout, got) = items(A);
    assert_eq!((layout, got.len()), (Layout::Ndjson, 1));
    let pretty = "{\n  \"event_id\": \"a\",\n  \"timestamp\": \"2026-09-01T10:00:00Z\"\n}\n";
    let (layout, got) = items(pretty);
    assert_eq!((layout, got.len(), got[0].1), (Layout::JsonStream, 1, true));
    let lines = format!("{{\"records\":[{A},{B}]}}\n{{\"data\":[{A}]}}\n");
    let (_, got) = items(&lines);
    assert_eq!(got.len(), 3);
}

#[test]
fn empty_and_blank_inputs() {
    assert_eq!(items("").0, Layout::Empty);
    assert_eq!(items(" \n\n ").0, Layout::Empty);
    assert_eq!(items("\u{feff}").0, Layout::Empty);
}

#[test]
fn gzip_is_detected_by_magic_not_name() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.json"); // no .gz in the name
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(format!("{A}\n{B}\n").as_bytes()).unwrap();
    std::fs::write(&path, enc.finish().unwrap()).unwrap();
    let mut n = 0;
    let (layout, gzip) = read_file(&path, None, DEFAULT_MAX_VALUE_BYTES, |item| {
        if let Item::Record { facts, .. } = item {
            assert_eq!(facts.shape, Shape::Generic);
            n += 1;
        }
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!((layout, gzip, n), (Layout::Ndjson, true, 2));
}
