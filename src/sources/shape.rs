//! Record shapes (genesys, cxone, connect, generic), envelope detection and the per-record facts
//! Bronze needs: event type and occurrence time. One borrowed parse per record; the record's bytes are
//! never re-serialised.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::time::{TimeError, in_range, parse_timestamp_json};

/// Which export a record came from (SPEC §1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Genesys Cloud analytics conversation detail record.
    Genesys,
    /// NICE CXone completed contact.
    Cxone,
    /// Amazon Connect contact trace record (CTR).
    Connect,
    /// Anything else: flat event records.
    Generic,
}

impl Shape {
    /// The shape rule of SPEC §1, given which top-level fields are present (and not null).
    pub fn of(present: impl Fn(&str) -> bool) -> Shape {
        if present("conversationId") && present("participants") {
            Shape::Genesys
        } else if present("contactId") && (present("skillId") || present("masterContactId")) {
            Shape::Cxone
        } else if present("ContactId") && present("AWSContactTraceRecordFormatVersion") {
            Shape::Connect
        } else {
            Shape::Generic
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Genesys => "genesys",
            Shape::Cxone => "cxone",
            Shape::Connect => "connect",
            Shape::Generic => "generic",
        }
    }

    /// Every shape, in the order of [`Shape::index`].
    pub const ALL: [Shape; 4] = [Shape::Genesys, Shape::Cxone, Shape::Connect, Shape::Generic];

    /// A dense index (0..4), for per-shape tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The shape named `name` (as [`Shape::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The occurrence-time fields of this shape, first present wins.
    pub fn time_fields(self) -> &'static [&'static str] {
        match self {
            Shape::Genesys => &["conversationStart"],
            Shape::Cxone => &["contactStart", "contactStartDate", "contactStartTime"],
            Shape::Connect => &["InitiationTimestamp"],
            Shape::Generic => &[
                "timestamp",
                "event_timestamp",
                "event_occurrence_timestamp",
                "occurred_at",
                "start_time",
            ],
        }
    }

    pub(crate) fn time_fields_text(self) -> &'static str {
        match self {
            Shape::Genesys => "conversationStart",
            Shape::Cxone => "contactStart, contactStartDate, contactStartTime",
            Shape::Connect => "InitiationTimestamp",
            Shape::Generic => {
                "timestamp, event_timestamp, event_occurrence_timestamp, occurred_at, start_time"
            }
        }
    }
}

/// The top-level fields cclake looks at to classify an object. Everything else is skipped
/// without being materialised.
#[derive(Deserialize, Default)]
struct Probe<'a> {
    #[serde(rename = "conversationId", borrow, default)]
    conversation_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    participants: Option<&'a RawValue>,
    #[serde(rename = "contactId", borrow, default)]
    contact_id: Option<&'a RawValue>,
    #[serde(rename = "skillId", borrow, default)]
    skill_id: Option<&'a RawValue>,
    #[serde(rename = "masterContactId", borrow, default)]
    master_contact_id: Option<&'a RawValue>,
    #[serde(rename = "ContactId", borrow, default)]
    connect_contact_id: Option<&'a RawValue>,
    #[serde(rename = "AWSContactTraceRecordFormatVersion", borrow, default)]
    ctr_version: Option<&'a RawValue>,
    #[serde(rename = "InitiationTimestamp", borrow, default)]
    initiation_timestamp: Option<&'a RawValue>,

    #[serde(rename = "conversationStart", borrow, default)]
    conversation_start: Option<&'a RawValue>,
    #[serde(rename = "contactStart", borrow, default)]
    contact_start: Option<&'a RawValue>,
    #[serde(rename = "contactStartDate", borrow, default)]
    contact_start_date: Option<&'a RawValue>,
    #[serde(rename = "contactStartTime", borrow, default)]
    contact_start_time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    event_timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    event_occurrence_timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    occurred_at: Option<&'a RawValue>,
    #[serde(borrow, default)]
    start_time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    event_type: Option<&'a RawValue>,

    // An AWS EventBridge event: `detail-type` names it, `time` is when it happened.
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(borrow, default)]
    time: Option<&'a RawValue>,

    // Envelope keys (SPEC §1).
    #[serde(borrow, default)]
    conversations: Option<&'a RawValue>,
    #[serde(rename = "resultSet", borrow, default)]
    result_set: Option<&'a RawValue>,
    #[serde(borrow, default)]
    entities: Option<&'a RawValue>,
    #[serde(borrow, default)]
    records: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ResultSet<'a> {
    #[serde(rename = "completedContacts", borrow, default)]
    completed_contacts: Option<&'a RawValue>,
}

