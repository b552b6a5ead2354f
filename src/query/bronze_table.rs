//! Bronze as a SQL table: one row per stored line, the raw JSON text beside its partition
//! columns, read from the lake (or the cold store) only when a query runs.
//!
//! Filters on the partition columns (`event_type`, `year`, `month`, `day`, `hour`, `date`,
//! `bronze_file`, `tier`) are evaluated against the file list before any file is opened, so
//! `WHERE bronze_file = '…'` (a Silver row's lineage) reads one file, not the whole layer.

use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use chrono::{Datelike, Timelike};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::DFSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use futures::StreamExt;

use crate::config::zone::days_since_epoch;
use crate::lake::ledger::BronzeFileEntry;
use crate::lake::tiers::{BronzeLocator, Tier};

/// Columns known from the file list alone.
const PARTITION_COLUMNS: [&str; 8] = [
    "event_type",
    "year",
    "month",
    "day",
    "hour",
    "date",
    "bronze_file",
    "tier",
];

pub static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("event_type", DataType::Utf8, false),
        Field::new("year", DataType::Int32, false),
        Field::new("month", DataType::Int32, false),
        Field::new("day", DataType::Int32, false),
        Field::new("hour", DataType::Int32, false),
        Field::new("date", DataType::Date32, false),
        Field::new("bronze_file", DataType::Utf8, false),
        Field::new("tier", DataType::Utf8, false),
        Field::new("line", DataType::Int64, false),
        Field::new("raw", DataType::Utf8, false),
    ]))
});

fn partition_schema() -> SchemaRef {
    Arc::new(Schema::new(
        SCHEMA.fields()[..PARTITION_COLUMNS.len()].to_vec(),
    ))
}

/// One readable Bronze file.
#[derive(Debug, Clone)]
struct FileRef {
    entry: BronzeFileEntry,
    tier: Tier,
}

/// The Bronze files of the lake (those the ledger names and lifecycle has not deleted).
pub struct BronzeTable {
    files: Vec<FileRef>,
    locator: BronzeLocator,
}

impl std::fmt::Debug for BronzeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BronzeTable({} files)", self.files.len())
    }
}

impl BronzeTable {
    /// `event_type`: only files of that event type (None: all).
    pub fn new(
        entries: impl IntoIterator<Item = BronzeFileEntry>,
        locator: BronzeLocator,
        event_type: Option<&str>,
    ) -> Self {
        let files = entries
            .into_iter()
            .filter(|e| event_type.is_none_or(|t| e.event_type == t))
            .map(|entry| FileRef {
                tier: locator.tier(&entry.path),
                entry,
            })
            .filter(|f| f.tier != Tier::Expired)
            .collect();
        BronzeTable { files, locator }
    }

    /// The partition columns of every file, one row per file.
    fn partition_batch(&self) -> Result<RecordBatch> {
        let f = &self.files;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                f.iter().map(|x| x.entry.event_type.as_str()),
            )),
            Arc::new(Int32Array::from_iter_values(
                f.iter().map(|x| x.entry.hour.year()),
            )),
            Arc::new(Int32Array::from_iter_values(
                f.iter().map(|x| x.entry.hour.month() as i32),
            )),
            Arc::new(Int32Array::from_iter_values(
                f.iter().map(|x| x.entry.hour.day() as i32),
            )),
            Arc::new(Int32Array::from_iter_values(
                f.iter().map(|x| x.entry.hour.hour() as i32),
            )),
            Arc::new(Date32Array::from_iter_values(
                f.iter()
                    .map(|x| days_since_epoch(x.entry.hour.date_naive())),
            )),
            Arc::new(StringArray::from_iter_values(
                f.iter().map(|x| x.entry.path.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                f.iter().map(|x| x.tier.as_str()),
            )),
        ];
        Ok(RecordBatch::try_new(partition_schema(), cols)?)
    }
}

fn only_partition_columns(e: &Expr) -> bool {
    e.column_refs()
        .iter()
        .all(|c| PARTITION_COLUMNS.contains(&c.name.as_str()))
}

