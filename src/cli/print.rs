//! What the commands print: one function per summary, in the words and columns the README
//! shows.

use anyhow::Result;

use crate::bronze::{FileOutcome, IngestSummary};
use crate::compliance::scan::ScanReport;
use crate::demo::GenerateSummary;
use crate::format::{bytes, duration, thousands};
use crate::gold::GoldSummary;
use crate::lake::inventory::Inventory;
use crate::pipeline::pull::PullSummary;
use crate::pipeline::{JobOutcome, LayersSummary};
use crate::silver::{self, ProcessSummary};
use crate::{lifecycle, query};

/// What a job did: its summaries, or its JSON with `json` (lifecycle plans, scan reports).
pub fn print_outcome(outcome: &JobOutcome, quiet: bool, json: bool) -> Result<()> {
    match outcome {
        JobOutcome::Lifecycle(plan) if json => println!("{}", serde_json::to_string_pretty(plan)?),
        JobOutcome::Scanned(report) if json => {
            println!("{}", serde_json::to_string_pretty(report)?)
        }
        JobOutcome::Lifecycle(plan) => print_lifecycle(plan),
        JobOutcome::Scanned(report) => print_scan(report),
        JobOutcome::Demo {
            exports,
            generated,
            ingest,
            layers,
        } => {
            println!(
                "generated {} export files in {}",
                generated.total_files(),
                exports.display()
            );
            print_ingest(ingest, quiet);
            print_layers(layers);
        }
        JobOutcome::Ingested { ingest, layers } => {
            print_ingest(ingest, quiet);
            layers.iter().for_each(print_layers);
        }
        JobOutcome::Processed(layers) => print_layers(layers),
        JobOutcome::Retried { layers, .. } => {
            println!("{}", outcome.summary());
            layers.iter().for_each(print_layers);
        }
        JobOutcome::Pulled { pull, layers } => {
            print_pull(pull);
            layers.iter().for_each(print_layers);
        }
        JobOutcome::SubjectFound(_)
        | JobOutcome::SubjectErased(_)
        | JobOutcome::SubjectTraced(_) => super::subject::print_subject(outcome, json)?,
        JobOutcome::Rekeyed { layers, .. } => {
            print_layers(layers);
            println!("the lake's key is rotated; the audit log records it (_cclake/audit/)");
        }
    }
    Ok(())
}

/// Silver's and Gold's summaries.
pub fn print_layers(l: &LayersSummary) {
    print_process(&l.silver);
    print_gold(&l.gold);
}

pub fn print_generate(s: &GenerateSummary, out: &std::path::Path, days: u32) {
    println!(
        "wrote {} files to {}: {} contacts over {} days ({} Genesys, {} CXone, {} Amazon Connect, {} generic), {} agent-state events, {} Connect contact events, {} Connect records delivered again updated, {} open Genesys conversations, plus a late delivery ({} contacts), re-deliveries, {} malformed lines and {} records without a time; CRM extract with {} customers",
        s.total_files(),
        out.display(),
        thousands(s.contacts()),
        days,
        thousands(s.counts.genesys_contacts),
        thousands(s.counts.cxone_contacts),
        thousands(s.counts.connect_contacts),
        thousands(s.counts.generic_contacts),
        thousands(s.counts.agent_state_events),
        thousands(s.counts.contact_events),
        thousands(s.counts.connect_updates),
        s.counts.open_conversations,
        thousands(s.counts.late_contacts),
        s.counts.malformed_lines,
        s.counts.records_without_time,
        thousands(s.counts.crm_rows),
    );
}

pub fn print_pull(s: &PullSummary) {
    println!(
        "Genesys job {}{}: {} pages ({} already in the lake), {} conversations → {} records in Bronze, {} quarantined{}",
        s.job_id,
        if s.resumed { " (resumed)" } else { "" },
        s.pages,
        s.pages_already_ingested,
        thousands(s.conversations),
        thousands(s.bronze_records),
        thousands(s.quarantined),
        if s.rate_limited_waits > 0 {
            format!("; waited out {} rate limits", s.rate_limited_waits)
        } else {
            String::new()
        }
    );
}

