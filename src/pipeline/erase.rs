//! Data subject requests as jobs: find a person everywhere, erase them everywhere (resumably,
//! audited), and trace every file of the lake for them.

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use crate::compliance::subject::erase;
use crate::compliance::subject::trace::{self, TraceReport};
use crate::compliance::subject::{self, Findings, Matcher, Subject, SubjectError};
use crate::gold::{self, GoldError, GoldMode};
use crate::lake::Lake;
use crate::lake::audit::{self, AuditEntry};
use crate::lake::erasures::{self, ErasureState, Phase};
use crate::progress::JobProgress;
use crate::silver::digest::HmacKey;
use crate::silver::masking::load_policy;
use crate::silver::{self, ProcessMode, SilverError};

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error(transparent)]
    Subject(#[from] SubjectError),
    #[error("Silver: {0}")]
    Silver(#[from] SilverError),
    #[error("Gold: {0}")]
    Gold(#[from] GoldError),
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
    #[error("an erasure needs a reason (the request's ticket or reference), kept in the audit log")]
    NoReason,
}

/// What an erase did (or, without `apply`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct EraseReport {
    /// Where the subject was found before anything changed.
    pub found: Findings,
    pub applied: bool,
    /// The erasure's record (its receipt once done).
    pub erasure: Option<ErasureState>,
    /// Every file of the lake read after the erasure: where the subject still is (nowhere).
    pub trace: Option<TraceReport>,
}

/// The subject's matcher under the lake's policy and key. The key must be the lake's: under
/// another, the person's keyed hashes match nothing and they would seem absent.
async fn matcher(lake: &Lake, subject: &Subject, key: HmacKey) -> Result<Matcher, SubjectError> {
    crate::silver::key_record::check_read_only(lake, &key).await?;
    let policy = load_policy(lake).await?;
    Matcher::new(subject, policy, key)
}

/// Finds a subject everywhere in the lake.
pub async fn find(
    lake: &Lake,
    subject: &Subject,
    key: HmacKey,
    progress: &JobProgress,
) -> Result<Findings, SubjectError> {
    let m = matcher(lake, subject, key).await?;
    subject::find(lake, &m, progress).await
}

/// Reads every file of the lake and its cold store for the subject.
pub async fn verify(
    lake: &Lake,
    subject: &Subject,
    key: HmacKey,
    progress: &JobProgress,
) -> Result<TraceReport, SubjectError> {
    let m = matcher(lake, subject, key).await?;
    trace::trace(lake, &m, progress).await
}

/// Erases a subject: the plan (where they are) without `apply`; with it, Bronze and
/// quarantine rewritten without them, their Silver rows deleted and their dates rebuilt, Gold
/// recomputed, every Delta table vacuumed and its log cut, the audit entry written, and every
/// file of the lake traced. Run again after a crash, it finishes the same erasure.
pub async fn erase(
    lake: &Lake,
    subject: &Subject,
    reason: &str,
    key: HmacKey,
    apply: bool,
    progress: &JobProgress,
) -> Result<EraseReport, EraseError> {
    let _lease = lake
        .writer_lease("subject erase")
        .await
        .map_err(SubjectError::from)?;
    let m = matcher(lake, subject, key.clone()).await?;
    let found = subject::find(lake, &m, progress).await?;
    erasures::remove_leftovers(lake).await?;
    // An erasure of this person that did not finish is finished, not started again.
    let unfinished =
        (erasures::unfinished(lake).await?.into_iter()).find(|s| s.subject == found.subject);
    let mut report = EraseReport {
        found,
        applied: apply,
        erasure: unfinished,
        trace: None,
    };
    if !apply {
        return Ok(report);
    }
    if reason.trim().is_empty() {
        return Err(EraseError::NoReason);
    }
    // Asked again for someone an erasure already took out of everything (a rerun after a run
    // that finished just as it was killed): that erasure stands; the trace proves it again,
    // and no second receipt or audit entry is written for nothing erased.
    if report.erasure.is_none() && report.found.nothing_in_the_lake() {
        let done = (erasures::all(lake).await?.into_iter())
            .filter(|s| s.subject == report.found.subject && s.phase == Phase::Done)
            .max_by_key(|s| s.finished_at);
        if let Some(done) = done {
            progress.set_stage("erase: reading every file of the lake for the subject");
            report.trace = Some(trace::trace(lake, &m, progress).await?);
            report.erasure = Some(done);
            return Ok(report);
        }
    }
    let mut state = match report.erasure.take() {
        Some(s) => s,
        None => {
            let id = format!("{}-{}", Utc::now().format("%Y%m%dT%H%M%S"), m.id());
            ErasureState::new(id, reason.trim(), m.keyed())
        }
    };
    erase::finish_pending_deletes(lake, &mut state).await?;
    if state.phase == Phase::Files {
        progress.set_stage("erase: rewriting Bronze and quarantine");
        state.silver_dates.extend(report.found.silver_dates());
        state.silver_contacts.extend(report.found.silver_contacts());
        state.save(lake).await?;
        erase::rewrite_bronze(lake, &report.found, &mut state).await?;
        erase::rewrite_quarantine(lake, &report.found, &mut state).await?;
        state.phase = Phase::Layers;
        state.save(lake).await?;
    }
    layers(lake, &m, &key, &mut state, progress).await?;
    progress.set_stage("erase: reading every file of the lake for the subject");
    report.trace = Some(trace::trace(lake, &m, progress).await?);
    report.erasure = Some(state);
    Ok(report)
}

/// Silver without the subject (rows deleted, their dates rebuilt from the rewritten Bronze),
/// Gold recomputed, history purged, the audit entry written.
async fn layers(
    lake: &Lake,
    m: &Matcher,
    key: &HmacKey,
    state: &mut ErasureState,
    progress: &JobProgress,
) -> Result<(), EraseError> {
    progress.set_stage("erase: Silver");
    state.silver_rows_removed += erase::delete_silver_rows(lake, m, &state.silver_contacts).await?;
    state.save(lake).await?;
    for date in rebuild_ranges(&state.silver_dates) {
        silver::process(lake, date, key.clone(), progress).await?;
    }
    let gold = gold::build(lake, GoldMode::Incremental, progress).await?;
    state.gold_dates.extend(gold.dates);
    state.gold_dates.sort();
    state.gold_dates.dedup();
    progress.set_stage("erase: vacuuming Delta tables and cutting their logs");
    let (vacuumed, logs) = erase::purge_history(lake).await?;
    state.delta_files_vacuumed += vacuumed;
    state.delta_log_files_removed += logs;
    state.save(lake).await?;
    audit_once(lake, state).await?;
    state.phase = Phase::Done;
    state.finished_at = Some(Utc::now());
    state.silver_contacts.clear();
    state.save(lake).await?;
    Ok(())
}

/// The dates to rebuild, one range per run of consecutive dates.
fn rebuild_ranges(dates: &std::collections::BTreeSet<NaiveDate>) -> Vec<ProcessMode> {
    let mut out: Vec<ProcessMode> = Vec::new();
    for d in dates {
        match out.last_mut() {
            Some(ProcessMode::Range { to, .. }) if *to + chrono::Duration::days(1) == *d => {
                *to = *d
            }
            _ => out.push(ProcessMode::Range { from: *d, to: *d }),
        }
    }
    out
}

/// The audit entry of an erasure, written once even when the erasure is finished by a rerun.
async fn audit_once(lake: &Lake, state: &ErasureState) -> Result<(), SubjectError> {
    let done = audit::read_all(lake).await?.iter().any(|e| {
        e.action == "erase" && e.details.get("erasure").and_then(|v| v.as_str()) == Some(&state.id)
    });
    if done {
        return Ok(());
    }
    let details = serde_json::json!({
        "erasure": state.id,
        "subject": state.subject,
        "bronze_files_rewritten": state.bronze_files_rewritten,
        "bronze_lines_removed": state.bronze_lines_removed,
        "quarantine_rows_removed": state.quarantine_rows_removed,
        "quarantine_originals_removed": state.originals_removed,
        "silver_rows_removed": state.silver_rows_removed,
        "silver_dates_rebuilt": state.silver_dates,
        "gold_dates_recomputed": state.gold_dates,
        "delta_files_vacuumed": state.delta_files_vacuumed,
        "delta_log_files_removed": state.delta_log_files_removed,
        "started_at": state.started_at,
    });
    let entry = AuditEntry {
        at: Utc::now(),
        action: "erase".into(),
        reason: state.reason.clone(),
        details,
    };
    audit::append(lake, &entry).await?;
    Ok(())
}
