//! Mapping of the four record shapes onto Silver's canonical columns (SPEC §3): Genesys
//! conversation details (metrics in ms, repeated per segment), CXone completed contacts
//! (string values, renamed-field aliases), Amazon Connect contact trace records (durations in
//! seconds, nested `Queue` and `Agent`) and generic flat events. Missing values become null; ill-typed values become null
//! with their raw value kept in the rescued fields; unknown fields are rescued, never dropped.

mod documented;
mod genesys;
mod platforms;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use ahash::AHashSet;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::drift::{DriftCollector, DriftKind};
use super::record::{Record, Val};
use crate::config::SchemaConfig;
use crate::sources::Shape;
use crate::sources::time::parse_timestamp_str;
use genesys::genesys;
use platforms::{connect, cxone, generic};

/// One contact before masking and enrichment. Text borrows from the Bronze line where it can.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CanonicalRow<'a> {
    pub event_id: Option<Cow<'a, str>>,
    pub contact_id: Option<Cow<'a, str>>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub queue_id: Option<Cow<'a, str>>,
    pub queue_name: Option<Cow<'a, str>>,
    pub agent_id: Option<Cow<'a, str>>,
    pub media_type: Option<Cow<'a, str>>,
    pub direction: Option<Cow<'a, str>>,
    pub phone_number: Option<Cow<'a, str>>,
    pub wait_seconds: Option<f64>,
    pub talk_seconds: Option<f64>,
    pub hold_seconds: Option<f64>,
    pub acw_seconds: Option<f64>,
    pub duration_seconds: Option<f64>,
    pub answered: Option<bool>,
    pub abandoned: Option<bool>,
    /// Normalised outcome (set here for genesys/cxone, by the status map for generic).
    pub outcome_status: Option<&'static str>,
    pub outcome_raw: Option<Cow<'a, str>>,
    pub wrap_up_code: Option<Cow<'a, str>>,
    pub csat_score: Option<f64>,
    pub member_id: Option<Cow<'a, str>>,
    pub account_number: Option<Cow<'a, str>>,
    pub card_number: Option<Cow<'a, str>>,
    pub notes: Option<Cow<'a, str>>,
    /// When the platform last updated the record (Amazon Connect's `LastUpdateTimestamp`):
    /// among copies of one contact the latest update wins, before ingest order.
    pub updated_at: Option<DateTime<Utc>>,
    /// Unknown fields and the raw values of ill-typed known fields.
    pub rescued: Map<String, Value>,
}

/// Canonical columns a drifted field may be mapped onto, with their kind.
pub const MAPPABLE_COLUMNS: &[(&str, ColumnKind)] = &[
    ("event_id", ColumnKind::Text),
    ("contact_id", ColumnKind::Text),
    ("ended_at", ColumnKind::Time),
    ("queue_id", ColumnKind::Text),
    ("queue_name", ColumnKind::Text),
    ("agent_id", ColumnKind::Text),
    ("media_type", ColumnKind::Text),
    ("direction", ColumnKind::Text),
    ("phone_number", ColumnKind::Text),
    ("wait_seconds", ColumnKind::Number),
    ("talk_seconds", ColumnKind::Number),
    ("hold_seconds", ColumnKind::Number),
    ("acw_seconds", ColumnKind::Number),
    ("duration_seconds", ColumnKind::Number),
    ("outcome_raw", ColumnKind::Text),
    ("wrap_up_code", ColumnKind::Text),
    ("csat_score", ColumnKind::Number),
    ("member_id", ColumnKind::Text),
    ("account_number", ColumnKind::Text),
    ("card_number", ColumnKind::Text),
    ("notes", ColumnKind::Text),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Number,
    Time,
}

