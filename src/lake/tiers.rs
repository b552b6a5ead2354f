//! Where each Bronze file lives once lifecycle has touched it: hot (the lake), cold (the cold
//! store), or expired (deleted for good). The record is per file, in `_lifecycle/state.json`,
//! so a file that arrives late in an hour that already moved or expired is simply hot: it is
//! read from the lake, moved or expired on its own, never deleted for its neighbours' sake.
//!
//! Every reader of Bronze goes through [`BronzeLocator`], so moved files stay readable (Silver
//! rebuilds from them, SQL queries them) and expired ones are known to be gone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use super::ledger;
use super::{Lake, LakeError};

pub const STATE_FILE: &str = "_lifecycle/state.json";

/// Where every Bronze file that left the hot lake went.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierState {
    /// The cold store's location once anything was moved there.
    pub cold_store: String,
    /// Lake-relative file path → when it moved to the cold store.
    pub cold: BTreeMap<String, DateTime<Utc>>,
    /// Lake-relative file path → when it was deleted for good.
    pub expired: BTreeMap<String, DateTime<Utc>>,
    /// Files recorded as cold or expired whose old copies may not all be deleted yet (an
    /// apply that died after recording them): the next apply finishes these.
    #[serde(default)]
    pub pending: BTreeSet<String>,
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

/// The folder of a lake-relative file path.
pub fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or(path)
}

/// True for a key of the state that names a file (the record before this one kept folders).
fn is_file_key(key: &str) -> bool {
    key.ends_with(".gz") || key.ends_with(".json")
}

impl TierState {
    pub fn tier(&self, path: &str) -> Tier {
        if self.expired.contains_key(path) {
            Tier::Expired
        } else if self.cold.contains_key(path) {
            Tier::Cold
        } else {
            Tier::Hot
        }
    }

    /// Folders holding at least one expired file: Silver never rebuilds their dates from what
    /// is left (see `silver::plan`).
    pub fn expired_folders(&self) -> BTreeSet<&str> {
        self.expired.keys().map(|p| folder_of(p)).collect()
    }

    /// Reads the state, turning a record of whole folders (written before files were
    /// recorded one by one) into one of files: a cold folder's files are the ones in the cold
    /// store, an expired folder's the ones the ledger had written there by then.
    pub async fn load(lake: &Lake) -> Result<TierState, LakeError> {
        let mut state: TierState = lake.get_json(STATE_FILE).await?.unwrap_or_default();
        let legacy_cold: Vec<(String, DateTime<Utc>)> = state
            .cold
            .iter()
            .filter(|(k, _)| !is_file_key(k))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let legacy_expired: Vec<(String, DateTime<Utc>)> = state
            .expired
            .iter()
            .filter(|(k, _)| !is_file_key(k))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if legacy_cold.is_empty() && legacy_expired.is_empty() {
            return Ok(state);
        }
        if !legacy_cold.is_empty() && !state.cold_store.is_empty() {
            let cold = Lake::open(&state.cold_store)?;
            for (dir, at) in &legacy_cold {
                state.cold.remove(dir);
                for meta in cold.list(dir).await? {
                    state.cold.insert(meta.location.to_string(), *at);
                }
            }
        }
        if !legacy_expired.is_empty() {
            let rows = ledger::read_all(lake).await.map_err(|e| LakeError::Store {
                path: STATE_FILE.into(),
                source: object_store::Error::Generic {
                    store: "ledger",
                    source: Box::new(e),
                },
            })?;
            for (dir, at) in &legacy_expired {
                state.expired.remove(dir);
                for f in rows.iter().filter(|r| r.ingested_at <= *at) {
                    for b in f.bronze_files.iter().filter(|b| folder_of(&b.path) == dir) {
                        state.cold.remove(&b.path);
                        state.expired.insert(b.path.clone(), *at);
                    }
                }
            }
        }
        Ok(state)
    }

    pub async fn save(&self, lake: &Lake) -> Result<(), LakeError> {
        lake.put_json(STATE_FILE, self).await
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
    pub async fn load(lake: &Lake) -> Result<Self, LakeError> {
        let state = TierState::load(lake).await?;
        let cold = if state.cold.is_empty() || state.cold_store.is_empty() {
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

    /// The tier of a Bronze file.
    pub fn tier(&self, path: &str) -> Tier {
        self.state.tier(path)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_per_file() {
        let mut s = TierState::default();
        let at = Utc::now();
        let dir = "bronze/event_type=contact/year=2025/month=01/day=01/hour=10";
        s.cold
            .insert(format!("{dir}/a_20250101_1000_x.json.gz"), at);
        s.expired
            .insert(format!("{dir}/b_20250101_1000_x.json.gz"), at);
        assert_eq!(
            s.tier(&format!("{dir}/a_20250101_1000_x.json.gz")),
            Tier::Cold
        );
        assert_eq!(
            s.tier(&format!("{dir}/b_20250101_1000_x.json.gz")),
            Tier::Expired
        );
        // A file that arrived later in the same hour is hot.
        assert_eq!(
            s.tier(&format!("{dir}/late_20250601_1030_y.json.gz")),
            Tier::Hot
        );
        assert_eq!(
            s.expired_folders().into_iter().collect::<Vec<_>>(),
            vec![dir]
        );
        assert!(!is_file_key(dir) && is_file_key("x/y.json.gz"));
    }
}
