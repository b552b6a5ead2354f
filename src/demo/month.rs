//! One demo month: the contact center's shared setup (customers, queues, agents per system),
//! each day's exports per system, then the Firehose objects, the late delivery, the CRM
//! extract and the manifest.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rand::Rng;
use rand::distr::weighted::WeightedIndex;
use serde_json::{Value, json};

use super::model::{Incident, Queue, SimContact, incident_date, simulate_day};
use super::people::{self, Agent, Customer};
use super::{
    CONNECT_QUEUES, CXONE_QUEUES, GENERIC_QUEUES, GENESYS_QUEUES, GenerateCounts, GenerateError,
    GenerateOptions, GenerateSummary, IncidentInfo, MANIFEST, Planted, Writer, connect, crm_csv,
    cxone, generic, genesys, gzip, json_bytes, queues, stream,
};
use crate::sources::Shape;

/// Everything the days of a month share, and what they have written so far.
pub(super) struct Month<'a> {
    opts: &'a GenerateOptions,
    customers: Vec<Customer>,
    customer_pick: WeightedIndex<f64>,
    g_queues: Vec<Queue>,
    c_queues: Vec<Queue>,
    x_queues: Vec<Queue>,
    a_queues: Vec<Queue>,
    g_agents: Vec<Agent>,
    c_agents: Vec<Agent>,
    x_agents: Vec<Agent>,
    a_agents: Vec<Agent>,
    division: String,
    instance_arn: String,
    incident: Option<Incident>,
    late_day: NaiveDate,
    redelivered_day: NaiveDate,
    reexport_day: NaiveDate,
    drift_day_index: u32,
    cxone_rename_index: u32,
    w: Writer<'a>,
    planted: Planted,
    counts: GenerateCounts,
    cxone_id: u64,
    /// Amazon Connect CTR deliveries, written out per hour at the end (deliveries cross
    /// midnight).
    ctr_deliveries: Vec<connect::Delivery>,
}

/// The AWS account of the demo's Amazon Connect instance.
const ACCOUNT: &str = "111122223333";

impl<'a> Month<'a> {
    pub(super) fn new(opts: &'a GenerateOptions) -> Result<Self, GenerateError> {
        let (seed, days) = (opts.seed, opts.days);
        let per_day = opts.contacts_per_day as usize;
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
        let instance = people::uuid(&mut setup);
        let instance_arn = format!("arn:aws:connect:us-east-1:{ACCOUNT}:instance/{instance}");
        let day_of = |d: u32| opts.start + Duration::days(i64::from(d));
        let incident = incident_date(opts.start, days).map(|date| Incident {
            source: Shape::Genesys,
            queue: 1, // Claims
            date,
            hours: (15, 19),
            wait_factor: 6.0,
        });
        let counts = GenerateCounts {
            customers: customers.len() as u64,
            ..Default::default()
        };
        Ok(Month {
            opts,
            customer_pick,
            customers,
            g_queues,
            c_queues,
            x_queues,
            a_queues,
            g_agents,
            c_agents,
            x_agents,
            a_agents,
            division,
            instance_arn,
            incident,
            late_day: day_of(2.min(days - 1)),
            redelivered_day: day_of(1.min(days - 1)),
            reexport_day: day_of(4.min(days - 1)),
            drift_day_index: days / 2,
            cxone_rename_index: (days * 3 / 5).max(1),
            w: Writer {
                out: &opts.out,
                files: Default::default(),
            },
            planted: Planted::default(),
            counts,
            cxone_id: 6_420_000_000 + seed % 1000 * 1_000_000,
            ctr_deliveries: Vec::new(),
        })
    }

    fn day_of(&self, d: u32) -> NaiveDate {
        self.opts.start + Duration::days(i64::from(d))
    }

    /// A system's contacts per day, by its share of the volume.
    fn volume(&self, share: f64) -> usize {
        let per_day = self.opts.contacts_per_day as f64;
        (per_day * share).round().max(1.0) as usize
    }