const GENESYS_KNOWN: &[&str] = &[
    "conversationId",
    "conversationStart",
    "conversationEnd",
    "originatingDirection",
    "participants",
];
const CXONE_KNOWN: &[&str] = &[
    "contactId",
    "masterContactId",
    "contactStart",
    "contactStartDate",
    "contactStartTime",
    "skillId",
    "skillName",
    "agentId",
    "mediaTypeName",
    "isOutbound",
    "fromAddr",
    "fromAddress",
    "abandoned",
    "agentSeconds",
    "inQueueSeconds",
    "holdSeconds",
    "ACWSeconds",
    "dispositionNotes",
    "csatScore",
    "accountNumber",
];
const CONNECT_KNOWN: &[&str] = &[
    "ContactId",
    "AWSContactTraceRecordFormatVersion",
    "InitiationTimestamp",
    "DisconnectTimestamp",
    "LastUpdateTimestamp",
    "Queue",
    "Agent",
    "Channel",
    "InitiationMethod",
    "CustomerEndpoint",
    "DisconnectReason",
];
const GENERIC_KNOWN: &[&str] = &[
    "event_id",
    "event_type",
    "timestamp",
    "event_timestamp",
    "event_occurrence_timestamp",
    "occurred_at",
    "start_time",
    "contact_id",
    "ended_at",
    "queue_id",
    "queue_name",
    "agent_id",
    "media_type",
    "direction",
    "phone_number",
    "wait_seconds",
    "queue_seconds",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "duration_seconds",
    "outcome_status",
    "wrap_up_code",
    "csat",
    "csat_score",
    "customer_satisfaction",
    "member_id",
    "account_number",
    "card_number",
    "notes",
];

/// Fields a record of each shape is expected to carry (any one of each group).
const GENESYS_EXPECTED: &[&[&str]] = &[&["conversationEnd"], &["originatingDirection"]];
const CXONE_EXPECTED: &[&[&str]] = &[
    &["skillId"],
    &["skillName"],
    &["abandoned"],
    &["inQueueSeconds"],
    &["agentSeconds"],
];
const CONNECT_EXPECTED: &[&[&str]] = &[
    &["Channel"],
    &["InitiationMethod"],
    &["LastUpdateTimestamp"],
];
const GENERIC_EXPECTED: &[&[&str]] = &[
    &["event_id", "contact_id"],
    &["queue_name", "queue_id"],
    &["duration_seconds"],
    &["outcome_status"],
];

static KNOWN: LazyLock<[AHashSet<&'static str>; 4]> =
    LazyLock::new(|| Shape::ALL.map(|shape| known_fields(shape).iter().copied().collect()));

/// The fields named by SPEC §3 for a shape.
pub fn known_fields(shape: Shape) -> &'static [&'static str] {
    match shape {
        Shape::Genesys => GENESYS_KNOWN,
        Shape::Cxone => CXONE_KNOWN,
        Shape::Connect => CONNECT_KNOWN,
        Shape::Generic => GENERIC_KNOWN,
    }
}

/// Takes typed values out of one record (borrowing its text, never copying it), rescuing what
/// does not fit and noting drift.
struct Reader<'a, 'b> {
    obj: Record<'a>,
    shape: Shape,
    at: DateTime<Utc>,
    rescued: &'b mut Map<String, Value>,
    drift: &'b mut DriftCollector,
}

