//! How fresh each source's data is, from Silver: the latest contact it sent, when its latest
//! rows were ingested, and its contacts per day over the last two weeks of the lake, so a
//! source that stopped sending shows as a row of empty days while the others go on. Also
//! which sources each queue's contacts come from (Gold is by queue, not by source, so the
//! charts' source filter goes through Silver).

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Date32Type, Int64Type, TimestampMicrosecondType};
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::prelude::SessionContext;

use super::QueryError;
use crate::lake::Lake;
use crate::lake::delta::{self, SILVER_CONTACTS};

/// Days of the per-day bars.
pub const DAYS: i64 = 14;

/// One source's freshness.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFreshness {
    pub source: String,
    /// The latest occurrence time of its contacts.
    pub latest_occurrence: Option<DateTime<Utc>>,
    /// When the newest of its Silver rows was ingested into Bronze.
    pub last_ingest: Option<DateTime<Utc>>,
    /// Contacts per day for the [`DAYS`] days ending on the lake's last date (zero-filled).
    pub per_day: Vec<(NaiveDate, i64)>,
    pub total: i64,
}

impl SourceFreshness {
    /// Days at the end of the window with no contact from this source while the lake has
    /// data for them: a source that stopped sending.
    pub fn silent_days(&self) -> usize {
        self.per_day
            .iter()
            .rev()
            .take_while(|(_, n)| *n == 0)
            .count()
    }
}

/// Silver registered as `t`, or none before Silver is built.
async fn silver(lake: &Lake) -> Result<Option<SessionContext>, QueryError> {
    let err = |source| QueryError::Delta {
        table: SILVER_CONTACTS,
        source,
    };
    let table = delta::open(lake, SILVER_CONTACTS).await.map_err(err)?;
    let ctx = SessionContext::new();
    Ok(delta::register(&ctx, "t", &table)
        .await
        .map_err(err)?
        .then_some(ctx))
}

fn utf8(c: &arrow::array::ArrayRef) -> Result<arrow::array::StringArray, QueryError> {
    delta::utf8_column(c).map_err(|e| QueryError::Sql(e.into()))
}

/// Every source's freshness, by source name.
pub async fn freshness(lake: &Lake) -> Result<Vec<SourceFreshness>, QueryError> {
    let Some(ctx) = silver(lake).await? else {
        return Ok(Vec::new());
    };
    let sql = "SELECT source_system, date, CAST(COUNT(*) AS BIGINT), MAX(occurred_at), \
               MAX(_ingested_at) FROM t GROUP BY source_system, date";
    let batches = ctx.sql(sql).await?.collect().await?;
    // (source) -> (date -> contacts), latest occurrence, last ingest
    type Acc = (BTreeMap<NaiveDate, i64>, Option<i64>, Option<i64>);
    let mut by_source: BTreeMap<String, Acc> = BTreeMap::new();
    for b in &batches {
        let source = utf8(b.column(0))?;
        let date = b.column(1).as_primitive::<Date32Type>();
        let count = b.column(2).as_primitive::<Int64Type>();
        let occurred = b.column(3).as_primitive::<TimestampMicrosecondType>();
        let ingested = b.column(4).as_primitive::<TimestampMicrosecondType>();
        for i in 0..b.num_rows() {
            let name = match source.is_null(i) {
                true => "(none)",
                false => source.value(i),
            };
            let acc = by_source.entry(name.to_string()).or_default();
            if let Some(d) = date.value_as_date(i) {
                *acc.0.entry(d).or_default() += count.value(i);
            }
            if occurred.is_valid(i) {
                acc.1 = acc.1.max(Some(occurred.value(i)));
            }
            if ingested.is_valid(i) {
                acc.2 = acc.2.max(Some(ingested.value(i)));
            }
        }
    }
    let last = by_source
        .values()
        .filter_map(|(days, ..)| days.keys().next_back().copied())
        .max();
    let Some(last) = last else {
        return Ok(Vec::new());
    };
    let window: Vec<NaiveDate> = (0..DAYS)
        .rev()
        .filter_map(|back| last.checked_sub_days(chrono::Days::new(back as u64)))
        .collect();
    let at = |us: Option<i64>| us.and_then(DateTime::from_timestamp_micros);
    Ok(by_source
        .into_iter()
        .map(|(source, (days, occurred, ingested))| SourceFreshness {
            per_day: (window.iter())
                .map(|d| (*d, days.get(d).copied().unwrap_or(0)))
                .collect(),
            total: days.values().sum(),
            source,
            latest_occurrence: at(occurred),
            last_ingest: at(ingested),
        })
        .collect())
}

/// The sources each queue's contacts come from, by queue id ("" for contacts without one).
pub async fn queue_sources(lake: &Lake) -> Result<BTreeMap<String, BTreeSet<String>>, QueryError> {
    let Some(ctx) = silver(lake).await? else {
        return Ok(BTreeMap::new());
    };
    let sql = "SELECT DISTINCT COALESCE(queue_id, ''), COALESCE(source_system, '') FROM t";
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for b in ctx.sql(sql).await?.collect().await? {
        let (queue, source) = (utf8(b.column(0))?, utf8(b.column(1))?);
        for i in 0..b.num_rows() {
            let q = out.entry(queue.value(i).to_string()).or_default();
            q.insert(source.value(i).to_string());
        }
    }
    Ok(out)
}
