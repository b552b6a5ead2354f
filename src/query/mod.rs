//! SQL over the whole lake with DataFusion: what `cclake query` and the app's SQL box run.
//!
//! Tables: `silver_contacts`, `schema_drift`, `gold_daily_queue_metrics`,
//! `gold_hourly_queue_metrics` (Delta), `bronze_contacts` and `bronze_events` (raw Bronze
//! lines with their partition columns, hot or cold). The reporting-zone functions
//! `cclake_local_date`, `cclake_local_hour` and `cclake_hour_start` are available too.

pub mod bronze_table;
pub mod freshness;
pub mod limits;
pub mod lineage;

use std::path::Path as FsPath;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::zone::ReportingZone;
use crate::config::{self, ConfigError};
use crate::lake::Lake;
use crate::lake::delta::{
    self, GOLD_DAILY, GOLD_HOURLY, SILVER_CONTACTS, SILVER_DRIFT, SILVER_REJECTS,
};
use crate::lake::ledger::{self, LedgerError};
use crate::lake::tiers::BronzeLocator;
use bronze_table::BronzeTable;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
    #[error("Delta table {table}: {source}")]
    Delta {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error("{0}")]
    Sql(#[from] datafusion::error::DataFusionError),
    #[error(
        "the lake's SQL is read-only ({0}): tables change only through ingest, process and \
         lifecycle, and query results are saved with --out or the app's Export"
    )]
    ReadOnly(String),
    #[error("writing {path}: {message}")]
    Write { path: String, message: String },
    #[error(
        "the query needed more than {limit} of memory and was stopped; narrow it (a WHERE, a \
         LIMIT, fewer columns) or raise CCLAKE_QUERY_MEMORY"
    )]
    TooLarge { limit: String },
    #[error(
        "the query ran longer than {secs} s and was stopped; narrow it or raise \
         CCLAKE_QUERY_TIMEOUT (seconds)"
    )]
    TooSlow { secs: f64 },
    #[error(
        "{table} is not built yet: run `cclake process` (or Process in the app's Jobs pane) \
         to build Silver and Gold from Bronze"
    )]
    NotBuilt { table: &'static str },
}

/// A table of the lake as SQL sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LakeTable {
    /// Its SQL name.
    pub name: &'static str,
    /// The Delta table it reads (`silver/contacts`, …); `None` for the Bronze tables, which
    /// read the raw partition files.
    pub delta: Option<&'static str>,
    pub layer: Layer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Bronze,
    Silver,
    Gold,
}

/// Every table of the lake, in flow order: the one list the SQL session, the browser, the
/// leak scan and the API go by.
pub const TABLES: [LakeTable; 7] = [
    LakeTable {
        name: "bronze_contacts",
        delta: None,
        layer: Layer::Bronze,
    },
    LakeTable {
        name: "bronze_events",
        delta: None,
        layer: Layer::Bronze,
    },
    LakeTable {
        name: "silver_contacts",
        delta: Some(SILVER_CONTACTS),
        layer: Layer::Silver,
    },
    LakeTable {
        name: "schema_drift",
        delta: Some(SILVER_DRIFT),
        layer: Layer::Silver,
    },
    LakeTable {
        name: "silver_rejects",
        delta: Some(SILVER_REJECTS),
        layer: Layer::Silver,
    },
    LakeTable {
        name: "gold_daily_queue_metrics",
        delta: Some(GOLD_DAILY),
        layer: Layer::Gold,
    },
    LakeTable {
        name: "gold_hourly_queue_metrics",
        delta: Some(GOLD_HOURLY),
        layer: Layer::Gold,
    },
];

/// The table of a SQL name.
pub fn table(name: &str) -> Option<&'static LakeTable> {
    TABLES.iter().find(|t| t.name == name)
}

/// The SQL name of a Delta table (`silver/contacts` → `silver_contacts`).
pub fn sql_name(delta: &str) -> Option<&'static str> {
    TABLES
        .iter()
        .find(|t| t.delta == Some(delta))
        .map(|t| t.name)
}

