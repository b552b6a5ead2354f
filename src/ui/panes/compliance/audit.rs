//! The audit half of the compliance pane: which policy built each Silver partition, the key
//! (the lake's record beside the key this app holds) and its rotation, the audit log, the
//! policy history and the difference between two versions.

use std::collections::BTreeMap;

use super::short;
use crate::compliance::policy;
use crate::compliance::view::ComplianceView;
use crate::pipeline::{Job, NewKey};
use crate::ui::pane::{PaneContext, Saving};

#[derive(Default)]
pub(super) struct AuditState {
    /// Why the key is being rotated (required before the button is enabled).
    pub(super) rekey_reason: String,
    /// The two policy versions compared.
    diff_pick: (usize, usize),
    export: Saving,
    evidence: Saving,
}

/// The audit, top to bottom.
pub(super) fn audit(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    view: &ComplianceView,
    state: &mut AuditState,
) {
    ui.heading("Audit");
    ui.label("Which policy produced each Silver partition (from _policy_version):");
    partitions(ui, view);
    ui.horizontal(|ui| {
        if ui.button("Export audit CSV…").clicked() {
            state
                .export
                .start(ctx.rt, ui.ctx(), save_csv(view.audit_csv()));
        }
        state.export.ui(ui);
        if let Some(lake) = ctx.lake
            && ui
                .button("Export evidence pack…")
                .on_hover_text(
                    "One self-contained HTML report for an auditor, with a SHA-256 manifest",
                )
                .clicked()
        {
            state
                .evidence
                .start(ctx.rt, ui.ctx(), save_evidence(lake.clone()));
        }
        state.evidence.ui(ui);
    });
    ui.add_space(6.0);
    key_section(ui, ctx, view, &mut state.rekey_reason);
    audit_log(ui, view);
    ui.add_space(6.0);
    policy_history(ui, view, &mut state.diff_pick);
}

async fn save_evidence(lake: crate::lake::Lake) -> Result<String, String> {
    let pack = crate::compliance::evidence::build(&lake)
        .await
        .map_err(|e| e.to_string())?;
    let Some(dir) = rfd::AsyncFileDialog::new().pick_folder().await else {
        return Err("export cancelled".to_string());
    };
    let report = pack.write(dir.path()).map_err(|e| e.to_string())?;
    Ok(report.display().to_string())
}

async fn save_csv(csv: String) -> Result<String, String> {
    let Some(f) = rfd::AsyncFileDialog::new()
        .set_file_name("policy_audit.csv")
        .save_file()
        .await
    else {
        return Err("export cancelled".to_string());
    };
    std::fs::write(f.path(), csv).map_err(|e| format!("{}: {e}", f.path().display()))?;
    Ok(f.path().display().to_string())
}

/// Each Silver date, the policy it was built under, when, and why that policy was saved.
fn partitions(ui: &mut egui::Ui, view: &ComplianceView) {
    let reasons: BTreeMap<&str, &str> = (view.history.iter())
        .map(|h| (h.version.as_str(), h.reason.as_str()))
        .collect();
    egui::Grid::new("audit_partitions")
        .striped(true)
        .show(ui, |ui| {
            let headers = [
                "date",
                "policy version",
                "rows",
                "written by silver.process at",
                "reason of that version",
            ];
            for h in headers {
                ui.strong(h);
            }
            ui.end_row();
            for p in &view.partitions {
                ui.label(&p.date);
                ui.label(egui::RichText::new(short(&p.policy_version)).monospace());
                ui.label(crate::format::thousands(p.rows as u64));
                ui.label(view.written.get(&p.date).map(String::as_str).unwrap_or(""));
                let reason = reasons.get(p.policy_version.as_str()).copied();
                ui.label(reason.unwrap_or("(before policy history)"));
                ui.end_row();
            }
        });
}

