//! The data subject part of the compliance pane: name a person by what the requester knows,
//! find everywhere the lake holds them (places, never values, on screen), export the findings
//! for the requester (raw values only in that file), erase them after a confirmation, prove
//! nothing is left, and the receipts of past erasures.

use std::collections::BTreeSet;

use crate::compliance::subject::trace::TraceReport;
use crate::compliance::subject::{Findings, Subject};
use crate::compliance::view::ComplianceView;
use crate::lake::erasures::{ErasureState, Phase};
use crate::pipeline::erase::EraseReport;
use crate::pipeline::{Job, JobOutcome};
use crate::ui::jobs::{JobRecord, JobState};
use crate::ui::pane::{PaneContext, Saving};

/// Rows of a findings list shown before "… and N more" (the export has them all).
const SHOWN: usize = 200;

#[derive(Default)]
pub(super) struct SubjectState {
    /// What the officer types: identifiers separated by commas or new lines.
    pub(super) phones: String,
    pub(super) member_ids: String,
    pub(super) emails: String,
    pub(super) customer_keys: String,
    /// The person the last Find was about: the results shown are that job's.
    pub(super) asked: Option<Subject>,
    pub(super) reason: String,
    /// The confirmation dialog is open.
    pub(super) confirming: bool,
    export: Saving,
}

impl SubjectState {
    /// The person as typed.
    pub(super) fn subject(&self) -> Subject {
        Subject {
            phones: split(&self.phones),
            member_ids: split(&self.member_ids),
            emails: split(&self.emails),
            customer_keys: split(&self.customer_keys),
        }
    }
}

fn split(text: &str) -> Vec<String> {
    (text.split([',', ';', '\n']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The newest job about this subject of the kind `pick` matches.
fn latest<'a>(
    ctx: &'a PaneContext<'_>,
    subject: &Subject,
    pick: fn(&Job) -> Option<&Subject>,
) -> Option<&'a JobRecord> {
    ctx.jobs.latest(|j| pick(j) == Some(subject))
}

fn find_of(j: &Job) -> Option<&Subject> {
    match j {
        Job::SubjectFind { subject } => Some(subject),
        _ => None,
    }
}

fn erase_of(j: &Job) -> Option<&Subject> {
    match j {
        Job::SubjectErase { subject, .. } => Some(subject),
        _ => None,
    }
}

fn verify_of(j: &Job) -> Option<&Subject> {
    match j {
        Job::SubjectVerify { subject } => Some(subject),
        _ => None,
    }
}

/// The data subject section, top to bottom.
pub(super) fn subject(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    view: &ComplianceView,
    state: &mut SubjectState,
) {
    ui.heading("Data subject");
    ui.label(
        "Find one person everywhere the lake holds them (access request, GDPR Art. 15) and \
         erase them everywhere (Art. 17). Phones match in any format, tel: and sip: URIs \
         included. Only the export holds the person's values.",
    );
    identifiers(ui, ctx, state);
    if let Some(asked) = state.asked.clone() {
        ui.add_space(6.0);
        let found = latest(ctx, &asked, find_of);
        // An erasure after the search makes its findings history: what was there before.
        let erased_since = latest(ctx, &asked, erase_of).is_some_and(|e| {
            found.is_some_and(|f| e.id > f.id) && matches!(e.state, JobState::Done(_))
        });
        match found {
            Some(_) if erased_since => {
                ui.weak("Erased since the search: what it found is gone from the lake. Find everywhere searches the lake as it is now.");
            }
            Some(rec) => findings_of(ui, ctx, rec, &asked, state),
            None => {
                ui.weak("no search yet");
            }
        }
        erase_result(ui, ctx, &asked);
    }
    ui.add_space(6.0);
    receipts(ui, &view.erasures);
}

fn identifiers(ui: &mut egui::Ui, ctx: &PaneContext<'_>, state: &mut SubjectState) {
    egui::Grid::new("subject_ids")
        .num_columns(2)
        .show(ui, |ui| {
            let fields = [
                (
                    "phone numbers",
                    "+1 555 123 4567, (555) 123-4567, sip:+1…",
                    &mut state.phones,
                ),
                ("member ids", "M-1234567", &mut state.member_ids),
                ("e-mail addresses", "name@example.com", &mut state.emails),
                (
                    "customer keys",
                    "64 hex characters from Silver",
                    &mut state.customer_keys,
                ),
            ];
            for (label, hint, text) in fields {
                ui.label(label);
                ui.add(
                    egui::TextEdit::singleline(text)
                        .desired_width(420.0)
                        .hint_text(hint),
                );
                ui.end_row();
            }
        });
    let subject = state.subject();
    let can = !subject.is_empty() && ctx.jobs.key().is_ok();
    ui.horizontal(|ui| {
        let find = ui.add_enabled(can, egui::Button::new("Find everywhere"));
        if find.clicked() {
            ctx.submit(Job::SubjectFind {
                subject: subject.clone(),
            });
            state.asked = Some(subject);
            state.confirming = false;
        }
        if let Err(e) = ctx.jobs.key() {
            let text = format!("no key ({e}): the keyed identifiers cannot be computed");
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
    });
}

/// The last search's state or its findings.
fn findings_of(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    rec: &JobRecord,
    asked: &Subject,
    state: &mut SubjectState,
) {
    match (&rec.state, rec.outcome.as_deref()) {
        (JobState::Queued | JobState::Running, _) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(
                    "searching every Bronze file, quarantine, Silver, Gold and the CRM extract…",
                );
            });
        }
        (JobState::Failed(e) | JobState::Cancelled(e), _) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("search failed: {e}"));
        }
        (JobState::Done(_), Some(JobOutcome::SubjectFound(f))) => {
            findings(ui, f);
            actions(ui, ctx, f, asked, state);
        }
        (JobState::Done(summary), _) => {
            ui.label(summary);
        }
    }
}

