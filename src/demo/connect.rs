//! Renders simulated contacts as Amazon Connect contact trace records (CTRs) and contact
//! events, the way an instance streams them: PascalCase fields, durations in whole seconds,
//! `Queue` and `Agent` objects (null when the contact never queued or never reached an agent),
//! an `Attributes` map, and a contact delivered twice when its record is updated after
//! after-contact work (the later `LastUpdateTimestamp` is the current one). Kinesis Data
//! Firehose writes the records to S3 back to back, gzip, in hourly prefixes; contact events
//! arrive in EventBridge envelopes.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::Planted;
use super::model::{Media, Queue, SimContact, secs};
use super::people::{Agent, Customer, uuid};

/// Everything a CTR refers to.
pub struct Directory<'a> {
    pub queues: &'a [Queue],
    pub agents: &'a [Agent],
    pub customers: &'a [Customer],
    pub instance_arn: &'a str,
    pub account: &'a str,
}

/// A CTR timestamp: whole seconds, `Z`.
fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn whole(s: f64) -> i64 {
    s.round() as i64
}

/// One delivery of a record: when Firehose received it, and the record.
pub struct Delivery {
    pub at: DateTime<Utc>,
    pub record: Value,
}

/// When a contact went through its stages.
struct Times {
    queued: DateTime<Utc>,
    dequeued: DateTime<Utc>,
    disconnect: DateTime<Utc>,
    acw_end: DateTime<Utc>,
}

/// The CTR deliveries of one contact (one, or two when it was updated after ACW), and the
/// EventBridge contact events it raised when `events` is set.
pub fn render<R: Rng>(
    rng: &mut R,
    c: &SimContact,
    dir: &Directory<'_>,
    events: bool,
    planted: &mut Planted,
) -> (Vec<Delivery>, Vec<Value>) {
    let q = &dir.queues[c.queue];
    let customer = c.customer.map(|i| &dir.customers[i]);
    let contact_id = uuid(rng);
    let channel = match c.media {
        Media::Voice => "VOICE",
        Media::Chat => "CHAT",
        Media::Email => "EMAIL",
    };
    // A caller who hung up in the self-service flow before asking for a queue: no Queue.
    let self_service = c.abandoned && rng.random_bool(0.2);
    let queued = c.start + secs(c.ivr_s);
    let dequeued = queued + secs(c.wait_s);
    let disconnect = if c.answered {
        dequeued + secs(c.talk_s + c.hold_s)
    } else if self_service {
        queued
    } else {
        dequeued
    };
    let t = Times {
        queued,
        dequeued,
        disconnect,
        acw_end: disconnect + secs(c.acw_s),
    };
    let mut attributes = serde_json::Map::new();
    attributes.insert("greetingPlayed".into(), json!("true"));
    attributes.insert("language".into(), json!("en-US"));
    let endpoint = match (c.media, customer) {
        (Media::Voice, Some(cu)) => {
            planted.phones.insert(cu.phone_e164.clone());
            if rng.random_bool(0.06) {
                // A flow stored the number the caller asked to be called back on.
                attributes.insert("callbackNumber".into(), json!(cu.phone_e164));
            }
            json!({"Address": cu.phone_e164, "Type": "TELEPHONE_NUMBER"})
        }
        (Media::Voice, None) => json!({"Address": "anonymous", "Type": "TELEPHONE_NUMBER"}),
        _ => Value::Null,
    };
    let queue = (!self_service).then(|| {
        json!({
            "ARN": format!("{}/queue/{}", dir.instance_arn, q.id),
            "DequeueTimestamp": ts(t.dequeued),
            "Duration": whole(c.wait_s),
            "EnqueueTimestamp": ts(t.queued),
            "Name": q.name,
        })
    });
    let agent = agent_of(c, dir, q, &t);
    let recording = recording_of(c, dir, &contact_id);
    let disconnect_reason = match (c.answered, self_service) {
        (true, _) if rng.random_bool(0.3) => "AGENT_DISCONNECT",
        (true, _) => "CUSTOMER_DISCONNECT",
        (false, true) => "CONTACT_FLOW_DISCONNECT",
        (false, false) => "CUSTOMER_DISCONNECT",
    };
    let record = |agent: Option<Value>, updated: DateTime<Utc>| {
        json!({
            "AWSAccountId": dir.account,
            "AWSContactTraceRecordFormatVersion": "2017-03-10",
            "Agent": agent,
            "AgentConnectionAttempts": u32::from(c.answered),
            "Attributes": attributes,
            "Channel": channel,
            "ConnectedToSystemTimestamp": ts(c.start),
            "ContactId": contact_id,
            "CustomerEndpoint": endpoint,
            "DisconnectReason": disconnect_reason,
            "DisconnectTimestamp": ts(t.disconnect),
            "InitialContactId": null,
            "InitiationMethod": "INBOUND",
            "InitiationTimestamp": ts(c.start),
            "InstanceARN": dir.instance_arn,
            "LastUpdateTimestamp": ts(updated),
            "MediaStreams": if c.media == Media::Voice { json!([{"Type": "AUDIO"}]) } else { json!([]) },
            "NextContactId": null,
            "PreviousContactId": null,
            "Queue": queue,
            "Recording": recording,
            "References": [],
            "SystemEndpoint": {"Address": "+18005550199", "Type": "TELEPHONE_NUMBER"},
            "TransferCompletedTimestamp": null,
            "TransferredToEndpoint": null,
        })
    };
    let deliveries = deliveries(rng, &agent, &t, record);
    let out_events = match events {
        true => contact_events(
            rng,
            c,
            dir,
            q,
            &contact_id,
            channel,
            &t,
            self_service,
            &agent,
        ),
        false => Vec::new(),
    };
    (deliveries, out_events)
}

