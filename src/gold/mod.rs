//! Gold: daily and hourly queue KPIs (SPEC §4) computed with DataFusion over Silver.
//!
//! Gold follows Silver through the Silver table's Delta log: every Silver commit since the
//! version Gold last consumed names, in its add and remove actions, the UTC dates whose rows
//! changed. Those dates, mapped to reporting-zone dates and widened by the FCR window before
//! them, are recomputed and replaced atomically (replaceWhere); every other Gold date keeps its
//! files. Because the recompute reads the whole of Silver that can influence a date, any
//! sequence of incremental runs gives the same Gold as a full rebuild. A change of the KPI
//! settings (time zone, thresholds, window) makes the next run a full rebuild.

pub mod read;

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use datafusion::prelude::SessionContext;
use object_store::path::Path;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::zone::ReportingZone;
use crate::config::{self, ConfigError, PipelineConfig};
use crate::lake::delta::{self, GOLD_DAILY, GOLD_HOURLY, SILVER_CONTACTS};
use crate::lake::{Lake, LakeError};
use crate::progress::JobProgress;

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
struct GoldState {
    silver_version: Option<u64>,
    settings: String,
    last_run: Option<DateTime<Utc>>,
}

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The KPI columns shared by both tables, after their keys.
fn kpi_fields() -> Vec<Field> {
    let i = |n: &str| Field::new(n, DataType::Int64, true);
    let f = |n: &str| Field::new(n, DataType::Float64, true);
    vec![
        Field::new("queue_id", DataType::Utf8, true),
        Field::new("queue_name", DataType::Utf8, true),
        i("total_contacts"),
        i("answered_contacts"),
        i("abandoned_contacts"),
        i("short_abandoned_contacts"),
        i("answered_within_sl"),
        f("avg_duration_sec"),
        f("avg_wait_sec"),
        f("service_level_pct"),
        f("abandon_rate_pct"),
        i("fcr_eligible_contacts"),
        i("fcr_resolved_contacts"),
        f("fcr_rate_pct"),
        f("customer_satisfaction_avg"),
        i("csat_responses"),
        Field::new("computed_at", ts(), false),
    ]
}

/// `gold/daily_queue_metrics`.
pub static DAILY_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![Field::new("date", DataType::Date32, false)];
    fields.extend(kpi_fields());
    Arc::new(Schema::new(fields))
});

/// `gold/hourly_queue_metrics`: `hour` is the local clock hour, `hour_start` the UTC instant
/// the hour began (a fall-back day has two hours with clock hour 1).
pub static HOURLY_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![
        Field::new("date", DataType::Date32, false),
        Field::new("hour", DataType::Int32, false),
        Field::new("hour_start", ts(), false),
    ];
    fields.extend(kpi_fields());
    Arc::new(Schema::new(fields))
});

