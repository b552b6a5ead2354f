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
mod month;
mod notes;
pub mod people;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::Value;

use crate::progress::JobProgress;
use model::Queue;
use month::Month;
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
    progress.begin_stage("generating demo exports", u64::from(opts.days) + 2);
    let mut month = Month::new(opts)?;
    for d in 0..opts.days {
        progress.check().map_err(|_| GenerateError::Cancelled)?;
        let lines = month.day(d)?;
        progress.add_done(1);
        progress.add_records(lines);
    }
    month.firehose()?;
    month.late_delivery()?;
    progress.add_done(1);
    month.crm()?;
    progress.add_done(1);
    month.finish()
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
