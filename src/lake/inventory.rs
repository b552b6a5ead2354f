//! What is in the lake, layer by layer: partitions, files, records and bytes. Bronze record
//! counts come from the ingest ledger (no file is decompressed); files come from listing the
//! store, so the two are cross-checked.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use object_store::ObjectMeta;

use super::Lake;
use super::ledger::{self, LedgerError};
use super::paths::{BRONZE, BronzePartition, INGEST_LOG, QUARANTINE};

/// One Bronze hour partition.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartitionStats {
    pub event_type: String,
    pub hour: DateTime<Utc>,
    pub files: usize,
    pub records: u64,
    pub bytes: u64,
    /// `hot` in the lake, `cold` in the cold store (moved by lifecycle).
    pub tier: &'static str,
}

/// Totals for one event type in Bronze.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventTypeStats {
    pub event_type: String,
    pub partitions: usize,
    pub files: usize,
    pub records: u64,
    pub bytes: u64,
    pub first_hour: DateTime<Utc>,
    pub last_hour: DateTime<Utc>,
}

/// A lake's contents.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub location: String,
    pub bronze: Vec<EventTypeStats>,
    pub partitions: Vec<PartitionStats>,
    pub quarantine_files: usize,
    pub quarantine_records: u64,
    pub quarantine_bytes: u64,
    /// Input files recorded in the ledger, and in how many batches.
    pub ingested_inputs: usize,
    pub batches: usize,
    pub input_bytes: u64,
    pub last_ingest: Option<DateTime<Utc>>,
    /// Files in `bronze/` that no ledger row names (an ingest still running, or one that died
    /// and has not been recovered yet). Readers ignore them.
    pub uncommitted_files: usize,
    /// Ledger rows whose file is not in the store any more.
    pub missing_files: usize,
    /// Bronze records as the ledger counts them (the listing's count can differ only while an
    /// ingest is under way or when files are missing).
    pub ledger_bronze_records: u64,
    /// Silver and Gold Delta tables (a table never written has no version).
    pub tables: Vec<super::delta::TableStats>,
    /// Records the ledger says were read from the inputs: Bronze's records, the quarantined
    /// ones and the ones erased for data subjects add up to it.
    pub records_read: u64,
    /// Records removed from Bronze and quarantine by data subject erasures.
    pub erased_records: u64,
    /// Quarantined records sent through the readers again (each counted again as read by its
    /// retry's own ledger row).
    pub retried_records: u64,
    /// Of the ledger's Bronze records, those in hours lifecycle expired (deleted on purpose).
    pub expired_records: u64,
    /// Records of Bronze files found damaged or deleted and marked lost by `cclake doctor`.
    pub lost_records: u64,
    /// Erasures that finished, and those started and not finished (the lake still holds part
    /// of someone whose erasure was asked for: rerun `cclake subject erase … --apply`).
    pub erasures_done: usize,
    pub erasures_unfinished: Vec<super::erasures::ErasureState>,
}

impl Inventory {
    /// Whether the ledger's counts add up: records read = Bronze + quarantined + erased +
    /// retried,
    /// summed over the ledger's rows (an input's `records` count the same way).
    pub fn reconciled(&self) -> bool {
        self.records_read
            == self.ledger_bronze_records
                + self.quarantine_records
                + self.erased_records
                + self.retried_records
                + self.lost_records
    }
}

impl Inventory {
    pub fn bronze_records(&self) -> u64 {
        self.bronze.iter().map(|e| e.records).sum()
    }

    pub fn bronze_files(&self) -> usize {
        self.bronze.iter().map(|e| e.files).sum()
    }

    pub fn bronze_bytes(&self) -> u64 {
        self.bronze.iter().map(|e| e.bytes).sum()
    }
}

