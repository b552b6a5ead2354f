//! Silver: one clean row per contact in the `silver/contacts` Delta table, built from Bronze.
//!
//! For each date to rebuild, every Bronze file of that date (from every committed ingest) is
//! read, each record mapped to the canonical columns, duplicates of a contact reduced to the
//! most recently ingested copy, PII masked per the lake's policy, CRM columns joined in, and
//! the date partition replaced atomically (Delta replaceWhere). Schema drift seen on the way
//! is written per date to `silver/schema_drift`. Incremental runs rebuild only the dates that
//! received Bronze files since the last successful run.

pub mod canonical;
pub mod crm;
pub mod digest;
pub mod drift;
pub mod id_pattern;
pub mod key_record;
pub mod masking;
pub mod pii;
pub mod record;
pub mod review;
pub mod status_map;
pub mod table;

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, AsArray, BooleanArray};
use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{self, ConfigError, PipelineConfig};
use crate::lake::delta::{self, SILVER_CONTACTS, SILVER_DRIFT};
use crate::lake::ledger::{self, LedgerEntry, LedgerError};
use crate::lake::tiers::{BronzeLocator, Tier};
use crate::lake::{Lake, LakeError};
use crate::progress::JobProgress;
use crate::sources::Shape;
use canonical::{CanonicalRow, map_record};
use digest::{HexDigest, HmacKey};
use drift::{DriftCollector, DriftKind};
use masking::{ColumnCounts, Masker};
use pii::PhoneCache;
use record::Record;
use status_map::StatusMap;
use table::{ContactRow, ContactsBuilder, DriftRow};

/// Where Silver remembers which ingested inputs it has already built from.
const STATE_FILE: &str = "silver/_cclake_state.json";
/// Rows gathered before a commit: bounds memory while keeping commits few.
const ROWS_PER_COMMIT: u64 = 150_000;

/// Which dates to rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessMode {
    /// Dates whose Bronze received files since the last successful run.
    Incremental,
    /// Every date in Bronze.
    Full,
    /// Every date in the range (inclusive) that has Bronze data.
    Range { from: NaiveDate, to: NaiveDate },
}

