//! The two views that show every queue at once without a tangle: small multiples (one small
//! chart per queue on shared axes, worst first) and the queue × hour heatmap. Both are
//! painted directly (a plot widget per cell would cost a frame's budget on a big lake); a
//! hover shows the exact numbers and a click opens the contacts behind a cell.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{ChartSettings, Metric, show_contacts};
use crate::gold::read::KpiRow;
use crate::ui::pane::PaneContext;

/// The cells of small multiples, in points.
const CELL: egui::Vec2 = egui::vec2(250.0, 120.0);

/// Rows by queue, worst first by the metric over all of them (the busiest for contacts).
fn by_queue<'a>(rows: &[&'a KpiRow], metric: Metric) -> Vec<(&'a str, Vec<&'a KpiRow>)> {
    let mut map: BTreeMap<&str, Vec<&KpiRow>> = BTreeMap::new();
    for r in rows {
        map.entry(r.queue_id.as_str()).or_default().push(r);
    }
    let mut queues: Vec<(&str, Vec<&KpiRow>, f64)> = (map.into_iter())
        .map(|(q, rs)| {
            let v = metric.combined(rs.iter().copied()).unwrap_or(f64::NAN);
            let key = match metric.higher_is_better() {
                true => v,
                false => -v,
            };
            (q, rs, key)
        })
        .collect();
    queues.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(b.0)));
    queues.into_iter().map(|(q, rs, _)| (q, rs)).collect()
}

/// The y range every cell shares: 0–100 for percentages, else 0 to the largest value.
fn y_range(rows: &[&KpiRow], metric: Metric) -> (f64, f64) {
    let max = rows
        .iter()
        .filter_map(|r| metric.value(r))
        .fold(0.0, f64::max);
    match metric {
        Metric::ServiceLevel | Metric::AbandonRate | Metric::Fcr => (0.0, 100.0),
        Metric::Csat => (1.0, 5.0),
        _ => (0.0, (max * 1.1).max(1.0)),
    }
}

/// One small chart per queue, shared axes, worst first.
pub(super) fn small_multiples(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    settings: &ChartSettings,
    rows: &[&KpiRow],
    colors: &BTreeMap<String, egui::Color32>,
) {
    let metric = settings.metric;
    let (Some(first), Some(last)) = (
        rows.iter().map(|r| r.date).min(),
        rows.iter().map(|r| r.date).max(),
    ) else {
        ui.weak("no rows in the range");
        return;
    };
    let span = (last - first).num_days().max(1) as f32;
    let (lo, hi) = y_range(rows, metric);
    let queues = by_queue(rows, metric);
    ui.weak(format!(
        "{} queues, worst first; every chart has the same axes ({} … {}, {lo:.0} … {hi:.0}). Click a day for its contacts.",
        queues.len(),
        first.format("%b %d"),
        last.format("%b %d"),
    ));
    let per_row = ((ui.available_width() / (CELL.x + 8.0)) as usize).max(1);
    egui::ScrollArea::vertical()
        .id_salt("small_multiples")
        .show(ui, |ui| {
            egui::Grid::new("small_multiples_grid")
                .spacing([8.0, 8.0])
                .show(ui, |ui| {
                    for (i, (queue, rs)) in queues.iter().enumerate() {
                        let name = rs.first().map(|r| r.queue_name.as_str()).unwrap_or(queue);
                        let name = if name.is_empty() { "(no queue)" } else { name };
                        let color = colors.get(name).copied().unwrap_or(egui::Color32::GRAY);
                        let cell = Cell {
                            rows: rs,
                            metric,
                            first,
                            span,
                            lo,
                            hi,
                            color,
                            target: settings.sl_target_pct,
                        };
                        if let Some(r) = cell.show(ui, name) {
                            show_contacts(ctx, &r.queue_id, r.date, r.date, None);
                        }
                        if (i + 1) % per_row == 0 {
                            ui.end_row();
                        }
                    }
                });
        });
}

/// One queue's small chart.
struct Cell<'a> {
    rows: &'a [&'a KpiRow],
    metric: Metric,
    first: NaiveDate,
    span: f32,
    lo: f64,
    hi: f64,
    color: egui::Color32,
    target: f64,
}