#[async_trait]
impl TableProvider for BronzeTable {
    fn schema(&self) -> SchemaRef {
        SCHEMA.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if only_partition_columns(f) {
                    // Files are pruned by it; DataFusion still applies it to the rows.
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut keep: Vec<bool> = vec![true; self.files.len()];
        let pushed: Vec<&Expr> = filters
            .iter()
            .filter(|f| only_partition_columns(f))
            .collect();
        if !pushed.is_empty() && !self.files.is_empty() {
            let batch = self.partition_batch()?;
            let df_schema = DFSchema::try_from(partition_schema())?;
            for f in pushed {
                let expr = state.create_physical_expr(f.clone(), &df_schema)?;
                let result = expr.evaluate(&batch)?.into_array(batch.num_rows())?;
                let Some(mask) = result.as_any().downcast_ref::<BooleanArray>() else {
                    continue;
                };
                for (i, k) in keep.iter_mut().enumerate() {
                    *k = *k && mask.is_valid(i) && mask.value(i);
                }
            }
        }
        let files: Vec<FileRef> = self
            .files
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(f, _)| f.clone())
            .collect();
        // A few partitions, each reading its files one after the other: bounded memory
        // however many files the layer has.
        let n = state
            .config()
            .target_partitions()
            .clamp(1, 16)
            .min(files.len().max(1));
        let mut groups: Vec<Vec<FileRef>> = vec![Vec::new(); n];
        for (i, f) in files.into_iter().enumerate() {
            groups[i % n].push(f);
        }
        let partitions: Vec<Arc<dyn PartitionStream>> = groups
            .into_iter()
            .map(|files| {
                Arc::new(FilesStream {
                    files,
                    locator: self.locator.clone(),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        let exec = StreamingTableExec::try_new(
            SCHEMA.clone(),
            partitions,
            projection,
            LexOrdering::new(Vec::new()),
            false,
            limit,
        )?;
        Ok(Arc::new(exec))
    }
}

struct FilesStream {
    files: Vec<FileRef>,
    locator: BronzeLocator,
}

impl std::fmt::Debug for FilesStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BronzeFiles({})", self.files.len())
    }
}

impl PartitionStream for FilesStream {
    fn schema(&self) -> &SchemaRef {
        &SCHEMA
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let locator = self.locator.clone();
        let stream = futures::stream::iter(self.files.clone()).then(move |f| {
            let locator = locator.clone();
            async move { read_file(&locator, &f).await }
        });
        Box::pin(RecordBatchStreamAdapter::new(SCHEMA.clone(), stream))
    }
}

/// One Bronze file as rows.
async fn read_file(locator: &BronzeLocator, f: &FileRef) -> Result<RecordBatch> {
    let path = &f.entry.path;
    let bytes = locator
        .get(path)
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?
        .ok_or_else(|| DataFusionError::Execution(format!("{path} was deleted by lifecycle")))?;
    let text = tokio::task::spawn_blocking(move || {
        let raw = crate::lake::gzip::gunzip(&bytes).map_err(|e| e.to_string())?;
        String::from_utf8(raw).map_err(|e| format!("not UTF-8: {e}"))
    })
    .await
    .map_err(|e| DataFusionError::Execution(e.to_string()))?
    .map_err(|e| DataFusionError::Execution(format!("Bronze file {path}: {e}")))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let n = lines.len();
    let e = &f.entry;
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![e.event_type.as_str(); n])),
        Arc::new(Int32Array::from(vec![e.hour.year(); n])),
        Arc::new(Int32Array::from(vec![e.hour.month() as i32; n])),
        Arc::new(Int32Array::from(vec![e.hour.day() as i32; n])),
        Arc::new(Int32Array::from(vec![e.hour.hour() as i32; n])),
        Arc::new(Date32Array::from(vec![
            days_since_epoch(e.hour.date_naive());
            n
        ])),
        Arc::new(StringArray::from(vec![path.as_str(); n])),
        Arc::new(StringArray::from(vec![f.tier.as_str(); n])),
        Arc::new(Int64Array::from_iter_values(1..=n as i64)),
        Arc::new(StringArray::from(lines)),
    ];
    Ok(RecordBatch::try_new(SCHEMA.clone(), cols)?)
}
