//! `cclake subject find | erase | verify`: a data subject request from a terminal. What is
//! printed names places (files, lines, dates, queues), never the person's values; only the
//! export written with `--out` carries them, for the requester.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::args::{SubjectAction, SubjectArgs};
use super::progress::run_job;
use crate::compliance::subject::trace::TraceReport;
use crate::compliance::subject::{Findings, Subject};
use crate::format::thousands;
use crate::lake::Lake;
use crate::pipeline::erase::EraseReport;
use crate::pipeline::{Job, JobOutcome};
use crate::silver::digest::HmacKey;

impl From<SubjectArgs> for Subject {
    fn from(a: SubjectArgs) -> Subject {
        Subject {
            phones: a.phones,
            member_ids: a.member_ids,
            emails: a.emails,
            customer_keys: a.customer_keys,
        }
    }
}

/// Runs a subject command.
pub async fn subject(lake: &Lake, action: SubjectAction) -> Result<()> {
    let (job, json, out, label) = match action {
        SubjectAction::Find { who, json, out } => {
            let job = Job::SubjectFind {
                subject: who.into(),
            };
            (job, json, out, "finding the subject")
        }
        SubjectAction::Erase {
            who,
            reason,
            apply,
            json,
        } => {
            let subject: Subject = who.into();
            let label = if apply {
                "erasing"
            } else {
                "planning the erasure"
            };
            let job = Job::SubjectErase {
                subject,
                reason,
                apply,
            };
            (job, json, None, label)
        }
        SubjectAction::Verify { who, json } => {
            let job = Job::SubjectVerify {
                subject: who.into(),
            };
            (job, json, None, "tracing the subject")
        }
    };
    if let Job::SubjectFind { subject }
    | Job::SubjectErase { subject, .. }
    | Job::SubjectVerify { subject } = &job
        && subject.is_empty()
    {
        bail!("name the person: --phone, --member-id, --email or --customer-key (each may repeat)");
    }
    let key = HmacKey::from_environment().context("cannot get the lake's HMAC key")?;
    let outcome = run_job(lake, Some(key), job, label).await?;
    if let (JobOutcome::SubjectFound(f), Some(path)) = (&outcome, &out) {
        export(f, path)?;
    }
    print_subject(&outcome, json)?;
    if let Some(problem) = outcome.problem() {
        bail!("{problem}");
    }
    Ok(())
}

/// Writes the findings for the requester, raw values included, as JSON or CSV by extension.
fn export(f: &Findings, path: &Path) -> Result<()> {
    let text = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => f.export_json(),
        Some("csv") => f.export_csv(),
        _ => bail!("{}: the export is written as .json or .csv", path.display()),
    };
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "findings with the raw values written to {} (for the requester: handle as personal data)",
        path.display()
    );
    Ok(())
}

/// Prints a subject job's outcome: places and counts, or its JSON (which holds no raw value).
pub fn print_subject(outcome: &JobOutcome, json: bool) -> Result<()> {
    match outcome {
        JobOutcome::SubjectFound(f) if json => println!("{}", serde_json::to_string_pretty(f)?),
        JobOutcome::SubjectErased(r) if json => println!("{}", serde_json::to_string_pretty(r)?),
        JobOutcome::SubjectTraced(t) if json => println!("{}", serde_json::to_string_pretty(t)?),
        JobOutcome::SubjectFound(f) => print_findings(f),
        JobOutcome::SubjectErased(r) => print_erase(r),
        JobOutcome::SubjectTraced(t) => print_trace(t),
        other => println!("{}", other.summary()),
    }
    Ok(())
}

/// Lines of a list printed before "… and N more".
const SHOWN: usize = 20;

