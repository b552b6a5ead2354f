//! The overview's state of the pipeline: what needs attention (new quarantine, open drift, the
//! last leak scan, the tables' versions, the last job), the flow from exports to Gold with the
//! counts on each step, and how fresh each source's data is.

use chrono::{DateTime, Utc};

use crate::compliance::scan::{self, ScanRecord};
use crate::format::{ago, thousands};
use crate::lake::Lake;
use crate::lake::delta::{GOLD_DAILY, GOLD_HOURLY, SILVER_CONTACTS, TableStats};
use crate::lake::inventory::Inventory;
use crate::query::freshness::{self, SourceFreshness};
use crate::silver::drift;
use crate::ui::jobs::JobState;
use crate::ui::pane::{AppCommand, PaneContext, PaneId};

/// What the overview reads besides the inventory and Gold.
pub struct Status {
    pub freshness: Vec<SourceFreshness>,
    /// Drift lines (shape, field, kind) still in Silver's drift table, and on how many days.
    pub drift_open: usize,
    pub drift_days: i64,
    pub last_scan: Option<ScanRecord>,
}

pub async fn load(lake: Lake) -> Result<Status, String> {
    let freshness = freshness::freshness(&lake)
        .await
        .map_err(|e| e.to_string())?;
    let drift = drift::report(&lake).await.map_err(|e| e.to_string())?;
    let last_scan = scan::last(&lake).await.map_err(|e| e.to_string())?;
    Ok(Status {
        freshness,
        drift_open: drift.len(),
        drift_days: drift.iter().map(|d| d.days).max().unwrap_or(0),
        last_scan,
    })
}

fn table<'a>(inv: &'a Inventory, name: &str) -> Option<&'a TableStats> {
    inv.tables.iter().find(|t| t.name == name)
}

/// When a table's newest file was written.
fn written(t: &TableStats) -> Option<DateTime<Utc>> {
    t.partitions.iter().map(|p| p.last_modified).max()
}

/// One line of the health block: a mark, the words, and the pane that tells more.
fn line(ui: &mut egui::Ui, ctx: &PaneContext<'_>, ok: Option<bool>, text: String, pane: PaneId) {
    ui.horizontal(|ui| {
        let color = match ok {
            Some(true) => egui::Color32::from_rgb(60, 160, 80),
            Some(false) => ui.visuals().warn_fg_color,
            None => ui.visuals().weak_text_color(),
        };
        let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
        match ok {
            Some(_) => ui.painter().circle_filled(dot.center(), 4.5, color),
            None => (ui.painter()).circle_stroke(dot.center(), 4.0, egui::Stroke::new(1.2, color)),
        };
        if ui.link(text).on_hover_text(pane.label()).clicked() {
            ctx.send(AppCommand::Show(pane));
        }
    });
}

