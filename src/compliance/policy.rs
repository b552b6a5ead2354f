//! Editing the masking policy: validate, preview on real Bronze samples, save with a history
//! entry (version hash, time, a required reason), and read the history back for the audit.

use std::collections::BTreeMap;

use arrow::array::Array;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::config::{self, ConfigError};
use crate::lake::{Lake, LakeError};
use crate::silver::canonical::map_record;
use crate::silver::digest::HmacKey;
use crate::silver::drift::DriftCollector;
use crate::silver::masking::{
    ColumnCounts, LoadPolicyError, Masker, PII_COLUMNS, Policy, PolicyError, PolicyFile,
    load_policy,
};
use crate::silver::pii::PhoneCache;
use crate::silver::record::Record;

const HISTORY_DIR: &str = "_config/policy_history";

#[derive(Debug, thiserror::Error)]
pub enum PolicyEditError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Load(#[from] LoadPolicyError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("a reason is required: say why the policy changes (it is kept in the audit history)")]
    NoReason,
    #[error("the policy cannot be written as TOML: {0}")]
    Serialize(String),
    #[error("{0}")]
    Query(String),
}

/// A saved policy version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub version: String,
    pub saved_at: DateTime<Utc>,
    pub reason: String,
    pub text: String,
}

/// The policy file's text for a policy edited in memory.
pub fn policy_text(file: &PolicyFile) -> Result<String, PolicyEditError> {
    let body = toml::to_string(file).map_err(|e| PolicyEditError::Serialize(e.to_string()))?;
    Ok(format!(
        "# Masking policy, saved from the cclake app. detector: phone | pan | member_id |\n\
         # account_number | email | free_text; action: hash | redact | mask_last4 | keep | scrub;\n\
         # unvalidated: keep | redact. See the README for what each does.\n{body}"
    ))
}

/// Validates and saves the policy with a history entry. Returns the saved version.
pub async fn save(
    lake: &Lake,
    file: &PolicyFile,
    reason: &str,
) -> Result<PolicyVersion, PolicyEditError> {
    if reason.trim().is_empty() {
        return Err(PolicyEditError::NoReason);
    }
    let text = policy_text(file)?;
    let policy = Policy::from_file(file.clone(), &text)?;
    // The version before the edit enters the history first, so the audit trail starts with
    // whatever was in force (the shipped preset on a new lake).
    if history(lake).await?.is_empty() {
        // A lost policy file on a lake with Silver is not "the preset": saving over it
        // deliberately is allowed, but nothing is recorded as having been in force.
        if let Ok(p) = load_policy(lake).await {
            record(
                lake,
                &PolicyVersion {
                    version: p.version,
                    saved_at: Utc::now() - chrono::Duration::milliseconds(1),
                    reason: "policy in force before the first edit from the app".into(),
                    text: p.text,
                },
            )
            .await?;
        }
    }
    // The history entry is durable before the policy changes: a crash between the two leaves
    // a recorded version not yet in force (harmless), never a policy in force with no record.
    let v = PolicyVersion {
        version: policy.version,
        saved_at: Utc::now(),
        reason: reason.trim().to_string(),
        text,
    };
    record(lake, &v).await?;
    config::write(lake, config::POLICY_FILE, &v.text).await?;
    Ok(v)
}

async fn record(lake: &Lake, v: &PolicyVersion) -> Result<(), PolicyEditError> {
    let name = format!(
        "{HISTORY_DIR}/{}_{}.json",
        v.saved_at.format("%Y%m%dT%H%M%S%.6fZ"),
        &v.version[..12.min(v.version.len())]
    );
    let body =
        serde_json::to_vec_pretty(v).map_err(|e| PolicyEditError::Serialize(e.to_string()))?;
    let path = Path::from(name);
    lake.put_create(&path, body.into()).await?;
    lake.sync(&[path])?;
    Ok(())
}

