//! Renders simulated contacts as flat generic events (the guide's Silver snippet), the way a
//! home-grown dialer or a BPO's export looks: mixed timestamp formats, free-form phones,
//! vendor-specific outcome words, and fields that come and go over time.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value, json};

use super::Planted;
use super::model::{Media, Queue, SimContact};
use super::notes::{NotePii, telco_note};
use super::people::{Agent, Customer};

/// How the feed looked on a given day.
#[derive(Debug, Clone, Copy)]
pub struct Feed {
    /// New fields (`sentiment_score`, `channel_detail`) and string CSAT scores appear.
    pub drifted: bool,
}

fn timestamp<R: Rng>(rng: &mut R, t: DateTime<Utc>) -> Value {
    match rng.random_range(0..10) {
        0 => json!(t.timestamp_millis()),
        1 => json!(t.format("%Y-%m-%d %H:%M:%S").to_string()),
        _ => json!(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    }
}

fn outcome<R: Rng>(rng: &mut R, c: &SimContact) -> &'static str {
    if c.voicemail {
        "Voicemail"
    } else if c.callback {
        // Not in the default status map: shows up as drift until someone maps it.
        "Callback Requested"
    } else if c.abandoned {
        ["Abandoned", "Abandoned", "Caller Hangup"]
            .choose(rng)
            .copied()
            .unwrap_or("Abandoned")
    } else if c.transferred {
        "Transferred"
    } else {
        [
            "Completed",
            "Completed",
            "Completed",
            "Resolved",
            "COMPLETED",
        ]
        .choose(rng)
        .copied()
        .unwrap_or("Completed")
    }
}

/// One contact event.
#[allow(clippy::too_many_arguments)]
pub fn render<R: Rng>(
    rng: &mut R,
    c: &SimContact,
    seq: usize,
    queues: &[Queue],
    agents: &[Agent],
    customers: &[Customer],
    feed: Feed,
    planted: &mut Planted,
) -> Map<String, Value> {
    let q = &queues[c.queue];
    let customer = c.customer.map(|i| &customers[i]);
    let day = c.start.format("%Y%m%d");
    let mut r = Map::new();
    r.insert("event_id".into(), json!(format!("evt-{day}-{seq:06}")));
    r.insert("event_type".into(), json!("CONTACT"));
    r.insert("timestamp".into(), timestamp(rng, c.start));
    r.insert("contact_id".into(), json!(format!("C-{day}-{seq:06}")));
    let phone = match (customer, c.media) {
        (Some(cu), Media::Voice) => {
            let p = cu.phone_free_form(rng);
            planted.phones.insert(p.clone());
            json!(p)
        }
        (None, Media::Voice) => json!("N/A"),
        _ => Value::Null,
    };
    r.insert("phone_number".into(), phone);
    r.insert("queue_name".into(), json!(q.name));
    if let Some(a) = c.agent {
        r.insert("agent_id".into(), json!(agents[a].id));
    }
    r.insert(
        "media_type".into(),
        json!(match c.media {
            Media::Voice => "voice",
            Media::Chat => "chat",
            Media::Email => "email",
        }),
    );
    r.insert("direction".into(), json!("inbound"));
    // A second dialer feeds the same export and calls the wait `queue_seconds`.
    let wait_key = if seq % 7 == 3 {
        "queue_seconds"
    } else {
        "wait_seconds"
    };
    r.insert(wait_key.into(), json!(c.wait_s));
    r.insert("talk_seconds".into(), json!(c.talk_s));
    r.insert("hold_seconds".into(), json!(c.hold_s));
    r.insert("acw_seconds".into(), json!(c.acw_s));
    r.insert(
        "duration_seconds".into(),
        json!(((c.talk_s + c.hold_s + c.acw_s) * 10.0).round() / 10.0),
    );
    r.insert("outcome_status".into(), json!(outcome(rng, c)));
    if let Some(code) = c.wrap_code {
        r.insert("wrap_up_code".into(), json!(code));
    }
    if let Some(score) = c.csat {
        let v = if feed.drifted && rng.random_bool(0.15) {
            json!(score.to_string())
        } else {
            json!(score)
        };
        r.insert("csat".into(), v);
    }
    if let Some(cu) = customer {
        r.insert("account_number".into(), json!(cu.account_number));
        planted.account_numbers.insert(cu.account_number.clone());
        if c.answered && rng.random_bool(0.08) {
            r.insert("card_number".into(), json!(cu.card_number));
            planted.card_numbers.insert(cu.card_number.clone());
        }
    }
    if c.answered {
        let mut pii = NotePii::default();
        r.insert("notes".into(), json!(telco_note(rng, customer, &mut pii)));
        planted.absorb(pii);
    }
    if feed.drifted {
        r.insert(
            "sentiment_score".into(),
            json!((rng.random_range(-1.0..1.0f64) * 100.0).round() / 100.0),
        );
        let ani_type = ["mobile", "landline", "voip"]
            .choose(rng)
            .copied()
            .unwrap_or("mobile");
        r.insert("channel_detail".into(), json!({ "ani_type": ani_type }));
    }
    r
}

/// An agent state change (login, ready, break): another event type in the same feed.
pub fn agent_state<R: Rng>(
    rng: &mut R,
    agent: &Agent,
    at: DateTime<Utc>,
    seq: usize,
) -> Map<String, Value> {
    let state = [
        "Available",
        "Available",
        "Break",
        "Lunch",
        "Training",
        "Offline",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("Available");
    let mut r = Map::new();
    r.insert(
        "event_id".into(),
        json!(format!("ast-{}-{seq:06}", at.format("%Y%m%d"))),
    );
    r.insert("event_type".into(), json!("AGENT_STATE"));
    r.insert(
        "timestamp".into(),
        json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    );
    r.insert("agent_id".into(), json!(agent.id));
    r.insert("state".into(), json!(state));
    r
}