impl Cell<'_> {
    /// Draws the cell; returns the row of the day clicked.
    fn show(&self, ui: &mut egui::Ui, name: &str) -> Option<&KpiRow> {
        let (rect, resp) = ui.allocate_exact_size(CELL, egui::Sense::click());
        let v = ui.visuals();
        let painter = ui.painter_at(rect);
        painter.rect_stroke(
            rect,
            4.0,
            v.widgets.noninteractive.bg_stroke,
            egui::StrokeKind::Inside,
        );
        let overall = self.metric.combined(self.rows.iter().copied());
        let title = match overall {
            Some(o) => format!("{name}  {o:.1}"),
            None => name.to_string(),
        };
        let font = egui::FontId::proportional(12.0);
        painter.text(
            rect.left_top() + egui::vec2(6.0, 4.0),
            egui::Align2::LEFT_TOP,
            title,
            font,
            v.text_color(),
        );
        let plot = egui::Rect::from_min_max(
            rect.left_top() + egui::vec2(6.0, 22.0),
            rect.right_bottom() - egui::vec2(6.0, 6.0),
        );
        let to_screen = |date: NaiveDate, y: f64| {
            let fx = (date - self.first).num_days() as f32 / self.span;
            let fy = ((y - self.lo) / (self.hi - self.lo).max(1e-9)) as f32;
            egui::pos2(
                plot.left() + fx * plot.width(),
                plot.bottom() - fy.clamp(0.0, 1.0) * plot.height(),
            )
        };
        if self.metric == Metric::ServiceLevel {
            let y = to_screen(self.first, self.target).y;
            let stroke = egui::Stroke::new(
                1.0,
                egui::Color32::from_rgb(200, 60, 60).gamma_multiply(0.6),
            );
            painter.line_segment(
                [egui::pos2(plot.left(), y), egui::pos2(plot.right(), y)],
                stroke,
            );
        }
        let points: Vec<(egui::Pos2, &KpiRow)> = (self.rows.iter())
            .filter_map(|r| Some((to_screen(r.date, self.metric.value(r)?), *r)))
            .collect();
        let line: Vec<egui::Pos2> = points.iter().map(|(p, _)| *p).collect();
        painter.add(egui::Shape::line(line, egui::Stroke::new(1.5, self.color)));
        let pointer = resp.hover_pos()?;
        let (p, r) = points.iter().min_by(|a, b| {
            (a.0.x - pointer.x)
                .abs()
                .total_cmp(&(b.0.x - pointer.x).abs())
        })?;
        painter.circle_filled(*p, 3.5, self.color);
        let clicked = resp.clicked();
        resp.on_hover_text_at_pointer(r.hover(self.metric) + "\n(click: the contacts behind it)");
        clicked.then_some(*r)
    }
}

/// A cell of the heatmap: a queue's rows at one hour of the day.
type HeatCells<'a> = BTreeMap<(&'a str, i32), Vec<&'a KpiRow>>;

