//! Genesys Cloud conversation details: participants by purpose, their sessions and segments,
//! and metrics that repeat per segment.

use std::borrow::Cow;

use serde_json::Value;

use super::platforms::components_sum;
use super::{CanonicalRow, Reader, Val, number_of, outcome_of, owned, str_at, text_of};

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
    // Wide digits (`tel:＋８１…`) are digits: the number is kept, and masked, like any other.
    let address = crate::silver::pii::ascii_digits(address);
    let n = crate::silver::pii::phone_text(&address);
    (n.bytes().any(|b| b.is_ascii_digit())
        && n.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b' ' | b'-' | b'.' | b'(' | b')')))
    .then(|| owned(n))
}

/// Genesys Cloud conversation details, mapped as SPEC §3 says real exports require: the
/// answering agent is the one whose session has `tAnswered` (the acd session carries `tAcd`
/// and `nOffered`, and `tAbandon` when the caller hung up in queue); durations add up every
/// emitted value over every agent session (a not-responding agent's after-call work too).
pub(super) fn genesys<'a>(r: &mut Reader<'a, '_>) -> CanonicalRow<'a> {
    let mut row = CanonicalRow {
        event_id: r.text("conversationId"),
        ended_at: r.time("conversationEnd"),
        direction: r.text("originatingDirection"),
        ..Default::default()
    };
    row.contact_id = row.event_id.clone();
    let participants: Vec<Value> = match r.obj.take("participants") {
        Some(Val::Nested(raw)) if raw.get().starts_with('[') => {
            crate::silver::record::parse_nested(raw).unwrap_or_default()
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
    queue(&mut row, &participants, &acd);
    if let Some(c) = customer {
        customer_side(&mut row, c);
    }
    answer(&mut row, &acd, &agents);
    agent_work(&mut row, &agents);
    row.outcome_status = Some(outcome_of(row.answered, row.abandoned));
    row
}

/// The queue: the first queueId in an acd participant's segments (else anyone's), named by
/// that acd participant.
fn queue<'a>(row: &mut CanonicalRow<'a>, participants: &[Value], acd: &[&Value]) {
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
}

/// What the customer participant says: the media, the customer's number, the survey score
/// and member id in its attributes.
fn customer_side<'a>(row: &mut CanonicalRow<'a>, c: &Value) {
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

/// Answered or abandoned, and the wait. The answering agent is the first agent session (in
/// export order) with `tAnswered`; older exports put `tAnswered` on the acd session, which
/// still means answered.
fn answer<'a>(row: &mut CanonicalRow<'a>, acd: &[&Value], agents: &[&Value]) {
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
}

/// Talk, hold and after-call work summed over every agent session, and the handle time.
fn agent_work<'a>(row: &mut CanonicalRow<'a>, agents: &[&Value]) {
    let agent_sessions: Vec<&Value> = agents.iter().flat_map(|p| sessions(p)).collect();
    row.talk_seconds = summed_seconds(&agent_sessions, "tTalk", Some("tTalkComplete"));
    row.hold_seconds = summed_seconds(&agent_sessions, "tHeld", Some("tHeldComplete"));
    row.acw_seconds = summed_seconds(&agent_sessions, "tAcw", None);
    row.duration_seconds = summed_seconds(&agent_sessions, "tHandle", None)
        .or_else(|| components_sum(row.talk_seconds, row.hold_seconds, row.acw_seconds));
}
