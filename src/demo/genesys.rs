//! Renders simulated contacts as Genesys Cloud analytics conversation detail records, the way
//! real exports look: `tAnswered` on the answering agent's session (the acd session carries
//! `nOffered` and `tAcd`, and `tAbandon` when the caller hung up in queue), `tTalk` and
//! `tHeld` emitted once per segment with the `*Complete` totals beside them, now and then a
//! first agent who was alerted but did not answer (and still has after-call work and a
//! wrap-up code), transfers to a second agent, `sip:` as well as `tel:` callers, web messaging
//! (no `ani`) and callbacks, timestamps whose trailing zeros were dropped, and conversations
//! still open when the export ran (no `conversationEnd`).

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::{Map, Value, json};

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
    /// When the export ran: a conversation that had not ended by then is written open.
    pub exported_at: DateTime<Utc>,
}

/// A timestamp as Genesys writes it; `short` drops trailing zeros of the fraction, as some
/// exports do (`…:11.52Z`).
fn ts(t: DateTime<Utc>, short: bool) -> String {
    let full = t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    if !short {
        return full + "Z";
    }
    let trimmed = full.trim_end_matches('0');
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    format!("{trimmed}Z")
}

fn ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

/// Splits `total` milliseconds into `n` positive pieces that add up to it exactly.
fn split_ms<R: Rng>(rng: &mut R, total: i64, n: usize) -> Vec<i64> {
    if n <= 1 || total < n as i64 {
        return vec![total];
    }
    let weights: Vec<f64> = (0..n).map(|_| rng.random_range(0.5..1.5)).collect();
    let sum: f64 = weights.iter().sum();
    let mut out: Vec<i64> = weights
        .iter()
        .map(|w| ((total as f64) * w / sum).floor().max(1.0) as i64)
        .collect();
    let rest = total - out.iter().sum::<i64>();
    if let Some(last) = out.last_mut() {
        *last += rest;
    }
    out
}

/// Builds one session's metrics and segments as time moves on; anything after the export
/// time is left out (the conversation was still going).
struct Session {
    metrics: Vec<Value>,
    segments: Vec<Value>,
    cutoff: DateTime<Utc>,
    short: bool,
}

/// How one export writes its times: what it could see (its run time) and whether it dropped
/// trailing zeros.
#[derive(Clone, Copy)]
struct Clock {
    cutoff: DateTime<Utc>,
    short: bool,
}

impl Session {
    fn new(clock: Clock) -> Self {
        Session {
            metrics: Vec::new(),
            segments: Vec::new(),
            cutoff: clock.cutoff,
            short: clock.short,
        }
    }

    fn metric(&mut self, name: &str, value: i64, at: DateTime<Utc>) {
        if at <= self.cutoff {
            self.metrics
                .push(json!({"emitDate": ts(at, self.short), "name": name, "value": value}));
        }
    }

    fn segment(&mut self, kind: &str, from: DateTime<Utc>, to: DateTime<Utc>, extra: Value) {
        if from > self.cutoff {
            return;
        }
        let mut seg = json!({"segmentStart": ts(from, self.short), "segmentType": kind});
        if to <= self.cutoff {
            seg["segmentEnd"] = json!(ts(to, self.short));
        }
        if let (Some(s), Value::Object(extra)) = (seg.as_object_mut(), extra) {
            s.extend(extra);
        }
        self.segments.push(seg);
    }

    fn into_json(self, session_id: String, media: &str, extra: Map<String, Value>) -> Value {
        let mut s = Map::new();
        s.insert("sessionId".into(), json!(session_id));
        s.insert("mediaType".into(), json!(media));
        s.insert("direction".into(), json!("inbound"));
        s.extend(extra);
        if !self.metrics.is_empty() {
            s.insert("metrics".into(), json!(self.metrics));
        }
        s.insert("segments".into(), json!(self.segments));
        Value::Object(s)
    }
}

/// One agent's part of a conversation: alert, then talk with holds, then wrap-up.
struct AgentPart<'a> {
    agent: &'a Agent,
    alerted: DateTime<Utc>,
    answered: DateTime<Utc>,
    /// `tAnswered` (queue wait) when this agent answered an ACD offer.
    answered_metric: Option<i64>,
    talk_ms: i64,
    hold_ms: i64,
    acw_ms: i64,
    /// Talk turns: 1 + holds for a call, many for a message conversation.
    turns: usize,
    wrap_code: &'a str,
    note: Option<String>,
}

