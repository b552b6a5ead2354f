//! The lake root: one URL (a local folder by default, or `s3://`, `az://`, `gs://`) behind an
//! [`ObjectStore`], plus the few write rules every layer follows.
//!
//! Data files are written create-only, so nothing in the lake is ever overwritten. On a local
//! disk, [`Lake::sync`] makes written files and their directory entries durable before the
//! ingest ledger records them: object_store's local backend does not fsync.

pub mod audit;
pub mod delta;
pub mod erasures;
pub mod gzip;
pub mod inventory;
pub mod lease;
pub mod ledger;
pub mod parquet_scan;
pub mod paths;
pub mod tiers;

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use url::Url;

/// Errors from the lake's storage layer, each naming the location involved.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("cannot use lake location `{location}`: {reason}")]
    BadLocation { location: String, reason: String },
    #[error("cannot create lake folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} already exists in the lake; data files are never overwritten")]
    AlreadyExists { path: String },
    #[error(
        "{path} is damaged ({message}); `cclake doctor` says what it held and how to repair it"
    )]
    Garbled { path: String, message: String },
    #[error("lake storage error at {path}: {source}")]
    Store {
        path: String,
        source: object_store::Error,
    },
    #[error("cannot make {path} durable (fsync): {source}")]
    Sync {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another cclake process holds the lock {path} of this lake")]
    Locked { path: PathBuf },
    #[error("{0}")]
    Leased(String),
    #[error("lake I/O error at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The object store a cloud URL names (`s3://`, `az://`, `gs://`, `memory://`), with its
/// credentials and endpoint from the provider's standard environment variables.
pub fn cloud_store(url: &Url) -> Result<Arc<dyn ObjectStore>, String> {
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" | "s3a" => Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(url.as_str())
                .build()
                .map_err(|e| e.to_string())?,
        ),
        "az" | "azure" | "abfs" | "abfss" => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url.as_str())
                .build()
                .map_err(|e| e.to_string())?,
        ),
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(url.as_str())
                .build()
                .map_err(|e| e.to_string())?,
        ),
        "memory" => Arc::new(object_store::memory::InMemory::new()),
        other => {
            return Err(format!(
                "unsupported scheme `{other}://` (use a local path, file://, s3://, az://, gs://)"
            ));
        }
    };
    Ok(store)
}

/// DataFusion's object stores for any lake URL: local files, and cloud stores built from the
/// environment on first use (what a cluster executor reading the lake needs).
#[derive(Debug, Default)]
pub struct LakeStores {
    stores: std::sync::Mutex<std::collections::HashMap<String, Arc<dyn ObjectStore>>>,
}

impl LakeStores {
    fn key(url: &Url) -> String {
        format!("{}://{}", url.scheme(), url.authority())
    }
}

impl datafusion::execution::object_store::ObjectStoreRegistry for LakeStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        let mut stores = self.stores.lock().ok()?;
        stores.insert(Self::key(url), store)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        let key = Self::key(url);
        let err = |m: String| datafusion::error::DataFusionError::Execution(m);
        let mut stores = self.stores.lock().map_err(|e| err(e.to_string()))?;
        if let Some(s) = stores.get(&key) {
            return Ok(s.clone());
        }
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "file" => Arc::new(LocalFileSystem::new()),
            _ => cloud_store(url).map_err(|m| err(format!("{key}: {m}")))?,
        };
        stores.insert(key, store.clone());
        Ok(store)
    }
}

/// An opened lake.
#[derive(Clone)]
pub struct Lake {
    location: String,
    store: Arc<dyn ObjectStore>,
    /// The store at its own root (not prefixed to the lake) and the lake's URL in it, for
    /// Delta tables, which address their files by URL.
    root_store: Arc<dyn ObjectStore>,
    root_url: Url,
    /// The folder on disk, for local lakes.
    local_root: Option<PathBuf>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake")
            .field("location", &self.location)
            .finish()
    }
}

