//! KPI charts: one Gold metric per queue over days (lines, small multiples, a table, or a
//! queue × hour heatmap), the worst queues first, with an hourly drill-down for a chosen day
//! and a click through to the contacts behind any number. Reads Gold (through [`gold::read`])
//! and, for the source filter, which sources each queue's contacts come from.

mod plot;
mod views;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::gold::health::{Kpi, Totals};
use crate::gold::{self, read::GoldReadError, read::Grain, read::KpiRow, read::Selection};
use crate::lake::Lake;
use crate::query::lineage::Group;
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

    /// The overview's KPI of the metric (none for the contact count).
    fn kpi(&self) -> Option<Kpi> {
        match self {
            Metric::Aht => Some(Kpi::Aht),
            Metric::Asa => Some(Kpi::Asa),
            Metric::ServiceLevel => Some(Kpi::ServiceLevel),
            Metric::AbandonRate => Some(Kpi::AbandonRate),
            Metric::Fcr => Some(Kpi::Fcr),
            Metric::Csat => Some(Kpi::Csat),
            Metric::Contacts => None,
        }
    }

    /// Whether a higher value is the better one (more contacts is neither: ranked by volume).
    fn higher_is_better(&self) -> bool {
        self.kpi().is_some_and(Kpi::higher_is_better)
    }

    /// The metric over several rows, recombined from their counts (not a mean of rates).
    fn combined<'a>(&self, rows: impl IntoIterator<Item = &'a KpiRow>) -> Option<f64> {
        let mut t = Totals::default();
        rows.into_iter().for_each(|r| t.add(r));
        match self.kpi() {
            Some(k) => t.value(k),
            None => Some(t.total as f64),
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

/// How the rows are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    /// One line per queue, contact volume as bars beneath.
    Chart,
    /// One small chart per queue on shared axes.
    SmallMultiples,
    Table,
    /// Queues × hours of the day, over the range or the chosen day.
    Heatmap,
}

impl View {
    const ALL: [(View, &'static str); 4] = [
        (View::Chart, "Chart"),
        (View::SmallMultiples, "Small multiples"),
        (View::Table, "Table"),
        (View::Heatmap, "Heatmap"),
    ];
}

/// What the user chose, kept across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartSettings {
    pub metric: Metric,
    /// Queue ids shown; empty means the worst `worst_n` (or all when it is 0).
    pub queues: BTreeSet<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub view: View,
    pub sl_target_pct: f64,
    pub drill_day: Option<NaiveDate>,
    /// With no queue chosen, how many of the worst queues to show (0: all).
    pub worst_n: usize,
    /// Draw each queue's value of the same weekday a week earlier, dashed.
    pub week_overlay: bool,
    /// Only queues whose contacts come from this source.
    pub source: Option<String>,
}

impl Default for ChartSettings {
    fn default() -> Self {
        ChartSettings {
            metric: Metric::ServiceLevel,
            queues: BTreeSet::new(),
            from: None,
            to: None,
            view: View::Chart,
            sl_target_pct: 80.0,
            drill_day: None,
            worst_n: 5,
            week_overlay: false,
            source: None,
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
    /// The range's hourly rows for the heatmap, by lake, generation and range.
    range_hourly: Reloading<Vec<KpiRow>, (String, u64, NaiveDate, NaiveDate)>,
    /// The sources of each queue's contacts (from Silver), for the source filter.
    sources: Reloading<BTreeMap<String, BTreeSet<String>>>,
    /// The queue under the pointer on the last frame: its series is drawn on top, the rest dim.
    hovered: Option<String>,
    queue_search: String,
    export: Saving,
}

async fn load_sources(lake: Lake) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    crate::query::freshness::queue_sources(&lake)
        .await
        .map_err(|e| e.to_string())
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

/// Opens the contacts behind a number in the SQL pane.
fn show_contacts(
    ctx: &PaneContext<'_>,
    queue_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    hour: Option<i32>,
) {
    ctx.send(AppCommand::ShowContacts(Group {
        queue_id: queue_id.to_string(),
        from,
        to,
        hour: hour.and_then(|h| u32::try_from(h).ok()),
    }));
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
        let sources = match self.sources.poll(ctx, ui.ctx(), load_sources) {
            Some(Ok(s)) => Some(s),
            _ => None,
        };
        let settings = &mut self.settings;
        ui.horizontal_wrapped(|ui| controls(ui, settings, daily, sources));
        let from = settings.from.unwrap_or(daily.first);
        let to = settings.to.unwrap_or(daily.last);
        let in_range: Vec<&KpiRow> = (daily.rows.iter())
            .filter(|r| r.date >= from && r.date <= to && settings.of_source(sources, &r.queue_id))
            .collect();
        let pick = settings.pick(&in_range);
        egui::Panel::left("kpi_queues")
            .resizable(true)
            .default_size(220.0)
            .show(ui, |ui| {
                queue_list(ui, settings, &mut self.queue_search, daily, &pick, sources)
            });
        let shown: Vec<&KpiRow> = match &pick.shown {
            None => in_range.clone(),
            Some(ids) => in_range
                .iter()
                .copied()
                .filter(|r| ids.contains(&r.queue_id))
                .collect(),
        };
        let week_before: Vec<&KpiRow> = match settings.week_overlay {
            false => Vec::new(),
            true => (daily.rows.iter())
                .filter(|r| {
                    let week_later = r.date + chrono::Duration::days(7);
                    week_later >= from
                        && week_later <= to
                        && shown.iter().any(|s| s.queue_id == r.queue_id)
                })
                .collect(),
        };
        let mut export = None;
        let hovered = &mut self.hovered;
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
            if matches!(settings.view, View::Chart | View::Table) {
                pick.note(ui, settings);
            }
            match settings.view {
                View::SmallMultiples => {
                    let all = match settings.queues.is_empty() {
                        true => &in_range,
                        false => &shown,
                    };
                    views::small_multiples(ui, ctx, settings, all, &daily.colors);
                    return;
                }
                View::Heatmap => {
                    let (hf, ht) = heat_days(ui, settings, (from, to));
                    let key = (lake.location().to_string(), ctx.generation, hf, ht);
                    let sel = Selection { from: Some(hf), to: Some(ht), queue_id: None };
                    let l = lake.clone();
                    let rows = self.range_hourly.poll_with(key, ctx.rt, ui.ctx(), || load(l, Grain::Hourly, sel));
                    let Some(rows) = loaded(ui, rows) else { return };
                    let rows: Vec<&KpiRow> = (rows.iter())
                        .filter(|r| settings.of_source(sources, &r.queue_id))
                        .filter(|r| settings.queues.is_empty() || settings.shows(&r.queue_id))
                        .collect();
                    views::heatmap(ui, ctx, settings, &rows, (hf, ht));
                    return;
                }
                View::Chart | View::Table => {}
            }
            daily_view(ui, ctx, settings, &shown, &week_before, &daily.colors, hovered);
            let Some(day) = settings.drill_day else {
                ui.weak("Click a day in the chart for its hourly breakdown, a point for the contacts behind it.");
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
            let ids: BTreeSet<&str> = shown.iter().map(|r| r.queue_id.as_str()).collect();
            hourly_view(ui, ctx, settings, day, hourly, &ids, &daily.colors, hovered);
        });
        if let Some(rows) = export {
            let save = export_csv(rows, "kpis_daily.csv");
            self.export.start(ctx.rt, ui.ctx(), save);
        }
    }
}

/// Which queues the line chart and the table show, and why.
struct Pick {
    /// Queue ids; none: every queue of the range.
    shown: Option<BTreeSet<String>>,
    /// Queues in the range (after the source filter).
    of: usize,
}

impl Pick {
    /// "The 5 worst of 12 queues", with the rest one click away.
    fn note(&self, ui: &mut egui::Ui, settings: &mut ChartSettings) {
        if !settings.queues.is_empty() {
            return;
        }
        ui.horizontal(|ui| match &self.shown {
            Some(ids) if ids.len() < self.of => {
                let (n, of) = (ids.len(), self.of);
                let words = match settings.metric {
                    Metric::Contacts => format!("The {n} busiest of {of} queues over the range"),
                    m => format!(
                        "The {n} worst of {of} queues by {} over the range",
                        m.label()
                    ),
                };
                ui.weak(words);
                if ui.small_button(format!("Show all {}", self.of)).clicked() {
                    settings.worst_n = 0;
                }
            }
            _ => {
                ui.weak(format!("all {} queues", self.of));
                if self.of > 5 && ui.small_button("Only the 5 worst").clicked() {
                    settings.worst_n = 5;
                }
            }
        });
    }
}

impl ChartSettings {
    /// Whether a queue is among the ones chosen (none chosen: all).
    fn shows(&self, queue_id: &str) -> bool {
        self.queues.is_empty() || self.queues.contains(queue_id)
    }

    /// Whether a queue's contacts come from the chosen source (before the sources are
    /// known, every queue does).
    fn of_source(
        &self,
        sources: Option<&BTreeMap<String, BTreeSet<String>>>,
        queue_id: &str,
    ) -> bool {
        match (&self.source, sources) {
            (Some(s), Some(map)) => map.get(queue_id).is_some_and(|q| q.contains(s)),
            _ => true,
        }
    }

    /// The queues to draw: the chosen ones, else the worst `worst_n` over the range by the
    /// metric recombined over it (the busiest for the contact count).
    fn pick(&self, rows: &[&KpiRow]) -> Pick {
        let mut by_queue: BTreeMap<&str, Vec<&KpiRow>> = BTreeMap::new();
        for r in rows {
            by_queue.entry(r.queue_id.as_str()).or_default().push(r);
        }
        let of = by_queue.len();
        if !self.queues.is_empty() {
            let ids = by_queue.keys().filter(|q| self.queues.contains(**q));
            return Pick {
                shown: Some(ids.map(|q| q.to_string()).collect()),
                of,
            };
        }
        if self.worst_n == 0 || self.worst_n >= of {
            return Pick { shown: None, of };
        }
        let metric = self.metric;
        let mut ranked: Vec<(&str, f64)> = (by_queue.iter())
            .filter_map(|(q, rs)| Some((*q, metric.combined(rs.iter().copied())?)))
            .collect();
        // Worst first: the lowest of a higher-is-better metric, the highest otherwise (the
        // busiest for the contact count).
        let worst_first = |v: f64| match metric.higher_is_better() {
            true => v,
            false => -v,
        };
        ranked.sort_by(|a, b| {
            worst_first(a.1)
                .total_cmp(&worst_first(b.1))
                .then(a.0.cmp(b.0))
        });
        let ids = ranked
            .into_iter()
            .take(self.worst_n)
            .map(|(q, _)| q.to_string());
        Pick {
            shown: Some(ids.collect()),
            of,
        }
    }
}

/// The metric, the date range, the source, the view.
fn controls(
    ui: &mut egui::Ui,
    settings: &mut ChartSettings,
    daily: &Daily,
    sources: Option<&BTreeMap<String, BTreeSet<String>>>,
) {
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
    let all: BTreeSet<&str> = sources
        .map(|m| m.values().flatten().map(String::as_str).collect())
        .unwrap_or_default();
    let current = settings
        .source
        .clone()
        .unwrap_or_else(|| "all sources".into());
    egui::ComboBox::from_id_salt("kpi_source")
        .selected_text(current)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut settings.source, None, "all sources");
            for s in all.into_iter().filter(|s| !s.is_empty()) {
                ui.selectable_value(&mut settings.source, Some(s.to_string()), s);
            }
        });
    ui.checkbox(&mut settings.week_overlay, "week before")
        .on_hover_text("each queue's value on the same weekday a week earlier, dashed");
    ui.separator();
    for (view, label) in View::ALL {
        ui.selectable_value(&mut settings.view, view, label);
    }
}

