//! The ingest ledger: one JSON row per ingested input file, written only after every Bronze
//! and quarantine file of that input is durable. The ledger is Bronze's manifest: a file in
//! `bronze/` that no ledger row names belongs to an ingest that never finished.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use super::paths::{INGEST_LOG, INGEST_PENDING};
use super::{Lake, LakeError};

/// One Bronze file an ingest wrote.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BronzeFileEntry {
    /// Object path inside the lake.
    pub path: String,
    pub event_type: String,
    /// Start of the occurrence hour (UTC) the file's records belong to.
    pub hour: DateTime<Utc>,
    pub records: u64,
    /// Compressed size.
    pub bytes: u64,
}

/// One ledger row: everything an ingest did with one input file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerEntry {
    pub source_path: String,
    /// SHA-256 of the input file's bytes (as stored, before any gunzip).
    pub sha256: String,
    pub bytes: u64,
    /// Records read from the file (including quarantined ones).
    pub records: u64,
    pub bronze_records: u64,
    pub quarantined: u64,
    pub bronze_files: Vec<BronzeFileEntry>,
    pub quarantine_file: Option<String>,
    /// A copy of the whole input, kept in quarantine when it could not be read to its end
    /// (a damaged gzip too large to keep inside a quarantine row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_original: Option<String>,
    /// How the file was laid out: ndjson, json-array, json-stream, concatenated or empty.
    pub format: String,
    pub gzip: bool,
    /// Records per shape (genesys, cxone, generic).
    pub shapes: HashMap<String, u64>,
    pub batch_id: String,
    /// When the batch started, and this file's place in the batch's input list: together the
    /// order in which inputs count as ingested ("the most recently ingested copy wins"),
    /// independent of which parallel worker committed first.
    pub batch_started_at: DateTime<Utc>,
    pub input_seq: u64,
    pub ingested_at: DateTime<Utc>,
    /// Records removed since by data-subject erasures: `records` = `bronze_records` +
    /// `quarantined` + `erased`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub erased: u64,
    /// The erasures that removed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased_by: Vec<String>,
    /// Quarantined records sent through the readers again (`cclake quarantine --retry`): they
    /// left this input's quarantine and were read again as the retry's own input, whose
    /// ledger row counts them. `records` = `bronze_records` + `quarantined` + `erased` +
    /// `retried`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retried: u64,
    /// Records of Bronze files found damaged or deleted and marked lost (`cclake doctor
    /// --repair --mark-lost`, audited): `records` = `bronze_records` + `quarantined` +
    /// `erased` + `retried` + `lost`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lost: u64,
    /// The Bronze files those records were in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost_files: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LedgerEntry {
    /// Sort key for "ingested later".
    pub fn ingest_order(&self) -> (DateTime<Utc>, u64) {
        (self.batch_started_at, self.input_seq)
    }
}

/// Marker written before an ingest of one input file writes anything; removed after its
/// ledger row is committed. `attempt_tag` is part of every file name the attempt writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingIngest {
    pub source_path: String,
    pub sha256: String,
    pub batch_id: String,
    pub attempt_tag: String,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("ledger file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
}

fn entry_path(entry: &LedgerEntry) -> Path {
    Path::from(format!(
        "{INGEST_LOG}/{}_{}_{}.json",
        entry.ingested_at.format("%Y%m%dT%H%M%S%6fZ"),
        entry.batch_id,
        &entry.sha256[..12.min(entry.sha256.len())]
    ))
}

fn pending_path(attempt_tag: &str) -> Path {
    Path::from(format!("{INGEST_PENDING}/{attempt_tag}.json"))
}

/// Reads every committed ledger row, oldest first.
pub async fn read_all(lake: &Lake) -> Result<Vec<LedgerEntry>, LedgerError> {
    let mut metas: Vec<_> = lake
        .list(INGEST_LOG)
        .await?
        .into_iter()
        .filter(|m| {
            // Only rows directly under the ledger folder; markers live in a subfolder.
            m.location
                .as_ref()
                .strip_prefix(INGEST_LOG)
                .is_some_and(|rest| rest.matches('/').count() == 1 && rest.ends_with(".json"))
        })
        .collect();
    // Row names start with the commit time, so name order is commit order.
    metas.sort_by(|a, b| a.location.cmp(&b.location));
    let mut rows = Vec::with_capacity(metas.len());
    for m in metas {
        let bytes = lake.get(&m.location).await?;
        let row: LedgerEntry =
            serde_json::from_slice(&bytes).map_err(|source| LedgerError::Parse {
                path: m.location.to_string(),
                source,
            })?;
        rows.push(row);
    }
    rows.sort_by_key(LedgerEntry::ingest_order);
    Ok(rows)
}

/// Commits one ledger row (create-only) and makes it durable.
pub async fn commit(lake: &Lake, entry: &LedgerEntry) -> Result<(), LedgerError> {
    let path = entry_path(entry);
    let body = serde_json::to_vec_pretty(entry).map_err(|source| LedgerError::Parse {
        path: path.to_string(),
        source,
    })?;
    lake.put_create(&path, body.into()).await?;
    lake.sync(&[path])?;
    Ok(())
}

/// Replaces a committed ledger row (same input, same batch) with its new content, whole or
/// not at all: what an erasure does when it rewrites the row's files.
pub async fn rewrite(lake: &Lake, entry: &LedgerEntry) -> Result<(), LedgerError> {
    let path = entry_path(entry);
    let body = serde_json::to_vec_pretty(entry).map_err(|source| LedgerError::Parse {
        path: path.to_string(),
        source,
    })?;
    lake.put_overwrite(&path, body.into()).await?;
    Ok(())
}

/// Records that an attempt is about to write files.
pub async fn mark_pending(lake: &Lake, pending: &PendingIngest) -> Result<(), LedgerError> {
    let path = pending_path(&pending.attempt_tag);
    let body = serde_json::to_vec_pretty(pending).map_err(|source| LedgerError::Parse {
        path: path.to_string(),
        source,
    })?;
    lake.put_create(&path, body.into()).await?;
    lake.sync(&[path])?;
    Ok(())
}

/// Removes an attempt's marker once its ledger row is committed (or its files are gone).
pub async fn clear_pending(lake: &Lake, attempt_tag: &str) -> Result<(), LedgerError> {
    lake.delete(&pending_path(attempt_tag)).await?;
    Ok(())
}

/// Markers left by attempts that did not finish.
pub async fn read_pending(lake: &Lake) -> Result<Vec<PendingIngest>, LedgerError> {
    let mut out = Vec::new();
    for m in lake.list(INGEST_PENDING).await? {
        let bytes = lake.get(&m.location).await?;
        match serde_json::from_slice::<PendingIngest>(&bytes) {
            Ok(p) => out.push(p),
            // A marker torn by a crash during its own write has no files behind it yet.
            Err(_) => lake.delete(&m.location).await?,
        }
    }
    Ok(out)
}