/// A DataFusion session with every table of the lake registered (tables not built yet are
/// left out, so a query naming them says the table is not found).
pub async fn session(lake: &Lake) -> Result<SessionContext, QueryError> {
    session_with(lake, SessionConfig::new()).await
}

/// [`session`] with a DataFusion configuration of the caller's (the app's grid scans with one
/// partition so pages of an unsorted scan come in a stable order).
pub async fn session_with(
    lake: &Lake,
    config: SessionConfig,
) -> Result<SessionContext, QueryError> {
    let limits = limits::QueryLimits::from_env();
    let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_memory_limit(limits.memory_bytes, 1.0)
        .build_arc()?;
    let ctx = SessionContext::new_with_config_rt(config.with_information_schema(true), runtime);
    let pipeline = config::load_pipeline(lake).await?;
    if let Ok(zone) = ReportingZone::parse(&pipeline.reporting_timezone) {
        for udf in zone.udfs() {
            ctx.register_udf(udf);
        }
    }
    for LakeTable { name, delta, .. } in TABLES {
        let Some(rel) = delta else { continue };
        let table = delta::open(lake, rel)
            .await
            .map_err(|source| QueryError::Delta { table: rel, source })?;
        delta::register(&ctx, name, &table)
            .await
            .map_err(|source| QueryError::Delta { table: rel, source })?;
    }
    let locator = BronzeLocator::load(lake).await?;
    let files: Vec<_> = ledger::read_all(lake)
        .await?
        .into_iter()
        .flat_map(|r| r.bronze_files)
        .collect();
    ctx.register_table(
        "bronze_contacts",
        Arc::new(BronzeTable::new(
            files.iter().cloned(),
            locator.clone(),
            Some("contact"),
        )),
    )?;
    ctx.register_table(
        "bronze_events",
        Arc::new(BronzeTable::new(files, locator, None)),
    )?;
    Ok(ctx)
}

/// A query's result.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// What SQL a user types may do: query. DDL (`CREATE`, `DROP`), DML (`INSERT INTO` a Gold
/// table, `COPY … TO` any path) and statements (`SET`, transactions) are refused, so no SQL
/// box or API can change the lake's numbers or write files behind the pipeline's back.
pub fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Plans SQL a user typed (the CLI, the SQL pane, the grid's filter), refusing anything but a
/// query before it runs.
pub async fn user_sql(ctx: &SessionContext, sql: &str) -> Result<DataFrame, QueryError> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state.sql_to_statement(sql, &dialect)?;
    // A lake table the session left out has not been built yet: say so, rather than let
    // the planner call it unknown.
    for r in state.resolve_table_references(&statement)? {
        if let Some(t) = table(r.table())
            && !ctx.table_exist(r.clone())?
        {
            return Err(QueryError::NotBuilt { table: t.name });
        }
    }
    let plan = state.statement_to_plan(statement).await?;
    read_only()
        .verify_plan(&plan)
        .map_err(|e| QueryError::ReadOnly(e.strip_backtrace()))?;
    Ok(ctx.execute_logical_plan(plan).await?)
}

/// Runs one SQL statement a user typed (a query; see [`user_sql`]).
/// It runs within the [`limits::QueryLimits`]: the memory its operators reserve and the rows it
/// returns are held to the memory limit, and it is stopped at the time limit.
pub async fn run(ctx: &SessionContext, sql: &str) -> Result<QueryResult, QueryError> {
    use futures::StreamExt;
    let limits = limits::QueryLimits::from_env();
    let too_large = || QueryError::TooLarge {
        limit: limits.memory_words(),
    };
    let df = user_sql(ctx, sql).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let collect = async {
        let mut stream = df.execute_stream().await?;
        let (mut batches, mut bytes) = (Vec::new(), 0usize);
        while let Some(b) = stream.next().await {
            let b = b?;
            bytes += b.get_array_memory_size();
            if bytes > limits.memory_bytes {
                return Err(too_large());
            }
            batches.push(b);
        }
        Ok(batches)
    };
    let batches = match tokio::time::timeout(limits.time, collect).await {
        Err(_) => {
            return Err(QueryError::TooSlow {
                secs: limits.time.as_secs_f64(),
            });
        }
        Ok(Err(QueryError::Sql(e)))
            if matches!(
                e.find_root(),
                datafusion::error::DataFusionError::ResourcesExhausted(_)
            ) =>
        {
            return Err(too_large());
        }
        Ok(r) => r?,
    };
    Ok(QueryResult { schema, batches })
}

