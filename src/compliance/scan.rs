//! The leak scan: every string value of Silver and Gold (the rescued data and the drift
//! examples included) is run through the masking policy's own detectors (Luhn-valid card
//! numbers, valid phone numbers, e-mails, member ids). A 64-hex value is compared with the
//! plain, unkeyed SHA-256 of every phone number found in Bronze: a hash anyone can recompute
//! from a phone book is not masking.
//!
//! Identifier columns (`event_id`, `contact_id`, `queue_id`, `agent_id`) are scanned only for
//! e-mails and phones written as phones: platform ids are digit runs that often look like
//! phone numbers. Lineage columns (paths, the policy version) are not scanned; the report
//! lists them.

use std::collections::{BTreeMap, HashSet};

use arrow::array::{Array, AsArray, StringArray};
use arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::ConfigError;
use crate::lake::Lake;
use crate::progress::JobProgress;
use crate::query::Layer;
use crate::silver::masking::{LoadPolicyError, load_policy};
use crate::silver::pii::{Detectors, PhoneCache, phone_text};

/// Columns of lineage, not customer data.
pub const NOT_SCANNED: &[&str] = &["_source_file", "_bronze_file", "_policy_version"];

/// Columns of platform identifiers: digit runs there are ids that often look like phone
/// numbers, so these are scanned only for e-mails and phones written as phones (a feed that
/// uses the caller's e-mail or number as its contact id).
pub const IDENTIFIER_COLUMNS: &[&str] = &["event_id", "contact_id", "queue_id", "agent_id"];

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] LoadPolicyError),
    #[error("{0}")]
    Query(String),
    #[error("scan cancelled")]
    Cancelled,
}

/// Raw PII of one kind in one column of one partition.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Finding {
    pub table: String,
    pub column: String,
    /// The `date` partition (empty for a table without one).
    pub partition: String,
    /// `pan`, `phone`, `email`, `member_id` or `unkeyed_sha256_phone`.
    pub kind: String,
    pub count: u64,
    /// The first value found, masked for the report (its first and last two characters).
    pub example: String,
}

/// What a scan looked at and found.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ScanReport {
    pub tables: Vec<String>,
    pub columns_scanned: usize,
    pub values_scanned: u64,
    pub bronze_phones: usize,
    pub not_scanned: Vec<String>,
    pub findings: Vec<Finding>,
}

impl ScanReport {
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }
}

fn mask_example(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail} ({} chars)", "*".repeat(4), chars.len())
}

fn is_hex64(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Scans the lake.
pub async fn scan(lake: &Lake, progress: &JobProgress) -> Result<ScanReport, ScanError> {
    let policy = load_policy(lake).await?;
    let ctx = crate::query::session(lake)
        .await
        .map_err(|e| ScanError::Query(e.to_string()))?;
    let mut scan = Scan {
        detectors: policy.detectors,
        phones: PhoneCache::default(),
        unkeyed: HashSet::new(),
        found: BTreeMap::new(),
        report: ScanReport {
            not_scanned: NOT_SCANNED.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        },
    };
    progress.set_stage("leak scan: collecting phone numbers from Bronze");
    scan.bronze_phones(&ctx, progress).await?;
    // Every table past Bronze (Bronze keeps the raw records by design).
    let tables = crate::query::TABLES
        .iter()
        .filter(|t| t.layer != Layer::Bronze);
    for table in tables.map(|t| t.name) {
        if !ctx.table_exist(table).map_err(query_error)? {
            continue; // not built yet
        }
        progress.set_stage(format!("leak scan: {table}"));
        scan.table(&ctx, table, progress).await?;
    }
    scan.report.findings = scan.found.into_values().collect();
    record_last(lake, &scan.report).await?;
    Ok(scan.report)
}

/// Where the last scan's result is kept, for the overview and the evidence pack.
pub const LAST_SCAN: &str = "_cclake/scans/last.json";

/// The last scan: when, what it found, and the version of each table it read.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ScanRecord {
    pub at: chrono::DateTime<chrono::Utc>,
    pub report: ScanReport,
    pub versions: Vec<(String, Option<u64>)>,
}

async fn record_last(lake: &Lake, report: &ScanReport) -> Result<(), ScanError> {
    let mut versions = Vec::new();
    for rel in crate::lake::delta::DELTA_TABLES {
        let v = crate::lake::delta::open(lake, rel)
            .await
            .ok()
            .and_then(|t| t.version());
        versions.push((rel.to_string(), v));
    }
    let record = ScanRecord {
        at: chrono::Utc::now(),
        report: report.clone(),
        versions,
    };
    lake.put_json(LAST_SCAN, &record)
        .await
        .map_err(|e| ScanError::Query(format!("recording the scan: {e}")))
}

/// The last scan recorded, if any.
pub async fn last(lake: &Lake) -> Result<Option<ScanRecord>, crate::lake::LakeError> {
    lake.get_json(LAST_SCAN).await
}

fn query_error(e: impl std::fmt::Display) -> ScanError {
    ScanError::Query(e.to_string())
}

/// A scan under way.
struct Scan {
    detectors: Detectors,
    phones: PhoneCache,
    /// Unkeyed SHA-256 hashes of every phone number in Bronze, in the forms a careless
    /// pipeline would hash.
    unkeyed: HashSet<String>,
    /// Findings by (table, column, partition, kind).
    found: BTreeMap<(String, String, String, String), Finding>,
    report: ScanReport,
}

