//! KPI charts: one Gold metric per queue over days, with an hourly drill-down for a chosen
//! day. Reads Gold only.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use egui_plot::{HLine, Legend, Line, Plot, PlotPoints, Points};
use serde::{Deserialize, Serialize};

use crate::gold::{self, read::GoldReadError, read::Grain, read::KpiRow, read::Selection};
use crate::lake::Lake;
use crate::ui::fetch::Fetch;

/// The metrics a user can chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    Aht,
    Asa,
    ServiceLevel,
    AbandonRate,
    Fcr,
    Csat,
    Contacts,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::ServiceLevel,
        Metric::Aht,
        Metric::Asa,
        Metric::AbandonRate,
        Metric::Fcr,
        Metric::Csat,
        Metric::Contacts,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Metric::Aht => "AHT (s)",
            Metric::Asa => "ASA (s)",
            Metric::ServiceLevel => "Service level %",
            Metric::AbandonRate => "Abandon %",
            Metric::Fcr => "FCR %",
            Metric::Csat => "CSAT",
            Metric::Contacts => "Contacts",
        }
    }

    fn value(&self, r: &KpiRow) -> Option<f64> {
        match self {
            Metric::Aht => r.aht,
            Metric::Asa => r.asa,
            Metric::ServiceLevel => r.sl,
            Metric::AbandonRate => r.abandon_rate,
            Metric::Fcr => r.fcr,
            Metric::Csat => r.csat,
            Metric::Contacts => Some(r.total as f64),
        }
    }
}

/// What the user chose, kept across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartSettings {
    pub metric: Metric,
    /// Queue ids shown; empty means all.
    pub queues: BTreeSet<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub table_view: bool,
    pub sl_target_pct: f64,
    pub drill_day: Option<NaiveDate>,
}

impl Default for ChartSettings {
    fn default() -> Self {
        ChartSettings {
            metric: Metric::ServiceLevel,
            queues: BTreeSet::new(),
            from: None,
            to: None,
            table_view: false,
            sl_target_pct: 80.0,
            drill_day: None,
        }
    }
}

impl KpiRow {
    fn hover(&self, metric: Metric) -> String {
        let when = match (self.hour, self.hour_start) {
            (Some(h), _) => format!("{} {h:02}:00", self.date.format("%a %Y-%m-%d")),
            _ => self.date.format("%a %Y-%m-%d").to_string(),
        };
        let value = metric
            .value(self)
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "n/a".into());
        format!(
            "{} · {when}\n{}: {value}\n{} contacts: {} answered ({} within SL), {} abandoned ({} short)\nFCR {} of {} · CSAT from {} surveys",
            self.queue_name,
            metric.label(),
            self.total,
            self.answered,
            self.within_sl,
            self.abandoned,
            self.short,
            self.fcr_resolved,
            self.fcr_eligible,
            self.csat_n
        )
    }
}

/// The charts pane.
#[derive(Default)]
pub struct ChartsPane {
    loaded_for: Option<(String, u64)>,
    daily: Option<Fetch<Vec<KpiRow>>>,
    hourly: Option<(NaiveDate, Fetch<Vec<KpiRow>>)>,
    queue_search: String,
    export: Option<Fetch<String>>,
    last_export: Option<Result<String, String>>,
}

