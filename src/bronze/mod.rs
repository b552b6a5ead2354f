//! Bronze ingest: every input record, byte for byte, in gzip NDJSON partitioned by the UTC hour
//! it *happened* (event_type/year/month/day/hour); everything else in quarantine; one ledger
//! row per input file once its files are durable.
//!
//! Crash safety: before an input file's first write, a pending marker names the attempt; its
//! ledger row is committed only after all its files are synced; the marker goes last. A run
//! that finds a marker without a ledger row removes that attempt's files and ingests the input
//! again, so a killed ingest re-run leaves every record in Bronze exactly once.

mod attempt;
pub mod quarantine;
mod recover;
pub mod retry;
mod writer;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path as FsPath, PathBuf};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::lake::ledger::{self, LedgerEntry, LedgerError};
use crate::lake::{Lake, LakeError};
use crate::progress::{Cancelled, JobProgress};
use crate::sources::discover::{DiscoverError, discover};

use attempt::{Attempt, RunContext};
pub use quarantine::QuarantineRow;
pub use recover::recover_interrupted;

/// Tuning knobs of an ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// gzip level of Bronze files (1 = fastest; Bronze is written once and read a few times).
    pub compression_level: u32,
    /// Buffered record bytes per input file before a chunk of partition files is written.
    pub chunk_bytes: usize,
    /// Follow symbolic links inside an input folder that lead to places inside it (links
    /// are not followed by default).
    pub follow_symlinks: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            compression_level: 1,
            chunk_bytes: 64 << 20,
            follow_symlinks: false,
        }
    }
}

/// Errors that stop a whole ingest (bad input never does; it goes to quarantine).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error("ingest cancelled; the lake is unchanged for the files not yet committed")]
    Cancelled,
    #[error(
        "{input} would create more than {max} Bronze hour partitions (one per event type and \
         hour its records happened in); nothing of it was written. If that is right (years of \
         history in one file), raise [ingest] max_partitions_per_input in _config/pipeline.toml"
    )]
    TooManyPartitions { input: String, max: usize },
    #[error(
        "{input} {relation} the lake {lake}; ingest a folder of exports that neither holds nor \
         lies inside the lake"
    )]
    InputAndLake {
        input: String,
        relation: &'static str,
        lake: String,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("ingest must run inside the tokio runtime (call it from spawn_blocking)")]
    NoRuntime,
    #[error("the retried records could not be ingested, so they stay in quarantine: {0}")]
    RetryFailed(String),
}

impl From<Cancelled> for IngestError {
    fn from(_: Cancelled) -> Self {
        IngestError::Cancelled
    }
}

/// What happened to one input file.
#[derive(Debug, Clone)]
pub enum FileOutcome {
    /// Read and committed; the ledger row says what went where.
    Ingested(Box<LedgerEntry>),
    /// The same bytes were ingested before; nothing was written.
    AlreadyIngested {
        source_path: String,
        sha256: String,
        previous: Box<LedgerEntry>,
    },
    /// The same bytes appear earlier in this run's input list.
    DuplicateInRun {
        source_path: String,
        same_as: String,
    },
    /// The file could not be read at all (it is named here; nothing of it was written).
    Failed { source_path: String, error: String },
}

/// The result of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestSummary {
    pub batch_id: String,
    pub started_at: DateTime<Utc>,
    pub outcomes: Vec<FileOutcome>,
    /// Files in the input directories passed over (not JSON by extension).
    pub skipped: Vec<(PathBuf, String)>,
    /// Partial files of interrupted earlier ingests that were removed first.
    pub recovered_files: usize,
    pub elapsed_secs: f64,
}

impl IngestSummary {
    pub fn ingested(&self) -> impl Iterator<Item = &LedgerEntry> {
        self.outcomes.iter().filter_map(|o| match o {
            FileOutcome::Ingested(e) => Some(e.as_ref()),
            _ => None,
        })
    }

    pub fn records(&self) -> u64 {
        self.ingested().map(|e| e.records).sum()
    }

    pub fn bronze_records(&self) -> u64 {
        self.ingested().map(|e| e.bronze_records).sum()
    }

    pub fn quarantined(&self) -> u64 {
        self.ingested().map(|e| e.quarantined).sum()
    }

    pub fn bronze_files(&self) -> usize {
        self.ingested().map(|e| e.bronze_files.len()).sum()
    }

    pub fn bronze_bytes(&self) -> u64 {
        self.ingested()
            .flat_map(|e| e.bronze_files.iter().map(|f| f.bytes))
            .sum()
    }