/// Keys an envelope page may carry besides its records; an object made only of these is an
/// empty page (a last cursor page), not a record.
const ENVELOPE_METADATA_KEYS: &[&str] = &[
    "conversations",
    "resultSet",
    "entities",
    "records",
    "data",
    "cursor",
    "totalHits",
    "dataAvailabilityDate",
    "pageSize",
    "pageNumber",
    "pageCount",
    "total",
    "totalRecords",
    "totalPages",
    "count",
    "selfUri",
    "nextUri",
    "previousUri",
    "firstUri",
    "lastUri",
    "nextPageUri",
    "_links",
    "businessUnitId",
    "lastPollDate",
];

/// What one JSON object turned out to be.
pub enum Classified<'a> {
    /// A record, with the facts Bronze partitions by.
    Record(RecordFacts),
    /// An envelope holding records (borrowed slices of the same buffer, exact bytes).
    Envelope(Vec<&'a RawValue>),
}

/// Shape, event type and occurrence time of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFacts {
    pub shape: Shape,
    /// Lowercased; `contact` for genesys, cxone and connect, and for generic records without
    /// one.
    pub event_type: String,
    pub occurred_at: Result<DateTime<Utc>, TimeError>,
}

fn present(v: Option<&RawValue>) -> bool {
    v.is_some_and(|r| r.get() != "null")
}

fn is_array(v: Option<&RawValue>) -> bool {
    v.is_some_and(|r| r.get().starts_with('['))
}

/// Classifies one JSON value's bytes. Errors are for text that is not a JSON object.
pub fn classify(bytes: &[u8]) -> Result<Classified<'_>, String> {
    // serde would also read a struct from a JSON array; a record must be an object.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        let e = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).err();
        return Err(match (first, e) {
            (None, _) => "empty record".to_string(),
            (Some(b'['), None) => "a JSON array where a record was expected".to_string(),
            (Some(_), None) => "not a JSON object (a record must be an object)".to_string(),
            (Some(_), Some(e)) => format!("invalid JSON: {}", scrub(&e)),
        });
    }
    // UTF-8 checked once for the whole record (SIMD) lets serde skip its check of every
    // string; text that fails it goes through the byte parser, which names the bad byte.
    let probe: Result<Probe<'_>, _> = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    };
    let probe = match probe {
        Ok(p) => p,
        Err(e) => return Err(format!("invalid JSON: {}", scrub(&e))),
    };
    let shape = Shape::of(|f| match f {
        "conversationId" => present(probe.conversation_id),
        "participants" => present(probe.participants),
        "contactId" => present(probe.contact_id),
        "skillId" => present(probe.skill_id),
        "masterContactId" => present(probe.master_contact_id),
        "ContactId" => present(probe.connect_contact_id),
        "AWSContactTraceRecordFormatVersion" => present(probe.ctr_version),
        _ => false,
    });
    if shape == Shape::Generic
        && let Some(facts) = eventbridge_facts(&probe)
    {
        return Ok(Classified::Record(facts));
    }

    let time_candidates: [(&'static str, Option<&RawValue>); 5] = match shape {
        Shape::Genesys => [
            ("conversationStart", probe.conversation_start),
            ("", None),
            ("", None),
            ("", None),
            ("", None),
        ],
        Shape::Cxone => [
            ("contactStart", probe.contact_start),
            ("contactStartDate", probe.contact_start_date),
            ("contactStartTime", probe.contact_start_time),
            ("", None),
            ("", None),
        ],
        Shape::Connect => [
            ("InitiationTimestamp", probe.initiation_timestamp),
            ("", None),
            ("", None),
            ("", None),
            ("", None),
        ],
        Shape::Generic => [
            ("timestamp", probe.timestamp),
            ("event_timestamp", probe.event_timestamp),
            (
                "event_occurrence_timestamp",
                probe.event_occurrence_timestamp,
            ),
            ("occurred_at", probe.occurred_at),
            ("start_time", probe.start_time),
        ],
    };
    let first_time = time_candidates
        .into_iter()
        .find_map(|(name, v)| v.filter(|r| r.get() != "null").map(|r| (name, r)));

    if shape == Shape::Generic {
        // An array of objects under an envelope key makes a page, even when the page carries
        // a timestamp of its own; an empty array or paging keys alone make an empty page,
        // unless the object has an occurrence time (then it is a record with an empty list).
        match envelope_records(&probe)? {
            Some(records) if records.first().is_some_and(|r| r.get().starts_with('{')) => {
                return Ok(Classified::Envelope(records));
            }
            Some(records) if records.is_empty() && first_time.is_none() => {
                return Ok(Classified::Envelope(records));
            }
            _ => {}
        }
        if first_time.is_none() && is_empty_page(bytes) {
            return Ok(Classified::Envelope(Vec::new()));
        }
    }

    let occurred_at = match first_time {
        None => Err(TimeError::Missing {
            fields: shape.time_fields_text(),
        }),
        Some((field, raw)) => parse_timestamp_json(raw)
            .ok_or_else(|| TimeError::Unparseable {
                field,
                value: truncate(raw.get(), 80),
            })
            .and_then(|t| in_range(t, field, || truncate(raw.get(), 80))),
    };
    let event_type = match shape {
        Shape::Generic => event_type_of(probe.event_type),
        _ => "contact".to_string(),
    };
    Ok(Classified::Record(RecordFacts {
        shape,
        event_type,
        occurred_at,
    }))
}

