//! Undoing ingest attempts that did not commit: after a crash (a pending marker without a
//! ledger row), or when an attempt fails or is cancelled.

use std::collections::HashSet;

use crate::lake::ledger::{self, LedgerError, PendingIngest};
use crate::lake::paths::{BRONZE, INGEST_LOG};
use crate::lake::{Lake, LakeError};

/// Removes the files of every attempt that left a marker but no ledger row, and the markers.
/// Returns how many files were removed.
pub async fn recover_interrupted(lake: &Lake) -> Result<usize, LedgerError> {
    let pending = ledger::read_pending(lake).await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let committed: HashSet<(String, String)> = ledger::read_all(lake)
        .await?
        .into_iter()
        .map(|e| (e.sha256, e.batch_id))
        .collect();
    let mut removed = 0;
    for p in pending {
        if !committed.contains(&(p.sha256.clone(), p.batch_id.clone())) {
            removed += roll_back(lake, &p).await?;
            tracing::warn!(
                source = %p.source_path,
                files = removed,
                "removed the partial files of an interrupted ingest; the file will be ingested again"
            );
        }
        ledger::clear_pending(lake, &p.attempt_tag).await?;
    }
    Ok(removed)
}

/// Deletes every Bronze and quarantine file written by one attempt. Their names all start
/// with the attempt tag (hour files) or `<batch>_<stem>` (the quarantine file).
pub(super) async fn roll_back(lake: &Lake, p: &PendingIngest) -> Result<usize, LakeError> {
    let stem = super::attempt::attempt_stem(&p.attempt_tag);
    let prefixes = [p.attempt_tag.clone(), format!("{}_{stem}", p.batch_id)];
    let ours = |name: &str| prefixes.iter().any(|pre| name.starts_with(pre.as_str()));
    let mut removed = 0;
    if let Some(root) = lake.local_root() {
        // Walk the disk rather than list the store: it also sees the staging files
        // (`name#123`) of a write that was killed before its rename.
        let bronze = root.join(BRONZE);
        let ledger_dir = root.join(INGEST_LOG);
        let walker = walkdir::WalkDir::new(&bronze)
            .into_iter()
            .filter_entry(|e| e.path() != ledger_dir);
        for entry in walker.flatten() {
            let name = entry.file_name().to_string_lossy();
            if entry.file_type().is_file() && ours(&name) {
                std::fs::remove_file(entry.path()).map_err(|source| LakeError::Io {
                    path: entry.path().to_path_buf(),
                    source,
                })?;
                removed += 1;
                // Leave no empty partition folders behind.
                let mut dir = entry.path().parent();
                while let Some(d) = dir {
                    if d == bronze || std::fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
            }
        }
    } else {
        for meta in lake.list(BRONZE).await? {
            if meta.location.as_ref().starts_with(INGEST_LOG) {
                continue;
            }
            if meta.location.filename().is_some_and(ours) {
                lake.delete(&meta.location).await?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
