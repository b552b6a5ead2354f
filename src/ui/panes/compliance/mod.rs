//! The compliance pane: the masking policy as an editable table with a live preview on real
//! Bronze samples, saving with a reason, the last run's per-column counts, and the audit
//! (which policy produced each Silver partition, the key and its rotations, the policy
//! history, the difference between two versions).

mod audit;
mod editor;

use crate::compliance::policy::PreviewRow;
use crate::compliance::view::{self, ComplianceView};
use crate::lake::Lake;
use crate::silver::masking::PolicyFile;
use crate::ui::pane::{Pane, PaneContext, Reloading, loaded};

#[derive(Default)]
pub struct CompliancePane {
    view: Reloading<ComplianceView>,
    editor: editor::Editor,
    audit: audit::AuditState,
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
        let saved = egui::ScrollArea::vertical()
            .id_salt("compliance")
            .show(ui, |ui| {
                let saved = editor.ui(ui, ctx, lake, view);
                ui.add_space(10.0);
                audit::audit(ui, ctx, view, audit);
                saved
            })
            .inner;
        if saved {
            // The history and the policy in force changed: read them again.
            self.view.invalidate();
        }
    }
}
