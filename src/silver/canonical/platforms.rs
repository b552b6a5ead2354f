//! Amazon Connect contact trace records, NICE CXone contacts and the generic NDJSON shape.

use std::borrow::Cow;

use serde_json::Value;

use super::{CanonicalRow, Reader, number_of, outcome_of, owned, text_of};

/// The last path segment of an ARN (`…:instance/<id>/queue/<queue-id>` → the queue id).
fn arn_id(arn: &str) -> Option<&str> {
    arn.rsplit('/').next().filter(|s| !s.trim().is_empty())
}

/// Amazon Connect contact trace records (durations in whole seconds). `Queue` and `Agent` are
/// null when the contact never queued or never reached an agent.
pub(super) fn connect<'a>(r: &mut Reader<'a, '_>) -> CanonicalRow<'a> {
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

pub(super) fn components_sum(
    talk: Option<f64>,
    hold: Option<f64>,
    acw: Option<f64>,
) -> Option<f64> {
    if talk.is_none() && hold.is_none() && acw.is_none() {
        None
    } else {
        Some(talk.unwrap_or(0.0) + hold.unwrap_or(0.0) + acw.unwrap_or(0.0))
    }
}

pub(super) fn cxone<'a>(r: &mut Reader<'a, '_>) -> CanonicalRow<'a> {
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

pub(super) fn generic<'a>(r: &mut Reader<'a, '_>) -> CanonicalRow<'a> {
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
