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
use crate::silver::drift::DriftSummary;
use crate::silver::review;
use crate::silver::status_map::OUTCOMES;
use crate::ui::fetch::Fetch;
use crate::ui::jobs::Jobs;

/// Rescued and total Silver rows of one date.
#[derive(Debug, Clone)]
struct DayCount {
    date: NaiveDate,
    rescued: i64,
    total: i64,
}

#[derive(Default)]
pub struct DriftPane {
    loaded_for: Option<(String, u64)>,
    report: Option<Fetch<(Vec<DriftSummary>, Vec<DayCount>)>>,
    /// Chosen target per (shape, field, kind).
    choice: BTreeMap<(String, String, String), String>,
    action: Option<(String, Fetch<String>)>,
    /// The dates the last saved change affects, for the reprocess button.
    pending: Option<(NaiveDate, NaiveDate, String)>,
    note: Option<Result<String, String>>,
}

async fn load(lake: Lake) -> Result<(Vec<DriftSummary>, Vec<DayCount>), String> {
    let report = crate::silver::drift::report(&lake)
        .await
        .map_err(|e| e.to_string())?;
    let ctx = crate::query::session(&lake)
        .await
        .map_err(|e| e.to_string())?;
    let mut days = Vec::new();
    if let Ok(r) = crate::query::run(
        &ctx,
        "SELECT CAST(date AS VARCHAR) AS d, COUNT(_rescued_data) AS rescued, COUNT(*) AS total
         FROM silver_contacts GROUP BY date ORDER BY date",
    )
    .await
    {
        for b in &r.batches {
            let d = crate::lake::delta::utf8_column(b.column(0)).map_err(|e| e.to_string())?;
            let n = |i: usize| {
                arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Int64)
                    .ok()
                    .and_then(|a| {
                        a.as_any()
                            .downcast_ref::<arrow::array::Int64Array>()
                            .map(|a| a.values().to_vec())
                    })
                    .unwrap_or_default()
            };
            let (rescued, total) = (n(1), n(2));
            for i in 0..b.num_rows() {
                if let Ok(date) = d.value(i).parse() {
                    days.push(DayCount {
                        date,
                        rescued: rescued.get(i).copied().unwrap_or(0),
                        total: total.get(i).copied().unwrap_or(0),
                    });
                }
            }
        }
    }
    Ok((report, days))
}