    pub fn partitions(&self) -> usize {
        let mut set = std::collections::HashSet::new();
        for e in self.ingested() {
            for f in &e.bronze_files {
                set.insert((f.event_type.as_str(), f.hour));
            }
        }
        set.len()
    }

    pub fn already_ingested(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    FileOutcome::AlreadyIngested { .. } | FileOutcome::DuplicateInRun { .. }
                )
            })
            .count()
    }

    pub fn failed(&self) -> usize {
        self.failures().count()
    }

    /// The input files that could not be read, as `path: why`.
    pub fn failures(&self) -> impl Iterator<Item = String> + '_ {
        self.outcomes.iter().filter_map(|o| match o {
            FileOutcome::Failed { source_path, error } => Some(format!("{source_path}: {error}")),
            _ => None,
        })
    }

    /// Event-type/date pairs that received new Bronze files (what later layers must rebuild).
    pub fn touched_dates(&self) -> Vec<(String, chrono::NaiveDate)> {
        let mut set = std::collections::BTreeSet::new();
        for e in self.ingested() {
            for f in &e.bronze_files {
                set.insert((f.event_type.clone(), f.hour.date_naive()));
            }
        }
        set.into_iter().collect()
    }
}

/// Ingests files and directories into the lake's Bronze layer.
///
/// Blocking: call it from `spawn_blocking` (it needs the tokio runtime for lake writes and
/// uses rayon for parsing and compression).
pub fn ingest(
    lake: &Lake,
    inputs: &[PathBuf],
    opts: &IngestOptions,
    progress: &JobProgress,
) -> Result<IngestSummary, IngestError> {
    let rt = tokio::runtime::Handle::try_current().map_err(|_| IngestError::NoRuntime)?;
    let started = std::time::Instant::now();
    let started_at = Utc::now();
    // One writer at a time: also what makes the recovery below safe (no live attempt's
    // files can be taken for a crashed one's).
    let _lease = rt.block_on(lake.writer_lease("ingest"))?;

    progress.set_stage("checking for interrupted ingests");
    let recovered_files = rt.block_on(recover_interrupted(lake))?;

    progress.set_stage("reading the ingest ledger");
    let ledger_rows = rt.block_on(ledger::read_all(lake))?;

    let limits = rt.block_on(crate::config::load_pipeline(lake))?.ingest;
    progress.set_stage("finding input files");
    refuse_the_lake_itself(lake, inputs)?;
    let found = discover(inputs, opts.follow_symlinks)?;
    let sizes: Vec<u64> = found
        .files
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .collect();
    // Hashing reads every file once and then parsing reads it again: count both.
    progress.begin_stage(
        format!("ingesting {} files", found.files.len()),
        2 * sizes.iter().sum::<u64>(),
    );
    let hashes: Vec<Result<String, String>> = found
        .files
        .par_iter()
        .map(|p| {
            progress.check().map_err(|_| "cancelled".to_string())?;
            sha256_file(p, progress).map_err(|e| format!("cannot read {}: {e}", p.display()))
        })
        .collect();
    progress.check()?;

    let batch = Batch::new(started_at);
    let (mut outcomes, todo) = sort_out(&found.files, hashes, &sizes, &ledger_rows, progress);
    let run = RunContext {
        lake,
        rt: &rt,
        batch: &batch,
        opts,
        limits: &limits,
        progress,
    };
    let results: Vec<(usize, Result<FileOutcome, IngestError>)> = todo
        .par_iter()
        .map(|(i, sha)| {
            let input = Input {
                path: &found.files[*i],
                sha,
                size: sizes[*i],
                seq: *i as u64,
            };
            (*i, Attempt::new(&run, &input).run())
        })
        .collect();
    let first_error = record_results(&mut outcomes, results, &found.files);
    // Cancellation and lake failures stop the run (committed files stay committed); a file
    // that could not be read is reported and the rest of the batch goes on.
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(IngestSummary {
        batch_id: batch.id,
        started_at,
        outcomes: outcomes.into_iter().flatten().collect(),
        skipped: found
            .skipped
            .into_iter()
            .map(|(p, why)| (p, why.to_string()))
            .collect(),
        recovered_files,
        elapsed_secs: started.elapsed().as_secs_f64(),
    })
}

