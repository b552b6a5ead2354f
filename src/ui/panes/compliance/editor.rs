//! The policy editor: detector settings validated as they are typed, one rule per PII column
//! beside what the last run did with it, a live preview on Bronze samples, and saving with a
//! reason.

use super::short;
use crate::compliance::policy::{self, PolicyVersion, PreviewRow};
use crate::compliance::view::ComplianceView;
use crate::lake::Lake;
use crate::pipeline::Job;
use crate::silver::ProcessMode;
use crate::silver::masking::{Action, ColumnRule, PII_COLUMNS, Policy, PolicyFile, Unvalidated};
use crate::silver::pii::Detector;
use crate::ui::fetch::Fetch;
use crate::ui::pane::PaneContext;

const DETECTORS: [Detector; 6] = [
    Detector::Phone,
    Detector::Pan,
    Detector::MemberId,
    Detector::AccountNumber,
    Detector::Email,
    Detector::FreeText,
];
const ACTIONS: [(Action, &str); 5] = [
    (Action::Hash, "hash"),
    (Action::Redact, "redact"),
    (Action::MaskLast4, "mask_last4"),
    (Action::Keep, "keep"),
    (Action::Scrub, "scrub"),
];

#[derive(Default)]
pub(super) struct Editor {
    /// The policy being edited.
    pub(super) edit: Option<PolicyFile>,
    /// The last policy validated and the outcome (validating compiles its regexes, so once
    /// per change, not every frame).
    validated: Option<(PolicyFile, Result<(), String>)>,
    preview_of: Option<PolicyFile>,
    preview: Option<Fetch<Vec<PreviewRow>>>,
    pub(super) reason: String,
    saving: Option<Fetch<PolicyVersion>>,
    note: Option<Result<String, String>>,
}

impl Editor {
    pub(super) fn preview_rows(&mut self) -> Option<&Vec<PreviewRow>> {
        self.preview.as_mut()?.ok()
    }

