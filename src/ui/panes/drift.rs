//! The schema-drift pane: what drifted (new fields, missing fields, type changes, unmapped
//! statuses) with counts, dates and scrubbed examples, rescued records per day, and the
//! actions: map a field onto a canonical column, ignore it, map a status, reprocess.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use egui_plot::{Bar, BarChart, Plot};

use crate::lake::Lake;
use crate::pipeline::Job;
use crate::silver::ProcessMode;
use crate::silver::canonical::MAPPABLE_COLUMNS;
use crate::silver::drift::{self, DriftSummary, RescuedDay};
use crate::silver::review;
use crate::silver::status_map::OUTCOMES;
use crate::ui::fetch::Fetch;
use crate::ui::pane::{Pane, PaneContext, Reloading, loaded};

/// What the pane shows of the lake.
struct DriftData {
    report: Vec<DriftSummary>,
    days: Vec<RescuedDay>,
}

async fn load(lake: Lake) -> Result<DriftData, String> {
    let report = drift::report(&lake).await.map_err(|e| e.to_string())?;
    let days = drift::rescued_per_day(&lake)
        .await
        .map_err(|e| e.to_string())?;
    Ok(DriftData { report, days })
}

/// A review decision on one drift line, and the dates it was seen on.
struct Decision {
    review: Review,
    label: String,
    span: (NaiveDate, NaiveDate),
}

enum Review {
    /// Map a field onto a canonical column, or mark it reviewed (`None`: ignore).
    Field {
        shape: String,
        field: String,
        target: Option<String>,
    },
    /// Map a raw status onto an outcome.
    Status { raw: String, outcome: String },
}

#[derive(Default)]
pub struct DriftPane {
    data: Reloading<DriftData>,
    /// Chosen target per (shape, field, kind).
    choice: BTreeMap<(String, String, String), String>,
    saving: Option<(String, Fetch<String>)>,
    /// The dates the last saved change affects, for the reprocess button.
    pending: Option<(NaiveDate, NaiveDate, String)>,
    note: Option<Result<String, String>>,
}

impl DriftPane {
    /// Observations loaded so far (tests).
    pub fn observations(&mut self) -> Option<&Vec<DriftSummary>> {
        self.data.ok().map(|d| &d.report)
    }

    /// Saves a decision in the lake's settings; the reprocess button then offers its dates.
    fn save(&mut self, ctx: &PaneContext<'_>, egui: &egui::Context, lake: &Lake, d: Decision) {
        let l = lake.clone();
        let work = async move {
            match d.review {
                Review::Field {
                    shape,
                    field,
                    target,
                } => {
                    let saved = review::map_field(&l, &shape, &field, target.as_deref()).await;
                    saved.map_err(|e| e.to_string())?;
                    Ok("saved in _config/pipeline.toml".to_string())
                }
                Review::Status { raw, outcome } => {
                    let saved = review::map_status(&l, &raw, &outcome).await;
                    saved.map_err(|e| e.to_string())?;
                    Ok("saved in _config/status_map.toml".to_string())
                }
            }
        };
        self.pending = Some((d.span.0, d.span.1, d.label.clone()));
        self.saving = Some((d.label, Fetch::spawn(ctx.rt, egui, work)));
    }

    /// The last save's outcome, and the reprocess button for the dates it affects.
    fn notes(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        if let Some((label, f)) = &mut self.saving
            && let Some(r) = f.take()
        {
            self.note = Some(r.map(|s| format!("{label}: {s}")));
            self.saving = None;
        }
        match &self.note {
            Some(Ok(n)) => {
                ui.label(n);
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {}
        }
        if let Some((from, to, what)) = &self.pending
            && ui
                .button(format!("Reprocess {from} … {to}"))
                .on_hover_text(format!("apply {what} to the dates it was seen on"))
                .clicked()
        {
            let (from, to) = (*from, *to);
            ctx.submit(Job::Process(ProcessMode::Range { from, to }));
            self.pending = None;
            let note = format!("reprocessing {from} … {to} (see the Jobs pane)");
            self.note = Some(Ok(note));
        }
    }
}

impl Pane for DriftPane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        let Some(lake) = ctx.lake else {
            ui.label("Open a lake to review its schema drift.");
            return;
        };
        let Some(data) = loaded(ui, self.data.poll(ctx, ui.ctx(), load)) else {
            return;
        };
        ui.heading("Schema drift");
        ui.label("What the exports sent that Silver's contract does not expect, per shape. A drifted batch is always processed: unknown fields are rescued into _rescued_data, unmapped statuses become \"unknown\".");
        rescued_chart(ui, &data.days);
        if data.report.is_empty() {
            ui.horizontal(|ui| self.notes(ui, ctx));
            ui.label("No schema drift recorded.");
            return;
        }
        let decision = egui::ScrollArea::both()
            .id_salt("drift_rows")
            .show(ui, |ui| drift_table(ui, &data.report, &mut self.choice))
            .inner;
        ui.horizontal(|ui| self.notes(ui, ctx));
        if let Some(d) = decision {
            self.save(ctx, ui.ctx(), lake, d);
        }
    }
}

