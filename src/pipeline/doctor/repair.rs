//! Setting each problem right. Nothing is deleted: what is replaced or given up is moved under
//! `_cclake/doctor/<when>/` first. Every repair says which layers must be rebuilt after it;
//! the caller runs that rebuild (`cclake doctor --repair` runs `process` itself).

use std::collections::BTreeSet;
use std::path::{Path as FsPath, PathBuf};

use chrono::{NaiveDate, Utc};
use object_store::path::Path;
use sha2::{Digest, Sha256};

use super::problem::{DoctorError, Problem};
use crate::lake::Lake;
use crate::lake::audit::{self, AuditEntry};
use crate::lake::ledger::{self, BronzeFileEntry, LedgerEntry};
use crate::lake::paths::BronzePartition;
use crate::lake::tiers::{BronzeLocator, Tier};
use crate::silver::digest::HmacKey;
use crate::silver::key_record::KEY_RECORD;
use crate::sources::Item;

/// What the user allowed.
#[derive(Debug, Clone, Default)]
pub struct RepairOptions {
    /// Original exports to write missing or damaged Bronze files again from.
    pub exports: Vec<PathBuf>,
    /// Mark the records of Bronze files no export can restore as lost.
    pub mark_lost: bool,
    /// Why (kept in the audit log with a restore or a loss).
    pub reason: Option<String>,
    /// The lake's key, to prove and write again a damaged key record.
    pub key: Option<HmacKey>,
}

/// What a repair did, and what it leaves for the rebuild.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Repaired {
    /// Each repair, in words.
    pub done: Vec<String>,
    /// Problems this run could not repair (their hint says what it needs).
    pub left: Vec<Problem>,
    /// Silver must be rebuilt in full (its table or state was reset), and Gold with it.
    pub rebuild_all: bool,
    /// Silver dates to rebuild (Bronze files restored or lost).
    pub dates: BTreeSet<NaiveDate>,
}

/// Repairs what `problems` lists, as far as `opts` allows.
pub async fn repair(
    lake: &Lake,
    problems: Vec<Problem>,
    opts: &RepairOptions,
) -> Result<Repaired, DoctorError> {
    let _lease = lake.writer_lease("doctor").await?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut out = Repaired::default();
    for p in problems {
        match &p {
            Problem::DamagedCommit { table, file, .. } => {
                let kept = move_aside(lake, file, &stamp).await?;
                out.done.push(format!(
                    "{table}: the damaged commit was moved to {kept}; the table is back at its last good version"
                ));
                // Whichever table it was, the layers are rebuilt from Bronze: a Gold commit
                // undone leaves Gold behind Silver, a Silver one leaves Silver behind Bronze.
                reset_state(lake, &stamp, &mut out).await?;
            }
            Problem::GarbledState { path, .. } => {
                let kept = move_aside(lake, path, &stamp).await?;
                out.done.push(format!("{path} was moved to {kept}"));
                out.rebuild_all |= path.starts_with("silver/") || path.starts_with("gold/");
            }
            Problem::GarbledKeyRecord { .. } => match &opts.key {
                Some(key) => {
                    prove_key(lake, key).await?;
                    move_aside(lake, KEY_RECORD, &stamp).await?;
                    crate::silver::key_record::restore(lake, key).await?;
                    out.done.push(format!(
                        "{KEY_RECORD} written again for key {} (it made the customer keys Silver holds)",
                        key.fingerprint().chars().take(16).collect::<String>()
                    ));
                }
                None => out.left.push(p.clone()),
            },
            Problem::GarbledLedger { .. } => out.left.push(p.clone()),
            Problem::MissingBronze {
                path,
                sha256,
                records,
                ..
            }
            | Problem::DamagedBronze {
                path,
                sha256,
                records,
                ..
            } => {
                let export = find_export(&opts.exports, sha256)?;
                match (export, opts.mark_lost) {
                    (Some(export), _) => {
                        let what = restore_bronze(lake, path, &export, *records, &stamp).await?;
                        audit(lake, "restore_bronze", opts, path, *records).await?;
                        out.done.push(what);
                        out.dates.extend(date_of(path));
                    }
                    (None, true) => {
                        let reason = opts.reason.as_deref().unwrap_or_default().trim();
                        if reason.is_empty() {
                            return Err(DoctorError::NoReason);
                        }
                        mark_lost(lake, path, &stamp).await?;
                        audit(lake, "mark_lost", opts, path, *records).await?;
                        out.done.push(format!(
                            "{path}: its {records} records were marked lost (audited: {reason})"
                        ));
                        out.dates.extend(date_of(path));
                    }
                    (None, false) => out.left.push(p.clone()),
                }
            }
        }
    }
    Ok(out)
}

/// Moves Silver's and Gold's state aside so the next run rebuilds both in full.
async fn reset_state(lake: &Lake, stamp: &str, out: &mut Repaired) -> Result<(), DoctorError> {
    for path in ["silver/_cclake_state.json", "gold/_cclake_state.json"] {
        if lake.get(&Path::from(path)).await.is_ok() {
            move_aside(lake, path, stamp).await?;
        }
    }
    out.rebuild_all = true;
    Ok(())
}