/// The records of an envelope, if the object is one.
fn envelope_records<'a>(probe: &Probe<'a>) -> Result<Option<Vec<&'a RawValue>>, String> {
    let array = if is_array(probe.conversations) {
        probe.conversations
    } else if let Some(rs) = probe.result_set.filter(|r| r.get().starts_with('{')) {
        let page: ResultSet<'a> = serde_json::from_str(rs.get())
            .map_err(|e| format!("envelope resultSet does not parse: {}", scrub(&e)))?;
        match page.completed_contacts.filter(|r| r.get().starts_with('[')) {
            Some(list) => Some(list),
            // CXone's single-contact endpoint (`contacts/{id}`) answers with the contact
            // itself as the result set.
            None => return Ok(Some(vec![rs])),
        }
    } else {
        [probe.entities, probe.records, probe.data]
            .into_iter()
            .find(|v| is_array(*v))
            .flatten()
    };
    match array {
        None => Ok(None),
        Some(raw) => serde_json::from_str::<Vec<&'a RawValue>>(raw.get())
            .map(Some)
            .map_err(|e| format!("envelope records array does not parse: {}", scrub(&e))),
    }
}

fn is_empty_page(bytes: &[u8]) -> bool {
    match serde_json::from_slice::<std::collections::HashMap<Cow<'_, str>, serde::de::IgnoredAny>>(
        bytes,
    ) {
        Ok(keys) => {
            !keys.is_empty()
                && keys
                    .keys()
                    .all(|k| ENVELOPE_METADATA_KEYS.contains(&k.as_ref()))
        }
        Err(_) => false,
    }
}

/// The EventBridge detail-type of Amazon Connect's contact events.
const CONNECT_CONTACT_EVENT: &str = "Amazon Connect Contact Event";

/// Event type and time of an AWS EventBridge event (`detail-type`, `time`, `detail`), kept
/// whole: the event's own time, id and type live in the envelope, not in `detail`. Amazon
/// Connect contact events are `contact_event`; other detail-types are their lowercased name.
fn eventbridge_facts(probe: &Probe<'_>) -> Option<RecordFacts> {
    let detail_type = probe.detail_type?;
    if !probe.detail.is_some_and(|d| d.get().starts_with('{')) {
        return None;
    }
    let name: String = serde_json::from_str(detail_type.get()).ok()?;
    let event_type = if name == CONNECT_CONTACT_EVENT {
        "contact_event".to_string()
    } else {
        event_type_of(Some(detail_type))
    };
    let occurred_at = match probe.time.filter(|t| t.get() != "null") {
        None => Err(TimeError::Missing { fields: "time" }),
        Some(raw) => parse_timestamp_json(raw)
            .ok_or_else(|| TimeError::Unparseable {
                field: "time",
                value: truncate(raw.get(), 80),
            })
            .and_then(|t| in_range(t, "time", || truncate(raw.get(), 80))),
    };
    Some(RecordFacts {
        shape: Shape::Generic,
        event_type,
        occurred_at,
    })
}

/// A generic record's event type, lowercased; `contact` when absent, null or blank.
fn event_type_of(raw: Option<&RawValue>) -> String {
    let Some(raw) = raw else {
        return "contact".to_string();
    };
    let text = raw.get();
    let value: Cow<'_, str> = if text.starts_with('"') {
        serde_json::from_str(text).unwrap_or(Cow::Borrowed(""))
    } else if text == "null" || text.starts_with('{') || text.starts_with('[') {
        Cow::Borrowed("")
    } else {
        Cow::Borrowed(text)
    };
    let value = value.trim();
    if value.is_empty() {
        "contact".to_string()
    } else {
        value.to_lowercase()
    }
}

