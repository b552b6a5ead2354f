//! Drawing Gold rows: the daily and hourly charts (one coloured series per queue, the
//! service-level target, the exact numbers on hover), the table view and the CSV export.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use egui_plot::{HLine, Legend, Line, Plot, PlotPoints, Points};

use super::{ChartSettings, Metric, day_x, x_day};
use crate::gold::read::KpiRow;

/// Distinct colours for queues (Tableau 20, the saturated half first).
const PALETTE: [(u8, u8, u8); 20] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (199, 199, 199),
    (219, 219, 141),
    (158, 218, 229),
];

/// Each queue's colour, by its place among all the lake's queues: stable across the daily
/// and hourly charts and across filters.
pub(super) fn queue_colors(queues: &[(String, String)]) -> BTreeMap<String, egui::Color32> {
    queues
        .iter()
        .enumerate()
        .map(|(i, (_, name))| {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            (name.clone(), egui::Color32::from_rgb(r, g, b))
        })
        .collect()
}

/// A chart's rows: one series per queue, and each row by (queue, x) for the hover label.
type RowIndex<'a> = (
    BTreeMap<&'a str, Vec<&'a KpiRow>>,
    BTreeMap<(String, i64), &'a KpiRow>,
);

fn index_rows<'a>(rows: &[&'a KpiRow], x: impl Fn(&KpiRow) -> f64) -> RowIndex<'a> {
    let mut series: BTreeMap<&str, Vec<&KpiRow>> = BTreeMap::new();
    let mut by_point = BTreeMap::new();
    for &r in rows {
        series.entry(r.queue_name.as_str()).or_default().push(r);
        by_point.insert((r.queue_name.clone(), x(r) as i64), r);
    }
    (series, by_point)
}

/// The exact value and counts of the point under the pointer.
fn hover_label(
    by_point: &BTreeMap<(String, i64), &KpiRow>,
    metric: Metric,
    pos: &egui_plot::HoverPosition<'_>,
) -> Option<String> {
    match pos {
        egui_plot::HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => by_point
            .get(&(plot_name.to_string(), position.x.round() as i64))
            .map(|r| r.hover(metric)),
        _ => None,
    }
}

/// One line with markers per queue.
fn add_series(
    plot: &mut egui_plot::PlotUi<'_>,
    colors: &BTreeMap<String, egui::Color32>,
    series: &BTreeMap<&str, Vec<&KpiRow>>,
    metric: Metric,
    x: impl Fn(&KpiRow) -> f64,
) {
    for (name, rows) in series {
        let points: Vec<[f64; 2]> = rows
            .iter()
            .filter_map(|r| metric.value(r).map(|v| [x(r), v]))
            .collect();
        let color = color_of(colors, name);
        plot.line(Line::new(*name, PlotPoints::from(points.clone())).color(color));
        plot.add(
            Points::new(*name, PlotPoints::from(points))
                .radius(2.5)
                .color(color),
        );
    }
}

fn color_of(colors: &BTreeMap<String, egui::Color32>, name: &str) -> egui::Color32 {
    colors.get(name).copied().unwrap_or(egui::Color32::GRAY)
}

