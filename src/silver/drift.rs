//! Schema drift: fields a shape did not have before (`new`), expected fields that are absent
//! (`missing`), known fields with an unexpected JSON type (`type_changed`), outcome values
//! the status map does not know (`unmapped_status`) and values that could not be read as
//! written (`unreadable_value`). Collected while mapping, per Silver date,
//! never failing a record.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::sources::Shape;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    New,
    Missing,
    TypeChanged,
    UnmappedStatus,
    /// A value that could not be read as written (a number out of range, bytes that are not
    /// UTF-8, a lone surrogate escape): the record was kept with that value empty.
    Unreadable,
}

impl DriftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::New => "new",
            DriftKind::Missing => "missing",
            DriftKind::TypeChanged => "type_changed",
            DriftKind::UnmappedStatus => "unmapped_status",
            DriftKind::Unreadable => "unreadable_value",
        }
    }
}

/// How often and when one kind of drift was seen, with one example value (raw; scrubbed
/// before it is written).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observation {
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub example: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct DriftCollector {
    pub seen: HashMap<(Shape, String, DriftKind), Observation>,
}

/// Examples are for people: a short excerpt is enough.
pub const EXAMPLE_CHARS: usize = 160;
/// How much of a raw example is kept until it is scrubbed. Scrubbing comes first and cutting
/// to [`EXAMPLE_CHARS`] after, so a card number or phone that straddles the cut is still
/// found whole (cut first, `4111 1111 11…` was no longer a card number).
const RAW_EXAMPLE_CHARS: usize = 4096;

impl DriftCollector {
    pub fn observe(
        &mut self,
        shape: Shape,
        field: &str,
        kind: DriftKind,
        example: Option<&Value>,
        at: DateTime<Utc>,
    ) {
        if let Some(o) = self.seen.get_mut(&(shape, field.to_string(), kind)) {
            o.count += 1;
            o.first_seen = o.first_seen.min(at);
            o.last_seen = o.last_seen.max(at);
            return;
        }
        self.seen.insert(
            (shape, field.to_string(), kind),
            Observation {
                count: 1,
                first_seen: at,
                last_seen: at,
                example: example.map(example_text),
            },
        );
    }