/// A parser's complaint without the values it quotes (see [`crate::format::scrub_message`]).
fn scrub(e: &impl std::fmt::Display) -> String {
    crate::format::scrub_message(&e.to_string())
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> RecordFacts {
        match classify(json.as_bytes()).unwrap() {
            Classified::Record(r) => r,
            Classified::Envelope(_) => panic!("expected a record: {json}"),
        }
    }

    fn envelope(json: &str) -> Vec<String> {
        match classify(json.as_bytes()).unwrap() {
            Classified::Envelope(v) => v.into_iter().map(|r| r.get().to_string()).collect(),
            Classified::Record(_) => panic!("expected an envelope: {json}"),
        }
    }

    #[test]
    fn shapes_follow_the_spec_rules() {
        let g = record(
            r#"{"conversationId":"c1","participants":[],"conversationStart":"2026-09-01T10:00:00Z"}"#,
        );
        assert_eq!(
            (g.shape, g.event_type.as_str()),
            (Shape::Genesys, "contact")
        );
        let c = record(r#"{"contactId":"1","skillId":"5","contactStart":"2026-09-01T10:00:00Z"}"#);
        assert_eq!(c.shape, Shape::Cxone);
        let c = record(
            r#"{"contactId":1,"masterContactId":1,"contactStartDate":"2026-09-01T10:00:00Z"}"#,
        );
        assert_eq!(c.shape, Shape::Cxone);
        assert!(c.occurred_at.is_ok());
        // contactId alone is not enough for cxone.
        let x = record(
            r#"{"contactId":"1","timestamp":"2026-09-01T10:00:00Z","event_type":"Agent_State"}"#,
        );
        assert_eq!(
            (x.shape, x.event_type.as_str()),
            (Shape::Generic, "agent_state")
        );
        // conversationId without participants is generic too.
        assert_eq!(
            record(r#"{"conversationId":"c","timestamp":1}"#).shape,
            Shape::Generic
        );
    }

    #[test]
    fn first_present_time_field_wins() {
        let r = record(
            r#"{"contactId":"1","skillId":"5","contactStart":null,"contactStartDate":"2026-09-01T10:00:00Z","contactStartTime":"2020-01-01T00:00:00Z"}"#,
        );
        assert_eq!(
            r.occurred_at.unwrap().to_rfc3339(),
            "2026-09-01T10:00:00+00:00"
        );
        let r = record(r#"{"timestamp":"garbage","start_time":"2026-09-01T10:00:00Z"}"#);
        assert!(matches!(
            r.occurred_at,
            Err(TimeError::Unparseable {
                field: "timestamp",
                ..
            })
        ));
        let r = record(r#"{"event_id":"e1"}"#);
        assert!(matches!(r.occurred_at, Err(TimeError::Missing { .. })));
        // Genesys records only use conversationStart.
        let r = record(
            r#"{"conversationId":"c1","participants":[],"timestamp":"2026-09-01T10:00:00Z"}"#,
        );
        assert!(r.occurred_at.is_err());
    }

    #[test]
    fn envelopes_yield_exact_record_bytes() {
        let e = envelope(
            r#"{"conversations":[ {"conversationId":"a", "participants":[]} ,{"x":1}],"cursor":"abc","totalHits":2}"#,
        );
        assert_eq!(
            e,
            vec![r#"{"conversationId":"a", "participants":[]}"#, r#"{"x":1}"#]
        );
        let e = envelope(
            r#"{"resultSet":{"totalRecords":1,"completedContacts":[{"contactId":"1","skillId":"2"}]}}"#,
        );
        assert_eq!(e, vec![r#"{"contactId":"1","skillId":"2"}"#]);
        for key in ["entities", "records", "data"] {
            let e = envelope(&format!(r#"{{"{key}":[{{"a":1}}],"pageSize":25}}"#));
            assert_eq!(e, vec![r#"{"a":1}"#]);
        }
        assert!(envelope(r#"{"cursor":null,"totalHits":0}"#).is_empty());
        assert!(envelope(r#"{"conversations":[]}"#).is_empty());
    }

    #[test]
    fn data_arrays_of_objects_are_pages_other_arrays_are_fields() {
        let r = record(r#"{"timestamp":"2026-09-01T10:00:00Z","data":[1,2]}"#);
        assert_eq!(r.shape, Shape::Generic);
        let r = record(r#"{"timestamp":"2026-09-01T10:00:00Z","records":[]}"#);
        assert!(r.occurred_at.is_ok());
        let e = envelope(
            r#"{"status":"ok","timestamp":"2026-09-01T10:00:00Z","data":[{"a":1},{"b":2}]}"#,
        );
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(classify(b"[1,2]").err().unwrap().contains("array"));
        assert!(classify(b"42").err().unwrap().contains("not a JSON object"));
        assert!(
            classify(br#"{"a":tru}"#)
                .err()
                .unwrap()
                .contains("invalid JSON")
        );
        assert!(
            classify(br#"{"a":1"#)
                .err()
                .unwrap()
                .contains("invalid JSON")
        );
    }
}