/// The queues to show, searchable.
fn queue_list(
    ui: &mut egui::Ui,
    settings: &mut ChartSettings,
    search: &mut String,
    d: &Daily,
    pick: &Pick,
    sources: Option<&BTreeMap<String, BTreeSet<String>>>,
) {
    let queues = &d.queues;
    ui.strong(format!("Queues ({})", queues.len()));
    ui.add(egui::TextEdit::singleline(search).hint_text("search queues"));
    ui.horizontal(|ui| {
        if ui.small_button("All").clicked() {
            settings.queues.clear();
            settings.worst_n = 0;
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
                if !settings.of_source(sources, id) {
                    continue;
                }
                if !needle.is_empty()
                    && !name.to_lowercase().contains(&needle)
                    && !id.to_lowercase().contains(&needle)
                {
                    continue;
                }
                // Ticked: drawn (the chosen queues, else the worst ones picked).
                let mut on = match &pick.shown {
                    Some(ids) => ids.contains(id),
                    None => settings.shows(id),
                };
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
                    settings.queues = match &pick.shown {
                        Some(ids) => ids.clone(),
                        None => queues.iter().map(|(q, _)| q.clone()).collect(),
                    };
                }
                settings.queues.remove("\u{0}none");
                if on {
                    settings.queues.insert(id.clone());
                } else {
                    settings.queues.remove(id);
                }
                if settings.queues.len() == queues.len() {
                    settings.queues.clear();
                    settings.worst_n = 0;
                }
            }
        });
}

