//! One Silver date as a cluster task: what the client sends (the date's Bronze files, the
//! lake, the key's fingerprint; never the key) and what an executor sends back (the Parquet
//! files it wrote as Delta add actions, the tallies, the drift with its examples already
//! scrubbed; never a row).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::lake::Lake;
use crate::lake::delta::{self, SILVER_CONTACTS};
use crate::lake::tiers::BronzeLocator;
use crate::progress::JobProgress;
use crate::silver::build::{BronzeFile, DateBuild, DateRows, Reject, Settings, build_date};
use crate::silver::digest::HmacKey;
use crate::silver::drift::{self, DriftCollector, DriftKind, Observation};
use crate::silver::masking::ColumnCounts;
use crate::silver::pii::PhoneCache;
use crate::silver::table::CONTACTS_SCHEMA;
use crate::silver::{SilverError, SilverPlan};
use crate::sources::Shape;

/// The Silver dates of one job, one task each.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SilverTasks {
    /// The lake, as its location (each executor opens it with its own credentials).
    pub lake: String,
    /// Fingerprint of the lake's HMAC key: an executor whose own key differs refuses.
    pub fingerprint: String,
    pub dates: Vec<DateTask>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DateTask {
    pub date: NaiveDate,
    pub files: Vec<TaskFile>,
}

/// A Bronze file of the date, with the lineage its rows carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskFile {
    pub path: String,
    pub source_path: String,
    pub ingested_at: DateTime<Utc>,
    pub ingest_order: (DateTime<Utc>, u64),
    pub records: u64,
}

/// What one date's task did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DateResult {
    pub date: NaiveDate,
    /// The Parquet files written to the contacts table's folder, not yet committed.
    pub adds: Vec<deltalake::kernel::Add>,
    pub rows: u64,
    pub rows_in: u64,
    pub duplicates: u64,
    pub rows_with_rescued: u64,
    pub rescued_fields: u64,
    pub crm_matched: u64,
    pub masked: BTreeMap<String, ColumnCounts>,
    pub drift: Vec<(Shape, String, DriftKind, Observation)>,
    /// Records set aside (their reasons carry no values).
    #[serde(default)]
    pub rejects: Vec<Reject>,
    /// Which executor built it (host and process).
    pub executor: String,
}

impl SilverTasks {
    /// The tasks of `group`'s dates from the plan's Bronze files.
    pub fn new(
        lake: &Lake,
        fingerprint: &str,
        plan: &SilverPlan,
        group: &[NaiveDate],
    ) -> SilverTasks {
        let dates = (group.iter())
            .map(|d| DateTask {
                date: *d,
                files: (plan.files(d).iter())
                    .map(|r| {
                        let entry = &plan.ledger[r.ledger];
                        TaskFile {
                            path: r.path.clone(),
                            source_path: entry.source_path.clone(),
                            ingested_at: entry.ingested_at,
                            ingest_order: entry.ingest_order(),
                            records: r.records,
                        }
                    })
                    .collect(),
            })
            .collect();
        SilverTasks {
            lake: lake.location().to_string(),
            fingerprint: fingerprint.to_string(),
            dates,
        }
    }
}

impl DateResult {
    /// The build the client commits.
    pub fn into_build(self) -> DateBuild {
        let mut collector = DriftCollector::default();
        for (shape, field, kind, obs) in self.drift {
            collector.seen.insert((shape, field, kind), obs);
        }
        DateBuild {
            date: self.date,
            rows: DateRows::Written {
                adds: self.adds,
                rows: self.rows,
            },
            rows_in: self.rows_in,
            duplicates: self.duplicates,
            rows_with_rescued: self.rows_with_rescued,
            rescued_fields: self.rescued_fields,
            crm_matched: self.crm_matched,
            masked: self.masked,
            drift: collector,
            rejects: self.rejects,
            built_by: Some(self.executor),
        }
    }
}

/// This executor's name in results and logs.
pub fn executor_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// Runs one date's task on an executor: its own key (checked against the lake's
/// fingerprint), the date's Bronze files read from the lake, the rows built exactly as a
/// single process builds them, written as Parquet files into the contacts table's folder.
pub async fn run_date(
    lake_location: &str,
    fingerprint: &str,
    task: &DateTask,
) -> Result<DateResult, SilverError> {
    let key = HmacKey::from_environment().map_err(|e| {
        SilverError::Cluster(format!("executor {} has no HMAC key: {e}", executor_name()))
    })?;
    if key.fingerprint() != fingerprint {
        return Err(SilverError::Cluster(format!(
            "executor {}'s HMAC key (fingerprint {}) is not the lake's (fingerprint {}); give \
             every executor the lake's key",
            executor_name(),
            &key.fingerprint()[..16],
            &fingerprint[..16.min(fingerprint.len())]
        )));
    }
    let lake = Lake::open(lake_location)?;
    let settings = Settings::load(&lake, key).await?;
    let files = read_files(&lake, task).await?;
    let date = task.date;
    let built =
        tokio::task::block_in_place(|| build_date(&settings, date, &files, &JobProgress::new()))?;
    let DateRows::Batches(batches) = built.rows else {
        return Err(SilverError::Cancelled);
    };
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    let table = delta::open(&lake, SILVER_CONTACTS)
        .await
        .map_err(|source| SilverError::Delta {
            table: SILVER_CONTACTS,
            source,
        })?;
    let delta_err = |source| SilverError::Delta {
        table: SILVER_CONTACTS,
        source,
    };
    let config = delta::date_writer_config(
        &table,
        Arc::clone(&CONTACTS_SCHEMA),
        delta::silver_writer_properties(),
    )
    .map_err(delta_err)?;
    let date_col = CONTACTS_SCHEMA
        .index_of("date")
        .map_err(|e| SilverError::Arrow { date, source: e })?;
    let store = table.log_store().object_store(None);
    let adds = delta::write_date_files(store, config, date_col, date, batches)
        .await
        .map_err(delta_err)?;
    // Examples leave the executor scrubbed: raw values never travel.
    let mut phones = PhoneCache::default();
    let drift = (built.drift.seen.into_iter())
        .map(|((shape, field, kind), mut obs)| {
            obs.example = (obs.example.as_ref())
                .map(|e| drift::excerpt(settings.masker.scrub(e, &mut phones).0));
            (shape, field, kind, obs)
        })
        .collect();
    Ok(DateResult {
        date,
        adds,
        rows,
        rows_in: built.rows_in,
        duplicates: built.duplicates,
        rows_with_rescued: built.rows_with_rescued,
        rescued_fields: built.rescued_fields,
        crm_matched: built.crm_matched,
        masked: built.masked,
        drift,
        rejects: built.rejects,
        executor: executor_name(),
    })
}

async fn read_files(lake: &Lake, task: &DateTask) -> Result<Vec<BronzeFile>, SilverError> {
    let locator = BronzeLocator::load(lake).await?;
    let mut out = Vec::with_capacity(task.files.len());
    for f in &task.files {
        let err = |message: String| SilverError::Bronze {
            path: f.path.clone(),
            message,
        };
        let bytes =
            (locator.get(&f.path).await?).ok_or_else(|| err("deleted by lifecycle".into()))?;
        let text = crate::lake::gzip::gunzip(&bytes).map_err(|e| err(e.to_string()))?;
        out.push(BronzeFile {
            path: f.path.clone(),
            source_path: f.source_path.clone(),
            ingested_at: f.ingested_at,
            ingest_order: f.ingest_order,
            records: f.records,
            text,
        });
    }
    Ok(out)
}
