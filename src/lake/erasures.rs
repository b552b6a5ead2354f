//! Erasures of data subjects as the lake records them: one file per erasure in
//! `_cclake/erasures/`, its progress while it runs (so a rerun finishes it) and its receipt
//! after. Holds no raw value: the subject is named by keyed hashes.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Lake, LakeError};

/// Where erasures keep their state until they are done.
const ERASURES: &str = "_cclake/erasures";

/// How far an erasure has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Rewriting Bronze and quarantine.
    Files,
    /// Deleting Silver rows, rebuilding their dates and Gold, vacuuming.
    Layers,
    Done,
}

/// One erasure, as the lake records it while it runs (and after, as its receipt). Holds no
/// raw value: the subject is named by keyed hashes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErasureState {
    pub id: String,
    pub reason: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub subject: Vec<String>,
    pub phase: Phase,
    /// Old files whose replacement may already be recorded: deleted once it is.
    #[serde(default)]
    pub pending_deletes: BTreeSet<String>,
    pub bronze_files_rewritten: u64,
    pub bronze_lines_removed: u64,
    pub quarantine_rows_removed: u64,
    pub originals_removed: u64,
    /// UTC dates of Silver to rebuild without the subject.
    pub silver_dates: BTreeSet<NaiveDate>,
    /// The subject's Silver contacts (source system, contact id) to delete: kept while the
    /// erasure runs (once Bronze is rewritten they cannot be found again) and emptied when it
    /// is done, so the receipt does not tie the subject to their contacts.
    #[serde(default)]
    pub silver_contacts: BTreeSet<(String, String)>,
    pub silver_rows_removed: u64,
    pub gold_dates: Vec<NaiveDate>,
    pub delta_files_vacuumed: u64,
    pub delta_log_files_removed: u64,
}

impl ErasureState {
    pub fn new(id: String, reason: &str, subject: Vec<String>) -> ErasureState {
        ErasureState {
            id,
            reason: reason.to_string(),
            started_at: Utc::now(),
            finished_at: None,
            subject,
            phase: Phase::Files,
            pending_deletes: BTreeSet::new(),
            bronze_files_rewritten: 0,
            bronze_lines_removed: 0,
            quarantine_rows_removed: 0,
            originals_removed: 0,
            silver_dates: BTreeSet::new(),
            silver_contacts: BTreeSet::new(),
            silver_rows_removed: 0,
            gold_dates: Vec::new(),
            delta_files_vacuumed: 0,
            delta_log_files_removed: 0,
        }
    }

    fn path(id: &str) -> String {
        format!("{ERASURES}/{id}.json")
    }

    /// The erasure of this id, if one was started.
    pub async fn load(lake: &Lake, id: &str) -> Result<Option<ErasureState>, LakeError> {
        lake.get_json(&Self::path(id)).await
    }

    /// Makes the state durable (written whole or not at all).
    pub async fn save(&self, lake: &Lake) -> Result<(), LakeError> {
        lake.put_json(&Self::path(&self.id), self).await
    }
}

/// Erasures that were started and did not finish: the lake still holds part of a subject
/// whose erasure was asked for.
pub async fn unfinished(lake: &Lake) -> Result<Vec<ErasureState>, LakeError> {
    Ok(all(lake)
        .await?
        .into_iter()
        .filter(|s| s.phase != Phase::Done)
        .collect())
}

/// Every erasure the lake records, oldest first.
pub async fn all(lake: &Lake) -> Result<Vec<ErasureState>, LakeError> {
    let mut out = Vec::new();
    for meta in lake.list(ERASURES).await? {
        let path = meta.location.to_string();
        if !is_record(&path) {
            continue;
        }
        // Listed a moment ago: gone now only if another process removed it.
        out.extend(lake.get_json::<ErasureState>(&path).await?);
    }
    out.sort_by_key(|s| s.started_at);
    Ok(out)
}

/// An erasure record, not the staging copy of a write that was killed (`<id>.json#3`).
fn is_record(path: &str) -> bool {
    path.ends_with(".json")
}

/// Removes staging copies left by a write of an erasure record that was killed: they hold
/// what the record held and belong to no erasure.
pub async fn remove_leftovers(lake: &Lake) -> Result<(), LakeError> {
    for meta in lake.list(ERASURES).await? {
        if !is_record(meta.location.as_ref()) {
            lake.delete(&meta.location).await?;
        }
    }
    Ok(())
}
