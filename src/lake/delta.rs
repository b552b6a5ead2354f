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
pub const SILVER_REJECTS: &str = "silver/rejects";
pub const GOLD_DAILY: &str = "gold/daily_queue_metrics";
pub const GOLD_HOURLY: &str = "gold/hourly_queue_metrics";
/// Every Delta table of a lake, in flow order.
pub const DELTA_TABLES: [&str; 5] = [
    SILVER_CONTACTS,
    SILVER_DRIFT,
    SILVER_REJECTS,
    GOLD_DAILY,
    GOLD_HOURLY,
];

/// Delta's log store for object stores: commits are written with `PutMode::Create`, which
/// object_store turns into a conditional put on every cloud store (S3 `If-None-Match: *`,
/// Azure `If-None-Match: *`, GCS `ifGenerationMatch=0`). Two writers racing for the same
/// version cannot both succeed: the loser gets `VersionAlreadyExists` and retries on the new
/// version. This is deltalake's conditional-put commit, without a DynamoDB lock table.
struct ConditionalPutLogStore;

impl deltalake::logstore::LogStoreFactory for ConditionalPutLogStore {
    fn with_options(
        &self,
        prefixed_store: deltalake::logstore::ObjectStoreRef,
        root_store: deltalake::logstore::ObjectStoreRef,
        location: &url::Url,
        options: &deltalake::logstore::StorageConfig,
    ) -> deltalake::DeltaResult<std::sync::Arc<dyn deltalake::logstore::LogStore>> {
        Ok(deltalake::logstore::default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// Registers the conditional-put log store for the cloud schemes a lake may use (deltalake
/// knows only `file://` and `memory://` without its per-cloud crates).
fn register_cloud_log_stores() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let registry = deltalake::logstore::logstore_factories();
        for scheme in ["s3", "s3a", "az", "azure", "abfs", "abfss", "gs"] {
            if let Ok(url) = url::Url::parse(&format!("{scheme}://")) {
                registry.insert(url, std::sync::Arc::new(ConditionalPutLogStore));
            }
        }
    });
}

/// Opens a table of the lake; a table that does not exist yet opens uninitialised (the first
/// write creates it).
pub async fn open(lake: &Lake, rel: &str) -> Result<DeltaTable, DeltaTableError> {
    register_cloud_log_stores();
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
    // Durations to the hundredth of a second hardly repeat: on a bench day the dictionary
    // attempt cost 4% of encoding the file and left it 0.3% larger than plain values.
    "duration_seconds",
    "talk_seconds",
    "notes",
    "_rescued_data",
];

/// Columns that hold keyed hashes in hex. Snappy finds nothing to squeeze in them (4.48 MB of
/// 4.59 MB on a bench day) and costs a pass over every page; and their min/max says nothing a
/// reader can skip files by, as hashes spread evenly over their whole range.
const KEYED_HASHES: &[&str] = &[
    "phone_number",
    "customer_key",
    "member_id",
    "account_number",
    "card_number",
];

/// Columns whose min/max no reader can skip a file by, so they get none: working min/max out
/// compares every value as it is written. Free text has no order worth keeping; the Bronze
/// path of a row starts with its date, which the partition already says.
const NO_STATISTICS: &[&str] = &["notes", "_rescued_data", "_bronze_file"];

