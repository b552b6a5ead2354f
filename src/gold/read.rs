//! Reading Gold: the queue KPI rows the app's charts and the HTTP API show, by grain, date
//! range and queue. A Gold table that has not been built yet is a typed error
//! ([`GoldReadError::NotBuilt`]), which both readers show as "no rows yet".

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::prelude::{SessionContext, col, lit};
use datafusion::scalar::ScalarValue;

use crate::config::zone::days_since_epoch;
use crate::lake::Lake;
use crate::lake::delta::{self, GOLD_DAILY, GOLD_HOURLY};

/// Daily or hourly rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Daily,
    Hourly,
}

impl Grain {
    /// The Delta table of the grain.
    pub fn table(self) -> &'static str {
        match self {
            Grain::Daily => GOLD_DAILY,
            Grain::Hourly => GOLD_HOURLY,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GoldReadError {
    #[error("{table} is not built yet: run `cclake process`")]
    NotBuilt { table: &'static str },
    #[error("Delta table {table}: {source}")]
    Delta {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error("reading Gold: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
}

/// Which rows to read: dates `from..=to` (all when unset), one queue or all.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub queue_id: Option<String>,
}

/// The grain's table in a session of its own.
async fn session(lake: &Lake, grain: Grain) -> Result<SessionContext, GoldReadError> {
    let table = grain.table();
    let err = |source| GoldReadError::Delta { table, source };
    let delta = delta::open(lake, table).await.map_err(err)?;
    let ctx = SessionContext::new();
    if !delta::register(&ctx, "gold", &delta).await.map_err(err)? {
        return Err(GoldReadError::NotBuilt { table });
    }
    Ok(ctx)
}

/// The selected rows as Arrow batches, ordered by date, hour and queue.
pub async fn batches(
    lake: &Lake,
    grain: Grain,
    sel: &Selection,
) -> Result<Vec<RecordBatch>, GoldReadError> {
    let ctx = session(lake, grain).await?;
    let mut df = ctx.table("gold").await?;
    if let Some(from) = sel.from {
        df = df.filter(col("date").gt_eq(date_lit(from)))?;
    }
    if let Some(to) = sel.to {
        df = df.filter(col("date").lt_eq(date_lit(to)))?;
    }
    if let Some(q) = &sel.queue_id {
        // A filter expression, not SQL text: the value cannot inject anything.
        df = df.filter(col("queue_id").eq(lit(q.as_str())))?;
    }
    let mut order = vec![col("date").sort(true, true)];
    if grain == Grain::Hourly {
        order.push(col("hour_start").sort(true, true));
    }
    order.push(col("queue_id").sort(true, true));
    Ok(df.sort(order)?.collect().await?)
}

/// The selected rows, typed.
pub async fn rows(
    lake: &Lake,
    grain: Grain,
    sel: &Selection,
) -> Result<Vec<KpiRow>, GoldReadError> {
    Ok(rows_from_batches(&batches(lake, grain, sel).await?))
}

/// A queue Gold has rows for, and the dates it has them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueSpan {
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
}

/// The queues of the daily table, by id.
pub async fn queues(lake: &Lake) -> Result<Vec<QueueSpan>, GoldReadError> {
    let ctx = session(lake, Grain::Daily).await?;
    let df = ctx.table("gold").await?.aggregate(
        vec![col("queue_id")],
        vec![
            max(col("queue_name")).alias("queue_name"),
            min(col("date")).alias("first_date"),
            max(col("date")).alias("last_date"),
        ],
    )?;
    let batches = df
        .sort(vec![col("queue_id").sort(true, true)])?
        .collect()
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        let text = |c: &str| b.column_by_name(c).and_then(|a| delta::utf8_column(a).ok());
        let day = |c: &str| {
            let a = b.column_by_name(c)?;
            arrow::compute::cast(a, &DataType::Int64).ok()
        };
        let (Some(ids), Some(names), Some(first), Some(last)) = (
            text("queue_id"),
            text("queue_name"),
            day("first_date"),
            day("last_date"),
        ) else {
            continue;
        };
        let (first, last) = (
            first.as_primitive::<Int64Type>(),
            last.as_primitive::<Int64Type>(),
        );
        for r in 0..b.num_rows() {
            let opt =
                |a: &arrow::array::StringArray| (!a.is_null(r)).then(|| a.value(r).to_string());
            out.push(QueueSpan {
                queue_id: opt(&ids),
                queue_name: opt(&names),
                first_date: date_of(first.value(r)),
                last_date: date_of(last.value(r)),
            });
        }
    }
    Ok(out)
}

fn date_lit(d: NaiveDate) -> datafusion::prelude::Expr {
    lit(ScalarValue::Date32(Some(days_since_epoch(d))))
}

fn date_of(days: i64) -> NaiveDate {
    NaiveDate::default() + chrono::Duration::days(days)
}

/// One Gold row.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRow {
    pub date: NaiveDate,
    pub hour: Option<i32>,
    pub hour_start: Option<DateTime<Utc>>,
    pub queue_id: String,
    pub queue_name: String,
    pub total: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub short: i64,
    pub within_sl: i64,
    pub aht: Option<f64>,
    pub asa: Option<f64>,
    pub sl: Option<f64>,
    pub abandon_rate: Option<f64>,
    pub fcr_eligible: i64,
    pub fcr_resolved: i64,
    pub fcr: Option<f64>,
    pub csat: Option<f64>,
    pub csat_n: i64,
}

/// Reads Gold rows from query results.
pub fn rows_from_batches(batches: &[RecordBatch]) -> Vec<KpiRow> {
    let mut out = Vec::new();
    for b in batches {
        let s = |c: &str| {
            b.column_by_name(c)
                .and_then(|a| crate::lake::delta::utf8_column(a).ok())
        };
        let f = |c: &str| {
            b.column_by_name(c)
                .and_then(|a| arrow::compute::cast(a, &DataType::Float64).ok())
        };
        let i = |c: &str| {
            b.column_by_name(c)
                .and_then(|a| arrow::compute::cast(a, &DataType::Int64).ok())
        };
        let (Some(date), Some(qid), Some(qn)) = (i("date"), s("queue_id"), s("queue_name")) else {
            continue;
        };
        let date = date.as_primitive::<Int64Type>().clone();
        let hour = i("hour");
        let hour_start = b.column_by_name("hour_start").and_then(|a| {
            arrow::compute::cast(a, &DataType::Timestamp(TimeUnit::Microsecond, None))
                .ok()
                .and_then(|a| arrow::compute::cast(&a, &DataType::Int64).ok())
        });
        let fl = |c: &str| f(c);
        let cols_f: Vec<_> = [
            "avg_duration_sec",
            "avg_wait_sec",
            "service_level_pct",
            "abandon_rate_pct",
            "fcr_rate_pct",
            "customer_satisfaction_avg",
        ]
        .iter()
        .map(|c| fl(c))
        .collect();
        let cols_i: Vec<_> = [
            "total_contacts",
            "answered_contacts",
            "abandoned_contacts",
            "short_abandoned_contacts",
            "answered_within_sl",
            "fcr_eligible_contacts",
            "fcr_resolved_contacts",
            "csat_responses",
        ]
        .iter()
        .map(|c| i(c))
        .collect();
        let getf = |k: usize, r: usize| -> Option<f64> {
            let a = cols_f[k].as_ref()?;
            let a = a.as_primitive::<Float64Type>();
            (!a.is_null(r)).then(|| a.value(r))
        };
        let geti = |k: usize, r: usize| -> i64 {
            cols_i[k]
                .as_ref()
                .map(|a| a.as_primitive::<Int64Type>())
                .filter(|a| !a.is_null(r))
                .map(|a| a.value(r))
                .unwrap_or(0)
        };
        for r in 0..b.num_rows() {
            let d = NaiveDate::default() + chrono::Duration::days(date.value(r));
            out.push(KpiRow {
                date: d,
                hour: hour
                    .as_ref()
                    .map(|a| a.as_primitive::<Int64Type>().value(r) as i32),
                hour_start: hour_start.as_ref().and_then(|a| {
                    DateTime::from_timestamp_micros(a.as_primitive::<Int64Type>().value(r))
                }),
                queue_id: if qid.is_null(r) {
                    "(no queue)".into()
                } else {
                    qid.value(r).to_string()
                },
                queue_name: if qn.is_null(r) {
                    qid.value(r).to_string()
                } else {
                    qn.value(r).to_string()
                },
                total: geti(0, r),
                answered: geti(1, r),
                abandoned: geti(2, r),
                short: geti(3, r),
                within_sl: geti(4, r),
                fcr_eligible: geti(5, r),
                fcr_resolved: geti(6, r),
                csat_n: geti(7, r),
                aht: getf(0, r),
                asa: getf(1, r),
                sl: getf(2, r),
                abandon_rate: getf(3, r),
                fcr: getf(4, r),
                csat: getf(5, r),
            });
        }
    }
    out
}