/// What needs attention in the pipeline.
pub fn pipeline_health(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    inv: &Inventory,
    status: Option<&Status>,
    quarantine_seen: Option<u64>,
) {
    let now = Utc::now();
    ui.strong("Pipeline health");
    let q = inv.quarantine_records;
    let new = q.saturating_sub(quarantine_seen.unwrap_or(0));
    let records = |n: u64| match n {
        1 => "1 record".to_string(),
        n => format!("{} records", thousands(n)),
    };
    let words = match (q, new) {
        (0, _) => "nothing in quarantine".to_string(),
        (q, 0) => format!(
            "{} in quarantine, none new since your last look",
            records(q)
        ),
        (q, n) => format!(
            "{} in quarantine, {} new since your last look",
            records(q),
            thousands(n)
        ),
    };
    line(ui, ctx, Some(new == 0), words, PaneId::Quarantine);
    let set_aside = (inv.tables.iter())
        .find(|t| t.name == crate::lake::delta::SILVER_REJECTS)
        .map_or(0, |t| t.rows);
    if set_aside > 0 {
        let words = format!(
            "{} set aside by Silver (could not be built into a contact)",
            records(set_aside)
        );
        line(ui, ctx, Some(false), words, PaneId::Quarantine);
    }
    if let Some(s) = status {
        let words = match s.drift_open {
            0 => "no schema drift".to_string(),
            n => format!(
                "{n} schema drift observations open, seen on up to {} days",
                s.drift_days
            ),
        };
        line(ui, ctx, Some(s.drift_open == 0), words, PaneId::Drift);
        let (ok, words) = match &s.last_scan {
            None => (None, "no leak scan run yet".to_string()),
            Some(r) if r.report.clean() => (
                Some(true),
                format!(
                    "last leak scan clean, {} ({} values)",
                    ago(r.at, now),
                    thousands(r.report.values_scanned)
                ),
            ),
            Some(r) => (
                Some(false),
                format!(
                    "last leak scan found {} leaks, {}",
                    r.report.findings.len(),
                    ago(r.at, now)
                ),
            ),
        };
        line(ui, ctx, ok, words, PaneId::Compliance);
    }
    let version = |name| {
        table(inv, name)
            .and_then(|t| Some((t.version?, written(t))))
            .map(|(v, w)| match w {
                Some(w) => format!("v{v} ({})", ago(w, now)),
                None => format!("v{v}"),
            })
            .unwrap_or_else(|| "not built".into())
    };
    let words = format!(
        "Silver {} · Gold daily {} · hourly {}",
        version(SILVER_CONTACTS),
        version(GOLD_DAILY),
        version(GOLD_HOURLY)
    );
    line(ui, ctx, None, words, PaneId::Browser);
    let (ok, words) = match ctx.jobs.history.last() {
        None => (None, "no job run from this window yet".to_string()),
        Some(j) => {
            let when = j.started_at.unwrap_or(j.queued_at);
            let (ok, state) = match &j.state {
                JobState::Queued => (None, "queued".to_string()),
                JobState::Running => (None, "running".to_string()),
                JobState::Done(s) => (Some(true), s.clone()),
                JobState::Failed(e) => (Some(false), format!("failed: {e}")),
                JobState::Cancelled(s) => (Some(false), s.clone()),
            };
            (
                ok,
                format!("last job: {}, {}: {state}", j.kind.label(), ago(when, now)),
            )
        }
    };
    line(ui, ctx, ok, words, PaneId::Jobs);
}

/// Exports → Bronze → Silver → Gold, with what each step carried.
pub fn flow(ui: &mut egui::Ui, inv: &Inventory) {
    let rows = |name| table(inv, name).map(|t| t.rows).unwrap_or(0);
    let kpi_rows = rows(GOLD_DAILY) + rows(GOLD_HOURLY);
    let boxes = [
        (
            "Exports",
            format!("{} files", thousands(inv.ingested_inputs as u64)),
        ),
        (
            "Bronze",
            format!("{} raw records", thousands(inv.ledger_bronze_records)),
        ),
        (
            "Silver",
            format!("{} contacts", thousands(rows(SILVER_CONTACTS))),
        ),
        ("Gold", format!("{} KPI rows", thousands(kpi_rows))),
    ];
    let arrows = [
        format!("{} records read", thousands(inv.records_read)),
        "deduplicated, masked".to_string(),
        "by queue, day, hour".to_string(),
    ];
    let (w, h, gap) = (150.0, 50.0, 170.0);
    let width = 4.0 * w + 3.0 * gap;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, h + 22.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let v = ui.visuals();
    let (fill, stroke) = (v.faint_bg_color, v.widgets.noninteractive.bg_stroke);
    let text = v.text_color();
    let weak = v.weak_text_color();
    for (i, (name, count)) in boxes.iter().enumerate() {
        let left = rect.left() + i as f32 * (w + gap);
        let b = egui::Rect::from_min_size(egui::pos2(left, rect.top()), egui::vec2(w, h));
        painter.rect(b, 6.0, fill, stroke, egui::StrokeKind::Inside);
        let font = |s| egui::FontId::proportional(s);
        painter.text(
            b.center_top() + egui::vec2(0.0, 8.0),
            egui::Align2::CENTER_TOP,
            *name,
            font(15.0),
            text,
        );
        painter.text(
            b.center_bottom() - egui::vec2(0.0, 8.0),
            egui::Align2::CENTER_BOTTOM,
            count,
            font(12.5),
            text,
        );
        let Some(label) = arrows.get(i) else { continue };
        let (from, to) = (
            egui::pos2(b.right() + 6.0, b.center().y),
            egui::pos2(b.right() + gap - 6.0, b.center().y),
        );
        let stroke = egui::Stroke::new(1.5, weak);
        painter.line_segment([from, to], stroke);
        for dy in [-5.0, 5.0] {
            painter.line_segment([to, to + egui::vec2(-8.0, dy)], stroke);
        }
        painter.text(
            egui::pos2((from.x + to.x) / 2.0, b.center().y - 6.0),
            egui::Align2::CENTER_BOTTOM,
            label,
            font(11.5),
            weak,
        );
    }
    if inv.quarantine_records > 0 {
        ui.weak(format!(
            "Of the records read, {} went to quarantine instead of Bronze (they could not be read) and {} were erased for data subjects.",
            thousands(inv.quarantine_records),
            thousands(inv.erased_records)
        ));
    }
}

