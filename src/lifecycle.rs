//! Lifecycle (SPEC §5): old Bronze files move to a cold store, very old ones (and quarantined
//! raw records of the same age) are deleted, and Silver and Gold Delta tables are vacuumed.
//!
//! The plan is computed first and shown; `apply` carries it out, file by file: a move copies
//! each file to the cold store (create-only, same relative path), makes the copies durable,
//! records the files as cold in `_lifecycle/state.json`, and only then deletes the hot
//! copies, so a move that dies half way is finished by the next apply and never loses a file.
//! A file that arrives late in an hour that already moved or expired is hot and is moved or
//! expired on its own (the plan reports it as late). Readers of Bronze
//! ([`crate::lake::tiers::BronzeLocator`]) find moved files in the cold store, so cold data
//! stays queryable and Silver can still be rebuilt from it.
//!
//! The cold store is the lake's own: by default a sibling named after the lake, never the
//! lake itself or a folder inside it, and the first lake to use a cold store claims it, so an
//! expiry in one lake can never delete another's files.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::config::{self, ConfigError, LifecycleConfig};
use crate::lake::delta;
use crate::lake::ledger::{self, LedgerError};
use crate::lake::paths::{BRONZE, BronzePartition};
use crate::lake::tiers::{self, Tier, TierState};
use crate::lake::{Lake, LakeError};
use crate::progress::JobProgress;

const LOG_DIR: &str = "_lifecycle/log";
/// The marker a cold store keeps of the lake it belongs to.
const COLD_OWNER: &str = "_cclake_cold_store.json";

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cold store: {0}")]
    ColdStore(String),
    #[error(
        "Bronze file {path} is in the ledger but missing from the lake and the cold store; \
         lifecycle stops rather than record a move that did not happen"
    )]
    Missing { path: String },
    #[error("vacuum of {table}: {source}")]
    Vacuum {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error(
        "lifecycle cancelled; files already moved stay moved, the rest wait for the next apply"
    )]
    Cancelled,
}

/// Who claimed a cold store.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ColdOwner {
    lake_id: String,
    lake_location: String,
    claimed_at: DateTime<Utc>,
}

/// The cold store of a lake when none is configured: a sibling named after the lake
/// (`/data/lake` → `/data/lake-cold`, `s3://bucket/lake` → `s3://bucket/lake-cold`), so two
/// lakes side by side never share one.
pub fn default_cold_store(lake: &Lake) -> Result<String, LifecycleError> {
    if let Some(root) = lake.local_root() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "lake".into());
        return Ok(root
            .with_file_name(format!("{name}-cold"))
            .display()
            .to_string());
    }
    let location = lake.location().trim_end_matches('/');
    let after_scheme = location.split_once("://").map_or(location, |(_, r)| r);
    if !after_scheme.contains('/') {
        return Err(LifecycleError::ColdStore(format!(
            "the lake is a whole bucket ({location}): set [lifecycle] cold_store in \
             _config/pipeline.toml to a location outside it"
        )));
    }
    Ok(format!("{location}-cold"))
}

/// The cold lake of a lake: the configured URL, else [`default_cold_store`].
pub fn cold_store_location(lake: &Lake, cfg: &LifecycleConfig) -> Result<String, LifecycleError> {
    if !cfg.cold_store.trim().is_empty() {
        return Ok(cfg.cold_store.trim().to_string());
    }
    default_cold_store(lake)
}

