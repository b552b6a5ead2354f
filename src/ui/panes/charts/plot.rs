//! Drawing Gold rows: the daily and hourly charts (one coloured series per queue, the
//! service-level target, the exact numbers on hover), the table view and the CSV export.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use egui_plot::{Bar, BarChart, HLine, Legend, Line, Plot, PlotPoints, Points};

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

/// What a line chart draws: the rows, last week's for the overlay, the queues' colours,
/// and the queue under the pointer on the last frame (drawn on top, the others dimmed).
pub(super) struct Lines<'a> {
    pub rows: &'a [&'a KpiRow],
    pub week_before: &'a [&'a KpiRow],
    pub colors: &'a BTreeMap<String, egui::Color32>,
    pub hovered: Option<String>,
}

/// What the pointer did on a chart.
#[derive(Default)]
pub(super) struct Clicked<'a> {
    /// The day under a click anywhere in the chart.
    pub day: Option<NaiveDate>,
    /// The row of the point clicked.
    pub point: Option<&'a KpiRow>,
    /// The queue whose point is nearest the pointer, when one is near.
    pub hovered: Option<String>,
}

/// Points closer to the pointer than this (in screen points) are under it.
const NEAR: f32 = 12.0;

/// The row whose point is nearest the pointer, within [`NEAR`].
fn nearest<'a>(
    plot: &egui_plot::PlotUi<'_>,
    rows: &[&'a KpiRow],
    metric: Metric,
    x: &impl Fn(&KpiRow) -> f64,
) -> Option<&'a KpiRow> {
    let pointer = plot.ctx().input(|i| i.pointer.latest_pos())?;
    if !plot.response().hovered() {
        return None;
    }
    (rows.iter())
        .filter_map(|r| {
            let v = metric.value(r)?;
            let p = plot.screen_from_plot(egui_plot::PlotPoint::new(x(r), v));
            Some((*r, p.distance(pointer)))
        })
        .filter(|(_, d)| *d <= NEAR)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, _)| r)
}

/// A queue's colour, dimmed when another queue is hovered.
fn shade(lines: &Lines<'_>, name: &str) -> (egui::Color32, f32) {
    let color = color_of(lines.colors, name);
    match lines.hovered.as_deref() {
        Some(h) if h == name => (color, 3.0),
        Some(_) => (color.gamma_multiply(0.25), 1.0),
        None => (color, 1.5),
    }
}

/// One line with markers per queue (the hovered one last, so on top), and the week before
/// dashed.
fn add_series(
    plot: &mut egui_plot::PlotUi<'_>,
    lines: &Lines<'_>,
    metric: Metric,
    x: impl Fn(&KpiRow) -> f64,
) {
    let mut series: BTreeMap<&str, Vec<&KpiRow>> = BTreeMap::new();
    for &r in lines.rows {
        series.entry(r.queue_name.as_str()).or_default().push(r);
    }
    let mut order: Vec<&str> = series.keys().copied().collect();
    if let Some(h) = lines.hovered.as_deref() {
        order.sort_by_key(|n| *n == h);
    }
    let mut before: BTreeMap<&str, Vec<[f64; 2]>> = BTreeMap::new();
    for r in lines.week_before {
        if let Some(v) = metric.value(r) {
            // Drawn at the day a week later, beside that day's value.
            let at = r.date + chrono::Duration::days(7);
            before
                .entry(r.queue_name.as_str())
                .or_default()
                .push([day_x(at), v]);
        }
    }
    for name in order {
        let points: Vec<[f64; 2]> = series[name]
            .iter()
            .filter_map(|r| metric.value(r).map(|v| [x(r), v]))
            .collect();
        let (color, width) = shade(lines, name);
        if let Some(b) = before.remove(name) {
            let label = format!("{name} (week before)");
            let dashed = Line::new(label, PlotPoints::from(b))
                .color(color.gamma_multiply(0.6))
                .width(1.0)
                .style(egui_plot::LineStyle::dashed_dense());
            plot.line(dashed.allow_hover(false));
        }
        plot.line(
            Line::new(name, PlotPoints::from(points.clone()))
                .color(color)
                .width(width),
        );
        plot.add(
            Points::new(name, PlotPoints::from(points))
                .radius(width + 1.0)
                .color(color),
        );
    }
}

fn color_of(colors: &BTreeMap<String, egui::Color32>, name: &str) -> egui::Color32 {
    colors.get(name).copied().unwrap_or(egui::Color32::GRAY)
}

