//! The proof of an erasure: every file of the lake and its cold store read the way it is
//! stored (gzip decompressed, Parquet decoded column by column, Delta logs and checkpoints
//! included) and searched for the subject. The receipts an erasure and the audit log keep
//! name the subject by keyed hashes on purpose and are not searched.

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use serde::Serialize;

use super::{Matcher, SubjectError};
use crate::lake::Lake;
use crate::lake::tiers::TierState;
use crate::progress::JobProgress;
use crate::silver::pii::PhoneCache;

/// Folders that keep the subject's keyed hashes by design: the erasure receipts and the audit
/// log.
const RECEIPTS: [&str; 2] = ["_cclake/erasures/", "_cclake/audit/"];

/// A file that still mentions the subject.
#[derive(Debug, Clone, Serialize)]
pub struct TraceHit {
    /// `lake` or `cold store`.
    pub store: String,
    pub path: String,
    pub kinds: Vec<String>,
}

/// What a trace read and found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TraceReport {
    pub files_scanned: usize,
    pub bytes_scanned: u64,
    pub hits: Vec<TraceHit>,
}

/// Searches every file of the lake and its cold store for the subject.
pub async fn trace(
    lake: &Lake,
    matcher: &Matcher,
    progress: &JobProgress,
) -> Result<TraceReport, SubjectError> {
    let mut stores = vec![("lake", lake.clone())];
    let tiers = TierState::load(lake).await?;
    if !tiers.cold_store.is_empty() {
        stores.push(("cold store", Lake::open(&tiers.cold_store)?));
    }
    let mut report = TraceReport::default();
    let mut phones = PhoneCache::default();
    for (name, store) in stores {
        progress.set_stage(format!("subject: reading every file of the {name}"));
        for meta in store.list("").await? {
            progress.check().map_err(|_| SubjectError::Cancelled)?;
            let path = meta.location.to_string();
            if RECEIPTS.iter().any(|r| path.starts_with(r)) {
                continue;
            }
            let bytes = store.get(&meta.location).await?;
            report.files_scanned += 1;
            report.bytes_scanned += bytes.len() as u64;
            let kinds = file_mentions(&path, &bytes, matcher, &mut phones)?;
            if !kinds.is_empty() {
                report.hits.push(TraceHit {
                    store: name.to_string(),
                    path,
                    kinds,
                });
            }
            progress.add_done(1);
        }
    }
    Ok(report)
}

/// The kinds of the subject's identifiers one file holds, read the way it is stored.
fn file_mentions(
    path: &str,
    bytes: &[u8],
    matcher: &Matcher,
    phones: &mut PhoneCache,
) -> Result<Vec<String>, SubjectError> {
    let mut kinds = std::collections::BTreeSet::new();
    if path.ends_with(".parquet") {
        parquet_values(path, bytes, &mut |v| matcher.text(v, phones, &mut kinds))?;
    } else {
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            use std::io::Read;
            let mut text = Vec::new();
            // What a gzip file holds is its decompressed text; a damaged one is searched as
            // far as it decompresses, and then as stored (all that is left to search).
            let whole = flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut text);
            if whole.is_err() {
                text.extend_from_slice(b"\n");
                text.extend_from_slice(bytes);
            }
            text
        } else {
            bytes.to_vec()
        };
        for line in text.split(|b| *b == b'\n') {
            kinds.extend(matcher.line(line, phones));
        }
    }
    Ok(kinds.into_iter().map(str::to_string).collect())
}

/// Every text value of every string column of a Parquet file.
fn parquet_values(path: &str, bytes: &[u8], f: &mut impl FnMut(&str)) -> Result<(), SubjectError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let err = |e: &dyn std::fmt::Display| SubjectError::Read {
        what: path.to_string(),
        message: e.to_string(),
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| err(&e))?
        .build()
        .map_err(|e| err(&e))?;
    for batch in reader {
        let batch = batch.map_err(|e| err(&e))?;
        for col in batch.columns() {
            each_text(col, f);
        }
    }
    Ok(())
}

/// The text values of a column, looking inside structs, lists and maps (Delta checkpoints
/// nest their actions).
fn each_text(col: &arrow::array::ArrayRef, f: &mut impl FnMut(&str)) {
    match col.data_type() {
        DataType::Struct(_) => {
            for c in col.as_struct().columns() {
                each_text(c, f);
            }
        }
        DataType::List(_) => each_text(col.as_list::<i32>().values(), f),
        DataType::LargeList(_) => each_text(col.as_list::<i64>().values(), f),
        DataType::Map(..) => {
            let m = col.as_map();
            each_text(m.keys(), f);
            each_text(m.values(), f);
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => {
            if let Ok(text) = crate::lake::delta::utf8_column(col) {
                for i in 0..text.len() {
                    if !text.is_null(i) {
                        f(text.value(i));
                    }
                }
            }
        }
        _ => {}
    }
}
