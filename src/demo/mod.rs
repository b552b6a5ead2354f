//! The demo data generator: realistic, deterministic exports of a contact center that runs on
//! four systems, a Genesys Cloud health-insurance line, a NICE CXone banking line, an Amazon
//! Connect utility line and a generic telco feed, sharing one customer base (so a caller
//! recurs across systems and days). Each system's records are shaped as its real exports are
//! (see the renderers), warts included.
//!
//! Besides clean data it plants every trap a real lake meets: a late delivery, re-delivered
//! files (byte-identical and re-exported), schema drift (new fields, a renamed CXone field,
//! type changes, an unmapped status), malformed lines and records without a time. A hidden
//! manifest (`.cclake-demo.json`, skipped by ingest) lists what was planted, PII included, so
//! tests can prove none of it leaks past Silver.

mod connect;
mod cxone;
mod generic;
mod genesys;
mod model;
mod notes;
pub mod people;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Value, json};

use crate::progress::JobProgress;
use crate::sources::Shape;
use model::{Incident, Queue, SimContact, incident_date, simulate_day};
use notes::NotePii;
use people::Customer;

/// Name of the manifest written beside the exports (hidden, so ingest skips it).
pub const MANIFEST: &str = ".cclake-demo.json";

/// What to generate.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateOptions {
    pub out: PathBuf,
    pub days: u32,
    pub contacts_per_day: u32,
    pub seed: u64,
    /// First day of the export window (UTC).
    pub start: NaiveDate,
}

impl GenerateOptions {
    /// The default window starts on a fixed date, so the same command always writes the same
    /// bytes.
    pub fn default_start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("nothing to generate: {0}")]
    Options(String),
    #[error("generation cancelled")]
    Cancelled,
}

/// PII values that appear somewhere in the generated exports, as they appear.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Planted {
    pub phones: BTreeSet<String>,
    pub member_ids: BTreeSet<String>,
    pub account_numbers: BTreeSet<String>,
    pub card_numbers: BTreeSet<String>,
    pub emails: BTreeSet<String>,
}

impl Planted {
    fn absorb(&mut self, p: NotePii) {
        self.phones.extend(p.phones);
        self.emails.extend(p.emails);
        self.member_ids.extend(p.member_ids);
        self.card_numbers.extend(p.pans);
    }
}

/// Counts of what was written, by kind.
#[derive(Debug, Default, Clone, Serialize)]
pub struct GenerateCounts {
    pub genesys_contacts: u64,
    pub cxone_contacts: u64,
    pub connect_contacts: u64,
    pub generic_contacts: u64,
    /// Connect contacts delivered a second time with an updated record.
    pub connect_updates: u64,
    /// Amazon Connect contact events (EventBridge), Bronze `contact_event`.
    pub contact_events: u64,
    /// Genesys conversations still open when their export ran (no `conversationEnd`).
    pub open_conversations: u64,
    pub agent_state_events: u64,
    pub late_contacts: u64,
    pub reexported_contacts: u64,
    pub malformed_lines: u64,
    pub records_without_time: u64,
    pub customers: u64,
    pub crm_rows: u64,
}

/// The generator's report, also written as the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateSummary {
    pub options: GenerateOptions,
    pub counts: GenerateCounts,
    /// Files by role: genesys, cxone, generic, late, redelivered, crm.
    pub files: std::collections::BTreeMap<String, Vec<String>>,
    pub incident: Option<IncidentInfo>,
    pub planted_pii: Planted,
    /// The day whose exports are duplicated under `redelivered/`, and the late day.
    pub redelivered_day: NaiveDate,
    pub late_day: NaiveDate,
    pub drift_from: NaiveDate,
}

impl GenerateSummary {
    pub fn total_files(&self) -> usize {
        self.files.values().map(Vec::len).sum()
    }

    /// Contacts in the main exports (without the late and re-exported copies).
    pub fn contacts(&self) -> u64 {
        self.counts.genesys_contacts
            + self.counts.cxone_contacts
            + self.counts.connect_contacts
            + self.counts.generic_contacts
    }
}