/// The daily chart or table; a click on a day opens its hours, on a point or a table cell
/// the contacts behind it.
fn daily_view(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    settings: &mut ChartSettings,
    shown: &[&KpiRow],
    week_before: &[&KpiRow],
    colors: &BTreeMap<String, egui::Color32>,
    hovered: &mut Option<String>,
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
    if settings.view == View::Table {
        ui.push_id("daily_table", |ui| {
            if let Some(r) = kpi_table(ui, shown, settings.metric, chart_h - 20.0) {
                show_contacts(ctx, &r.queue_id, r.date, r.date, None);
            }
        });
        return;
    }
    let lines = plot::Lines {
        rows: shown,
        week_before,
        colors,
        hovered: hovered.clone(),
    };
    let clicked = daily_chart(ui, &lines, settings, chart_h);
    set_hovered(ui, hovered, clicked.hovered);
    if let Some(day) = clicked.day {
        settings.drill_day = Some(day);
    }
    if let Some(r) = clicked.point {
        show_contacts(ctx, &r.queue_id, r.date, r.date, None);
    }
}

/// The heatmap's days: the day chosen (with the way to the next, the previous and the whole
/// range) or the range (with the way to its last day).
fn heat_days(
    ui: &mut egui::Ui,
    settings: &mut ChartSettings,
    (from, to): (NaiveDate, NaiveDate),
) -> (NaiveDate, NaiveDate) {
    // A day kept from another lake or range is no day of this one.
    if settings.drill_day.is_some_and(|d| d < from || d > to) {
        settings.drill_day = None;
    }
    ui.horizontal(|ui| match settings.drill_day {
        Some(day) => {
            ui.strong(day.format("%A %Y-%m-%d").to_string());
            if ui.button("< prev").clicked() {
                settings.drill_day = day.pred_opt();
            }
            if ui.button("next >").clicked() {
                settings.drill_day = day.succ_opt();
            }
            if ui.button("Whole range").clicked() {
                settings.drill_day = None;
            }
        }
        None => {
            ui.strong(format!("{from} … {to}"));
            if ui
                .button("One day")
                .on_hover_text("the range's last day")
                .clicked()
            {
                settings.drill_day = Some(to);
            }
        }
    });
    match settings.drill_day {
        Some(d) => (d, d),
        None => (from, to),
    }
}