#[derive(Debug, thiserror::Error)]
pub enum SilverError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] masking::LoadPolicyError),
    #[error("_config/status_map.toml: {0}")]
    StatusMap(#[from] status_map::StatusMapError),
    #[error(transparent)]
    Key(#[from] digest::KeyError),
    #[error(transparent)]
    KeyCheck(#[from] key_record::KeyCheckError),
    #[error(transparent)]
    Crm(#[from] crm::CrmError),
    #[error("Delta table {table}: {source}")]
    Delta {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error("building Silver rows for {date}: {source}")]
    Arrow {
        date: NaiveDate,
        source: arrow::error::ArrowError,
    },
    #[error("Bronze file {path} cannot be read: {message}")]
    Bronze { path: String, message: String },
    #[error("processing cancelled; dates already committed stay, the rest are rebuilt next run")]
    Cancelled,
    #[error(
        "another writer took over this lake's lease while this run stalled; dates already \
         committed stay, the rest are rebuilt next run"
    )]
    LeaseLost,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessSummary {
    pub dates: Vec<NaiveDate>,
    pub rows_in: u64,
    pub rows_out: u64,
    pub duplicates_dropped: u64,
    pub masked: BTreeMap<String, ColumnCounts>,
    pub rows_with_rescued_data: u64,
    pub rescued_fields: u64,
    pub drift_observations: u64,
    pub unmapped_statuses: u64,
    pub crm_rows: usize,
    pub crm_matched: u64,
    pub policy_version: String,
    pub masking_enabled: bool,
    pub silver_version: Option<u64>,
    pub elapsed_secs: f64,
    /// Dates that would have been rebuilt but hold Bronze that lifecycle expired: their Silver
    /// rows stay as they were built from the whole of their Bronze.
    pub frozen_dates: Vec<NaiveDate>,
    /// How the run's key stood against the lake's key record.
    #[serde(skip)]
    pub key_check: Option<key_record::KeyCheck>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SilverState {
    /// SHA-256 of every ingested input whose dates Silver has been rebuilt from.
    processed: BTreeSet<String>,
    last_run: Option<DateTime<Utc>>,
    /// What masking did per column in the last run that rebuilt any date, and under which
    /// policy: the compliance pane shows it beside the rules.
    #[serde(default)]
    last_masked: BTreeMap<String, ColumnCounts>,
    #[serde(default)]
    last_policy_version: String,
}

/// Per-column masking counts of the last Silver run that rebuilt dates, with its policy version.
pub async fn last_masking_counts(
    lake: &Lake,
) -> Result<(BTreeMap<String, ColumnCounts>, String), SilverError> {
    let s = read_state(lake).await?;
    Ok((s.last_masked, s.last_policy_version))
}

/// Everything needed to turn Bronze lines into Silver rows.
struct Context {
    masker: Masker,
    status: StatusMap,
    pipeline: PipelineConfig,
    crm: crm::Crm,
}

/// A Bronze file of one date and the ledger row that wrote it.
#[derive(Debug, Clone)]
struct BronzeRef {
    path: String,
    ledger: usize,
    records: u64,
}

/// Builds Silver from Bronze. `key` is the HMAC key (see [`HmacKey::from_environment`]).
/// Runs on tokio's multi-thread runtime (it uses `block_in_place` for the CPU-bound part).
pub async fn process(
    lake: &Lake,
    mode: ProcessMode,
    key: HmacKey,
    progress: &JobProgress,
) -> Result<ProcessSummary, SilverError> {
    let started = std::time::Instant::now();
    let lease = lake.writer_lease("process").await?;
    progress.set_stage("checking the key");
    // Before anything is written: a key that is not the lake's would split every customer.
    let key_check = key_record::check(lake, &key).await?;
    // The target of a rotation rebuilds everything under the new key.
    let mode = match key_check {
        key_record::KeyCheck::Rotating => ProcessMode::Full,
        _ => mode,
    };
    progress.set_stage("reading settings");
    let pipeline = config::load_pipeline(lake).await?;
    let policy = masking::load_policy(lake).await?;
    let status_text =
        config::read_or_init(lake, config::STATUS_MAP_FILE, config::DEFAULT_STATUS_MAP).await?;
    let status = StatusMap::parse(&status_text)?;
    let masker = Masker::new(policy, key);
    let crm = crm::load(&pipeline.crm, &masker).await?;

    let rows = ledger::read_all(lake).await?;
    let mut state = read_state(lake).await?;
    let locator = BronzeLocator::load(lake).await?;
    let plan = plan_dates(&rows, &locator, &state, mode);
    let (by_date, dates) = (plan.by_date, plan.dates);

    let ctx = Context {
        masker,
        status,
        pipeline,
        crm,
    };
    let summary = ProcessSummary {
        policy_version: ctx.masker.policy.version.clone(),
        masking_enabled: ctx.masker.enabled(),
        crm_rows: ctx.crm.rows,
        frozen_dates: plan.frozen,
        ..Default::default()
    };
    let files_of = |d: &NaiveDate| by_date.get(d).map_or(&[][..], Vec::as_slice);
    let total: u64 = dates.iter().flat_map(files_of).map(|r| r.records).sum();
    progress.begin_stage(format!("building Silver for {} dates", dates.len()), total);

    let contacts =
        delta::open(lake, SILVER_CONTACTS)
            .await
            .map_err(|source| SilverError::Delta {
                table: SILVER_CONTACTS,
                source,
            })?;
    let drift_table =
        delta::open(lake, SILVER_DRIFT)
            .await
            .map_err(|source| SilverError::Delta {
                table: SILVER_DRIFT,
                source,
            })?;

    // Group dates into commits of bounded size.
    let mut groups: Vec<Vec<NaiveDate>> = Vec::new();
    let mut acc = 0;
    for d in &dates {
        let n: u64 = files_of(d).iter().map(|r| r.records).sum();
        if groups.is_empty() || acc + n > ROWS_PER_COMMIT {
            groups.push(Vec::new());
            acc = 0;
        }
        acc += n;
        if let Some(g) = groups.last_mut() {
            g.push(*d);
        }
    }

    let rt = tokio::runtime::Handle::current();
    let masker = &ctx.masker;
    let build = |group: &[NaiveDate]| -> Vec<BuiltDate> {
        let t = std::time::Instant::now();
        let built = group
            .par_iter()
            .map(|d| build_date(&locator, &rt, &ctx, &rows, *d, files_of(d), progress))
            .collect();
        tracing::info!(
            dates = group.len(),
            secs = t.elapsed().as_secs_f64(),
            "built Silver rows"
        );
        built
    };
    // Build group N+1 (rayon, CPU) while group N is encoded and committed (a tokio task);
    // this async task steps aside for the CPU work (block_in_place) so the runtime keeps
    // running the commit.
    struct Tables {
        contacts: deltalake::DeltaTable,
        drift: deltalake::DeltaTable,
        summary: ProcessSummary,
    }
    let join_err = |e: tokio::task::JoinError| SilverError::Bronze {
        path: "(commit task)".into(),
        message: e.to_string(),
    };
    let mut tables = Some(Tables {
        contacts,
        drift: drift_table,
        summary,
    });
    tokio::task::block_in_place(|| -> Result<(), SilverError> {
        let mut in_flight: Option<tokio::task::JoinHandle<Result<Tables, SilverError>>> = None;
        for group in groups {
            progress.check().map_err(|_| SilverError::Cancelled)?;
            if !lease.held() {
                return Err(SilverError::LeaseLost);
            }
            let built = build(&group);
            if let Some(h) = in_flight.take() {
                tables = Some(rt.block_on(h).map_err(join_err)??);
            }
            let Some(mut t) = tables.take() else {
                return Ok(());
            };
            let masker = masker.clone();
            in_flight = Some(rt.spawn(async move {
                let started = std::time::Instant::now();
                commit_group(
                    &mut t.contacts,
                    &mut t.drift,
                    &mut t.summary,
                    &masker,
                    group,
                    built,
                )
                .await?;
                tracing::info!(
                    secs = started.elapsed().as_secs_f64(),
                    "committed Silver dates"
                );
                Ok(t)
            }));
        }
        if let Some(h) = in_flight.take() {
            tables = Some(rt.block_on(h).map_err(join_err)??);
        }
        Ok(())
    })?;
    let Some(Tables {
        contacts,
        drift: _,
        mut summary,
    }) = tables
    else {
        return Err(SilverError::Cancelled);
    };

    // Only now do the inputs count as processed: a run that died above redoes its dates.
    // A range rebuild marks nothing as processed: other dates may still be pending.
    if matches!(mode, ProcessMode::Incremental | ProcessMode::Full) {
        state
            .processed
            .extend(rows.iter().map(|r| r.sha256.clone()));
    }
    state.last_run = Some(Utc::now());
    if !summary.dates.is_empty() {
        state.last_masked = summary.masked.clone();
        state.last_policy_version = summary.policy_version.clone();
    }
    write_state(lake, &state).await?;
    // The workers' phone memos hold hashes of this run's callers; the app would keep them
    // alive until the next run.
    tokio::task::block_in_place(|| rayon::broadcast(|_| pii::clear_thread_phone_cache()));
    summary.silver_version = contacts.version();
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    summary.key_check = Some(key_check);
    Ok(summary)
}

/// Which dates a run rebuilds, and from which Bronze files.
struct DatePlan {
    by_date: BTreeMap<NaiveDate, Vec<BronzeRef>>,
    dates: Vec<NaiveDate>,
    frozen: Vec<NaiveDate>,
}

/// Plans a run. Files lifecycle moved to the cold store are read from there. A date with any
/// expired Bronze is frozen: rebuilding it from what is left would drop the Silver rows of the
/// expired hours, so its rows stay as they were built from its whole Bronze, and a record that
/// arrives late in an expired hour stays in Bronze (reported by `status` and lifecycle's plan)
/// until lifecycle expires it too.
fn plan_dates(
    rows: &[LedgerEntry],
    locator: &BronzeLocator,
    state: &SilverState,
    mode: ProcessMode,
) -> DatePlan {
    let mut by_date: BTreeMap<NaiveDate, Vec<BronzeRef>> = BTreeMap::new();
    let mut frozen_set = BTreeSet::new();
    for (i, row) in rows.iter().enumerate() {
        for f in row
            .bronze_files
            .iter()
            .filter(|f| f.event_type == "contact")
        {
            let date = f.hour.date_naive();
            if locator.tier(&f.path) == Tier::Expired {
                frozen_set.insert(date);
                continue;
            }
            by_date.entry(date).or_default().push(BronzeRef {
                path: f.path.clone(),
                ledger: i,
                records: f.records,
            });
        }
    }
    let wanted: Vec<NaiveDate> = match mode {
        ProcessMode::Full => by_date.keys().copied().collect(),
        ProcessMode::Range { from, to } => by_date.range(from..=to).map(|(d, _)| *d).collect(),
        ProcessMode::Incremental => rows
            .iter()
            .filter(|r| !state.processed.contains(&r.sha256))
            .flat_map(|r| &r.bronze_files)
            .filter(|f| f.event_type == "contact")
            .map(|f| f.hour.date_naive())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let (frozen, dates): (Vec<NaiveDate>, Vec<NaiveDate>) =
        wanted.into_iter().partition(|d| frozen_set.contains(d));
    DatePlan {
        by_date,
        dates,
        frozen,
    }
}

/// Commits one group of built dates: the contacts and their drift, each one atomic replace.
async fn commit_group(
    contacts: &mut deltalake::DeltaTable,
    drift_table: &mut deltalake::DeltaTable,
    summary: &mut ProcessSummary,
    masker: &Masker,
    group: Vec<NaiveDate>,
    built: Vec<BuiltDate>,
) -> Result<(), SilverError> {
    let processed_at = Utc::now();
    let mut per_date = Vec::with_capacity(built.len());
    let mut drift_rows_owned: Vec<(NaiveDate, Shape, String, DriftKind, drift::Observation)> =
        Vec::new();
    for b in built {
        let b = b?;
        summary.rows_in += b.rows_in;
        summary.rows_out += b.batches.iter().map(|x| x.num_rows() as u64).sum::<u64>();
        summary.duplicates_dropped += b.duplicates;
        summary.rows_with_rescued_data += b.rows_with_rescued;
        summary.rescued_fields += b.rescued_fields;
        summary.crm_matched += b.crm_matched;
        for (col, n) in &b.masked {
            summary.masked.entry((*col).to_string()).or_default().add(n);
        }
        for ((shape, field, kind), obs) in b.drift.seen {
            if kind == DriftKind::UnmappedStatus {
                summary.unmapped_statuses += obs.count;
            }
            drift_rows_owned.push((b.date, shape, field, kind, obs));
        }
        per_date.push((b.date, b.batches));
    }
    summary.drift_observations += drift_rows_owned.len() as u64;
    let mut phones = PhoneCache::default();
    let scrubbed: Vec<Option<String>> = drift_rows_owned
        .iter()
        .map(|(_, _, _, _, o)| {
            o.example
                .as_ref()
                .map(|e| drift::excerpt(masker.scrub(e, &mut phones).0))
        })
        .collect();
    let drift_rows: Vec<DriftRow<'_>> = drift_rows_owned
        .iter()
        .zip(&scrubbed)
        .map(|((date, shape, field, kind, o), ex)| DriftRow {
            date: *date,
            shape: shape.as_str(),
            field,
            kind: kind.as_str(),
            example: ex.as_deref(),
            first_seen: o.first_seen,
            last_seen: o.last_seen,
            count: o.count,
            processed_at,
        })
        .collect();
    let drift_batch = table::drift_batch(&drift_rows).map_err(|source| SilverError::Arrow {
        date: group[0],
        source,
    })?;

    let mut meta = Map::new();
    meta.insert("cclake.operation".into(), Value::from("silver.process"));
    meta.insert(
        "cclake.policy_version".into(),
        Value::from(masker.policy.version.clone()),
    );
    meta.insert(
        "cclake.dates".into(),
        Value::from(group.iter().map(|d| d.to_string()).collect::<Vec<_>>()),
    );
    // The replace consumes the table handle; an empty handle stands in until it returns.
    let table = std::mem::replace(contacts, deltalake::DeltaTable::new_in_memory());
    *contacts = delta::replace_date_partitions(
        table,
        per_date,
        meta.clone(),
        delta::silver_writer_properties(),
    )
    .await
    .map_err(|source| SilverError::Delta {
        table: SILVER_CONTACTS,
        source,
    })?;
    let table = std::mem::replace(drift_table, deltalake::DeltaTable::new_in_memory());
    *drift_table = delta::replace_dates(table, vec![drift_batch], &group, meta)
        .await
        .map_err(|source| SilverError::Delta {
            table: SILVER_DRIFT,
            source,
        })?;
    summary.dates.extend(group);
    Ok(())
}

async fn read_state(lake: &Lake) -> Result<SilverState, SilverError> {
    Ok(lake.get_json(STATE_FILE).await?.unwrap_or_default())
}

async fn write_state(lake: &Lake, state: &SilverState) -> Result<(), SilverError> {
    Ok(lake.put_json(STATE_FILE, state).await?)
}

/// A date's build, or why it failed.
type BuiltDate = Result<DateBuild, SilverError>;

/// One date's rows, ready to commit.
struct DateBuild {
    date: NaiveDate,
    batches: Vec<arrow::record_batch::RecordBatch>,
    rows_in: u64,
    duplicates: u64,
    rows_with_rescued: u64,
    rescued_fields: u64,
    crm_matched: u64,
    masked: BTreeMap<&'static str, ColumnCounts>,
    drift: DriftCollector,
}

/// A Bronze file's decompressed NDJSON. A hot file of a local lake is read straight from disk
/// (this runs on rayon's threads; a trip through the async store per small file cost more
/// than reading it).
fn read_bronze(
    locator: &BronzeLocator,
    rt: &tokio::runtime::Handle,
    r: &BronzeRef,
) -> Result<Vec<u8>, SilverError> {
    let err = |message: String| SilverError::Bronze {
        path: r.path.clone(),
        message,
    };
    let bytes: bytes::Bytes = match locator.local_hot_file(&r.path) {
        Some(file) => std::fs::read(&file)
            .map_err(|e| err(format!("{}: {e}", file.display())))?
            .into(),
        None => rt
            .block_on(locator.get(&r.path))?
            .ok_or_else(|| err("deleted by lifecycle".into()))?,
    };
    crate::lake::gzip::gunzip(&bytes).map_err(|e| err(e.to_string()))
}

/// What building rows added up to: masking per column, rescued data, CRM matches. Kept per
/// work unit and summed per date; a dropped duplicate's share is counted again and taken off.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Tally {
    masked: [ColumnCounts; 5],
    /// Values present per masked column: a column shows in the summary once it had one.
    present: [u64; 5],
    rows_with_rescued: u64,
    rescued_fields: u64,
    crm_matched: u64,
}

/// The masked columns, in [`Tally`]'s slot order.
const MASKED_COLUMNS: [&str; 5] = [
    "phone_number",
    "member_id",
    "account_number",
    "card_number",
    "notes",
];

impl Tally {
    fn add(&mut self, o: &Tally, sign: Sign) {
        let f = |a: &mut u64, b: u64| match sign {
            Sign::Plus => *a += b,
            // A recount masks exactly as the build did, so this never goes below zero; a
            // miscount would show as a low number rather than stop the run.
            Sign::Minus => *a = a.saturating_sub(b),
        };
        for (mine, theirs) in self.masked.iter_mut().zip(&o.masked) {
            f(&mut mine.masked, theirs.masked);
            f(&mut mine.unvalidated_kept, theirs.unvalidated_kept);
            f(&mut mine.unvalidated_redacted, theirs.unvalidated_redacted);
            f(&mut mine.spans_scrubbed, theirs.spans_scrubbed);
        }
        for (mine, theirs) in self.present.iter_mut().zip(&o.present) {
            f(mine, *theirs);
        }
        f(&mut self.rows_with_rescued, o.rows_with_rescued);
        f(&mut self.rescued_fields, o.rescued_fields);
        f(&mut self.crm_matched, o.crm_matched);
    }

    fn masked_by_column(&self) -> BTreeMap<&'static str, ColumnCounts> {
        MASKED_COLUMNS
            .into_iter()
            .zip(self.masked)
            .zip(self.present)
            .filter(|(_, present)| *present > 0)
            .map(|((c, n), _)| (c, n))
            .collect()
    }
}

#[derive(Clone, Copy)]
enum Sign {
    Plus,
    Minus,
}

/// Where a built row came from: dedupe orders by it, and a dropped duplicate is read again
/// from it to take its share off the tally.
struct RowAt {
    shape: Shape,
    /// The platform's last update of the record, in µs (Amazon Connect re-delivers a contact
    /// when it changes); `i64::MIN` when the record has none.
    updated: i64,
    file: usize,
    line: usize,
    from: usize,
    to: usize,
}

/// Lines `from..to` (byte offsets, cut at line ends) of one Bronze file of a date.
struct Piece {
    file: usize,
    from: usize,
    to: usize,
    first_line: usize,
    /// How many lines: the ledger's record count for a whole file, counted for a cut one.
    /// Only sizes the builders.
    lines: usize,
}

/// Records a worker builds into one Arrow batch.
const UNIT_ROWS: usize = 16_384;

/// Cuts a date's decompressed files into work units of about [`UNIT_ROWS`] lines: small files
/// are grouped by their ledger record counts, a big one is cut at line ends.
fn plan_units(texts: &[Vec<u8>], records: &[u64]) -> Vec<Vec<Piece>> {
    let mut units = Vec::new();
    let mut unit: Vec<Piece> = Vec::new();
    let mut in_unit = 0;
    for (file, text) in texts.iter().enumerate() {
        let n = records.get(file).map_or(usize::MAX, |r| *r as usize);
        if in_unit + n <= UNIT_ROWS {
            // Fits: no need to look for its line ends.
            if !text.is_empty() {
                unit.push(Piece {
                    file,
                    from: 0,
                    to: text.len(),
                    first_line: 0,
                    lines: n,
                });
                in_unit += n;
            }
            continue;
        }
        let (mut from, mut first_line, mut lines) = (0, 0, 0);
        for nl in memchr::memchr_iter(b'\n', text) {
            lines += 1;
            if in_unit + lines >= UNIT_ROWS {
                unit.push(Piece {
                    file,
                    from,
                    to: nl + 1,
                    first_line,
                    lines,
                });
                units.push(std::mem::take(&mut unit));
                in_unit = 0;
                (from, first_line, lines) = (nl + 1, first_line + lines, 0);
            }
        }
        if from < text.len() {
            // A last line without a newline counts too.
            lines += usize::from(text.last() != Some(&b'\n'));
            unit.push(Piece {
                file,
                from,
                to: text.len(),
                first_line,
                lines,
            });
            in_unit += lines;
        }
    }
    if !unit.is_empty() {
        units.push(unit);
    }
    units
}

/// One work unit's rows, masked and built.
struct UnitOut {
    batch: arrow::record_batch::RecordBatch,
    rows: Vec<RowAt>,
    tally: Tally,
    drift: DriftCollector,
}

/// Turns one date's Bronze lines into Silver rows. Each work unit parses, maps, masks and
/// builds its lines in one pass, while they are still in cache (a pass that first stored every
/// mapped row of the date and built them afterwards spent a tenth of Silver waiting on
/// memory). Duplicates are found afterwards over the built batches; they are rare, so taking
/// them out again costs little.
fn build_date(
    locator: &BronzeLocator,
    rt: &tokio::runtime::Handle,
    ctx: &Context,
    ledger_rows: &[LedgerEntry],
    date: NaiveDate,
    refs: &[BronzeRef],
    progress: &JobProgress,
) -> Result<DateBuild, SilverError> {
    let t0 = std::time::Instant::now();
    let texts: Vec<Vec<u8>> = refs
        .par_iter()
        .map(|r| read_bronze(locator, rt, r))
        .collect::<Result<_, _>>()?;
    let rows = RowBuilder::new(ctx, ledger_rows, refs);
    let records: Vec<u64> = refs.iter().map(|r| r.records).collect();
    let units = plan_units(&texts, &records);
    let built: Vec<Result<UnitOut, SilverError>> = units
        .par_iter()
        .map(|pieces| {
            // This thread's phone memo, kept across the units and dates of the run.
            pii::with_phone_cache(ctx.masker.id(), |phones| {
                build_unit(&rows, &texts, pieces, date, phones, progress)
            })
        })
        .collect();
    let mut outs = Vec::with_capacity(built.len());
    for u in built {
        outs.push(u?);
    }
    let rows_in = outs.iter().map(|u| u.rows.len() as u64).sum::<u64>();

    // Dedupe on (source_system, contact_id): the copy the platform updated last wins (Amazon
    // Connect's LastUpdateTimestamp), then the most recently ingested copy, then the later
    // line. Records without a contact id cannot be matched and are all kept.
    let order = |a: &RowAt| {
        (
            a.updated,
            ledger_rows[refs[a.file].ledger].ingest_order(),
            a.file,
            a.line,
        )
    };
    let mut dropped: Vec<Vec<usize>> = outs.iter().map(|_| Vec::new()).collect();
    {
        use std::collections::hash_map::Entry;
        let mut winner: ahash::AHashMap<(Shape, &str), (usize, usize)> =
            ahash::AHashMap::with_capacity(rows_in as usize);
        for (ui, u) in outs.iter().enumerate() {
            let Some(ids) = u.batch.column_by_name("contact_id") else {
                continue;
            };
            let ids = ids.as_string::<i32>();
            for (ri, a) in u.rows.iter().enumerate() {
                if ids.is_null(ri) {
                    continue;
                }
                // One hash and probe per row: nearly every id is new.
                match winner.entry((a.shape, ids.value(ri))) {
                    Entry::Occupied(mut seen) => {
                        let (uj, rj) = *seen.get();
                        if order(&outs[uj].rows[rj]) >= order(a) {
                            dropped[ui].push(ri);
                        } else {
                            dropped[uj].push(rj);
                            seen.insert((ui, ri));
                        }
                    }
                    Entry::Vacant(slot) => {
                        slot.insert((ui, ri));
                    }
                }
            }
        }
    }
    let duplicates = dropped.iter().map(|d| d.len() as u64).sum::<u64>();

    let mut tally = Tally::default();
    let mut drift = DriftCollector::default();
    let mut batches = Vec::with_capacity(outs.len());
    for (u, gone) in outs.into_iter().zip(dropped) {
        tally.add(&u.tally, Sign::Plus);
        drift.merge(u.drift);
        if gone.is_empty() {
            batches.push(u.batch);
            continue;
        }
        // Take the dropped rows' share off: read them again the way they were built. Drift
        // seen on a dropped copy stays observed: the field or status was in the data.
        let minus = pii::with_phone_cache(ctx.masker.id(), |phones| {
            let mut minus = Tally::default();
            let mut scratch = DriftCollector::default();
            for &ri in &gone {
                let a = &u.rows[ri];
                let text = &texts[a.file];
                let line = &text[a.from..a.to];
                let (shape, row) = parse_line(ctx, refs, None, line, a.file, a.line, &mut scratch)?;
                rows.row(shape, &row, a.file, None, &mut minus, &mut scratch, phones);
            }
            Ok::<_, SilverError>(minus)
        })?;
        tally.add(&minus, Sign::Minus);
        let mut keep = vec![true; u.rows.len()];
        for ri in gone {
            keep[ri] = false;
        }
        let batch = arrow::compute::filter_record_batch(&u.batch, &BooleanArray::from(keep))
            .map_err(|source| SilverError::Arrow { date, source })?;
        batches.push(batch);
    }
    tracing::debug!(%date, secs = t0.elapsed().as_secs_f64(), "built date");
    Ok(DateBuild {
        date,
        batches,
        rows_in,
        duplicates,
        rows_with_rescued: tally.rows_with_rescued,
        rescued_fields: tally.rescued_fields,
        crm_matched: tally.crm_matched,
        masked: tally.masked_by_column(),
        drift,
    })
}

/// Parses and maps one Bronze line. `text` is the line as validated UTF-8 when the caller has
/// it; otherwise the bytes are parsed (and a bad byte named).
fn parse_line<'t>(
    ctx: &Context,
    refs: &[BronzeRef],
    text: Option<&'t str>,
    bytes: &'t [u8],
    file: usize,
    line: usize,
    drift: &mut DriftCollector,
) -> Result<(Shape, CanonicalRow<'t>), SilverError> {
    // Bronze only holds records that classified with a time, so these cannot fail; a line
    // that does (a hand-edited file) is reported, not skipped.
    let bad = |m: String| SilverError::Bronze {
        path: refs[file].path.clone(),
        message: format!("line {}: {m}", line + 1),
    };
    let obj = match text {
        Some(t) => Record::parse_str(t),
        None => Record::parse(bytes),
    }
    .map_err(|e| bad(e.to_string()))?;
    let (shape, at) = obj.facts();
    let at = at.map_err(|e| bad(e.to_string()))?;
    Ok((
        shape,
        map_record(shape, obj, at, &ctx.pipeline.schema, drift),
    ))
}

/// Parses, maps, masks and builds one work unit's lines into one Arrow batch.
fn build_unit(
    rows: &RowBuilder<'_>,
    texts: &[Vec<u8>],
    pieces: &[Piece],
    date: NaiveDate,
    phones: &mut PhoneCache,
    progress: &JobProgress,
) -> Result<UnitOut, SilverError> {
    let n = pieces.iter().map(|p| p.lines).sum();
    let mut b = ContactsBuilder::with_capacity(n);
    let mut at = Vec::with_capacity(n);
    let mut tally = Tally::default();
    let mut drift = DriftCollector::default();
    for p in pieces {
        let bytes = &texts[p.file][p.from..p.to];
        // UTF-8 checked once for the piece (it is cut at line ends): parsing from text then
        // skips the check the byte parser makes on every string. A piece that fails it is
        // parsed line by line from bytes, so the bad line is named.
        let whole = simdutf8::basic::from_utf8(bytes).ok();
        let (mut pos, mut line) = (0, p.first_line);
        let mut parsed = 0u64;
        while pos < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |k| pos + k);
            if end > pos {
                let (shape, row) = parse_line(
                    rows.ctx,
                    rows.refs,
                    whole.map(|w| &w[pos..end]),
                    &bytes[pos..end],
                    p.file,
                    line,
                    &mut drift,
                )?;
                rows.row(
                    shape,
                    &row,
                    p.file,
                    Some(&mut b),
                    &mut tally,
                    &mut drift,
                    phones,
                );
                at.push(RowAt {
                    shape,
                    updated: row.updated_at.map_or(i64::MIN, |t| t.timestamp_micros()),
                    file: p.file,
                    line,
                    from: p.from + pos,
                    to: p.from + end,
                });
                parsed += 1;
            }
            pos = end + 1;
            line += 1;
        }
        progress.add_done(parsed);
        progress.add_records(parsed);
        progress.check().map_err(|_| SilverError::Cancelled)?;
    }
    let batch = b
        .finish()
        .map_err(|source| SilverError::Arrow { date, source })?;
    Ok(UnitOut {
        batch,
        rows: at,
        tally,
        drift,
    })
}

