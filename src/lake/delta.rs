//! Delta tables inside the lake: opening them through the lake's own object store, and the
//! one write cclake does to them, an atomic replace of whole date partitions.

use chrono::NaiveDate;
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::Lake;

pub const SILVER_CONTACTS: &str = "silver/contacts";
pub const SILVER_DRIFT: &str = "silver/schema_drift";
pub const GOLD_DAILY: &str = "gold/daily_queue_metrics";
pub const GOLD_HOURLY: &str = "gold/hourly_queue_metrics";

/// Opens a table of the lake; a table that does not exist yet opens uninitialised (the first
/// write creates it).
pub async fn open(lake: &Lake, rel: &str) -> Result<DeltaTable, DeltaTableError> {
    if let Some(root) = lake.local_root() {
        let _ = std::fs::create_dir_all(root.join(rel));
    }
    let url = lake.url_of(rel);
    let mut table = DeltaTableBuilder::from_url(url.clone())?
        .with_storage_backend(lake.root_store(), url)
        .build()?;
    // Loading a table that was never written logs errors from the kernel; look first.
    let log = lake
        .list(&format!("{}/_delta_log", rel.trim_matches('/')))
        .await
        .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
    if log.is_empty() {
        return Ok(table);
    }
    match table.load().await {
        Ok(()) | Err(DeltaTableError::NotATable(_)) => Ok(table),
        Err(e) => Err(e),
    }
}

/// True when the table has at least one commit.
pub fn exists(table: &DeltaTable) -> bool {
    table.version().is_some()
}

/// SQL predicate selecting the given date partitions.
pub fn dates_predicate(column: &str, dates: &[NaiveDate]) -> String {
    let list: Vec<String> = dates
        .iter()
        .map(|d| format!("'{}'", d.format("%Y-%m-%d")))
        .collect();
    format!("{column} IN ({})", list.join(", "))
}

/// Columns whose values are (nearly) all distinct: a dictionary page for them is built and
/// then thrown away, so it is not tried. Names a table does not have are ignored. Caller
/// columns (phone hash, customer_key, member and account ids) keep their dictionary: callers
/// come back, and Gold's FCR reads customer_key.
const HIGH_CARDINALITY: &[&str] = &[
    "event_id",
    "contact_id",
    "occurred_at",
    "ended_at",
    "notes",
    "_rescued_data",
];

/// Parquet settings for `silver/contacts`: Snappy (cheap to write and read; the lake is local or
/// object storage, not a network hop per page), min/max statistics per column chunk (what
/// Delta's file skipping uses), no dictionary attempt on columns of unique values.
pub fn silver_writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for c in HIGH_CARDINALITY {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*c), false);
    }
    b.build()
}

/// Replaces exactly the given date partitions with `batches` in one commit (Delta
/// replaceWhere); other partitions keep their files. `metadata` is recorded in the commit.
pub async fn replace_dates(
    table: DeltaTable,
    batches: Vec<RecordBatch>,
    dates: &[NaiveDate],
    metadata: serde_json::Map<String, serde_json::Value>,
) -> Result<DeltaTable, DeltaTableError> {
    replace_dates_with(table, batches, dates, metadata, None).await
}

/// [`replace_dates`] with Parquet settings of the caller's choice (`None`: the defaults).
pub async fn replace_dates_with(
    table: DeltaTable,
    batches: Vec<RecordBatch>,
    dates: &[NaiveDate],
    metadata: serde_json::Map<String, serde_json::Value>,
    writer: Option<WriterProperties>,
) -> Result<DeltaTable, DeltaTableError> {
    let props = CommitProperties::default().with_metadata(metadata);
    let mut write = table.write(batches);
    if let Some(w) = writer {
        write = write.with_writer_properties(w);
    }
    write
        .with_save_mode(SaveMode::Overwrite)
        .with_partition_columns(["date"])
        .with_replace_where(dates_predicate("date", dates))
        .with_commit_properties(props)
        .await
}

/// Registers a table with a DataFusion session under `name` (a table that was never written
/// is not registered). Returns whether it was.
pub async fn register(
    ctx: &datafusion::prelude::SessionContext,
    name: &str,
    table: &DeltaTable,
) -> Result<bool, DeltaTableError> {
    if !exists(table) {
        return Ok(false);
    }
    table.update_datafusion_session(&ctx.state())?;
    let provider = table
        .table_provider()
        .await
        .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
    ctx.register_table(name, provider)
        .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
    Ok(true)
}

/// One partition (date) of a Delta table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PartitionStats {
    pub date: String,
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

/// A Delta table's current version, totals and partitions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableStats {
    pub name: String,
    pub version: Option<u64>,
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
    pub partitions: Vec<PartitionStats>,
}

/// Stats of a table from its log (no data file is read).
pub async fn table_stats(lake: &Lake, rel: &str) -> Result<TableStats, DeltaTableError> {
    let table = open(lake, rel).await?;
    let mut stats = TableStats {
        name: rel.to_string(),
        version: table.version(),
        files: 0,
        rows: 0,
        bytes: 0,
        partitions: Vec::new(),
    };
    if !exists(&table) {
        return Ok(stats);
    }
    let mut parts: std::collections::BTreeMap<String, PartitionStats> = Default::default();
    for f in table.snapshot()?.log_data().iter() {
        let date = f
            .partition_values_map()
            .get("date")
            .cloned()
            .flatten()
            .unwrap_or_default();
        let rows = f.num_records().unwrap_or(0) as u64;
        let bytes = f.size().max(0) as u64;
        let modified =
            chrono::DateTime::from_timestamp_millis(f.modification_time()).unwrap_or_default();
        stats.files += 1;
        stats.rows += rows;
        stats.bytes += bytes;
        let p = parts.entry(date.clone()).or_insert_with(|| PartitionStats {
            date,
            files: 0,
            rows: 0,
            bytes: 0,
            last_modified: modified,
        });
        p.files += 1;
        p.rows += rows;
        p.bytes += bytes;
        p.last_modified = p.last_modified.max(modified);
    }
    stats.partitions = parts.into_values().collect();
    Ok(stats)
}

/// A column as plain UTF-8 strings, whatever string layout the reader produced (Delta scans
/// may hand back dictionary or view arrays).
pub fn utf8_column(
    col: &arrow::array::ArrayRef,
) -> Result<arrow::array::StringArray, arrow::error::ArrowError> {
    use arrow::array::AsArray;
    let cast = arrow::compute::cast(col, &arrow::datatypes::DataType::Utf8)?;
    Ok(cast.as_string::<i32>().clone())
}