/// Queues × hours of the day for the range (or one day): the metric recombined per cell,
/// coloured from worst to best.
pub(super) fn heatmap(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    settings: &ChartSettings,
    rows: &[&KpiRow],
    (from, to): (NaiveDate, NaiveDate),
) {
    let metric = settings.metric;
    let mut cells: HeatCells<'_> = BTreeMap::new();
    for r in rows {
        if let Some(h) = r.hour {
            cells.entry((r.queue_id.as_str(), h)).or_default().push(r);
        }
    }
    let queues = by_queue(rows, metric);
    if queues.is_empty() {
        ui.weak("no hourly rows in the range");
        return;
    }
    let values: BTreeMap<(&str, i32), f64> = (cells.iter())
        .filter_map(|(k, rs)| Some((*k, metric.combined(rs.iter().copied())?)))
        .collect();
    let (lo, hi) = match metric {
        Metric::ServiceLevel | Metric::AbandonRate | Metric::Fcr => (0.0, 100.0),
        Metric::Csat => (1.0, 5.0),
        _ => (0.0, values.values().copied().fold(1.0, f64::max)),
    };
    let days = match from == to {
        true => format!("on {}", from.format("%a %Y-%m-%d")),
        false => format!("{from} … {to}, each hour of the day over the range"),
    };
    ui.weak(format!(
        "{} by queue and hour {days}; worst queues on top. Hover for the numbers, click for the contacts{}.",
        metric.label(),
        if from == to { "" } else { " (of every day of the range at that hour)" }
    ));
    let label_w = 170.0;
    let cell_w = ((ui.available_width() - label_w - 10.0) / 24.0).clamp(14.0, 48.0);
    let cell_h = 20.0;
    egui::ScrollArea::vertical().id_salt("heatmap").show(ui, |ui| {
        let size = egui::vec2(label_w + 24.0 * cell_w, (queues.len() + 1) as f32 * cell_h);
        let (rect, resp) = ui.allocate_exact_size(size, egui::Sense::click());
        let painter = ui.painter_at(rect);
        let v = ui.visuals();
        let font = egui::FontId::proportional(11.5);
        for h in 0..24 {
            let x = rect.left() + label_w + (h as f32 + 0.5) * cell_w;
            painter.text(egui::pos2(x, rect.top() + cell_h / 2.0), egui::Align2::CENTER_CENTER, format!("{h:02}"), font.clone(), v.weak_text_color());
        }
        let mut hovered = None;
        for (row, (queue, rs)) in queues.iter().enumerate() {
            let y = rect.top() + (row + 1) as f32 * cell_h;
            let name = rs.first().map(|r| r.queue_name.as_str()).unwrap_or(queue);
            let name = if name.is_empty() { "(no queue)" } else { name };
            painter.text(egui::pos2(rect.left(), y + cell_h / 2.0), egui::Align2::LEFT_CENTER, name, font.clone(), v.text_color());
            for h in 0..24 {
                let cell = egui::Rect::from_min_size(egui::pos2(rect.left() + label_w + h as f32 * cell_w, y), egui::vec2(cell_w - 1.0, cell_h - 1.0));
                let Some(value) = values.get(&(*queue, h)) else {
                    painter.rect_filled(cell, 1.0, v.faint_bg_color);
                    continue;
                };
                let t = ((value - lo) / (hi - lo).max(1e-9)).clamp(0.0, 1.0) as f32;
                let good = match metric {
                    Metric::Contacts => None,
                    m if m.higher_is_better() => Some(t),
                    _ => Some(1.0 - t),
                };
                painter.rect_filled(cell, 1.0, heat_color(good, t));
                if cell_w >= 30.0 {
                    let text = format!("{value:.0}");
                    painter.text(cell.center(), egui::Align2::CENTER_CENTER, text, egui::FontId::proportional(10.0), egui::Color32::BLACK);
                }
                if resp.hover_pos().is_some_and(|p| cell.contains(p)) {
                    painter.rect_stroke(cell, 1.0, egui::Stroke::new(1.5, v.strong_text_color()), egui::StrokeKind::Inside);
                    hovered = Some((*queue, h));
                }
            }
        }
        let Some(key) = hovered else { return };
        let Some(rs) = cells.get(&key) else { return };
        let clicked = resp.clicked();
        let value = metric.combined(rs.iter().copied()).map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into());
        let contacts: i64 = rs.iter().map(|r| r.total).sum();
        let name = rs.first().map(|r| r.queue_name.as_str()).unwrap_or(key.0);
        resp.on_hover_text_at_pointer(format!(
            "{name} at {:02}:00, {} day(s)\n{}: {value}\n{contacts} contacts\n(click: the contacts behind it)",
            key.1,
            rs.len(),
            metric.label()
        ));
        if clicked {
            show_contacts(ctx, key.0, from, to, Some(key.1));
        }
    });
}

/// Red (bad) through amber to green (good) for a KPI; light to dark blue for a volume.
fn heat_color(good: Option<f32>, t: f32) -> egui::Color32 {
    let lerp = |a: (f32, f32, f32), b: (f32, f32, f32), t: f32| {
        let c = |x: f32, y: f32| (x + (y - x) * t) as u8;
        egui::Color32::from_rgb(c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
    };
    match good {
        None => lerp((222.0, 235.0, 247.0), (33.0, 102.0, 172.0), t),
        Some(g) if g < 0.5 => lerp((215.0, 48.0, 39.0), (254.0, 224.0, 139.0), g * 2.0),
        Some(g) => lerp((254.0, 224.0, 139.0), (26.0, 152.0, 80.0), (g - 0.5) * 2.0),
    }
}