/// The daily chart; returns the day the user clicked.
pub(super) fn daily_chart(
    ui: &mut egui::Ui,
    colors: &BTreeMap<String, egui::Color32>,
    rows: &[&KpiRow],
    settings: &ChartSettings,
    height: f32,
) -> Option<NaiveDate> {
    let metric = settings.metric;
    let (series, by_point) = index_rows(rows, |r| day_x(r.date));
    let resp = Plot::new("daily_kpi")
        .height(height)
        .legend(Legend::default())
        .x_axis_formatter(|mark, _| {
            x_day(mark.value)
                .map(|d| d.format("%a %b %d").to_string())
                .unwrap_or_default()
        })
        .y_axis_label(metric.label())
        .label_formatter(move |pos| {
            hover_label(&by_point, metric, pos).or_else(|| match pos {
                egui_plot::HoverPosition::Elsewhere { position } => {
                    x_day(position.x).map(|d| d.format("%a %Y-%m-%d").to_string())
                }
                _ => None,
            })
        })
        .show(ui, |plot| {
            add_series(plot, colors, &series, metric, |r| day_x(r.date));
            if metric == Metric::ServiceLevel {
                plot.hline(
                    HLine::new(
                        format!("target {:.0} %", settings.sl_target_pct),
                        settings.sl_target_pct,
                    )
                    .color(egui::Color32::from_rgb(200, 60, 60))
                    .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
            plot.pointer_coordinate()
        });
    if resp.response.clicked()
        && let Some(p) = resp.inner
    {
        return x_day(p.x);
    }
    None
}

pub(super) fn hourly_chart(
    ui: &mut egui::Ui,
    colors: &BTreeMap<String, egui::Color32>,
    rows: &[&KpiRow],
    settings: &ChartSettings,
) {
    let metric = settings.metric;
    // x is the position of the hour in the day (a 25-hour day has 25 positions); the label
    // is the local clock hour.
    let starts: BTreeSet<i64> = rows
        .iter()
        .filter_map(|r| r.hour_start.map(|t| t.timestamp()))
        .collect();
    let first = starts.first().copied().unwrap_or(0);
    let first_hour = rows.first().and_then(|r| r.hour).unwrap_or(0) as i64;
    let x_of = |r: &KpiRow| {
        r.hour_start
            .map(|t| (first_hour + (t.timestamp() - first) / 3600) as f64)
            .unwrap_or(r.hour.unwrap_or(0) as f64)
    };
    let mut labels: BTreeMap<i64, i32> = BTreeMap::new();
    for &r in rows {
        labels.insert(x_of(r) as i64, r.hour.unwrap_or(0));
    }
    let (series, by_point) = index_rows(rows, x_of);
    Plot::new("hourly_kpi")
        .height(ui.available_height().max(150.0))
        .legend(Legend::default())
        .x_axis_formatter(move |mark, _| {
            labels
                .get(&(mark.value.round() as i64))
                .map(|h| format!("{h:02}:00"))
                .unwrap_or_default()
        })
        .y_axis_label(metric.label())
        .label_formatter(move |pos| hover_label(&by_point, metric, pos))
        .show(ui, |plot| {
            add_series(plot, colors, &series, metric, x_of);
            if metric == Metric::ServiceLevel {
                plot.hline(
                    HLine::new("target", settings.sl_target_pct)
                        .color(egui::Color32::from_rgb(200, 60, 60))
                        .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
        });
}

pub(super) fn kpi_table(ui: &mut egui::Ui, rows: &[&KpiRow], metric: Metric, height: f32) {
    use egui_extras::{Column, TableBuilder};
    let headers = [
        "date",
        "hour",
        "queue",
        metric.label(),
        "contacts",
        "answered",
        "abandoned",
        "short",
        "AHT s",
        "ASA s",
        "SL %",
        "abandon %",
        "FCR %",
        "CSAT",
        "surveys",
    ];
    let f = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    TableBuilder::new(ui)
        .striped(true)
        .resizable(true)
        .max_scroll_height(height.max(100.0))
        .columns(
            Column::initial(90.0).at_least(40.0).clip(true),
            headers.len(),
        )
        .header(20.0, |mut h| {
            for t in headers {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|body| {
            body.rows(18.0, rows.len(), |mut row| {
                let r = rows[row.index()];
                let cells = [
                    r.date.to_string(),
                    r.hour.map(|h| format!("{h:02}:00")).unwrap_or_default(),
                    r.queue_name.clone(),
                    f(metric.value(r)),
                    r.total.to_string(),
                    r.answered.to_string(),
                    r.abandoned.to_string(),
                    r.short.to_string(),
                    f(r.aht),
                    f(r.asa),
                    f(r.sl),
                    f(r.abandon_rate),
                    f(r.fcr),
                    f(r.csat),
                    r.csat_n.to_string(),
                ];
                for c in cells {
                    row.col(|ui| {
                        ui.label(c);
                    });
                }
            });
        });
}

/// Asks where to save (rfd, off the UI thread) and writes the rows as CSV.
pub(super) async fn export_csv(rows: Vec<KpiRow>, name: &'static str) -> Result<String, String> {
    let Some(file) = rfd::AsyncFileDialog::new()
        .set_file_name(name)
        .add_filter("CSV", &["csv"])
        .save_file()
        .await
    else {
        return Err("export cancelled".into());
    };
    let path = file.path().to_path_buf();
    write_csv(&path, &rows).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

/// The shown rows as CSV.
pub fn write_csv(path: &std::path::Path, rows: &[KpiRow]) -> std::io::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        w,
        "date,hour,queue_id,queue_name,total_contacts,answered_contacts,abandoned_contacts,short_abandoned_contacts,answered_within_sl,avg_duration_sec,avg_wait_sec,service_level_pct,abandon_rate_pct,fcr_eligible_contacts,fcr_resolved_contacts,fcr_rate_pct,customer_satisfaction_avg,csat_responses"
    )?;
    let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for r in rows {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.date,
            r.hour.map(|h| h.to_string()).unwrap_or_default(),
            q(&r.queue_id),
            q(&r.queue_name),
            r.total,
            r.answered,
            r.abandoned,
            r.short,
            r.within_sl,
            f(r.aht),
            f(r.asa),
            f(r.sl),
            f(r.abandon_rate),
            r.fcr_eligible,
            r.fcr_resolved,
            f(r.fcr),
            f(r.csat),
            r.csat_n
        )?;
    }
    w.flush()
}