pub fn print_scan(report: &ScanReport) {
    println!(
        "scanned {} values in {} columns of {} ({} phone numbers from Bronze checked as unkeyed SHA-256)",
        thousands(report.values_scanned),
        report.columns_scanned,
        report.tables.join(", "),
        thousands(report.bronze_phones as u64)
    );
    println!(
        "not scanned (identifiers): {}",
        report.not_scanned.join(", ")
    );
    if report.clean() {
        println!("no raw PII found");
        return;
    }
    println!(
        "{:<26} {:<16} {:<11} {:<22} {:>7}  example",
        "table", "column", "partition", "kind", "values"
    );
    for f in &report.findings {
        println!(
            "{:<26} {:<16} {:<11} {:<22} {:>7}  {}",
            f.table,
            f.column,
            f.partition,
            f.kind,
            thousands(f.count),
            f.example
        );
    }
}

pub fn print_quarantine(rows: &[crate::bronze::quarantine::QuarantineRow], limit: usize) {
    if rows.is_empty() {
        println!("nothing in quarantine");
        return;
    }
    let skip = rows.len().saturating_sub(limit);
    if skip > 0 {
        println!("({skip} older rows not shown; --limit or --json for all)");
    }
    for r in &rows[skip..] {
        let mut raw: String = r.raw.chars().take(100).collect();
        if r.raw.chars().count() > 100 {
            raw.push('…');
        }
        println!(
            "{}:{} (byte {}), batch {}: {}\n    {raw}",
            r.source_file, r.line, r.byte_offset, r.batch_id, r.error
        );
    }
    println!("{} quarantined records", thousands(rows.len() as u64));
}

pub fn print_gold(g: &GoldSummary) {
    if g.dates.is_empty() {
        println!("Gold: {}", g.reason);
        return;
    }
    let first = g.dates.first().map(|d| d.to_string()).unwrap_or_default();
    let last = g.dates.last().map(|d| d.to_string()).unwrap_or_default();
    println!(
        "Gold: {} dates recomputed ({first} … {last}){}{}; {} daily and {} hourly queue rows, in {}",
        g.dates.len(),
        if g.full_rebuild { ", full rebuild" } else { "" },
        if g.on_cluster {
            ", per-contact query on the cluster"
        } else {
            ""
        },
        thousands(g.daily_rows),
        thousands(g.hourly_rows),
        step_time(g.elapsed_secs)
    );
    println!("  why: {}", g.reason);
}

