//! Which dates a Silver run rebuilds, and from which Bronze files: read from the ingest ledger
//! (every committed Bronze file and the input it came from), the tiers lifecycle moved files
//! to, and the inputs Silver has already been built from.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::commit::SilverState;
use super::error::SilverError;
use crate::lake::Lake;
use crate::lake::ledger::{self, LedgerEntry};
use crate::lake::tiers::{BronzeLocator, Tier};

/// Which dates to rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessMode {
    /// Dates whose Bronze received files since the last successful run.
    Incremental,
    /// Every date in Bronze.
    Full,
    /// Every date in the range (inclusive) that has Bronze data.
    Range { from: NaiveDate, to: NaiveDate },
}

/// A Bronze file of one date and the ledger row that wrote it.
#[derive(Debug, Clone)]
pub struct BronzeRef {
    pub path: String,
    /// Index of its ingest in [`SilverPlan::ledger`].
    pub ledger: usize,
    pub records: u64,
}

/// A run's plan: the dates to rebuild and the Bronze files of each.
pub struct SilverPlan {
    /// Every committed ingest, in ledger order.
    pub ledger: Vec<LedgerEntry>,
    /// Where each Bronze file is now (the lake, or the cold store).
    pub locator: BronzeLocator,
    by_date: BTreeMap<NaiveDate, Vec<BronzeRef>>,
    /// The dates to rebuild, in order.
    pub dates: Vec<NaiveDate>,
    /// Dates that would be rebuilt but hold expired Bronze (see [`plan_dates`]).
    pub frozen: Vec<NaiveDate>,
}

impl SilverPlan {
    /// Plans a run from the lake's ledger and tiers and what Silver has built so far.
    pub async fn load(
        lake: &Lake,
        mode: ProcessMode,
        state: &SilverState,
    ) -> Result<SilverPlan, SilverError> {
        let ledger = ledger::read_all(lake).await?;
        let locator = BronzeLocator::load(lake).await?;
        let (by_date, dates, frozen) = plan_dates(&ledger, &locator, state, mode);
        Ok(SilverPlan {
            ledger,
            locator,
            by_date,
            dates,
            frozen,
        })
    }

    /// The Bronze files of a date.
    pub fn files(&self, date: &NaiveDate) -> &[BronzeRef] {
        self.by_date.get(date).map_or(&[][..], Vec::as_slice)
    }

    /// Records in the Bronze of the dates to rebuild (progress counts them).
    pub fn records(&self) -> u64 {
        let files = self.dates.iter().flat_map(|d| self.files(d));
        files.map(|r| r.records).sum()
    }

    /// The dates in commits of at most `rows` Bronze records (a date bigger than that is a
    /// commit of its own): bounds memory while keeping commits few.
    pub fn groups(&self, rows: u64) -> Vec<Vec<NaiveDate>> {
        let mut groups: Vec<Vec<NaiveDate>> = Vec::new();
        let mut acc = 0;
        for d in &self.dates {
            let n: u64 = self.files(d).iter().map(|r| r.records).sum();
            if groups.is_empty() || acc + n > rows {
                groups.push(Vec::new());
                acc = 0;
            }
            acc += n;
            if let Some(g) = groups.last_mut() {
                g.push(*d);
            }
        }
        groups
    }
}

/// The contact files per date, the dates to rebuild and the frozen ones.
type Planned = (
    BTreeMap<NaiveDate, Vec<BronzeRef>>,
    Vec<NaiveDate>,
    Vec<NaiveDate>,
);

/// Plans a run. Files lifecycle moved to the cold store are read from there. A date with any
/// expired Bronze is frozen: rebuilding it from what is left would drop the Silver rows of the
/// expired hours, so its rows stay as they were built from its whole Bronze, and a record that
/// arrives late in an expired hour stays in Bronze (reported by `status` and lifecycle's plan)
/// until lifecycle expires it too.
fn plan_dates(
    rows: &[LedgerEntry],
    locator: &BronzeLocator,
    state: &SilverState,
    mode: ProcessMode,
) -> Planned {
    let mut by_date: BTreeMap<NaiveDate, Vec<BronzeRef>> = BTreeMap::new();
    let mut frozen_set = BTreeSet::new();
    for (i, row) in rows.iter().enumerate() {
        // A date whose Bronze was marked lost (`cclake doctor`) is rebuilt from what is left,
        // even when nothing is.
        for lost in &row.lost_files {
            if let Some(p) = crate::lake::paths::BronzePartition::parse_file_path(lost)
                && p.event_type == "contact"
            {
                by_date.entry(p.date()).or_default();
            }
        }
        for f in row
            .bronze_files
            .iter()
            .filter(|f| f.event_type == "contact")
        {
            let date = f.hour.date_naive();
            if locator.tier(&f.path) == Tier::Expired {
                frozen_set.insert(date);
                continue;
            }
            by_date.entry(date).or_default().push(BronzeRef {
                path: f.path.clone(),
                ledger: i,
                records: f.records,
            });
        }
    }
    let wanted: Vec<NaiveDate> = match mode {
        ProcessMode::Full => by_date.keys().copied().collect(),
        ProcessMode::Range { from, to } => by_date.range(from..=to).map(|(d, _)| *d).collect(),
        ProcessMode::Incremental => rows
            .iter()
            .filter(|r| !state.processed.contains(&r.sha256))
            .flat_map(|r| &r.bronze_files)
            .filter(|f| f.event_type == "contact")
            .map(|f| f.hour.date_naive())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let (frozen, dates): (Vec<NaiveDate>, Vec<NaiveDate>) =
        wanted.into_iter().partition(|d| frozen_set.contains(d));
    (by_date, dates, frozen)
}