impl Lake {
    /// Opens a lake from a local path, a `file://` URL, or an `s3://`, `az://`/`abfs://`,
    /// `gs://` URL. A local lake folder is created if it does not exist. Cloud credentials
    /// come from the standard environment variables of each provider (`AWS_*`, `AZURE_*`,
    /// `GOOGLE_*`), never from the lake itself.
    pub fn open(location: &str) -> Result<Lake, LakeError> {
        let bad = |reason: String| LakeError::BadLocation {
            location: location.to_string(),
            reason,
        };
        let trimmed = location.trim();
        if trimmed.is_empty() {
            return Err(bad("the location is empty".into()));
        }
        let url = match Url::parse(trimmed) {
            // A Windows drive letter parses as a one-letter scheme; treat it as a path.
            Ok(url) if url.scheme().len() > 1 => Some(url),
            _ => None,
        };
        match url {
            None => Self::open_local(PathBuf::from(trimmed)),
            Some(url) if url.scheme() == "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| bad("not a valid file:// URL".into()))?;
                Self::open_local(path)
            }
            Some(url) => {
                let prefix = Path::from(url.path().trim_matches('/'));
                let store = cloud_store(&url).map_err(bad)?;
                let root_store = store.clone();
                let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
                    store
                } else {
                    Arc::new(PrefixStore::new(store, prefix))
                };
                let mut root_url = url.clone();
                if !root_url.path().ends_with('/') {
                    root_url.set_path(&format!("{}/", root_url.path()));
                }
                Ok(Lake {
                    location: trimmed.trim_end_matches('/').to_string(),
                    store,
                    root_store,
                    root_url,
                    local_root: None,
                })
            }
        }
    }

    fn open_local(path: PathBuf) -> Result<Lake, LakeError> {
        std::fs::create_dir_all(&path).map_err(|source| LakeError::CreateDir {
            path: path.clone(),
            source,
        })?;
        let root = path.canonicalize().map_err(|source| LakeError::CreateDir {
            path: path.clone(),
            source,
        })?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| LakeError::BadLocation {
                location: root.display().to_string(),
                reason: e.to_string(),
            })?
            // Deleting the last file of a partition removes its empty folders too.
            .with_automatic_cleanup(true);
        let root_url = Url::from_directory_path(&root).map_err(|_| LakeError::BadLocation {
            location: root.display().to_string(),
            reason: "not an absolute path".into(),
        })?;
        Ok(Lake {
            location: root.display().to_string(),
            store: Arc::new(store),
            root_store: Arc::new(LocalFileSystem::new()),
            root_url,
            local_root: Some(root),
        })
    }

    /// Where the lake lives, as the user would type it.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The folder on disk for a local lake.
    pub fn local_root(&self) -> Option<&FsPath> {
        self.local_root.as_deref()
    }

    /// The object store under the lake root (for readers such as DataFusion).
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The store at its own root, and the URL of a folder of the lake in it.
    pub fn root_store(&self) -> Arc<dyn ObjectStore> {
        self.root_store.clone()
    }

    /// URL of a folder inside the lake (with a trailing slash).
    pub fn url_of(&self, rel: &str) -> Url {
        let rel = rel.trim_matches('/');
        self.root_url
            .join(&format!("{rel}/"))
            .unwrap_or_else(|_| self.root_url.clone())
    }

    /// Writes a new object; fails with [`LakeError::AlreadyExists`] rather than overwrite.
    pub async fn put_create(&self, path: &Path, bytes: Bytes) -> Result<(), LakeError> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(path, PutPayload::from_bytes(bytes), opts)
            .await
        {
            Ok(_) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. }) => Err(LakeError::AlreadyExists {
                path: path.to_string(),
            }),
            Err(source) => Err(LakeError::Store {
                path: path.to_string(),
                source,
            }),
        }
    }

    /// [`Lake::put_create`] from a blocking thread, for a local lake: the file is written
    /// beside its name (`name#0`) and renamed onto it only if the name is free, with no trip
    /// through the async store. Returns `None` for a lake in object storage (use
    /// `put_create`). Not synced: the caller syncs before it commits (see [`Lake::sync`]).
    /// Ingest writes Bronze this way from the threads that compress it: thousands of small
    /// hour files, for which object_store's local put (a blocking task per file, a staging
    /// file hard-linked and unlinked) cost more system time than the bytes.
    pub fn create_local(&self, path: &Path, bytes: &[u8]) -> Option<Result<(), LakeError>> {
        let full = self.local_root.as_ref()?.join(path.as_ref());
        Some(create_new_file(&full, bytes).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => LakeError::AlreadyExists {
                path: path.to_string(),
            },
            _ => LakeError::Io {
                path: full.clone(),
                source: e,
            },
        }))
    }

    /// Removes the staging copies of `path` (`name#` and digits) that a write killed before
    /// its rename left on a local lake; returns how many. Object stores have none.
    pub fn remove_staging_copies(&self, path: &Path) -> Result<usize, LakeError> {
        let Some(root) = &self.local_root else {
            return Ok(0);
        };
        let full = root.join(path.as_ref());
        let (Some(dir), Some(name)) = (full.parent(), full.file_name().and_then(|n| n.to_str()))
        else {
            return Ok(0);
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(source) => {
                return Err(LakeError::Io {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(rest) = (file_name.to_str())
                .and_then(|n| n.strip_prefix(name))
                .and_then(|r| r.strip_prefix('#'))
            else {
                continue;
            };
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
                std::fs::remove_file(entry.path()).map_err(|source| LakeError::Io {
                    path: entry.path(),
                    source,
                })?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Writes an object, replacing what was there, whole or not at all, and durably. Only for
    /// the lake's own settings (`_config/`) and state; data files always go through
    /// [`Lake::put_create`]. Object stores replace an object atomically; on a local lake the
    /// bytes go to a temp file beside it, which is fsynced and renamed over the old one before
    /// the folder is fsynced (object_store's local put renames but never syncs, so a power cut
    /// could leave an empty state or config file).
    pub async fn put_overwrite(&self, path: &Path, bytes: Bytes) -> Result<(), LakeError> {
        if let Some(root) = &self.local_root {
            let full = root.join(path.as_ref());
            return tokio::task::spawn_blocking(move || write_atomic(&full, &bytes))
                .await
                .map_err(|e| LakeError::Io {
                    path: root.join(path.as_ref()),
                    source: std::io::Error::other(e),
                })?;
        }
        self.store
            .put(path, PutPayload::from_bytes(bytes))
            .await
            .map(|_| ())
            .map_err(|source| LakeError::Store {
                path: path.to_string(),
                source,
            })
    }

    /// Copies a local file into the lake without holding it in memory (a multipart upload to
    /// an object store; on a local lake a copy beside the target, synced, then linked in
    /// create-only). Returns the bytes copied.
    pub async fn put_file(&self, path: &Path, file: &FsPath) -> Result<u64, LakeError> {
        let io = |source| LakeError::Io {
            path: file.to_path_buf(),
            source,
        };
        if let Some(root) = &self.local_root {
            let target = root.join(path.as_ref());
            let file = file.to_path_buf();
            return tokio::task::spawn_blocking(move || -> Result<u64, LakeError> {
                let io = |source| LakeError::Io {
                    path: target.clone(),
                    source,
                };
                let dir = target.parent().unwrap_or(FsPath::new("."));
                std::fs::create_dir_all(dir).map_err(io)?;
                let tmp = dir.join(format!(".copy.{:08x}.tmp", rand::random::<u32>()));
                let copied = (|| {
                    let n = std::fs::copy(&file, &tmp)?;
                    std::fs::File::open(&tmp)?.sync_all()?;
                    std::fs::hard_link(&tmp, &target)?;
                    Ok(n)
                })();
                let _ = std::fs::remove_file(&tmp);
                copied.map_err(io)
            })
            .await
            .map_err(|e| io(std::io::Error::other(e)))?;
        }
        use tokio::io::AsyncReadExt;
        let mut src = tokio::fs::File::open(file).await.map_err(io)?;
        let upload = self
            .store
            .put_multipart(path)
            .await
            .map_err(|source| LakeError::Store {
                path: path.to_string(),
                source,
            })?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, 8 << 20);
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = src.read(&mut buf).await.map_err(io)?;
            if n == 0 {
                break;
            }
            writer
                .wait_for_capacity(4)
                .await
                .map_err(|source| LakeError::Store {
                    path: path.to_string(),
                    source,
                })?;
            writer.write(&buf[..n]);
            total += n as u64;
        }
        writer.finish().await.map_err(|source| LakeError::Store {
            path: path.to_string(),
            source,
        })?;
        Ok(total)
    }

    /// Reads a whole object.
    pub async fn get(&self, path: &Path) -> Result<Bytes, LakeError> {
        let store_err = |source| LakeError::Store {
            path: path.to_string(),
            source,
        };
        self.store
            .get(path)
            .await
            .map_err(store_err)?
            .bytes()
            .await
            .map_err(store_err)
    }

    /// Reads a small JSON state file; `None` when it does not exist yet.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, LakeError> {
        match self.get(&Path::from(path)).await {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| LakeError::Garbled {
                    path: path.to_string(),
                    message: crate::format::scrub_message(&e.to_string()),
                }),
            Err(LakeError::Store {
                source: object_store::Error::NotFound { .. },
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes a small JSON state file (replacing it: state files, like config, are the one
    /// kind of object cclake overwrites).
    pub async fn put_json<T: serde::Serialize>(
        &self,
        path: &str,
        value: &T,
    ) -> Result<(), LakeError> {
        let body = serde_json::to_vec_pretty(value).map_err(|e| LakeError::Store {
            path: path.to_string(),
            source: object_store::Error::Generic {
                store: "json",
                source: Box::new(e),
            },
        })?;
        self.put_overwrite(&Path::from(path), body.into()).await
    }

    /// Lists every object under `prefix` (recursively). A missing prefix lists nothing.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, LakeError> {
        let prefix = Path::from(prefix);
        match self.store.list(Some(&prefix)).try_collect::<Vec<_>>().await {
            Ok(v) => Ok(v),
            Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
            Err(source) => Err(LakeError::Store {
                path: prefix.to_string(),
                source,
            }),
        }
    }

    /// Deletes an object; deleting one that is already gone is not an error.
    pub async fn delete(&self, path: &Path) -> Result<(), LakeError> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(LakeError::Store {
                path: path.to_string(),
                source,
            }),
        }
    }

    /// Makes the given objects durable before something (the ledger) refers to them.
    ///
    /// Object stores acknowledge a put only once it is durable, so this only matters for local
    /// lakes. On Linux one `syncfs` flushes every written file and directory entry of the
    /// filesystem at once, which is much cheaper than an fsync per file when an ingest writes
    /// thousands of small hour files; elsewhere each file and its folder are fsynced.
    pub fn sync(&self, paths: &[Path]) -> Result<(), LakeError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        if paths.is_empty() {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            let dir = std::fs::File::open(root).map_err(|source| LakeError::Sync {
                path: root.clone(),
                source,
            })?;
            rustix::fs::syncfs(&dir).map_err(|e| LakeError::Sync {
                path: root.clone(),
                source: e.into(),
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let mut dirs = std::collections::BTreeSet::new();
            for p in paths {
                let full = root.join(p.as_ref());
                let f = std::fs::File::open(&full).map_err(|source| LakeError::Sync {
                    path: full.clone(),
                    source,
                })?;
                f.sync_all().map_err(|source| LakeError::Sync {
                    path: full.clone(),
                    source,
                })?;
                if let Some(parent) = full.parent() {
                    dirs.insert(parent.to_path_buf());
                }
            }
            for d in dirs {
                // Directories cannot be fsynced on every platform; a failure here is not fatal.
                if let Ok(f) = std::fs::File::open(&d) {
                    let _ = f.sync_all();
                }
            }
            Ok(())
        }
    }

    /// Takes an advisory `flock` on a file in a local lake's folder, released when the guard
    /// drops or the process dies. `wait` blocks until it is free; otherwise a held lock is
    /// [`LakeError::Locked`]. Object-store lakes have no such lock (`None`).
    pub fn lock_file(&self, name: &str, wait: bool) -> Result<Option<FileLock>, LakeError> {
        let Some(root) = &self.local_root else {
            return Ok(None);
        };
        let path = root.join(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| LakeError::Io {
                path: path.clone(),
                source,
            })?;
        let op = if wait {
            rustix::fs::FlockOperation::LockExclusive
        } else {
            rustix::fs::FlockOperation::NonBlockingLockExclusive
        };
        match rustix::fs::flock(&file, op) {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(_) => Err(LakeError::Locked { path }),
        }
    }

    /// The lake's own id (`_cclake/lake.json`), made on first use: what a cold store records
    /// of the lake that claimed it.
    pub async fn id(&self) -> Result<String, LakeError> {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct LakeIdentity {
            id: String,
            created_at: chrono::DateTime<chrono::Utc>,
        }
        const FILE: &str = "_cclake/lake.json";
        if let Some(l) = self.get_json::<LakeIdentity>(FILE).await? {
            return Ok(l.id);
        }
        let mine = LakeIdentity {
            id: format!("{:032x}", rand::random::<u128>()),
            created_at: chrono::Utc::now(),
        };
        let body = serde_json::to_vec_pretty(&mine).unwrap_or_default();
        match self.put_create(&Path::from(FILE), body.into()).await {
            Ok(()) => Ok(mine.id),
            // Made at the same moment by another process: theirs is the lake's.
            Err(LakeError::AlreadyExists { .. }) => self
                .get_json::<LakeIdentity>(FILE)
                .await?
                .map(|l| l.id)
                .ok_or_else(|| LakeError::BadLocation {
                    location: FILE.into(),
                    reason: "the lake's id file vanished while it was read".into(),
                }),
            Err(e) => Err(e),
        }
    }
}

/// Replaces a local file atomically and durably: temp file in the same folder, fsync, rename,
/// fsync of the folder.
pub fn write_atomic(path: &FsPath, bytes: &[u8]) -> Result<(), LakeError> {
    use std::io::Write;
    let io = |source| LakeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(FsPath::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let tmp = dir.join(format!(".{name}.{:08x}.tmp", rand::random::<u32>()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    if let Ok(d) = std::fs::File::open(dir) {
        // Not every platform can sync a folder; the file itself is synced.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `bytes` to a new file at `path` (creating its folders), never over an existing
/// one: to `path#0` first, then renamed onto `path` only if `path` does not exist, so a file
/// under its final name is always whole. A staging name (`#` and digits, as object_store's
/// own) is left out of store listings; one left by a killed process is removed with its
/// attempt's files (it starts with their prefix).
fn create_new_file(path: &FsPath, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut staging = path.as_os_str().to_owned();
    staging.push("#0");
    let staging = PathBuf::from(staging);
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staging)
    };
    let mut f = match open() {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            open()?
        }
        Err(e) => return Err(e),
    };
    let placed = f.write_all(bytes).and_then(|()| {
        drop(f);
        rename_no_replace(&staging, path)
    });
    if placed.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    placed
}

/// Renames `from` to `to`, failing with `AlreadyExists` rather than replace `to`.
fn rename_no_replace(from: &FsPath, to: &FsPath) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            // A file system without RENAME_NOREPLACE: link and unlink, as below.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::hard_link(from, to)?;
    std::fs::remove_file(from)
}

/// Held while a lock file is locked; see [`Lake::lock_file`].
pub struct FileLock {
    _file: std::fs::File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_create_never_replaces_and_leaves_no_staging_copy() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        let p = Path::from("bronze/event_type=contact/year=2026/hour=01/a.json.gz");
        // Folders made on the way; the bytes under the final name.
        lake.create_local(&p, b"first").unwrap().unwrap();
        let full = dir.path().join(p.as_ref());
        assert_eq!(std::fs::read(&full).unwrap(), b"first");
        match lake.create_local(&p, b"second").unwrap() {
            Err(LakeError::AlreadyExists { path }) => assert_eq!(path, p.to_string()),
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read(&full).unwrap(), b"first", "never replaced");
        let names: Vec<String> = std::fs::read_dir(full.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.json.gz"], "no staging copy left");
    }

    #[test]
    fn only_a_files_own_staging_copies_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        let folder = dir.path().join("bronze/x");
        std::fs::create_dir_all(&folder).unwrap();
        for name in [
            "a.json.gz",
            "a.json.gz#1",
            "a.json.gz#22",
            "a.json.gz#w",
            "a.json.gz#",
            "a.json.gz.x#1",
            "b.json.gz#1",
        ] {
            std::fs::write(folder.join(name), b"partial").unwrap();
        }
        let p = Path::from("bronze/x/a.json.gz");
        assert_eq!(lake.remove_staging_copies(&p).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "a.json.gz",
                "a.json.gz#",
                "a.json.gz#w",
                "a.json.gz.x#1",
                "b.json.gz#1"
            ]
        );
        // A folder that does not exist holds none.
        let none = Path::from("bronze/nowhere/a.json.gz");
        assert_eq!(lake.remove_staging_copies(&none).unwrap(), 0);
    }
}