impl<'a> Reader<'a, '_> {
    fn ill_typed(&mut self, field: &str, v: Val<'_>) {
        let v = v.to_value();
        self.drift
            .observe(self.shape, field, DriftKind::TypeChanged, Some(&v), self.at);
        self.rescued.insert(field.to_string(), v);
    }

    fn has(&self, field: &str) -> bool {
        self.obj.present(field)
    }

    /// Text: strings as they are, numbers and booleans as their JSON text.
    fn text(&mut self, field: &str) -> Option<Cow<'a, str>> {
        match self.obj.take(field)? {
            Val::Str(s) if s.trim().is_empty() => None,
            Val::Str(s) => Some(s),
            Val::Number(n) => Some(Cow::Owned(n.to_string())),
            Val::Bool(b) => Some(Cow::Owned(b.to_string())),
            Val::Null => None,
            // Objects and arrays are not text.
            other @ Val::Nested(_) => {
                self.ill_typed(field, other);
                None
            }
        }
    }

    fn first_text(&mut self, fields: &[&str]) -> Option<Cow<'a, str>> {
        fields.iter().find_map(|f| self.text(f))
    }

    /// A number; numeric strings are accepted (CXone sends them; elsewhere it is drift).
    fn number(&mut self, field: &str) -> Option<f64> {
        match self.obj.take(field)? {
            Val::Null => None,
            Val::Number(n) => n.as_f64(),
            Val::Str(s) if s.trim().is_empty() => None,
            Val::Str(s) => match s.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => {
                    if self.shape != Shape::Cxone {
                        let v = Value::String(s.into_owned());
                        self.drift.observe(
                            self.shape,
                            field,
                            DriftKind::TypeChanged,
                            Some(&v),
                            self.at,
                        );
                    }
                    Some(n)
                }
                _ => {
                    self.ill_typed(field, Val::Str(s));
                    None
                }
            },
            other => {
                self.ill_typed(field, other);
                None
            }
        }
    }

    fn first_number(&mut self, fields: &[&str]) -> Option<f64> {
        fields.iter().find_map(|f| self.number(f))
    }

    fn boolean(&mut self, field: &str) -> Option<bool> {
        let v = self.obj.take(field)?;
        let parsed = match &v {
            Val::Null => return None,
            Val::Bool(b) => Some(*b),
            Val::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Some(true),
                "false" | "no" | "n" | "0" => Some(false),
                "" => return None,
                _ => None,
            },
            Val::Number(n) if n.as_f64() == Some(0.0) => Some(false),
            Val::Number(n) if n.as_f64() == Some(1.0) => Some(true),
            _ => None,
        };
        if parsed.is_none() {
            self.ill_typed(field, v);
        }
        parsed
    }

    /// A nested object (Connect's `Queue`, `Agent`, `CustomerEndpoint`); null is absent.
    fn object(&mut self, field: &str) -> Option<Value> {
        match self.obj.take(field)? {
            Val::Null => None,
            Val::Nested(raw) if raw.get().starts_with('{') => {
                crate::silver::record::parse_nested(raw)
            }
            other => {
                self.ill_typed(field, other);
                None
            }
        }
    }

    fn time(&mut self, field: &str) -> Option<DateTime<Utc>> {
        let v = self.obj.take(field)?;
        let t = match &v {
            Val::Str(s) => parse_timestamp_str(s),
            Val::Number(n) => n.as_f64().and_then(crate::sources::time::from_epoch),
            Val::Null => return None,
            _ => None,
        };
        if t.is_none() {
            self.ill_typed(field, v);
        }
        t
    }
}

fn text_of<'a>(v: &Value) -> Option<Cow<'a, str>> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| Cow::Owned(s.clone()))
        }
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

fn owned<'a>(s: &str) -> Cow<'a, str> {
    Cow::Owned(s.to_string())
}

/// Maps one record. `occurred_at` comes from Bronze (it decided the partition).
pub fn map_record<'a>(
    shape: Shape,
    obj: Record<'a>,
    occurred_at: DateTime<Utc>,
    schema: &SchemaConfig,
    drift: &mut DriftCollector,
) -> CanonicalRow<'a> {
    let mapped = schema.field_map.get(shape.as_str());
    let ignored = schema.ignored.get(shape.as_str());

    // Expected fields, checked before the mapping below takes values out.
    let present = |f: &str| obj.present(f);
    let expected = match shape {
        Shape::Genesys => GENESYS_EXPECTED,
        Shape::Cxone => CXONE_EXPECTED,
        Shape::Connect => CONNECT_EXPECTED,
        Shape::Generic => GENERIC_EXPECTED,
    };
    for group in expected {
        // A reviewed mapping onto the column stands in for the field.
        let mapped_in = mapped.is_some_and(|m| {
            m.iter()
                .any(|(field, col)| group.contains(&col.as_str()) && present(field))
        });
        if !mapped_in && !group.iter().any(|f| present(f)) {
            drift.observe(shape, group[0], DriftKind::Missing, None, occurred_at);
        }
    }

    let mut rescued = Map::new();
    let mut r = Reader {
        obj,
        shape,
        at: occurred_at,
        rescued: &mut rescued,
        drift,
    };
    let mut row = match shape {
        Shape::Genesys => genesys(&mut r),
        Shape::Cxone => cxone(&mut r),
        Shape::Connect => connect(&mut r),
        Shape::Generic => generic(&mut r),
    };
    apply_field_map(&mut r, &mut row, schema);
    row.occurred_at = Some(occurred_at);

    // What is left: known fields not used for a column, and unknown fields, which are rescued
    // and reported unless reviewed and ignored.
    let known = &KNOWN[shape.index()];
    let rest = std::mem::take(&mut r.obj);
    for (k, v) in rest.into_fields() {
        if known.contains(k.as_ref()) || mapped.is_some_and(|m| m.contains_key(k.as_ref())) {
            continue;
        }
        let v = v.to_value();
        // A field the platform documents is known: rescued, but no drift.
        let reviewed = ignored.is_some_and(|i| i.iter().any(|x| *x == k));
        if !reviewed && !documented::is_documented(shape, &k) {
            r.drift
                .observe(shape, &k, DriftKind::New, Some(&v), occurred_at);
        }
        r.rescued.insert(k.into_owned(), v);
    }
    row.rescued = rescued;
    row
}