fn print_findings(f: &Findings) {
    println!("subject (keyed): {}", f.subject.join(", "));
    println!(
        "Bronze: {} lines in {} of {} files read ({} lines){}",
        thousands(f.bronze.len() as u64),
        f.bronze
            .iter()
            .map(|h| &h.file)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        thousands(f.bronze_files_scanned as u64),
        thousands(f.lines_scanned),
        match f.expired_files {
            0 => String::new(),
            n => format!("; {n} expired files are gone"),
        }
    );
    for h in f.bronze.iter().take(SHOWN) {
        println!(
            "  {} line {} [{}] {} {}, from {}",
            h.file,
            h.line,
            h.kinds.join(" "),
            h.tier,
            h.hour.format("%Y-%m-%d %H:00"),
            h.source_file
        );
    }
    more(f.bronze.len());
    println!("quarantine: {} records", f.quarantine.len());
    for h in f.quarantine.iter().take(SHOWN) {
        println!(
            "  {} row {} [{}], from {} line {}",
            h.file,
            h.index,
            h.kinds.join(" "),
            h.source_file,
            h.line
        );
    }
    more(f.quarantine.len());
    for o in &f.originals {
        println!("  damaged original kept whole: {o}");
    }
    println!("Silver: {} rows", f.silver.len());
    for s in f.silver.iter().take(SHOWN) {
        println!(
            "  {} {} {} queue {}",
            s.date,
            s.source_system,
            s.contact_id.as_deref().unwrap_or("(no id)"),
            s.queue_name
                .as_deref()
                .or(s.queue_id.as_deref())
                .unwrap_or("-")
        );
    }
    more(f.silver.len());
    println!("Gold: counted in {} days and queues", f.gold.len());
    for g in f.gold.iter().take(SHOWN) {
        let queue = g
            .queue_name
            .as_deref()
            .or(g.queue_id.as_deref())
            .unwrap_or("-");
        println!("  {} {}", g.date, queue);
    }
    more(f.gold.len());
    println!("CRM extract: {} rows", f.crm.len());
    for c in f.crm.iter().take(SHOWN) {
        println!("  {} line {}", c.source, c.line);
    }
    if f.nothing_in_the_lake() {
        println!("nothing of this person is in the lake");
    }
}

fn more(n: usize) {
    if n > SHOWN {
        println!("  … and {} more", n - SHOWN);
    }
}

fn print_erase(r: &EraseReport) {
    match (&r.erasure, r.applied) {
        (Some(e), true) => {
            println!("erasure {} ({}):", e.id, e.reason);
            println!(
                "  Bronze: {} lines removed, {} files rewritten",
                e.bronze_lines_removed, e.bronze_files_rewritten
            );
            println!(
                "  quarantine: {} records removed, {} damaged originals deleted",
                e.quarantine_rows_removed, e.originals_removed
            );
            println!(
                "  Silver: {} rows deleted, {} dates rebuilt",
                e.silver_rows_removed,
                e.silver_dates.len()
            );
            println!("  Gold: {} dates recomputed", e.gold_dates.len());
            println!(
                "  Delta: {} old data files vacuumed, {} log files removed",
                e.delta_files_vacuumed, e.delta_log_files_removed
            );
            println!("  the audit log records it (_cclake/audit/), without the person's values");
            if let Some(t) = &r.trace {
                print_trace(t);
            }
        }
        (previous, _) => {
            print_findings(&r.found);
            if let Some(p) = previous.as_ref().filter(|p| p.finished_at.is_none()) {
                println!(
                    "an erasure of this person ({}) started {} and is unfinished: --apply finishes it",
                    p.id, p.started_at
                );
            }
            println!("plan only: nothing changed; --apply erases the above");
        }
    }
}

fn print_trace(t: &TraceReport) {
    println!(
        "read every file of the lake: {} files, {}",
        thousands(t.files_scanned as u64),
        crate::format::bytes(t.bytes_scanned)
    );
    if t.hits.is_empty() {
        println!("  none mentions the person");
    }
    for h in &t.hits {
        println!(
            "  STILL THERE: {} {} [{}]",
            h.store,
            h.path,
            h.kinds.join(" ")
        );
    }
}