fn agent_participant<R: Rng>(
    rng: &mut R,
    part: AgentPart<'_>,
    queue_id: &str,
    media: &str,
    clock: Clock,
    disconnect: &str,
) -> (Value, DateTime<Utc>) {
    let mut s = Session::new(clock);
    let q = json!({"queueId": queue_id});
    s.segment("alert", part.alerted, part.answered, q.clone());
    let alert_ms = (part.answered - part.alerted).num_milliseconds();
    s.metric("tAlert", alert_ms, part.answered);
    if let Some(wait) = part.answered_metric {
        s.metric("tAnswered", wait, part.answered);
    }
    // Talk turns with a hold between some of them; each emits its own metric when it ends.
    let holds = if part.hold_ms > 0 { part.turns - 1 } else { 0 };
    let talks = split_ms(rng, part.talk_ms, part.turns);
    let helds = split_ms(rng, part.hold_ms, holds.max(1));
    let mut t = part.answered;
    for (i, talk) in talks.iter().enumerate() {
        let end = t + chrono::Duration::milliseconds(*talk);
        s.segment("interact", t, end, q.clone());
        s.metric("tTalk", *talk, end);
        t = end;
        if i < holds {
            let end = t + chrono::Duration::milliseconds(helds[i]);
            s.segment("hold", t, end, q.clone());
            s.metric("tHeld", helds[i], end);
            t = end;
        }
    }
    s.metric("tTalkComplete", part.talk_ms, t);
    if holds > 0 {
        s.metric("tHeldComplete", part.hold_ms, t);
    }
    let wrapped = t + chrono::Duration::milliseconds(part.acw_ms);
    let mut wrap =
        json!({"queueId": queue_id, "wrapUpCode": part.wrap_code, "disconnectType": disconnect});
    if let Some(note) = part.note {
        wrap["wrapUpNote"] = json!(note);
    }
    s.segment("wrapup", t, wrapped, wrap);
    s.metric("tAcw", part.acw_ms, wrapped);
    s.metric(
        "tHandle",
        part.talk_ms + part.hold_ms + part.acw_ms,
        wrapped,
    );
    let session = s.into_json(uuid(rng), media, Map::new());
    (
        json!({
            "participantId": uuid(rng),
            "participantName": part.agent.name,
            "purpose": "agent",
            "userId": part.agent.id,
            "sessions": [session],
        }),
        wrapped,
    )
}

/// A first agent who was alerted and did not answer: `tNotResponding`, sometimes `nError`,
/// and often forced after-call work with a system wrap-up code.
fn not_responding<R: Rng>(
    rng: &mut R,
    agent: &Agent,
    from: DateTime<Utc>,
    ring: DateTime<Utc>,
    queue_id: &str,
    media: &str,
    clock: Clock,
) -> Value {
    let mut s = Session::new(clock);
    let ring_ms = (ring - from).num_milliseconds();
    s.segment(
        "alert",
        from,
        ring,
        json!({"queueId": queue_id, "disconnectType": "client"}),
    );
    if rng.random_bool(0.5) {
        s.metric("nError", 1, ring);
    }
    s.metric("tAlert", ring_ms, ring);
    s.metric("tNotResponding", ring_ms, ring);
    if rng.random_bool(0.6) {
        let acw = rng.random_range(5_000..60_000);
        let end = ring + chrono::Duration::milliseconds(acw);
        s.segment(
            "wrapup",
            ring,
            end,
            json!({"queueId": queue_id, "wrapUpCode": "ININ-WRAP-UP-TIMEOUT", "disconnectType": "client"}),
        );
        s.metric("tAcw", acw, end);
        s.metric("tHandle", acw, end);
    }
    json!({
        "participantId": uuid(rng),
        "participantName": agent.name,
        "purpose": "agent",
        "userId": agent.id,
        "sessions": [s.into_json(uuid(rng), media, Map::new())],
    })
}