/// Saved versions, oldest first.
pub async fn history(lake: &Lake) -> Result<Vec<PolicyVersion>, PolicyEditError> {
    let mut metas = lake.list(HISTORY_DIR).await?;
    metas.sort_by(|a, b| a.location.cmp(&b.location));
    let mut out = Vec::new();
    for m in metas {
        let body = lake.get(&m.location).await?;
        if let Ok(v) = serde_json::from_slice(&body) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Raw values of the PII columns from real Bronze records (mapped to the canonical columns,
/// nothing masked), at most `per_column` distinct values per column.
pub async fn samples(
    lake: &Lake,
    per_column: usize,
) -> Result<Vec<(String, String)>, PolicyEditError> {
    let schema = config::load_pipeline(lake).await?.schema;
    let ctx = crate::query::session(lake)
        .await
        .map_err(|e| PolicyEditError::Query(e.to_string()))?;
    let mut found: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let Ok(df) = ctx.sql("SELECT raw FROM bronze_contacts").await else {
        return Ok(Vec::new());
    };
    let mut stream = df
        .execute_stream()
        .await
        .map_err(|e| PolicyEditError::Query(e.to_string()))?;
    let mut drift = DriftCollector::default();
    'batches: while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| PolicyEditError::Query(e.to_string()))?;
        let raw = crate::lake::delta::utf8_column(batch.column(0))
            .map_err(|e| PolicyEditError::Query(e.to_string()))?;
        for i in 0..raw.len() {
            let Ok(obj) = Record::parse(raw.value(i).as_bytes()) else {
                continue;
            };
            let (shape, at) = obj.facts();
            let Ok(at) = at else { continue };
            let row = map_record(shape, obj, at, &schema, &mut drift);
            for (col, v) in [
                ("phone_number", &row.phone_number),
                ("member_id", &row.member_id),
                ("account_number", &row.account_number),
                ("card_number", &row.card_number),
                ("notes", &row.notes),
            ] {
                if let Some(v) = v {
                    let list = found.entry(col).or_default();
                    if list.len() < per_column && !list.iter().any(|x| x == v) {
                        list.push(v.to_string());
                    }
                }
            }
            if PII_COLUMNS
                .iter()
                .all(|c| found.get(c).is_some_and(|l| l.len() >= per_column))
            {
                break 'batches;
            }
        }
    }
    Ok(PII_COLUMNS
        .iter()
        .flat_map(|c| {
            found
                .get(c)
                .into_iter()
                .flatten()
                .map(move |v| (c.to_string(), v.clone()))
        })
        .collect())
}

/// One sample value under a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRow {
    pub column: String,
    pub raw: String,
    pub masked: String,
    /// What the detector decided: `masked`, `unvalidated, kept`, `unvalidated, redacted`,
    /// `kept (no rule)` or `masking disabled`.
    pub verdict: String,
}

/// Applies a policy (edited, not saved) to the samples.
pub fn preview(
    file: &PolicyFile,
    key: HmacKey,
    samples: &[(String, String)],
) -> Result<Vec<PreviewRow>, PolicyEditError> {
    let text = policy_text(file)?;
    let masker = Masker::new(Policy::from_file(file.clone(), &text)?, key);
    let mut phones = PhoneCache::default();
    Ok(samples
        .iter()
        .map(|(column, raw)| {
            let mut c = ColumnCounts::default();
            let masked = masker.mask(column, raw, &mut phones, &mut c);
            let verdict = if !masker.enabled() {
                "masking disabled"
            } else if !file.columns.contains_key(column) {
                "kept (no rule)"
            } else if c.unvalidated_kept > 0 {
                "unvalidated, kept"
            } else if c.unvalidated_redacted > 0 {
                "unvalidated, redacted"
            } else if c.masked > 0 || c.spans_scrubbed > 0 {
                "masked"
            } else {
                "nothing to mask"
            };
            PreviewRow {
                column: column.clone(),
                raw: raw.clone(),
                masked,
                verdict: verdict.into(),
            }
        })
        .collect())
}

/// Lines of `b` not in `a` (`+`) and of `a` not in `b` (`-`): enough to see what changed
/// between two small policy files.
pub fn diff(a: &str, b: &str) -> Vec<String> {
    let la: Vec<&str> = a.lines().collect();
    let lb: Vec<&str> = b.lines().collect();
    let mut out: Vec<String> = la
        .iter()
        .filter(|l| !lb.contains(l))
        .map(|l| format!("- {l}"))
        .collect();
    out.extend(
        lb.iter()
            .filter(|l| !la.contains(l))
            .map(|l| format!("+ {l}")),
    );
    out
}
