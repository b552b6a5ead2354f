//! Quarantine replay: quarantined records go through today's readers again (after a reader
//! fix, a new shape, or a mapped time field), into Bronze like any input, and leave the
//! quarantine only once that ingest is committed. What still fails is quarantined again by the
//! retry, with its new error.
//!
//! One quarantine file is retried whole: its records (those whose text the quarantine holds)
//! are written as an NDJSON input named after it and ingested. Then the quarantine file is
//! rewritten without them (a new file, create-only; the ledger row pointed at it, the records
//! counted as `retried`; the old file deleted). A run that dies between the two steps is
//! finished by running it again: the same records give the same input, which the ledger knows
//! as already ingested, and only the rewrite is left to do.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine;
use object_store::path::Path as StorePath;
use serde::Serialize;

use super::quarantine::{QuarantineRow, read_rows};
use super::{IngestError, IngestOptions, IngestSummary, ingest};
use crate::lake::ledger::{self, LedgerEntry};
use crate::lake::{Lake, LakeError};
use crate::progress::JobProgress;

/// What a retry did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetrySummary {
    /// Quarantine files retried.
    pub files: usize,
    /// Records sent through the readers again.
    pub retried: u64,
    /// Of those, now in Bronze.
    pub into_bronze: u64,
    /// Of those, quarantined again (with their new error).
    pub still_failing: u64,
    /// Records whose bytes the quarantine does not hold (a whole damaged input, or one too
    /// large to copy): re-ingest the original file to retry them.
    pub not_retryable: u64,
    #[serde(skip)]
    pub ingest: Option<IngestSummary>,
}

/// The bytes of a quarantined record, when the quarantine holds them.
fn raw_bytes(row: &QuarantineRow) -> Option<Vec<u8>> {
    if row.original_copy.is_some() || row.length.is_some() {
        return None;
    }
    match &row.raw_base64 {
        Some(b) => base64::engine::general_purpose::STANDARD.decode(b).ok(),
        None => Some(row.raw.clone().into_bytes()),
    }
}

/// Retries the quarantine files named in `only` (paths as `cclake quarantine --json` shows
/// their rows' files), or every one. `staging` is a private folder for the retry inputs.
pub fn retry(
    lake: &Lake,
    only: Option<&BTreeSet<String>>,
    staging: &Path,
    opts: &IngestOptions,
    progress: &JobProgress,
) -> Result<RetrySummary, IngestError> {
    let rt = tokio::runtime::Handle::try_current().map_err(|_| IngestError::NoRuntime)?;
    let _lease = rt.block_on(lake.writer_lease("quarantine retry"))?;
    let entries = rt.block_on(ledger::read_all(lake))?;
    let chosen: Vec<&LedgerEntry> = (entries.iter())
        .filter(|e| {
            e.quarantine_file
                .as_ref()
                .is_some_and(|q| only.is_none_or(|o| o.contains(q)))
        })
        .collect();
    std::fs::create_dir_all(staging).map_err(|e| io_err(staging, e))?;
    let mut summary = RetrySummary::default();
    let mut inputs: Vec<(PathBuf, &LedgerEntry, Vec<usize>)> = Vec::new();
    for entry in chosen {
        let Some(qfile) = &entry.quarantine_file else {
            continue;
        };
        let rows = read_quarantine(lake, &rt, qfile)?;
        let mut text = Vec::new();
        let mut picked = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            match raw_bytes(row) {
                // A record is a line; one that spans lines cannot be one as it stands.
                Some(bytes) if !bytes.contains(&b'\n') => {
                    text.extend_from_slice(&bytes);
                    text.push(b'\n');
                    picked.push(i);
                }
                _ => summary.not_retryable += 1,
            }
        }
        if picked.is_empty() {
            continue;
        }
        let name = qfile
            .rsplit('/')
            .next()
            .unwrap_or(qfile)
            .trim_end_matches(".gz");
        let input = staging.join(format!("quarantine-retry-{name}.ndjson"));
        std::fs::write(&input, &text).map_err(|e| io_err(&input, e))?;
        inputs.push((input, entry, picked));
    }
    if inputs.is_empty() {
        return Ok(summary);
    }
    let paths: Vec<PathBuf> = inputs.iter().map(|(p, _, _)| p.clone()).collect();
    let ingested = ingest(lake, &paths, opts, progress)?;
    if ingested.failed() > 0 {
        // Nothing leaves the quarantine unless its retry was committed.
        let why: Vec<String> = ingested.failures().collect();
        return Err(IngestError::RetryFailed(why.join("; ")));
    }
    // The retry inputs' ledger rows (new or, after a crash, already there).
    let after = rt.block_on(ledger::read_all(lake))?;
    for (input, entry, picked) in &inputs {
        let shown = input.display().to_string();
        let row = after.iter().rev().find(|e| e.source_path == shown);
        if let Some(r) = row {
            summary.into_bronze += r.bronze_records;
            summary.still_failing += r.quarantined;
        }
        summary.retried += picked.len() as u64;
        summary.files += 1;
        rt.block_on(leave_quarantine(lake, entry, picked))?;
        let _ = std::fs::remove_file(input);
    }
    summary.ingest = Some(ingested);
    Ok(summary)
}

fn io_err(path: &Path, source: std::io::Error) -> IngestError {
    IngestError::Lake(LakeError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_quarantine(
    lake: &Lake,
    rt: &tokio::runtime::Handle,
    qfile: &str,
) -> Result<Vec<QuarantineRow>, IngestError> {
    let bytes = rt.block_on(lake.get(&StorePath::from(qfile)))?;
    read_rows(&bytes).map_err(|e| io_err(Path::new(qfile), e))
}

/// Rewrites an input's quarantine file without the retried rows and counts them as retried.
async fn leave_quarantine(
    lake: &Lake,
    entry: &LedgerEntry,
    picked: &[usize],
) -> Result<(), IngestError> {
    let Some(qfile) = entry.quarantine_file.clone() else {
        return Ok(());
    };
    let bytes = lake.get(&StorePath::from(qfile.as_str())).await?;
    let rows = read_rows(&bytes).map_err(|e| io_err(Path::new(&qfile), e))?;
    let kept: Vec<String> = (rows.iter().enumerate())
        .filter(|(i, _)| !picked.contains(i))
        .filter_map(|(_, r)| serde_json::to_string(r).ok())
        .collect();
    let new = match kept.is_empty() {
        true => None,
        false => {
            let stem = qfile
                .trim_end_matches(".gz")
                .split("-retried-")
                .next()
                .unwrap_or(&qfile)
                .to_string();
            let new = format!(
                "{stem}-retried-{}.gz",
                chrono::Utc::now().format("%Y%m%dT%H%M%S%f")
            );
            let gz = crate::lake::gzip::gzip((kept.join("\n") + "\n").as_bytes());
            lake.put_create(&StorePath::from(new.as_str()), gz.into())
                .await?;
            lake.sync(&[StorePath::from(new.as_str())])?;
            Some(new)
        }
    };
    let mut updated = entry.clone();
    updated.quarantine_file = new;
    updated.quarantined = updated.quarantined.saturating_sub(picked.len() as u64);
    updated.retried += picked.len() as u64;
    ledger::rewrite(lake, &updated).await?;
    lake.delete(&StorePath::from(qfile.as_str())).await?;
    Ok(())
}