/// Each source: when it last sent and was ingested, and its contacts per day as bars.
pub fn freshness(ui: &mut egui::Ui, sources: &[SourceFreshness]) {
    if sources.is_empty() {
        return;
    }
    let now = Utc::now();
    ui.strong(format!(
        "Data freshness (contacts per day, last {} days of the lake)",
        freshness::DAYS
    ));
    egui::Grid::new("freshness")
        .striped(true)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            ui.weak("Source");
            ui.weak("Latest contact");
            ui.weak("Last ingest");
            ui.weak("Contacts per day");
            ui.end_row();
            for s in sources {
                ui.label(&s.source);
                let at = |t: Option<DateTime<Utc>>| {
                    t.map(|t| format!("{} ({})", t.format("%Y-%m-%d %H:%M"), ago(t, now)))
                        .unwrap_or_else(|| "–".into())
                };
                ui.label(at(s.latest_occurrence));
                ui.label(at(s.last_ingest));
                ui.horizontal(|ui| {
                    bars(ui, s);
                    match s.silent_days() {
                        0 => {}
                        n => {
                            let words = format!("nothing for the last {n} days");
                            ui.colored_label(ui.visuals().warn_fg_color, words);
                        }
                    }
                });
                ui.end_row();
            }
        });
}

/// A source's contacts per day as small bars, a day's numbers on hover.
fn bars(ui: &mut egui::Ui, s: &SourceFreshness) {
    let (bw, h) = (9.0, 26.0);
    let size = egui::vec2(bw * s.per_day.len() as f32, h);
    let (rect, resp) = ui.allocate_exact_size(size, egui::Sense::hover());
    let max = s.per_day.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f32;
    let painter = ui.painter_at(rect);
    let color = ui.visuals().selection.bg_fill;
    let empty = ui.visuals().weak_text_color();
    for (i, (_, n)) in s.per_day.iter().enumerate() {
        let x = rect.left() + i as f32 * bw;
        let top = rect.bottom() - (*n as f32 / max) * h;
        let bar = egui::Rect::from_min_max(
            egui::pos2(x + 1.0, top.min(rect.bottom() - 1.0)),
            egui::pos2(x + bw - 1.0, rect.bottom()),
        );
        painter.rect_filled(bar, 1.0, if *n == 0 { empty } else { color });
    }
    if let Some(p) = resp.hover_pos() {
        let i = ((p.x - rect.left()) / bw) as usize;
        if let Some((d, n)) = s.per_day.get(i) {
            resp.on_hover_text(format!(
                "{}: {} contacts",
                d.format("%a %Y-%m-%d"),
                thousands(*n as u64)
            ));
        }
    }
}
