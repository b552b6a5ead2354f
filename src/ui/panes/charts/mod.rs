//! KPI charts: one Gold metric per queue over days, with an hourly drill-down for a chosen
//! day. Reads Gold only (through [`gold::read`]).

mod plot;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::gold::{self, read::GoldReadError, read::Grain, read::KpiRow, read::Selection};
use crate::lake::Lake;
use crate::ui::pane::{AppCommand, Pane, PaneContext, Reloading, Saving, loaded};
use plot::{daily_chart, export_csv, hourly_chart, kpi_table, queue_colors};

pub use plot::write_csv;

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

/// The daily rows, and what the pane derives from them once per load.
struct Daily {
    rows: Vec<KpiRow>,
    /// (queue_id, name), by name.
    queues: Vec<(String, String)>,
    colors: BTreeMap<String, egui::Color32>,
    first: NaiveDate,
    last: NaiveDate,
}

async fn load_daily(lake: Lake) -> Result<Daily, String> {
    let rows = load(lake, Grain::Daily, Selection::default()).await?;
    let mut by_id: BTreeMap<String, String> = BTreeMap::new();
    for r in &rows {
        by_id
            .entry(r.queue_id.clone())
            .or_insert_with(|| r.queue_name.clone());
    }
    let mut queues: Vec<_> = by_id.into_iter().collect();
    queues.sort_by(|a, b| a.1.cmp(&b.1));
    let colors = queue_colors(&queues);
    let first = rows.iter().map(|r| r.date).min().unwrap_or_default();
    let last = rows.iter().map(|r| r.date).max().unwrap_or_default();
    Ok(Daily {
        rows,
        queues,
        colors,
        first,
        last,
    })
}

/// The charts pane.
#[derive(Default)]
pub struct ChartsPane {
    /// What the user chose (saved between runs of the app).
    pub settings: ChartSettings,
    daily: Reloading<Daily>,
    /// The drill-down day's hourly rows, by lake, generation and day.
    hourly: Reloading<Vec<KpiRow>, (String, u64, NaiveDate)>,
    queue_search: String,
    export: Saving,
}

impl ChartsPane {
    pub fn new(settings: ChartSettings) -> Self {
        ChartsPane {
            settings,
            ..Default::default()
        }
    }

    /// The queues the lake's Gold has, by id, with their names.
    pub fn queues(&mut self) -> Vec<(String, String)> {
        self.daily
            .ok()
            .map(|d| d.queues.clone())
            .unwrap_or_default()
    }

    pub fn is_loading(&self) -> bool {
        self.daily.is_loading()
    }
}

impl Pane for ChartsPane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        let Some(lake) = ctx.lake else {
            ui.label("Open a lake to see its KPIs.");
            return;
        };
        let daily = match self.daily.poll(ctx, ui.ctx(), load_daily) {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("loading Gold…");
                });
                return;
            }
            Some(Err(e)) => {
                let e = format!("cannot read Gold: {e}");
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
            Some(Ok(daily)) => daily,
        };
        if daily.rows.is_empty() {
            ui.heading("No Gold KPIs yet");
            ui.label("Gold is built by processing: ingest exports (Jobs pane) or create the demo lake from the Overview.");
            return;
        }
        let settings = &mut self.settings;
        ui.horizontal_wrapped(|ui| controls(ui, settings, daily));
        egui::Panel::left("kpi_queues")
            .resizable(true)
            .default_size(220.0)
            .show(ui, |ui| {
                queue_list(ui, settings, &mut self.queue_search, daily)
            });
        let from = settings.from.unwrap_or(daily.first);
        let to = settings.to.unwrap_or(daily.last);
        let shown: Vec<&KpiRow> = (daily.rows.iter())
            .filter(|r| r.date >= from && r.date <= to && settings.shows(&r.queue_id))
            .collect();
        let mut export = None;
        egui::CentralPanel::default_margins().show(ui, |ui| {
            ui.horizontal(|ui| {
                let metric = settings.metric.label();
                ui.heading(format!("{metric} by queue, {from} … {to}"));
                let button = ui.button("Export CSV…");
                if button
                    .on_hover_text("Save the rows shown (the chosen queues and dates)")
                    .clicked()
                {
                    export = Some(shown.iter().map(|r| (*r).clone()).collect::<Vec<_>>());
                }
                self.export.ui(ui);
            });
            daily_view(ui, settings, &shown, &daily.colors);
            let Some(day) = settings.drill_day else {
                ui.weak("Click a day in the chart for its hourly breakdown.");
                return;
            };
            ui.separator();
            let key = (lake.location().to_string(), ctx.generation, day);
            let sel = Selection {
                from: Some(day),
                to: Some(day),
                queue_id: None,
            };
            let l = lake.clone();
            let hourly = self
                .hourly
                .poll_with(key, ctx.rt, ui.ctx(), || load(l, Grain::Hourly, sel));
            hourly_view(ui, ctx, settings, day, hourly, &daily.colors);
        });
        if let Some(rows) = export {
            let save = export_csv(rows, "kpis_daily.csv");
            self.export.start(ctx.rt, ui.ctx(), save);
        }
    }
}

impl ChartSettings {
    /// Whether a queue is among the ones shown (none chosen: all).
    fn shows(&self, queue_id: &str) -> bool {
        self.queues.is_empty() || self.queues.contains(queue_id)
    }
}

