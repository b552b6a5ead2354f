//! Lifecycle (SPEC §5): old Bronze hour partitions move to a cold store, very old ones are
//! deleted, and Silver and Gold Delta tables are vacuumed.
//!
//! The plan is computed first and shown; `apply` carries it out. A move copies every file of
//! the partition to the cold lake (create-only, same relative path), makes the copies durable,
//! records the partition as cold in `_lifecycle/state.json`, and only then deletes the hot
//! copies, so a move that dies half way is finished by the next apply and never loses a file.
//! Readers of Bronze ([`BronzeLocator`]) look in the cold store for moved partitions, so cold
//! data stays queryable and Silver can still be rebuilt from it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::config::{self, ConfigError, LifecycleConfig};
use crate::lake::delta::{self, GOLD_DAILY, GOLD_HOURLY, SILVER_CONTACTS, SILVER_DRIFT};
use crate::lake::ledger::{self, LedgerError};
use crate::lake::paths::{BRONZE, BronzePartition};
use crate::lake::{Lake, LakeError};
use crate::pipeline::JobProgress;

const STATE_FILE: &str = "_lifecycle/state.json";
const LOG_DIR: &str = "_lifecycle/log";

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
    #[error("vacuum of {table}: {source}")]
    Vacuum {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error(
        "lifecycle cancelled; partitions already moved stay moved, the rest wait for the next apply"
    )]
    Cancelled,
}

/// Where each Bronze partition that left the hot lake went.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TierState {
    /// The cold lake's location when partitions were moved there.
    pub cold_store: String,
    /// Partition folder (`bronze/event_type=…/…/hour=HH`) → when it moved to cold.
    pub cold: BTreeMap<String, DateTime<Utc>>,
    /// Partition folder → when it was deleted for good.
    pub expired: BTreeMap<String, DateTime<Utc>>,
}

/// Where a Bronze file can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tier {
    Hot,
    Cold,
    Expired,
}

impl Tier {
    pub fn as_str(&self) -> &'static str {
        match self {
            Tier::Hot => "hot",
            Tier::Cold => "cold",
            Tier::Expired => "expired",
        }
    }
}

/// Reads Bronze files wherever lifecycle put them.
#[derive(Clone)]
pub struct BronzeLocator {
    hot: Lake,
    cold: Option<Lake>,
    state: TierState,
}

impl BronzeLocator {
    pub async fn load(lake: &Lake) -> Result<Self, LifecycleError> {
        let state = read_state(lake).await?;
        let cold = if state.cold.is_empty() {
            None
        } else {
            Some(Lake::open(&state.cold_store)?)
        };
        Ok(BronzeLocator {
            hot: lake.clone(),
            cold,
            state,
        })
    }

    /// The tier of a Bronze file (by its partition folder).
    pub fn tier(&self, path: &str) -> Tier {
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or(path);
        if self.state.expired.contains_key(dir) {
            Tier::Expired
        } else if self.state.cold.contains_key(dir) {
            Tier::Cold
        } else {
            Tier::Hot
        }
    }

    /// The file on disk when it is hot in a local lake: readers on worker threads read it
    /// directly instead of going through the async store.
    pub fn local_hot_file(&self, path: &str) -> Option<std::path::PathBuf> {
        if self.tier(path) != Tier::Hot {
            return None;
        }
        Some(self.hot.local_root()?.join(path))
    }

    pub fn cold_lake(&self) -> Option<&Lake> {
        self.cold.as_ref()
    }

    pub fn state(&self) -> &TierState {
        &self.state
    }

    /// The file's bytes; `Ok(None)` when lifecycle deleted it.
    pub async fn get(&self, path: &str) -> Result<Option<bytes::Bytes>, LakeError> {
        let p = Path::from(path);
        match (self.tier(path), &self.cold) {
            (Tier::Expired, _) => Ok(None),
            (Tier::Cold, Some(cold)) => match cold.get(&p).await {
                // A move that has not finished deleting may still have it hot.
                Err(LakeError::Store {
                    source: object_store::Error::NotFound { .. },
                    ..
                }) => self.hot.get(&p).await.map(Some),
                r => r.map(Some),
            },
            _ => self.hot.get(&p).await.map(Some),
        }
    }
}

