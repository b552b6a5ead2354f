//! Which key a lake's Silver is masked with: the lake records the key's fingerprint (never the
//! key) at the first Silver run, in `_cclake/key.json`, and every later run checks it before
//! writing anything. Hashes made with two keys do not join, so a run with another key (a
//! new laptop, a changed environment variable) would silently split every customer in two;
//! it stops instead, and says which key source it used.
//!
//! A deliberate rotation (`cclake rekey`) records the new fingerprint as pending, rebuilds
//! Silver and Gold under the new key, then makes it the lake's key and writes an audit entry.
//! A rotation that dies half way is finished by the next run with the new key.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::digest::HmacKey;
use crate::lake::audit::{self, AuditEntry};
use crate::lake::{Lake, LakeError};

pub const KEY_RECORD: &str = "_cclake/key.json";

/// The lake's key record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Fingerprint of the key Silver is masked with.
    pub fingerprint: String,
    pub recorded_at: DateTime<Utc>,
    /// Where that key came from when it was recorded: a description, never the key.
    pub source: String,
    /// A rotation under way, if any.
    #[serde(default)]
    pub rotation: Option<Rotation>,
}

/// A key rotation that has started and not finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    pub to_fingerprint: String,
    pub reason: String,
    pub started_at: DateTime<Utc>,
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(
        "the HMAC key from {source_text} (fingerprint {given}) is not the key this lake's Silver is \
         masked with (fingerprint {recorded}, recorded {recorded_at} from {recorded_source}); \
         nothing was written. Use the original key, or rotate deliberately with `cclake rekey \
         --reason …`, which rebuilds Silver and Gold under the new key"
    )]
    Mismatch {
        source_text: String,
        given: String,
        recorded: String,
        recorded_at: DateTime<Utc>,
        recorded_source: String,
    },
    #[error(
        "a key rotation to fingerprint {to} (started {started_at}: {reason}) is under way; \
         finish it with the new key (`cclake rekey` or `cclake process --full` with that key), \
         the key from {source_text} (fingerprint {given}) cannot write to this lake meanwhile"
    )]
    RotationUnderWay {
        to: String,
        started_at: DateTime<Utc>,
        reason: String,
        source_text: String,
        given: String,
    },
    #[error("a rotation needs a reason (it is kept in the audit log)")]
    NoReason,
    #[error("the new key is the key the lake already uses (fingerprint {0}); nothing to rotate")]
    SameKey(String),
}

/// What a run may do with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// The lake had no key record; this key is now recorded.
    Recorded,
    /// The key is the lake's key.
    Matches,
    /// The key is the target of a rotation under way: the run must rebuild everything and
    /// then finish the rotation.
    Rotating,
}

/// Short form of a fingerprint for messages.
fn short(fp: &str) -> String {
    fp.chars().take(16).collect()
}

pub async fn read(lake: &Lake) -> Result<Option<KeyRecord>, LakeError> {
    lake.get_json(KEY_RECORD).await
}

/// Writes the record anew for `key`, once `cclake doctor` has proved that `key` made the
/// customer keys Silver holds (a damaged record cannot be read back).
pub async fn restore(lake: &Lake, key: &HmacKey) -> Result<(), LakeError> {
    let record = KeyRecord {
        fingerprint: key.fingerprint(),
        recorded_at: Utc::now(),
        source: format!(
            "restored by cclake doctor from Silver's hashes; key from {}",
            key.source()
        ),
        rotation: None,
    };
    write(lake, &record).await
}

async fn write(lake: &Lake, record: &KeyRecord) -> Result<(), LakeError> {
    lake.put_json(KEY_RECORD, record).await
}

/// Checks `key` against the lake's record (recording it on a lake that has none) before a run
/// writes anything.
pub async fn check(lake: &Lake, key: &HmacKey) -> Result<KeyCheck, KeyCheckError> {
    let given = key.fingerprint();
    let Some(record) = read(lake).await? else {
        write(
            lake,
            &KeyRecord {
                fingerprint: given,
                recorded_at: Utc::now(),
                source: key.source().to_string(),
                rotation: None,
            },
        )
        .await?;
        return Ok(KeyCheck::Recorded);
    };
    compare(record, key)
}