impl Scan {
    /// Every phone in Bronze, hashed without a key.
    async fn bronze_phones(
        &mut self,
        ctx: &SessionContext,
        progress: &JobProgress,
    ) -> Result<(), ScanError> {
        let Ok(df) = ctx.sql("SELECT raw FROM bronze_contacts").await else {
            return Ok(());
        };
        let mut stream = df.execute_stream().await.map_err(query_error)?;
        while let Some(batch) = stream.next().await {
            progress.check().map_err(|_| ScanError::Cancelled)?;
            let batch = batch.map_err(query_error)?;
            let raw = crate::lake::delta::utf8_column(batch.column(0)).map_err(query_error)?;
            for i in 0..raw.len() {
                for candidate in phone_candidates(raw.value(i)) {
                    let Some(e164) = self.phones.e164(&self.detectors, candidate) else {
                        continue;
                    };
                    if self.unkeyed.insert(sha256_hex(&e164)) {
                        self.report.bronze_phones += 1;
                    }
                    self.unkeyed.insert(sha256_hex(candidate));
                    self.unkeyed
                        .insert(sha256_hex(e164.trim_start_matches('+')));
                }
            }
        }
        Ok(())
    }

    /// Every string column of one table.
    async fn table(
        &mut self,
        ctx: &SessionContext,
        table: &str,
        progress: &JobProgress,
    ) -> Result<(), ScanError> {
        let df = ctx.table(table).await.map_err(query_error)?;
        self.report.tables.push(table.to_string());
        let mut counted_columns = false;
        let mut stream = df.execute_stream().await.map_err(query_error)?;
        while let Some(batch) = stream.next().await {
            progress.check().map_err(|_| ScanError::Cancelled)?;
            let batch = batch.map_err(query_error)?;
            let dates = (batch.column_by_name("date"))
                .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok());
            let dates = dates.as_ref().map(|a| a.as_string::<i32>());
            for (f, col) in batch.schema().fields().iter().zip(batch.columns()) {
                let text = matches!(
                    f.data_type(),
                    DataType::Utf8
                        | DataType::LargeUtf8
                        | DataType::Utf8View
                        | DataType::Dictionary(..)
                );
                if !text || NOT_SCANNED.contains(&f.name().as_str()) {
                    continue;
                }
                if !counted_columns {
                    self.report.columns_scanned += 1;
                }
                let values = crate::lake::delta::utf8_column(col).map_err(query_error)?;
                self.column(table, f.name(), &values, dates);
            }
            counted_columns = true;
            progress.add_records(batch.num_rows() as u64);
        }
        Ok(())
    }

    /// One column's values of one batch, with the batch's `date` partition values.
    fn column(
        &mut self,
        table: &str,
        column: &str,
        values: &StringArray,
        dates: Option<&StringArray>,
    ) {
        for i in 0..values.len() {
            if values.is_null(i) {
                continue;
            }
            let v = values.value(i);
            self.report.values_scanned += 1;
            for kind in self.kinds(column, v) {
                let partition = dates
                    .filter(|d| !d.is_null(i))
                    .map(|d| d.value(i).to_string())
                    .unwrap_or_default();
                let key = (
                    table.to_string(),
                    column.to_string(),
                    partition.clone(),
                    kind.to_string(),
                );
                let finding = self.found.entry(key).or_insert_with(|| Finding {
                    table: table.to_string(),
                    column: column.to_string(),
                    partition,
                    kind: kind.to_string(),
                    count: 0,
                    example: mask_example(v),
                });
                finding.count += 1;
            }
        }
    }

    /// The kinds of raw PII in one value.
    fn kinds(&mut self, column: &str, v: &str) -> Vec<&'static str> {
        if is_hex64(v) {
            let unkeyed = self.unkeyed.contains(&v.to_ascii_lowercase());
            return if unkeyed {
                vec!["unkeyed_sha256_phone"]
            } else {
                Vec::new()
            };
        }
        let counts = if IDENTIFIER_COLUMNS.contains(&column) {
            self.detectors.identifier_pii(v, &mut self.phones)
        } else {
            self.detectors.scrub(v, &mut self.phones).1
        };
        [
            (counts.pans, "pan"),
            (counts.phones, "phone"),
            (counts.emails, "email"),
            (counts.member_ids, "member_id"),
            (counts.accounts, "account_number"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(_, kind)| kind)
        .collect()
    }
}

/// Stretches of a raw JSON line that could be phone numbers: string values (or the number in
/// a `tel:` or `sip:` URI) with at least 7 digits and nothing but phone punctuation.
fn phone_candidates(raw: &str) -> impl Iterator<Item = &str> {
    raw.split('"').map(phone_text).filter(|s| {
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        (7..=16).contains(&digits)
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b" +-().".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_phone_shaped_strings_of_a_json_line() {
        let line = r#"{"ani":"tel:+13175550123","id":"conv-1","n":"(317) 555-0199","s":"sip:+5551999599880@10.1.2.3;user=phone","t":"2026-10-01T10:00:00Z"}"#;
        let c: Vec<&str> = phone_candidates(line).collect();
        assert_eq!(c, vec!["+13175550123", "(317) 555-0199", "+5551999599880"]);
    }

    #[test]
    fn examples_are_masked() {
        assert_eq!(mask_example("4111111111111111"), "41****11 (16 chars)");
        assert_eq!(mask_example("abc"), "***");
    }
}