/// The output formats, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Csv,
    Parquet,
    Json,
}

impl OutFormat {
    pub fn of(path: &FsPath) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(OutFormat::Csv),
            "parquet" => Some(OutFormat::Parquet),
            "json" | "ndjson" | "jsonl" => Some(OutFormat::Json),
            _ => None,
        }
    }
}

/// The batch with its text columns passed through [`crate::format::csv_safe`].
fn neutralise_text(
    b: &arrow::record_batch::RecordBatch,
) -> Result<arrow::record_batch::RecordBatch, arrow::error::ArrowError> {
    use arrow::array::{Array, AsArray, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    let mut fields = Vec::with_capacity(b.num_columns());
    let mut columns = Vec::with_capacity(b.num_columns());
    for (f, c) in b.schema().fields().iter().zip(b.columns()) {
        if matches!(
            f.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            let text = arrow::compute::cast(c, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let safe: StringArray = (0..text.len())
                .map(|i| (!text.is_null(i)).then(|| crate::format::csv_safe(text.value(i))))
                .collect();
            fields.push(Field::new(f.name(), DataType::Utf8, f.is_nullable()));
            columns.push(std::sync::Arc::new(safe) as arrow::array::ArrayRef);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
        }
    }
    arrow::record_batch::RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)
}

/// Writes a result to a file: CSV with a header, Parquet, or JSON (one object per line). Text
/// cells of a CSV that a spreadsheet would run as formulas are neutralised
/// ([`crate::format::csv_safe`]); [`write_with`] can keep them as they are.
pub fn write(result: &QueryResult, path: &FsPath) -> Result<(), QueryError> {
    write_with(result, path, false)
}

/// [`write`], keeping CSV text cells verbatim when `csv_formulas` is set.
pub fn write_with(
    result: &QueryResult,
    path: &FsPath,
    csv_formulas: bool,
) -> Result<(), QueryError> {
    let err = |message: String| QueryError::Write {
        path: path.display().to_string(),
        message,
    };
    let format = OutFormat::of(path)
        .ok_or_else(|| err("the file name must end in .csv, .parquet or .json".into()))?;
    let file = std::fs::File::create(path).map_err(|e| err(e.to_string()))?;
    let file = std::io::BufWriter::new(file);
    match format {
        OutFormat::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(file);
            for b in &result.batches {
                let b = if csv_formulas {
                    b.clone()
                } else {
                    neutralise_text(b).map_err(|e| err(e.to_string()))?
                };
                w.write(&b).map_err(|e| err(e.to_string()))?;
            }
        }
        OutFormat::Json => {
            let mut w = arrow::json::LineDelimitedWriter::new(file);
            for b in &result.batches {
                w.write(b).map_err(|e| err(e.to_string()))?;
            }
            w.finish().map_err(|e| err(e.to_string()))?;
        }
        OutFormat::Parquet => {
            let mut w = parquet::arrow::ArrowWriter::try_new(file, result.schema.clone(), None)
                .map_err(|e| err(e.to_string()))?;
            for b in &result.batches {
                w.write(b).map_err(|e| err(e.to_string()))?;
            }
            w.close().map_err(|e| err(e.to_string()))?;
        }
    }
    Ok(())
}