/// The Agent block of an answered contact.
fn agent_of(c: &SimContact, dir: &Directory<'_>, q: &Queue, t: &Times) -> Option<Value> {
    let (true, Some(ai)) = (c.answered, c.agent) else {
        return None;
    };
    let a = &dir.agents[ai];
    Some(json!({
        "ARN": format!("{}/agent/{}", dir.instance_arn, a.id),
        "AfterContactWorkDuration": whole(c.acw_s),
        "AfterContactWorkEndTimestamp": ts(t.acw_end),
        "AfterContactWorkStartTimestamp": ts(t.disconnect),
        "AgentInteractionDuration": whole(c.talk_s),
        "ConnectedToAgentTimestamp": ts(t.dequeued),
        "CustomerHoldDuration": whole(c.hold_s),
        "HierarchyGroups": null,
        "LongestHoldDuration": whole(c.hold_s),
        "NumberOfHolds": u32::from(c.hold_s > 0.0),
        "RoutingProfile": {
            "ARN": format!("{}/routing-profile/{}", dir.instance_arn, q.id),
            "Name": format!("{} Profile", q.name),
        },
        "Username": a.name.to_lowercase().replace(' ', "."),
    }))
}

/// The Recording block of an answered call.
fn recording_of(c: &SimContact, dir: &Directory<'_>, contact_id: &str) -> Option<Value> {
    (c.answered && c.media == Media::Voice).then(|| {
        json!({
            "DeletionReason": null,
            "Location": format!(
                "amazon-connect-{}/connect/cclake-demo/CallRecordings/{}/{contact_id}_{}_UTC.wav",
                &dir.account[..8],
                c.start.format("%Y/%m/%d"),
                c.start.format("%Y%m%dT%H:%M")
            ),
            "Status": "AVAILABLE",
            "Type": "AUDIO",
        })
    })
}