/// Rows with rescued data per day.
fn rescued_chart(ui: &mut egui::Ui, days: &[RescuedDay]) {
    if days.is_empty() {
        return;
    }
    let bars: Vec<Bar> = days
        .iter()
        .map(|d| {
            let name = format!(
                "{}: {} of {} rows with rescued data",
                d.date, d.rescued, d.total
            );
            Bar::new(d.date.num_days_from_ce() as f64, d.rescued as f64)
                .name(name)
                .width(0.8)
        })
        .collect();
    Plot::new("rescued_per_day")
        .height(140.0)
        .y_axis_label("rows with rescued data")
        .x_axis_formatter(|m, _| {
            NaiveDate::from_num_days_from_ce_opt(m.value.round() as i32)
                .map(|d| d.format("%b %d").to_string())
                .unwrap_or_default()
        })
        .show(ui, |p| p.bar_chart(BarChart::new("rescued rows", bars)));
}

/// One line per drift observation, with its review action; returns the decision taken.
fn drift_table(
    ui: &mut egui::Ui,
    report: &[DriftSummary],
    choice: &mut BTreeMap<(String, String, String), String>,
) -> Option<Decision> {
    let warn = ui.visuals().warn_fg_color;
    let mut decision = None;
    egui::Grid::new("drift")
        .striped(true)
        .spacing([14.0, 6.0])
        .show(ui, |ui| {
            let headers = [
                "shape",
                "field",
                "kind",
                "records",
                "days",
                "first seen",
                "last seen",
                "example",
                "action",
            ];
            for h in headers {
                ui.strong(h);
            }
            ui.end_row();
            for d in report {
                let stands_out = d.kind == "missing" || d.kind == "type_changed";
                let text = |s: &str| match stands_out {
                    true => egui::RichText::new(s).color(warn),
                    false => egui::RichText::new(s),
                };
                ui.label(text(&d.shape));
                ui.label(text(&d.field));
                ui.label(text(&d.kind));
                ui.label(crate::format::thousands(d.count as u64));
                ui.label(d.days.to_string());
                ui.label(d.first_seen.format("%Y-%m-%d %H:%M").to_string());
                ui.label(d.last_seen.format("%Y-%m-%d %H:%M").to_string());
                let mut ex = d.example.clone().unwrap_or_default();
                if ex.chars().count() > 40 {
                    ex = format!("{}…", ex.chars().take(40).collect::<String>());
                }
                ui.label(egui::RichText::new(ex).monospace());
                if let Some(d) = ui.horizontal(|ui| review_action(ui, d, choice)).inner {
                    decision = Some(d);
                }
                ui.end_row();
            }
        });
    decision
}

/// The review action of one line: map or ignore a field, map a status.
fn review_action(
    ui: &mut egui::Ui,
    d: &DriftSummary,
    choice: &mut BTreeMap<(String, String, String), String>,
) -> Option<Decision> {
    let key = (d.shape.clone(), d.field.clone(), d.kind.clone());
    let span = (d.first_seen.date_naive(), d.last_seen.date_naive());
    let chosen = choice.entry(key.clone()).or_default();
    let pick =
        |ui: &mut egui::Ui, salt: &str, hint: &str, options: &[&str], chosen: &mut String| {
            let shown = if chosen.is_empty() {
                hint
            } else {
                chosen.as_str()
            };
            egui::ComboBox::from_id_salt((salt, &key))
                .selected_text(shown.to_string())
                .show_ui(ui, |ui| {
                    for o in options {
                        ui.selectable_value(chosen, o.to_string(), *o);
                    }
                });
        };
    match d.kind.as_str() {
        "new" | "type_changed" => {
            let columns: Vec<&str> = MAPPABLE_COLUMNS.iter().map(|(c, _)| *c).collect();
            pick(ui, "map", "map to…", &columns, chosen);
            let column = chosen.clone();
            let field = |target: Option<String>| Review::Field {
                shape: d.shape.clone(),
                field: d.field.clone(),
                target,
            };
            // Map and Ignore are one review action: a target column, or none.
            let map = egui::Button::new("Map");
            if ui.add_enabled(!column.is_empty(), map).clicked() {
                let label = format!("{}.{} mapped to {column}", d.shape, d.field);
                let review = field(Some(column));
                return Some(Decision {
                    review,
                    label,
                    span,
                });
            }
            let ignore = ui.button("Ignore");
            if ignore
                .on_hover_text("reviewed: keep it in _rescued_data only")
                .clicked()
            {
                let label = format!("{}.{} ignored", d.shape, d.field);
                return Some(Decision {
                    review: field(None),
                    label,
                    span,
                });
            }
            None
        }
        "unmapped_status" => {
            let raw = d.example.clone().unwrap_or_default();
            pick(ui, "status", "outcome…", OUTCOMES, chosen);
            let outcome = chosen.clone();
            let map = egui::Button::new(format!("Map \"{raw}\""));
            if ui
                .add_enabled(!outcome.is_empty() && !raw.is_empty(), map)
                .clicked()
            {
                let label = format!("\"{raw}\" mapped to {outcome}");
                let review = Review::Status { raw, outcome };
                return Some(Decision {
                    review,
                    label,
                    span,
                });
            }
            None
        }
        _ => {
            ui.weak("check the export");
            None
        }
    }
}
