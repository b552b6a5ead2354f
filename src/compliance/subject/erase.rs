//! The steps of an erasure, each safe to run again: Bronze and quarantine files rewritten
//! without the subject's lines, the subject's Silver rows deleted, and every Delta table
//! vacuumed and its log cut so no old file or commit still holds them.
//!
//! A file is rewritten in four steps: the new file (create-only, synced) beside the old one;
//! the old file's name in the erasure's state (so a crash cannot orphan it); the ledger row
//! (and, for a cold file, the tier record) pointing at the new file, with the lines removed
//! counted as erased (records read = Bronze + quarantined + erased); the old file deleted.
//! Rerunning after a crash at any step finishes the same erasure.

use std::collections::{BTreeMap, BTreeSet};

use object_store::path::Path;

use super::{Findings, Matcher, SubjectError};
use crate::lake::delta::{self, DELTA_TABLES, SILVER_CONTACTS};
use crate::lake::erasures::ErasureState;
use crate::lake::gzip::gzip;
use crate::lake::ledger::{self, LedgerEntry};
use crate::lake::tiers::{BronzeLocator, Tier, TierState};
use crate::lake::{Lake, LakeError};

/// Deletes old files whose replacement the ledger (or tier record) now names; an old file
/// still named stays (its rewrite did not get that far, and is done again).
pub async fn finish_pending_deletes(
    lake: &Lake,
    state: &mut ErasureState,
) -> Result<(), SubjectError> {
    if state.pending_deletes.is_empty() {
        return Ok(());
    }
    let named = named_files(lake).await?;
    let cold: BTreeSet<String> = TierState::load(lake).await?.cold.into_keys().collect();
    let locator = BronzeLocator::load(lake).await?;
    for old in std::mem::take(&mut state.pending_deletes) {
        if named.contains(&old) || cold.contains(&old) {
            continue;
        }
        delete_everywhere(lake, &locator, &old).await?;
    }
    Ok(state.save(lake).await?)
}

/// Every file the ledger names (Bronze, quarantine, originals).
async fn named_files(lake: &Lake) -> Result<BTreeSet<String>, SubjectError> {
    let mut named = BTreeSet::new();
    for e in ledger::read_all(lake).await? {
        named.extend(e.bronze_files.into_iter().map(|f| f.path));
        named.extend(e.quarantine_file);
        named.extend(e.quarantine_original);
    }
    Ok(named)
}

/// Deletes a file from the lake and, if one is set, the cold store (a missing file is fine).
async fn delete_everywhere(
    lake: &Lake,
    locator: &BronzeLocator,
    path: &str,
) -> Result<(), SubjectError> {
    let p = Path::from(path);
    lake.delete(&p).await?;
    if let Some(cold) = locator.cold_lake() {
        cold.delete(&p).await?;
    }
    Ok(())
}

/// The name of a file's rewrite: the same folder and extension, marked with the erasure.
fn rewritten_name(old: &str, id: &str) -> String {
    let (dir, name) = old.rsplit_once('/').unwrap_or(("", old));
    let (stem, ext) = name.split_once('.').unwrap_or((name, "gz"));
    let stem = stem.split("-erased-").next().unwrap_or(stem);
    format!("{dir}/{stem}-erased-{id}.{ext}")
}

/// Writes a replacement file create-only and durable; a copy left by a run that died is
/// replaced, and so is the partial staging copy of one killed while it wrote.
async fn write_new(store: &Lake, path: &str, bytes: Vec<u8>) -> Result<(), SubjectError> {
    let p = Path::from(path);
    store.remove_staging_copies(&p)?;
    match store.put_create(&p, bytes.clone().into()).await {
        Ok(()) => {}
        // `put_create` reports an existing object as `AlreadyExists` (a copy a killed run left:
        // written whole or not, it is this erasure's and is written again).
        Err(LakeError::AlreadyExists { .. }) => store.put_overwrite(&p, bytes.into()).await?,
        Err(e) => return Err(e.into()),
    }
    store.sync(&[p])?;
    Ok(())
}