/// Builds Gold from Silver.
pub async fn build(
    lake: &Lake,
    mode: GoldMode,
    progress: &JobProgress,
) -> Result<GoldSummary, GoldError> {
    let started = std::time::Instant::now();
    let _lease = lake.writer_lease("process").await?;
    progress.set_stage("Gold: reading settings");
    let settings = KpiSettings::from_pipeline(&config::load_pipeline(lake).await?)?;
    let silver = delta::open(lake, SILVER_CONTACTS)
        .await
        .map_err(|source| GoldError::Delta {
            table: SILVER_CONTACTS,
            source,
        })?;
    let mut summary = GoldSummary {
        silver_version: silver.version(),
        ..Default::default()
    };
    if !delta::exists(&silver) {
        summary.reason = "Silver is empty; nothing to compute".into();
        return Ok(summary);
    }
    let silver_version = silver.version();
    let mut state = read_state(lake).await?;
    let daily = open(lake, GOLD_DAILY).await?;
    let hourly = open(lake, GOLD_HOURLY).await?;

    let fingerprint = settings.fingerprint();
    let gold_exists = delta::exists(&daily) && delta::exists(&hourly);
    let full_reason = match mode {
        GoldMode::Full => Some("full rebuild requested".to_string()),
        GoldMode::Incremental if !gold_exists || state.silver_version.is_none() => {
            Some("first Gold build".to_string())
        }
        GoldMode::Incremental if state.settings != fingerprint => Some(format!(
            "KPI settings changed ({} → {fingerprint})",
            if state.settings.is_empty() {
                "none"
            } else {
                &state.settings
            }
        )),
        GoldMode::Incremental => None,
    };

    let silver_stats = delta::table_stats(lake, SILVER_CONTACTS)
        .await
        .map_err(|source| GoldError::Delta {
            table: SILVER_CONTACTS,
            source,
        })?;
    let silver_dates: BTreeSet<NaiveDate> = silver_stats
        .partitions
        .iter()
        .filter_map(|p| p.date.parse().ok())
        .collect();

    let mut dates: BTreeSet<NaiveDate> = BTreeSet::new();
    match full_reason {
        Some(reason) => {
            summary.full_rebuild = true;
            summary.reason = reason;
            // Every local date Silver covers, and every date Gold holds (stale ones go).
            for d in &silver_dates {
                dates.extend(settings.zone.affected_local_dates(*d, 0));
            }
            for rel in [GOLD_DAILY, GOLD_HOURLY] {
                if let Ok(stats) = delta::table_stats(lake, rel).await {
                    dates.extend(
                        stats
                            .partitions
                            .iter()
                            .filter_map(|p| p.date.parse::<NaiveDate>().ok()),
                    );
                }
            }
        }
        None => {
            let from = state.silver_version.unwrap_or(0);
            if Some(from) == silver_version {
                summary.reason = format!("Gold is up to date with Silver version {from}");
                summary.daily_version = daily.version();
                summary.hourly_version = hourly.version();
                return Ok(summary);
            }
            match changed_silver_dates(lake, from + 1, silver_version.unwrap_or(0)).await? {
                Some(changed) => {
                    summary.reason = format!(
                        "Silver versions {}–{} changed {} UTC date(s)",
                        from + 1,
                        silver_version.unwrap_or(0),
                        changed.len()
                    );
                    for d in changed {
                        dates.extend(
                            settings
                                .zone
                                .affected_local_dates(d, settings.fcr_window_days),
                        );
                    }
                }
                None => {
                    summary.full_rebuild = true;
                    summary.reason =
                        "Silver's log no longer reaches Gold's last version; full rebuild".into();
                    for d in &silver_dates {
                        dates.extend(settings.zone.affected_local_dates(*d, 0));
                    }
                }
            }
        }
    }

    let dates: Vec<NaiveDate> = dates.into_iter().collect();
    progress.begin_stage(
        format!("Gold: computing {} dates", dates.len()),
        dates.len() as u64,
    );
    let ctx = SessionContext::new();
    for udf in settings.zone.udfs() {
        ctx.register_udf(udf);
    }
    delta::register(&ctx, "silver", &silver)
        .await
        .map_err(|source| GoldError::Delta {
            table: SILVER_CONTACTS,
            source,
        })?;

    let computed_at = Utc::now();
    let mut daily_batches = Vec::new();
    let mut hourly_batches = Vec::new();
    for cluster in clusters(&dates, settings.fcr_window_days as i64 + 2) {
        progress.check().map_err(|_| GoldError::Cancelled)?;
        let (d, h) = compute(&ctx, &settings, &cluster, computed_at).await?;
        summary.daily_rows += d.iter().map(|b| b.num_rows() as u64).sum::<u64>();
        summary.hourly_rows += h.iter().map(|b| b.num_rows() as u64).sum::<u64>();
        daily_batches.extend(d);
        hourly_batches.extend(h);
        progress.add_done(cluster.len() as u64);
    }
    progress.check().map_err(|_| GoldError::Cancelled)?;

    progress.set_stage("Gold: committing");
    let mut meta = Map::new();
    meta.insert("cclake.operation".into(), Value::from("gold.build"));
    meta.insert("cclake.silver_version".into(), Value::from(silver_version));
    meta.insert("cclake.settings".into(), Value::from(fingerprint.clone()));
    if !dates.is_empty() {
        let daily = commit(
            daily,
            GOLD_DAILY,
            &DAILY_SCHEMA,
            daily_batches,
            &dates,
            &meta,
        )
        .await?;
        let hourly = commit(
            hourly,
            GOLD_HOURLY,
            &HOURLY_SCHEMA,
            hourly_batches,
            &dates,
            &meta,
        )
        .await?;
        summary.daily_version = daily.version();
        summary.hourly_version = hourly.version();
    }
    // Only now is this Silver version consumed: a run that died above recomputes the dates.
    state.silver_version = silver_version;
    state.settings = fingerprint;
    state.last_run = Some(Utc::now());
    write_state(lake, &state).await?;
    summary.dates = dates;
    summary.elapsed_secs = started.elapsed().as_secs_f64();
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

/// Splits sorted dates into runs that are worth one query each: dates closer than `gap` days
/// share a scan of Silver, distant ones (a late file from last month) get their own.
fn clusters(dates: &[NaiveDate], gap: i64) -> Vec<Vec<NaiveDate>> {
    let mut out: Vec<Vec<NaiveDate>> = Vec::new();
    for d in dates {
        match out.last_mut() {
            Some(c) if c.last().is_some_and(|l| (*d - *l).num_days() <= gap) => c.push(*d),
            _ => out.push(vec![*d]),
        }
    }
    out
}

/// The UTC dates whose Silver rows changed in versions `from..=to`, from the add and remove
/// actions of each commit. `None` when a commit file is gone (log cleanup): the caller then
/// rebuilds everything.
async fn changed_silver_dates(
    lake: &Lake,
    from: u64,
    to: u64,
) -> Result<Option<BTreeSet<NaiveDate>>, GoldError> {
    let mut dates = BTreeSet::new();
    for v in from..=to {
        let path = Path::from(format!("{SILVER_CONTACTS}/_delta_log/{v:020}.json"));
        let body = match lake.get(&path).await {
            Ok(b) => b,
            Err(LakeError::Store {
                source: object_store::Error::NotFound { .. },
                ..
            }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        for line in body.split(|b| *b == b'\n') {
            let Ok(action) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            for kind in ["add", "remove"] {
                if let Some(date) = action
                    .get(kind)
                    .and_then(|a| a.get("partitionValues"))
                    .and_then(|p| p.get("date"))
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<NaiveDate>().ok())
                {
                    dates.insert(date);
                }
            }
        }
    }
    Ok(Some(dates))
}

/// Computes both tables for a run of local dates with one scan of the Silver dates that can
/// influence them.
async fn compute(
    ctx: &SessionContext,
    s: &KpiSettings,
    dates: &[NaiveDate],
    computed_at: DateTime<Utc>,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>), GoldError> {
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let label = if first == last {
        first.to_string()
    } else {
        format!("{first}…{last}")
    };
    let query_err = |source| GoldError::Query {
        dates: label.clone(),
        source,
    };
    // A local date starts at most 14 h before and ends at most 14 h after its UTC date, and
    // FCR looks up to the window past the last date.
    let lo = *first - Duration::days(1);
    let hi = *last + Duration::days(s.fcr_window_days as i64 + 1);
    let list: Vec<String> = dates.iter().map(|d| format!("DATE '{d}'")).collect();
    let window_micros = s.fcr_window_days as i64 * 86_400_000_000;
    // A window of zero days holds no later contact (and a frame from 1 to 0 is refused).
    let no_return = if window_micros > 0 {
        format!(
            "COUNT(*) OVER (
                 PARTITION BY customer_key
                 ORDER BY arrow_cast(occurred_at, 'Int64')
                 RANGE BETWEEN 1 FOLLOWING AND {window_micros} FOLLOWING) = 0"
        )
    } else {
        "TRUE".to_string()
    };
    let base = format!(
        "WITH s AS (
            SELECT customer_key, occurred_at, queue_id, queue_name,
                   wait_seconds, duration_seconds, csat_score,
                   COALESCE(answered, false) AS answered,
                   COALESCE(abandoned, false) AS abandoned,
                   cclake_local_date(occurred_at) AS ldate
            FROM silver
            WHERE date BETWEEN DATE '{lo}' AND DATE '{hi}'
        ),
        -- FCR: an answered contact is resolved when the same caller does not come back
        -- within the window. One window pass over the caller's contacts in time order counts
        -- the later ones (from one microsecond on: contacts at the very same instant are one
        -- visit) up to the window. A self-join of each contact to its next one held every
        -- caller key three times over and was the peak of the whole pipeline's memory. The
        -- frame runs over the microseconds as integers: with a timestamp and an interval,
        -- DataFusion worked each row's bounds out through scalar values, 1 s more per 2M rows.
        w AS (
            SELECT s.*,
                   CASE WHEN s.answered AND s.customer_key IS NOT NULL THEN
                       CASE WHEN {no_return} THEN 1 ELSE 0 END
                   END AS fcr
            FROM s
        ),
        c AS (SELECT * FROM w WHERE ldate IN ({list}))",
        list = list.join(", ")
    );
    let aggregates = format!(
        "MAX(queue_name) AS queue_name,
         COUNT(*) AS total_contacts,
         SUM(CASE WHEN answered THEN 1 ELSE 0 END) AS answered_contacts,
         SUM(CASE WHEN abandoned THEN 1 ELSE 0 END) AS abandoned_contacts,
         SUM(CASE WHEN abandoned AND wait_seconds < {short} THEN 1 ELSE 0 END)
             AS short_abandoned_contacts,
         SUM(CASE WHEN answered AND wait_seconds <= {sl} THEN 1 ELSE 0 END) AS answered_within_sl,
         AVG(CASE WHEN answered THEN duration_seconds END) AS avg_duration_sec,
         AVG(CASE WHEN answered THEN wait_seconds END) AS avg_wait_sec,
         COUNT(fcr) AS fcr_eligible_contacts,
         COALESCE(SUM(fcr), 0) AS fcr_resolved_contacts,
         AVG(csat_score) AS customer_satisfaction_avg,
         COUNT(csat_score) AS csat_responses",
        short = float_literal(s.short_abandon_seconds),
        sl = float_literal(s.service_level_seconds),
    );
    let rates = "*,
         CASE WHEN answered_contacts + abandoned_contacts - short_abandoned_contacts > 0
              THEN 100.0 * answered_within_sl
                   / (answered_contacts + abandoned_contacts - short_abandoned_contacts)
         END AS service_level_pct,
         100.0 * abandoned_contacts / total_contacts AS abandon_rate_pct,
         CASE WHEN fcr_eligible_contacts > 0
              THEN 100.0 * fcr_resolved_contacts / fcr_eligible_contacts
         END AS fcr_rate_pct";
    // The per-contact rows (with their FCR flag) are computed once and both tables aggregate
    // them from memory: the FCR window is the expensive part of the query.
    let contacts_sql = format!(
        "{base} SELECT ldate, occurred_at, queue_id, queue_name, wait_seconds, duration_seconds,
                       csat_score, answered, abandoned, fcr FROM c"
    );
    let df = ctx.sql(&contacts_sql).await.map_err(query_err)?;
    let rows = df.collect().await.map_err(query_err)?;
    // The batches' own schema (the plan's may differ in nullability).
    let Some(schema) = rows.first().map(|b| b.schema()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let parts = ctx.state().config().target_partitions().max(1);
    let mut partitions: Vec<Vec<RecordBatch>> = vec![Vec::new(); parts];
    for (i, b) in rows.into_iter().enumerate() {
        partitions[i % parts].push(b);
    }
    let local = SessionContext::new();
    for udf in s.zone.udfs() {
        local.register_udf(udf);
    }
    let mem = datafusion::datasource::MemTable::try_new(schema, partitions).map_err(query_err)?;
    local
        .register_table("c", Arc::new(mem))
        .map_err(query_err)?;
    let daily_sql = format!(
        "WITH agg AS (SELECT ldate AS date, queue_id, {aggregates} FROM c GROUP BY ldate, queue_id)
         SELECT {rates} FROM agg ORDER BY date, queue_id"
    );
    let hourly_sql = format!(
        "WITH agg AS (
            SELECT ldate AS date, cclake_local_hour(occurred_at) AS hour,
                   cclake_hour_start(occurred_at) AS hour_start, queue_id, {aggregates}
            FROM c GROUP BY ldate, cclake_local_hour(occurred_at), cclake_hour_start(occurred_at), queue_id)
         SELECT {rates} FROM agg ORDER BY date, hour_start, queue_id"
    );
    let daily = local
        .sql(&daily_sql)
        .await
        .map_err(query_err)?
        .collect()
        .await
        .map_err(query_err)?;
    let hourly = local
        .sql(&hourly_sql)
        .await
        .map_err(query_err)?
        .collect()
        .await
        .map_err(query_err)?;
    let daily = daily
        .iter()
        .map(|b| conform(b, &DAILY_SCHEMA, computed_at))
        .collect::<Result<Vec<_>, _>>()?;
    let hourly = hourly
        .iter()
        .map(|b| conform(b, &HOURLY_SCHEMA, computed_at))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((daily, hourly))
}