/// Parquet settings for `silver/contacts`: Snappy (cheap to write and read; the lake is local or
/// object storage, not a network hop per page), min/max statistics per column chunk (what
/// Delta's file skipping uses) except where they cannot skip anything, no dictionary attempt
/// on columns of unique values.
pub fn silver_writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for c in HIGH_CARDINALITY {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*c), false);
    }
    for c in KEYED_HASHES.iter().chain(NO_STATISTICS) {
        b = b.set_column_statistics_enabled(ColumnPath::from(*c), EnabledStatistics::None);
    }
    for c in KEYED_HASHES {
        b = b.set_column_compression(ColumnPath::from(*c), Compression::UNCOMPRESSED);
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

/// [`replace_dates_with`] for data already split by date: each date's Parquet file is
/// written by its own task (on all cores) straight from its batches, and one commit removes
/// the dates' old files and adds the new ones. delta-rs's own write encodes on one task after
/// copying every column to split the rows by partition; for Silver that copy and the single
/// encoder were a third of the commit. The batches must carry a `date` column holding their
/// date. A table that does not exist yet, or whose schema or partitioning differs from the
/// batches', goes through [`replace_dates_with`] (which creates or checks it). When a writer
/// fails, files the others wrote are left uncommitted, for vacuum.
pub async fn replace_date_partitions(
    table: DeltaTable,
    per_date: Vec<(NaiveDate, Vec<RecordBatch>)>,
    metadata: serde_json::Map<String, serde_json::Value>,
    writer: WriterProperties,
) -> Result<DeltaTable, DeltaTableError> {
    let dates: Vec<NaiveDate> = per_date.iter().map(|(d, _)| *d).collect();
    let Some(schema) = per_date
        .iter()
        .flat_map(|(_, b)| b.first())
        .map(|b| b.schema())
        .next()
    else {
        return replace_dates_with(table, Vec::new(), &dates, metadata, Some(writer)).await;
    };
    let same_schema = exists(&table) && {
        let state = table.snapshot()?;
        let have = state.snapshot().arrow_schema();
        state.metadata().partition_columns() == ["date".to_string()]
            && have.fields().len() == schema.fields().len()
            && have
                .fields()
                .iter()
                .zip(schema.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type())
    };
    let date_col = schema.index_of("date").ok();
    let (true, Some(date_col)) = (same_schema, date_col) else {
        let batches = per_date.into_iter().flat_map(|(_, b)| b).collect();
        return replace_dates_with(table, batches, &dates, metadata, Some(writer)).await;
    };

    let config = date_writer_config(&table, schema, writer)?;
    let store = table.log_store().object_store(None);
    let pieces = split_for_cores(per_date, writer_threads());
    let tasks: Vec<_> = pieces
        .into_iter()
        .map(|(date, batches)| {
            let (store, config) = (store.clone(), config.clone());
            tokio::spawn(
                async move { write_date_files(store, config, date_col, date, batches).await },
            )
        })
        .collect();
    let mut adds = Vec::new();
    for t in tasks {
        adds.extend(
            t.await
                .map_err(|e| DeltaTableError::Generic(format!("Parquet writer task: {e}")))??,
        );
    }
    commit_date_files(table, &dates, adds, metadata).await
}

/// Rows below which a date is written as one file however many cores are idle: a second
/// file would cost readers more than the encoding it saves.
const MIN_ROWS_PER_FILE: usize = 20_000;

/// Threads the Parquet writer tasks can run on.
fn writer_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One writer task per date, or, when there are fewer dates than `threads` (a late file's
/// one day), a date's batches cut into up to `threads` runs of whole batches, each written as
/// its own file of the date: encoding is the commit's work, and a single encoder would leave
/// the other cores idle.
fn split_for_cores(
    per_date: Vec<(NaiveDate, Vec<RecordBatch>)>,
    threads: usize,
) -> Vec<(NaiveDate, Vec<RecordBatch>)> {
    let dates = per_date.len().max(1);
    let mut out = Vec::with_capacity(per_date.len());
    for (date, batches) in per_date {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let files = (threads / dates)
            .min(rows / MIN_ROWS_PER_FILE)
            .min(batches.len())
            .max(1);
        if files == 1 {
            out.push((date, batches));
            continue;
        }
        let per_file = rows.div_ceil(files);
        let mut piece = Vec::new();
        let mut in_piece = 0;
        for b in batches {
            in_piece += b.num_rows();
            piece.push(b);
            if in_piece >= per_file {
                out.push((date, std::mem::take(&mut piece)));
                in_piece = 0;
            }
        }
        if !piece.is_empty() {
            out.push((date, piece));
        }
    }
    out
}

/// Creates `table` (which does not exist yet) empty, with `schema`, partitioned by date.
pub async fn create(
    table: DeltaTable,
    schema: deltalake::arrow::datatypes::SchemaRef,
) -> Result<DeltaTable, DeltaTableError> {
    use deltalake::kernel::engine::arrow_conversion::TryIntoKernel as _;
    let kernel: deltalake::kernel::StructType = schema.as_ref().try_into_kernel()?;
    deltalake::operations::create::CreateBuilder::new()
        .with_log_store(table.log_store())
        .with_columns(kernel.fields().cloned())
        .with_partition_columns(["date"])
        .await
}

/// How a date's Parquet files are written for `table`: its schema, partitioned by date, the
/// statistics its configuration asks for.
pub fn date_writer_config(
    table: &DeltaTable,
    schema: deltalake::arrow::datatypes::SchemaRef,
    writer: WriterProperties,
) -> Result<deltalake::datafile::writer::WriterConfig, DeltaTableError> {
    use deltalake::operations::write::configs::WriterStatsConfig;
    let state = table.snapshot()?;
    let stats = WriterStatsConfig::from_config(state.snapshot().table_configuration());
    Ok(deltalake::datafile::writer::WriterConfig::new(
        schema,
        vec!["date".to_string()],
        Some(writer),
        None,
        None,
        stats.num_indexed_cols,
        stats.stats_columns,
    ))
}

/// Writes one date's batches as Parquet files of the table (not yet part of it): the add
/// actions a commit makes them part of. Files never committed are unreferenced and vacuumed.
pub async fn write_date_files(
    store: deltalake::logstore::ObjectStoreRef,
    config: deltalake::datafile::writer::WriterConfig,
    date_col: usize,
    date: NaiveDate,
    batches: Vec<RecordBatch>,
) -> Result<Vec<deltalake::kernel::Add>, DeltaTableError> {
    use deltalake::datafile::writer::DeltaWriter;
    use deltalake::kernel::scalars::ScalarExt;
    let mut w = DeltaWriter::new(store, config);
    for b in batches.iter().filter(|b| b.num_rows() > 0) {
        let values = ScalarExt::from_array(b.column(date_col).as_ref(), 0)
            .ok_or_else(|| DeltaTableError::Generic(format!("{date}: no date value")))?;
        let values = indexmap::IndexMap::from([("date".to_string(), values)]);
        w.write_partition(b.clone(), &values).await?;
    }
    w.close().await
}

/// Commits written files in place of whatever the table held on `dates`, in one atomic
/// commit (a replaceWhere on the date partitions).
pub async fn commit_date_files(
    table: DeltaTable,
    dates: &[NaiveDate],
    adds: Vec<deltalake::kernel::Add>,
    metadata: serde_json::Map<String, serde_json::Value>,
) -> Result<DeltaTable, DeltaTableError> {
    use deltalake::kernel::Action;
    use deltalake::kernel::transaction::CommitBuilder;
    use deltalake::protocol::DeltaOperation;
    let state = table.snapshot()?;
    let mut actions: Vec<Action> = adds.into_iter().map(Action::Add).collect();
    let wanted: std::collections::HashSet<String> = dates
        .iter()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect();
    for f in state.log_data().iter() {
        let date = f.partition_values_map().get("date").cloned().flatten();
        if date.is_some_and(|d| wanted.contains(&d)) {
            actions.push(Action::Remove(f.remove_action(true)));
        }
    }
    let operation = DeltaOperation::Write {
        mode: SaveMode::Overwrite,
        partition_by: Some(vec!["date".to_string()]),
        predicate: Some(dates_predicate("date", dates)),
    };
    // The same metrics Delta's own writes record, so the table's history reads alike.
    let added = actions
        .iter()
        .filter(|a| matches!(a, Action::Add(_)))
        .count();
    let metrics = serde_json::json!({
        "num_added_files": added,
        "num_removed_files": actions.len() - added,
    });
    let mut metadata = metadata;
    metadata.insert("operationMetrics".into(), metrics);
    metadata.insert("cclake.writer".into(), "date_partitions".into());
    let commit = CommitBuilder::from(CommitProperties::default().with_metadata(metadata))
        .with_actions(actions)
        .build(Some(state), table.log_store(), operation)
        .await?;
    let mut table = table;
    table.state = Some(commit.snapshot());
    Ok(table)
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
    stats_of(&table, rel)
}

/// [`table_stats`] of a table already open.
pub fn stats_of(table: &DeltaTable, rel: &str) -> Result<TableStats, DeltaTableError> {
    let mut stats = TableStats {
        name: rel.to_string(),
        version: table.version(),
        files: 0,
        rows: 0,
        bytes: 0,
        partitions: Vec::new(),
    };
    if !exists(table) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Date32Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 9, d).unwrap()
    }

    /// One batch of `n` rows on `date`, with values starting at `first`.
    fn batch(date: NaiveDate, first: i64, n: i64) -> RecordBatch {
        let days = (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32;
        let schema = Arc::new(Schema::new(vec![
            Field::new("v", DataType::Int64, false),
            Field::new("date", DataType::Date32, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(first..first + n)),
                Arc::new(Date32Array::from(vec![days; n as usize])),
            ],
        )
        .unwrap()
    }

    fn rows_by_date(stats: &TableStats) -> Vec<(String, u64)> {
        stats
            .partitions
            .iter()
            .map(|p| (p.date.clone(), p.rows))
            .collect()
    }

    #[test]
    fn a_lone_date_is_cut_into_whole_batch_runs_one_per_core() {
        let values = |pieces: &[(NaiveDate, Vec<RecordBatch>)]| -> Vec<(NaiveDate, i64)> {
            (pieces.iter())
                .flat_map(|(d, bs)| bs.iter().map(move |b| (*d, b)))
                .flat_map(|(d, b)| {
                    let v = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                    v.values().iter().map(move |x| (d, *x)).collect::<Vec<_>>()
                })
                .collect()
        };
        let lone = vec![(
            day(1),
            (0..8).map(|i| batch(day(1), i * 10_000, 10_000)).collect(),
        )];
        let want = values(&lone);
        let cut = split_for_cores(lone.clone(), 4);
        assert_eq!(cut.len(), 4, "80,000 rows on 4 cores: four files");
        assert!(cut.iter().all(|(d, b)| *d == day(1) && b.len() == 2));
        assert_eq!(values(&cut), want, "every row once, in order");
        // Too few rows for a second file, or as many dates as cores: one file per date.
        assert_eq!(split_for_cores(lone.clone(), 1).len(), 1);
        let small = vec![(day(1), vec![batch(day(1), 0, 30_000)])];
        assert_eq!(
            split_for_cores(small, 4).len(),
            1,
            "one batch cannot be cut"
        );
        let two = vec![lone[0].clone(), (day(2), vec![batch(day(2), 0, 10)])];
        let cut = split_for_cores(two, 2);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[1].0, day(2));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn date_partitions_are_replaced_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
        let rel = "silver/t";
        // A new table goes through delta-rs's own write, which creates it.
        let t = open(&lake, rel).await.unwrap();
        let t = replace_date_partitions(
            t,
            vec![
                (day(1), vec![batch(day(1), 0, 10)]),
                (day(2), vec![batch(day(2), 100, 20), batch(day(2), 200, 5)]),
            ],
            Default::default(),
            silver_writer_properties(),
        )
        .await
        .unwrap();
        assert_eq!(t.version(), Some(0));
        let s = table_stats(&lake, rel).await.unwrap();
        assert_eq!(
            rows_by_date(&s),
            [("2026-09-01".into(), 10), ("2026-09-02".into(), 25)]
        );

        // Replace day 2, add day 3, and empty day 1: day 1's file goes, nothing else stays.
        let t = replace_date_partitions(
            t,
            vec![
                (day(1), vec![]),
                (day(2), vec![batch(day(2), 300, 7)]),
                (day(3), vec![batch(day(3), 400, 3)]),
            ],
            Default::default(),
            silver_writer_properties(),
        )
        .await
        .unwrap();
        assert_eq!(t.version(), Some(1));
        let s = table_stats(&lake, rel).await.unwrap();
        assert_eq!(
            rows_by_date(&s),
            [("2026-09-02".into(), 7), ("2026-09-03".into(), 3)]
        );
        assert_eq!(s.files, 2);
        // This commit came from the per-date writers, not a fallback to delta-rs's write.
        let log = std::fs::read_to_string(
            dir.path()
                .join("lake/silver/t/_delta_log/00000000000000000001.json"),
        )
        .unwrap();
        assert!(
            log.contains("\"cclake.writer\":\"date_partitions\""),
            "{log}"
        );
        assert_eq!(log.matches("\"remove\"").count(), 2, "{log}");

        // What a Delta reader sees: the new values only, each on its date.
        let ctx = datafusion::prelude::SessionContext::new();
        let t = open(&lake, rel).await.unwrap();
        assert!(register(&ctx, "t", &t).await.unwrap());
        let got = ctx
            .sql("SELECT count(*) AS n, min(v) AS lo, max(v) AS hi FROM t WHERE date = DATE '2026-09-02'")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&got)
            .unwrap()
            .to_string();
        assert!(text.contains("| 7 | 300 | 306 |"), "{text}");
    }
}

