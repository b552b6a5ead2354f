//! The compliance pane: the masking policy as an editable table with a live preview on real
//! Bronze samples, saving with a reason, the last run's per-column counts, and the audit
//! (which policy produced each Silver partition, the policy history, the difference between
//! two versions).

use std::collections::BTreeMap;

use crate::compliance::policy::{self, PolicyVersion, PreviewRow};
use crate::compliance::view::{self, ComplianceView};
use crate::lake::Lake;
use crate::pipeline::{Job, NewKey};
use crate::silver::ProcessMode;
use crate::silver::masking::{Action, ColumnRule, PII_COLUMNS, Policy, PolicyFile, Unvalidated};
use crate::silver::pii::Detector;
use crate::ui::fetch::Fetch;
use crate::ui::jobs::Jobs;

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
pub struct CompliancePane {
    loaded_for: Option<(String, u64)>,
    loading: Option<Fetch<ComplianceView>>,
    data: Option<ComplianceView>,
    /// The policy being edited.
    edit: Option<PolicyFile>,
    preview_of: Option<PolicyFile>,
    preview: Option<Fetch<Vec<PreviewRow>>>,
    reason: String,
    /// Why the key is being rotated (required before the button is enabled).
    rekey_reason: String,
    saving: Option<Fetch<PolicyVersion>>,
    note: Option<Result<String, String>>,
    diff_pick: (usize, usize),
    /// The last policy validated and the outcome.
    validated: Option<(PolicyFile, Result<(), String>)>,
}

fn short(v: &str) -> &str {
    &v[..12.min(v.len())]
}

impl CompliancePane {
    /// The policy being edited (tests drive the editor through it).
    pub fn editing(&mut self) -> Option<&mut PolicyFile> {
        self.edit.as_mut()
    }

    pub fn set_reason(&mut self, reason: &str) {
        self.reason = reason.into();
    }

