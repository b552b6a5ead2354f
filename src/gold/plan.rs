//! Which reporting-zone dates a Gold run recomputes: all of them on a first build, a settings
//! change or a full rebuild; otherwise the dates Silver's commits since Gold's last run touched,
//! widened by the FCR window before them.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::{GoldError, GoldMode, GoldState, KpiSettings};
use crate::lake::Lake;
use crate::lake::delta::{self, GOLD_DAILY, GOLD_HOURLY, SILVER_CONTACTS};

/// Where Gold stands when a run starts.
pub(super) struct PlanInput<'a> {
    pub mode: GoldMode,
    /// The tables as the run opened them: Silver, Gold daily, Gold hourly.
    pub tables: [&'a deltalake::DeltaTable; 3],
    pub state: &'a GoldState,
    pub silver_version: Option<u64>,
    /// Both Gold tables have a commit.
    pub gold_exists: bool,
    /// The KPI settings of this run.
    pub fingerprint: &'a str,
}

/// The dates to recompute, and why.
pub(super) struct GoldPlan {
    pub dates: BTreeSet<NaiveDate>,
    pub full: bool,
    pub reason: String,
}

/// Plans a run; `None` when Gold is up to date with Silver.
pub(super) async fn plan(
    lake: &Lake,
    settings: &KpiSettings,
    input: PlanInput<'_>,
) -> Result<Option<GoldPlan>, GoldError> {
    let state = input.state;
    let full_reason = match input.mode {
        GoldMode::Full => Some("full rebuild requested".to_string()),
        GoldMode::Incremental if !input.gold_exists || state.silver_version.is_none() => {
            Some("first Gold build".to_string())
        }
        GoldMode::Incremental if state.settings != input.fingerprint => Some(format!(
            "KPI settings changed ({} → {})",
            if state.settings.is_empty() {
                "none"
            } else {
                &state.settings
            },
            input.fingerprint
        )),
        GoldMode::Incremental => None,
    };
    if let Some(reason) = full_reason {
        let dates = every_date(input.tables, settings, true)?;
        return Ok(Some(GoldPlan {
            dates,
            full: true,
            reason,
        }));
    }
    let from = state.silver_version.unwrap_or(0);
    let to = input.silver_version.unwrap_or(0);
    if Some(from) == input.silver_version {
        return Ok(None);
    }
    let Some(changed) = delta::changed_dates(lake, SILVER_CONTACTS, from + 1, to)
        .await
        .map_err(GoldError::Lake)?
    else {
        return Ok(Some(GoldPlan {
            dates: every_date(input.tables, settings, false)?,
            full: true,
            reason: "Silver's log no longer reaches Gold's last version; full rebuild".into(),
        }));
    };
    let reason = format!(
        "Silver versions {}–{to} changed {} UTC date(s)",
        from + 1,
        changed.len()
    );
    let window = settings.fcr_window_days;
    let dates = (changed.into_iter())
        .flat_map(|d| settings.zone.affected_local_dates(d, window))
        .collect();
    Ok(Some(GoldPlan {
        dates,
        full: false,
        reason,
    }))
}

/// Every local date Silver covers; with `and_gold`, every date Gold holds too (so stale ones
/// go).
fn every_date(
    [silver, daily, hourly]: [&deltalake::DeltaTable; 3],
    settings: &KpiSettings,
    and_gold: bool,
) -> Result<BTreeSet<NaiveDate>, GoldError> {
    let stats = delta::stats_of(silver, SILVER_CONTACTS).map_err(|source| GoldError::Delta {
        table: SILVER_CONTACTS,
        source,
    })?;
    let silver_dates = stats.partitions.iter().filter_map(|p| p.date.parse().ok());
    let mut dates: BTreeSet<NaiveDate> = silver_dates
        .flat_map(|d| settings.zone.affected_local_dates(d, 0))
        .collect();
    if and_gold {
        for (table, rel) in [(daily, GOLD_DAILY), (hourly, GOLD_HOURLY)] {
            if let Ok(stats) = delta::stats_of(table, rel) {
                dates.extend(
                    stats
                        .partitions
                        .iter()
                        .filter_map(|p| p.date.parse::<NaiveDate>().ok()),
                );
            }
        }
    }
    Ok(dates)
}

/// Splits sorted dates into runs that are worth one query each: dates closer than `gap` days
/// share a scan of Silver, distant ones (a late file from last month) get their own.
pub(super) fn clusters(dates: &[NaiveDate], gap: i64) -> Vec<Vec<NaiveDate>> {
    let mut out: Vec<Vec<NaiveDate>> = Vec::new();
    for d in dates {
        match out.last_mut() {
            Some(c) if c.last().is_some_and(|l| (*d - *l).num_days() <= gap) => c.push(*d),
            _ => out.push(vec![*d]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_dates_share_a_scan_and_distant_ones_do_not() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let dates = vec![d("2026-10-01"), d("2026-10-03"), d("2026-11-20")];
        let c = clusters(&dates, 9);
        assert_eq!(c, vec![vec![dates[0], dates[1]], vec![dates[2]]]);
    }
}
