//! Finding what is wrong: every Delta table's newest commit, every state file, the ledger and
//! every Bronze file, read the way the pipeline reads them.

use super::problem::{DoctorError, Problem};
use crate::lake::Lake;
use crate::lake::delta::DELTA_TABLES;
use crate::lake::ledger::{self, LedgerEntry, LedgerError};
use crate::lake::paths::INGEST_LOG;
use crate::lake::tiers::{BronzeLocator, Tier};
use crate::progress::JobProgress;
use crate::silver::key_record::KEY_RECORD;

/// The JSON state files a lake keeps, besides the ledger and the key record. Each is derived
/// or advisory: moved aside, it is written anew by the next run.
pub(super) const STATE_FILES: [&str; 5] = [
    "silver/_cclake_state.json",
    "gold/_cclake_state.json",
    "_cclake/scans/last.json",
    "_cclake/writer.lease",
    "_cclake/lake.json",
];
/// Folders of state files of the same kind (an erasure's progress, a pull's cursor).
pub(super) const STATE_FOLDERS: [&str; 2] = ["_cclake/erasures", "_connectors/genesys"];

/// Everything wrong with the lake, worst first.
pub async fn check(lake: &Lake, progress: &JobProgress) -> Result<Vec<Problem>, DoctorError> {
    let mut out = Vec::new();
    progress.set_stage("doctor: Delta tables");
    for table in DELTA_TABLES {
        out.extend(newest_commit(lake, table).await?);
    }
    progress.set_stage("doctor: state files");
    out.extend(state_files(lake).await?);
    progress.set_stage("doctor: the ingest ledger and Bronze");
    let rows = match ledger_rows(lake).await? {
        Ok(rows) => rows,
        Err(bad) => {
            out.extend(bad);
            return Ok(out);
        }
    };
    out.extend(bronze_files(lake, &rows, progress).await?);
    Ok(out)
}

/// The table's newest commit, if it cannot be read as the JSON lines a commit is.
async fn newest_commit(lake: &Lake, table: &str) -> Result<Option<Problem>, DoctorError> {
    let log = format!("{table}/_delta_log");
    let newest = (lake.list(&log).await?.into_iter())
        .filter_map(|m| {
            let name = m.location.filename()?.to_string();
            let version = name.strip_suffix(".json")?.parse::<u64>().ok()?;
            Some((version, m.location))
        })
        .max_by_key(|(v, _)| *v);
    let Some((version, file)) = newest else {
        return Ok(None);
    };
    let bytes = lake.get(&file).await?;
    let bad = |message: String| Problem::DamagedCommit {
        table: table.to_string(),
        version,
        file: file.to_string(),
        message,
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(Some(bad("not UTF-8 text".into())));
    };
    if text.trim().is_empty() {
        return Ok(Some(bad("empty".into())));
    }
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
            let message = crate::format::scrub_message(&e.to_string());
            return Ok(Some(bad(format!(
                "action {} of the commit: {message}",
                i + 1
            ))));
        }
    }
    Ok(None)
}

/// State files that do not parse.
async fn state_files(lake: &Lake) -> Result<Vec<Problem>, DoctorError> {
    let mut paths: Vec<String> = STATE_FILES.map(String::from).to_vec();
    for folder in STATE_FOLDERS {
        for m in lake.list(folder).await? {
            let p = m.location.to_string();
            if p.ends_with(".json") {
                paths.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for path in paths {
        if let Some(message) = garbled(lake, &path).await? {
            out.push(Problem::GarbledState { path, message });
        }
    }
    if let Some(message) = garbled(lake, KEY_RECORD).await? {
        out.push(Problem::GarbledKeyRecord { message });
    }
    Ok(out)
}

/// Why the JSON file at `path` does not parse; `None` when it does or is not there.
async fn garbled(lake: &Lake, path: &str) -> Result<Option<String>, DoctorError> {
    match lake.get_json::<serde_json::Value>(path).await {
        Ok(_) => Ok(None),
        Err(crate::lake::LakeError::Garbled { message, .. }) => Ok(Some(message)),
        Err(e) => Err(e.into()),
    }
}

/// The ledger's rows, or the rows that do not parse.
async fn ledger_rows(lake: &Lake) -> Result<Result<Vec<LedgerEntry>, Vec<Problem>>, DoctorError> {
    match ledger::read_all(lake).await {
        Ok(rows) => Ok(Ok(rows)),
        Err(LedgerError::Parse { .. }) => {
            let mut bad = Vec::new();
            for m in lake.list(INGEST_LOG).await? {
                let path = m.location.to_string();
                let rest = path.strip_prefix(INGEST_LOG).unwrap_or_default();
                if rest.matches('/').count() != 1 || !path.ends_with(".json") {
                    continue;
                }
                let bytes = lake.get(&m.location).await?;
                if let Err(e) = serde_json::from_slice::<LedgerEntry>(&bytes) {
                    let message = crate::format::scrub_message(&e.to_string());
                    bad.push(Problem::GarbledLedger { path, message });
                }
            }
            Ok(Err(bad))
        }
        Err(e) => Err(e.into()),
    }
}

/// Bronze files the ledger names that are gone, do not decompress, or hold another number of
/// lines than the ledger counted. Expired hours are gone on purpose.
async fn bronze_files(
    lake: &Lake,
    rows: &[LedgerEntry],
    progress: &JobProgress,
) -> Result<Vec<Problem>, DoctorError> {
    let locator = BronzeLocator::load(lake).await?;
    let mut out = Vec::new();
    progress.set_total(rows.iter().map(|r| r.bronze_files.len() as u64).sum());
    for row in rows {
        for f in &row.bronze_files {
            progress.add_done(1);
            if locator.tier(&f.path) == Tier::Expired {
                continue;
            }
            let bytes = match locator.get(&f.path).await {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(crate::lake::LakeError::Store {
                    source: object_store::Error::NotFound { .. },
                    ..
                }) => {
                    out.push(Problem::MissingBronze {
                        path: f.path.clone(),
                        source_path: row.source_path.clone(),
                        sha256: row.sha256.clone(),
                        records: f.records,
                    });
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let damaged = |message: String| Problem::DamagedBronze {
                path: f.path.clone(),
                source_path: row.source_path.clone(),
                sha256: row.sha256.clone(),
                records: f.records,
                message,
            };
            match crate::lake::gzip::gunzip(&bytes) {
                Err(e) => out.push(damaged(format!("it does not decompress ({e})"))),
                Ok(text) => {
                    let lines = text
                        .split(|b| *b == b'\n')
                        .filter(|l| !l.is_empty())
                        .count();
                    if lines as u64 != f.records {
                        out.push(damaged(format!(
                            "it holds {lines} lines, the ledger counted {}",
                            f.records
                        )));
                    }
                }
            }
        }
    }
    Ok(out)
}