    /// One system's contacts of one day (the planted incident is Genesys's).
    fn simulate(
        &self,
        rng: &mut rand_chacha::ChaCha8Rng,
        shape: Shape,
        date: NaiveDate,
        volume: usize,
    ) -> Vec<SimContact> {
        let (queues, agents) = match shape {
            Shape::Genesys => (&self.g_queues, &self.g_agents),
            Shape::Cxone => (&self.c_queues, &self.c_agents),
            Shape::Connect => (&self.a_queues, &self.a_agents),
            Shape::Generic => (&self.x_queues, &self.x_agents),
        };
        let incident = self.incident.as_ref();
        let pick = &self.customer_pick;
        simulate_day(rng, shape, queues, agents, pick, date, volume, incident)
    }

    /// One day of every system's exports; returns the generic feed's lines.
    pub(super) fn day(&mut self, d: u32) -> Result<u64, GenerateError> {
        let date = self.day_of(d);
        let ds = date.format("%Y-%m-%d").to_string();
        self.genesys_day(d, date, &ds)?;
        self.cxone_day(d, date, &ds)?;
        self.connect_day(d, date, &ds)?;
        self.generic_day(d, date, &ds)
    }

    fn genesys_day(&mut self, d: u32, date: NaiveDate, ds: &str) -> Result<(), GenerateError> {
        // Genesys: analytics job result pages of up to 250 conversations, exported early the
        // next morning; the last day's export ran at midnight, so calls still going then are
        // open.
        let mut rng = stream(self.opts.seed, "genesys", d);
        let sims = self.simulate(&mut rng, Shape::Genesys, date, self.volume(0.35));
        self.counts.genesys_contacts += sims.len() as u64;
        let next_midnight = Utc.from_utc_datetime(
            &(date + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
        );
        let exported_at = if d + 1 == self.opts.days {
            next_midnight
        } else {
            next_midnight + Duration::hours(2)
        };
        self.counts.open_conversations +=
            sims.iter().filter(|c| c.end() > exported_at).count() as u64;
        let dir = genesys::Directory {
            queues: &self.g_queues,
            agents: &self.g_agents,
            customers: &self.customers,
            division_id: &self.division,
            exported_at,
        };
        let records: Vec<Value> = sims
            .iter()
            .map(|c| genesys::render(&mut rng, c, &dir, &mut self.planted))
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
            self.w.write(
                "genesys",
                &format!(
                    "genesys/{ds}/conversation_details_job_{}_page_{:03}.json",
                    &job[..8],
                    p + 1
                ),
                &json_bytes(&body, pretty),
            )?;
        }

        Ok(())
    }

    fn cxone_day(&mut self, d: u32, date: NaiveDate, ds: &str) -> Result<(), GenerateError> {
        // CXone: one completed-contacts response per day; gzip on alternate days, and once
        // without a .gz name, as a download tool saved it.
        let mut rng = stream(self.opts.seed, "cxone", d);
        let sims = self.simulate(&mut rng, Shape::Cxone, date, self.volume(0.25));
        self.counts.cxone_contacts += sims.len() as u64;
        let dialect = cxone::Dialect {
            renamed_fields: d >= self.cxone_rename_index,
        };
        let records: Vec<Value> = sims
            .iter()
            .map(|c| {
                self.cxone_id += rng.random_range(1..40);
                cxone::render(
                    &mut rng,
                    c,
                    self.cxone_id,
                    &self.c_queues,
                    &self.c_agents,
                    &self.customers,
                    dialect,
                    &mut self.planted,
                )
            })
            .collect();
        let polled = Utc.from_utc_datetime(
            &(date + Duration::days(1))
                .and_hms_opt(2, 15, 0)
                .unwrap_or_default(),
        );
        if date == self.reexport_day {
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
            self.counts.reexported_contacts += again.len() as u64;
            let body = json_bytes(&cxone::envelope(again, 4_600_123, later), false);
            self.w.write(
                "redelivered",
                &format!("redelivered/completed_contacts_{ds}_reexport.json"),
                &body,
            )?;
        }
        let body = json_bytes(&cxone::envelope(records, 4_600_123, polled), false);
        match d % 2 {
            0 => self.w.write(
                "cxone",
                &format!("cxone/completed_contacts_{ds}.json"),
                &body,
            )?,
            _ if d == 3 => self.w.write(
                "cxone",
                &format!("cxone/completed_contacts_{ds}.json"),
                &gzip(&body),
            )?,
            _ => self.w.write(
                "cxone",
                &format!("cxone/completed_contacts_{ds}.json.gz"),
                &gzip(&body),
            )?,
        }

        Ok(())
    }