fn findings(ui: &mut egui::Ui, f: &Findings) {
    let files: BTreeSet<&str> = f.bronze.iter().map(|h| h.file.as_str()).collect();
    ui.label(format!(
        "Searched {} Bronze files ({} lines){}.",
        f.bronze_files_scanned,
        crate::format::thousands(f.lines_scanned),
        match f.expired_files {
            0 => String::new(),
            n => format!("; {n} files expired by lifecycle are gone"),
        }
    ));
    if f.nothing_in_the_lake() {
        ui.strong("Nothing of this person is in the lake.");
    }
    let title = format!("Bronze: {} lines in {} files", f.bronze.len(), files.len());
    section(ui, "subject_bronze", title, |ui| {
        for h in [
            "file",
            "line",
            "found",
            "hour (UTC)",
            "tier",
            "ingested from",
        ] {
            ui.strong(h);
        }
        ui.end_row();
        for h in f.bronze.iter().take(SHOWN) {
            ui.label(egui::RichText::new(&h.file).monospace().small());
            ui.label(h.line.to_string());
            ui.label(h.kinds.join(" "));
            ui.label(h.hour.format("%Y-%m-%d %H:00").to_string());
            ui.label(&h.tier);
            ui.label(egui::RichText::new(&h.source_file).small());
            ui.end_row();
        }
    });
    let title = format!(
        "Quarantine: {} records, {} damaged originals",
        f.quarantine.len(),
        f.originals.len()
    );
    section(ui, "subject_quarantine", title, |ui| {
        for h in ["file", "row", "found", "from", "line"] {
            ui.strong(h);
        }
        ui.end_row();
        for h in f.quarantine.iter().take(SHOWN) {
            ui.label(egui::RichText::new(&h.file).monospace().small());
            ui.label(h.index.to_string());
            ui.label(h.kinds.join(" "));
            ui.label(egui::RichText::new(&h.source_file).small());
            ui.label(h.line.to_string());
            ui.end_row();
        }
        for o in &f.originals {
            ui.label(egui::RichText::new(o).monospace().small());
            ui.label("whole input");
            ui.end_row();
        }
    });
    let title = format!("Silver: {} contacts", f.silver.len());
    section(ui, "subject_silver", title, |ui| {
        for h in ["date", "system", "contact id", "queue", "occurred at"] {
            ui.strong(h);
        }
        ui.end_row();
        for s in f.silver.iter().take(SHOWN) {
            ui.label(s.date.to_string());
            ui.label(&s.source_system);
            ui.label(s.contact_id.as_deref().unwrap_or("-"));
            ui.label(
                s.queue_name
                    .as_deref()
                    .or(s.queue_id.as_deref())
                    .unwrap_or("-"),
            );
            ui.label(s.occurred_at.format("%Y-%m-%d %H:%M UTC").to_string());
            ui.end_row();
        }
    });
    let title = format!("Gold: counted in {} days and queues", f.gold.len());
    section(ui, "subject_gold", title, |ui| {
        for h in ["date", "queue"] {
            ui.strong(h);
        }
        ui.end_row();
        for g in f.gold.iter().take(SHOWN) {
            ui.label(g.date.to_string());
            ui.label(
                g.queue_name
                    .as_deref()
                    .or(g.queue_id.as_deref())
                    .unwrap_or("-"),
            );
            ui.end_row();
        }
    });
    let title = format!(
        "CRM extract: {} rows (the source system's, not the lake's)",
        f.crm.len()
    );
    section(ui, "subject_crm", title, |ui| {
        for c in f.crm.iter().take(SHOWN) {
            ui.label(egui::RichText::new(&c.source).small());
            ui.label(format!("line {}", c.line));
            ui.end_row();
        }
    });
}