/// The `date` partitions a table's commits `from..=to` added or removed files in, read from
/// the add and remove actions of each commit. `None` when a commit file is gone (log cleanup): the caller then
/// rebuilds everything.
pub async fn changed_dates(
    lake: &Lake,
    rel: &str,
    from: u64,
    to: u64,
) -> Result<Option<std::collections::BTreeSet<NaiveDate>>, super::LakeError> {
    let mut dates = std::collections::BTreeSet::new();
    for v in from..=to {
        let path = object_store::path::Path::from(format!("{rel}/_delta_log/{v:020}.json"));
        let body = match lake.get(&path).await {
            Ok(b) => b,
            Err(super::LakeError::Store {
                source: object_store::Error::NotFound { .. },
                ..
            }) => return Ok(None),
            Err(e) => return Err(e),
        };
        for line in body.split(|b| *b == b'\n') {
            let Ok(action) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            for kind in ["add", "remove"] {
                if let Some(date) = action
                    .get(kind)
                    .and_then(|a| a.get("partitionValues"))
                    .and_then(|p| p.get("date"))
                    .and_then(serde_json::Value::as_str)
                    .and_then(|s| s.parse::<NaiveDate>().ok())
                {
                    dates.insert(date);
                }
            }
        }
    }
    Ok(Some(dates))
}