/// What `key` may do with a lake whose record is `record`.
fn compare(record: KeyRecord, key: &HmacKey) -> Result<KeyCheck, KeyCheckError> {
    let given = key.fingerprint();
    match &record.rotation {
        Some(r) if r.to_fingerprint == given => Ok(KeyCheck::Rotating),
        Some(r) => Err(under_way(r, key)),
        None if record.fingerprint == given => Ok(KeyCheck::Matches),
        None => Err(KeyCheckError::Mismatch {
            source_text: key.source().to_string(),
            given: short(&given),
            recorded: short(&record.fingerprint),
            recorded_at: record.recorded_at,
            recorded_source: record.source,
        }),
    }
}

fn under_way(r: &Rotation, key: &HmacKey) -> KeyCheckError {
    KeyCheckError::RotationUnderWay {
        to: short(&r.to_fingerprint),
        started_at: r.started_at,
        reason: r.reason.clone(),
        source_text: key.source().to_string(),
        given: short(&key.fingerprint()),
    }
}

/// Checks, without writing, that `key` is the one this lake's Silver is masked with: what a
/// read that compares keyed hashes (finding a data subject) needs, since hashes made with
/// another key match nothing and would report the person absent. A lake with no Silver yet
/// accepts any key; during a rotation Silver is masked with two keys, so none is accepted.
pub async fn check_read_only(lake: &Lake, key: &HmacKey) -> Result<(), KeyCheckError> {
    let Some(record) = read(lake).await? else {
        return Ok(());
    };
    if let Some(r) = &record.rotation {
        return Err(under_way(r, key));
    }
    compare(record, key).map(drop)
}

/// Starts a rotation to `new_key`: from now on only the new key may write, and the next run
/// with it rebuilds everything.
pub async fn begin_rotation(
    lake: &Lake,
    new_key: &HmacKey,
    reason: &str,
) -> Result<(), KeyCheckError> {
    if reason.trim().is_empty() {
        return Err(KeyCheckError::NoReason);
    }
    let to = new_key.fingerprint();
    let mut record = match read(lake).await? {
        Some(r) => r,
        // A lake never processed has nothing masked yet: the new key simply becomes its key.
        None => KeyRecord {
            fingerprint: to.clone(),
            recorded_at: Utc::now(),
            source: new_key.source().to_string(),
            rotation: None,
        },
    };
    if record.fingerprint == to && record.rotation.is_none() {
        return Err(KeyCheckError::SameKey(short(&to)));
    }
    record.rotation = Some(Rotation {
        to_fingerprint: to,
        reason: reason.trim().to_string(),
        started_at: Utc::now(),
        source: new_key.source().to_string(),
    });
    write(lake, &record).await?;
    Ok(())
}

/// Ends a rotation after Silver and Gold were rebuilt under the new key: the new fingerprint
/// becomes the lake's, and the audit log says who rotated from what to what, and why.
pub async fn finish_rotation(
    lake: &Lake,
    key: &HmacKey,
    rebuilt: serde_json::Value,
) -> Result<(), KeyCheckError> {
    let Some(mut record) = read(lake).await? else {
        return Ok(());
    };
    let Some(rotation) = record.rotation.take() else {
        return Ok(());
    };
    let from = std::mem::replace(&mut record.fingerprint, key.fingerprint());
    record.recorded_at = Utc::now();
    record.source = rotation.source.clone();
    // The audit entry first: a crash after it leaves the rotation pending, and the next run
    // finishes it again (two entries for one rotation, never none).
    audit::append(
        lake,
        &AuditEntry {
            at: Utc::now(),
            action: "rekey".into(),
            reason: rotation.reason.clone(),
            details: serde_json::json!({
                "from_fingerprint": from,
                "to_fingerprint": record.fingerprint,
                "started_at": rotation.started_at,
                "key_source": rotation.source,
                "rebuilt": rebuilt,
            }),
        },
    )
    .await?;
    write(lake, &record).await?;
    Ok(())
}