/// The Silver date of a Bronze file (its partition's UTC day).
fn date_of(path: &str) -> Option<NaiveDate> {
    BronzePartition::parse_file_path(path).map(|p| p.date())
}

/// The export among `exports` whose SHA-256 is `sha256`.
fn find_export(exports: &[PathBuf], sha256: &str) -> Result<Option<PathBuf>, DoctorError> {
    for e in exports {
        let bytes = std::fs::read(e).map_err(|err| DoctorError::Read {
            what: e.display().to_string(),
            message: err.to_string(),
        })?;
        if hex::encode(Sha256::digest(&bytes)) == sha256 {
            return Ok(Some(e.clone()));
        }
    }
    Ok(None)
}

/// The ledger row that names `path`, and the file's place in it.
async fn ledger_row_of(lake: &Lake, path: &str) -> Result<(LedgerEntry, usize), DoctorError> {
    for row in ledger::read_all(lake).await? {
        if let Some(i) = row.bronze_files.iter().position(|f| f.path == path) {
            return Ok((row, i));
        }
    }
    Err(DoctorError::Read {
        what: path.to_string(),
        message: "no ledger row names it any more".into(),
    })
}

/// Writes a Bronze file again from its export: the export's records of the file's hour, in
/// order, as ingest wrote them (the records of earlier files of the same hour skipped), under
/// a new name (Bronze is create-only); the ledger row then names the new file.
async fn restore_bronze(
    lake: &Lake,
    path: &str,
    export: &FsPath,
    records: u64,
    stamp: &str,
) -> Result<String, DoctorError> {
    let (mut row, i) = ledger_row_of(lake, path).await?;
    let entry = row.bronze_files[i].clone();
    // Earlier files of the same hour from this export (ingest writes an hour in chunks).
    let skip: u64 = (row.bronze_files[..i].iter())
        .filter(|f| f.event_type == entry.event_type && f.hour == entry.hour)
        .map(|f| f.records)
        .sum();
    let text = hour_records(export, &entry, skip, records)?;
    let found = text.iter().filter(|b| **b == b'\n').count() as u64;
    if found != records {
        return Err(DoctorError::ExportDiffers {
            export: export.display().to_string(),
            path: path.to_string(),
            found,
            records,
        });
    }
    let locator = BronzeLocator::load(lake).await?;
    let store = match (locator.tier(path), locator.cold_lake()) {
        (Tier::Cold, Some(cold)) => cold.clone(),
        _ => lake.clone(),
    };
    let new_path = restored_name(path, stamp);
    let gz = crate::lake::gzip::gzip(&text);
    let p = Path::from(new_path.as_str());
    store.put_create(&p, gz.clone().into()).await?;
    store.sync(std::slice::from_ref(&p))?;
    row.bronze_files[i] = BronzeFileEntry {
        path: new_path.clone(),
        bytes: gz.len() as u64,
        ..entry
    };
    ledger::rewrite(lake, &row).await?;
    if locator.tier(path) == Tier::Cold {
        let mut tiers = crate::lake::tiers::TierState::load(lake).await?;
        if let Some(at) = tiers.cold.remove(path) {
            tiers.cold.insert(new_path.clone(), at);
        }
        tiers.save(lake).await?;
    }
    if store.get(&Path::from(path)).await.is_ok() {
        move_aside(&store, path, stamp).await?;
    }
    Ok(format!(
        "{path}: its {records} records were written again from {} as {new_path}",
        export.display()
    ))
}

/// `…/name.json.gz` → `…/name-restored-<stamp>.json.gz`.
fn restored_name(path: &str, stamp: &str) -> String {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let (stem, ext) = name.split_once('.').unwrap_or((name, "json.gz"));
    format!("{dir}/{stem}-restored-{stamp}.{ext}")
}