/// The cold lake of a lake: the configured URL, else `<lake>/../cold` for a local lake.
pub fn cold_store_location(lake: &Lake, cfg: &LifecycleConfig) -> Result<String, LifecycleError> {
    if !cfg.cold_store.trim().is_empty() {
        return Ok(cfg.cold_store.trim().to_string());
    }
    match lake.local_root().and_then(|r| r.parent()) {
        Some(parent) => Ok(parent.join("cold").display().to_string()),
        None => Err(LifecycleError::ColdStore(
            "this lake is not a local folder: set [lifecycle] cold_store in _config/pipeline.toml"
                .into(),
        )),
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Move a hot partition to the cold store.
    MoveToCold,
    /// Delete a partition (hot or cold) for good.
    Delete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedPartition {
    pub partition: String,
    pub event_type: String,
    pub date: NaiveDate,
    pub age_days: i64,
    pub tier: String,
    pub action: Action,
    pub files: usize,
    pub bytes: u64,
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
}

/// Plans lifecycle as of `now` (a date: partitions are aged by their day).
pub async fn plan(lake: &Lake, now: NaiveDate) -> Result<Plan, LifecycleError> {
    let cfg = config::load_pipeline(lake).await?.lifecycle;
    let state = read_state(lake).await?;
    let cold_store = if state.cold_store.is_empty() {
        cold_store_location(lake, &cfg).unwrap_or_default()
    } else {
        state.cold_store.clone()
    };
    let mut parts: BTreeMap<String, (BronzePartition, usize, u64)> = BTreeMap::new();
    for row in ledger::read_all(lake).await? {
        for f in &row.bronze_files {
            let Some(p) = BronzePartition::parse_file_path(&f.path) else {
                continue;
            };
            let dir = format!("{BRONZE}/{}", p.relative_dir());
            let e = parts.entry(dir).or_insert((p, 0, 0));
            e.1 += 1;
            e.2 += f.bytes;
        }
    }
    let mut partitions = Vec::new();
    for (dir, (p, files, bytes)) in parts {
        if state.expired.contains_key(&dir) {
            continue;
        }
        let date = p.date();
        let age = (now - date).num_days();
        let cold = state.cold.contains_key(&dir);
        let action = if age > cfg.bronze_delete_after_days as i64 {
            Action::Delete
        } else if age > cfg.bronze_cold_after_days as i64 && !cold {
            Action::MoveToCold
        } else {
            continue;
        };
        partitions.push(PlannedPartition {
            partition: dir,
            event_type: p.event_type.clone(),
            date,
            age_days: age,
            tier: if cold { "cold" } else { "hot" }.into(),
            action,
            files,
            bytes,
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
    for rel in [SILVER_CONTACTS, SILVER_DRIFT, GOLD_DAILY, GOLD_HOURLY] {
        let table = delta::open(lake, rel)
            .await
            .map_err(|source| LifecycleError::Vacuum { table: rel, source })?;
        if !delta::exists(&table) {
            continue;
        }
        let (_, metrics) = vacuum_table(table, retention_days, dry_run)
            .await
            .map_err(|source| LifecycleError::Vacuum { table: rel, source })?;
        out.push((rel.to_string(), metrics.files_deleted.len()));
    }
    Ok(out)
}

async fn vacuum_table(
    table: deltalake::DeltaTable,
    retention_days: u32,
    dry_run: bool,
) -> Result<
    (
        deltalake::DeltaTable,
        deltalake::operations::vacuum::VacuumMetrics,
    ),
    deltalake::DeltaTableError,
> {
    table
        .vacuum()
        .with_retention_period(chrono::Duration::days(retention_days as i64))
        // The retention is the lake owner's setting; Delta's 7-day floor is advice for
        // concurrent readers, which a desktop lake with a configured retention has chosen.
        .with_enforce_retention_duration(false)
        .with_dry_run(dry_run)
        .await
}

/// Carries out a plan: moves, deletes, vacuum; logs what it did under `_lifecycle/log/`.
pub async fn apply(
    lake: &Lake,
    mut plan: Plan,
    progress: &JobProgress,
) -> Result<Plan, LifecycleError> {
    let mut state = read_state(lake).await?;
    if state.cold_store.is_empty() {
        state.cold_store = plan.cold_store.clone();
    }
    let needs_cold = plan
        .partitions
        .iter()
        .any(|p| p.action == Action::MoveToCold || p.tier == "cold");
    let cold = if needs_cold {
        if state.cold_store.is_empty() {
            return Err(LifecycleError::ColdStore(
                "no cold store: set [lifecycle] cold_store in _config/pipeline.toml".into(),
            ));
        }
        Some(Lake::open(&state.cold_store)?)
    } else {
        None
    };
    progress.begin_stage(
        format!("lifecycle: {} partitions", plan.partitions.len()),
        plan.partitions.len() as u64,
    );
    for p in &plan.partitions {
        progress.check().map_err(|_| LifecycleError::Cancelled)?;
        let hot_files = lake.list(&p.partition).await?;
        match p.action {
            Action::MoveToCold => {
                let Some(cold) = &cold else { continue };
                let mut written = Vec::new();
                for meta in &hot_files {
                    let body = lake.get(&meta.location).await?;
                    match cold.put_create(&meta.location, body).await {
                        Ok(()) | Err(LakeError::AlreadyExists { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                    written.push(meta.location.clone());
                }
                cold.sync(&written)?;
                state.cold.insert(p.partition.clone(), Utc::now());
                write_state(lake, &state).await?;
                for meta in &hot_files {
                    lake.delete(&meta.location).await?;
                }
            }
            Action::Delete => {
                // Recorded first: readers then stop looking for it, even if a delete fails.
                state.expired.insert(p.partition.clone(), Utc::now());
                state.cold.remove(&p.partition);
                write_state(lake, &state).await?;
                for meta in &hot_files {
                    lake.delete(&meta.location).await?;
                }
                if let Some(cold) = &cold {
                    for meta in cold.list(&p.partition).await? {
                        cold.delete(&meta.location).await?;
                    }
                }
            }
        }
        progress.add_done(1);
    }
    // Finish moves a previous apply recorded but did not get to delete.
    for dir in state.cold.keys() {
        for meta in lake.list(dir).await? {
            lake.delete(&meta.location).await?;
        }
    }
    progress.set_stage("lifecycle: vacuuming Delta tables");
    let vacuum = vacuum_all(lake, plan.retention_days, false).await?;
    plan.vacuum = vacuum;
    plan.applied = true;
    let log = serde_json::to_vec_pretty(&plan).unwrap_or_default();
    let name = format!("{LOG_DIR}/{}.json", Utc::now().format("%Y%m%dT%H%M%S%.6fZ"));
    lake.put_create(&Path::from(name), log.into()).await?;
    Ok(plan)
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

pub async fn read_state(lake: &Lake) -> Result<TierState, LifecycleError> {
    Ok(lake.get_json(STATE_FILE).await?.unwrap_or_default())
}

async fn write_state(lake: &Lake, state: &TierState) -> Result<(), LifecycleError> {
    Ok(lake.put_json(STATE_FILE, state).await?)
}