/// Gold rows of a grain; none while Gold is not built.
async fn load(lake: Lake, grain: Grain, sel: Selection) -> Result<Vec<KpiRow>, String> {
    match gold::read::rows(&lake, grain, &sel).await {
        Ok(rows) => Ok(rows),
        Err(GoldReadError::NotBuilt { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

fn day_x(d: NaiveDate) -> f64 {
    d.num_days_from_ce() as f64
}

fn x_day(x: f64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(x.round() as i32)
}

fn to_jiff(d: NaiveDate) -> jiff::civil::Date {
    jiff::civil::Date::new(d.year() as i16, d.month() as i8, d.day() as i8).unwrap_or_default()
}

fn from_jiff(d: jiff::civil::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year() as i32, d.month() as u32, d.day() as u32)
}

impl ChartsPane {
    /// The queues the lake's Gold has, by id, with their names.
    pub fn queues(&mut self) -> Vec<(String, String)> {
        let Some(rows) = self.daily.as_mut().and_then(|f| f.ok()) else {
            return Vec::new();
        };
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        for r in rows {
            m.entry(r.queue_id.clone())
                .or_insert_with(|| r.queue_name.clone());
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    }

    pub fn is_loading(&self) -> bool {
        self.daily.as_ref().is_some_and(|f| f.is_loading())
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        rt: &tokio::runtime::Handle,
        lake: Option<&Lake>,
        generation: u64,
        settings: &mut ChartSettings,
    ) {
        let Some(lake) = lake else {
            ui.label("Open a lake to see its KPIs.");
            return;
        };
        let key = (lake.location().to_string(), generation);
        if self.loaded_for.as_ref() != Some(&key) {
            self.loaded_for = Some(key);
            let l = lake.clone();
            self.daily = Some(Fetch::spawn(
                rt,
                ui.ctx(),
                load(l, Grain::Daily, Selection::default()),
            ));
            self.hourly = None;
        }
        let queues = self.queues();
        let colors = queue_colors(&queues);
        let Some(daily) = self.daily.as_mut() else {
            return;
        };
        let rows = match daily.poll() {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("loading Gold…");
                });
                return;
            }
            Some(Err(e)) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("cannot read Gold: {e}"),
                );
                return;
            }
            Some(Ok(rows)) => rows.clone(),
        };
        if rows.is_empty() {
            ui.heading("No Gold KPIs yet");
            ui.label("Gold is built by processing: ingest exports (Jobs pane) or create the demo lake from the Overview.");
            return;
        }
        let (min_d, max_d) = (
            rows.iter().map(|r| r.date).min().unwrap_or_default(),
            rows.iter().map(|r| r.date).max().unwrap_or_default(),
        );

        // Controls.
        ui.horizontal_wrapped(|ui| {
            for m in Metric::ALL {
                if ui
                    .selectable_label(settings.metric == m, m.label())
                    .clicked()
                {
                    settings.metric = m;
                }
            }
            ui.separator();
            let mut from = to_jiff(settings.from.unwrap_or(min_d));
            let mut to = to_jiff(settings.to.unwrap_or(max_d));
            ui.label("From");
            if ui
                .add(
                    egui_extras::DatePickerButton::new(&mut from)
                        .id_salt("kpi_from")
                        .show_icon(false),
                )
                .changed()
            {
                settings.from = from_jiff(from);
            }
            ui.label("to");
            if ui
                .add(
                    egui_extras::DatePickerButton::new(&mut to)
                        .id_salt("kpi_to")
                        .show_icon(false),
                )
                .changed()
            {
                settings.to = from_jiff(to);
            }
            if (settings.from.is_some() || settings.to.is_some())
                && ui.button("All dates").clicked()
            {
                settings.from = None;
                settings.to = None;
            }
            ui.separator();
            ui.selectable_value(&mut settings.table_view, false, "Chart");
            ui.selectable_value(&mut settings.table_view, true, "Table");
        });
        let from = settings.from.unwrap_or(min_d);
        let to = settings.to.unwrap_or(max_d);
        let shown_queue = |q: &str| settings.queues.is_empty() || settings.queues.contains(q);
        let shown: Vec<KpiRow> = rows
            .iter()
            .filter(|r| r.date >= from && r.date <= to && shown_queue(&r.queue_id))
            .cloned()
            .collect();

        egui::Panel::left("kpi_queues")
            .resizable(true)
            .default_size(220.0)
            .show(ui, |ui| {
                ui.strong(format!("Queues ({})", queues.len()));
                ui.add(
                    egui::TextEdit::singleline(&mut self.queue_search).hint_text("search queues"),
                );
                ui.horizontal(|ui| {
                    if ui.small_button("All").clicked() {
                        settings.queues.clear();
                    }
                    if ui.small_button("None").clicked() {
                        settings.queues = [String::from("\u{0}none")].into();
                    }
                });
                egui::ScrollArea::vertical()
                    .id_salt("queue_list")
                    .show(ui, |ui| {
                        let needle = self.queue_search.to_lowercase();
                        for (id, name) in &queues {
                            if !needle.is_empty()
                                && !name.to_lowercase().contains(&needle)
                                && !id.to_lowercase().contains(&needle)
                            {
                                continue;
                            }
                            let mut on = settings.queues.is_empty() || settings.queues.contains(id);
                            if ui
                                .checkbox(&mut on, name)
                                .on_hover_text(format!("queue_id {id}"))
                                .changed()
                            {
                                if settings.queues.is_empty() {
                                    settings.queues =
                                        queues.iter().map(|(q, _)| q.clone()).collect();
                                }
                                settings.queues.remove("\u{0}none");
                                if on {
                                    settings.queues.insert(id.clone());
                                } else {
                                    settings.queues.remove(id);
                                }
                                if settings.queues.len() == queues.len() {
                                    settings.queues.clear();
                                }
                            }
                        }
                    });
            });

        egui::CentralPanel::default_margins().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading(format!(
                    "{} by queue, {} … {}",
                    settings.metric.label(),
                    from,
                    to
                ));
                if ui
                    .button("Export CSV…")
                    .on_hover_text("Save the rows shown (the chosen queues and dates)")
                    .clicked()
                {
                    self.export = Some(export_csv(rt, ui.ctx(), shown.clone(), "kpis_daily.csv"));
                }
                if let Some(f) = &mut self.export
                    && let Some(r) = f.poll()
                {
                    self.last_export = Some(r.clone());
                    self.export = None;
                }
                match &self.last_export {
                    Some(Ok(p)) => {
                        ui.weak(format!("saved {p}"));
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    None => {}
                }
            });
            if settings.metric == Metric::ServiceLevel {
                ui.horizontal(|ui| {
                    ui.label("Service-level target %");
                    ui.add(egui::DragValue::new(&mut settings.sl_target_pct).range(0.0..=100.0));
                });
            }
            let avail = ui.available_height() - 28.0;
            let chart_h = if settings.drill_day.is_some() {
                (avail * 0.5).max(180.0)
            } else {
                avail.max(180.0)
            };
            if settings.table_view {
                ui.push_id("daily_table", |ui| {
                    kpi_table(ui, &shown, settings.metric, chart_h - 20.0);
                });
            } else if let Some(day) = daily_chart(ui, &colors, &shown, settings, chart_h) {
                settings.drill_day = Some(day);
            }
            if let Some(day) = settings.drill_day {
                ui.separator();
                self.hourly_ui(ui, rt, lake, day, settings, &colors);
            } else {
                ui.weak("Click a day in the chart for its hourly breakdown.");
            }
        });
    }

    fn hourly_ui(
        &mut self,
        ui: &mut egui::Ui,
        rt: &tokio::runtime::Handle,
        lake: &Lake,
        day: NaiveDate,
        settings: &mut ChartSettings,
        colors: &BTreeMap<String, egui::Color32>,
    ) {
        if self.hourly.as_ref().is_none_or(|(d, _)| *d != day) {
            let sel = Selection {
                from: Some(day),
                to: Some(day),
                queue_id: None,
            };
            let rows = load(lake.clone(), Grain::Hourly, sel);
            self.hourly = Some((day, Fetch::spawn(rt, ui.ctx(), rows)));
        }
        ui.horizontal(|ui| {
            ui.heading(format!(
                "{} by hour on {}",
                settings.metric.label(),
                day.format("%A %Y-%m-%d")
            ));
            if ui.button("< prev").on_hover_text("previous day").clicked() {
                settings.drill_day = day.pred_opt();
            }
            if ui.button("next >").on_hover_text("next day").clicked() {
                settings.drill_day = day.succ_opt();
            }
            if ui.button("Close").clicked() {
                settings.drill_day = None;
            }
        });
        let Some((_, f)) = self.hourly.as_mut() else {
            return;
        };
        let rows = match f.poll() {
            None => {
                ui.spinner();
                return;
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
            Some(Ok(r)) => r.clone(),
        };
        let rows: Vec<KpiRow> = rows
            .into_iter()
            .filter(|r| settings.queues.is_empty() || settings.queues.contains(&r.queue_id))
            .collect();
        if rows.is_empty() {
            ui.weak("no contacts that day for the chosen queues");
            return;
        }
        if settings.table_view {
            ui.push_id("hourly_table", |ui| {
                kpi_table(ui, &rows, settings.metric, ui.available_height());
            });
        } else {
            hourly_chart(ui, colors, &rows, settings);
        }
    }
}

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
fn queue_colors(queues: &[(String, String)]) -> BTreeMap<String, egui::Color32> {
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

fn index_rows(rows: &[KpiRow], x: impl Fn(&KpiRow) -> f64) -> RowIndex<'_> {
    let mut series: BTreeMap<&str, Vec<&KpiRow>> = BTreeMap::new();
    let mut by_point = BTreeMap::new();
    for r in rows {
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
fn daily_chart(
    ui: &mut egui::Ui,
    colors: &BTreeMap<String, egui::Color32>,
    rows: &[KpiRow],
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

fn hourly_chart(
    ui: &mut egui::Ui,
    colors: &BTreeMap<String, egui::Color32>,
    rows: &[KpiRow],
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
    for r in rows {
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

fn kpi_table(ui: &mut egui::Ui, rows: &[KpiRow], metric: Metric, height: f32) {
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
                let r = &rows[row.index()];
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
fn export_csv(
    rt: &tokio::runtime::Handle,
    ctx: &egui::Context,
    rows: Vec<KpiRow>,
    name: &'static str,
) -> Fetch<String> {
    Fetch::spawn(rt, ctx, async move {
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
    })
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