/// The metric, the date range, chart or table.
fn controls(ui: &mut egui::Ui, settings: &mut ChartSettings, daily: &Daily) {
    for m in Metric::ALL {
        if ui
            .selectable_label(settings.metric == m, m.label())
            .clicked()
        {
            settings.metric = m;
        }
    }
    ui.separator();
    let mut from = to_jiff(settings.from.unwrap_or(daily.first));
    let mut to = to_jiff(settings.to.unwrap_or(daily.last));
    ui.label("From");
    let picker = egui_extras::DatePickerButton::new(&mut from)
        .id_salt("kpi_from")
        .show_icon(false);
    if ui.add(picker).changed() {
        settings.from = from_jiff(from);
    }
    ui.label("to");
    let picker = egui_extras::DatePickerButton::new(&mut to)
        .id_salt("kpi_to")
        .show_icon(false);
    if ui.add(picker).changed() {
        settings.to = from_jiff(to);
    }
    if (settings.from.is_some() || settings.to.is_some()) && ui.button("All dates").clicked() {
        settings.from = None;
        settings.to = None;
    }
    ui.separator();
    ui.selectable_value(&mut settings.table_view, false, "Chart");
    ui.selectable_value(&mut settings.table_view, true, "Table");
}

/// The queues to show, searchable.
fn queue_list(ui: &mut egui::Ui, settings: &mut ChartSettings, search: &mut String, d: &Daily) {
    let queues = &d.queues;
    ui.strong(format!("Queues ({})", queues.len()));
    ui.add(egui::TextEdit::singleline(search).hint_text("search queues"));
    ui.horizontal(|ui| {
        if ui.small_button("All").clicked() {
            settings.queues.clear();
        }
        if ui.small_button("None").clicked() {
            settings.queues = [String::from("\u{0}none")].into();
        }
    });
    let needle = search.to_lowercase();
    egui::ScrollArea::vertical()
        .id_salt("queue_list")
        .show(ui, |ui| {
            for (id, name) in queues {
                if !needle.is_empty()
                    && !name.to_lowercase().contains(&needle)
                    && !id.to_lowercase().contains(&needle)
                {
                    continue;
                }
                let mut on = settings.shows(id);
                // Contacts that never reached a queue (IVR only, abandoned before routing).
                let label = match (name.is_empty(), id.is_empty()) {
                    (false, _) => name.as_str(),
                    (true, false) => id.as_str(),
                    (true, true) => "(no queue: IVR or before routing)",
                };
                let check = ui.checkbox(&mut on, label);
                if !check.on_hover_text(format!("queue_id {id}")).changed() {
                    continue;
                }
                if settings.queues.is_empty() {
                    settings.queues = queues.iter().map(|(q, _)| q.clone()).collect();
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
        });
}

/// The daily chart or table; a click on a day opens its hours.
fn daily_view(
    ui: &mut egui::Ui,
    settings: &mut ChartSettings,
    shown: &[&KpiRow],
    colors: &BTreeMap<String, egui::Color32>,
) {
    if settings.metric == Metric::ServiceLevel {
        ui.horizontal(|ui| {
            ui.label("Service-level target %");
            ui.add(egui::DragValue::new(&mut settings.sl_target_pct).range(0.0..=100.0));
        });
    }
    let avail = ui.available_height() - 28.0;
    let chart_h = match settings.drill_day {
        Some(_) => (avail * 0.5).max(180.0),
        None => avail.max(180.0),
    };
    if settings.table_view {
        ui.push_id("daily_table", |ui| {
            kpi_table(ui, shown, settings.metric, chart_h - 20.0);
        });
    } else if let Some(day) = daily_chart(ui, colors, shown, settings, chart_h) {
        settings.drill_day = Some(day);
    }
}

/// With one queue chosen: its contacts of the day, or of its worst hour, in the SQL grid.
fn contacts_buttons(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    settings: &ChartSettings,
    day: NaiveDate,
    rows: &[&KpiRow],
) {
    let [queue] = settings.queues.iter().collect::<Vec<_>>()[..] else {
        ui.weak("Pick one queue for the contacts behind its numbers.");
        return;
    };
    let worst = (rows.iter())
        .filter(|r| r.sl.is_some())
        .min_by(|a, b| a.sl.partial_cmp(&b.sl).unwrap_or(std::cmp::Ordering::Equal));
    ui.horizontal(|ui| {
        let send = |hour| {
            ctx.send(AppCommand::ShowContacts {
                queue_id: queue.clone(),
                day,
                hour,
            })
        };
        if ui.button("Contacts of the day").clicked() {
            send(None);
        }
        if let Some(w) = worst
            && let Some(h) = w.hour
        {
            let label = format!(
                "Contacts of the worst hour ({h:02}:00, {:.0} %)",
                w.sl.unwrap_or_default()
            );
            if ui.button(label).clicked() {
                send(Some(h as u32));
            }
        }
        ui.weak("abandoned first; a contact's _bronze_file leads to its raw line");
    });
}

/// One day's hours: chart or table, with the previous and next day.
fn hourly_view(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    settings: &mut ChartSettings,
    day: NaiveDate,
    hourly: Option<&Result<Vec<KpiRow>, String>>,
    colors: &BTreeMap<String, egui::Color32>,
) {
    ui.horizontal(|ui| {
        let when = day.format("%A %Y-%m-%d");
        ui.heading(format!("{} by hour on {when}", settings.metric.label()));
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
    let Some(rows) = loaded(ui, hourly) else {
        return;
    };
    let rows: Vec<&KpiRow> = rows
        .iter()
        .filter(|r| settings.shows(&r.queue_id))
        .collect();
    if rows.is_empty() {
        ui.weak("no contacts that day for the chosen queues");
        return;
    }
    contacts_buttons(ui, ctx, settings, day, &rows);
    if settings.table_view {
        ui.push_id("hourly_table", |ui| {
            kpi_table(ui, &rows, settings.metric, ui.available_height());
        });
    } else {
        hourly_chart(ui, colors, &rows, settings);
    }
}