/// Removes the table's data files no longer referenced and older than `retention`; returns
/// the table and how many files went (or would go, `dry_run`). The retention is the lake
/// owner's choice: Delta's 7-day floor is advice for concurrent readers, which a lake with a
/// configured retention (or an erasure) has chosen to forgo.
pub async fn vacuum(
    table: DeltaTable,
    retention: chrono::Duration,
    dry_run: bool,
) -> Result<(DeltaTable, usize), DeltaTableError> {
    let (table, metrics) = table
        .vacuum()
        .with_retention_period(retention)
        .with_enforce_retention_duration(false)
        .with_dry_run(dry_run)
        .await?;
    Ok((table, metrics.files_deleted.len()))
}

/// Writes a checkpoint of the table's current version and deletes every log file before it,
/// so the log no longer describes (or carries statistics of) what the table held before.
/// Returns the log files deleted.
pub async fn cut_log(table: &DeltaTable) -> Result<usize, DeltaTableError> {
    use deltalake::protocol::checkpoints::{cleanup_expired_logs_for, create_checkpoint};
    let Some(version) = table.version() else {
        return Ok(0);
    };
    create_checkpoint(table, None).await?;
    let cutoff = chrono::Utc::now().timestamp_millis() + 1;
    cleanup_expired_logs_for(version, table.log_store().as_ref(), cutoff, None).await
}