/// Contacts per x under a rate chart (of the hovered queue when one is, else of all shown):
/// a rate over 3 contacts is not a rate over 300.
fn volume_bars(
    ui: &mut egui::Ui,
    id: &str,
    lines: &Lines<'_>,
    x: impl Fn(&KpiRow) -> f64,
    link: egui::Id,
) {
    let mut per_x: BTreeMap<i64, f64> = BTreeMap::new();
    for r in lines.rows {
        if lines.hovered.as_deref().is_none_or(|h| h == r.queue_name) {
            *per_x.entry(x(r) as i64).or_default() += r.total as f64;
        }
    }
    let color = match lines.hovered.as_deref() {
        Some(h) => color_of(lines.colors, h),
        None => ui.visuals().weak_text_color(),
    };
    let bars: Vec<Bar> = (per_x.into_iter())
        .map(|(x, n)| {
            Bar::new(x as f64, n)
                .width(0.7)
                .fill(color.gamma_multiply(0.7))
        })
        .collect();
    let label = match lines.hovered.as_deref() {
        Some(_) => "its contacts".to_string(),
        None => "contacts".to_string(),
    };
    Plot::new(id)
        .height(70.0)
        .link_axis(link, [true, false])
        .show_x(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_drag(false)
        .y_axis_label(label)
        .x_axis_formatter(|_, _| String::new())
        .include_y(0.0)
        .show(ui, |plot| plot.bar_chart(BarChart::new("contacts", bars)));
}

/// The daily chart with its volume bars; what the pointer did on it.
pub(super) fn daily_chart<'a>(
    ui: &mut egui::Ui,
    lines: &Lines<'a>,
    settings: &ChartSettings,
    height: f32,
) -> Clicked<'a> {
    let metric = settings.metric;
    let x = |r: &KpiRow| day_x(r.date);
    let by_point = index_rows(lines.rows, x);
    let link = egui::Id::unique("daily_x");
    let rate = metric != Metric::Contacts;
    let resp = Plot::new("daily_kpi")
        .height(if rate { height - 78.0 } else { height })
        .legend(Legend::default())
        .link_axis(link, [true, false])
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
            let near = nearest(plot, lines.rows, metric, &x);
            add_series(plot, lines, metric, x);
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
            (plot.pointer_coordinate(), near)
        });
    if rate {
        volume_bars(ui, "daily_volume", lines, x, link);
    }
    let (pointer, near) = resp.inner;
    let clicked = resp.response.clicked();
    Clicked {
        day: pointer.filter(|_| clicked).and_then(|p| x_day(p.x)),
        point: near.filter(|_| clicked),
        hovered: near.map(|r| r.queue_name.clone()),
    }
}

/// The hourly chart of one day with its volume bars; what the pointer did on it.
pub(super) fn hourly_chart<'a>(
    ui: &mut egui::Ui,
    lines: &Lines<'a>,
    settings: &ChartSettings,
) -> Clicked<'a> {
    let metric = settings.metric;
    let rows = lines.rows;
    // x is the position of the hour in the day (a 25-hour day has 25 positions); the label
    // is the local clock hour.
    let starts: BTreeSet<i64> = rows
        .iter()
        .filter_map(|r| r.hour_start.map(|t| t.timestamp()))
        .collect();
    let first = starts.first().copied().unwrap_or(0);
    let first_hour = rows.first().and_then(|r| r.hour).unwrap_or(0) as i64;
    let x_of = move |r: &KpiRow| {
        r.hour_start
            .map(|t| (first_hour + (t.timestamp() - first) / 3600) as f64)
            .unwrap_or(r.hour.unwrap_or(0) as f64)
    };
    let mut labels: BTreeMap<i64, i32> = BTreeMap::new();
    for &r in rows {
        labels.insert(x_of(r) as i64, r.hour.unwrap_or(0));
    }
    let by_point = index_rows(rows, x_of);
    let link = egui::Id::unique("hourly_x");
    let rate = metric != Metric::Contacts;
    let height = ui.available_height().max(150.0);
    let resp = Plot::new("hourly_kpi")
        .height(if rate { height - 78.0 } else { height })
        .legend(Legend::default())
        .link_axis(link, [true, false])
        .x_axis_formatter(move |mark, _| {
            labels
                .get(&(mark.value.round() as i64))
                .map(|h| format!("{h:02}:00"))
                .unwrap_or_default()
        })
        .y_axis_label(metric.label())
        .label_formatter(move |pos| hover_label(&by_point, metric, pos))
        .show(ui, |plot| {
            let near = nearest(plot, rows, metric, &x_of);
            add_series(plot, lines, metric, x_of);
            if metric == Metric::ServiceLevel {
                plot.hline(
                    HLine::new("target", settings.sl_target_pct)
                        .color(egui::Color32::from_rgb(200, 60, 60))
                        .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
            near
        });
    if rate {
        volume_bars(ui, "hourly_volume", lines, x_of, link);
    }
    let near = resp.inner;
    Clicked {
        day: None,
        point: near.filter(|_| resp.response.clicked()),
        hovered: near.map(|r| r.queue_name.clone()),
    }
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
            .map(|r| r.hover(metric) + "\n(click: the contacts behind it)"),
        _ => None,
    }
}

/// Each row by (queue, x), for the hover label.
fn index_rows<'a>(
    rows: &[&'a KpiRow],
    x: impl Fn(&KpiRow) -> f64,
) -> BTreeMap<(String, i64), &'a KpiRow> {
    rows.iter()
        .map(|r| ((r.queue_name.clone(), x(r) as i64), *r))
        .collect()
}

/// The rows as a table; the metric's cell of a row opens the contacts behind it (the row
/// clicked is returned).
pub(super) fn kpi_table<'a>(
    ui: &mut egui::Ui,
    rows: &[&'a KpiRow],
    metric: Metric,
    height: f32,
) -> Option<&'a KpiRow> {
    let mut clicked = None;
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
                for (i, c) in cells.into_iter().enumerate() {
                    row.col(|ui| {
                        if i == 3 && !c.is_empty() {
                            let link = ui.link(c).on_hover_text("the contacts behind this number");
                            if link.clicked() {
                                clicked = Some(r);
                            }
                        } else {
                            ui.label(c);
                        }
                    });
                }
            });
        });
    clicked
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
    let q = crate::format::csv_field;
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
