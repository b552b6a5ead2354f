//! The KPI formulas (SPEC §4) as DataFusion SQL over Silver: the per-contact rows with their
//! FCR flag, computed once per cluster of dates, then aggregated into the daily and hourly
//! tables' schemas.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use datafusion::prelude::SessionContext;

use super::plan::clusters;
use super::{GoldError, GoldSummary, KpiSettings};
use crate::lake::Lake;
use crate::lake::delta::{self, SILVER_CONTACTS};
use crate::progress::JobProgress;

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

/// Computes every date, a cluster of nearby dates per scan of Silver. With `remote`, each
/// cluster's per-contact query runs there, over Silver's active Parquet files.
pub(super) async fn compute_all(
    lake: &Lake,
    silver: &deltalake::DeltaTable,
    settings: &KpiSettings,
    dates: &[NaiveDate],
    remote: Option<&dyn super::RemoteQuery>,
    progress: &JobProgress,
    summary: &mut GoldSummary,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>), GoldError> {
    let stage = format!("Gold: computing {} dates", dates.len());
    progress.begin_stage(stage, dates.len() as u64);
    let ctx = SessionContext::new();
    for udf in settings.zone.udfs() {
        ctx.register_udf(udf);
    }
    if remote.is_none() {
        delta::register(&ctx, "silver", silver)
            .await
            .map_err(|source| GoldError::Delta {
                table: SILVER_CONTACTS,
                source,
            })?;
    }
    let computed_at = Utc::now();
    let (mut daily, mut hourly) = (Vec::new(), Vec::new());
    for cluster in clusters(dates, settings.fcr_window_days as i64 + 2) {
        progress.check().map_err(|_| GoldError::Cancelled)?;
        if remote.is_some() {
            register_active_files(&ctx, lake, silver, settings, &cluster)?;
        }
        let (d, h) = compute(&ctx, settings, &cluster, remote, computed_at).await?;
        summary.daily_rows += d.iter().map(|b| b.num_rows() as u64).sum::<u64>();
        summary.hourly_rows += h.iter().map(|b| b.num_rows() as u64).sum::<u64>();
        daily.extend(d);
        hourly.extend(h);
        progress.add_done(cluster.len() as u64);
    }
    progress.check().map_err(|_| GoldError::Cancelled)?;
    Ok((daily, hourly))
}

/// Computes both tables for a run of local dates with one scan of the Silver dates that can
/// influence them.
async fn compute(
    ctx: &SessionContext,
    s: &KpiSettings,
    dates: &[NaiveDate],
    remote: Option<&dyn super::RemoteQuery>,
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
    // The per-contact rows (with their FCR flag) are computed once and both tables aggregate
    // them from memory: the FCR window is the expensive part of the query.
    let df = ctx
        .sql(&contacts_sql(s, dates, *first, *last))
        .await
        .map_err(query_err)?;
    let rows = match remote {
        Some(r) => {
            let plan = df.create_physical_plan().await.map_err(query_err)?;
            r.collect(plan, s).await.map_err(query_err)?
        }
        None => df.collect().await.map_err(query_err)?,
    };
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
    let (daily_sql, hourly_sql) = aggregate_sql(s);
    let mut out = Vec::with_capacity(2);
    for (sql, schema) in [(daily_sql, &*DAILY_SCHEMA), (hourly_sql, &*HOURLY_SCHEMA)] {
        let batches = local.sql(&sql).await.map_err(query_err)?;
        let batches = batches.collect().await.map_err(query_err)?;
        let conformed = batches.iter().map(|b| conform(b, schema, computed_at));
        out.push(conformed.collect::<Result<Vec<_>, _>>()?);
    }
    let hourly = out.pop().unwrap_or_default();
    let daily = out.pop().unwrap_or_default();
    Ok((daily, hourly))
}