    pub fn merge(&mut self, other: DriftCollector) {
        for (k, o) in other.seen {
            match self.seen.get_mut(&k) {
                Some(mine) => {
                    mine.count += o.count;
                    mine.first_seen = mine.first_seen.min(o.first_seen);
                    mine.last_seen = mine.last_seen.max(o.last_seen);
                    if mine.example.is_none() {
                        mine.example = o.example;
                    }
                }
                None => {
                    self.seen.insert(k, o);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

fn example_text(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    cut(s, RAW_EXAMPLE_CHARS)
}

/// An example as written to the drift table: already scrubbed, then cut to its excerpt.
pub fn excerpt(scrubbed: String) -> String {
    cut(scrubbed, EXAMPLE_CHARS)
}

fn cut(s: String, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        None => s,
        Some((end, _)) => {
            let mut t = s[..end].to_string();
            t.push('…');
            t
        }
    }
}

/// Drift over all of Silver: one line per (shape, field, kind).
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct DriftSummary {
    pub shape: String,
    pub field: String,
    pub kind: String,
    pub count: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub example: Option<String>,
    /// Days (Silver dates) it was seen on.
    pub days: i64,
}

/// Reads `silver/schema_drift` and sums it up, most pressing kinds first.
pub async fn report(lake: &crate::lake::Lake) -> Result<Vec<DriftSummary>, super::SilverError> {
    use arrow::array::{AsArray, Int64Array};

    use arrow::datatypes::{Int64Type, TimestampMicrosecondType};

    let sql = "SELECT shape, field, kind, CAST(SUM(count) AS BIGINT) AS count, MIN(first_seen) AS first_seen, \
               MAX(last_seen) AS last_seen, MAX(example) AS example, CAST(COUNT(DISTINCT date) AS BIGINT) AS days \
               FROM t GROUP BY shape, field, kind \
               ORDER BY CASE kind WHEN 'missing' THEN 0 WHEN 'type_changed' THEN 1 WHEN 'unmapped_status' THEN 2 ELSE 3 END, \
               shape, field";
    let Some(batches) = query_table(lake, crate::lake::delta::SILVER_DRIFT, sql).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for b in batches {
        let s = |i: usize| {
            crate::lake::delta::utf8_column(b.column(i)).map_err(|e| super::SilverError::Arrow {
                date: chrono::NaiveDate::default(),
                source: e,
            })
        };
        let (shape, field, kind, example) = (s(0)?, s(1)?, s(2)?, s(6)?);
        let count: Int64Array = b.column(3).as_primitive::<Int64Type>().clone();
        let first = b
            .column(4)
            .as_primitive::<TimestampMicrosecondType>()
            .clone();
        let last = b
            .column(5)
            .as_primitive::<TimestampMicrosecondType>()
            .clone();
        let days = b.column(7).as_primitive::<Int64Type>().clone();
        for i in 0..b.num_rows() {
            use arrow::array::Array;
            out.push(DriftSummary {
                shape: shape.value(i).to_string(),
                field: field.value(i).to_string(),
                kind: kind.value(i).to_string(),
                count: count.value(i),
                first_seen: DateTime::from_timestamp_micros(first.value(i)).unwrap_or_default(),
                last_seen: DateTime::from_timestamp_micros(last.value(i)).unwrap_or_default(),
                example: (!example.is_null(i)).then(|| example.value(i).to_string()),
                days: days.value(i),
            });
        }
    }
    Ok(out)
}

/// Runs `sql` over one Silver table registered as `t`; `None` when the table is not built.
pub(crate) async fn query_table(
    lake: &crate::lake::Lake,
    table: &'static str,
    sql: &str,
) -> Result<Option<Vec<arrow::record_batch::RecordBatch>>, super::SilverError> {
    let delta_err = |source| super::SilverError::Delta { table, source };
    let df_err = |e: datafusion::error::DataFusionError| {
        delta_err(deltalake::DeltaTableError::Generic(e.to_string()))
    };
    let delta = crate::lake::delta::open(lake, table)
        .await
        .map_err(delta_err)?;
    let ctx = datafusion::prelude::SessionContext::new();
    if !crate::lake::delta::register(&ctx, "t", &delta)
        .await
        .map_err(delta_err)?
    {
        return Ok(None);
    }
    let df = ctx.sql(sql).await.map_err(df_err)?;
    Ok(Some(df.collect().await.map_err(df_err)?))
}

/// Silver rows of one date, and how many of them carry rescued data.
#[derive(Debug, Clone, PartialEq)]
pub struct RescuedDay {
    pub date: chrono::NaiveDate,
    pub rescued: i64,
    pub total: i64,
}

/// Rows with rescued data per Silver date, oldest first (none before Silver is built).
pub async fn rescued_per_day(
    lake: &crate::lake::Lake,
) -> Result<Vec<RescuedDay>, super::SilverError> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Date32Type, Int64Type};
    let sql = "SELECT date, CAST(COUNT(_rescued_data) AS BIGINT) AS rescued, \
               CAST(COUNT(*) AS BIGINT) AS total FROM t GROUP BY date ORDER BY date";
    let Some(batches) = query_table(lake, crate::lake::delta::SILVER_CONTACTS, sql).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for b in batches {
        let date = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Date32).map_err(
            |source| super::SilverError::Arrow {
                date: chrono::NaiveDate::default(),
                source,
            },
        )?;
        let date = date.as_primitive::<Date32Type>();
        let (rescued, total) = (
            b.column(1).as_primitive::<Int64Type>(),
            b.column(2).as_primitive::<Int64Type>(),
        );
        for i in 0..b.num_rows() {
            out.push(RescuedDay {
                date: chrono::NaiveDate::default() + chrono::Duration::days(date.value(i).into()),
                rescued: rescued.value(i),
                total: total.value(i),
            });
        }
    }
    Ok(out)
}