/// The export's records of `entry`'s event type and hour, the first `skip` left out, at most
/// `take`, one a line as Bronze holds them.
fn hour_records(
    export: &FsPath,
    entry: &BronzeFileEntry,
    skip: u64,
    take: u64,
) -> Result<Vec<u8>, DoctorError> {
    let mut text = Vec::new();
    let mut seen = 0u64;
    let read = crate::sources::reader::read_file(export, None, 256 << 20, |item| {
        if let Item::Record { raw, facts, .. } = item
            && let Ok(at) = facts.occurred_at
            && facts.event_type == entry.event_type
            && BronzePartition::for_record(&facts.event_type, at).hour == entry.hour
        {
            if seen >= skip && seen < skip + take {
                let start = text.len();
                text.extend_from_slice(raw);
                // As ingest writes them: a pretty-printed record on one line.
                for b in &mut text[start..] {
                    if *b == b'\n' || *b == b'\r' {
                        *b = b' ';
                    }
                }
                text.push(b'\n');
            }
            seen += 1;
        }
        Ok::<(), std::convert::Infallible>(())
    });
    read.map_err(|e| DoctorError::Read {
        what: export.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(text)
}

/// Takes a Bronze file out of its ledger row, its records counted as lost; the file, if any
/// of it is left, is moved aside.
async fn mark_lost(lake: &Lake, path: &str, stamp: &str) -> Result<(), DoctorError> {
    let (mut row, i) = ledger_row_of(lake, path).await?;
    let entry = row.bronze_files.remove(i);
    row.bronze_records = row.bronze_records.saturating_sub(entry.records);
    row.lost += entry.records;
    row.lost_files.push(entry.path.clone());
    ledger::rewrite(lake, &row).await?;
    let locator = BronzeLocator::load(lake).await?;
    let store = match (locator.tier(path), locator.cold_lake()) {
        (Tier::Cold, Some(cold)) => cold.clone(),
        _ => lake.clone(),
    };
    if store.get(&Path::from(path)).await.is_ok() {
        move_aside(&store, path, stamp).await?;
    }
    Ok(())
}

async fn audit(
    lake: &Lake,
    action: &str,
    opts: &RepairOptions,
    path: &str,
    records: u64,
) -> Result<(), DoctorError> {
    let entry = AuditEntry {
        at: Utc::now(),
        action: action.to_string(),
        reason: opts.reason.clone().unwrap_or_default(),
        details: serde_json::json!({ "bronze_file": path, "records": records }),
    };
    audit::append(lake, &entry).await?;
    Ok(())
}

/// Proves that `key` made the customer keys Silver holds: the phones of Bronze records behind
/// a few Silver rows, hashed with it, give their customer keys.
async fn prove_key(lake: &Lake, key: &HmacKey) -> Result<(), DoctorError> {
    use arrow::array::Array;
    let err = |m: String| DoctorError::Key(m);
    let ctx = crate::query::session(lake)
        .await
        .map_err(|e| err(e.to_string()))?;
    let sql = "SELECT customer_key, _bronze_file FROM silver_contacts \
               WHERE customer_key IS NOT NULL LIMIT 200";
    let rows = crate::query::run(&ctx, sql)
        .await
        .map_err(|e| err(e.to_string()))?;
    let mut keys = BTreeSet::new();
    let mut files = BTreeSet::new();
    for b in &rows.batches {
        let k = crate::lake::delta::utf8_column(b.column(0)).map_err(|e| err(e.to_string()))?;
        let f = crate::lake::delta::utf8_column(b.column(1)).map_err(|e| err(e.to_string()))?;
        for i in 0..b.num_rows() {
            if !k.is_null(i) && !f.is_null(i) {
                keys.insert(k.value(i).to_string());
                files.insert(f.value(i).to_string());
            }
        }
    }
    if keys.is_empty() {
        return Err(err(
            "Silver holds no customer key to prove it against; with no Silver to protect, \
             delete _cclake/key.json and the next run records the key it uses"
                .into(),
        ));
    }
    let policy = crate::silver::masking::load_policy(lake)
        .await
        .map_err(|e| err(e.to_string()))?;
    let masker = crate::silver::masking::Masker::new(policy, key.clone());
    let mut phones = crate::silver::pii::PhoneCache::default();
    let locator = BronzeLocator::load(lake).await?;
    for file in files.iter().take(20) {
        let Ok(Some(bytes)) = locator.get(file).await else {
            continue;
        };
        let Ok(text) = crate::lake::gzip::gunzip(&bytes) else {
            continue;
        };
        for line in text.split(|b| *b == b'\n') {
            for phone in phone_values(line) {
                if masker
                    .customer_key(&phone, &mut phones)
                    .is_some_and(|k| keys.contains(&k))
                {
                    return Ok(());
                }
            }
        }
    }
    Err(err(
        "hashed with this key, the phones of Silver's Bronze records give none of the customer \
         keys Silver holds: it is not the key Silver was masked with"
            .into(),
    ))
}

/// The caller's phone as the canonical mapping reads it from one Bronze line.
fn phone_values(line: &[u8]) -> Vec<String> {
    let Ok(record) = crate::silver::record::Record::parse(line) else {
        return Vec::new();
    };
    let (shape, at) = record.facts();
    let Ok(at) = at else {
        return Vec::new();
    };
    let mut drift = crate::silver::drift::DriftCollector::default();
    let schema = crate::config::SchemaConfig::default();
    let row = crate::silver::canonical::map_record(shape, record, at, &schema, &mut drift);
    row.phone_number
        .map(|p| p.to_string())
        .into_iter()
        .collect()
}

/// Moves a file aside into `_cclake/doctor/<stamp>/`, keeping its path below that.
async fn move_aside(lake: &Lake, path: &str, stamp: &str) -> Result<String, DoctorError> {
    let from = Path::from(path);
    let to = format!("_cclake/doctor/{stamp}/{path}");
    let bytes = lake.get(&from).await?;
    lake.put_overwrite(&Path::from(to.as_str()), bytes).await?;
    lake.delete(&from).await?;
    Ok(to)
}
