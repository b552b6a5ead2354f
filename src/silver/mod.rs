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
pub mod drift;
pub mod masking;
pub mod pii;
pub mod record;
pub mod review;
pub mod status_map;
pub mod table;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{self, ConfigError, PipelineConfig};
use crate::lake::delta::{self, SILVER_CONTACTS, SILVER_DRIFT};
use crate::lake::ledger::{self, LedgerEntry, LedgerError};
use crate::lake::{Lake, LakeError};
use crate::lifecycle::{BronzeLocator, Tier};
use crate::pipeline::JobProgress;
use crate::sources::Shape;
use canonical::{CanonicalRow, map_record};
use drift::{DriftCollector, DriftKind};
use masking::{ColumnCounts, HexDigest, HmacKey, Masker, Policy};
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
    #[error("_config/masking_policy.toml: {0}")]
    Policy(#[from] masking::PolicyError),
    #[error("_config/status_map.toml: {0}")]
    StatusMap(#[from] status_map::StatusMapError),
    #[error(transparent)]
    Key(#[from] masking::KeyError),
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
    #[error(transparent)]
    Lifecycle(#[from] crate::lifecycle::LifecycleError),
    #[error("processing cancelled; dates already committed stay, the rest are rebuilt next run")]
    Cancelled,
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
    progress.set_stage("reading settings");
    let pipeline = config::load_pipeline(lake).await?;
    let policy_text =
        config::read_or_init(lake, config::POLICY_FILE, config::PRESET_GENERAL).await?;
    let policy = Policy::parse(&policy_text)?;
    let status_text =
        config::read_or_init(lake, config::STATUS_MAP_FILE, config::DEFAULT_STATUS_MAP).await?;
    let status = StatusMap::parse(&status_text)?;
    let masker = Masker::new(policy, key);
    let crm = crm::load(&pipeline.crm, &masker).await?;

    let rows = ledger::read_all(lake).await?;
    let mut state = read_state(lake).await?;
    // Files lifecycle moved to the cold store are read from there; expired ones are gone, and
    // the Silver rows built from them stay as they are (their dates are not rebuilt).
    let locator = BronzeLocator::load(lake).await?;
    let mut by_date: BTreeMap<NaiveDate, Vec<BronzeRef>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        for f in row
            .bronze_files
            .iter()
            .filter(|f| f.event_type == "contact" && locator.tier(&f.path) != Tier::Expired)
        {
            by_date
                .entry(f.hour.date_naive())
                .or_default()
                .push(BronzeRef {
                    path: f.path.clone(),
                    ledger: i,
                    records: f.records,
                });
        }
    }
    let dates: Vec<NaiveDate> = match mode {
        ProcessMode::Full => by_date.keys().copied().collect(),
        ProcessMode::Range { from, to } => by_date.range(from..=to).map(|(d, _)| *d).collect(),
        ProcessMode::Incremental => {
            let mut set = BTreeSet::new();
            for row in rows.iter().filter(|r| !state.processed.contains(&r.sha256)) {
                for f in row
                    .bronze_files
                    .iter()
                    .filter(|f| f.event_type == "contact")
                {
                    set.insert(f.hour.date_naive());
                }
            }
            set.into_iter().collect()
        }
    };

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
        ..Default::default()
    };
    let total: u64 = dates
        .iter()
        .flat_map(|d| &by_date[d])
        .map(|r| r.records)
        .sum();
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
        let n: u64 = by_date[d].iter().map(|r| r.records).sum();
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
            .map(|d| build_date(&locator, &rt, &ctx, &rows, *d, &by_date[d], progress))
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
    Ok(summary)
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
        .map(|(_, _, _, _, o)| o.example.as_ref().map(|e| masker.scrub(e, &mut phones).0))
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

/// One chunk of a date's rows, masked and built.
struct ChunkOut {
    batch: arrow::record_batch::RecordBatch,
    masked: BTreeMap<&'static str, ColumnCounts>,
    drift: DriftCollector,
    rows_with_rescued: u64,
    rescued_fields: u64,
    crm_matched: u64,
}

/// A mapped record and where it came from, for dedupe and lineage.
struct Parsed<'a> {
    shape: Shape,
    row: CanonicalRow<'a>,
    ledger: usize,
    file: usize,
    line: usize,
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
    let mut text = Vec::with_capacity(bytes.len() * 6);
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
        &mut text,
    )
    .map_err(|e| err(e.to_string()))?;
    Ok(text)
}

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
    // Read and decompress every Bronze file of the date, then map the lines, file by file on
    // all cores. The rows borrow their text from these buffers until they are built.
    let texts: Vec<Vec<u8>> = refs
        .par_iter()
        .map(|r| read_bronze(locator, rt, r))
        .collect::<Result<_, _>>()?;
    let per_file: Vec<Result<(Vec<Parsed<'_>>, DriftCollector), SilverError>> = refs
        .par_iter()
        .zip(texts.par_iter())
        .enumerate()
        .map(|(fi, (r, text))| {
            let mut drift = DriftCollector::default();
            let mut out = Vec::with_capacity(r.records as usize);
            // UTF-8 checked once for the whole file: parsing from text then skips the check
            // the byte parser makes on every string. A file that fails it is parsed line by
            // line from bytes, so the bad line is named.
            let whole = std::str::from_utf8(text).ok();
            let mut start = 0;
            for (li, line) in text.split(|b| *b == b'\n').enumerate() {
                let (from, to) = (start, start + line.len());
                start = to + 1;
                if line.is_empty() {
                    continue;
                }
                // Bronze only holds records that classified with a time, so these cannot fail;
                // a line that does (a hand-edited file) is reported, not skipped.
                let bad = |m: String| SilverError::Bronze {
                    path: r.path.clone(),
                    message: format!("line {}: {m}", li + 1),
                };
                let obj = match whole {
                    Some(w) => Record::parse_str(&w[from..to]),
                    None => Record::parse(line),
                }
                .map_err(|e| bad(e.to_string()))?;
                let (shape, at) = obj.facts();
                let at = at.map_err(|e| bad(e.to_string()))?;
                let row = map_record(shape, obj, at, &ctx.pipeline.schema, &mut drift);
                out.push(Parsed {
                    shape,
                    row,
                    ledger: r.ledger,
                    file: fi,
                    line: li,
                });
            }
            progress.add_done(r.records);
            progress.add_records(out.len() as u64);
            progress.check().map_err(|_| SilverError::Cancelled)?;
            Ok((out, drift))
        })
        .collect();
    let mut drift = DriftCollector::default();
    // Rows stay in their per-file vectors (moving them into one list copied every row).
    let mut files: Vec<Vec<Parsed<'_>>> = Vec::with_capacity(per_file.len());
    for r in per_file {
        let (p, d) = r?;
        files.push(p);
        drift.merge(d);
    }
    let rows_in = files.iter().map(|f| f.len() as u64).sum::<u64>();
    let t_parse = t0.elapsed().as_secs_f64();

    // Dedupe on (source_system, contact_id): the most recently ingested copy wins, then the
    // later line. Records without a contact id cannot be matched and are all kept.
    let order = |p: &Parsed<'_>| (ledger_rows[p.ledger].ingest_order(), p.file, p.line);
    let mut winner: ahash::AHashMap<(Shape, &str), (usize, usize)> =
        ahash::AHashMap::with_capacity(rows_in as usize);
    let mut keep: Vec<Vec<bool>> = files.iter().map(|f| vec![true; f.len()]).collect();
    for (fi, file) in files.iter().enumerate() {
        for (ri, p) in file.iter().enumerate() {
            let Some(id) = p.row.contact_id.as_deref() else {
                continue;
            };
            match winner.get(&(p.shape, id)) {
                Some(&(fj, rj)) if order(&files[fj][rj]) >= order(p) => keep[fi][ri] = false,
                Some(&(fj, rj)) => {
                    keep[fj][rj] = false;
                    winner.insert((p.shape, id), (fi, ri));
                }
                None => {
                    winner.insert((p.shape, id), (fi, ri));
                }
            }
        }
    }
    drop(winner);
    let duplicates = keep.iter().flatten().filter(|k| !**k).count() as u64;

    // Mask, normalise, enrich, build: in chunks on all cores, each chunk one Arrow batch.
    let kept: Vec<&Parsed<'_>> = files
        .iter()
        .zip(&keep)
        .flat_map(|(f, k)| f.iter().zip(k).filter(|(_, k)| **k).map(|(p, _)| p))
        .collect();
    let chunks: Vec<Result<ChunkOut, SilverError>> = kept
        .par_chunks(16_384)
        .map(|chunk| {
            // This thread's phone memo, kept across the chunks and dates of the run.
            pii::with_phone_cache(ctx.masker.id(), |phones| {
                build_chunk(ctx, ledger_rows, refs, date, chunk, phones)
            })
        })
        .collect();
    let mut batches = Vec::with_capacity(chunks.len());
    let mut masked: BTreeMap<&'static str, ColumnCounts> = BTreeMap::new();
    let (mut rows_with_rescued, mut rescued_fields, mut crm_matched) = (0, 0, 0);
    for c in chunks {
        let c = c?;
        batches.push(c.batch);
        for (col, n) in &c.masked {
            masked.entry(col).or_default().add(n);
        }
        drift.merge(c.drift);
        rows_with_rescued += c.rows_with_rescued;
        rescued_fields += c.rescued_fields;
        crm_matched += c.crm_matched;
    }
    tracing::debug!(%date, parse_secs = t_parse, total_secs = t0.elapsed().as_secs_f64(), "built date");
    Ok(DateBuild {
        date,
        batches,
        rows_in,
        duplicates,
        rows_with_rescued,
        rescued_fields,
        crm_matched,
        masked,
        drift,
    })
}