/// One contact as the renderers of its participants see it.
#[derive(Clone, Copy)]
struct Contact<'a> {
    c: &'a SimContact,
    q: &'a Queue,
    customer: Option<&'a Customer>,
    /// `voice`, `callback`, `message` or `email`.
    media: &'static str,
    clock: Clock,
    queued: DateTime<Utc>,
    left_queue: DateTime<Utc>,
    end: DateTime<Utc>,
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
    // Most voice contacts are calls; some answered ones were callbacks the customer asked for
    // on the web site. Chats are web messaging today.
    let callback = c.media == Media::Voice && c.answered && rng.random_bool(0.05);
    let media = match c.media {
        Media::Voice if callback => "callback",
        Media::Voice => "voice",
        Media::Chat => "message",
        Media::Email => "email",
    };
    // One export in three wrote fractions without their trailing zeros.
    let short = rng.random_bool(0.33);
    let clock = Clock {
        cutoff: dir.exported_at,
        short,
    };
    let queued = c.start + secs(c.ivr_s);
    let k = Contact {
        c,
        q,
        customer,
        media,
        clock,
        queued,
        left_queue: queued + secs(c.wait_s),
        end: c.end(),
    };
    let mut participants = vec![customer_participant(rng, &k, dir, planted)];
    participants.extend(ivr_participant(rng, &k));
    participants.push(acd_participant(rng, &k));
    agent_participants(rng, &k, dir, planted, &mut participants);
    let end = k.end;
    let mut record = json!({
        "conversationId": uuid(rng),
        "conversationStart": ts(c.start, short),
        "originatingDirection": "inbound",
        "divisionIds": [dir.division_id],
        "participants": participants,
    });
    // Still going when the export ran: no end yet.
    if end <= clock.cutoff {
        record["conversationEnd"] = json!(ts(end, short));
    }
    if media == "voice" {
        record["mediaStatsMinConversationMos"] =
            json!((rng.random_range(3.6..4.5f64) * 100.0).round() / 100.0);
    }
    record
}

/// The customer: a caller (`ani` as tel: or a SIP URI), a messaging visitor (a UUID address,
/// no ani), or an e-mail sender.
fn customer_participant<R: Rng>(
    rng: &mut R,
    k: &Contact<'_>,
    dir: &Directory<'_>,
    planted: &mut Planted,
) -> Value {
    let Contact {
        c,
        q,
        customer,
        media,
        clock,
        end,
        ..
    } = *k;
    let mut attributes = Map::new();
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
    let mut cs = Session::new(clock);
    cs.metric("nConnected", 1, c.start);
    cs.segment(
        "interact",
        c.start,
        end,
        json!({"queueId": q.id, "disconnectType": if c.abandoned { "client" } else { "endpoint" }}),
    );
    let mut extra = Map::new();
    match media {
        "voice" | "callback" => {
            let ani = match customer {
                Some(cu) => {
                    planted.phones.insert(cu.phone_e164.clone());
                    if rng.random_bool(0.25) {
                        format!(
                            "sip:{}@10.{}.{}.{};user=phone",
                            cu.phone_e164,
                            rng.random_range(0..255),
                            rng.random_range(0..255),
                            rng.random_range(1..255)
                        )
                    } else {
                        format!("tel:{}", cu.phone_e164)
                    }
                }
                None => "tel:anonymous".to_string(),
            };
            if media == "callback" {
                extra.insert("callbackNumbers".into(), json!([ani.clone()]));
            }
            extra.insert("ani".into(), json!(ani));
            extra.insert("dnis".into(), json!("tel:+18005550142"));
            extra.insert("provider".into(), json!("Edge"));
        }
        "message" => {
            extra.insert("messageType".into(), json!("webmessaging"));
            extra.insert("addressFrom".into(), json!(uuid(rng)));
            extra.insert("addressTo".into(), json!(dir.division_id));
        }
        _ => {
            if let Some(cu) = customer {
                extra.insert("addressFrom".into(), json!(cu.email));
                planted.emails.insert(cu.email.clone());
            }
            extra.insert("addressTo".into(), json!("members@example.com"));
        }
    }
    let customer_session = cs.into_json(uuid(rng), media, extra);
    json!({
        "participantId": uuid(rng),
        "participantName": match media { "voice" | "callback" => "Mobile Caller", _ => "Web Visitor" },
        "purpose": "customer",
        "attributes": attributes,
        "sessions": [customer_session],
    })
}

/// The IVR flow a voice call went through before the queue.
fn ivr_participant<R: Rng>(rng: &mut R, k: &Contact<'_>) -> Option<Value> {
    let Contact {
        c,
        q,
        media,
        clock,
        queued,
        ..
    } = *k;
    if media != "voice" || c.ivr_s <= 0.0 {
        return None;
    }
    {
        let mut s = Session::new(clock);
        s.metric("nFlow", 1, c.start);
        s.metric("tIvr", ms(c.ivr_s), queued);
        s.segment(
            "ivr",
            c.start,
            queued,
            json!({"disconnectType": "transfer"}),
        );
        let mut flow = Map::new();
        flow.insert(
            "flow".into(),
            json!({"flowName": "Member Main IVR", "flowType": "INBOUNDCALL", "exitReason": "TRANSFER", "transferType": "ACD", "transferTargetName": q.name}),
        );
        Some(json!({
            "participantId": uuid(rng),
            "participantName": "Member Main IVR",
            "purpose": "ivr",
            "sessions": [s.into_json(uuid(rng), media, flow)],
        }))
    }
}