    /// The editor, top to bottom; true when a policy was saved this frame.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &PaneContext<'_>,
        lake: &Lake,
        view: &ComplianceView,
    ) -> bool {
        let Some(edit) = self.edit.as_mut() else {
            return false;
        };
        ui.heading("Masking policy");
        ui.horizontal(|ui| switches(ui, edit));
        if self.validated.as_ref().is_none_or(|(f, _)| f != edit) {
            let r = Policy::from_file(edit.clone(), "");
            self.validated = Some((edit.clone(), r.map(|_| ()).map_err(|e| e.to_string())));
        }
        let valid = (self.validated.as_ref())
            .map(|(_, r)| r.clone())
            .unwrap_or(Ok(()));
        detector_settings(ui, edit, &valid);
        ui.add_space(6.0);
        rules(ui, edit, view);
        ui.add_space(8.0);
        ui.heading("Preview on Bronze samples (nothing is saved)");
        self.preview(ui, ctx, view, &valid);
        ui.add_space(8.0);
        self.save(ui, ctx, lake, &valid)
    }

    /// The live preview on real Bronze values, recomputed when the edit changes.
    fn preview(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &PaneContext<'_>,
        view: &ComplianceView,
        valid: &Result<(), String>,
    ) {
        if let Err(e) = valid {
            ui.colored_label(ui.visuals().error_fg_color, format!("not valid: {e}"));
        } else if let Some(edit) = &self.edit
            && self.preview_of.as_ref() != Some(edit)
        {
            self.preview_of = Some(edit.clone());
            let (file, samples) = (edit.clone(), view.samples.clone());
            let key = ctx.jobs.key().cloned().map_err(str::to_string);
            self.preview = Some(Fetch::spawn(ctx.rt, ui.ctx(), async move {
                policy::preview(&file, key?, &samples).map_err(|e| e.to_string())
            }));
        }
        let Some(p) = &mut self.preview else { return };
        match p.poll() {
            None => {
                ui.spinner();
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            Some(Ok(rows)) => preview_table(ui, rows),
        }
    }

    /// Save with a reason; then the offer to re-derive Silver and Gold. True once saved.
    fn save(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &PaneContext<'_>,
        lake: &Lake,
        valid: &Result<(), String>,
    ) -> bool {
        ui.horizontal(|ui| {
            ui.label("Reason for the change");
            let reason = egui::TextEdit::singleline(&mut self.reason)
                .desired_width(420.0)
                .hint_text("required, kept in the audit history");
            ui.add(reason);
            let can = valid.is_ok() && self.saving.is_none();
            if ui
                .add_enabled(can, egui::Button::new("Save policy"))
                .clicked()
                && let Some(edit) = &self.edit
            {
                let (l, f, r) = (lake.clone(), edit.clone(), self.reason.clone());
                self.saving = Some(Fetch::spawn(ctx.rt, ui.ctx(), async move {
                    policy::save(&l, &f, &r).await.map_err(|e| e.to_string())
                }));
            }
        });
        let mut saved = false;
        if let Some(r) = self.saving.as_mut().and_then(Fetch::take) {
            saved = r.is_ok();
            if saved {
                self.reason.clear();
            }
            let note =
                |v: PolicyVersion| format!("saved policy {} ({})", short(&v.version), v.reason);
            self.note = Some(r.map(note));
            self.saving = None;
        }
        match &self.note {
            Some(Ok(n)) => {
                ui.horizontal(|ui| {
                    ui.label(n);
                    let rebuild = ui.button("Re-derive Silver and Gold under it (full rebuild)");
                    if rebuild.clicked() {
                        ctx.submit(Job::Process(ProcessMode::Full));
                    }
                });
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {}
        }
        saved
    }
}

/// Masking on or off, and the presets.
fn switches(ui: &mut egui::Ui, edit: &mut PolicyFile) {
    ui.checkbox(&mut edit.enabled, "masking enabled");
    if !edit.enabled {
        let warning = "PII columns would be stored as they came";
        ui.colored_label(ui.visuals().error_fg_color, warning);
    }
    ui.separator();
    ui.label("preset");
    for name in ["general", "healthcare", "finance"] {
        if ui.selectable_label(edit.preset == name, name).clicked()
            && let Some(text) = Policy::preset_text(name)
            && let Ok(p) = Policy::parse(text)
        {
            *edit = p.file;
        }
    }
}

/// The detectors' settings; a field's error sits under it.
fn detector_settings(ui: &mut egui::Ui, edit: &mut PolicyFile, valid: &Result<(), String>) {
    let field_error = |field: &str| match valid {
        Err(e) if e.starts_with(field) => Some(e.clone()),
        _ => None,
    };
    egui::Grid::new("detector_settings")
        .num_columns(2)
        .show(ui, |ui| {
            let fields = [
                (
                    "default phone region",
                    "default_region",
                    &mut edit.default_region,
                ),
                (
                    "member id pattern",
                    "member_id_pattern",
                    &mut edit.member_id_pattern,
                ),
                (
                    "account number pattern",
                    "account_number_pattern",
                    &mut edit.account_number_pattern,
                ),
            ];
            for (label, field, value) in fields {
                ui.label(label);
                ui.vertical(|ui| {
                    let text = egui::TextEdit::singleline(value)
                        .code_editor()
                        .desired_width(360.0)
                        .id_salt(field);
                    ui.add(text);
                    if let Some(e) = field_error(field) {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                });
                ui.end_row();
            }
        });
}

/// One rule per PII column, beside what the last Silver run did with the column.
fn rules(ui: &mut egui::Ui, edit: &mut PolicyFile, view: &ComplianceView) {
    egui::Grid::new("rules")
        .striped(true)
        .spacing([14.0, 6.0])
        .show(ui, |ui| {
            let headers = [
                "column",
                "detector",
                "action",
                "unvalidated values",
                "last run: masked",
                "unvalidated kept",
                "unvalidated redacted",
            ];
            for h in headers {
                ui.strong(h);
            }
            ui.end_row();
            for column in PII_COLUMNS {
                let rule = edit
                    .columns
                    .entry(column.to_string())
                    .or_insert(ColumnRule {
                        detector: Detector::FreeText,
                        action: Action::Keep,
                        unvalidated: Unvalidated::Keep,
                    });
                ui.label(*column);
                rule_choices(ui, column, rule);
                last_run_counts(ui, column, view);
                ui.end_row();
            }
        });
    if view.counts.is_empty() {
        ui.weak(
            "Per-column counts appear after the next Silver run (Jobs: process or full rebuild).",
        );
    }
    if !view.counts_version.is_empty() {
        let changed = view.counts_version != view.current_version;
        ui.weak(format!(
            "Counts from the last Silver run (policy {}){}",
            short(&view.counts_version),
            if changed {
                "; the policy has changed since"
            } else {
                ""
            }
        ));
    }
}

/// A column's detector, action and handling of values its detector does not validate.
fn rule_choices(ui: &mut egui::Ui, column: &str, rule: &mut ColumnRule) {
    egui::ComboBox::from_id_salt(("det", column))
        .selected_text(rule.detector.as_str())
        .show_ui(ui, |ui| {
            for d in DETECTORS {
                ui.selectable_value(&mut rule.detector, d, d.as_str());
            }
        });
    let action = ACTIONS.iter().find(|(a, _)| *a == rule.action);
    egui::ComboBox::from_id_salt(("act", column))
        .selected_text(action.map(|(_, n)| *n).unwrap_or(""))
        .show_ui(ui, |ui| {
            for (a, n) in ACTIONS {
                ui.selectable_value(&mut rule.action, a, n);
            }
        });
    let unvalidated = match rule.unvalidated {
        Unvalidated::Keep => "keep",
        Unvalidated::Redact => "redact",
    };
    egui::ComboBox::from_id_salt(("unv", column))
        .selected_text(unvalidated)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut rule.unvalidated, Unvalidated::Keep, "keep");
            ui.selectable_value(&mut rule.unvalidated, Unvalidated::Redact, "redact");
        });
}

/// What the last run did with a column. No counts recorded yet (no Silver run since counts
/// were kept): said so, rather than zeros that read as "nothing masked".
fn last_run_counts(ui: &mut egui::Ui, column: &str, view: &ComplianceView) {
    match view.counts.get(column) {
        Some(c) => {
            ui.label(crate::format::thousands(c.masked));
            ui.label(crate::format::thousands(c.unvalidated_kept));
            ui.label(crate::format::thousands(c.unvalidated_redacted));
        }
        None if view.counts.is_empty() => {
            ui.weak("no run yet");
            ui.weak("-");
            ui.weak("-");
        }
        None => {
            for _ in 0..3 {
                ui.label("0");
            }
        }
    }
}

/// Raw Bronze values beside what the edited policy makes of them.
fn preview_table(ui: &mut egui::Ui, rows: &[PreviewRow]) {
    let cut = |s: &str| {
        if s.chars().count() > 60 {
            format!("{}…", s.chars().take(60).collect::<String>())
        } else {
            s.to_string()
        }
    };
    egui::Grid::new("preview")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in ["column", "raw (from Bronze)", "masked", "verdict"] {
                ui.strong(h);
            }
            ui.end_row();
            for r in rows {
                ui.label(&r.column);
                ui.label(egui::RichText::new(cut(&r.raw)).monospace());
                ui.label(egui::RichText::new(cut(&r.masked)).monospace());
                ui.label(&r.verdict);
                ui.end_row();
            }
        });
}