/// A collapsible grid of one place's findings.
fn section(ui: &mut egui::Ui, id: &str, title: String, rows: impl FnOnce(&mut egui::Ui)) {
    egui::CollapsingHeader::new(title)
        .id_salt(id)
        .show(ui, |ui| {
            egui::Grid::new(id).striped(true).show(ui, rows);
        });
}

/// Export for the requester, and the erasure with its confirmation.
fn actions(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    f: &Findings,
    asked: &Subject,
    state: &mut SubjectState,
) {
    ui.horizontal(|ui| {
        for (label, ext) in [
            ("Export for the requester (JSON)…", "json"),
            ("(CSV)…", "csv"),
        ] {
            if ui.button(label).clicked() {
                let text = match ext {
                    "json" => f.export_json(),
                    _ => f.export_csv(),
                };
                state.export.start(ctx.rt, ui.ctx(), save_export(text, ext));
            }
        }
        state.export.ui(ui);
    });
    if f.nothing_in_the_lake() {
        return;
    }
    ui.horizontal(|ui| {
        let hint = "the request's ticket or reference (kept in the audit log)";
        ui.add(
            egui::TextEdit::singleline(&mut state.reason)
                .desired_width(320.0)
                .hint_text(hint),
        );
        let can = !state.reason.trim().is_empty() && !ctx.jobs.is_busy();
        if ui
            .add_enabled(can, egui::Button::new("Erase this person…"))
            .clicked()
        {
            state.confirming = true;
        }
    });
    if state.confirming {
        confirm(ui, ctx, f, asked, state);
    }
}

fn confirm(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    f: &Findings,
    asked: &Subject,
    state: &mut SubjectState,
) {
    let files: BTreeSet<&str> = f.bronze.iter().map(|h| h.file.as_str()).collect();
    let modal = egui::Modal::new(egui::Id::unique("confirm_erase")).show(ui.ctx(), |ui| {
        ui.heading("Erase this person everywhere?");
        ui.label(format!(
            "{} Bronze files are rewritten without {} lines, {} quarantined records and {} \
             damaged originals removed, {} Silver rows deleted and their dates rebuilt, Gold \
             recomputed, and every Delta table vacuumed with zero retention: its time travel \
             to earlier versions is gone. This cannot be undone.",
            files.len(),
            f.bronze.len(),
            f.quarantine.len(),
            f.originals.len(),
            f.silver.len()
        ));
        ui.label(format!("Reason: {}", state.reason.trim()));
        ui.horizontal(|ui| {
            if ui.button("Erase").clicked() {
                ctx.submit(Job::SubjectErase {
                    subject: asked.clone(),
                    reason: state.reason.trim().to_string(),
                    apply: true,
                });
                state.confirming = false;
            }
            if ui.button("Cancel").clicked() {
                state.confirming = false;
            }
        });
    });
    if modal.should_close() {
        state.confirming = false;
    }
}

