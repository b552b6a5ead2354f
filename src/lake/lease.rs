//! One writer at a time: the lake-wide writer lease.
//!
//! Ingest, process, lifecycle, key rotation and erasure write to several places of a lake in
//! steps; two of them interleaving (the app's job and a CLI run, or two machines on one
//! `s3://` lake) could each undo the other's work. Every writer first takes the lease: a small
//! object `_cclake/writer.lease` (holder, host, pid, expiry) written create-only, so only one
//! writer can create it. The holder renews it while it works; another writer takes it over
//! only once it has expired (or, on the same machine, once its holder process is gone), and
//! otherwise stops with a message naming the holder. A process holding the lease may take it
//! again for a nested step (`run` ingests, then processes).
//!
//! A takeover replaces the expired lease with a conditional put where the store supports one
//! (the expired lease's ETag must still match), so two writers cannot both take it over; on a
//! local lake an advisory lock file serialises the takeover instead.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use super::{Lake, LakeError};

pub const LEASE_FILE: &str = "_cclake/writer.lease";

/// How long a lease lasts without renewal; `CCLAKE_LEASE_SECONDS` changes it (tests use a few
/// seconds). Renewed every third of that.
fn lease_duration() -> Duration {
    let secs = std::env::var("CCLAKE_LEASE_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// What the lease object says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The job holding it (`ingest`, `process`, `lifecycle apply`, …).
    pub holder: String,
    pub host: String,
    pub pid: u32,
    pub token: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl LeaseRecord {
    /// Expired, or held by a process of this machine that no longer runs.
    fn is_stale(&self, now: DateTime<Utc>) -> bool {
        now > self.expires_at || (self.host == host_name() && !process_alive(self.pid))
    }
}

/// This machine's name, as the lease records it.
pub fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // Without /proc a holder is taken to be alive until its lease expires.
        true
    }
}

/// Leases this process holds, by lake location: a nested writer takes the same one.
static HELD: LazyLock<Mutex<HashMap<String, (String, usize)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The lease, held until dropped (or [`WriterLease::release`]d).
pub struct WriterLease {
    lake: Lake,
    token: String,
    renewal: Option<tokio::task::JoinHandle<()>>,
    lost: Arc<AtomicBool>,
}

impl std::fmt::Debug for WriterLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterLease")
            .field("lake", &self.lake.location())
            .finish()
    }
}

impl WriterLease {
    /// False once another writer took the lease over (this one stalled past its expiry):
    /// the job must stop before its next commit.
    pub fn held(&self) -> bool {
        !self.lost.load(Ordering::Relaxed)
    }

    /// Gives the lease back now (dropping it does the same, in the background).
    pub async fn release(mut self) {
        if let Some(token) = self.leave() {
            release(&self.lake, &token).await;
        }
    }

    /// Steps out of the process-wide count; `Some(token)` when this was the outermost hold.
    fn leave(&mut self) -> Option<String> {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        let location = self.lake.location().to_string();
        let outermost = match held.get_mut(&location) {
            Some((_, depth)) if *depth > 1 => {
                *depth -= 1;
                false
            }
            Some(_) => {
                held.remove(&location);
                true
            }
            None => false,
        };
        if !outermost {
            return None;
        }
        if let Some(r) = self.renewal.take() {
            r.abort();
        }
        Some(std::mem::take(&mut self.token))
    }
}

/// How long a dropped lease waits for the store to delete it.
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Drop for WriterLease {
    fn drop(&mut self) {
        let Some(token) = self.leave() else { return };
        if let Some(root) = self.lake.local_root() {
            // Synchronously for a local lake: a CLI process exits right after.
            let path = root.join(LEASE_FILE);
            if let Ok(bytes) = std::fs::read(&path)
                && serde_json::from_slice::<LeaseRecord>(&bytes).is_ok_and(|r| r.token == token)
            {
                let _ = std::fs::remove_file(&path);
            }
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let lake = self.lake.clone();
        let bounded = async move {
            let _ = tokio::time::timeout(RELEASE_WAIT, release(&lake, &token)).await;
        };
        // Released before the drop returns where the runtime allows blocking (its worker
        // threads, the blocking pool): a command that exits next, or the next writer in
        // this process, must not find the lease still there. On a single-threaded runtime
        // the release runs as a task, and an unreleased lease still expires.
        match rt.runtime_flavor() {
            tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| rt.block_on(bounded))
            }
            _ => drop(rt.spawn(bounded)),
        }
    }
}

