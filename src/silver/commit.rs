//! Committing a Silver run: each group of built dates replaces its date partitions of
//! `silver/contacts` and `silver/schema_drift` in one Delta commit each (replaceWhere), while
//! the next group is built; then the run's state records the inputs it built from.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ProcessSummary;
use super::build::{DateBuild, DateRows};
use super::drift::{self, DriftKind};
use super::error::SilverError;
use super::masking::{ColumnCounts, Masker};
use super::pii::PhoneCache;
use super::plan::{ProcessMode, SilverPlan};
use super::table::{self, DriftRow};
use crate::lake::Lake;
use crate::lake::delta::{self, SILVER_CONTACTS, SILVER_DRIFT, SILVER_REJECTS};
use crate::lake::lease::WriterLease;
use crate::progress::JobProgress;
use crate::sources::Shape;

/// Where Silver remembers which ingested inputs it has already built from.
const STATE_FILE: &str = "silver/_cclake_state.json";
/// Bronze records gathered before a commit: bounds memory while keeping commits few.
pub const ROWS_PER_COMMIT: u64 = 150_000;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SilverState {
    /// SHA-256 of every ingested input whose dates Silver has been rebuilt from.
    pub processed: BTreeSet<String>,
    last_run: Option<DateTime<Utc>>,
    /// What masking did per column in the last run that rebuilt any date, and under which
    /// policy: the compliance pane shows it beside the rules.
    #[serde(default)]
    last_masked: BTreeMap<String, ColumnCounts>,
    #[serde(default)]
    last_policy_version: String,
}

/// Per-column masking counts of the last Silver run that rebuilt dates, with its policy version.
pub async fn last_masking_counts(
    lake: &Lake,
) -> Result<(BTreeMap<String, ColumnCounts>, String), SilverError> {
    let s = read_state(lake).await?;
    Ok((s.last_masked, s.last_policy_version))
}

/// Silver's state; a damaged state file reads as none, so the next incremental run rebuilds
/// every date from Bronze (Silver is derived from it) and writes the file anew.
pub async fn read_state(lake: &Lake) -> Result<SilverState, SilverError> {
    match lake.get_json(STATE_FILE).await {
        Ok(state) => Ok(state.unwrap_or_default()),
        Err(e @ crate::lake::LakeError::Garbled { .. }) => {
            tracing::warn!("{e}; every Silver date is rebuilt from Bronze");
            Ok(SilverState::default())
        }
        Err(e) => Err(e.into()),
    }
}

async fn write_state(lake: &Lake, state: &SilverState) -> Result<(), SilverError> {
    Ok(lake.put_json(STATE_FILE, state).await?)
}

/// The Silver tables and the run's summary, handed from one commit to the next.
pub struct Tables {
    contacts: deltalake::DeltaTable,
    drift: deltalake::DeltaTable,
    rejects: deltalake::DeltaTable,
    pub summary: ProcessSummary,
}

impl Tables {
    pub async fn open(lake: &Lake, summary: ProcessSummary) -> Result<Tables, SilverError> {
        let open = |table: &'static str| async move {
            delta::open(lake, table)
                .await
                .map_err(|source| SilverError::Delta { table, source })
        };
        // The logs read at once: each is a round of small reads.
        let (contacts, drift, rejects) = tokio::try_join!(
            open(SILVER_CONTACTS),
            open(SILVER_DRIFT),
            open(SILVER_REJECTS)
        )?;
        Ok(Tables {
            contacts,
            drift,
            rejects,
            summary,
        })
    }

    /// Creates the contacts table, empty, partitioned by date, when it does not exist yet.
    pub async fn create_contacts(&mut self) -> Result<(), SilverError> {
        if delta::exists(&self.contacts) {
            return Ok(());
        }
        let table = std::mem::replace(&mut self.contacts, deltalake::DeltaTable::new_in_memory());
        self.contacts = delta::create(table, super::table::CONTACTS_SCHEMA.clone())
            .await
            .map_err(|source| SilverError::Delta {
                table: SILVER_CONTACTS,
                source,
            })?;
        Ok(())
    }

    /// The contacts table's version after the run's commits.
    pub fn version(&self) -> Option<u64> {
        self.contacts.version()
    }
}

