//! Renders simulated contacts as NICE CXone `contacts/completed` records: every value a string
//! (`"True"`, `"187"`), as the reporting API sends them.

use chrono::Duration;
use rand::Rng;
use serde_json::{Value, json};

use super::Planted;
use super::model::{Media, Queue, SimContact};
use super::notes::{NotePii, bank_note};
use super::people::{Agent, Customer};

/// How a record is written: the field names changed part-way through the export history.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// After the API update, `contactStart` → `contactStartDate` and `fromAddr` → `fromAddress`.
    pub renamed_fields: bool,
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn s(x: f64) -> String {
    format!("{}", x.round() as i64)
}

/// One completed contact. `contact_id` is the system's numeric id.
#[allow(clippy::too_many_arguments)]
pub fn render<R: Rng>(
    rng: &mut R,
    c: &SimContact,
    contact_id: u64,
    queues: &[Queue],
    agents: &[Agent],
    customers: &[Customer],
    dialect: Dialect,
    planted: &mut Planted,
) -> Value {
    let q = &queues[c.queue];
    let customer = c.customer.map(|i| &customers[i]);
    let media = match c.media {
        Media::Voice => "Call",
        Media::Chat => "Chat",
        Media::Email => "Email",
    };
    let mut r = serde_json::Map::new();
    r.insert("contactId".into(), json!(contact_id.to_string()));
    r.insert("masterContactId".into(), json!(contact_id.to_string()));
    let start_key = if dialect.renamed_fields {
        "contactStartDate"
    } else {
        "contactStart"
    };
    r.insert(start_key.into(), json!(ts(c.start)));
    r.insert(
        "lastUpdateTime".into(),
        json!(ts(c.end() + Duration::seconds(90))),
    );
    r.insert("skillId".into(), json!(q.id));
    r.insert("skillName".into(), json!(q.name));
    r.insert(
        "campaignName".into(),
        json!(format!(
            "{} {}",
            if c.outbound { "Outbound" } else { "Inbound" },
            q.name
        )),
    );
    r.insert(
        "pointOfContactName".into(),
        json!(format!("{} 800", q.name)),
    );
    let agent_id = c.agent.map_or("0".to_string(), |a| agents[a].id.clone());
    r.insert("agentId".into(), json!(agent_id));
    r.insert("mediaTypeName".into(), json!(media));
    r.insert(
        "isOutbound".into(),
        json!(if c.outbound { "True" } else { "False" }),
    );
    if c.media == Media::Voice {
        caller(rng, &mut r, customer, dialect, planted);
    }
    outcome_and_durations(&mut r, c);
    if c.answered {
        let mut pii = NotePii::default();
        r.insert(
            "dispositionNotes".into(),
            json!(bank_note(rng, customer, &mut pii)),
        );
        planted.absorb(pii);
    }
    r.insert(
        "csatScore".into(),
        json!(c.csat.map(|x| x.to_string()).unwrap_or_default()),
    );
    if let Some(cu) = customer
        && rng.random_bool(0.7)
    {
        r.insert("accountNumber".into(), json!(cu.account_number));
        planted.account_numbers.insert(cu.account_number.clone());
    }
    r.insert("state".into(), json!("EndContact"));
    r.insert("isLogged".into(), json!("True"));
    Value::Object(r)
}

/// The caller's number (and the number called) of a voice contact.
fn caller<R: Rng>(
    rng: &mut R,
    r: &mut serde_json::Map<String, Value>,
    customer: Option<&Customer>,
    dialect: Dialect,
    planted: &mut Planted,
) {
    let from = match customer {
        Some(cu) => {
            planted.phones.insert(cu.national().to_string());
            // Most numbers arrive as ten national digits, some in E.164.
            if rng.random_bool(0.85) {
                cu.national().to_string()
            } else {
                cu.phone_e164.clone()
            }
        }
        None => String::new(),
    };
    let from_key = if dialect.renamed_fields {
        "fromAddress"
    } else {
        "fromAddr"
    };
    r.insert(from_key.into(), json!(from));
    r.insert("toAddr".into(), json!("8005550199"));
}

/// The abandon fields, the durations (whole seconds, as strings) and the end reason.
fn outcome_and_durations(r: &mut serde_json::Map<String, Value>, c: &SimContact) {
    let agent_seconds = c.talk_s + c.hold_s;
    r.insert(
        "abandoned".into(),
        json!(if c.abandoned { "True" } else { "False" }),
    );
    r.insert(
        "abandonSeconds".into(),
        json!(if c.abandoned { s(c.wait_s) } else { "0".into() }),
    );
    r.insert(
        "isShortAbandon".into(),
        json!(if c.abandoned && c.wait_s < 5.0 {
            "True"
        } else {
            "False"
        }),
    );
    r.insert("inQueueSeconds".into(), json!(s(c.wait_s)));
    r.insert("agentSeconds".into(), json!(s(agent_seconds)));
    r.insert("holdSeconds".into(), json!(s(c.hold_s)));
    r.insert("ACWSeconds".into(), json!(s(c.acw_s)));
    r.insert(
        "totalDurationSeconds".into(),
        json!(s(c.ivr_s + c.wait_s + agent_seconds + c.acw_s)),
    );
    r.insert(
        "endReason".into(),
        json!(if c.abandoned {
            "Contact Abandoned"
        } else if c.transferred {
            "Transferred"
        } else {
            "Contact Hung Up"
        }),
    );
}

/// Wraps records in a `contacts/completed` response page.
pub fn envelope(
    records: Vec<Value>,
    business_unit: u64,
    polled: chrono::DateTime<chrono::Utc>,
) -> Value {
    json!({
        "resultSet": {
            "_links": {"self": "/incontactapi/services/v32.0/contacts/completed", "next": null},
            "businessUnitId": business_unit,
            "lastPollTime": ts(polled),
            "totalRecords": records.len(),
            "completedContacts": records,
        }
    })
}
