//! Renders simulated contacts as Genesys Cloud analytics conversation detail records: customer,
//! acd and agent participants with sessions, segments and metrics in milliseconds.

use rand::Rng;
use serde_json::{Value, json};

use super::Planted;
use super::model::{Media, Queue, SimContact, secs};
use super::notes::{NotePii, health_note};
use super::people::{Agent, Customer, uuid};

/// Everything a Genesys record refers to.
pub struct Directory<'a> {
    pub queues: &'a [Queue],
    pub agents: &'a [Agent],
    pub customers: &'a [Customer],
    pub division_id: &'a str,
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

/// One conversation detail record.
pub fn render<R: Rng>(
    rng: &mut R,
    c: &SimContact,
    dir: &Directory<'_>,
    planted: &mut Planted,
) -> Value {
    let q = &dir.queues[c.queue];
    let customer = c.customer.map(|i| &dir.customers[i]);
    let media = match c.media {
        Media::Voice => "voice",
        Media::Chat => "chat",
        Media::Email => "email",
    };
    let queued = c.start + secs(c.ivr_s);
    let left_queue = queued + secs(c.wait_s);
    let end = c.end();

    // Customer participant.
    let mut attributes = serde_json::Map::new();
    attributes.insert(
        "IVRPath".into(),
        json!(format!("main>{}", q.name.to_lowercase().replace(' ', "_"))),
    );
    if let Some(cu) = customer
        && rng.random_bool(0.85)
    {
        attributes.insert("MemberId".into(), json!(cu.member_id));
        planted.member_ids.insert(cu.member_id.clone());
    }
    if let Some(score) = c.csat {
        // Genesys participant attributes are strings.
        attributes.insert("SurveyCSATScore".into(), json!(score.to_string()));
    }
    let mut customer_session = json!({
        "sessionId": uuid(rng),
        "mediaType": media,
        "direction": "inbound",
        "segments": [{
            "segmentStart": ts(c.start),
            "segmentEnd": ts(end),
            "segmentType": "interact",
            "disconnectType": if c.abandoned { "client" } else { "endpoint" },
        }],
        "metrics": [{"name": "nConnected", "value": 1, "emitDate": ts(c.start)}],
    });
    if c.media == Media::Voice {
        let ani = match customer {
            Some(cu) => {
                planted.phones.insert(cu.phone_e164.clone());
                format!("tel:{}", cu.phone_e164)
            }
            None => "tel:anonymous".to_string(),
        };
        customer_session["ani"] = json!(ani);
        customer_session["dnis"] = json!("tel:+18005550142");
        customer_session["provider"] = json!("Edge");
    }
    let mut participants = vec![json!({
        "participantId": uuid(rng),
        "participantName": if c.media == Media::Voice { "Mobile Caller" } else { "Web Visitor" },
        "purpose": "customer",
        "attributes": attributes,
        "sessions": [customer_session],
    })];

    // The queue (acd) participant: the wait is its tAnswered or tAbandon.
    let mut acd_metrics = vec![json!({"name": "nOffered", "value": 1, "emitDate": ts(queued)})];
    let wait_metric = if c.abandoned { "tAbandon" } else { "tAnswered" };
    acd_metrics
        .push(json!({"name": wait_metric, "value": ms(c.wait_s), "emitDate": ts(left_queue)}));
    acd_metrics.push(json!({"name": "tAcd", "value": ms(c.wait_s), "emitDate": ts(left_queue)}));
    participants.push(json!({
        "participantId": uuid(rng),
        "participantName": q.name,
        "purpose": "acd",
        "sessions": [{
            "sessionId": uuid(rng),
            "mediaType": media,
            "direction": "inbound",
            "segments": [{
                "segmentStart": ts(queued),
                "segmentEnd": ts(left_queue),
                "segmentType": "interact",
                "queueId": q.id,
                "disconnectType": if c.abandoned { "peer" } else { "transfer" },
            }],
            "metrics": acd_metrics,
        }],
    }));

    // The agent participant, when someone answered.
    if let (true, Some(ai)) = (c.answered, c.agent) {
        let agent = &dir.agents[ai];
        let talk_end = left_queue + secs(c.talk_s + c.hold_s);
        let mut segments = vec![json!({
            "segmentStart": ts(left_queue),
            "segmentEnd": ts(talk_end),
            "segmentType": "interact",
            "queueId": q.id,
        })];
        if c.hold_s > 0.0 {
            let hold_start = left_queue + secs(c.talk_s / 2.0);
            segments.push(json!({
                "segmentStart": ts(hold_start),
                "segmentEnd": ts(hold_start + secs(c.hold_s)),
                "segmentType": "hold",
            }));
        }
        let mut pii = NotePii::default();
        let note = health_note(rng, customer, &mut pii);
        planted.absorb(pii);
        segments.push(json!({
            "segmentStart": ts(talk_end),
            "segmentEnd": ts(end),
            "segmentType": "wrapup",
            "wrapUpCode": c.wrap_code.unwrap_or("General Inquiry"),
            "wrapUpNote": note,
            "disconnectType": if c.transferred { "transfer" } else { "client" },
        }));
        let mut metrics = vec![
            json!({"name": "tTalk", "value": ms(c.talk_s), "emitDate": ts(talk_end)}),
            json!({"name": "tAcw", "value": ms(c.acw_s), "emitDate": ts(end)}),
            json!({"name": "tHandle", "value": ms(c.talk_s) + ms(c.hold_s) + ms(c.acw_s), "emitDate": ts(end)}),
        ];
        if c.hold_s > 0.0 {
            metrics.push(json!({"name": "tHeld", "value": ms(c.hold_s), "emitDate": ts(talk_end)}));
        }
        participants.push(json!({
            "participantId": uuid(rng),
            "participantName": agent.name,
            "purpose": "agent",
            "userId": agent.id,
            "sessions": [{
                "sessionId": uuid(rng),
                "mediaType": media,
                "direction": "inbound",
                "segments": segments,
                "metrics": metrics,
            }],
        }));
    }

    let mut record = json!({
        "conversationId": uuid(rng),
        "conversationStart": ts(c.start),
        "conversationEnd": ts(end),
        "originatingDirection": "inbound",
        "divisionIds": [dir.division_id],
        "participants": participants,
    });
    if c.media == Media::Voice {
        record["mediaStatsMinConversationMos"] =
            json!((rng.random_range(3.6..4.5f64) * 100.0).round() / 100.0);
    }
    record
}