    /// The latest preview, once computed.
    pub fn preview_rows(&mut self) -> Option<&Vec<PreviewRow>> {
        self.preview.as_mut()?.ok()
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        rt: &tokio::runtime::Handle,
        lake: Option<&Lake>,
        jobs: &mut Jobs,
    ) {
        let Some(lake) = lake else {
            ui.label("Open a lake to review its masking.");
            return;
        };
        let key = (lake.location().to_string(), jobs.generation);
        if self.loaded_for.as_ref() != Some(&key) {
            self.loaded_for = Some(key);
            let l = lake.clone();
            let load = async move { view::load(&l).await.map_err(|e| e.to_string()) };
            self.loading = Some(Fetch::spawn(rt, ui.ctx(), load));
        }
        if let Some(r) = self.loading.as_mut().and_then(|f| f.take()) {
            self.loading = None;
            match r {
                Ok(d) => {
                    if self.edit.is_none() {
                        self.edit = Some(d.file.clone());
                    }
                    self.data = Some(d);
                }
                Err(e) => self.note = Some(Err(e)),
            }
        }
        let Some(data) = &self.data else {
            ui.spinner();
            if let Some(Err(e)) = &self.note {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            return;
        };
        let Some(edit) = self.edit.as_mut() else {
            return;
        };

        egui::ScrollArea::vertical().id_salt("compliance").show(ui, |ui| {
            ui.heading("Masking policy");
            ui.horizontal(|ui| {
                ui.checkbox(&mut edit.enabled, "masking enabled");
                if !edit.enabled {
                    ui.colored_label(ui.visuals().error_fg_color, "PII columns would be stored as they came");
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
            });
            // Detector settings, validated as they are typed; the error sits at the field.
            // Validated once per change, not every frame: it compiles the policy's regexes.
            if self.validated.as_ref().is_none_or(|(f, _)| f != edit) {
                let r = Policy::from_file(edit.clone(), "")
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                self.validated = Some((edit.clone(), r));
            }
            let valid: Result<(), String> = self
                .validated
                .as_ref()
                .map(|(_, r)| r.clone())
                .unwrap_or(Ok(()));
            let field_error = |field: &str| match &valid {
                Err(e) if e.starts_with(field) => Some(e.clone()),
                _ => None,
            };
            egui::Grid::new("detector_settings").num_columns(2).show(ui, |ui| {
                for (label, field, value) in [
                    ("default phone region", "default_region", &mut edit.default_region),
                    ("member id pattern", "member_id_pattern", &mut edit.member_id_pattern),
                    ("account number pattern", "account_number_pattern", &mut edit.account_number_pattern),
                ] {
                    ui.label(label);
                    ui.vertical(|ui| {
                        ui.add(egui::TextEdit::singleline(value).code_editor().desired_width(360.0).id_salt(field));
                        if let Some(e) = field_error(field) {
                            ui.colored_label(ui.visuals().error_fg_color, e);
                        }
                    });
                    ui.end_row();
                }
            });
            ui.add_space(6.0);
            let same_version = data.counts_version == data.current_version;
            egui::Grid::new("rules").striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
                for h in ["column", "detector", "action", "unvalidated values", "last run: masked", "unvalidated kept", "unvalidated redacted"] {
                    ui.strong(h);
                }
                ui.end_row();
                for column in PII_COLUMNS {
                    let rule = edit.columns.entry(column.to_string()).or_insert(ColumnRule {
                        detector: Detector::FreeText,
                        action: Action::Keep,
                        unvalidated: Unvalidated::Keep,
                    });
                    ui.label(*column);
                    egui::ComboBox::from_id_salt(("det", column))
                        .selected_text(rule.detector.as_str())
                        .show_ui(ui, |ui| {
                            for d in DETECTORS {
                                ui.selectable_value(&mut rule.detector, d, d.as_str());
                            }
                        });
                    egui::ComboBox::from_id_salt(("act", column))
                        .selected_text(ACTIONS.iter().find(|(a, _)| *a == rule.action).map(|(_, n)| *n).unwrap_or(""))
                        .show_ui(ui, |ui| {
                            for (a, n) in ACTIONS {
                                ui.selectable_value(&mut rule.action, a, n);
                            }
                        });
                    egui::ComboBox::from_id_salt(("unv", column))
                        .selected_text(match rule.unvalidated {
                            Unvalidated::Keep => "keep",
                            Unvalidated::Redact => "redact",
                        })
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut rule.unvalidated, Unvalidated::Keep, "keep");
                            ui.selectable_value(&mut rule.unvalidated, Unvalidated::Redact, "redact");
                        });
                    // No counts recorded yet (no Silver run since counts were kept): say so
                    // rather than show zeros that read as "nothing masked".
                    match data.counts.get(*column) {
                        Some(c) => {
                            ui.label(crate::format::thousands(c.masked));
                            ui.label(crate::format::thousands(c.unvalidated_kept));
                            ui.label(crate::format::thousands(c.unvalidated_redacted));
                        }
                        None if data.counts.is_empty() => {
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
                    ui.end_row();
                }
            });
            if data.counts.is_empty() {
                ui.weak("Per-column counts appear after the next Silver run (Jobs: process or full rebuild).");
            }
            if !data.counts_version.is_empty() {
                ui.weak(format!(
                    "Counts from the last Silver run (policy {}){}",
                    short(&data.counts_version),
                    if same_version { "" } else { "; the policy has changed since" }
                ));
            }

            // Live preview on real Bronze values, recomputed when the edit changes.
            ui.add_space(8.0);
            ui.heading("Preview on Bronze samples (nothing is saved)");
            match &valid {
                Err(e) => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("not valid: {e}"));
                }
                Ok(_) => {
                    if self.preview_of.as_ref() != Some(edit) {
                        self.preview_of = Some(edit.clone());
                        let (file, samples) = (edit.clone(), data.samples.clone());
                        let key = jobs.key().cloned().map_err(str::to_string);
                        self.preview = Some(Fetch::spawn(rt, ui.ctx(), async move {
                            let key = key?;
                            policy::preview(&file, key, &samples).map_err(|e| e.to_string())
                        }));
                    }
                }
            }
            if let Some(p) = &mut self.preview {
                match p.poll() {
                    None => {
                        ui.spinner();
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    Some(Ok(rows)) => {
                        egui::Grid::new("preview").striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
                            for h in ["column", "raw (from Bronze)", "masked", "verdict"] {
                                ui.strong(h);
                            }
                            ui.end_row();
                            for r in rows {
                                let cut = |s: &str| {
                                    if s.chars().count() > 60 {
                                        format!("{}…", s.chars().take(60).collect::<String>())
                                    } else {
                                        s.to_string()
                                    }
                                };
                                ui.label(&r.column);
                                ui.label(egui::RichText::new(cut(&r.raw)).monospace());
                                ui.label(egui::RichText::new(cut(&r.masked)).monospace());
                                ui.label(&r.verdict);
                                ui.end_row();
                            }
                        });
                    }
                }
            }

            // Save with a reason; then offer to re-derive Silver and Gold.
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                ui.label("Reason for the change");
                ui.add(egui::TextEdit::singleline(&mut self.reason).desired_width(420.0).hint_text("required, kept in the audit history"));
                let can = valid.is_ok() && self.saving.is_none();
                if ui.add_enabled(can, egui::Button::new("Save policy")).clicked() {
                    let (l, f, r) = (lake.clone(), edit.clone(), self.reason.clone());
                    self.saving = Some(Fetch::spawn(rt, ui.ctx(), async move {
                        policy::save(&l, &f, &r).await.map_err(|e| e.to_string())
                    }));
                }
            });
            if let Some(s) = &mut self.saving
                && let Some(r) = s.poll()
            {
                self.note = Some(r.clone().map(|v| format!("saved policy {} ({})", short(&v.version), v.reason)));
                if r.is_ok() {
                    self.reason.clear();
                    // Reload history and counts on the next frame.
                    self.loaded_for = None;
                }
                self.saving = None;
            }
            match &self.note {
                Some(Ok(n)) => {
                    ui.horizontal(|ui| {
                        ui.label(n);
                        if ui.button("Re-derive Silver and Gold under it (full rebuild)").clicked() {
                            jobs.submit(Job::Process(ProcessMode::Full), lake);
                        }
                    });
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                None => {}
            }

            // Audit.
            ui.add_space(10.0);
            ui.heading("Audit");
            ui.label("Which policy produced each Silver partition (from _policy_version):");
            let names: BTreeMap<&str, &str> = data.history.iter().map(|h| (h.version.as_str(), h.reason.as_str())).collect();
            egui::Grid::new("audit_partitions").striped(true).show(ui, |ui| {
                for h in ["date", "policy version", "rows", "written by silver.process at", "reason of that version"] {
                    ui.strong(h);
                }
                ui.end_row();
                for p in &data.partitions {
                    ui.label(&p.date);
                    ui.label(egui::RichText::new(short(&p.policy_version)).monospace());
                    ui.label(crate::format::thousands(p.rows as u64));
                    ui.label(data.written.get(&p.date).map(String::as_str).unwrap_or(""));
                    ui.label(names.get(p.policy_version.as_str()).copied().unwrap_or("(before policy history)"));
                    ui.end_row();
                }
            });
            if ui.button("Export audit CSV…").clicked() {
                let csv = data.audit_csv();
                let _ = Fetch::spawn(rt, ui.ctx(), async move {
                    let Some(f) = rfd::AsyncFileDialog::new().set_file_name("policy_audit.csv").save_file().await else {
                        return Err("cancelled".to_string());
                    };
                    std::fs::write(f.path(), csv).map_err(|e| e.to_string())
                });
            }
            ui.add_space(6.0);
            key_section(ui, data, &mut self.rekey_reason, jobs, lake);
            ui.add_space(6.0);
            ui.label("Policy history:");
            for (i, h) in data.history.iter().enumerate() {
                ui.horizontal(|ui| {
                    ui.radio_value(&mut self.diff_pick.0, i, "");
                    ui.radio_value(&mut self.diff_pick.1, i, "");
                    ui.label(egui::RichText::new(short(&h.version)).monospace());
                    ui.label(h.saved_at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
                    ui.label(&h.reason);
                });
            }
            if data.history.len() >= 2 {
                let (a, b) = self.diff_pick;
                if let (Some(a), Some(b)) = (data.history.get(a), data.history.get(b)) {
                    ui.label(format!("Difference {} to {}:", short(&a.version), short(&b.version)));
                    for line in policy::diff(&a.text, &b.text) {
                        let color = if line.starts_with('+') { egui::Color32::from_rgb(80, 170, 90) } else { ui.visuals().error_fg_color };
                        ui.label(egui::RichText::new(line).monospace().color(color));
                    }
                }
            } else {
                ui.weak("Save the policy to start its history (the policy in force before is recorded too).");
            }
        });
    }
}