/// Which inputs to ingest: a file that could not be hashed has failed, one whose bytes the
/// ledger or this run already has is skipped; the rest, with their hashes, are to do.
fn sort_out(
    files: &[PathBuf],
    hashes: Vec<Result<String, String>>,
    sizes: &[u64],
    ledger_rows: &[LedgerEntry],
    progress: &JobProgress,
) -> (Vec<Option<FileOutcome>>, Vec<(usize, String)>) {
    let by_sha: HashMap<&str, &LedgerEntry> =
        ledger_rows.iter().map(|e| (e.sha256.as_str(), e)).collect();
    let mut outcomes: Vec<Option<FileOutcome>> = vec![None; files.len()];
    let mut todo = Vec::new();
    let mut seen_in_run: HashMap<String, String> = HashMap::new();
    for (i, (path, hash)) in files.iter().zip(hashes).enumerate() {
        let source_path = display_path(path);
        let sha = match hash {
            Err(error) => {
                outcomes[i] = Some(FileOutcome::Failed { source_path, error });
                continue;
            }
            Ok(sha) => sha,
        };
        if let Some(prev) = by_sha.get(sha.as_str()) {
            progress.add_done(sizes[i]);
            outcomes[i] = Some(FileOutcome::AlreadyIngested {
                source_path,
                sha256: sha,
                previous: Box::new((*prev).clone()),
            });
        } else if let Some(first) = seen_in_run.get(&sha) {
            progress.add_done(sizes[i]);
            let same_as = first.clone();
            outcomes[i] = Some(FileOutcome::DuplicateInRun {
                source_path,
                same_as,
            });
        } else {
            seen_in_run.insert(sha.clone(), source_path);
            todo.push((i, sha));
        }
    }
    (outcomes, todo)
}

/// Puts each attempt's outcome in its place; returns the first error that stops the run (a
/// cancellation, a lake that cannot be written), while a file that could not be read is only
/// reported.
fn record_results(
    outcomes: &mut [Option<FileOutcome>],
    results: Vec<(usize, Result<FileOutcome, IngestError>)>,
    files: &[PathBuf],
) -> Option<IngestError> {
    let mut first_error = None;
    for (i, r) in results {
        let e = match r {
            Ok(o) => {
                outcomes[i] = Some(o);
                continue;
            }
            Err(e) => e,
        };
        outcomes[i] = Some(FileOutcome::Failed {
            source_path: display_path(&files[i]),
            error: e.to_string(),
        });
        if matches!(
            e,
            IngestError::Cancelled | IngestError::Lake(_) | IngestError::Ledger(_)
        ) {
            first_error.get_or_insert(e);
        }
    }
    first_error
}

/// One ingest run's identity: a short random id and the minute it started, both part of every
/// file name it writes.
struct Batch {
    id: String,
    stamp: String,
    started_at: DateTime<Utc>,
}

impl Batch {
    fn new(at: DateTime<Utc>) -> Self {
        Batch {
            id: format!("{:08x}", rand::random::<u32>()),
            stamp: at.format("%Y%m%d_%H%M").to_string(),
            started_at: at,
        }
    }
}

fn display_path(p: &FsPath) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

fn sha256_file(path: &FsPath, progress: &JobProgress) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        progress.add_done(n as u64);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A file name stem safe in any object store: the input's name without its extensions.
fn file_stem(path: &FsPath) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("input");
    let mut stem = name;
    for ext in [
        ".gz", ".gzip", ".json", ".ndjson", ".jsonl", ".jsonld", ".txt",
    ] {
        if stem.len() > ext.len() && stem.to_ascii_lowercase().ends_with(ext) {
            stem = &stem[..stem.len() - ext.len()];
        }
    }
    let mut out: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    if out.is_empty() {
        out.push_str("input");
    }
    out
}

/// One input file of a run.
struct Input<'a> {
    path: &'a FsPath,
    sha: &'a str,
    size: u64,
    /// Position in the run's input list.
    seq: u64,
}

/// Refuses inputs that hold the lake or lie inside it: ingesting a lake's own files into it
/// would feed Bronze back into Bronze without end.
fn refuse_the_lake_itself(lake: &Lake, inputs: &[PathBuf]) -> Result<(), IngestError> {
    let Some(root) = lake.local_root() else {
        return Ok(());
    };
    // Both sides canonical: a lake reached through a link, or an input that is one, is still
    // the same folder.
    let root = &root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    for input in inputs {
        let Ok(canon) = input.canonicalize() else {
            continue; // a missing input is named by discovery
        };
        let relation = if root.starts_with(&canon) {
            "holds"
        } else if canon.starts_with(root) {
            "is inside"
        } else {
            continue;
        };
        return Err(IngestError::InputAndLake {
            input: input.display().to_string(),
            relation,
            lake: root.display().to_string(),
        });
    }
    Ok(())
}