/// The planted staffing incident, for the README and the app's demo hints.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentInfo {
    pub system: String,
    pub queue: String,
    pub date: NaiveDate,
    pub utc_hours: String,
}

/// A separate deterministic random stream per (purpose, day): the output does not depend on
/// the order things are generated in.
fn stream(seed: u64, purpose: &str, day: u32) -> ChaCha8Rng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in purpose.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(seed ^ h ^ (u64::from(day) << 40))
}

/// A queue's name, share of volume, mean talk and wait seconds, and wrap-up codes.
type QueueSpec = (&'static str, f64, f64, f64, &'static [&'static str]);

const GENESYS_QUEUES: &[QueueSpec] = &[
    (
        "Member Services",
        0.42,
        380.0,
        32.0,
        &[
            "Benefits Inquiry",
            "ID Card Request",
            "Eligibility",
            "Address Change",
        ],
    ),
    (
        "Claims",
        0.28,
        520.0,
        48.0,
        &["Claim Status", "Claim Dispute", "EOB Explanation"],
    ),
    (
        "Pharmacy Help Desk",
        0.18,
        300.0,
        24.0,
        &["Refill Authorization", "Formulary Question", "Mail Order"],
    ),
    (
        "Provider Relations",
        0.12,
        610.0,
        40.0,
        &["Credentialing", "Payment Inquiry", "Network Question"],
    ),
];
const CXONE_QUEUES: &[QueueSpec] = &[
    (
        "Card Services",
        0.40,
        290.0,
        28.0,
        &["Balance", "Card Replacement", "Dispute"],
    ),
    (
        "Fraud Prevention",
        0.22,
        450.0,
        18.0,
        &["Fraud Claim", "Alert Cleared"],
    ),
    (
        "Loans and Mortgages",
        0.20,
        640.0,
        55.0,
        &["Rate Quote", "Payoff Request", "Application Status"],
    ),
    (
        "Collections",
        0.18,
        350.0,
        38.0,
        &["Promise to Pay", "Hardship Plan", "Refused"],
    ),
];
const CONNECT_QUEUES: &[QueueSpec] = &[
    (
        "Outages",
        0.30,
        240.0,
        45.0,
        &["Outage Reported", "Restoration Estimate", "Crew Dispatched"],
    ),
    (
        "Billing Support",
        0.35,
        360.0,
        30.0,
        &["Payment Plan", "High Bill", "Autopay Setup"],
    ),
    (
        "Moving Service",
        0.20,
        420.0,
        25.0,
        &["Start Service", "Stop Service", "Transfer Service"],
    ),
    (
        "Solar and EV",
        0.15,
        540.0,
        20.0,
        &["Net Metering", "EV Rate Plan", "Interconnection"],
    ),
];
const GENERIC_QUEUES: &[QueueSpec] = &[
    (
        "Sales",
        0.25,
        420.0,
        20.0,
        &["New Line", "Upgrade", "Quote Only"],
    ),
    (
        "Tech Support",
        0.35,
        560.0,
        62.0,
        &["Outage", "Router Reset", "Technician Dispatch"],
    ),
    (
        "Billing",
        0.28,
        330.0,
        35.0,
        &["Payment", "Bill Explanation", "Refund"],
    ),
    (
        "Retention",
        0.12,
        480.0,
        26.0,
        &["Saved", "Cancelled", "Offer Declined"],
    ),
];

/// Builds queues from their specs; `id` gives each system's own kind of queue id.
fn queues(specs: &[QueueSpec], mut id: impl FnMut(usize, &str) -> String) -> Vec<Queue> {
    specs
        .iter()
        .enumerate()
        .map(|(i, &(name, weight, talk, wait, codes))| Queue {
            id: id(i, name),
            name,
            weight,
            talk_mean: talk,
            wait_mean: wait,
            wrap_codes: codes,
        })
        .collect()
}

struct Writer<'a> {
    out: &'a Path,
    files: std::collections::BTreeMap<String, Vec<String>>,
}

impl Writer<'_> {
    fn write(&mut self, role: &str, rel: &str, bytes: &[u8]) -> Result<(), GenerateError> {
        let path = self.out.join(rel);
        let err = |source| GenerateError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        std::fs::write(&path, bytes).map_err(err)?;
        self.files
            .entry(role.to_string())
            .or_default()
            .push(rel.to_string());
        Ok(())
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

fn json_bytes(v: &Value, pretty: bool) -> Vec<u8> {
    let mut out = if pretty {
        serde_json::to_vec_pretty(v).unwrap_or_default()
    } else {
        serde_json::to_vec(v).unwrap_or_default()
    };
    out.push(b'\n');
    out
}

/// Writes the demo exports into `opts.out`.
pub fn generate(
    opts: &GenerateOptions,
    progress: &JobProgress,
) -> Result<GenerateSummary, GenerateError> {
    if opts.days == 0 || opts.contacts_per_day == 0 {
        return Err(GenerateError::Options(
            "--days and --contacts-per-day must be at least 1".into(),
        ));
    }
    let seed = opts.seed;
    let days = opts.days;
    let per_day = opts.contacts_per_day as usize;
    progress.begin_stage("generating demo exports", u64::from(days) + 2);

    let mut setup = stream(seed, "setup", 0);
    let n_customers = (per_day * days as usize / 4).clamp(300, 150_000);
    let customers = people::customers(&mut setup, n_customers);
    let customer_pick = WeightedIndex::new(customers.iter().map(|c| c.weight))
        .map_err(|e| GenerateError::Options(e.to_string()))?;
    // Genesys queues are UUIDs, CXone skills are numbers, the generic feed only has names.
    let g_queues = queues(GENESYS_QUEUES, |_, _| people::uuid(&mut setup));
    let c_queues = queues(CXONE_QUEUES, |i, _| (4101 + i).to_string());
    let x_queues = queues(GENERIC_QUEUES, |_, name| name.to_string());
    let g_agents = people::agents(&mut setup, 36, |r, _| people::uuid(r));
    let c_agents = people::agents(&mut setup, 30, |_, i| (5100 + i).to_string());
    let x_agents = people::agents(&mut setup, 32, |_, i| format!("agent-{:03}", i + 1));
    let division = people::uuid(&mut setup);
    // Amazon Connect: queues and agents are UUIDs inside the instance's ARN.
    let a_queues = queues(CONNECT_QUEUES, |_, _| people::uuid(&mut setup));
    let a_agents = people::agents(&mut setup, 28, |r, _| people::uuid(r));
    let account = "111122223333";
    let instance_arn = format!(
        "arn:aws:connect:us-east-1:{account}:instance/{}",
        people::uuid(&mut setup)
    );
    let mut ctr_deliveries: Vec<connect::Delivery> = Vec::new();

    let day_of = |d: u32| opts.start + Duration::days(i64::from(d));
    let incident = incident_date(opts.start, days).map(|date| Incident {
        source: Shape::Genesys,
        queue: 1, // Claims
        date,
        hours: (15, 19),
        wait_factor: 6.0,
    });
    let late_day = day_of(2.min(days - 1));
    let redelivered_day = day_of(1.min(days - 1));
    let reexport_day = day_of(4.min(days - 1));
    let drift_day_index = days / 2;
    let cxone_rename_index = (days * 3 / 5).max(1);

    let mut w = Writer {
        out: &opts.out,
        files: Default::default(),
    };
    let mut planted = Planted::default();
    let mut counts = GenerateCounts {
        customers: customers.len() as u64,
        ..Default::default()
    };
    let mut cxone_id: u64 = 6_420_000_000 + seed % 1000 * 1_000_000;

    let volume = |share: f64| ((per_day as f64) * share).round().max(1.0) as usize;
    for d in 0..days {
        progress.check().map_err(|_| GenerateError::Cancelled)?;
        let date = day_of(d);
        let ds = date.format("%Y-%m-%d").to_string();

        // Genesys: analytics job result pages of up to 250 conversations, exported early the
        // next morning; the last day's export ran at midnight, so calls still going then are
        // open.
        let mut rng = stream(seed, "genesys", d);
        let sims = simulate_day(
            &mut rng,
            Shape::Genesys,
            &g_queues,
            &g_agents,
            &customer_pick,
            date,
            volume(0.35),
            incident.as_ref(),
        );
        counts.genesys_contacts += sims.len() as u64;
        let next_midnight = Utc.from_utc_datetime(
            &(date + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
        );
        let exported_at = if d + 1 == days {
            next_midnight
        } else {
            next_midnight + Duration::hours(2)
        };
        counts.open_conversations += sims.iter().filter(|c| c.end() > exported_at).count() as u64;
        let dir = genesys::Directory {
            queues: &g_queues,
            agents: &g_agents,
            customers: &customers,
            division_id: &division,
            exported_at,
        };
        let records: Vec<Value> = sims
            .iter()
            .map(|c| genesys::render(&mut rng, c, &dir, &mut planted))
            .collect();
        let job = people::uuid(&mut rng);
        let pages: Vec<&[Value]> = records.chunks(250).collect();
        for (p, page) in pages.iter().enumerate() {
            let last = p + 1 == pages.len();
            let body = json!({
                "conversations": page,
                "totalHits": records.len(),
                "cursor": if last { Value::Null } else { json!(format!("{job}:{}", p + 1)) },
            });
            // Every seventh day was saved pretty-printed from a browser.
            let pretty = d % 7 == 6;
            w.write(
                "genesys",
                &format!(
                    "genesys/{ds}/conversation_details_job_{}_page_{:03}.json",
                    &job[..8],
                    p + 1
                ),
                &json_bytes(&body, pretty),
            )?;
        }

        // CXone: one completed-contacts response per day; gzip on alternate days, and once
        // without a .gz name, as a download tool saved it.
        let mut rng = stream(seed, "cxone", d);
        let sims = simulate_day(
            &mut rng,
            Shape::Cxone,
            &c_queues,
            &c_agents,
            &customer_pick,
            date,
            volume(0.25),
            None,
        );
        counts.cxone_contacts += sims.len() as u64;
        let dialect = cxone::Dialect {
            renamed_fields: d >= cxone_rename_index,
        };
        let records: Vec<Value> = sims
            .iter()
            .map(|c| {
                cxone_id += rng.random_range(1..40);
                cxone::render(
                    &mut rng,
                    c,
                    cxone_id,
                    &c_queues,
                    &c_agents,
                    &customers,
                    dialect,
                    &mut planted,
                )
            })
            .collect();
        let polled = Utc.from_utc_datetime(
            &(date + Duration::days(1))
                .and_hms_opt(2, 15, 0)
                .unwrap_or_default(),
        );
        if date == reexport_day {
            // The vendor re-exported this day a week later: the same contacts, a few late
            // survey scores filled in, a newer lastUpdateTime.
            let later = polled + Duration::days(7);
            let again: Vec<Value> = records
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    if r["csatScore"] == json!("")
                        && r["abandoned"] == json!("False")
                        && rng.random_bool(0.1)
                    {
                        r["csatScore"] = json!(rng.random_range(3..=5).to_string());
                    }
                    r["lastUpdateTime"] = json!(later.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
                    r
                })
                .collect();
            counts.reexported_contacts += again.len() as u64;
            let body = json_bytes(&cxone::envelope(again, 4_600_123, later), false);
            w.write(
                "redelivered",
                &format!("redelivered/completed_contacts_{ds}_reexport.json"),
                &body,
            )?;
        }
        let body = json_bytes(&cxone::envelope(records, 4_600_123, polled), false);
        match d % 2 {
            0 => w.write(
                "cxone",
                &format!("cxone/completed_contacts_{ds}.json"),
                &body,
            )?,
            _ if d == 3 => w.write(
                "cxone",
                &format!("cxone/completed_contacts_{ds}.json"),
                &gzip(&body),
            )?,
            _ => w.write(
                "cxone",
                &format!("cxone/completed_contacts_{ds}.json.gz"),
                &gzip(&body),
            )?,
        }

        // Amazon Connect: CTRs streamed through Kinesis Data Firehose (written out by hour
        // below, since deliveries cross midnight), and one contact in ten also raised
        // EventBridge contact events, exported per day.
        let mut rng = stream(seed, "connect", d);
        let sims = simulate_day(
            &mut rng,
            Shape::Connect,
            &a_queues,
            &a_agents,
            &customer_pick,
            date,
            volume(0.2),
            None,
        );
        counts.connect_contacts += sims.len() as u64;
        let dir = connect::Directory {
            queues: &a_queues,
            agents: &a_agents,
            customers: &customers,
            instance_arn: &instance_arn,
            account,
        };
        let mut events = String::new();
        for c in &sims {
            let with_events = rng.random_bool(0.1);
            let (deliveries, evs) = connect::render(&mut rng, c, &dir, with_events, &mut planted);
            counts.connect_updates += deliveries.len().saturating_sub(1) as u64;
            ctr_deliveries.extend(deliveries);
            for e in evs {
                events.push_str(&serde_json::to_string(&e).unwrap_or_default());
                events.push('\n');
                counts.contact_events += 1;
            }
        }
        if !events.is_empty() {
            w.write(
                "connect_events",
                &format!("connect/events/contact_events_{ds}.json"),
                events.as_bytes(),
            )?;
        }

        // Generic feed: gzip NDJSON with agent-state events mixed in, a few broken lines and a
        // few records that lost their timestamp.
        let mut rng = stream(seed, "generic", d);
        let sims = simulate_day(
            &mut rng,
            Shape::Generic,
            &x_queues,
            &x_agents,
            &customer_pick,
            date,
            volume(0.2),
            None,
        );
        let feed = generic::Feed {
            drifted: d >= drift_day_index,
        };
        let mut lines: Vec<(chrono::DateTime<Utc>, String)> = Vec::with_capacity(sims.len() * 2);
        for (i, c) in sims.iter().enumerate() {
            let mut r = generic::render(
                &mut rng,
                c,
                i + 1,
                &x_queues,
                &x_agents,
                &customers,
                feed,
                &mut planted,
            );
            // Roughly one contact in 400 lost its timestamp on the way out of the dialer.
            if (counts.generic_contacts + 1) % 397 == 200 {
                r.remove("timestamp");
                counts.records_without_time += 1;
            }
            counts.generic_contacts += 1;
            lines.push((c.start, serde_json::to_string(&r).unwrap_or_default()));
        }
        let midnight = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
        for (i, a) in x_agents.iter().enumerate() {
            for k in 0..6 {
                let at = midnight + Duration::seconds(rng.random_range(11 * 3600..24 * 3600));
                let r = generic::agent_state(&mut rng, a, at, i * 10 + k);
                lines.push((at, serde_json::to_string(&r).unwrap_or_default()));
                counts.agent_state_events += 1;
            }
        }
        lines.sort_by_key(|l| l.0);
        let mut text = String::new();
        for (i, (_, line)) in lines.iter().enumerate() {
            text.push_str(line);
            text.push('\n');
            if i % 1500 == 350 {
                // An exporter crash left a line cut in half.
                text.push_str(&line[..line.len() * 3 / 5]);
                text.push('\n');
                counts.malformed_lines += 1;
            }
        }
        let gz = gzip(text.as_bytes());
        let name = format!("generic/contact_events_{ds}.ndjson.gz");
        w.write("generic", &name, &gz)?;
        if date == redelivered_day {
            // The same file delivered twice: ingest must notice and write nothing.
            w.write(
                "redelivered",
                &format!("redelivered/contact_events_{ds}.ndjson.gz"),
                &gz,
            )?;
        }
        progress.add_done(1);
        progress.add_records(lines.len() as u64);
    }

    // Firehose flushes its buffer into one object per hour (the buffer interval), records
    // back to back with no separator, gzip-compressed.
    ctr_deliveries.sort_by_key(|x| x.at);
    let mut rng = stream(seed, "firehose", 0);
    for hour in ctr_deliveries
        .chunk_by(|a, b| a.at.format("%Y%m%d%H").to_string() == b.at.format("%Y%m%d%H").to_string())
    {
        // `chunk_by` yields no empty slice; the buffer flushed after its last record.
        let last = hour[hour.len() - 1].at;
        let flushed = last + Duration::seconds(rng.random_range(1..60));
        let mut body = Vec::new();
        for x in hour {
            body.extend(serde_json::to_vec(&x.record).unwrap_or_default());
        }
        let key = connect::firehose_key("cclake-ctr-stream", flushed, &people::uuid(&mut rng));
        w.write("connect", &format!("connect/ctr/{key}"), &gzip(&body))?;
    }

    // Late delivery: more conversations from an early day, arriving after everything else.
    let late_index = (late_day - opts.start).num_days() as u32;
    let mut rng = stream(seed, "late", late_index);
    let late: Vec<SimContact> = simulate_day(
        &mut rng,
        Shape::Genesys,
        &g_queues,
        &g_agents,
        &customer_pick,
        late_day,
        (volume(0.35) / 8).max(1),
        None,
    );
    counts.late_contacts = late.len() as u64;
    let dir = genesys::Directory {
        queues: &g_queues,
        agents: &g_agents,
        customers: &customers,
        division_id: &division,
        exported_at: Utc.from_utc_datetime(
            &(opts.start + Duration::days(i64::from(days) + 1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
        ),
    };
    let records: Vec<Value> = late
        .iter()
        .map(|c| genesys::render(&mut rng, c, &dir, &mut planted))
        .collect();
    let body = json!({"conversations": records, "totalHits": records.len(), "cursor": null});
    w.write(
        "late",
        &format!(
            "late/genesys_late_delivery_{}.json",
            late_day.format("%Y-%m-%d")
        ),
        &json_bytes(&body, false),
    )?;
    progress.add_done(1);

    // CRM extract keyed by phone.
    let crm = crm_csv(&customers, &mut stream(seed, "crm", 0));
    counts.crm_rows = crm.lines().count().saturating_sub(1) as u64;
    w.write("crm", "crm/customers.csv", crm.as_bytes())?;
    progress.add_done(1);

    let summary = GenerateSummary {
        options: opts.clone(),
        counts,
        files: w.files,
        incident: incident.map(|i| IncidentInfo {
            system: "genesys".into(),
            queue: g_queues[i.queue].name.to_string(),
            date: i.date,
            utc_hours: format!("{:02}:00-{:02}:00 UTC", i.hours.0, i.hours.1),
        }),
        planted_pii: planted,
        redelivered_day,
        late_day,
        drift_from: day_of(drift_day_index.min(days - 1)),
    };
    let manifest = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    let path = opts.out.join(MANIFEST);
    std::fs::write(&path, manifest).map_err(|source| GenerateError::Write { path, source })?;
    Ok(summary)
}

fn crm_csv(customers: &[Customer], rng: &mut ChaCha8Rng) -> String {
    let owners = [
        "Dana Whitfield",
        "Luis Ortega",
        "Mei Lin",
        "Sam Adeyemi",
        "Rita Novak",
    ];
    let mut out = String::from(
        "customer_id,phone_number,customer_tier,product_type,account_owner,customer_since\n",
    );
    for (i, c) in customers.iter().enumerate().filter(|(_, c)| c.in_crm) {
        let product = match c.tier {
            "Platinum" => "Premier Bundle",
            "Gold" => ["PPO Plus", "Visa Signature", "Fiber 1G"][i % 3],
            "Silver" => ["HMO Standard", "Visa Classic", "Fiber 300"][i % 3],
            _ => ["Basic Plan", "Secured Card", "DSL 50"][i % 3],
        };
        let since = NaiveDate::from_ymd_opt(
            2012 + rng.random_range(0..14),
            rng.random_range(1..13),
            rng.random_range(1..29),
        )
        .unwrap_or_default();
        out.push_str(&format!(
            "CUST-{:06},{},{},{},{},{}\n",
            i + 1,
            c.phone_e164,
            c.tier,
            product,
            owners[i % owners.len()],
            since
        ));
    }
    out
}

#[cfg(test)]
mod tests;