/// Opens the cold store, refusing one that is the lake, lies inside it or contains it, or
/// was claimed by another lake (an expiry in one would delete the other's files). The first
/// lake to use a cold store claims it.
pub async fn open_cold_store(lake: &Lake, location: &str) -> Result<Lake, LifecycleError> {
    let cold = Lake::open(location)?;
    let (l, c) = (
        lake.location().trim_end_matches('/'),
        cold.location().trim_end_matches('/'),
    );
    let bad = |why: &str| {
        Err(LifecycleError::ColdStore(format!(
            "{c} {why} the lake {l}; set [lifecycle] cold_store in _config/pipeline.toml to a \
             location of its own"
        )))
    };
    if c == l {
        return bad("is");
    }
    if c.starts_with(&format!("{l}/")) {
        return bad("is inside");
    }
    if l.starts_with(&format!("{c}/")) {
        return bad("contains");
    }
    let lake_id = lake.id().await?;
    match cold.get_json::<ColdOwner>(COLD_OWNER).await? {
        Some(owner) if owner.lake_id != lake_id => Err(LifecycleError::ColdStore(format!(
            "{c} is the cold store of another lake ({}, claimed {}); two lakes must not share \
             one, as an expiry in one would delete the other's files",
            owner.lake_location, owner.claimed_at
        ))),
        Some(_) => Ok(cold),
        None => {
            let owner = ColdOwner {
                lake_id,
                lake_location: lake.location().to_string(),
                claimed_at: Utc::now(),
            };
            let body = serde_json::to_vec_pretty(&owner).unwrap_or_default();
            match cold.put_create(&Path::from(COLD_OWNER), body.into()).await {
                Ok(()) => Ok(cold),
                // Claimed at the same moment by another process: check whose it is.
                Err(LakeError::AlreadyExists { .. }) => {
                    Box::pin(open_cold_store(lake, location)).await
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Move hot files of a partition to the cold store.
    MoveToCold,
    /// Delete files of a partition (hot or cold) for good.
    Delete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedPartition {
    /// The partition folder (`bronze/event_type=…/hour=HH`, or a quarantine day).
    pub partition: String,
    /// The event type, or `quarantine` for quarantined raw records.
    pub event_type: String,
    pub date: NaiveDate,
    pub age_days: i64,
    /// Where the files acted on are now: hot, cold, or hot+cold.
    pub tier: String,
    pub action: Action,
    pub files: usize,
    pub bytes: u64,
    /// Files that arrived after others of the same hour had moved or expired (late data):
    /// acted on like any other file of their age, and reported.
    #[serde(default)]
    pub late_files: usize,
    /// The files this step acts on.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// What lifecycle would do (or did).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Plan {
    pub now: NaiveDate,
    pub cold_after_days: u32,
    pub delete_after_days: u32,
    pub cold_store: String,
    pub partitions: Vec<PlannedPartition>,
    /// Delta tables and how many unreferenced files older than the retention a vacuum removes.
    pub vacuum: Vec<(String, usize)>,
    pub retention_days: u32,
    pub applied: bool,
}

impl Plan {
    pub fn moves(&self) -> usize {
        self.partitions
            .iter()
            .filter(|p| p.action == Action::MoveToCold)
            .count()
    }
    pub fn deletes(&self) -> usize {
        self.partitions
            .iter()
            .filter(|p| p.action == Action::Delete)
            .count()
    }
    pub fn late_files(&self) -> usize {
        self.partitions.iter().map(|p| p.late_files).sum()
    }
}

/// The files of one folder the ledger knows, with their sizes.
struct Folder {
    event_type: String,
    date: NaiveDate,
    files: Vec<(String, u64)>,
}

/// Every Bronze and quarantine file the ledger committed, by folder.
async fn ledger_folders(lake: &Lake) -> Result<BTreeMap<String, Folder>, LifecycleError> {
    let mut folders: BTreeMap<String, Folder> = BTreeMap::new();
    for row in ledger::read_all(lake).await? {
        for f in &row.bronze_files {
            let Some(p) = BronzePartition::parse_file_path(&f.path) else {
                continue;
            };
            folders
                .entry(format!("{BRONZE}/{}", p.relative_dir()))
                .or_insert_with(|| Folder {
                    event_type: p.event_type.clone(),
                    date: p.date(),
                    files: Vec::new(),
                })
                .files
                .push((f.path.clone(), f.bytes));
        }
        // Quarantined raw records (and copies of unreadable inputs) age from the day they
        // were ingested.
        for q in row.quarantine_file.iter().chain(&row.quarantine_original) {
            let dir = tiers::folder_of(q);
            let date = dir
                .rsplit_once("ingest_date=")
                .and_then(|(_, d)| d.parse::<NaiveDate>().ok())
                .unwrap_or_else(|| row.ingested_at.date_naive());
            folders
                .entry(dir.to_string())
                .or_insert_with(|| Folder {
                    event_type: "quarantine".into(),
                    date,
                    files: Vec::new(),
                })
                .files
                .push((q.clone(), 0));
        }
    }
    Ok(folders)
}

/// Plans lifecycle as of `now` (a date: files are aged by their partition's day, quarantined
/// records by the day they were ingested).
pub async fn plan(lake: &Lake, now: NaiveDate) -> Result<Plan, LifecycleError> {
    let cfg = config::load_pipeline(lake).await?.lifecycle;
    let state = TierState::load(lake).await?;
    let cold_store = if state.cold_store.is_empty() {
        cold_store_location(lake, &cfg).unwrap_or_default()
    } else {
        state.cold_store.clone()
    };
    let mut partitions = Vec::new();
    for (dir, folder) in ledger_folders(lake).await? {
        let age = (now - folder.date).num_days();
        let quarantine = folder.event_type == "quarantine";
        let left: Vec<&(String, u64)> = folder
            .files
            .iter()
            .filter(|(p, _)| state.tier(p) != Tier::Expired)
            .collect();
        let had_expired = left.len() < folder.files.len();
        let (action, targets): (Action, Vec<&(String, u64)>) =
            if age > cfg.bronze_delete_after_days as i64 {
                (Action::Delete, left)
            } else if age > cfg.bronze_cold_after_days as i64 && !quarantine {
                let hot = left
                    .into_iter()
                    .filter(|(p, _)| state.tier(p) == Tier::Hot)
                    .collect();
                (Action::MoveToCold, hot)
            } else {
                continue;
            };
        if targets.is_empty() {
            continue;
        }
        let cold_here = folder
            .files
            .iter()
            .any(|(p, _)| state.tier(p) == Tier::Cold);
        let late_files = match action {
            Action::Delete if had_expired => targets.len(),
            Action::MoveToCold if cold_here => targets.len(),
            _ => 0,
        };
        let tiers: BTreeSet<&str> = targets
            .iter()
            .map(|(p, _)| state.tier(p).as_str())
            .collect();
        partitions.push(PlannedPartition {
            partition: dir,
            event_type: folder.event_type.clone(),
            date: folder.date,
            age_days: age,
            tier: tiers.into_iter().collect::<Vec<_>>().join("+"),
            action,
            files: targets.len(),
            bytes: targets.iter().map(|(_, b)| b).sum(),
            late_files,
            paths: targets.into_iter().map(|(p, _)| p.clone()).collect(),
        });
    }
    let vacuum = vacuum_all(lake, cfg.delta_retention_days, true).await?;
    Ok(Plan {
        now,
        cold_after_days: cfg.bronze_cold_after_days,
        delete_after_days: cfg.bronze_delete_after_days,
        cold_store,
        partitions,
        vacuum,
        retention_days: cfg.delta_retention_days,
        applied: false,
    })
}

/// Vacuums (or, dry, counts what a vacuum would remove from) every Silver and Gold table.
async fn vacuum_all(
    lake: &Lake,
    retention_days: u32,
    dry_run: bool,
) -> Result<Vec<(String, usize)>, LifecycleError> {
    let mut out = Vec::new();
    for rel in delta::DELTA_TABLES {
        let table = delta::open(lake, rel)
            .await
            .map_err(|source| LifecycleError::Vacuum { table: rel, source })?;
        if !delta::exists(&table) {
            continue;
        }
        let retention = chrono::Duration::days(retention_days as i64);
        let (_, files) = delta::vacuum(table, retention, dry_run)
            .await
            .map_err(|source| LifecycleError::Vacuum { table: rel, source })?;
        out.push((rel.to_string(), files));
    }
    Ok(out)
}

/// Carries out a plan: moves, deletes, vacuum; logs what it did under `_lifecycle/log/`.
///
/// A move copies each file to the cold store create-only (a copy already there must be the
/// same bytes), makes the copies durable, records the files as cold, and only then deletes
/// the hot copies; a delete records the files as expired first, then deletes every copy. An
/// apply that dies anywhere is finished by the next one, and no file is ever deleted that was
/// not first copied and recorded, or recorded as expired.
pub async fn apply(
    lake: &Lake,
    mut plan: Plan,
    progress: &JobProgress,
) -> Result<Plan, LifecycleError> {
    let _lease = lake.writer_lease("lifecycle apply").await?;
    let mut state = TierState::load(lake).await?;
    if state.cold_store.is_empty() {
        state.cold_store = plan.cold_store.clone();
    }
    // The cold store is needed to move files, and to delete or finish files that are (or
    // may still be) there.
    let has_cold_files = !state.cold.is_empty() || !state.pending.is_empty();
    let needs_cold = plan
        .partitions
        .iter()
        .any(|p| p.action == Action::MoveToCold || p.tier.contains("cold"))
        || (has_cold_files && !state.cold_store.is_empty());
    let cold = if needs_cold {
        if state.cold_store.is_empty() {
            return Err(LifecycleError::ColdStore(
                "no cold store: set [lifecycle] cold_store in _config/pipeline.toml".into(),
            ));
        }
        Some(open_cold_store(lake, &state.cold_store).await?)
    } else {
        None
    };
    progress.begin_stage(
        format!("lifecycle: {} partitions", plan.partitions.len()),
        plan.partitions.len() as u64,
    );
    for p in &plan.partitions {
        progress.check().map_err(|_| LifecycleError::Cancelled)?;
        match (&p.action, &cold) {
            (Action::MoveToCold, Some(cold)) => {
                move_to_cold(lake, cold, &p.paths, &mut state).await?
            }
            (Action::MoveToCold, None) => {}
            (Action::Delete, cold) => expire(lake, cold.as_ref(), &p.paths, &mut state).await?,
        }
        progress.add_done(1);
    }
    finish_pending(lake, cold.as_ref(), &mut state).await?;
    progress.set_stage("lifecycle: vacuuming Delta tables");
    let vacuum = vacuum_all(lake, plan.retention_days, false).await?;
    plan.vacuum = vacuum;
    plan.applied = true;
    let log = serde_json::to_vec_pretty(&plan).unwrap_or_default();
    let name = format!("{LOG_DIR}/{}.json", Utc::now().format("%Y%m%dT%H%M%S%.6fZ"));
    lake.put_create(&Path::from(name), log.into()).await?;
    Ok(plan)
}

/// Copies hot files to the cold store, records them, then deletes the hot copies.
async fn move_to_cold(
    lake: &Lake,
    cold: &Lake,
    paths: &[String],
    state: &mut TierState,
) -> Result<(), LifecycleError> {
    let mut moved = Vec::new();
    for path in paths.iter().filter(|p| state.tier(p) == Tier::Hot) {
        let p = Path::from(path.as_str());
        let body = match lake.get(&p).await {
            Ok(b) => b,
            Err(e) if is_not_found(&e) => {
                // Copied by an apply that died before recording it: the cold copy stands.
                if cold.get(&p).await.is_ok() {
                    moved.push(p);
                    continue;
                }
                return Err(LifecycleError::Missing { path: path.clone() });
            }
            Err(e) => return Err(e.into()),
        };
        copy_once(cold, &p, body).await?;
        moved.push(p);
    }
    cold.sync(&moved)?;
    let now = Utc::now();
    for p in &moved {
        state.cold.insert(p.to_string(), now);
        state.pending.insert(p.to_string());
    }
    state.save(lake).await?;
    for p in &moved {
        lake.delete(p).await?;
    }
    for p in &moved {
        state.pending.remove(p.as_ref());
    }
    state.save(lake).await?;
    Ok(())
}

/// Writes a file to the cold store unless the same bytes are there already.
async fn copy_once(cold: &Lake, p: &Path, body: bytes::Bytes) -> Result<(), LifecycleError> {
    match cold.put_create(p, body.clone()).await {
        Ok(()) => Ok(()),
        Err(LakeError::AlreadyExists { .. }) => {
            if cold.get(p).await? == body {
                Ok(())
            } else {
                Err(LifecycleError::ColdStore(format!(
                    "it already holds a different {p}; the hot copy is kept"
                )))
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Records files as expired, then deletes every copy.
async fn expire(
    lake: &Lake,
    cold: Option<&Lake>,
    paths: &[String],
    state: &mut TierState,
) -> Result<(), LifecycleError> {
    let now = Utc::now();
    for path in paths {
        state.cold.remove(path);
        state.expired.insert(path.clone(), now);
        state.pending.insert(path.clone());
    }
    state.save(lake).await?;
    for path in paths {
        delete_everywhere(lake, cold, path).await?;
    }
    for path in paths {
        state.pending.remove(path);
    }
    state.save(lake).await?;
    Ok(())
}

async fn delete_everywhere(
    lake: &Lake,
    cold: Option<&Lake>,
    path: &str,
) -> Result<(), LifecycleError> {
    let p = Path::from(path);
    lake.delete(&p).await?;
    if let Some(cold) = cold {
        cold.delete(&p).await?;
    }
    Ok(())
}

/// Finishes what an apply that died left pending: the hot copy of a file recorded as cold is
/// deleted once its cold copy is checked to be the same bytes (a file whose cold copy is gone
/// is hot again), and every copy of a file recorded as expired is deleted.
async fn finish_pending(
    lake: &Lake,
    cold: Option<&Lake>,
    state: &mut TierState,
) -> Result<(), LifecycleError> {
    if state.pending.is_empty() {
        return Ok(());
    }
    for path in std::mem::take(&mut state.pending) {
        let p = Path::from(path.as_str());
        match (state.tier(&path), cold) {
            (Tier::Expired, cold) => delete_everywhere(lake, cold, &path).await?,
            (Tier::Cold, Some(cold)) => {
                let hot = match lake.get(&p).await {
                    Ok(b) => b,
                    Err(e) if is_not_found(&e) => continue,
                    Err(e) => return Err(e.into()),
                };
                match cold.get(&p).await {
                    Ok(c) if c == hot => lake.delete(&p).await?,
                    Ok(_) => {
                        state.pending.insert(path.clone());
                        state.save(lake).await?;
                        return Err(LifecycleError::ColdStore(format!(
                            "its copy of {p} differs from the lake's; the hot copy is kept"
                        )));
                    }
                    Err(e) if is_not_found(&e) => {
                        state.cold.remove(&path);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            _ => {}
        }
    }
    state.save(lake).await?;
    Ok(())
}

fn is_not_found(e: &LakeError) -> bool {
    matches!(
        e,
        LakeError::Store {
            source: object_store::Error::NotFound { .. },
            ..
        }
    )
}

/// Earlier applies, oldest first.
pub async fn history(lake: &Lake) -> Result<Vec<Plan>, LifecycleError> {
    let mut out = Vec::new();
    let mut metas = lake.list(LOG_DIR).await?;
    metas.sort_by(|a, b| a.location.cmp(&b.location));
    for m in metas {
        let body = lake.get(&m.location).await?;
        if let Ok(p) = serde_json::from_slice::<Plan>(&body) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The S3 bucket lifecycle configuration matching the lake's settings, for the bucket owner
/// to apply (`aws s3api put-bucket-lifecycle-configuration --lifecycle-configuration file://…`).
pub fn s3_rule(lake: &Lake, cfg: &LifecycleConfig) -> serde_json::Value {
    let prefix = match lake.location().strip_prefix("s3://") {
        Some(rest) => rest
            .split_once('/')
            .map(|(_, p)| format!("{}/bronze/", p.trim_end_matches('/')))
            .unwrap_or_else(|| "bronze/".into()),
        None => "bronze/".into(),
    };
    serde_json::json!({
        "Rules": [{
            "ID": "cclake-bronze-lifecycle",
            "Filter": { "Prefix": prefix },
            "Status": "Enabled",
            "Transitions": [{ "Days": cfg.bronze_cold_after_days, "StorageClass": "GLACIER_IR" }],
            "Expiration": { "Days": cfg.bronze_delete_after_days }
        }]
    })
}