pub fn print_process(s: &ProcessSummary) {
    if !s.frozen_dates.is_empty() {
        let list: Vec<String> = s.frozen_dates.iter().map(|d| d.to_string()).collect();
        println!(
            "Silver: {} dates frozen, not rebuilt: lifecycle expired part of their Bronze, so \
             their rows stay as built from all of it; records that arrived late in their expired \
             hours stay in Bronze until lifecycle expires them ({})",
            list.len(),
            list.join(", ")
        );
    }
    if s.dates.is_empty() {
        println!("Silver is up to date: no new Bronze data since the last run");
        return;
    }
    let first = s.dates.first().map(|d| d.to_string()).unwrap_or_default();
    let last = s.dates.last().map(|d| d.to_string()).unwrap_or_default();
    println!(
        "Silver: {} dates rebuilt ({first} … {last}); {} records in → {} contacts out ({} duplicates dropped, {} set aside)",
        s.dates.len(),
        thousands(s.rows_in),
        thousands(s.rows_out),
        thousands(s.duplicates_dropped),
        thousands(s.rejected)
    );
    if s.rejected > 0 {
        println!(
            "  {} records could not be read or mapped; each is listed with its Bronze file, line and reason: \
             cclake query \"SELECT * FROM silver_rejects\"",
            thousands(s.rejected)
        );
    }
    if !s.executors.is_empty() {
        let by: Vec<String> = (s.executors.iter())
            .map(|(e, n)| format!("{e} ({n} dates)"))
            .collect();
        println!("  built on the cluster by {}", by.join(", "));
    }
    if s.masking_enabled {
        for (col, n) in &s.masked {
            let spans = if n.spans_scrubbed > 0 {
                format!(", {} spans scrubbed", thousands(n.spans_scrubbed))
            } else {
                String::new()
            };
            println!(
                "  {col:<15} {} masked, unvalidated: {} kept, {} redacted{spans}",
                thousands(n.masked),
                thousands(n.unvalidated_kept),
                thousands(n.unvalidated_redacted)
            );
        }
    } else {
        println!(
            "  masking is DISABLED in _config/masking_policy.toml: PII columns are stored as they came"
        );
    }
    println!(
        "  rescued: {} fields on {} rows; drift: {} observations ({} unmapped statuses); CRM: {} of {} rows matched a customer",
        thousands(s.rescued_fields),
        thousands(s.rows_with_rescued_data),
        thousands(s.drift_observations),
        thousands(s.unmapped_statuses),
        thousands(s.crm_matched),
        thousands(s.rows_out),
    );
    println!(
        "  policy {}, Delta version {}, in {}",
        &s.policy_version[..12.min(s.policy_version.len())],
        s.silver_version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into()),
        step_time(s.elapsed_secs)
    );
}

pub fn print_result(result: &query::QueryResult, limit: usize) -> Result<()> {
    let mut shown = Vec::new();
    let mut left = limit;
    for b in &result.batches {
        if left == 0 {
            break;
        }
        let take = left.min(b.num_rows());
        shown.push(b.slice(0, take));
        left -= take;
    }
    if shown.is_empty() {
        shown.push(arrow::record_batch::RecordBatch::new_empty(
            result.schema.clone(),
        ));
    }
    println!("{}", arrow::util::pretty::pretty_format_batches(&shown)?);
    let total = result.num_rows();
    if total > limit {
        println!(
            "{} rows ({} shown; --limit N for more, --out FILE for all)",
            thousands(total as u64),
            thousands(limit as u64)
        );
    } else {
        println!("{} rows", thousands(total as u64));
    }
    Ok(())
}

pub fn print_lifecycle(plan: &lifecycle::Plan) {
    println!(
        "lifecycle as of {}: cold after {} days, delete after {} days, cold store {}",
        plan.now,
        plan.cold_after_days,
        plan.delete_after_days,
        if plan.cold_store.is_empty() {
            "(not set)"
        } else {
            &plan.cold_store
        }
    );
    if plan.partitions.is_empty() {
        println!("  no Bronze partition is due to move or expire");
    }
    let verb = |a: &lifecycle::Action| match (a, plan.applied) {
        (lifecycle::Action::MoveToCold, false) => "would move to cold",
        (lifecycle::Action::MoveToCold, true) => "moved to cold",
        (lifecycle::Action::Delete, false) => "would delete",
        (lifecycle::Action::Delete, true) => "deleted",
    };
    for p in &plan.partitions {
        let late = if p.late_files > 0 {
            format!(
                ", {} arrived late, after the hour had moved or expired",
                p.late_files
            )
        } else {
            String::new()
        };
        println!(
            "  {:<20} {} ({} days old, {}, {} files, {}{late})",
            verb(&p.action),
            p.partition,
            p.age_days,
            p.tier,
            p.files,
            bytes(p.bytes)
        );
    }
    println!(
        "  {} partitions to cold, {} to delete{}",
        plan.moves(),
        plan.deletes(),
        match plan.late_files() {
            0 => String::new(),
            n => format!("; {n} files among them arrived late"),
        }
    );
    for (table, n) in &plan.vacuum {
        println!(
            "  vacuum {table}: {n} unreferenced files older than {} days {}",
            plan.retention_days,
            if plan.applied { "removed" } else { "to remove" }
        );
    }
    if !plan.applied {
        println!("dry run: nothing changed; run with --apply to carry it out");
    }
}