/// The key the lake's Silver is masked with (by fingerprint) beside the key this app holds,
/// a rotation under way, and the button that rotates it on purpose.
fn key_section(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    view: &ComplianceView,
    reason: &mut String,
) {
    ui.label("HMAC key:");
    let app_key = ctx.jobs.key();
    match &view.key {
        Some(k) => {
            ui.horizontal(|ui| {
                ui.label("lake's fingerprint");
                ui.label(egui::RichText::new(short(&k.fingerprint)).monospace());
                let when = k.recorded_at.format("%Y-%m-%d %H:%M UTC");
                ui.weak(format!("recorded {when} from {}", k.source));
            });
            if let Some(r) = &k.rotation {
                let since = r.started_at.format("%Y-%m-%d %H:%M UTC");
                let to = short(&r.to_fingerprint);
                let text = format!(
                    "rotation to {to} under way since {since} ({}); the next process with the new key finishes it",
                    r.reason
                );
                ui.colored_label(ui.visuals().warn_fg_color, text);
            }
        }
        None => {
            ui.weak("no key recorded yet: the first Silver run records it");
        }
    }
    match app_key {
        Ok(key) => {
            let fingerprint = key.fingerprint();
            let matches = view
                .key
                .as_ref()
                .is_none_or(|k| k.fingerprint == fingerprint);
            ui.horizontal(|ui| {
                ui.label("this app's key");
                ui.label(egui::RichText::new(short(&fingerprint)).monospace());
                ui.weak(format!("from {}", key.source()));
                if !matches {
                    let text = "not the lake's key: processing refuses it until the key is rotated";
                    ui.colored_label(ui.visuals().error_fg_color, text);
                }
            });
        }
        Err(e) => {
            let text = format!("this app has no key ({e}): nothing can be masked");
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
    }
    ui.horizontal(|ui| {
        let hint = "reason for rotating the key (kept in the audit log)";
        ui.add(
            egui::TextEdit::singleline(reason)
                .desired_width(320.0)
                .hint_text(hint),
        );
        let can = !reason.trim().is_empty() && !ctx.jobs.is_busy() && app_key.is_ok();
        let button = ui.add_enabled(can, egui::Button::new("Rotate key…"));
        let why = "Rebuilds Silver and Gold under a new key: a new key file is generated beside \
                   the current one (kept as .retired-…), or, with CCLAKE_HMAC_KEY set, that \
                   variable's key is adopted.";
        if button.on_hover_text(why).clicked()
            && let Ok(current) = app_key
        {
            ctx.submit(Job::Rekey {
                new: NewKey::for_key(current, false),
                reason: reason.trim().to_string(),
            });
            reason.clear();
        }
    });
}

/// Key rotations and erasures, as the lake's audit log records them.
fn audit_log(ui: &mut egui::Ui, view: &ComplianceView) {
    if view.audit.is_empty() {
        return;
    }
    ui.label("Audit log:");
    egui::Grid::new("audit_log").striped(true).show(ui, |ui| {
        for h in ["when", "action", "reason", "details"] {
            ui.strong(h);
        }
        ui.end_row();
        for e in &view.audit {
            ui.label(e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
            ui.label(&e.action);
            ui.label(&e.reason);
            let full = e.details.to_string();
            let mut details = full.clone();
            if details.len() > 120 {
                details = format!("{}…", &details[..details.floor_char_boundary(120)]);
            }
            ui.label(egui::RichText::new(details).monospace())
                .on_hover_text(full);
            ui.end_row();
        }
    });
}

/// The saved versions of the policy, and the difference between the two picked.
fn policy_history(ui: &mut egui::Ui, view: &ComplianceView, pick: &mut (usize, usize)) {
    ui.label("Policy history:");
    for (i, h) in view.history.iter().enumerate() {
        ui.horizontal(|ui| {
            ui.radio_value(&mut pick.0, i, "");
            ui.radio_value(&mut pick.1, i, "");
            ui.label(egui::RichText::new(short(&h.version)).monospace());
            ui.label(h.saved_at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
            ui.label(&h.reason);
        });
    }
    if view.history.len() < 2 {
        ui.weak(
            "Save the policy to start its history (the policy in force before is recorded too).",
        );
        return;
    }
    let (Some(a), Some(b)) = (view.history.get(pick.0), view.history.get(pick.1)) else {
        return;
    };
    let (va, vb) = (short(&a.version), short(&b.version));
    ui.label(format!("Difference {va} to {vb}:"));
    for line in policy::diff(&a.text, &b.text) {
        let color = match line.starts_with('+') {
            true => egui::Color32::from_rgb(80, 170, 90),
            false => ui.visuals().error_fg_color,
        };
        ui.label(egui::RichText::new(line).monospace().color(color));
    }
}