/// A number as a SQL literal that DataFusion reads as a float.
fn float_literal(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// Puts a query result into the table's schema: columns by name, cast to the table's types,
/// and the `computed_at` stamp.
fn conform(
    batch: &RecordBatch,
    schema: &SchemaRef,
    computed_at: DateTime<Utc>,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let rows = batch.num_rows();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| {
            if f.name() == "computed_at" {
                let a = TimestampMicrosecondArray::from(vec![computed_at.timestamp_micros(); rows])
                    .with_timezone("UTC");
                return Ok(Arc::new(a) as ArrayRef);
            }
            let col = batch.column_by_name(f.name()).ok_or_else(|| {
                arrow::error::ArrowError::SchemaError(format!(
                    "Gold query did not return column {}",
                    f.name()
                ))
            })?;
            arrow::compute::cast(col, f.data_type())
        })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

async fn read_state(lake: &Lake) -> Result<GoldState, GoldError> {
    Ok(lake.get_json(STATE_FILE).await?.unwrap_or_default())
}

async fn write_state(lake: &Lake, state: &GoldState) -> Result<(), GoldError> {
    Ok(lake.put_json(STATE_FILE, state).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_dates_share_a_scan_and_distant_ones_do_not() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let dates = vec![d("2026-10-01"), d("2026-10-03"), d("2026-11-20")];
        let c = clusters(&dates, 9);
        assert_eq!(c, vec![vec![dates[0], dates[1]], vec![dates[2]]]);
    }

    #[test]
    fn thresholds_become_float_literals() {
        assert_eq!(float_literal(20.0), "20.0");
        assert_eq!(float_literal(4.5), "4.5");
    }
}