/// Registers as `silver` the active Parquet files of the Silver dates a cluster of dates
/// reads (the same range as [`contacts_sql`]), and the store they are in.
fn register_active_files(
    ctx: &SessionContext,
    lake: &Lake,
    silver: &deltalake::DeltaTable,
    s: &KpiSettings,
    dates: &[NaiveDate],
) -> Result<(), GoldError> {
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return Ok(());
    };
    let lo = *first - Duration::days(1);
    let hi = *last + Duration::days(s.fcr_window_days as i64 + 1);
    let delta_err = |source| GoldError::Delta {
        table: SILVER_CONTACTS,
        source,
    };
    let files =
        crate::lake::parquet_scan::ActiveParquet::new(lake, SILVER_CONTACTS, silver, lo, hi)
            .map_err(delta_err)?;
    let url: &url::Url = files.store_url().as_ref();
    ctx.register_object_store(url, lake.root_store());
    let _ = ctx.deregister_table("silver");
    let query_err = |source| GoldError::Query {
        dates: format!("{first}…{last}"),
        source,
    };
    ctx.register_table("silver", Arc::new(files))
        .map_err(query_err)?;
    Ok(())
}

/// Every contact of the dates, in their local date, with its FCR flag: scans the Silver dates
/// that can influence them (a local date starts at most 14 h before and ends at most 14 h
/// after its UTC date, and FCR looks up to the window past the last date).
fn contacts_sql(s: &KpiSettings, dates: &[NaiveDate], first: NaiveDate, last: NaiveDate) -> String {
    let lo = first - Duration::days(1);
    let hi = last + Duration::days(s.fcr_window_days as i64 + 1);
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
    format!(
        "{base} SELECT ldate, occurred_at, queue_id, queue_name, wait_seconds, duration_seconds,
                       csat_score, answered, abandoned, fcr FROM c"
    )
}

/// The mean of `x` from an integer sum of its thousandths: integer sums do not depend on the
/// order rows are added in, so the mean is the same bit for bit however the rows were
/// partitioned or batched (in one process or on a cluster). Sources give times to the
/// millisecond at most, so nothing is lost.
fn exact_avg(x: &str) -> String {
    format!("CAST(SUM(CAST(ROUND(({x}) * 1000) AS BIGINT)) AS DOUBLE) / COUNT({x}) / 1000.0")
}

/// The daily and hourly aggregations of the contacts, with the KPI rates.
fn aggregate_sql(s: &KpiSettings) -> (String, String) {
    let aggregates = format!(
        "MAX(queue_name) AS queue_name,
         COUNT(*) AS total_contacts,
         SUM(CASE WHEN answered THEN 1 ELSE 0 END) AS answered_contacts,
         SUM(CASE WHEN abandoned THEN 1 ELSE 0 END) AS abandoned_contacts,
         SUM(CASE WHEN abandoned AND wait_seconds < {short} THEN 1 ELSE 0 END)
             AS short_abandoned_contacts,
         SUM(CASE WHEN answered AND wait_seconds <= {sl} THEN 1 ELSE 0 END) AS answered_within_sl,
         {avg_duration} AS avg_duration_sec,
         {avg_wait} AS avg_wait_sec,
         COUNT(fcr) AS fcr_eligible_contacts,
         COALESCE(SUM(fcr), 0) AS fcr_resolved_contacts,
         {avg_csat} AS customer_satisfaction_avg,
         COUNT(csat_score) AS csat_responses",
        short = float_literal(s.short_abandon_seconds),
        sl = float_literal(s.service_level_seconds),
        avg_duration = exact_avg("CASE WHEN answered THEN duration_seconds END"),
        avg_wait = exact_avg("CASE WHEN answered THEN wait_seconds END"),
        avg_csat = exact_avg("csat_score"),
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
    (daily_sql, hourly_sql)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_become_float_literals() {
        assert_eq!(float_literal(20.0), "20.0");
        assert_eq!(float_literal(4.5), "4.5");
    }
}