async fn save_export(text: String, ext: &'static str) -> Result<String, String> {
    let Some(f) = rfd::AsyncFileDialog::new()
        .set_file_name(format!("subject_access_request.{ext}"))
        .save_file()
        .await
    else {
        return Err("export cancelled".to_string());
    };
    std::fs::write(f.path(), text).map_err(|e| format!("{}: {e}", f.path().display()))?;
    Ok(f.path().display().to_string())
}

/// The last erasure and proof of this person, as their jobs report them.
fn erase_result(ui: &mut egui::Ui, ctx: &PaneContext<'_>, asked: &Subject) {
    if let Some(rec) = latest(ctx, asked, erase_of) {
        match (&rec.state, rec.outcome.as_deref()) {
            (JobState::Queued | JobState::Running, _) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("erasing…");
                });
            }
            (JobState::Done(_), Some(JobOutcome::SubjectErased(r))) => erased(ui, r),
            (JobState::Failed(e), Some(JobOutcome::SubjectErased(r))) => {
                erased(ui, r);
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            (JobState::Failed(e) | JobState::Cancelled(e), _) => {
                let text = format!("erasure stopped: {e}. Erase again to finish it.");
                ui.colored_label(ui.visuals().error_fg_color, text);
            }
            (JobState::Done(s), _) => {
                ui.label(s);
            }
        }
    }
    ui.horizontal(|ui| {
        let verify = ui.add_enabled(
            !ctx.jobs.is_busy(),
            egui::Button::new("Read every file for this person"),
        );
        if verify
            .on_hover_text(
                "Reads every file of the lake and its cold store, Delta history included",
            )
            .clicked()
        {
            ctx.submit(Job::SubjectVerify {
                subject: asked.clone(),
            });
        }
        if let Some(rec) = latest(ctx, asked, verify_of)
            && let Some(JobOutcome::SubjectTraced(t)) = rec.outcome.as_deref()
        {
            trace(ui, t);
        }
    });
}

fn erased(ui: &mut egui::Ui, r: &EraseReport) {
    if let Some(e) = &r.erasure {
        ui.strong(format!("Erasure {} done ({}).", e.id, e.reason));
        ui.label(format!(
            "{} Bronze lines removed from {} files, {} quarantined records, {} Silver rows; \
             {} Silver dates rebuilt, {} Gold dates recomputed; {} old Delta files vacuumed.",
            e.bronze_lines_removed,
            e.bronze_files_rewritten,
            e.quarantine_rows_removed,
            e.silver_rows_removed,
            e.silver_dates.len(),
            e.gold_dates.len(),
            e.delta_files_vacuumed
        ));
    }
    if let Some(t) = &r.trace {
        trace(ui, t);
    }
}

fn trace(ui: &mut egui::Ui, t: &TraceReport) {
    let read = format!(
        "{} files of the lake read ({})",
        crate::format::thousands(t.files_scanned as u64),
        crate::format::bytes(t.bytes_scanned)
    );
    match t.hits.is_empty() {
        true => ui.label(format!("{read}: none mentions this person.")),
        false => ui.colored_label(
            ui.visuals().error_fg_color,
            format!(
                "{read}: {} still mention this person: {}",
                t.hits.len(),
                t.hits
                    .iter()
                    .map(|h| h.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
}

/// Every erasure the lake records, as receipts (keyed hashes, never values).
fn receipts(ui: &mut egui::Ui, erasures: &[ErasureState]) {
    if erasures.is_empty() {
        return;
    }
    ui.label("Erasures:");
    egui::Grid::new("erasures").striped(true).show(ui, |ui| {
        for h in [
            "erasure",
            "reason",
            "started",
            "state",
            "Bronze lines",
            "Silver rows",
            "Gold dates",
        ] {
            ui.strong(h);
        }
        ui.end_row();
        for e in erasures {
            ui.label(egui::RichText::new(&e.id).monospace());
            ui.label(&e.reason);
            ui.label(e.started_at.format("%Y-%m-%d %H:%M UTC").to_string());
            match (e.phase, e.finished_at) {
                (Phase::Done, Some(at)) => ui.label(format!("done {}", at.format("%H:%M"))),
                _ => ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "unfinished: search for the person again and erase to finish",
                ),
            };
            ui.label(e.bronze_lines_removed.to_string());
            ui.label(e.silver_rows_removed.to_string());
            ui.label(e.gold_dates.len().to_string());
            ui.end_row();
        }
    });
}