/// Rewrites every Bronze file holding the subject's lines without them.
pub async fn rewrite_bronze(
    lake: &Lake,
    findings: &Findings,
    state: &mut ErasureState,
) -> Result<(), SubjectError> {
    let mut lines: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for h in &findings.bronze {
        lines.entry(h.file.as_str()).or_default().insert(h.line);
    }
    for (file, drop) in lines {
        let locator = BronzeLocator::load(lake).await?;
        let tier = locator.tier(file);
        let store = match tier {
            Tier::Cold => locator
                .cold_lake()
                .cloned()
                .ok_or_else(|| SubjectError::Read {
                    what: file.to_string(),
                    message: "recorded as cold, but the lake has no cold store".into(),
                })?,
            Tier::Hot => lake.clone(),
            Tier::Expired => continue,
        };
        let Some(bytes) = locator.get(file).await? else {
            continue;
        };
        let text = crate::lake::gzip::gunzip(&bytes).map_err(|e| SubjectError::Read {
            what: file.to_string(),
            message: e.to_string(),
        })?;
        let (kept, removed) = without_lines(&text, &drop);
        let new = (kept > 0).then(|| rewritten_name(file, &state.id));
        let mut new_bytes = 0;
        if let Some(new) = &new {
            let gz = gzip(&text_without(&text, &drop));
            new_bytes = gz.len() as u64;
            write_new(&store, new, gz).await?;
        }
        state.pending_deletes.insert(file.to_string());
        state.save(lake).await?;
        replace_in_ledger(lake, file, new.as_deref(), removed, new_bytes, &state.id).await?;
        if tier == Tier::Cold {
            let mut tiers = TierState::load(lake).await?;
            if let Some(at) = tiers.cold.remove(file)
                && let Some(new) = &new
            {
                tiers.cold.insert(new.clone(), at);
            }
            tiers.save(lake).await?;
        }
        store.delete(&Path::from(file)).await?;
        state.pending_deletes.remove(file);
        state.bronze_files_rewritten += 1;
        state.bronze_lines_removed += removed;
        state.save(lake).await?;
    }
    Ok(())
}

/// How many lines a text keeps and loses without the 1-based `drop` lines.
fn without_lines(text: &[u8], drop: &BTreeSet<u64>) -> (u64, u64) {
    let mut kept = 0;
    let mut removed = 0;
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if drop.contains(&(i as u64 + 1)) {
            removed += 1;
        } else {
            kept += 1;
        }
    }
    (kept, removed)
}

