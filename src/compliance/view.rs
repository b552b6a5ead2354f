//! What a compliance review reads: the masking policy in force and its history, what masking
//! did in the last Silver run, which policy produced each Silver partition and when, the key's
//! record and the audit log. The app's compliance pane shows it; nothing here writes.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};

use super::policy::{self, PolicyEditError, PolicyVersion};
use crate::lake::audit::{self, AuditEntry};
use crate::lake::delta::{self, SILVER_CONTACTS};
use crate::lake::{Lake, LakeError};
use crate::query::{self, QueryError};
use crate::silver::key_record::{self, KeyRecord};
use crate::silver::masking::{ColumnCounts, LoadPolicyError, PolicyFile, load_policy};
use crate::silver::{self, SilverError};

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Policy(#[from] LoadPolicyError),
    #[error(transparent)]
    PolicyHistory(#[from] PolicyEditError),
    #[error(transparent)]
    Silver(#[from] SilverError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("reading the policy of Silver's partitions: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// The policy one Silver partition was built under.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionPolicy {
    pub date: String,
    pub policy_version: String,
    pub rows: i64,
}

/// A lake's compliance review.
#[derive(Debug, Clone)]
pub struct ComplianceView {
    /// The policy in force, as its file says it.
    pub file: PolicyFile,
    /// Version (SHA-256) of the policy file on disk.
    pub current_version: String,
    /// (column, raw value) samples from Bronze for the preview.
    pub samples: Vec<(String, String)>,
    /// What masking did per column in the last Silver run that rebuilt dates, and under which
    /// policy version.
    pub counts: BTreeMap<String, ColumnCounts>,
    pub counts_version: String,
    pub history: Vec<PolicyVersion>,
    pub partitions: Vec<PartitionPolicy>,
    /// Silver date → when its files were last written (the run that rebuilt it).
    pub written: BTreeMap<String, String>,
    /// The lake's key record (fingerprint, never the key).
    pub key: Option<KeyRecord>,
    pub audit: Vec<AuditEntry>,
    /// Data subject erasures: receipts of those done, the state of those unfinished.
    pub erasures: Vec<crate::lake::erasures::ErasureState>,
}

impl ComplianceView {
    /// Which policy built each Silver date, when, and why that policy was saved, as CSV.
    pub fn audit_csv(&self) -> String {
        let reasons: BTreeMap<&str, &str> = (self.history.iter())
            .map(|h| (h.version.as_str(), h.reason.as_str()))
            .collect();
        let mut out = String::from("date,policy_version,rows,written_at,reason\n");
        for p in &self.partitions {
            let reason = reasons.get(p.policy_version.as_str()).copied();
            let reason = crate::format::csv_field(reason.unwrap_or_default());
            let at = self
                .written
                .get(&p.date)
                .map(String::as_str)
                .unwrap_or_default();
            let (d, v, n) = (&p.date, &p.policy_version, p.rows);
            out.push_str(&format!("{d},{v},{n},{at},{reason}\n"));
        }
        out
    }
}

/// Reads a lake's review.
pub async fn load(lake: &Lake) -> Result<ComplianceView, ViewError> {
    let policy = load_policy(lake).await?;
    let (counts, counts_version) = silver::last_masking_counts(lake).await?;
    let written = match delta::table_stats(lake, SILVER_CONTACTS).await {
        Ok(t) => t
            .partitions
            .into_iter()
            .map(|p| {
                (
                    p.date,
                    p.last_modified.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                )
            })
            .collect(),
        Err(_) => BTreeMap::new(),
    };
    Ok(ComplianceView {
        file: policy.file,
        current_version: policy.version,
        samples: policy::samples(lake, 4).await?,
        counts,
        counts_version,
        history: policy::history(lake).await?,
        partitions: partition_policies(lake).await?,
        written,
        key: key_record::read(lake).await?,
        audit: audit::read_all(lake).await?,
        erasures: crate::lake::erasures::all(lake).await?,
    })
}

/// Which policy version built each Silver date, with its rows (none before Silver is built).
async fn partition_policies(lake: &Lake) -> Result<Vec<PartitionPolicy>, ViewError> {
    let ctx = query::session(lake).await?;
    let sql = "SELECT CAST(date AS VARCHAR) AS d, _policy_version AS v, COUNT(*) AS n
         FROM silver_contacts GROUP BY date, _policy_version ORDER BY date";
    let result = match query::run(&ctx, sql).await {
        Ok(r) => r,
        Err(QueryError::NotBuilt { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for b in &result.batches {
        let d = delta::utf8_column(b.column(0))?;
        let v = delta::utf8_column(b.column(1))?;
        let n = arrow::compute::cast(b.column(2), &DataType::Int64)?;
        let n = n.as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.push(PartitionPolicy {
                date: d.value(i).to_string(),
                policy_version: v.value(i).to_string(),
                rows: if n.is_null(i) { 0 } else { n.value(i) },
            });
        }
    }
    Ok(out)
}
