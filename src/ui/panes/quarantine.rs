//! The quarantine pane: what ingest could not read, by quarantine file (its input, day and
//! reasons) with each record's line, error and text, and Retry: the records go through
//! today's readers again, into Bronze, and leave the quarantine once committed; what still
//! fails stays with its new error. Below, the records Silver set aside (`silver/rejects`):
//! in Bronze, but not buildable into a contact, each with its Bronze file, line and reason,
//! and Reprocess for their dates once the cause is fixed.

use std::collections::{BTreeMap, BTreeSet};

use crate::bronze::quarantine::{QuarantineRow, list_all};
use crate::lake::Lake;
use crate::pipeline::Job;
use crate::silver::ProcessMode;
use crate::silver::rejects::RejectRow;
use crate::ui::pane::{Pane, PaneContext, Reloading, loaded};

/// Characters of a record's text shown in the list (the whole text is on hover).
const SHOWN_CHARS: usize = 160;
/// Width a reason wraps at, in points.
const REASON_WIDTH: f32 = 520.0;

#[derive(Default)]
pub struct QuarantinePane {
    rows: Reloading<(Vec<QuarantineRow>, Vec<RejectRow>)>,
}

async fn load(lake: Lake) -> Result<(Vec<QuarantineRow>, Vec<RejectRow>), String> {
    let (quarantined, rejected) =
        tokio::join!(list_all(&lake), crate::silver::rejects::list(&lake));
    Ok((
        quarantined.map_err(|e| e.to_string())?,
        rejected.map_err(|e| e.to_string())?,
    ))
}

impl Pane for QuarantinePane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        if ctx.lake.is_none() {
            ui.label("Open a lake to see what ingest quarantined.");
            return;
        }
        let Some((rows, rejects)) = loaded(ui, self.rows.poll(ctx, ui.ctx(), load)) else {
            return;
        };
        egui::ScrollArea::vertical()
            .id_salt("quarantine_pane")
            .show(ui, |ui| {
                quarantined(ui, ctx, rows);
                ui.separator();
                set_aside(ui, ctx, rejects);
            });
    }
}

/// What ingest quarantined, by quarantine file.
fn quarantined(ui: &mut egui::Ui, ctx: &PaneContext<'_>, rows: &[QuarantineRow]) {
    {
        ui.heading("Quarantine");
        ui.label("Records ingest could not read, kept with where they came from and why. Retry sends them through today's readers again (after a reader fix or a new shape): they enter Bronze and leave the quarantine once committed; what still fails stays here with its new error.");
        if rows.is_empty() {
            ui.label("Nothing is quarantined.");
            return;
        }
        let mut by_file: BTreeMap<&str, Vec<&QuarantineRow>> = BTreeMap::new();
        for r in rows {
            by_file.entry(r.file.as_str()).or_default().push(r);
        }
        ui.horizontal(|ui| {
            ui.label(format!(
                "{} records in {} files.",
                rows.len(),
                by_file.len()
            ));
            let busy = ctx.jobs.is_busy();
            if ui
                .add_enabled(!busy, egui::Button::new("Retry all"))
                .clicked()
            {
                ctx.submit(Job::RetryQuarantine {
                    files: None,
                    then_process: true,
                });
            }
        });
        for (file, rows) in &by_file {
            file_section(ui, ctx, file, rows);
        }
    }
}

/// The records Silver set aside, with Reprocess for their dates.
fn set_aside(ui: &mut egui::Ui, ctx: &PaneContext<'_>, rejects: &[RejectRow]) {
    ui.heading("Set aside by Silver");
    ui.label("Records in Bronze that Silver could not build into a contact (not a JSON object, no occurrence time, a mapping that failed). The rest of their date was built; the record stays in Bronze, byte for byte. After a fix, Reprocess rebuilds their dates.");
    if rejects.is_empty() {
        ui.label("Nothing was set aside.");
        return;
    }
    let (Some(first), Some(last)) = (
        rejects.iter().map(|r| r.date).min(),
        rejects.iter().map(|r| r.date).max(),
    ) else {
        return;
    };
    ui.horizontal(|ui| {
        ui.label(format!("{} records, {first} … {last}.", rejects.len()));
        let busy = ctx.jobs.is_busy();
        if ui
            .add_enabled(!busy, egui::Button::new("Reprocess their dates"))
            .clicked()
        {
            ctx.submit(Job::Process(ProcessMode::Range {
                from: first,
                to: last,
            }));
        }
    });
    egui::Grid::new("silver_rejects")
        .striped(true)
        .show(ui, |ui| {
            for h in ["date", "Bronze file", "line", "export", "reason"] {
                ui.strong(h);
            }
            ui.end_row();
            for r in rejects {
                ui.label(r.date.to_string());
                // The file's name; its partition folder and the full path on hover.
                ui.label(egui::RichText::new(file_name(&r.bronze_file)).monospace())
                    .on_hover_text(&r.bronze_file);
                ui.label(r.line.to_string());
                ui.label(file_name(&r.source_file))
                    .on_hover_text(&r.source_file);
                ui.scope(|ui| {
                    ui.set_min_width(REASON_WIDTH);
                    ui.set_max_width(REASON_WIDTH);
                    ui.add(egui::Label::new(&r.reason).wrap());
                });
                ui.end_row();
            }
        });
}

/// One quarantine file: its input, when, why, its records, and its Retry button.
fn file_section(ui: &mut egui::Ui, ctx: &PaneContext<'_>, file: &str, rows: &[&QuarantineRow]) {
    let first = rows[0];
    let reasons: BTreeSet<&str> = rows.iter().map(|r| reason(&r.error)).collect();
    let title = format!(
        "{} — {} records, {}, {}",
        first.source_file,
        rows.len(),
        first.quarantined_at.format("%Y-%m-%d %H:%M UTC"),
        reasons.into_iter().collect::<Vec<_>>().join("; ")
    );
    egui::CollapsingHeader::new(title)
        .id_salt(file)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.weak(file);
                let busy = ctx.jobs.is_busy();
                if ui.add_enabled(!busy, egui::Button::new("Retry")).clicked() {
                    ctx.submit(Job::RetryQuarantine {
                        files: Some([file.to_string()].into()),
                        then_process: true,
                    });
                }
            });
            egui::Grid::new(("quarantine_rows", file))
                .striped(true)
                .show(ui, |ui| {
                    for h in ["line", "error", "text"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for r in rows {
                        ui.label(r.line.to_string());
                        ui.label(&r.error);
                        let text = match (&r.original_copy, r.length) {
                            (Some(copy), _) => format!("(whole input kept as {copy})"),
                            (_, Some(n)) => {
                                format!("({n} bytes at offset {} of the input)", r.byte_offset)
                            }
                            _ => r.raw.chars().take(SHOWN_CHARS).collect(),
                        };
                        ui.label(egui::RichText::new(text).monospace().small())
                            .on_hover_text(&r.raw);
                        ui.end_row();
                    }
                });
        });
}

/// The last part of a path.
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The kind of an error, without its particulars (its first clause).
fn reason(error: &str) -> &str {
    error.split([':', '(']).next().unwrap_or(error).trim()
}
