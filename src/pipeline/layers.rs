//! Silver from Bronze, then Gold from Silver: the two layers' builds run as one step, and the
//! key rotation that rebuilds both under a new key.

use serde::Serialize;

use std::path::PathBuf;

use crate::gold::{self, GoldError, GoldMode, GoldSummary};
use crate::lake::Lake;
use crate::progress::JobProgress;
use crate::silver::digest::{self, HmacKey, KeyError, KeySource};
use crate::silver::key_record::{self, KeyCheck, KeyCheckError};
use crate::silver::{self, ProcessMode, ProcessSummary, SilverError};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("Silver: {0}")]
    Silver(#[from] SilverError),
    #[error("Gold: {0}")]
    Gold(#[from] GoldError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    KeyCheck(#[from] KeyCheckError),
    #[error(transparent)]
    Cluster(#[from] super::cluster::ClusterError),
    #[error("the lake now uses the new key, but it could not be put in place of {path}: {source}")]
    PromoteKey {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What `process` did to each layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LayersSummary {
    pub silver: ProcessSummary,
    pub gold: GoldSummary,
}

/// Silver from Bronze, then Gold from Silver: what `cclake process` and the app's process jobs
/// run. Gold follows whatever Silver changed (it reads Silver's Delta log), so a run that died
/// between the two layers is finished by the next one. A full Silver rebuild rebuilds Gold in
/// full too.
pub async fn process(
    lake: &Lake,
    mode: ProcessMode,
    key: HmacKey,
    progress: &JobProgress,
) -> Result<LayersSummary, ProcessError> {
    process_on(lake, mode, key, None, progress).await
}

/// [`process`] on the Ballista cluster at `cluster` (`df://HOST:PORT`) when one is given:
/// Silver's dates are built there, one task each, and Gold's per-contact query runs there over
/// Silver's files; the commits stay here.
pub async fn process_on(
    lake: &Lake,
    mode: ProcessMode,
    key: HmacKey,
    cluster: Option<&str>,
    progress: &JobProgress,
) -> Result<LayersSummary, ProcessError> {
    let _lease = lake
        .writer_lease("process")
        .await
        .map_err(SilverError::from)?;
    let remote_cluster = cluster
        .map(|c| super::cluster::Cluster::new(c, &key))
        .transpose()?;
    let remote = remote_cluster
        .as_ref()
        .map(|r| r as &dyn silver::RemoteBuilder);
    let silver = silver::process_on(lake, mode, key.clone(), remote, progress).await?;
    release_freed_memory();
    let rotating = silver.key_check == Some(KeyCheck::Rotating);
    let gold_mode = match mode {
        _ if rotating => GoldMode::Full,
        ProcessMode::Full => GoldMode::Full,
        _ => GoldMode::Incremental,
    };
    let remote_gold = remote_cluster.as_ref().map(|r| r as &dyn gold::RemoteQuery);
    let gold = gold::build_on(lake, gold_mode, remote_gold, progress).await?;
    let layers = LayersSummary { silver, gold };
    if rotating {
        finish_rotation(lake, &key, &layers).await?;
    }
    Ok(layers)
}

/// Records a rotation as finished, with what was rebuilt under the new key.
async fn finish_rotation(
    lake: &Lake,
    key: &HmacKey,
    layers: &LayersSummary,
) -> Result<(), ProcessError> {
    let (silver, gold) = (&layers.silver, &layers.gold);
    let rebuilt = serde_json::json!({
        "silver_dates": silver.dates.len(),
        "silver_rows": silver.rows_out,
        "silver_version": silver.silver_version,
        "gold_dates": gold.dates.len(),
    });
    key_record::finish_rotation(lake, key, rebuilt).await?;
    Ok(())
}

/// The key a rotation moves a lake to.
#[derive(Debug, Clone)]
pub enum NewKey {
    /// The key in force now: `CCLAKE_HMAC_KEY` was changed, or a key file replaced by hand.
    Current(Box<HmacKey>),
    /// A fresh key generated beside the key file in force (`<file>.next`), put in its place
    /// once Silver and Gold are rebuilt under it.
    Generated { key_file: PathBuf },
}

impl NewKey {
    /// The rotation the key in force calls for: a key from the environment variable (or
    /// given by the caller) is adopted as it is (the user changed it); a key kept in a file
    /// is replaced by a freshly generated one. `use_current` adopts the key in force even when
    /// it comes from a file (the user replaced the file by hand).
    pub fn for_key(current: &HmacKey, use_current: bool) -> NewKey {
        match current.source() {
            KeySource::File(path) | KeySource::Generated(path) if !use_current => {
                NewKey::Generated {
                    key_file: path.clone(),
                }
            }
            _ => NewKey::Current(Box::new(current.clone())),
        }
    }
}

/// Rotates the lake's key on purpose: records the rotation, rebuilds Silver and Gold under the
/// new key, puts a generated key file in place, and writes the audit entry. Rerunning after a
/// crash finishes the same rotation (a generated key waits in `<file>.next`).
pub async fn rekey(
    lake: &Lake,
    current: &HmacKey,
    new: NewKey,
    reason: &str,
    progress: &JobProgress,
) -> Result<LayersSummary, ProcessError> {
    let _lease = lake
        .writer_lease("rekey")
        .await
        .map_err(SilverError::from)?;
    // A rotation that died after its key was put in place is finished with that key.
    if let Some(record) = key_record::read(lake).await.map_err(SilverError::from)?
        && record
            .rotation
            .is_some_and(|r| r.to_fingerprint == current.fingerprint())
    {
        return process(lake, ProcessMode::Full, current.clone(), progress).await;
    }
    let (key, promote) = match &new {
        NewKey::Current(k) => (k.as_ref().clone(), None),
        NewKey::Generated { key_file } => (
            HmacKey::from_file(&digest::next_key_file(key_file))?,
            Some(key_file.clone()),
        ),
    };
    progress.set_stage("recording the key rotation");
    key_record::begin_rotation(lake, &key, reason).await?;
    let silver = silver::process(lake, ProcessMode::Full, key.clone(), progress).await?;
    release_freed_memory();
    let gold = gold::build(lake, GoldMode::Full, progress).await?;
    // The new key file goes in place before the rotation is recorded as finished: a crash in
    // between leaves the new key in force and the rotation pending, which the next run with
    // it finishes.
    if let Some(path) = promote {
        digest::promote_next_key_file(&path)
            .map_err(|source| ProcessError::PromoteKey { path, source })?;
    }
    let layers = LayersSummary { silver, gold };
    finish_rotation(lake, &key, &layers).await?;
    Ok(layers)
}

/// Hands the heap memory freed so far back to the system. Silver builds on rayon's threads and
/// Gold queries on the runtime's, and glibc keeps a thread's freed memory in that thread's
/// arena: without this, the 0.4-0.5 GB Silver had in flight stayed resident under everything
/// Gold then allocated, and `process` peaked at the sum of the two.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the kernel; it touches no live allocation
    // and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