/// Fields the user mapped onto canonical columns fill those columns when they are empty.
fn apply_field_map<'a>(r: &mut Reader<'a, '_>, row: &mut CanonicalRow<'a>, schema: &SchemaConfig) {
    let Some(map) = schema.field_map.get(r.shape.as_str()) else {
        return;
    };
    for (field, column) in map {
        if !r.has(field) {
            continue;
        }
        let Some((_, kind)) = MAPPABLE_COLUMNS.iter().find(|(c, _)| c == column) else {
            continue;
        };
        match kind {
            ColumnKind::Text => {
                let v = r.text(field);
                if let Some(slot) = text_slot(row, column)
                    && slot.is_none()
                {
                    *slot = v;
                }
            }
            ColumnKind::Number => {
                let v = r.number(field);
                if let Some(slot) = number_slot(row, column)
                    && slot.is_none()
                {
                    *slot = v;
                }
            }
            ColumnKind::Time => {
                let v = r.time(field);
                if row.ended_at.is_none() {
                    row.ended_at = v;
                }
            }
        }
    }
}

fn text_slot<'r, 'a>(
    row: &'r mut CanonicalRow<'a>,
    column: &str,
) -> Option<&'r mut Option<Cow<'a, str>>> {
    Some(match column {
        "event_id" => &mut row.event_id,
        "contact_id" => &mut row.contact_id,
        "queue_id" => &mut row.queue_id,
        "queue_name" => &mut row.queue_name,
        "agent_id" => &mut row.agent_id,
        "media_type" => &mut row.media_type,
        "direction" => &mut row.direction,
        "phone_number" => &mut row.phone_number,
        "outcome_raw" => &mut row.outcome_raw,
        "wrap_up_code" => &mut row.wrap_up_code,
        "member_id" => &mut row.member_id,
        "account_number" => &mut row.account_number,
        "card_number" => &mut row.card_number,
        "notes" => &mut row.notes,
        _ => return None,
    })
}

fn number_slot<'r>(row: &'r mut CanonicalRow<'_>, column: &str) -> Option<&'r mut Option<f64>> {
    Some(match column {
        "wait_seconds" => &mut row.wait_seconds,
        "talk_seconds" => &mut row.talk_seconds,
        "hold_seconds" => &mut row.hold_seconds,
        "acw_seconds" => &mut row.acw_seconds,
        "duration_seconds" => &mut row.duration_seconds,
        "csat_score" => &mut row.csat_score,
        _ => return None,
    })
}

fn str_at<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// A number, or a numeric string (exports are not consistent about which).
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

/// The outcome of a platform whose export says answered and abandoned itself: an IVR-only or
/// bot-only contact that never reached a queue is neither.
fn outcome_of(answered: Option<bool>, abandoned: Option<bool>) -> &'static str {
    if abandoned == Some(true) {
        "abandoned"
    } else if answered == Some(true) {
        "handled"
    } else {
        "unknown"
    }
}

/// Scrubbed examples and rescued data need a stable JSON text.
pub fn rescued_json(rescued: &Map<String, Value>) -> Option<String> {
    (!rescued.is_empty()).then(|| Value::Object(rescued.clone()).to_string())
}

/// Groups canonical-column names for the drift pane's mapping picker.
pub fn mappable_column_names() -> BTreeMap<&'static str, ColumnKind> {
    MAPPABLE_COLUMNS.iter().copied().collect()
}

#[cfg(test)]
mod tests;
