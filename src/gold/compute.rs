//! Computing Gold's dates, a cluster of nearby dates per read of Silver: the columns Gold
//! needs are read with DataFusion, each contact's facts and FCR verdict worked out once
//! ([`super::facts`]) and counted into both tables in one pass ([`super::aggregate`]). On a
//! cluster, the per-contact rows with their FCR flag come from a window query run there
//! ([`contacts_sql`]) and are counted here the same way.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use datafusion::prelude::SessionContext;

use super::aggregate::Aggregate;
use super::facts;
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
/// influence them: the contacts' facts (with their FCR verdicts) once, then one pass that adds
/// each contact to its queue's day and hour.
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
    let (daily, hourly) = match remote {
        Some(r) => {
            // The cluster works out each contact's FCR verdict with the window query; the
            // facts come back and are counted here.
            let df = ctx
                .sql(&contacts_sql(s, dates, *first, *last))
                .await
                .map_err(query_err)?;
            let plan = df.create_physical_plan().await.map_err(query_err)?;
            let rows = r.collect(plan, s).await.map_err(query_err)?;
            count_remote_contacts(&rows, s, computed_at)?
        }
        None => {
            let (lo, hi) = silver_dates(s, *first, *last);
            // A contact two UTC dates past the last can only be someone's next contact (no
            // zone is a day from UTC): of those dates only the caller and time are read, the
            // other columns come as nulls. Both scans run at once.
            let counted_hi = (*last + Duration::days(1)).min(hi);
            let counted = format!(
                "SELECT {} FROM silver WHERE date BETWEEN DATE '{lo}' AND DATE '{counted_hi}'",
                facts::COLUMNS
            );
            let window = format!(
                "SELECT {} FROM silver WHERE date > DATE '{counted_hi}' AND date <= DATE '{hi}'",
                facts::NEXT_CONTACT_COLUMNS
            );
            let started = std::time::Instant::now();
            let (a, b) =
                tokio::try_join!(ctx.sql(&counted), ctx.sql(&window)).map_err(query_err)?;
            let (mut batches, later) =
                tokio::try_join!(a.collect(), b.collect()).map_err(query_err)?;
            let may_count = batches.len();
            batches.extend(later);
            let read = started.elapsed();
            let counted = count_contacts(&batches, may_count, s, dates, computed_at)?;
            tracing::debug!(
                dates = %label,
                read_ms = read.as_millis() as u64,
                count_ms = (started.elapsed() - read).as_millis() as u64,
                "Gold: Silver read, contacts counted"
            );
            counted
        }
    };
    Ok((vec![daily], vec![hourly]))
}

/// The Silver (UTC) dates whose contacts can count for local dates `first..=last`: a local
/// date starts at most 14 h before and ends at most 14 h after its UTC date, and FCR looks up
/// to the window past the last date.
fn silver_dates(s: &KpiSettings, first: NaiveDate, last: NaiveDate) -> (NaiveDate, NaiveDate) {
    let lo = first - Duration::days(1);
    let hi = last + Duration::days(s.fcr_window_days as i64 + 1);
    (lo, hi)
}

/// Both tables from Silver's columns ([`facts::COLUMNS`]) of the dates that can influence
/// `dates`: FCR over all of them, counts for the contacts of `dates`, which are all in the
/// first `may_count` batches (the rest are only next contacts).
fn count_contacts(
    batches: &[RecordBatch],
    may_count: usize,
    s: &KpiSettings,
    dates: &[NaiveDate],
    computed_at: DateTime<Utc>,
) -> Result<(RecordBatch, RecordBatch), GoldError> {
    use arrow::array::Array;
    let cols = batches
        .iter()
        .map(facts::Columns::of)
        .collect::<Result<Vec<_>, _>>()?;
    // No contact of the dates is later than 14 h into the UTC day after the last (no zone is
    // further from UTC): later ones are only the next contacts of counted ones.
    let counted_before = dates.last().map_or(i64::MAX, |last| {
        let next = (*last + Duration::days(1))
            .and_hms_opt(14, 0, 0)
            .unwrap_or_default();
        next.and_utc().timestamp_micros()
    });
    let verdicts = facts::fcr_verdicts(&cols, s.fcr_window_days, counted_before);
    // Each batch counted on its own (on all cores), with its rows' verdicts; the parts merged.
    let mut offsets = Vec::with_capacity(cols.len());
    let mut at = 0;
    for c in &cols {
        offsets.push(at);
        at += c.len();
    }
    use rayon::prelude::*;
    let agg = (cols[..may_count.min(cols.len())].par_iter())
        .zip(offsets.par_iter())
        .fold(
            || (Aggregate::new(s), facts::LocalClock::new(&s.zone)),
            |(mut agg, mut clock), (c, first)| {
                for i in 0..c.len() {
                    if !c.occurred_us.is_valid(i) {
                        continue;
                    }
                    let local = clock.local(c.occurred_us.value(i));
                    if dates.binary_search(&local.date).is_ok() {
                        agg.add(&c.fact(i, local, verdicts[first + i]));
                    }
                }
                (agg, clock)
            },
        )
        .map(|(agg, _)| agg)
        .reduce(|| Aggregate::new(s), Aggregate::merge);
    Ok(agg.finish(computed_at)?)
}

/// Both tables from the per-contact rows the cluster sent back ([`contacts_sql`]'s columns,
/// each with its FCR verdict).
fn count_remote_contacts(
    rows: &[RecordBatch],
    s: &KpiSettings,
    computed_at: DateTime<Utc>,
) -> Result<(RecordBatch, RecordBatch), GoldError> {
    use arrow::array::{Array, AsArray};
    let mut clock = facts::LocalClock::new(&s.zone);
    let mut agg = Aggregate::new(s);
    let mut keep = Vec::with_capacity(rows.len());
    for b in rows {
        let col = |name: &str| {
            b.column_by_name(name).cloned().ok_or_else(|| {
                arrow::error::ArrowError::SchemaError(format!("the cluster sent no column {name}"))
            })
        };
        let projected = RecordBatch::try_from_iter([
            // FCR came with the rows: no caller key is needed here.
            (
                "customer_key",
                arrow::array::new_null_array(&arrow::datatypes::DataType::Utf8, b.num_rows()),
            ),
            ("occurred_us", col("occurred_at")?),
            ("queue_id", col("queue_id")?),
            ("queue_name", col("queue_name")?),
            ("wait_seconds", col("wait_seconds")?),
            ("duration_seconds", col("duration_seconds")?),
            ("csat_score", col("csat_score")?),
            ("answered", col("answered")?),
            ("abandoned", col("abandoned")?),
        ])?;
        let fcr = arrow::compute::cast(&col("fcr")?, &arrow::datatypes::DataType::Int64)?;
        keep.push((facts::Columns::of(&projected)?, fcr));
    }
    for (c, fcr) in &keep {
        let fcr = fcr.as_primitive::<arrow::datatypes::Int64Type>();
        for i in 0..c.len() {
            if !c.occurred_us.is_valid(i) {
                continue;
            }
            let local = clock.local(c.occurred_us.value(i));
            agg.add(&c.fact(i, local, fcr.is_valid(i).then(|| fcr.value(i) == 1)));
        }
    }
    Ok(agg.finish(computed_at)?)
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
    let (lo, hi) = silver_dates(s, *first, *last);
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
    let (lo, hi) = silver_dates(s, first, last);
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