    fn connect_day(&mut self, d: u32, date: NaiveDate, ds: &str) -> Result<(), GenerateError> {
        // Amazon Connect: CTRs streamed through Kinesis Data Firehose (written out by hour
        // below, since deliveries cross midnight), and one contact in ten also raised
        // EventBridge contact events, exported per day.
        let mut rng = stream(self.opts.seed, "connect", d);
        let sims = self.simulate(&mut rng, Shape::Connect, date, self.volume(0.2));
        self.counts.connect_contacts += sims.len() as u64;
        let dir = connect::Directory {
            queues: &self.a_queues,
            agents: &self.a_agents,
            customers: &self.customers,
            instance_arn: &self.instance_arn,
            account: ACCOUNT,
        };
        let mut events = String::new();
        for c in &sims {
            let with_events = rng.random_bool(0.1);
            let (deliveries, evs) =
                connect::render(&mut rng, c, &dir, with_events, &mut self.planted);
            self.counts.connect_updates += deliveries.len().saturating_sub(1) as u64;
            self.ctr_deliveries.extend(deliveries);
            for e in evs {
                events.push_str(&serde_json::to_string(&e).unwrap_or_default());
                events.push('\n');
                self.counts.contact_events += 1;
            }
        }
        if !events.is_empty() {
            self.w.write(
                "connect_events",
                &format!("connect/events/contact_events_{ds}.json"),
                events.as_bytes(),
            )?;
        }

        Ok(())
    }

    fn generic_day(&mut self, d: u32, date: NaiveDate, ds: &str) -> Result<u64, GenerateError> {
        // Generic feed: gzip NDJSON with agent-state events mixed in, a few broken lines and a
        // few records that lost their timestamp.
        let mut rng = stream(self.opts.seed, "generic", d);
        let sims = self.simulate(&mut rng, Shape::Generic, date, self.volume(0.2));
        let feed = generic::Feed {
            drifted: d >= self.drift_day_index,
        };
        let mut lines: Vec<(chrono::DateTime<Utc>, String)> = Vec::with_capacity(sims.len() * 2);
        for (i, c) in sims.iter().enumerate() {
            let mut r = generic::render(
                &mut rng,
                c,
                i + 1,
                &self.x_queues,
                &self.x_agents,
                &self.customers,
                feed,
                &mut self.planted,
            );
            // Roughly one contact in 400 lost its timestamp on the way out of the dialer.
            if (self.counts.generic_contacts + 1) % 397 == 200 {
                r.remove("timestamp");
                self.counts.records_without_time += 1;
            }
            self.counts.generic_contacts += 1;
            lines.push((c.start, serde_json::to_string(&r).unwrap_or_default()));
        }
        let midnight = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
        for (i, a) in self.x_agents.iter().enumerate() {
            for k in 0..6 {
                let at = midnight + Duration::seconds(rng.random_range(11 * 3600..24 * 3600));
                let r = generic::agent_state(&mut rng, a, at, i * 10 + k);
                lines.push((at, serde_json::to_string(&r).unwrap_or_default()));
                self.counts.agent_state_events += 1;
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
                self.counts.malformed_lines += 1;
            }
        }
        let gz = gzip(text.as_bytes());
        let name = format!("generic/contact_events_{ds}.ndjson.gz");
        self.w.write("generic", &name, &gz)?;
        if date == self.redelivered_day {
            // The same file delivered twice: ingest must notice and write nothing.
            self.w.write(
                "redelivered",
                &format!("redelivered/contact_events_{ds}.ndjson.gz"),
                &gz,
            )?;
        }
        Ok(lines.len() as u64)
    }