/// One commit of a Delta table, from its log.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub version: u64,
    pub timestamp: Option<chrono::DateTime<chrono::Utc>>,
    /// What cclake did (`silver.process`, `gold.build`, …), else Delta's operation name.
    pub operation: String,
    /// How many dates it replaced and how many files it added and removed, in words.
    pub detail: String,
}

/// The table's last `limit` commits, newest first (empty for a table not written yet).
pub async fn history(lake: &Lake, rel: &str, limit: usize) -> Result<Vec<Commit>, DeltaTableError> {
    use futures::TryStreamExt;
    let table = open(lake, rel).await?;
    let Some(current) = table.version() else {
        return Ok(Vec::new());
    };
    let infos: Vec<deltalake::kernel::CommitInfo> =
        table.history(Some(limit)).try_collect().await?;
    // The log is read newest first and without gaps down from the current version.
    Ok(infos
        .into_iter()
        .zip((0..=current).rev())
        .map(|(info, version)| commit_of(info, version))
        .collect())
}

fn commit_of(info: deltalake::kernel::CommitInfo, version: u64) -> Commit {
    let text = |k: &str| {
        info.info
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let operation = text("cclake.operation")
        .or(info.operation.clone())
        .unwrap_or_default();
    let mut detail = Vec::new();
    if let Some(dates) = info.info.get("cclake.dates").and_then(|d| d.as_array()) {
        detail.push(format!("{} dates", dates.len()));
    }
    let metrics = info.info.get("operationMetrics");
    let metric = |names: [&str; 2]| {
        let m = metrics?;
        names
            .iter()
            .find_map(|n| m.get(*n))
            .and_then(|v| v.as_u64())
    };
    if let Some(added) = metric(["num_added_files", "numAddedFiles"]) {
        let removed = metric(["num_removed_files", "numRemovedFiles"]).unwrap_or(0);
        detail.push(format!("+{added} -{removed} files"));
    }
    Commit {
        version,
        timestamp: info
            .timestamp
            .and_then(chrono::DateTime::from_timestamp_millis),
        operation,
        detail: detail.join(" "),
    }
}