/// The key the lake's Silver is masked with (by fingerprint), a deliberate rotation, and the
/// audit log of rotations and erasures.
fn key_section(
    ui: &mut egui::Ui,
    data: &ComplianceView,
    reason: &mut String,
    jobs: &mut Jobs,
    lake: &Lake,
) {
    ui.label("HMAC key:");
    match &data.key {
        Some(k) => {
            ui.horizontal(|ui| {
                ui.label("fingerprint");
                ui.label(egui::RichText::new(short(&k.fingerprint)).monospace());
                ui.weak(format!(
                    "recorded {} from {}",
                    k.recorded_at.format("%Y-%m-%d %H:%M UTC"),
                    k.source
                ));
            });
            if let Some(r) = &k.rotation {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "rotation to {} under way since {} ({}); the next process with the new key finishes it",
                        short(&r.to_fingerprint),
                        r.started_at.format("%Y-%m-%d %H:%M UTC"),
                        r.reason
                    ),
                );
            }
        }
        None => {
            ui.weak("no key recorded yet: the first Silver run records it");
        }
    }
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(reason)
                .desired_width(320.0)
                .hint_text("reason for rotating the key (kept in the audit log)"),
        );
        let can = !reason.trim().is_empty() && !jobs.is_busy() && jobs.key().is_ok();
        if ui
            .add_enabled(can, egui::Button::new("Rotate key…"))
            .on_hover_text(
                "Rebuilds Silver and Gold under a new key: a new key file is generated beside \
                 the current one (kept as .retired-…), or, with CCLAKE_HMAC_KEY set, that \
                 variable's key is adopted.",
            )
            .clicked()
            && let Ok(current) = jobs.key()
        {
            let job = Job::Rekey {
                new: NewKey::for_key(current, false),
                reason: reason.trim().to_string(),
            };
            jobs.submit(job, lake);
            reason.clear();
        }
    });
    if !data.audit.is_empty() {
        ui.label("Audit log:");
        egui::Grid::new("audit_log").striped(true).show(ui, |ui| {
            for h in ["when", "action", "reason", "details"] {
                ui.strong(h);
            }
            ui.end_row();
            for e in &data.audit {
                ui.label(e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
                ui.label(&e.action);
                ui.label(&e.reason);
                let details = e.details.to_string();
                ui.label(
                    egui::RichText::new(if details.len() > 120 {
                        format!("{}…", &details[..details.floor_char_boundary(120)])
                    } else {
                        details
                    })
                    .monospace(),
                );
                ui.end_row();
            }
        });
    }
}
