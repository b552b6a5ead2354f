//! Mapping of the four record shapes onto Silver's canonical columns (SPEC §3): Genesys
//! conversation details (metrics in ms, repeated per segment), CXone completed contacts
//! (string values, renamed-field aliases), Amazon Connect contact trace records (durations in
//! seconds, nested `Queue` and `Agent`) and generic flat events. Missing values become null; ill-typed values become null
//! with their raw value kept in the rescued fields; unknown fields are rescued, never dropped.

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
            Val::Nested(raw) if raw.get().starts_with('{') => serde_json::from_str(raw.get()).ok(),
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
        if !ignored.is_some_and(|i| i.iter().any(|x| *x == k)) {
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

fn sessions(p: &Value) -> impl Iterator<Item = &Value> {
    p.get("sessions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn segments(session: &Value) -> impl Iterator<Item = &Value> {
    session
        .get("segments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A number, or a numeric string (exports are not consistent about which).
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

/// Every value a Genesys session emitted for a metric: a name repeats, one `tTalk` per talk
/// segment and one `tHeld` per hold.
fn metric_values<'v>(session: &'v Value, name: &'v str) -> impl Iterator<Item = f64> + 'v {
    session
        .get("metrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |m| str_at(m, "name") == Some(name))
        .filter_map(|m| m.get("value").and_then(number_of))
}

fn first_metric(session: &Value, name: &str) -> Option<f64> {
    metric_values(session, name).next()
}

/// A duration summed over every value the sessions emitted, in seconds. A session that emitted
/// no per-segment value but its `complete` total (`tTalkComplete`, `tHeldComplete`) counts that
/// total instead; a session with both counts its segments only, as the total repeats them.
fn summed_seconds(sessions: &[&Value], name: &str, complete: Option<&str>) -> Option<f64> {
    let mut total: Option<f64> = None;
    for s in sessions {
        let mut values = metric_values(s, name).peekable();
        let session_ms = if values.peek().is_some() {
            Some(values.sum::<f64>())
        } else {
            complete.and_then(|c| {
                let mut totals = metric_values(s, c).peekable();
                totals.peek().is_some().then(|| totals.sum::<f64>())
            })
        };
        if let Some(ms) = session_ms {
            *total.get_or_insert(0.0) += ms;
        }
    }
    total.map(|ms| ms / 1000.0)
}

/// The customer's number in a Genesys address: `tel:+E164`, a `sip:+E164@host` URI, or the
/// number itself. Anything else (`tel:anonymous`, a SIP user name, a messaging UUID) is none.
fn genesys_phone<'a>(address: &str) -> Option<Cow<'a, str>> {
    let n = super::pii::phone_text(address);
    (n.bytes().any(|b| b.is_ascii_digit())
        && n.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b' ' | b'-' | b'.' | b'(' | b')')))
    .then(|| owned(n))
}

/// Genesys Cloud conversation details, mapped as SPEC §3 says real exports require: the
/// answering agent is the one whose session has `tAnswered` (the acd session carries `tAcd`
/// and `nOffered`, and `tAbandon` when the caller hung up in queue); durations add up every
/// emitted value over every agent session (a not-responding agent's after-call work too).
fn genesys<'a>(r: &mut Reader<'a, '_>) -> CanonicalRow<'a> {
    let mut row = CanonicalRow {
        event_id: r.text("conversationId"),
        ended_at: r.time("conversationEnd"),
        direction: r.text("originatingDirection"),
        ..Default::default()
    };
    row.contact_id = row.event_id.clone();
    let participants: Vec<Value> = match r.obj.take("participants") {
        Some(Val::Nested(raw)) if raw.get().starts_with('[') => {
            serde_json::from_str(raw.get()).unwrap_or_default()
        }
        Some(Val::Null) | None => Vec::new(),
        Some(other) => {
            r.ill_typed("participants", other);
            Vec::new()
        }
    };
    let purpose = |p: &Value| {
        str_at(p, "purpose")
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let with_purpose = |wanted: &str| -> Vec<&Value> {
        participants
            .iter()
            .filter(|p| purpose(p) == wanted)
            .collect()
    };
    let acd = with_purpose("acd");
    let agents = with_purpose("agent");
    let customer = participants
        .iter()
        .find(|p| matches!(purpose(p).as_str(), "customer" | "external"));

    // The queue: the first queueId in an acd participant's segments (else anyone's), named
    // by that acd participant.
    fn queue_of(p: &Value) -> Option<&str> {
        sessions(p)
            .flat_map(segments)
            .find_map(|seg| str_at(seg, "queueId"))
    }
    let queue_acd = acd.iter().copied().find(|p| queue_of(p).is_some());
    row.queue_id = queue_acd
        .and_then(queue_of)
        .or_else(|| participants.iter().find_map(queue_of))
        .map(owned);
    row.queue_name = queue_acd
        .or(acd.first().copied())
        .and_then(|p| str_at(p, "participantName"))
        .map(owned);

    if let Some(c) = customer {
        let first = sessions(c).next();
        row.media_type = first.and_then(|s| str_at(s, "mediaType")).map(owned);
        // The customer's own number: the caller (`ani`) of an inbound session, the number
        // dialled (`dnis`) of an outbound one, whose `ani` is the contact center's.
        let outbound = first
            .and_then(|s| str_at(s, "direction"))
            .is_some_and(|d| d.eq_ignore_ascii_case("outbound"));
        let address_field = if outbound { "dnis" } else { "ani" };
        // A callback the customer asked for carries the number to call in `callbackNumbers`.
        let callback_number = |s: &Value| {
            s.get("callbackNumbers")
                .and_then(Value::as_array)
                .and_then(|n| n.first())
                .and_then(Value::as_str)
                .and_then(genesys_phone)
        };
        row.phone_number = first.and_then(|s| {
            str_at(s, address_field)
                .and_then(genesys_phone)
                .or_else(|| callback_number(s))
        });
        let attrs = c.get("attributes");
        row.csat_score = attrs
            .and_then(|a| a.get("SurveyCSATScore"))
            .and_then(number_of);
        row.member_id = attrs.and_then(|a| a.get("MemberId")).and_then(text_of);
    }

    // The answering agent: the first agent session (in export order) with `tAnswered`. Older
    // exports put `tAnswered` on the acd session; it still means answered.
    let answering = agents.iter().find_map(|p| {
        sessions(p)
            .find_map(|s| first_metric(s, "tAnswered"))
            .map(|ms| (*p, ms))
    });
    let acd_sessions: Vec<&Value> = acd.iter().flat_map(|p| sessions(p)).collect();
    let acd_answered_ms = acd_sessions
        .iter()
        .find_map(|s| first_metric(s, "tAnswered"));
    let abandon_ms = acd_sessions
        .iter()
        .find_map(|s| first_metric(s, "tAbandon"));
    let answered = answering.is_some() || acd_answered_ms.is_some();
    row.answered = Some(answered);
    row.abandoned = Some(!answered && abandon_ms.is_some());
    let wait_ms = match answering {
        Some((_, ms)) => Some(ms),
        None if answered => acd_answered_ms,
        None => abandon_ms,
    };
    row.wait_seconds = wait_ms.map(|ms| ms / 1000.0);

    // The agent of the row: the one who answered, else the first one alerted.
    let agent = answering.map(|(p, _)| p).or(agents.first().copied());
    row.agent_id = agent.and_then(|p| str_at(p, "userId")).map(owned);
    let wrapup = agent.and_then(|p| {
        sessions(p)
            .flat_map(segments)
            .filter(|seg| {
                str_at(seg, "segmentType").is_some_and(|t| t.eq_ignore_ascii_case("wrapup"))
            })
            .last()
    });
    row.wrap_up_code = wrapup.and_then(|w| w.get("wrapUpCode")).and_then(text_of);
    row.notes = wrapup.and_then(|w| w.get("wrapUpNote")).and_then(text_of);

    let agent_sessions: Vec<&Value> = agents.iter().flat_map(|p| sessions(p)).collect();
    row.talk_seconds = summed_seconds(&agent_sessions, "tTalk", Some("tTalkComplete"));
    row.hold_seconds = summed_seconds(&agent_sessions, "tHeld", Some("tHeldComplete"));
    row.acw_seconds = summed_seconds(&agent_sessions, "tAcw", None);
    row.duration_seconds = summed_seconds(&agent_sessions, "tHandle", None)
        .or_else(|| components_sum(row.talk_seconds, row.hold_seconds, row.acw_seconds));
    row.outcome_status = Some(outcome_of(row.answered, row.abandoned));
    row
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

/// The last path segment of an ARN (`…:instance/<id>/queue/<queue-id>` → the queue id).
fn arn_id(arn: &str) -> Option<&str> {
    arn.rsplit('/').next().filter(|s| !s.trim().is_empty())
}

/// Amazon Connect contact trace records (durations in whole seconds). `Queue` and `Agent` are
/// null when the contact never queued or never reached an agent.
fn connect<'a>(r: &mut Reader<'a, '_>) -> CanonicalRow<'a> {
    let mut row = CanonicalRow {
        event_id: r.text("ContactId"),
        ended_at: r.time("DisconnectTimestamp"),
        updated_at: r.time("LastUpdateTimestamp"),
        outcome_raw: r.text("DisconnectReason"),
        media_type: r.text("Channel").map(|c| Cow::Owned(c.to_lowercase())),
        direction: r
            .text("InitiationMethod")
            .map(|m| Cow::Owned(m.to_lowercase())),
        ..Default::default()
    };
    row.contact_id = row.event_id.clone();
    let queue = r.object("Queue");
    let agent = r.object("Agent");
    let endpoint = r.object("CustomerEndpoint");
    let field = |o: &Option<Value>, k: &str| -> Option<Value> {
        o.as_ref()
            .and_then(|o| o.get(k))
            .filter(|v| !v.is_null())
            .cloned()
    };
    row.queue_name = field(&queue, "Name").as_ref().and_then(text_of);
    row.queue_id = field(&queue, "ARN")
        .as_ref()
        .and_then(Value::as_str)
        .and_then(arn_id)
        .map(owned)
        .or_else(|| row.queue_name.clone());
    row.agent_id = field(&agent, "ARN")
        .as_ref()
        .and_then(Value::as_str)
        .and_then(arn_id)
        .map(owned);
    let telephone = field(&endpoint, "Type")
        .as_ref()
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("TELEPHONE_NUMBER"));
    if telephone {
        row.phone_number = field(&endpoint, "Address").as_ref().and_then(text_of);
    }
    let answered = field(&agent, "ConnectedToAgentTimestamp").is_some();
    // Queued: the contact was put in a queue (an outbound call names its queue but is never
    // enqueued). Records without the enqueue time count a queue object as queued.
    let queued = queue
        .as_ref()
        .is_some_and(|q| match q.get("EnqueueTimestamp") {
            Some(t) => !t.is_null(),
            None => true,
        });
    row.answered = Some(answered);
    row.abandoned = Some(queued && !answered);
    row.wait_seconds = field(&queue, "Duration").as_ref().and_then(number_of);
    row.talk_seconds = field(&agent, "AgentInteractionDuration")
        .as_ref()
        .and_then(number_of);
    row.hold_seconds = field(&agent, "CustomerHoldDuration")
        .as_ref()
        .and_then(number_of);
    row.acw_seconds = field(&agent, "AfterContactWorkDuration")
        .as_ref()
        .and_then(number_of);
    row.duration_seconds = components_sum(row.talk_seconds, row.hold_seconds, row.acw_seconds);
    row.outcome_status = Some(outcome_of(row.answered, row.abandoned));
    row
}

fn components_sum(talk: Option<f64>, hold: Option<f64>, acw: Option<f64>) -> Option<f64> {
    if talk.is_none() && hold.is_none() && acw.is_none() {
        None
    } else {
        Some(talk.unwrap_or(0.0) + hold.unwrap_or(0.0) + acw.unwrap_or(0.0))
    }
}

fn cxone<'a>(r: &mut Reader<'a, '_>) -> CanonicalRow<'a> {
    let mut row = CanonicalRow {
        event_id: r.text("contactId"),
        queue_id: r.text("skillId"),
        queue_name: r.text("skillName"),
        agent_id: r.text("agentId").filter(|a| a.trim() != "0"),
        media_type: r.text("mediaTypeName"),
        phone_number: r.first_text(&["fromAddr", "fromAddress"]),
        wait_seconds: r.number("inQueueSeconds"),
        hold_seconds: r.number("holdSeconds"),
        acw_seconds: r.number("ACWSeconds"),
        notes: r.text("dispositionNotes"),
        csat_score: r.number("csatScore"),
        account_number: r.text("accountNumber"),
        ..Default::default()
    };
    row.contact_id = row.event_id.clone();
    row.direction = Some(Cow::Borrowed(if r.boolean("isOutbound") == Some(true) {
        "outbound"
    } else {
        "inbound"
    }));
    let agent_seconds = r.number("agentSeconds");
    let abandoned = r.boolean("abandoned");
    row.abandoned = abandoned;
    row.answered = Some(abandoned != Some(true) && agent_seconds.is_some_and(|s| s > 0.0));
    row.talk_seconds = agent_seconds.map(|a| a - row.hold_seconds.unwrap_or(0.0));
    row.duration_seconds = match (agent_seconds, row.acw_seconds) {
        (None, None) => None,
        (a, w) => Some(a.unwrap_or(0.0) + w.unwrap_or(0.0)),
    };
    row.outcome_status = Some(outcome_of(row.answered, abandoned));
    row
}

fn generic<'a>(r: &mut Reader<'a, '_>) -> CanonicalRow<'a> {
    let mut row = CanonicalRow {
        event_id: r.text("event_id"),
        ended_at: r.time("ended_at"),
        queue_name: r.text("queue_name"),
        agent_id: r.text("agent_id"),
        media_type: r.text("media_type"),
        direction: r.text("direction"),
        phone_number: r.text("phone_number"),
        wait_seconds: r.first_number(&["wait_seconds", "queue_seconds"]),
        talk_seconds: r.number("talk_seconds"),
        hold_seconds: r.number("hold_seconds"),
        acw_seconds: r.number("acw_seconds"),
        duration_seconds: r.number("duration_seconds"),
        outcome_raw: r.text("outcome_status"),
        wrap_up_code: r.text("wrap_up_code"),
        csat_score: r.first_number(&["csat", "csat_score", "customer_satisfaction"]),
        member_id: r.text("member_id"),
        account_number: r.text("account_number"),
        card_number: r.text("card_number"),
        notes: r.text("notes"),
        ..Default::default()
    };
    row.contact_id = r.text("contact_id").or_else(|| row.event_id.clone());
    row.queue_id = r.text("queue_id").or_else(|| row.queue_name.clone());
    if row.duration_seconds.is_none() {
        row.duration_seconds = components_sum(row.talk_seconds, row.hold_seconds, row.acw_seconds);
    }
    row
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
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn map(shape: Shape, json: &str) -> (CanonicalRow<'_>, DriftCollector) {
        let obj = Record::parse(json.as_bytes()).unwrap();
        let mut drift = DriftCollector::default();
        let at = Utc.with_ymd_and_hms(2026, 9, 1, 10, 0, 0).unwrap();
        let row = map_record(shape, obj, at, &SchemaConfig::default(), &mut drift);
        (row, drift)
    }

    fn kinds(d: &DriftCollector) -> Vec<(String, &'static str)> {
        let mut v: Vec<_> = d
            .seen
            .keys()
            .map(|(_, f, k)| (f.clone(), k.as_str()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn genesys_conversation_details() {
        let json = r#"{
          "conversationId": "c-1", "conversationStart": "2026-09-01T10:00:00.000Z",
          "conversationEnd": "2026-09-01T10:09:30.000Z", "originatingDirection": "inbound",
          "divisionIds": ["d1"],
          "participants": [
            {"purpose": "customer", "attributes": {"SurveyCSATScore": "4", "MemberId": "MBR123456789"},
             "sessions": [{"mediaType": "voice", "ani": "tel:+13175550123", "segments": []}]},
            {"purpose": "ivr", "sessions": [{"segments": [{"queueId": "not-this-one"}]}]},
            {"purpose": "acd", "participantName": "Claims",
             "sessions": [{"segments": [{"segmentType": "interact", "queueId": "q-claims"}],
                           "metrics": [{"name": "nOffered", "value": 1}, {"name": "tAnswered", "value": 42500}]}]},
            {"purpose": "agent", "userId": "u-7",
             "sessions": [{"segments": [{"segmentType": "interact"},
                                         {"segmentType": "wrapup", "wrapUpCode": "Claim Status", "wrapUpNote": "All good"}],
                           "metrics": [{"name": "tTalk", "value": 300000}, {"name": "tHeld", "value": 20000},
                                       {"name": "tAcw", "value": 45000}, {"name": "tHandle", "value": 365000}]}]}
          ]}"#;
        let (r, d) = map(Shape::Genesys, json);
        assert_eq!(r.event_id.as_deref(), Some("c-1"));
        assert_eq!(r.contact_id.as_deref(), Some("c-1"));
        assert_eq!(
            r.ended_at,
            Some(Utc.with_ymd_and_hms(2026, 9, 1, 10, 9, 30).unwrap())
        );
        assert_eq!(r.direction.as_deref(), Some("inbound"));
        assert_eq!(r.queue_id.as_deref(), Some("q-claims"));
        assert_eq!(r.queue_name.as_deref(), Some("Claims"));
        assert_eq!(r.agent_id.as_deref(), Some("u-7"));
        assert_eq!(r.media_type.as_deref(), Some("voice"));
        assert_eq!(r.phone_number.as_deref(), Some("+13175550123"));
        assert_eq!((r.answered, r.abandoned), (Some(true), Some(false)));
        assert_eq!(r.wait_seconds, Some(42.5));
        assert_eq!(
            (r.talk_seconds, r.hold_seconds, r.acw_seconds),
            (Some(300.0), Some(20.0), Some(45.0))
        );
        assert_eq!(r.duration_seconds, Some(365.0));
        assert_eq!(r.wrap_up_code.as_deref(), Some("Claim Status"));
        assert_eq!(r.notes.as_deref(), Some("All good"));
        assert_eq!(r.csat_score, Some(4.0));
        assert_eq!(r.member_id.as_deref(), Some("MBR123456789"));
        assert_eq!(r.outcome_status, Some("handled"));
        assert_eq!(r.rescued.keys().collect::<Vec<_>>(), vec!["divisionIds"]);
        assert_eq!(kinds(&d), vec![("divisionIds".into(), "new")]);

        // Abandoned, anonymous, no agent: no handle time, no phone.
        let json = r#"{"conversationId": "c-2", "conversationStart": "2026-09-01T10:00:00Z", "conversationEnd": "2026-09-01T10:01:00Z",
          "originatingDirection": "inbound", "participants": [
            {"purpose": "customer", "sessions": [{"mediaType": "voice", "ani": "tel:anonymous"}]},
            {"purpose": "acd", "participantName": "Claims", "sessions": [{"segments": [{"queueId": "q"}], "metrics": [{"name": "tAbandon", "value": 3000}]}]}]}"#;
        let (r, _) = map(Shape::Genesys, json);
        assert_eq!(r.phone_number, None);
        assert_eq!(
            (r.answered, r.abandoned, r.wait_seconds),
            (Some(false), Some(true), Some(3.0))
        );
        assert_eq!((r.talk_seconds, r.duration_seconds), (None, None));
        assert_eq!(r.outcome_status, Some("abandoned"));
    }

    #[test]
    fn genesys_customer_numbers_outbound_callback_and_messaging() {
        // Outbound: the customer's session dials out; `ani` is the contact center's number.
        let json = r#"{"conversationId": "o-1", "conversationStart": "2026-09-01T10:00:00Z", "originatingDirection": "outbound",
          "participants": [{"purpose": "external", "sessions": [{"mediaType": "voice", "direction": "outbound",
            "ani": "tel:+18005550142", "dnis": "tel:+13175550123"}]}]}"#;
        let (r, _) = map(Shape::Genesys, json);
        assert_eq!(r.phone_number.as_deref(), Some("+13175550123"));
        assert_eq!(r.direction.as_deref(), Some("outbound"));
        // A callback session without an ani: the number to call back.
        let json = r#"{"conversationId": "c-1", "conversationStart": "2026-09-01T10:00:00Z",
          "participants": [{"purpose": "customer", "sessions": [{"mediaType": "callback",
            "callbackNumbers": ["sip:+13175550124@10.0.0.1;user=phone"]}]}]}"#;
        let (r, _) = map(Shape::Genesys, json);
        assert_eq!(
            (r.media_type.as_deref(), r.phone_number.as_deref()),
            (Some("callback"), Some("+13175550124"))
        );
        // Web messaging: a UUID address, no number; a SIP user name is no number either.
        for session in [
            r#"{"mediaType": "message", "addressFrom": "8e2b7f90-1c3d-4e5f-a6b7-c8d9e0f1a2b3"}"#,
            r#"{"mediaType": "voice", "ani": "sip:jane.doe@example.com"}"#,
            r#"{"mediaType": "voice", "ani": "tel:anonymous"}"#,
        ] {
            let json = format!(
                r#"{{"conversationId": "m-1", "conversationStart": "2026-09-01T10:00:00Z", "participants": [{{"purpose": "customer", "sessions": [{session}]}}]}}"#
            );
            let (r, _) = map(Shape::Genesys, &json);
            assert_eq!(r.phone_number, None, "{session}");
        }
    }

    #[test]
    fn cxone_completed_contacts_with_strings_and_renamed_fields() {
        let json = r#"{"contactId": "6420001", "masterContactId": "6420001", "contactStartDate": "2026-09-01T10:00:00.000Z",
          "skillId": "4101", "skillName": "Card Services", "agentId": "5123", "mediaTypeName": "Call", "isOutbound": "False",
          "fromAddress": "3175550123", "abandoned": "False", "inQueueSeconds": "45", "agentSeconds": "312",
          "holdSeconds": "20", "ACWSeconds": "55", "dispositionNotes": "note", "csatScore": "5",
          "accountNumber": "1234567890", "lastUpdateTime": "2026-09-02T02:00:00Z"}"#;
        let (r, d) = map(Shape::Cxone, json);
        assert_eq!(r.contact_id.as_deref(), Some("6420001"));
        assert_eq!(
            (r.queue_id.as_deref(), r.queue_name.as_deref()),
            (Some("4101"), Some("Card Services"))
        );
        assert_eq!(r.agent_id.as_deref(), Some("5123"));
        assert_eq!(r.direction.as_deref(), Some("inbound"));
        assert_eq!(r.phone_number.as_deref(), Some("3175550123"));
        assert_eq!((r.answered, r.abandoned), (Some(true), Some(false)));
        assert_eq!(r.wait_seconds, Some(45.0));
        assert_eq!(
            (r.talk_seconds, r.hold_seconds, r.acw_seconds),
            (Some(292.0), Some(20.0), Some(55.0))
        );
        assert_eq!(r.duration_seconds, Some(367.0));
        assert_eq!(r.csat_score, Some(5.0));
        assert_eq!(r.account_number.as_deref(), Some("1234567890"));
        assert_eq!(r.notes.as_deref(), Some("note"));
        assert_eq!(kinds(&d), vec![("lastUpdateTime".into(), "new")]);

        let json = r#"{"contactId": 77, "skillId": 4101, "contactStart": "2026-09-01T10:00:00Z", "agentId": "0",
          "isOutbound": "True", "abandoned": "True", "inQueueSeconds": "3", "agentSeconds": "0", "csatScore": "",
          "skillName": "x", "holdSeconds": "abc"}"#;
        let (r, d) = map(Shape::Cxone, json);
        assert_eq!(r.contact_id.as_deref(), Some("77"));
        assert_eq!(r.agent_id, None);
        assert_eq!(r.direction.as_deref(), Some("outbound"));
        assert_eq!((r.answered, r.abandoned), (Some(false), Some(true)));
        assert_eq!(r.csat_score, None);
        assert_eq!(r.hold_seconds, None);
        assert_eq!(r.rescued.get("holdSeconds"), Some(&Value::from("abc")));
        assert!(kinds(&d).contains(&("holdSeconds".into(), "type_changed")));
    }

    #[test]
    fn generic_events_and_their_aliases() {
        let json = r#"{"event_id": "e1", "timestamp": "2026-09-01T10:00:00Z", "phone_number": "(317) 555-0123",
          "queue_name": "Billing", "duration_seconds": 300.5, "queue_seconds": 12, "outcome_status": "Completed",
          "customer_satisfaction": 4, "notes": "hi", "ended_at": "2026-09-01T10:05:00Z", "sentiment": 0.3}"#;
        let (r, d) = map(Shape::Generic, json);
        assert_eq!(
            (r.event_id.as_deref(), r.contact_id.as_deref()),
            (Some("e1"), Some("e1"))
        );
        assert_eq!(
            (r.queue_id.as_deref(), r.queue_name.as_deref()),
            (Some("Billing"), Some("Billing"))
        );
        assert_eq!(r.wait_seconds, Some(12.0));
        assert_eq!(r.csat_score, Some(4.0));
        assert_eq!(r.duration_seconds, Some(300.5));
        assert_eq!(r.outcome_raw.as_deref(), Some("Completed"));
        assert_eq!(
            r.ended_at,
            Some(Utc.with_ymd_and_hms(2026, 9, 1, 10, 5, 0).unwrap())
        );
        assert_eq!(kinds(&d), vec![("sentiment".into(), "new")]);

        // Ill-typed: null with the raw value rescued; numeric strings accepted but noted.
        let json = r#"{"event_id": "e2", "contact_id": "C9", "timestamp": 1, "queue_id": "q1", "wait_seconds": "soon",
          "csat": "5", "talk_seconds": 10, "acw_seconds": 5, "outcome_status": "Completed"}"#;
        let (r, d) = map(Shape::Generic, json);
        assert_eq!(r.contact_id.as_deref(), Some("C9"));
        assert_eq!(r.wait_seconds, None);
        assert_eq!(r.rescued.get("wait_seconds"), Some(&Value::from("soon")));
        assert_eq!(r.csat_score, Some(5.0));
        assert_eq!(r.duration_seconds, Some(15.0), "handle time from its parts");
        let k = kinds(&d);
        assert!(k.contains(&("wait_seconds".into(), "type_changed")));
        assert!(k.contains(&("csat".into(), "type_changed")));
        assert!(k.contains(&("duration_seconds".into(), "missing")));
    }

    #[test]
    fn mapped_and_ignored_fields() {
        let mut schema = SchemaConfig::default();
        schema.field_map.insert(
            "generic".into(),
            [("handle_time".to_string(), "duration_seconds".to_string())].into(),
        );
        schema
            .ignored
            .insert("generic".into(), vec!["sentiment".into()]);
        let obj = Record::parse(
            br#"{"event_id": "e1", "queue_name": "q", "outcome_status": "Completed", "handle_time": 99, "sentiment": 1}"#,
        )
        .unwrap();
        let mut drift = DriftCollector::default();
        let r = map_record(Shape::Generic, obj, Utc::now(), &schema, &mut drift);
        assert_eq!(r.duration_seconds, Some(99.0));
        assert!(!r.rescued.contains_key("handle_time"));
        assert!(
            r.rescued.contains_key("sentiment"),
            "ignored fields are still kept"
        );
        assert!(drift.seen.is_empty(), "{:?}", drift.seen.keys());
    }
}