pub fn print_drift(report: &[silver::drift::DriftSummary]) {
    if report.is_empty() {
        println!("no schema drift recorded (or Silver not built yet: run `cclake process`)");
        return;
    }
    println!(
        "{:<8} {:<28} {:<16} {:>9} {:>5}  {:<16}  {:<16}  example",
        "shape", "field", "kind", "records", "days", "first seen", "last seen"
    );
    for d in report {
        let mut ex = d.example.clone().unwrap_or_default();
        if ex.chars().count() > 40 {
            ex = format!("{}…", ex.chars().take(40).collect::<String>());
        }
        println!(
            "{:<8} {:<28} {:<16} {:>9} {:>5}  {:<16}  {:<16}  {ex}",
            d.shape,
            d.field,
            d.kind,
            thousands(d.count as u64),
            d.days,
            d.first_seen.format("%Y-%m-%d %H:%M"),
            d.last_seen.format("%Y-%m-%d %H:%M"),
        );
    }
}

pub fn print_ingest(s: &IngestSummary, quiet: bool) {
    if s.recovered_files > 0 {
        println!(
            "recovered an interrupted ingest: removed {} partial files; their inputs were ingested again",
            s.recovered_files
        );
    }
    for o in &s.outcomes {
        match o {
            FileOutcome::Ingested(e) if !quiet || e.quarantined > 0 => println!(
                "{}: {} read = {} to Bronze + {} quarantined ({} files, {})",
                e.source_path,
                thousands(e.records),
                thousands(e.bronze_records),
                thousands(e.quarantined),
                e.bronze_files.len(),
                e.format,
            ),
            FileOutcome::AlreadyIngested {
                source_path,
                previous,
                ..
            } => println!(
                "{source_path}: already ingested (same bytes as {} in batch {} at {}); nothing written",
                previous.source_path,
                previous.batch_id,
                previous.ingested_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            FileOutcome::DuplicateInRun {
                source_path,
                same_as,
            } => println!("{source_path}: same bytes as {same_as} in this run; nothing written"),
            FileOutcome::Failed { source_path, error } => {
                eprintln!("error: {source_path}: {error}")
            }
            FileOutcome::Ingested(_) => {}
        }
    }
    for (p, why) in &s.skipped {
        if !quiet {
            println!("{}: skipped, {why}", p.display());
        }
    }
    let rate = s.records() as f64 / s.elapsed_secs.max(1e-9);
    println!(
        "batch {}: {} files ingested, {} already ingested, {} failed; {} records → {} in Bronze ({} partitions, {} files, {}) + {} quarantined, in {} ({}/s)",
        s.batch_id,
        s.ingested().count(),
        s.already_ingested(),
        s.failed(),
        thousands(s.records()),
        thousands(s.bronze_records()),
        thousands(s.partitions() as u64),
        thousands(s.bronze_files() as u64),
        bytes(s.bronze_bytes()),
        thousands(s.quarantined()),
        step_time(s.elapsed_secs),
        thousands(rate as u64),
    );
}

/// A pipeline step's time in a summary line: hundredths under ten seconds, where runs are
/// compared (the app's panes round to tenths).
pub fn step_time(secs: f64) -> String {
    if secs < 10.0 {
        format!("{secs:.2} s")
    } else {
        duration(secs)
    }
}

pub fn print_status(inv: &Inventory, partitions: bool) {
    println!("lake {}", inv.location);
    println!();
    println!("Bronze");
    if inv.bronze.is_empty() {
        println!("  empty: run `cclake ingest FILES…` (or `cclake demo`)");
    } else {
        println!(
            "  {:<16} {:>10} {:>8} {:>12} {:>10}  hours (UTC)",
            "event_type", "partitions", "files", "records", "bytes"
        );
        for e in &inv.bronze {
            println!(
                "  {:<16} {:>10} {:>8} {:>12} {:>10}  {} … {}",
                e.event_type,
                thousands(e.partitions as u64),
                thousands(e.files as u64),
                thousands(e.records),
                bytes(e.bytes),
                e.first_hour.format("%Y-%m-%d %H:00"),
                e.last_hour.format("%Y-%m-%d %H:00"),
            );
        }
        println!(
            "  {:<16} {:>10} {:>8} {:>12} {:>10}",
            "total",
            thousands(inv.partitions.len() as u64),
            thousands(inv.bronze_files() as u64),
            thousands(inv.bronze_records()),
            bytes(inv.bronze_bytes()),
        );
    }
    println!(
        "  quarantine: {} records in {} files ({})",
        thousands(inv.quarantine_records),
        inv.quarantine_files,
        bytes(inv.quarantine_bytes)
    );
    println!(
        "  ledger: {} input files ({}) in {} batches{}",
        thousands(inv.ingested_inputs as u64),
        bytes(inv.input_bytes),
        inv.batches,
        inv.last_ingest
            .map(|t| format!(", last {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
            .unwrap_or_default()
    );
    print_reconciliation(inv);
    if inv.uncommitted_files > 0 {
        println!(
            "  {} files of an unfinished ingest (ignored; the next ingest removes them)",
            inv.uncommitted_files
        );
    }
    if inv.missing_files > 0 {
        println!(
            "  warning: {} ledger files are missing from the store",
            inv.missing_files
        );
    }
    if partitions {
        println!();
        println!(
            "  {:<16} {:<16} {:>6} {:>10} {:>10}",
            "event_type", "hour (UTC)", "files", "records", "bytes"
        );
        for p in &inv.partitions {
            println!(
                "  {:<16} {:<16} {:>6} {:>10} {:>10}",
                p.event_type,
                p.hour.format("%Y-%m-%d %H:00"),
                p.files,
                thousands(p.records),
                bytes(p.bytes)
            );
        }
    }
    for (layer, prefix) in [("Silver", "silver/"), ("Gold", "gold/")] {
        println!();
        println!("{layer}");
        for t in inv.tables.iter().filter(|t| t.name.starts_with(prefix)) {
            match t.version {
                None => println!("  {:<28} not built yet (run `cclake process`)", t.name),
                Some(v) => println!(
                    "  {:<28} {:>9} rows {:>6} files {:>10}  {} dates ({} … {}), version {v}",
                    t.name,
                    thousands(t.rows),
                    t.files,
                    bytes(t.bytes),
                    t.partitions.len(),
                    t.partitions.first().map(|p| p.date.as_str()).unwrap_or("-"),
                    t.partitions.last().map(|p| p.date.as_str()).unwrap_or("-"),
                ),
            }
        }
    }
}

/// Whether the ledger's counts add up, and the data subject erasures done and unfinished.
fn print_reconciliation(inv: &Inventory) {
    let term = |name: &str, n: u64| match n {
        0 => String::new(),
        n => format!(" + {name} {}", thousands(n)),
    };
    println!(
        "  records read {} = Bronze {}{} + quarantined {} + erased {}{}{}{}",
        thousands(inv.records_read),
        thousands(inv.ledger_bronze_records - inv.expired_records.min(inv.ledger_bronze_records)),
        term("expired", inv.expired_records),
        thousands(inv.quarantine_records),
        thousands(inv.erased_records),
        term("retried", inv.retried_records),
        term("lost", inv.lost_records),
        if inv.reconciled() {
            ""
        } else {
            "  (DOES NOT ADD UP)"
        }
    );
    if inv.erasures_done > 0 {
        println!(
            "  data subject erasures: {} done (audit log)",
            inv.erasures_done
        );
    }
    for e in &inv.erasures_unfinished {
        println!(
            "  warning: erasure {} ({}) started {} is unfinished: the lake still holds part of that person; rerun `cclake subject erase … --apply` to finish it",
            e.id,
            e.reason,
            e.started_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
}
