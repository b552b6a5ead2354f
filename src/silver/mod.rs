//! Silver: one clean row per contact in the `silver/contacts` Delta table, built from Bronze.
//!
//! A run has three phases. [`plan`] picks the dates to rebuild (incremental runs: the dates
//! that received Bronze files since the last successful run) and their Bronze files, from the
//! ingest ledger. [`build`] turns one date's files into rows: each record mapped to the
//! canonical columns ([`canonical`]), PII masked per the lake's policy ([`masking`]), CRM
//! columns joined in, duplicates of a contact reduced to the copy updated or ingested last.
//! [`commit`] replaces the dates' partitions atomically (Delta replaceWhere), with the schema
//! drift seen on the way in `silver/schema_drift`, and records the run.

pub mod build;
pub mod canonical;
pub mod commit;
pub mod crm;
pub mod digest;
pub mod drift;
pub mod error;
pub mod id_pattern;
pub mod key_record;
pub mod masking;
pub mod pii;
pub mod plan;
pub mod record;
pub mod rejects;
pub mod repair;
pub mod review;
pub mod row;
pub mod status_map;
pub mod table;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::lake::Lake;
use crate::progress::JobProgress;
pub use build::Settings;
use build::{build_date, read_date};
use commit::{ROWS_PER_COMMIT, Tables};
use digest::HmacKey;
use masking::ColumnCounts;
pub use plan::SilverPlan;

pub use commit::last_masking_counts;
pub use error::SilverError;
pub use plan::ProcessMode;

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessSummary {
    /// Dates each cluster executor built (empty when built in this process).
    pub executors: BTreeMap<String, u64>,
    pub dates: Vec<NaiveDate>,
    pub rows_in: u64,
    pub rows_out: u64,
    pub duplicates_dropped: u64,
    /// Records set aside (`silver/rejects`): rows_in = rows_out + duplicates_dropped + rejected.
    pub rejected: u64,
    pub masked: BTreeMap<String, ColumnCounts>,
    pub rows_with_rescued_data: u64,
    pub rescued_fields: u64,
    pub drift_observations: u64,
    pub unmapped_statuses: u64,
    pub crm_rows: usize,
    pub crm_matched: u64,
    pub policy_version: String,
    pub masking_enabled: bool,
    pub silver_version: Option<u64>,
    pub elapsed_secs: f64,
    /// Dates that would have been rebuilt but hold Bronze that lifecycle expired: their Silver
    /// rows stay as they were built from the whole of their Bronze.
    pub frozen_dates: Vec<NaiveDate>,
    /// How the run's key stood against the lake's key record.
    #[serde(skip)]
    pub key_check: Option<key_record::KeyCheck>,
}

/// Builds dates somewhere else than this process (a cluster's executors): each date's rows
/// are written to the lake as Parquet files there, and come back as what the commit needs.
#[async_trait::async_trait]
pub trait RemoteBuilder: Send + Sync {
    /// Builds `group`'s dates from their Bronze files in `plan`, one result per date.
    async fn build(
        &self,
        lake: &Lake,
        settings: &Settings,
        plan: &SilverPlan,
        group: &[NaiveDate],
        progress: &JobProgress,
    ) -> Vec<Result<build::DateBuild, SilverError>>;
}

/// Builds Silver from Bronze with the HMAC key `key`. Runs on tokio's multi-thread runtime
/// (it uses `block_in_place` for the CPU-bound part).
pub async fn process(
    lake: &Lake,
    mode: ProcessMode,
    key: HmacKey,
    progress: &JobProgress,
) -> Result<ProcessSummary, SilverError> {
    process_on(lake, mode, key, None, progress).await
}

/// [`process`], with the dates built by `remote` when one is given.
pub async fn process_on(
    lake: &Lake,
    mode: ProcessMode,
    key: HmacKey,
    remote: Option<&dyn RemoteBuilder>,
    progress: &JobProgress,
) -> Result<ProcessSummary, SilverError> {
    let started = std::time::Instant::now();
    let lease = lake.writer_lease("process").await?;
    progress.set_stage("checking the key");
    // Before anything is written: a key that is not the lake's would split every customer.
    let key_check = key_record::check(lake, &key).await?;
    // The target of a rotation rebuilds everything under the new key.
    let mode = match key_check {
        key_record::KeyCheck::Rotating => ProcessMode::Full,
        _ => mode,
    };
    progress.set_stage("reading settings");
    let settings = Settings::load(lake, key).await?;
    let state = commit::read_state(lake).await?;
    let plan = SilverPlan::load(lake, mode, &state).await?;
    let stage = format!("building Silver for {} dates", plan.dates.len());
    progress.begin_stage(stage, plan.records());

    let summary = ProcessSummary {
        policy_version: settings.masker.policy.version.clone(),
        masking_enabled: settings.masker.enabled(),
        crm_rows: settings.crm.rows,
        frozen_dates: plan.frozen.clone(),
        ..Default::default()
    };
    let mut tables = Tables::open(lake, summary).await?;
    if remote.is_some() {
        // Executors write files with the table's settings: the table must exist first.
        tables.create_contacts().await?;
    }
    let rt = tokio::runtime::Handle::current();
    let build = |group: &[NaiveDate]| {
        let t = std::time::Instant::now();
        let built: Vec<_> = match remote {
            Some(r) => rt.block_on(r.build(lake, &settings, &plan, group, progress)),
            None => (group.par_iter())
                .map(|d| {
                    let t = std::time::Instant::now();
                    let files = read_date(&plan, &rt, d)?;
                    let read_ms = t.elapsed().as_millis() as u64;
                    tracing::debug!(date = %d, files = files.len(), read_ms, "read Bronze");
                    build_date(&settings, *d, &files, progress)
                })
                .collect(),
        };
        tracing::info!(
            dates = group.len(),
            secs = t.elapsed().as_secs_f64(),
            "built rows"
        );
        built
    };
    let groups = plan.groups(ROWS_PER_COMMIT);
    let masker = &settings.masker;
    let tables = commit::build_and_commit(groups, build, tables, masker, &lease, progress)?;
    let version = tables.version();
    let mut summary = tables.summary;
    commit::record_run(lake, state, &plan, mode, &summary).await?;
    // The workers' phone memos hold hashes of this run's callers; the app would keep them
    // alive until the next run.
    tokio::task::block_in_place(|| rayon::broadcast(|_| pii::clear_thread_phone_cache()));
    summary.silver_version = version;
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    summary.key_check = Some(key_check);
    Ok(summary)
}
