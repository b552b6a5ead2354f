//! Gold: daily and hourly queue KPIs (SPEC §4) computed from Silver.
//!
//! Gold follows Silver through the Silver table's Delta log: every Silver commit since the
//! version Gold last consumed names, in its add and remove actions, the UTC dates whose rows
//! changed. Those dates, mapped to reporting-zone dates and widened by the FCR window before
//! them, are recomputed and replaced atomically (replaceWhere); every other Gold date keeps its
//! files. Because the recompute reads the whole of Silver that can influence a date, any
//! sequence of incremental runs gives the same Gold as a full rebuild. A change of the KPI
//! settings (time zone, thresholds, window) makes the next run a full rebuild.

mod aggregate;
mod compute;
mod facts;
pub mod health;
mod plan;
pub mod read;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::zone::ReportingZone;
use crate::config::{self, ConfigError, PipelineConfig};
use crate::lake::delta::{self, GOLD_DAILY, GOLD_HOURLY, SILVER_CONTACTS};
use crate::lake::{Lake, LakeError};
use crate::progress::JobProgress;
pub use compute::{DAILY_SCHEMA, HOURLY_SCHEMA};

/// Where Gold remembers the Silver version and settings it was last built from.
const STATE_FILE: &str = "gold/_cclake_state.json";
/// Bumped when a formula changes, so lakes built by an older version rebuild in full.
const FORMULA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum GoldError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("_config/pipeline.toml: {0}")]
    Settings(String),
    #[error("Delta table {table}: {source}")]
    Delta {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error("computing Gold for {dates}: {source}")]
    Query {
        dates: String,
        source: datafusion::error::DataFusionError,
    },
    #[error("shaping Gold rows: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("Gold cancelled before its commit; the next run recomputes the same dates")]
    Cancelled,
}

/// Which Gold dates to recompute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoldMode {
    /// The dates Silver changed since Gold's last run (plus the FCR window before them).
    Incremental,
    /// Every date.
    Full,
}

/// What a Gold run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GoldSummary {
    /// Reporting-zone dates recomputed.
    pub dates: Vec<NaiveDate>,
    /// The per-contact query ran on a cluster.
    pub on_cluster: bool,
    pub full_rebuild: bool,
    /// Why the run did what it did, in words.
    pub reason: String,
    pub daily_rows: u64,
    pub hourly_rows: u64,
    pub silver_version: Option<u64>,
    pub daily_version: Option<u64>,
    pub hourly_version: Option<u64>,
    pub elapsed_secs: f64,
}

/// The settings the KPIs depend on.
#[derive(Debug, Clone)]
pub struct KpiSettings {
    pub zone: ReportingZone,
    pub service_level_seconds: f64,
    pub short_abandon_seconds: f64,
    pub fcr_window_days: u32,
}