/// Turns mapped records into Silver rows: masking, status normalisation, CRM columns, lineage.
struct RowBuilder<'c> {
    ctx: &'c Context,
    ledger_rows: &'c [LedgerEntry],
    refs: &'c [BronzeRef],
    /// The masked columns' rules, looked up once (in [`MASKED_COLUMNS`] order).
    rules: [Option<&'c masking::ColumnRule>; 5],
}

impl<'c> RowBuilder<'c> {
    fn new(ctx: &'c Context, ledger_rows: &'c [LedgerEntry], refs: &'c [BronzeRef]) -> Self {
        RowBuilder {
            ctx,
            ledger_rows,
            refs,
            rules: MASKED_COLUMNS.map(|c| ctx.masker.rule(c)),
        }
    }

    /// Masks, normalises and enriches one record, pushes it to `out` (a recount passes none)
    /// and adds what it did to `tally`.
    #[allow(clippy::too_many_arguments)]
    fn row<'r>(
        &self,
        shape: Shape,
        r: &'r CanonicalRow<'r>,
        file: usize,
        out: Option<&mut ContactsBuilder>,
        tally: &mut Tally,
        drift: &mut DriftCollector,
        phones: &mut PhoneCache,
    ) {
        let ctx = self.ctx;
        let m = &ctx.masker;
        // The phone column and customer_key share one validation and one hash.
        let (phone, customer_key) = match r.phone_number.as_deref() {
            Some(v) => {
                tally.present[0] += 1;
                let (p, k) = m.mask_phone_with(self.rules[0], v, phones, &mut tally.masked[0]);
                (Some(p), k)
            }
            None => (None, None),
        };
        let mut mask = |i: usize, v: Option<&'r str>, phones: &mut PhoneCache| {
            let v = v?;
            tally.present[i] += 1;
            Some(m.mask_with(self.rules[i], v, phones, &mut tally.masked[i]))
        };
        let member = mask(1, r.member_id.as_deref(), phones);
        let account = mask(2, r.account_number.as_deref(), phones);
        let card = mask(3, r.card_number.as_deref(), phones);
        let notes = mask(4, r.notes.as_deref(), phones);

        let (outcome, answered, abandoned) = match shape {
            Shape::Generic => {
                let normalized = match r.outcome_raw.as_deref() {
                    None => "unknown",
                    Some(raw) => match ctx.status.normalize(raw) {
                        Some(n) => n,
                        None => {
                            drift.observe(
                                shape,
                                "outcome_status",
                                DriftKind::UnmappedStatus,
                                Some(&Value::String(raw.to_string())),
                                r.occurred_at.unwrap_or_default(),
                            );
                            "unknown"
                        }
                    },
                };
                (
                    normalized,
                    Some(matches!(normalized, "handled" | "transferred")),
                    Some(normalized == "abandoned"),
                )
            }
            _ => (
                r.outcome_status.unwrap_or("unknown"),
                r.answered,
                r.abandoned,
            ),
        };

        if !r.rescued.is_empty() {
            tally.rows_with_rescued += 1;
            tally.rescued_fields += r.rescued.len() as u64;
        }
        let crm = ctx.crm.lookup(
            customer_key.as_ref().map(HexDigest::as_str),
            r.contact_id.as_deref(),
        );
        tally.crm_matched += u64::from(crm.is_some());
        let Some(out) = out else {
            return;
        };
        // Rescued data is scrubbed and written out only for a row that is built: a recount
        // needs its counts, not its text.
        let rescued = (!r.rescued.is_empty()).then(|| {
            let mut v = Value::Object(r.rescued.clone());
            if m.enabled() {
                scrub_value(m, &mut v, phones);
            }
            v.to_string()
        });
        let entry = &self.ledger_rows[self.refs[file].ledger];
        out.push(&ContactRow {
            event_id: r.event_id.as_deref(),
            contact_id: r.contact_id.as_deref(),
            source_system: shape.as_str(),
            occurred_at: r.occurred_at.unwrap_or_default(),
            ended_at: r.ended_at,
            queue_id: r.queue_id.as_deref(),
            queue_name: r.queue_name.as_deref(),
            agent_id: r.agent_id.as_deref(),
            media_type: r.media_type.as_deref(),
            direction: r.direction.as_deref(),
            phone_number: phone.as_deref(),
            customer_key: customer_key.as_ref().map(HexDigest::as_str),
            wait_seconds: r.wait_seconds,
            talk_seconds: r.talk_seconds,
            hold_seconds: r.hold_seconds,
            acw_seconds: r.acw_seconds,
            duration_seconds: r.duration_seconds,
            answered,
            abandoned,
            outcome_status: outcome,
            outcome_raw: r.outcome_raw.as_deref(),
            wrap_up_code: r.wrap_up_code.as_deref(),
            csat_score: r.csat_score,
            member_id: member.as_deref(),
            account_number: account.as_deref(),
            card_number: card.as_deref(),
            notes: notes.as_deref(),
            customer_tier: crm.and_then(|c| c.customer_tier.as_deref()),
            product_type: crm.and_then(|c| c.product_type.as_deref()),
            account_owner: crm.and_then(|c| c.account_owner.as_deref()),
            rescued_data: rescued.as_deref(),
            source_file: &entry.source_path,
            bronze_file: &self.refs[file].path,
            ingested_at: entry.ingested_at,
            policy_version: &m.policy.version,
        });
    }
}