async fn release(lake: &Lake, token: &str) {
    if let Ok(Some(r)) = lake.get_json::<LeaseRecord>(LEASE_FILE).await
        && r.token == token
    {
        let _ = lake.delete(&Path::from(LEASE_FILE)).await;
    }
}

/// Why the lease could not be taken.
pub fn held_by(r: &LeaseRecord) -> String {
    format!(
        "the lake is being written by `cclake {}` (pid {} on host {}) since {}, its lease running \
         until {}; wait for it to finish, or, if that process is gone, for the lease to expire",
        r.holder,
        r.pid,
        r.host,
        r.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
        r.expires_at.format("%Y-%m-%d %H:%M:%S UTC"),
    )
}

impl Lake {
    /// Takes the lake's writer lease for `job`, renewing it in the background while it is
    /// held. Fails with [`LakeError::Leased`] naming the holder when another writer has it.
    pub async fn writer_lease(&self, job: &str) -> Result<WriterLease, LakeError> {
        {
            let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((token, depth)) = held.get_mut(self.location()) {
                *depth += 1;
                return Ok(WriterLease {
                    lake: self.clone(),
                    token: token.clone(),
                    renewal: None,
                    lost: Arc::new(AtomicBool::new(false)),
                });
            }
        }
        let ttl = lease_duration();
        let token = format!("{:016x}", rand::random::<u64>());
        let record = |now: DateTime<Utc>| LeaseRecord {
            holder: job.to_string(),
            host: host_name(),
            pid: std::process::id(),
            token: token.clone(),
            acquired_at: now,
            expires_at: now + chrono::Duration::from_std(ttl).unwrap_or_default(),
        };
        // On a local lake one process at a time checks and takes the lease.
        let _local = self.lock_file(".cclake-lease.lock", true)?;
        take(self, &record(Utc::now())).await?;
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.location().to_string(), (token.clone(), 1));
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = tokio::runtime::Handle::try_current().ok().map(|rt| {
            let (lake, lost, acquired_at) = (self.clone(), lost.clone(), Utc::now());
            let mut next = record(acquired_at);
            rt.spawn(async move {
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    next.expires_at =
                        Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_default();
                    if !renew(&lake, &next).await {
                        tracing::error!(
                            lake = lake.location(),
                            "the writer lease was taken over by another writer; this job stops at its next commit"
                        );
                        lost.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            })
        });
        Ok(WriterLease {
            lake: self.clone(),
            token,
            renewal,
            lost,
        })
    }

    /// The lease record, if a writer holds (or held and did not release) the lease.
    pub async fn lease_holder(&self) -> Result<Option<LeaseRecord>, LakeError> {
        self.get_json(LEASE_FILE).await
    }
}

/// Creates the lease, or takes over a stale one.
async fn take(lake: &Lake, record: &LeaseRecord) -> Result<(), LakeError> {
    let path = Path::from(LEASE_FILE);
    let body = || -> PutPayload { serde_json::to_vec_pretty(record).unwrap_or_default().into() };
    for _ in 0..5 {
        match lake.put_create(&path, bytes::Bytes::from(body())).await {
            Ok(()) => return Ok(()),
            Err(LakeError::AlreadyExists { .. }) => {}
            Err(e) => return Err(e),
        }
        let store = lake.store();
        let current = match store.get(&path).await {
            Ok(r) => r,
            // Released between the two calls: try to create it again.
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(source) => {
                return Err(LakeError::Store {
                    path: path.to_string(),
                    source,
                });
            }
        };
        let version = UpdateVersion {
            e_tag: current.meta.e_tag.clone(),
            version: current.meta.version.clone(),
        };
        let bytes = current.bytes().await.map_err(|source| LakeError::Store {
            path: path.to_string(),
            source,
        })?;
        let existing: Option<LeaseRecord> = serde_json::from_slice(&bytes).ok();
        if let Some(r) = &existing
            && !r.is_stale(Utc::now())
        {
            return Err(LakeError::Leased(held_by(r)));
        }
        // Stale (or unreadable): replace it only if it is still that same object.
        let opts = PutOptions {
            mode: PutMode::Update(version),
            ..Default::default()
        };
        match store.put_opts(&path, body(), opts).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::Precondition { .. }) => continue,
            Err(object_store::Error::NotImplemented { .. }) => {
                // No conditional put here (a local lake, serialised by its lock file, or an
                // S3 bucket without conditional writes): delete the stale lease and create.
                lake.delete(&path).await?;
            }
            Err(source) => {
                return Err(LakeError::Store {
                    path: path.to_string(),
                    source,
                });
            }
        }
    }
    Err(LakeError::Leased(
        "the writer lease keeps changing hands; another writer is starting at the same time".into(),
    ))
}

