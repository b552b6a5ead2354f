//! The lake's audit log (`_cclake/audit/`): one small JSON file per deliberate change to what
//! the lake holds or how it is masked (a key rotation, an erasure), written create-only and
//! made durable, never edited. The compliance pane and the evidence pack read it back.

use chrono::{DateTime, Utc};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use super::{Lake, LakeError};

pub const AUDIT_DIR: &str = "_cclake/audit";

/// One audited action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// `rekey`, `erase`, …
    pub action: String,
    /// The user's reason (a ticket number, a request id).
    pub reason: String,
    /// What was done, in the action's own terms. Never a raw personal value or a key.
    pub details: serde_json::Value,
}

/// Appends an entry; returns its path in the lake.
pub async fn append(lake: &Lake, entry: &AuditEntry) -> Result<String, LakeError> {
    let name = format!(
        "{AUDIT_DIR}/{}_{}_{:08x}.json",
        entry.at.format("%Y%m%dT%H%M%S%.6fZ"),
        entry.action,
        rand::random::<u32>()
    );
    let body = serde_json::to_vec_pretty(entry).map_err(|e| LakeError::Store {
        path: name.clone(),
        source: object_store::Error::Generic {
            store: "json",
            source: Box::new(e),
        },
    })?;
    let path = Path::from(name.as_str());
    lake.put_create(&path, body.into()).await?;
    lake.sync(&[path])?;
    Ok(name)
}

/// Every entry, oldest first; an unreadable file is skipped (it is still in the lake).
pub async fn read_all(lake: &Lake) -> Result<Vec<AuditEntry>, LakeError> {
    let mut metas = lake.list(AUDIT_DIR).await?;
    metas.sort_by(|a, b| a.location.cmp(&b.location));
    let mut out = Vec::new();
    for m in metas {
        let body = lake.get(&m.location).await?;
        if let Ok(e) = serde_json::from_slice(&body) {
            out.push(e);
        }
    }
    Ok(out)
}