impl KpiSettings {
    pub fn from_pipeline(p: &PipelineConfig) -> Result<Self, GoldError> {
        let zone = ReportingZone::parse(&p.reporting_timezone).map_err(GoldError::Settings)?;
        for (name, v) in [
            ("service_level_seconds", p.service_level_seconds),
            ("short_abandon_seconds", p.short_abandon_seconds),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(GoldError::Settings(format!(
                    "{name} must be a number of seconds ≥ 0, not {v}"
                )));
            }
        }
        Ok(KpiSettings {
            zone,
            service_level_seconds: p.service_level_seconds,
            short_abandon_seconds: p.short_abandon_seconds,
            fcr_window_days: p.fcr_window_days,
        })
    }

    /// Identifies the settings in Gold's state: a change forces a full rebuild.
    fn fingerprint(&self) -> String {
        format!(
            "v{FORMULA_VERSION};tz={};sl={};short={};fcr={}",
            self.zone.name(),
            self.service_level_seconds,
            self.short_abandon_seconds,
            self.fcr_window_days
        )
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct GoldState {
    pub(crate) silver_version: Option<u64>,
    pub(crate) settings: String,
    last_run: Option<DateTime<Utc>>,
}

/// Runs Gold's per-contact query somewhere else than this process (a cluster): the plan reads
/// Silver's active Parquet files and calls the reporting zone's functions.
#[async_trait::async_trait]
pub trait RemoteQuery: Send + Sync {
    async fn collect(
        &self,
        plan: std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
        settings: &KpiSettings,
    ) -> datafusion::error::Result<Vec<arrow::array::RecordBatch>>;
}

/// Builds Gold from Silver: plans the dates, computes them in clusters that share a scan of
/// Silver, replaces them in both tables, and records the Silver version consumed.
pub async fn build(
    lake: &Lake,
    mode: GoldMode,
    progress: &JobProgress,
) -> Result<GoldSummary, GoldError> {
    build_on(lake, mode, None, progress).await
}

/// [`build`], with the per-contact query run by `remote` when one is given; the aggregation
/// and the commits stay here.
pub async fn build_on(
    lake: &Lake,
    mode: GoldMode,
    remote: Option<&dyn RemoteQuery>,
    progress: &JobProgress,
) -> Result<GoldSummary, GoldError> {
    let started = std::time::Instant::now();
    let _lease = lake.writer_lease("process").await?;
    progress.set_stage("Gold: reading settings");
    let settings = KpiSettings::from_pipeline(&config::load_pipeline(lake).await?)?;
    // The three tables' logs are read at once (each is a round of small reads).
    let (silver, daily, hourly, state) = tokio::try_join!(
        open(lake, SILVER_CONTACTS),
        open(lake, GOLD_DAILY),
        open(lake, GOLD_HOURLY),
        read_state(lake),
    )?;
    let mut state = state;
    let mut summary = GoldSummary {
        silver_version: silver.version(),
        ..Default::default()
    };
    if !delta::exists(&silver) {
        summary.reason = "Silver is empty; nothing to compute".into();
        return Ok(summary);
    }
    let gold_exists = delta::exists(&daily) && delta::exists(&hourly);
    let fingerprint = settings.fingerprint();
    let input = plan::PlanInput {
        mode,
        tables: [&silver, &daily, &hourly],
        state: &state,
        silver_version: silver.version(),
        gold_exists,
        fingerprint: &fingerprint,
    };
    let Some(plan) = plan::plan(lake, &settings, input).await? else {
        summary.reason = format!(
            "Gold is up to date with Silver version {}",
            state.silver_version.unwrap_or(0)
        );
        (summary.daily_version, summary.hourly_version) = (daily.version(), hourly.version());
        return Ok(summary);
    };
    (summary.full_rebuild, summary.reason) = (plan.full, plan.reason);
    summary.on_cluster = remote.is_some();
    let dates: Vec<NaiveDate> = plan.dates.into_iter().collect();
    tracing::debug!(
        planned_ms = started.elapsed().as_millis() as u64,
        "Gold: planned"
    );
    let (d, h) = compute::compute_all(
        lake,
        &silver,
        &settings,
        &dates,
        remote,
        progress,
        &mut summary,
    )
    .await?;
    progress.set_stage("Gold: committing");
    let computed = started.elapsed();
    let mut meta = Map::new();
    meta.insert("cclake.operation".into(), Value::from("gold.build"));
    meta.insert(
        "cclake.silver_version".into(),
        Value::from(silver.version()),
    );
    meta.insert("cclake.settings".into(), Value::from(fingerprint.clone()));
    if !dates.is_empty() {
        // Two tables, two commits, written side by side.
        let (daily, hourly) = tokio::try_join!(
            commit(daily, GOLD_DAILY, &DAILY_SCHEMA, d, &dates, &meta),
            commit(hourly, GOLD_HOURLY, &HOURLY_SCHEMA, h, &dates, &meta),
        )?;
        (summary.daily_version, summary.hourly_version) = (daily.version(), hourly.version());
    }
    // Only now is this Silver version consumed: a run that died above recomputes the dates.
    state.silver_version = silver.version();
    state.settings = fingerprint;
    state.last_run = Some(Utc::now());
    write_state(lake, &state).await?;
    summary.dates = dates;
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    tracing::debug!(
        computed_ms = computed.as_millis() as u64,
        commit_ms = (started.elapsed() - computed).as_millis() as u64,
        "Gold: built"
    );
    Ok(summary)
}

async fn open(lake: &Lake, rel: &'static str) -> Result<deltalake::DeltaTable, GoldError> {
    delta::open(lake, rel)
        .await
        .map_err(|source| GoldError::Delta { table: rel, source })
}

async fn commit(
    table: deltalake::DeltaTable,
    rel: &'static str,
    schema: &SchemaRef,
    mut batches: Vec<RecordBatch>,
    dates: &[NaiveDate],
    meta: &Map<String, Value>,
) -> Result<deltalake::DeltaTable, GoldError> {
    if batches.is_empty() {
        // The dates lost all their contacts: the replace then only removes their rows.
        batches.push(RecordBatch::new_empty(schema.clone()));
    }
    delta::replace_dates(table, batches, dates, meta.clone())
        .await
        .map_err(|source| GoldError::Delta { table: rel, source })
}

/// Gold's state; a damaged state file reads as none, so Gold is rebuilt in full from Silver
/// (all Gold is derived from it) and the file written anew.
async fn read_state(lake: &Lake) -> Result<GoldState, GoldError> {
    match lake.get_json(STATE_FILE).await {
        Ok(state) => Ok(state.unwrap_or_default()),
        Err(e @ LakeError::Garbled { .. }) => {
            tracing::warn!("{e}; Gold is rebuilt in full from Silver");
            Ok(GoldState::default())
        }
        Err(e) => Err(e.into()),
    }
}

async fn write_state(lake: &Lake, state: &GoldState) -> Result<(), GoldError> {
    Ok(lake.put_json(STATE_FILE, state).await?)
}