    /// The Connect CTR objects.
    pub(super) fn firehose(&mut self) -> Result<(), GenerateError> {
        // Firehose flushes its buffer into one object per hour (the buffer interval), records
        // back to back with no separator, gzip-compressed.
        self.ctr_deliveries.sort_by_key(|x| x.at);
        let mut rng = stream(self.opts.seed, "firehose", 0);
        for hour in self.ctr_deliveries.chunk_by(|a, b| {
            a.at.format("%Y%m%d%H").to_string() == b.at.format("%Y%m%d%H").to_string()
        }) {
            // `chunk_by` yields no empty slice; the buffer flushed after its last record.
            let last = hour[hour.len() - 1].at;
            let flushed = last + Duration::seconds(rng.random_range(1..60));
            let mut body = Vec::new();
            for x in hour {
                body.extend(serde_json::to_vec(&x.record).unwrap_or_default());
            }
            let key = connect::firehose_key("cclake-ctr-stream", flushed, &people::uuid(&mut rng));
            self.w
                .write("connect", &format!("connect/ctr/{key}"), &gzip(&body))?;
        }

        Ok(())
    }

    /// The late delivery.
    pub(super) fn late_delivery(&mut self) -> Result<(), GenerateError> {
        // Late delivery: more conversations from an early day, arriving after everything else.
        let late_index = (self.late_day - self.opts.start).num_days() as u32;
        let mut rng = stream(self.opts.seed, "late", late_index);
        let late: Vec<SimContact> = {
            // A late delivery is an ordinary day's, not the incident's.
            let volume = (self.volume(0.35) / 8).max(1);
            let (q, a) = (&self.g_queues, &self.g_agents);
            simulate_day(
                &mut rng,
                Shape::Genesys,
                q,
                a,
                &self.customer_pick,
                self.late_day,
                volume,
                None,
            )
        };
        self.counts.late_contacts = late.len() as u64;
        let dir = genesys::Directory {
            queues: &self.g_queues,
            agents: &self.g_agents,
            customers: &self.customers,
            division_id: &self.division,
            exported_at: Utc.from_utc_datetime(
                &(self.opts.start + Duration::days(i64::from(self.opts.days) + 1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            ),
        };
        let records: Vec<Value> = late
            .iter()
            .map(|c| genesys::render(&mut rng, c, &dir, &mut self.planted))
            .collect();
        let body = json!({"conversations": records, "totalHits": records.len(), "cursor": null});
        self.w.write(
            "late",
            &format!(
                "late/genesys_late_delivery_{}.json",
                self.late_day.format("%Y-%m-%d")
            ),
            &json_bytes(&body, false),
        )?;
        Ok(())
    }

    /// The CRM extract.
    pub(super) fn crm(&mut self) -> Result<(), GenerateError> {
        // CRM extract keyed by phone.
        let crm = crm_csv(&self.customers, &mut stream(self.opts.seed, "crm", 0));
        self.counts.crm_rows = crm.lines().count().saturating_sub(1) as u64;
        self.w.write("crm", "crm/customers.csv", crm.as_bytes())?;
        Ok(())
    }

    /// The summary, also written as the hidden manifest beside the exports.
    pub(super) fn finish(self) -> Result<GenerateSummary, GenerateError> {
        let (opts, days) = (self.opts, self.opts.days);
        let g_queues = &self.g_queues;
        let summary = GenerateSummary {
            options: opts.clone(),
            counts: self.counts,
            files: self.w.files,
            incident: self.incident.map(|i| IncidentInfo {
                system: "genesys".into(),
                queue: g_queues[i.queue].name.to_string(),
                date: i.date,
                utc_hours: format!("{:02}:00-{:02}:00 UTC", i.hours.0, i.hours.1),
            }),
            planted_pii: self.planted,
            redelivered_day: self.redelivered_day,
            late_day: self.late_day,
            drift_from: opts.start + Duration::days(i64::from(self.drift_day_index.min(days - 1))),
        };
        let manifest = serde_json::to_vec_pretty(&summary).unwrap_or_default();
        let path = opts.out.join(MANIFEST);
        std::fs::write(&path, manifest).map_err(|source| GenerateError::Write { path, source })?;
        Ok(summary)
    }
}
