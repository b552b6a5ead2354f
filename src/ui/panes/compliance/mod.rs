//! The compliance pane: the masking policy as an editable table with a live preview on real
//! Bronze samples, saving with a reason, the last run's per-column counts, and the audit
//! (which policy produced each Silver partition, the key and its rotations, the policy
//! history, the difference between two versions), and data subject requests (find a person,
//! export, erase, prove).

mod audit;
mod editor;
mod subject;

use crate::compliance::policy::PreviewRow;
use crate::compliance::view::{self, ComplianceView};
use crate::lake::Lake;
use crate::silver::masking::PolicyFile;
use crate::ui::pane::{Pane, PaneContext, Reloading, loaded};

/// The parts of the pane, one shown at a time.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum Part {
    #[default]
    Masking,
    Audit,
    DataSubject,
}

#[derive(Default)]
pub struct CompliancePane {
    part: Part,
    view: Reloading<ComplianceView>,
    editor: editor::Editor,
    audit: audit::AuditState,
    subject: subject::SubjectState,
}

/// The first 12 characters of a version or fingerprint.
fn short(v: &str) -> &str {
    &v[..12.min(v.len())]
}

async fn load(lake: Lake) -> Result<ComplianceView, String> {
    view::load(&lake).await.map_err(|e| e.to_string())
}

impl CompliancePane {
    /// The policy being edited (tests drive the editor through it).
    pub fn editing(&mut self) -> Option<&mut PolicyFile> {
        self.editor.edit.as_mut()
    }

    pub fn set_reason(&mut self, reason: &str) {
        self.editor.reason = reason.into();
    }

    /// Why the key is to be rotated (tests type it through this).
    pub fn set_rekey_reason(&mut self, reason: &str) {
        self.audit.rekey_reason = reason.into();
    }

    /// Shows one part of the pane.
    pub fn show_part(&mut self, part: Part) {
        self.part = part;
    }

    /// Types a data subject's phone numbers (tests drive the Data subject view through it).
    pub fn set_subject_phones(&mut self, phones: &str) {
        self.subject.phones = phones.into();
    }

    /// The reason typed for an erasure.
    pub fn set_erase_reason(&mut self, reason: &str) {
        self.subject.reason = reason.into();
    }

    /// The latest preview, once computed.
    pub fn preview_rows(&mut self) -> Option<&Vec<PreviewRow>> {
        self.editor.preview_rows()
    }
}

impl Pane for CompliancePane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        let Some(lake) = ctx.lake else {
            ui.label("Open a lake to review its masking.");
            return;
        };
        let Some(view) = loaded(ui, self.view.poll(ctx, ui.ctx(), load)) else {
            return;
        };
        let editor = &mut self.editor;
        if editor.edit.is_none() {
            editor.edit = Some(view.file.clone());
        }
        let audit = &mut self.audit;
        let person = &mut self.subject;
        ui.horizontal(|ui| {
            let parts = [
                (Part::Masking, "Masking policy"),
                (Part::Audit, "Audit"),
                (Part::DataSubject, "Data subject"),
            ];
            for (part, label) in parts {
                ui.selectable_value(&mut self.part, part, label);
            }
        });
        ui.separator();
        let part = self.part;
        let saved = egui::ScrollArea::vertical()
            .id_salt("compliance")
            .show(ui, |ui| match part {
                Part::Masking => editor.ui(ui, ctx, lake, view),
                Part::Audit => {
                    audit::audit(ui, ctx, view, audit);
                    false
                }
                Part::DataSubject => {
                    subject::subject(ui, ctx, view, person);
                    false
                }
            })
            .inner;
        if saved {
            // The history and the policy in force changed: read them again.
            self.view.invalidate();
        }
    }
}