/// Extends the lease if it is still ours; false when another writer has it now.
async fn renew(lake: &Lake, next: &LeaseRecord) -> bool {
    match lake.get_json::<LeaseRecord>(LEASE_FILE).await {
        Ok(Some(r)) if r.token == next.token => {
            let body = serde_json::to_vec_pretty(next).unwrap_or_default();
            lake.put_overwrite(&Path::from(LEASE_FILE), body.into())
                .await
                .is_ok()
        }
        // A store that does not answer now may answer at the next renewal.
        Err(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn one_writer_at_a_time_nested_steps_share_it_and_a_dead_holder_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        let rt = rt();
        rt.block_on(async {
            let outer = lake.writer_lease("run").await.unwrap();
            let inner = lake.writer_lease("process").await.unwrap();
            drop(inner);
            assert!(lake.lease_holder().await.unwrap().is_some(), "still held");
            drop(outer);
            assert!(lake.lease_holder().await.unwrap().is_none(), "released");

            // A lease left by a process that is gone from this machine is taken over; one
            // held by a live process is not, and the message names it.
            let dead = LeaseRecord {
                holder: "ingest".into(),
                host: host_name(),
                pid: u32::MAX - 7,
                token: "dead".into(),
                acquired_at: Utc::now(),
                expires_at: Utc::now() + chrono::Duration::hours(1),
            };
            lake.put_json(LEASE_FILE, &dead).await.unwrap();
            let l = lake.writer_lease("process").await.unwrap();
            drop(l);
            let live = LeaseRecord {
                pid: std::process::id(),
                host: "another-host".into(),
                ..dead
            };
            lake.put_json(LEASE_FILE, &live).await.unwrap();
            let e = lake.writer_lease("process").await.unwrap_err().to_string();
            assert!(
                e.contains("`cclake ingest`") && e.contains("another-host"),
                "{e}"
            );
            // Expired: taken over.
            let expired = LeaseRecord {
                expires_at: Utc::now() - chrono::Duration::seconds(1),
                ..live
            };
            lake.put_json(LEASE_FILE, &expired).await.unwrap();
            let l = lake.writer_lease("lifecycle apply").await.unwrap();
            assert_eq!(
                lake.lease_holder().await.unwrap().unwrap().holder,
                "lifecycle apply"
            );
            l.release().await;
        });
    }

    #[test]
    fn a_conditional_takeover_lets_exactly_one_writer_win() {
        // The in-memory store supports conditional puts as S3, Azure and GCS do.
        let lake = Lake::open("memory://lease-race/lake").unwrap();
        let rt = rt();
        rt.block_on(async {
            let expired = LeaseRecord {
                holder: "process".into(),
                host: "elsewhere".into(),
                pid: 1,
                token: "old".into(),
                acquired_at: Utc::now() - chrono::Duration::hours(2),
                expires_at: Utc::now() - chrono::Duration::hours(1),
            };
            lake.put_json(LEASE_FILE, &expired).await.unwrap();
            // Two takeovers racing on the same stale object: the second's conditional put
            // sees the first's lease and stops.
            let a = LeaseRecord {
                token: "a".into(),
                expires_at: Utc::now() + chrono::Duration::minutes(1),
                ..expired.clone()
            };
            let b = LeaseRecord {
                token: "b".into(),
                ..a.clone()
            };
            let (ra, rb) = tokio::join!(take(&lake, &a), take(&lake, &b));
            assert!(ra.is_ok() != rb.is_ok(), "{ra:?} {rb:?}");
        });
    }
}