/// The queue: offered, then waited tAcd; tAbandon when the caller hung up.
fn acd_participant<R: Rng>(rng: &mut R, k: &Contact<'_>) -> Value {
    let Contact {
        c,
        q,
        media,
        clock,
        queued,
        left_queue,
        ..
    } = *k;
    let mut acd = Session::new(clock);
    acd.metric("nOffered", 1, queued);
    acd.metric("tAcd", ms(c.wait_s), left_queue);
    if c.abandoned {
        acd.metric("tAbandon", ms(c.wait_s), left_queue);
    }
    acd.segment(
        "interact",
        queued,
        left_queue,
        json!({"queueId": q.id, "disconnectType": if c.abandoned { "peer" } else { "transfer" }}),
    );
    json!({
        "participantId": uuid(rng),
        "participantName": q.name,
        "purpose": "acd",
        "sessions": [acd.into_json(uuid(rng), media, Map::new())],
    })
}

/// The agents of an answered contact: now and then one who did not answer first, the one who
/// did, and on a transfer the second.
fn agent_participants<R: Rng>(
    rng: &mut R,
    k: &Contact<'_>,
    dir: &Directory<'_>,
    planted: &mut Planted,
    participants: &mut Vec<Value>,
) {
    let Contact {
        c,
        q,
        customer,
        media,
        clock,
        left_queue,
        ..
    } = *k;
    if let (true, Some(ai)) = (c.answered, c.agent) {
        let agents = dir.agents;
        let agent = &agents[ai];
        // Now and then the first agent offered did not answer; the wait includes their ring.
        let ring_s = rng.random_range(8.0..15.0);
        if agents.len() > 1 && c.wait_s > ring_s + 3.0 && rng.random_bool(0.08) {
            let other = &agents[(ai + 1 + rng.random_range(0..agents.len() - 1)) % agents.len()];
            let from = left_queue - secs(ring_s + 3.0);
            participants.push(not_responding(
                rng,
                other,
                from,
                from + secs(ring_s),
                &q.id,
                media,
                clock,
            ));
        }
        let alert_s = rng.random_range(1.5..6.0f64).min(c.wait_s);
        let mut pii = NotePii::default();
        let note = health_note(rng, customer, &mut pii);
        planted.absorb(pii);
        let turns = match media {
            "message" => rng.random_range(5..25),
            _ if c.hold_s > 0.0 => rng.random_range(2..4),
            _ => 1,
        };
        let (talk_ms, hold_ms, acw_ms) = (ms(c.talk_s), ms(c.hold_s), ms(c.acw_s));
        let wrap_code = c.wrap_code.unwrap_or("General Inquiry");
        let answering = AgentPart {
            agent,
            alerted: left_queue - secs(alert_s),
            answered: left_queue,
            answered_metric: Some(ms(c.wait_s)),
            talk_ms,
            hold_ms,
            acw_ms,
            turns,
            wrap_code,
            note: Some(note),
        };
        if c.transferred {
            // A blind transfer: the first agent talks a while and wraps up quickly; the
            // second takes the rest of the call and its after-call work.
            let first_talk = talk_ms / 3;
            let first_acw = rng.random_range(3_000..15_000);
            let first = AgentPart {
                talk_ms: first_talk,
                hold_ms: 0,
                acw_ms: first_acw,
                turns: 1,
                ..answering
            };
            let (p, handed_over) = agent_participant(rng, first, &q.id, media, clock, "transfer");
            participants.push(p);
            let from = handed_over - chrono::Duration::milliseconds(first_acw);
            let second = AgentPart {
                agent: &agents[(ai + 7) % agents.len()],
                alerted: from,
                answered: from + secs(alert_s),
                answered_metric: None,
                talk_ms: talk_ms - first_talk,
                hold_ms,
                acw_ms,
                turns,
                wrap_code,
                note: None,
            };
            participants.push(agent_participant(rng, second, &q.id, media, clock, "peer").0);
        } else {
            participants.push(agent_participant(rng, answering, &q.id, media, clock, "client").0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn pieces_add_up_exactly_and_short_times_drop_trailing_zeros() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (total, n) in [(125_000, 3), (1, 4), (0, 1), (987_654, 21)] {
            let parts = split_ms(&mut rng, total, n);
            assert_eq!(parts.iter().sum::<i64>(), total);
            assert!(parts.iter().all(|p| *p >= 0));
        }
        let t = DateTime::parse_from_rfc3339("2026-10-05T14:02:11.520Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(t, true), "2026-10-05T14:02:11.52Z");
        assert_eq!(ts(t, false), "2026-10-05T14:02:11.520Z");
        let whole = DateTime::parse_from_rfc3339("2026-10-05T14:02:11Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(whole, true), "2026-10-05T14:02:11Z");
    }
}