/// When Firehose received the record: at disconnect and again after ACW (now and then), or
/// once after ACW.
fn deliveries<R: Rng>(
    rng: &mut R,
    agent: &Option<Value>,
    t: &Times,
    record: impl Fn(Option<Value>, DateTime<Utc>) -> Value,
) -> Vec<Delivery> {
    let (disconnect, acw_end) = (t.disconnect, t.acw_end);
    let mut deliveries = Vec::new();
    match agent {
        // Delivered at disconnect, before after-contact work ended, then updated.
        Some(a) if rng.random_bool(0.15) => {
            let mut early = a.clone();
            early["AfterContactWorkDuration"] = Value::Null;
            early["AfterContactWorkEndTimestamp"] = Value::Null;
            let first = disconnect + Duration::seconds(2);
            deliveries.push(Delivery {
                at: first + Duration::seconds(rng.random_range(5..60)),
                record: record(Some(early), first),
            });
            let updated = acw_end + Duration::seconds(rng.random_range(30..120));
            deliveries.push(Delivery {
                at: updated + Duration::seconds(rng.random_range(5..60)),
                record: record(agent.clone(), updated),
            });
        }
        _ => {
            let updated = acw_end.max(disconnect) + Duration::seconds(rng.random_range(1..30));
            deliveries.push(Delivery {
                at: updated + Duration::seconds(rng.random_range(5..60)),
                record: record(agent.clone(), updated),
            });
        }
    }

    deliveries
}

/// The EventBridge contact events of one contact.
#[allow(clippy::too_many_arguments)]
fn contact_events<R: Rng>(
    rng: &mut R,
    c: &SimContact,
    dir: &Directory<'_>,
    q: &Queue,
    contact_id: &str,
    channel: &str,
    t: &Times,
    self_service: bool,
    agent: &Option<Value>,
) -> Vec<Value> {
    let (queued, dequeued, disconnect) = (t.queued, t.dequeued, t.disconnect);
    let mut out_events = Vec::new();
    {
        let mut event = |kind: &str, at: DateTime<Utc>, extra: Value| {
            let mut detail = json!({
                "contactId": contact_id,
                "channel": channel,
                "instanceArn": dir.instance_arn,
                "initiationMethod": "INBOUND",
                "initiationTimestamp": format!("{}.000Z", c.start.format("%Y-%m-%dT%H:%M:%S")),
                "eventType": kind,
            });
            if let (Some(d), Value::Object(extra)) = (detail.as_object_mut(), extra) {
                d.extend(extra);
            }
            out_events.push(json!({
                "version": "0",
                "id": uuid(rng),
                "detail-type": "Amazon Connect Contact Event",
                "source": "aws.connect",
                "account": dir.account,
                "time": ts(at),
                "region": "us-east-1",
                "resources": [format!("{}/contact/{contact_id}", dir.instance_arn), dir.instance_arn],
                "detail": detail,
            }));
        };
        let queue_info = json!({"queueInfo": {
            "queueArn": format!("{}/queue/{}", dir.instance_arn, q.id),
            "queueType": "STANDARD",
            "enqueueTimestamp": format!("{}.000Z", queued.format("%Y-%m-%dT%H:%M:%S")),
        }});
        event("INITIATED", c.start, json!({}));
        if !self_service {
            event("QUEUED", queued, queue_info.clone());
        }
        if let Some(a) = agent {
            let mut info = queue_info;
            info["agentInfo"] = json!({"agentArn": a["ARN"], "connectedToAgentTimestamp": format!("{}.000Z", dequeued.format("%Y-%m-%dT%H:%M:%S"))});
            event("CONNECTED_TO_AGENT", dequeued, info);
        }
        event(
            "DISCONNECTED",
            disconnect,
            json!({"disconnectTimestamp": format!("{}.000Z", disconnect.format("%Y-%m-%dT%H:%M:%S"))}),
        );
    }
    out_events
}

/// The S3 object name Kinesis Data Firehose gives a delivery: an hourly prefix, then the
/// stream name, its version and the time the buffer was flushed.
pub fn firehose_key(stream: &str, flushed: DateTime<Utc>, id: &str) -> String {
    format!(
        "{}/{stream}-1-{}-{id}",
        flushed.format("%Y/%m/%d/%H"),
        flushed.format("%Y-%m-%d-%H-%M-%S")
    )
}