/// The text without the 1-based `drop` lines, each line ending in a newline.
fn text_without(text: &[u8], drop: &BTreeSet<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() || drop.contains(&(i as u64 + 1)) {
            continue;
        }
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

/// Points the ledger row that names `old` at `new` (or drops the file when nothing is left),
/// counting `removed` records as erased.
async fn replace_in_ledger(
    lake: &Lake,
    old: &str,
    new: Option<&str>,
    removed: u64,
    new_bytes: u64,
    id: &str,
) -> Result<(), SubjectError> {
    for mut entry in ledger::read_all(lake).await? {
        let Some(i) = entry.bronze_files.iter().position(|f| f.path == old) else {
            continue;
        };
        match new {
            Some(new) => {
                let f = &mut entry.bronze_files[i];
                f.path = new.to_string();
                f.records = f.records.saturating_sub(removed);
                f.bytes = new_bytes;
            }
            None => {
                entry.bronze_files.remove(i);
            }
        }
        entry.bronze_records = entry.bronze_records.saturating_sub(removed);
        count_erased(&mut entry, removed, id);
        ledger::rewrite(lake, &entry).await?;
    }
    Ok(())
}

fn count_erased(entry: &mut LedgerEntry, removed: u64, id: &str) {
    entry.erased += removed;
    if !entry.erased_by.iter().any(|e| e == id) {
        entry.erased_by.push(id.to_string());
    }
}

/// Rewrites every quarantine file holding the subject's records without them, and deletes
/// the damaged originals that mention them (their other records go with them: a damaged file
/// cannot be rewritten, and the erasure comes first).
pub async fn rewrite_quarantine(
    lake: &Lake,
    findings: &Findings,
    state: &mut ErasureState,
) -> Result<(), SubjectError> {
    let mut rows: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for h in &findings.quarantine {
        rows.entry(h.file.as_str()).or_default().insert(h.index);
    }
    for (file, drop) in rows {
        let bytes = lake.get(&Path::from(file)).await?;
        let all = crate::bronze::quarantine::read_rows(&bytes).map_err(|e| SubjectError::Read {
            what: file.to_string(),
            message: e.to_string(),
        })?;
        let kept: Vec<String> = (all.iter().enumerate())
            .filter(|(i, _)| !drop.contains(i))
            .filter_map(|(_, r)| serde_json::to_string(r).ok())
            .collect();
        let removed = (all.len() - kept.len()) as u64;
        let new = (!kept.is_empty()).then(|| rewritten_name(file, &state.id));
        if let Some(new) = &new {
            write_new(lake, new, gzip((kept.join("\n") + "\n").as_bytes())).await?;
        }
        state.pending_deletes.insert(file.to_string());
        state.save(lake).await?;
        for mut entry in ledger::read_all(lake).await? {
            if entry.quarantine_file.as_deref() != Some(file) {
                continue;
            }
            entry.quarantine_file = new.clone();
            entry.quarantined = entry.quarantined.saturating_sub(removed);
            count_erased(&mut entry, removed, &state.id);
            ledger::rewrite(lake, &entry).await?;
        }
        lake.delete(&Path::from(file)).await?;
        state.pending_deletes.remove(file);
        state.quarantine_rows_removed += removed;
        state.save(lake).await?;
    }
    for original in &findings.originals {
        state.pending_deletes.insert(original.clone());
        state.save(lake).await?;
        for mut entry in ledger::read_all(lake).await? {
            if entry.quarantine_original.as_deref() != Some(original.as_str()) {
                continue;
            }
            entry.quarantine_original = None;
            ledger::rewrite(lake, &entry).await?;
        }
        lake.delete(&Path::from(original.as_str())).await?;
        state.pending_deletes.remove(original);
        state.originals_removed += 1;
        state.save(lake).await?;
    }
    Ok(())
}

/// Deletes the Silver rows holding the subject's keyed hashes (on every date, including dates
/// frozen by lifecycle, which are never rebuilt). Returns the rows deleted.
pub async fn delete_silver_rows(
    lake: &Lake,
    matcher: &Matcher,
    contacts: &BTreeSet<(String, String)>,
) -> Result<u64, SubjectError> {
    let err = |source| SubjectError::Delta {
        table: SILVER_CONTACTS,
        source,
    };
    let table = delta::open(lake, SILVER_CONTACTS).await.map_err(err)?;
    if !delta::exists(&table) {
        return Ok(0);
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let by_value =
        (matcher.masked_values().into_iter()).map(|(col, v)| format!("{col} = {}", quote(&v)));
    let by_contact = (contacts.iter()).map(|(system, id)| {
        format!(
            "(source_system = {} AND contact_id = {})",
            quote(system),
            quote(id)
        )
    });
    let terms: Vec<String> = by_value.chain(by_contact).collect();
    if terms.is_empty() {
        return Ok(0);
    }
    let mut meta = serde_json::Map::new();
    meta.insert("cclake.operation".into(), "subject.erase".into());
    let (_, metrics) = table
        .delete()
        .with_predicate(terms.join(" OR "))
        .with_commit_properties(
            deltalake::kernel::transaction::CommitProperties::default().with_metadata(meta),
        )
        .await
        .map_err(err)?;
    Ok(metrics.num_deleted_rows.unwrap_or(0) as u64)
}

/// Vacuums every Delta table with no retention and cuts its log at a new checkpoint, so no
/// data file or commit of before the erasure remains. Returns (files vacuumed, log files
/// removed).
pub async fn purge_history(lake: &Lake) -> Result<(u64, u64), SubjectError> {
    let (mut vacuumed, mut logs) = (0, 0);
    for rel in DELTA_TABLES {
        let err = |source| SubjectError::Delta { table: rel, source };
        let table = delta::open(lake, rel).await.map_err(err)?;
        if !delta::exists(&table) {
            continue;
        }
        let (table, files) = delta::vacuum(table, chrono::Duration::zero(), false)
            .await
            .map_err(err)?;
        vacuumed += files as u64;
        logs += delta::cut_log(&table).await.map_err(err)? as u64;
    }
    Ok((vacuumed, logs))
}