/// Builds each group with `build` and commits it, building group N+1 (rayon, CPU) while group
/// N is encoded and committed (a tokio task). The calling task steps aside for the CPU work
/// (block_in_place) so the runtime keeps running the commit. Stops before a group when the
/// job is cancelled or the lease was lost; groups committed stay.
pub fn build_and_commit(
    groups: Vec<Vec<NaiveDate>>,
    build: impl Fn(&[NaiveDate]) -> Vec<Result<DateBuild, SilverError>>,
    tables: Tables,
    masker: &Masker,
    lease: &WriterLease,
    progress: &JobProgress,
) -> Result<Tables, SilverError> {
    let rt = tokio::runtime::Handle::current();
    let join_err = |e: tokio::task::JoinError| SilverError::Bronze {
        path: "(commit task)".into(),
        message: e.to_string(),
    };
    tokio::task::block_in_place(|| {
        let mut tables = Some(tables);
        let mut in_flight: Option<tokio::task::JoinHandle<Result<Tables, SilverError>>> = None;
        for group in groups {
            progress.check().map_err(|_| SilverError::Cancelled)?;
            if !lease.held() {
                return Err(SilverError::LeaseLost);
            }
            let built = build(&group);
            if let Some(h) = in_flight.take() {
                tables = Some(rt.block_on(h).map_err(join_err)??);
            }
            let Some(mut t) = tables.take() else {
                return Err(SilverError::Cancelled);
            };
            let masker = masker.clone();
            in_flight = Some(rt.spawn(async move {
                let started = std::time::Instant::now();
                commit_group(&mut t, &masker, group, built).await?;
                tracing::info!(
                    secs = started.elapsed().as_secs_f64(),
                    "committed Silver dates"
                );
                Ok(t)
            }));
        }
        if let Some(h) = in_flight.take() {
            tables = Some(rt.block_on(h).map_err(join_err)??);
        }
        tables.ok_or(SilverError::Cancelled)
    })
}

/// Records the run: the inputs now built from (only after every commit: a run that died
/// redoes its dates; a range rebuild marks nothing, other dates may still be pending) and
/// what masking did.
pub async fn record_run(
    lake: &Lake,
    mut state: SilverState,
    plan: &SilverPlan,
    mode: ProcessMode,
    summary: &ProcessSummary,
) -> Result<(), SilverError> {
    if matches!(mode, ProcessMode::Incremental | ProcessMode::Full) {
        let inputs = plan.ledger.iter().map(|r| r.sha256.clone());
        state.processed.extend(inputs);
    }
    state.last_run = Some(Utc::now());
    if !summary.dates.is_empty() {
        state.last_masked = summary.masked.clone();
        state.last_policy_version = summary.policy_version.clone();
    }
    write_state(lake, &state).await
}