/// Masks, normalises and enriches one chunk of a date's kept rows into one Arrow batch.
fn build_chunk<'r>(
    ctx: &Context,
    ledger_rows: &[LedgerEntry],
    refs: &[BronzeRef],
    date: NaiveDate,
    chunk: &'r [&'r Parsed<'r>],
    phones: &mut PhoneCache,
) -> Result<ChunkOut, SilverError> {
    let m = &ctx.masker;
    let mut drift = DriftCollector::default();
    // The masked columns' rules and counts in fixed slots: looking both up by column name in
    // ordered maps took ten string searches per row.
    const MASKED: [&str; 5] = [
        "phone_number",
        "member_id",
        "account_number",
        "card_number",
        "notes",
    ];
    let rules = MASKED.map(|c| m.rule(c));
    let mut counts = [ColumnCounts::default(); 5];
    let mut seen = [false; 5];
    let mut b = ContactsBuilder::with_capacity(chunk.len());
    let (mut rows_with_rescued, mut rescued_fields, mut crm_matched) = (0, 0, 0);
    for p in chunk {
        let r = &p.row;
        // The phone column and customer_key share one validation and one hash.
        let (phone, customer_key) = match r.phone_number.as_deref() {
            Some(v) => {
                seen[0] = true;
                let (p, k) = m.mask_phone_with(rules[0], v, phones, &mut counts[0]);
                (Some(p), k)
            }
            None => (None, None),
        };
        let mut mask = |i: usize, v: Option<&'r str>, phones: &mut PhoneCache| {
            let v = v?;
            seen[i] = true;
            Some(m.mask_with(rules[i], v, phones, &mut counts[i]))
        };
        let member = mask(1, r.member_id.as_deref(), phones);
        let account = mask(2, r.account_number.as_deref(), phones);
        let card = mask(3, r.card_number.as_deref(), phones);
        let notes = mask(4, r.notes.as_deref(), phones);

        let (outcome, answered, abandoned) = match p.shape {
            Shape::Generic => {
                let normalized = match r.outcome_raw.as_deref() {
                    None => "unknown",
                    Some(raw) => match ctx.status.normalize(raw) {
                        Some(n) => n,
                        None => {
                            drift.observe(
                                p.shape,
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

        let rescued = if r.rescued.is_empty() {
            None
        } else {
            rows_with_rescued += 1;
            rescued_fields += r.rescued.len() as u64;
            let mut v = Value::Object(r.rescued.clone());
            if m.enabled() {
                scrub_value(m, &mut v, phones);
            }
            Some(v.to_string())
        };
        let crm = ctx.crm.lookup(
            customer_key.as_ref().map(HexDigest::as_str),
            r.contact_id.as_deref(),
        );
        crm_matched += u64::from(crm.is_some());
        let entry = &ledger_rows[p.ledger];
        let occurred_at = r.occurred_at.unwrap_or_default();
        b.push(&ContactRow {
            event_id: r.event_id.as_deref(),
            contact_id: r.contact_id.as_deref(),
            source_system: p.shape.as_str(),
            occurred_at,
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
            bronze_file: &refs[p.file].path,
            ingested_at: entry.ingested_at,
            policy_version: &m.policy.version,
        });
    }
    let batch = b
        .finish()
        .map_err(|source| SilverError::Arrow { date, source })?;
    let masked = MASKED
        .into_iter()
        .zip(counts)
        .zip(seen)
        .filter(|(_, seen)| *seen)
        .map(|((c, n), _)| (c, n))
        .collect();
    Ok(ChunkOut {
        batch,
        masked,
        drift,
        rows_with_rescued,
        rescued_fields,
        crm_matched,
    })
}

/// Scrubs PII out of every string (and number) inside rescued JSON, keeping it valid JSON.
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
        Value::Object(o) => o.values_mut().for_each(|x| scrub_value(m, x, phones)),
        _ => {}
    }
}