impl DriftPane {
    /// Observations loaded so far (tests).
    pub fn observations(&mut self) -> Option<&Vec<DriftSummary>> {
        self.report.as_mut()?.ok().map(|(r, _)| r)
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        rt: &tokio::runtime::Handle,
        lake: Option<&Lake>,
        jobs: &mut Jobs,
    ) {
        let Some(lake) = lake else {
            ui.label("Open a lake to review its schema drift.");
            return;
        };
        let key = (lake.location().to_string(), jobs.generation);
        if self.loaded_for.as_ref() != Some(&key) {
            self.loaded_for = Some(key);
            self.report = Some(Fetch::spawn(rt, ui.ctx(), load(lake.clone())));
        }
        if let Some((label, f)) = &mut self.action
            && let Some(r) = f.poll()
        {
            self.note = Some(r.clone().map(|s| format!("{label}: {s}")));
            self.action = None;
        }
        let Some(f) = self.report.as_mut() else {
            return;
        };
        let (report, days) = match f.poll() {
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
        ui.heading("Schema drift");
        ui.label("What the exports sent that Silver's contract does not expect, per shape. A drifted batch is always processed: unknown fields are rescued into _rescued_data, unmapped statuses become \"unknown\".");
        if !days.is_empty() {
            let bars: Vec<Bar> = days
                .iter()
                .map(|d| {
                    Bar::new(d.date.num_days_from_ce() as f64, d.rescued as f64)
                        .name(format!(
                            "{}: {} of {} rows with rescued data",
                            d.date, d.rescued, d.total
                        ))
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
        ui.horizontal(|ui| {
            match &self.note {
                Some(Ok(n)) => {
                    ui.label(n);
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                None => {}
            }
            if let Some((from, to, what)) = self.pending.clone()
                && ui
                    .button(format!("Reprocess {from} … {to}"))
                    .on_hover_text(format!("apply {what} to the dates it was seen on"))
                    .clicked()
            {
                jobs.submit(Job::Process(ProcessMode::Range { from, to }), lake);
                self.pending = None;
                self.note = Some(Ok(format!(
                    "reprocessing {from} … {to} (see the Jobs pane)"
                )));
            }
        });
        if report.is_empty() {
            ui.label("No schema drift recorded.");
            return;
        }
        let warn = ui.visuals().warn_fg_color;
        egui::ScrollArea::both()
            .id_salt("drift_rows")
            .show(ui, |ui| {
                egui::Grid::new("drift")
                    .striped(true)
                    .spacing([14.0, 6.0])
                    .show(ui, |ui| {
                        for h in [
                            "shape",
                            "field",
                            "kind",
                            "records",
                            "days",
                            "first seen",
                            "last seen",
                            "example",
                            "action",
                        ] {
                            ui.strong(h);
                        }
                        ui.end_row();
                        for d in &report {
                            let stands_out = d.kind == "missing" || d.kind == "type_changed";
                            let text = |s: String| {
                                if stands_out {
                                    egui::RichText::new(s).color(warn)
                                } else {
                                    egui::RichText::new(s)
                                }
                            };
                            ui.label(text(d.shape.clone()));
                            ui.label(text(d.field.clone()));
                            ui.label(text(d.kind.clone()));
                            ui.label(crate::format::thousands(d.count as u64));
                            ui.label(d.days.to_string());
                            ui.label(d.first_seen.format("%Y-%m-%d %H:%M").to_string());
                            ui.label(d.last_seen.format("%Y-%m-%d %H:%M").to_string());
                            let mut ex = d.example.clone().unwrap_or_default();
                            if ex.chars().count() > 40 {
                                ex = format!("{}…", ex.chars().take(40).collect::<String>());
                            }
                            ui.label(egui::RichText::new(ex).monospace());
                            let key = (d.shape.clone(), d.field.clone(), d.kind.clone());
                            let span = (d.first_seen.date_naive(), d.last_seen.date_naive());
                            ui.horizontal(|ui| match d.kind.as_str() {
                                "new" | "type_changed" => {
                                    let chosen = self.choice.entry(key.clone()).or_default();
                                    egui::ComboBox::from_id_salt(("map", &key))
                                        .selected_text(if chosen.is_empty() {
                                            "map to…"
                                        } else {
                                            chosen.as_str()
                                        })
                                        .show_ui(ui, |ui| {
                                            for (c, _) in MAPPABLE_COLUMNS {
                                                ui.selectable_value(chosen, c.to_string(), *c);
                                            }
                                        });
                                    let column = chosen.clone();
                                    // Map and Ignore are one review action: a target column,
                                    // or none.
                                    let mut request: Option<(Option<String>, String)> = None;
                                    if ui
                                        .add_enabled(!column.is_empty(), egui::Button::new("Map"))
                                        .clicked()
                                    {
                                        let label =
                                            format!("{}.{} mapped to {column}", d.shape, d.field);
                                        request = Some((Some(column), label));
                                    }
                                    if ui
                                        .button("Ignore")
                                        .on_hover_text("reviewed: keep it in _rescued_data only")
                                        .clicked()
                                    {
                                        request = Some((
                                            None,
                                            format!("{}.{} ignored", d.shape, d.field),
                                        ));
                                    }
                                    if let Some((target, label)) = request {
                                        let (l, s, f) =
                                            (lake.clone(), d.shape.clone(), d.field.clone());
                                        self.start(rt, ui.ctx(), lake, label, span, async move {
                                            review::map_field(&l, &s, &f, target.as_deref())
                                                .await
                                                .map_err(|e| e.to_string())?;
                                            Ok("saved in _config/pipeline.toml".to_string())
                                        });
                                    }
                                }
                                "unmapped_status" => {
                                    let raw = d.example.clone().unwrap_or_default();
                                    let chosen = self.choice.entry(key.clone()).or_default();
                                    egui::ComboBox::from_id_salt(("status", &key))
                                        .selected_text(if chosen.is_empty() {
                                            "outcome…"
                                        } else {
                                            chosen.as_str()
                                        })
                                        .show_ui(ui, |ui| {
                                            for o in OUTCOMES {
                                                ui.selectable_value(chosen, o.to_string(), *o);
                                            }
                                        });
                                    let outcome = chosen.clone();
                                    if ui
                                        .add_enabled(
                                            !outcome.is_empty() && !raw.is_empty(),
                                            egui::Button::new(format!("Map \"{raw}\"")),
                                        )
                                        .clicked()
                                    {
                                        self.start(
                                            rt,
                                            ui.ctx(),
                                            lake,
                                            format!("\"{raw}\" mapped to {outcome}"),
                                            span,
                                            {
                                                let l = lake.clone();
                                                async move {
                                                    review::map_status(&l, &raw, &outcome)
                                                        .await
                                                        .map_err(|e| e.to_string())?;
                                                    Ok("saved in _config/status_map.toml"
                                                        .to_string())
                                                }
                                            },
                                        );
                                    }
                                }
                                _ => {
                                    ui.weak("check the export");
                                }
                            });
                            ui.end_row();
                        }
                    });
            });
    }

    fn start(
        &mut self,
        rt: &tokio::runtime::Handle,
        ctx: &egui::Context,
        _lake: &Lake,
        label: String,
        span: (NaiveDate, NaiveDate),
        work: impl std::future::Future<Output = Result<String, String>> + Send + 'static,
    ) {
        self.pending = Some((span.0, span.1, label.clone()));
        self.action = Some((label, Fetch::spawn(rt, ctx, work)));
    }
}