/// Keeps the queue under the pointer; the next frame draws it highlighted, so one is asked
/// for when it changed.
fn set_hovered(ui: &egui::Ui, hovered: &mut Option<String>, now: Option<String>) {
    if *hovered != now {
        *hovered = now;
        ui.ctx().request_repaint();
    }
}

/// With one queue chosen: its contacts of the day, or of its worst hour, in the SQL grid.
fn contacts_buttons(ui: &mut egui::Ui, ctx: &PaneContext<'_>, day: NaiveDate, rows: &[&KpiRow]) {
    let queues: BTreeSet<&str> = rows.iter().map(|r| r.queue_id.as_str()).collect();
    let [queue] = queues.into_iter().collect::<Vec<_>>()[..] else {
        ui.weak("Click a point for the contacts behind it, or pick one queue for its worst hour.");
        return;
    };
    let worst = (rows.iter())
        .filter(|r| r.sl.is_some())
        .min_by(|a, b| a.sl.partial_cmp(&b.sl).unwrap_or(std::cmp::Ordering::Equal));
    ui.horizontal(|ui| {
        if ui.button("Contacts of the day").clicked() {
            show_contacts(ctx, queue, day, day, None);
        }
        if let Some(w) = worst
            && let Some(h) = w.hour
        {
            let label = format!(
                "Contacts of the worst hour ({h:02}:00, {:.0} %)",
                w.sl.unwrap_or_default()
            );
            if ui.button(label).clicked() {
                show_contacts(ctx, queue, day, day, Some(h));
            }
        }
        ui.weak("abandoned first; a contact's _bronze_file leads to its raw line");
    });
}

/// One day's hours: chart or table, with the previous and next day.
#[allow(clippy::too_many_arguments)]
fn hourly_view(
    ui: &mut egui::Ui,
    ctx: &PaneContext<'_>,
    settings: &mut ChartSettings,
    day: NaiveDate,
    hourly: Option<&Result<Vec<KpiRow>, String>>,
    queues: &BTreeSet<&str>,
    colors: &BTreeMap<String, egui::Color32>,
    hovered: &mut Option<String>,
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
        .filter(|r| queues.contains(r.queue_id.as_str()))
        .collect();
    if rows.is_empty() {
        ui.weak("no contacts that day for the chosen queues");
        return;
    }
    contacts_buttons(ui, ctx, day, &rows);
    if settings.view == View::Table {
        ui.push_id("hourly_table", |ui| {
            if let Some(r) = kpi_table(ui, &rows, settings.metric, ui.available_height()) {
                show_contacts(ctx, &r.queue_id, r.date, r.date, r.hour);
            }
        });
        return;
    }
    let lines = plot::Lines {
        rows: &rows,
        week_before: &[],
        colors,
        hovered: hovered.clone(),
    };
    let clicked = hourly_chart(ui, &lines, settings);
    if clicked.hovered.is_some() {
        set_hovered(ui, hovered, clicked.hovered);
    }
    if let Some(r) = clicked.point {
        show_contacts(ctx, &r.queue_id, r.date, r.date, r.hour);
    }
}