/// Scrubs PII out of every string (and number) inside rescued JSON, keeping it valid JSON. Keys
/// are scrubbed like values: exports key maps by caller (a phone-number key in Amazon
/// Connect's `Attributes`, an e-mail in a CRM lookup).
fn scrub_value(m: &Masker, v: &mut Value, phones: &mut PhoneCache) {
    match v {
        Value::String(s) => {
            let (t, n) = m.scrub(s, phones);
            if n > 0 {
                *s = t;
            }
        }
        Value::Number(num) => {
            let text = num.to_string();
            let (t, n) = m.scrub(&text, phones);
            if n > 0 {
                *v = Value::String(t);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scrub_value(m, x, phones)),
        Value::Object(o) => {
            let has_pii_key = o.keys().any(|k| m.scrub(k, phones).1 > 0);
            if has_pii_key {
                let old = std::mem::take(o);
                for (k, mut x) in old {
                    scrub_value(m, &mut x, phones);
                    let (scrubbed, _) = m.scrub(&k, phones);
                    // Two keys that scrub alike (two phone numbers) keep both values.
                    let mut key = scrubbed.clone();
                    let mut n = 1;
                    while o.contains_key(&key) {
                        n += 1;
                        key = format!("{scrubbed}#{n}");
                    }
                    o.insert(key, x);
                }
            } else {
                o.values_mut().for_each(|x| scrub_value(m, x, phones));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_units_cover_every_line_once_and_cut_only_at_line_ends() {
        let file = |lines: usize, trailing_newline: bool| -> Vec<u8> {
            let mut t: Vec<u8> = (0..lines)
                .flat_map(|i| format!("line{i}\n").into_bytes())
                .collect();
            if !trailing_newline {
                t.extend_from_slice(b"last");
            }
            t
        };
        let texts = vec![
            file(3, true),
            file(UNIT_ROWS * 2 + 5, true),
            Vec::new(),
            file(10, false),
            b"\n\nx\n".to_vec(),
        ];
        let counts: Vec<u64> = texts
            .iter()
            .map(|t| t.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64)
            .collect();
        // Right record counts, and wrong ones (a hand-edited file): the lines are covered.
        let units = check_plan(&texts, &counts);
        assert!(units >= 3, "the big file is cut");
        check_plan(&texts, &vec![1; texts.len()]);
    }

    /// Checks that the plan covers every line once; returns how many units it has.
    fn check_plan(texts: &[Vec<u8>], records: &[u64]) -> usize {
        let units = plan_units(texts, records);
        let mut seen: Vec<Vec<(usize, Vec<u8>)>> = texts.iter().map(|_| Vec::new()).collect();
        for unit in &units {
            let lines: usize = unit.iter().map(|p| p.lines).sum();
            assert!(lines <= UNIT_ROWS || unit.len() == 1, "{lines}");
            for p in unit {
                let t = &texts[p.file];
                assert!(
                    p.from == 0 || t[p.from - 1] == b'\n',
                    "starts after a newline"
                );
                assert!(
                    p.to == t.len() || t[p.to - 1] == b'\n',
                    "ends after a newline"
                );
                let piece = &t[p.from..p.to];
                let body = piece.strip_suffix(b"\n").unwrap_or(piece);
                let split: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
                for (k, l) in split.into_iter().enumerate() {
                    seen[p.file].push((p.first_line + k, l.to_vec()));
                }
            }
        }
        // Put back together, each file is its lines in order, numbered from 0.
        for (t, mut got) in texts.iter().zip(seen) {
            got.sort();
            let body = t.strip_suffix(b"\n").unwrap_or(t);
            let want: Vec<(usize, Vec<u8>)> = if t.is_empty() {
                Vec::new()
            } else {
                body.split(|b| *b == b'\n')
                    .map(<[u8]>::to_vec)
                    .enumerate()
                    .collect()
            };
            assert_eq!(got, want);
        }
        units.len()
    }
}