/// Commits one group of built dates: the contacts and their drift, each one atomic replace.
async fn commit_group(
    tables: &mut Tables,
    masker: &Masker,
    group: Vec<NaiveDate>,
    built: Vec<Result<DateBuild, SilverError>>,
) -> Result<(), SilverError> {
    let processed_at = Utc::now();
    let summary = &mut tables.summary;
    let mut per_date = Vec::with_capacity(built.len());
    let mut drift_rows_owned: Vec<(NaiveDate, Shape, String, DriftKind, drift::Observation)> =
        Vec::new();
    let mut rejects = Vec::new();
    for b in built {
        let b = b?;
        summary.rejected += b.rejects.len() as u64;
        rejects.extend(b.rejects.into_iter().map(|r| (b.date, r)));
        summary.rows_in += b.rows_in;
        summary.rows_out += b.rows.rows();
        summary.duplicates_dropped += b.duplicates;
        summary.rows_with_rescued_data += b.rows_with_rescued;
        summary.rescued_fields += b.rescued_fields;
        summary.crm_matched += b.crm_matched;
        if let Some(executor) = &b.built_by {
            *summary.executors.entry(executor.clone()).or_default() += 1;
        }
        for (col, n) in &b.masked {
            summary.masked.entry(col.clone()).or_default().add(n);
        }
        for ((shape, field, kind), obs) in b.drift.seen {
            if kind == DriftKind::UnmappedStatus {
                summary.unmapped_statuses += obs.count;
            }
            drift_rows_owned.push((b.date, shape, field, kind, obs));
        }
        per_date.push((b.date, b.rows));
    }
    summary.drift_observations += drift_rows_owned.len() as u64;
    let mut phones = PhoneCache::default();
    let scrubbed: Vec<Option<String>> = drift_rows_owned
        .iter()
        .map(|(_, _, _, _, o)| {
            o.example
                .as_ref()
                .map(|e| drift::excerpt(masker.scrub(e, &mut phones).0))
        })
        .collect();
    let drift_rows: Vec<DriftRow<'_>> = drift_rows_owned
        .iter()
        .zip(&scrubbed)
        .map(|((date, shape, field, kind, o), ex)| DriftRow {
            date: *date,
            shape: shape.as_str(),
            field,
            kind: kind.as_str(),
            example: ex.as_deref(),
            first_seen: o.first_seen,
            last_seen: o.last_seen,
            count: o.count,
            processed_at,
        })
        .collect();
    let drift_batch = table::drift_batch(&drift_rows).map_err(|source| SilverError::Arrow {
        date: group[0],
        source,
    })?;

    let reject_refs: Vec<(NaiveDate, &super::build::Reject)> =
        rejects.iter().map(|(d, r)| (*d, r)).collect();
    let rejects_batch =
        table::rejects_batch(&reject_refs, processed_at).map_err(|source| SilverError::Arrow {
            date: group[0],
            source,
        })?;

    let mut meta = Map::new();
    meta.insert("cclake.operation".into(), Value::from("silver.process"));
    meta.insert(
        "cclake.policy_version".into(),
        Value::from(masker.policy.version.clone()),
    );
    meta.insert(
        "cclake.dates".into(),
        Value::from(group.iter().map(|d| d.to_string()).collect::<Vec<_>>()),
    );
    // The replace consumes the table handles; empty handles stand in until they return. The
    // tables are committed side by side: none reads another, and the run is recorded as done
    // only after all of them (a run that dies between them redoes the dates).
    let contacts = std::mem::replace(&mut tables.contacts, deltalake::DeltaTable::new_in_memory());
    let drift = std::mem::replace(&mut tables.drift, deltalake::DeltaTable::new_in_memory());
    let rejected = std::mem::replace(&mut tables.rejects, deltalake::DeltaTable::new_in_memory());
    let contacts = async {
        let committed = commit_contacts(contacts, &group, per_date, meta.clone()).await;
        committed.map_err(|source| SilverError::Delta {
            table: SILVER_CONTACTS,
            source,
        })
    };
    let drift = async {
        let committed = delta::replace_dates(drift, vec![drift_batch], &group, meta.clone()).await;
        committed.map_err(|source| SilverError::Delta {
            table: SILVER_DRIFT,
            source,
        })
    };
    let rejected = async {
        let committed =
            delta::replace_dates(rejected, vec![rejects_batch], &group, meta.clone()).await;
        committed.map_err(|source| SilverError::Delta {
            table: SILVER_REJECTS,
            source,
        })
    };
    (tables.contacts, tables.drift, tables.rejects) = tokio::try_join!(contacts, drift, rejected)?;
    tables.summary.dates.extend(group);
    Ok(())
}

/// Replaces the group's dates in the contacts table: batches built here are written and
/// committed; files a cluster executor wrote are committed as they are.
async fn commit_contacts(
    table: deltalake::DeltaTable,
    group: &[NaiveDate],
    per_date: Vec<(NaiveDate, DateRows)>,
    meta: Map<String, Value>,
) -> Result<deltalake::DeltaTable, deltalake::DeltaTableError> {
    let mut batches = Vec::new();
    let mut adds = Vec::new();
    for (date, rows) in per_date {
        match rows {
            DateRows::Batches(b) => batches.push((date, b)),
            DateRows::Written { adds: a, .. } => adds.extend(a),
        }
    }
    if adds.is_empty() {
        return delta::replace_date_partitions(
            table,
            batches,
            meta,
            delta::silver_writer_properties(),
        )
        .await;
    }
    if !batches.is_empty() {
        return Err(deltalake::DeltaTableError::Generic(
            "a group mixes dates built here with dates written by the cluster".into(),
        ));
    }
    delta::commit_date_files(table, group, adds, meta).await
}