/// Takes stock of the lake.
pub async fn inventory(lake: &Lake) -> Result<Inventory, LedgerError> {
    let rows = ledger::read_all(lake).await?;
    let mut records_by_path: HashMap<&str, u64> = HashMap::new();
    let mut quarantine_records = 0;
    let mut batches = std::collections::HashSet::new();
    for r in &rows {
        batches.insert(r.batch_id.as_str());
        quarantine_records += r.quarantined;
        for f in &r.bronze_files {
            records_by_path.insert(f.path.as_str(), f.records);
        }
    }
    let locator = crate::lake::tiers::BronzeLocator::load(lake)
        .await
        .map_err(|e| {
            LedgerError::Lake(super::LakeError::BadLocation {
                location: "_lifecycle/state.json".into(),
                reason: e.to_string(),
            })
        })?;
    let mut listed: Vec<(ObjectMeta, &'static str)> = lake
        .list(BRONZE)
        .await?
        .into_iter()
        .map(|m| (m, "hot"))
        .collect();
    if let Some(cold) = locator.cold_lake() {
        listed.extend(cold.list(BRONZE).await?.into_iter().map(|m| (m, "cold")));
    }
    let (mut expired, mut expired_records) = (0, 0);
    for dir in locator.state().expired.keys() {
        for (_, records) in (records_by_path.iter()).filter(|(p, _)| p.starts_with(dir.as_str())) {
            expired += 1;
            expired_records += records;
        }
    }

    let listing = tally(listed, &records_by_path);
    let erasures = super::erasures::all(lake).await?;
    let (done, unfinished): (Vec<_>, Vec<_>) =
        (erasures.into_iter()).partition(|e| e.phase == super::erasures::Phase::Done);
    Ok(Inventory {
        records_read: rows.iter().map(|r| r.records).sum(),
        ledger_bronze_records: rows.iter().map(|r| r.bronze_records).sum(),
        erased_records: rows.iter().map(|r| r.erased).sum(),
        retried_records: rows.iter().map(|r| r.retried).sum(),
        expired_records,
        lost_records: rows.iter().map(|r| r.lost).sum(),
        erasures_done: done.len(),
        erasures_unfinished: unfinished,
        location: lake.location().to_string(),
        bronze: by_event_type(&listing.parts),
        partitions: listing.parts.into_values().collect(),
        quarantine_files: listing.quarantine_files,
        quarantine_records,
        quarantine_bytes: listing.quarantine_bytes,
        ingested_inputs: rows.len(),
        batches: batches.len(),
        input_bytes: rows.iter().map(|r| r.bytes).sum(),
        last_ingest: rows.iter().map(|r| r.ingested_at).max(),
        uncommitted_files: listing.uncommitted_files,
        missing_files: records_by_path.len().saturating_sub(listing.seen + expired),
        tables: tables(lake).await?,
    })
}

/// What the listing of Bronze (hot and cold) holds.
#[derive(Default)]
struct Listing {
    parts: BTreeMap<(String, DateTime<Utc>), PartitionStats>,
    quarantine_files: usize,
    quarantine_bytes: u64,
    /// Partition files no ledger row names (a crashed ingest's, removed by the next one).
    uncommitted_files: usize,
    /// Partition files the ledger names.
    seen: usize,
}

/// Sums the listed files by partition; quarantine files apart.
fn tally(listed: Vec<(ObjectMeta, &'static str)>, records_by_path: &HashMap<&str, u64>) -> Listing {
    let mut out = Listing::default();
    for (meta, tier) in listed {
        let path = meta.location.as_ref();
        if path.starts_with(INGEST_LOG) {
            continue;
        }
        if path.starts_with(QUARANTINE) {
            out.quarantine_files += 1;
            out.quarantine_bytes += meta.size;
            continue;
        }
        let Some(p) = BronzePartition::parse_file_path(path) else {
            continue;
        };
        let Some(records) = records_by_path.get(path) else {
            out.uncommitted_files += 1;
            continue;
        };
        out.seen += 1;
        let e = out
            .parts
            .entry((p.event_type.clone(), p.hour))
            .or_insert_with(|| PartitionStats {
                event_type: p.event_type.clone(),
                hour: p.hour,
                files: 0,
                records: 0,
                bytes: 0,
                tier,
            });
        e.files += 1;
        e.records += records;
        e.bytes += meta.size;
    }
    out
}

/// The partitions summed per event type.
fn by_event_type(parts: &BTreeMap<(String, DateTime<Utc>), PartitionStats>) -> Vec<EventTypeStats> {
    let mut by_type: BTreeMap<String, EventTypeStats> = BTreeMap::new();
    for p in parts.values() {
        let e = by_type
            .entry(p.event_type.clone())
            .or_insert_with(|| EventTypeStats {
                event_type: p.event_type.clone(),
                partitions: 0,
                files: 0,
                records: 0,
                bytes: 0,
                first_hour: p.hour,
                last_hour: p.hour,
            });
        e.partitions += 1;
        e.files += p.files;
        e.records += p.records;
        e.bytes += p.bytes;
        e.first_hour = e.first_hour.min(p.hour);
        e.last_hour = e.last_hour.max(p.hour);
    }
    by_type.into_values().collect()
}

/// The Delta tables' stats, in flow order.
async fn tables(lake: &Lake) -> Result<Vec<super::delta::TableStats>, LedgerError> {
    let mut t = Vec::new();
    for rel in super::delta::DELTA_TABLES {
        let stats = super::delta::table_stats(lake, rel).await.map_err(|e| {
            LedgerError::Lake(super::LakeError::BadLocation {
                location: rel.to_string(),
                reason: e.to_string(),
            })
        })?;
        t.push(stats);
    }
    Ok(t)
}
