//! The SQL box: DataFusion over the lake's tables, results in the data grid, a history of
//! queries, export to CSV, Parquet or JSON.

use serde::{Deserialize, Serialize};

use crate::lake::Lake;
use crate::query::{self, QueryResult};
use crate::ui::fetch::Fetch;
use crate::ui::grid::{DataGrid, Source};

/// Kept across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SqlSettings {
    pub text: String,
    pub history: Vec<String>,
}

impl Default for SqlSettings {
    fn default() -> Self {
        SqlSettings {
            text: "SELECT queue_name, date, service_level_pct, answered_contacts, abandoned_contacts\nFROM gold_daily_queue_metrics\nORDER BY service_level_pct ASC\nLIMIT 20".into(),
            history: Vec::new(),
        }
    }
}

#[derive(Default)]
pub struct SqlPane {
    running: Option<(String, Fetch<QueryResult>)>,
    result: Option<(String, f64, DataGrid, QueryResult)>,
    error: Option<String>,
    export: Option<Fetch<String>>,
    export_note: Option<Result<String, String>>,
}

impl SqlPane {
    pub fn run(
        &mut self,
        rt: &tokio::runtime::Handle,
        ctx: &egui::Context,
        lake: &Lake,
        sql: String,
        settings: &mut SqlSettings,
    ) {
        settings.history.retain(|h| h.trim() != sql.trim());
        settings.history.insert(0, sql.clone());
        settings.history.truncate(50);
        let l = lake.clone();
        let q = sql.clone();
        self.running = Some((
            sql,
            Fetch::spawn(rt, ctx, async move {
                let c = query::session(&l).await.map_err(|e| e.to_string())?;
                query::run(&c, &q).await.map_err(|e| e.to_string())
            }),
        ));
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        rt: &tokio::runtime::Handle,
        lake: Option<&Lake>,
        settings: &mut SqlSettings,
    ) {
        let Some(lake) = lake else {
            ui.label("Open a lake to query it.");
            return;
        };
        egui::Panel::right("sql_history")
            .resizable(true)
            .default_size(260.0)
            .show(ui, |ui| {
                ui.strong("Tables");
                for query::LakeTable { name: t, .. } in query::TABLES {
                    if ui
                        .small_button(t)
                        .on_hover_text("insert the name")
                        .clicked()
                    {
                        settings.text.push_str(t);
                    }
                }
                ui.separator();
                ui.strong("History");
                egui::ScrollArea::vertical().id_salt("hist").show(ui, |ui| {
                    let mut pick = None;
                    for h in &settings.history {
                        let one_line: String = h.split_whitespace().collect::<Vec<_>>().join(" ");
                        if ui
                            .add(
                                egui::Button::new(egui::RichText::new(&one_line).small())
                                    .truncate(),
                            )
                            .on_hover_text(h)
                            .clicked()
                        {
                            pick = Some(h.clone());
                        }
                    }
                    if let Some(h) = pick {
                        settings.text = h;
                    }
                });
            });
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let editor = ui.add(
                egui::TextEdit::multiline(&mut settings.text)
                    .code_editor()
                    .desired_rows(6)
                    .desired_width(f32::INFINITY)
                    .hint_text("SELECT … FROM silver_contacts …"),
            );
            let run_keys = editor.has_focus()
                && ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                let busy = self.running.is_some();
                if ui
                    .add_enabled(!busy, egui::Button::new("Run"))
                    .on_hover_text("Ctrl+Enter")
                    .clicked()
                    || (run_keys && !busy)
                {
                    let sql = settings.text.clone();
                    self.run(rt, ui.ctx(), lake, sql, settings);
                }
                if busy {
                    ui.spinner();
                    ui.label("running…");
                }
                if let Some((_, _, _, r)) = &self.result {
                    ui.separator();
                    for (label, ext) in [
                        ("Export CSV…", "csv"),
                        ("Parquet…", "parquet"),
                        ("JSON…", "json"),
                    ] {
                        if ui.button(label).clicked() {
                            let r = r.clone();
                            self.export = Some(Fetch::spawn(rt, ui.ctx(), async move {
                                let Some(f) = rfd::AsyncFileDialog::new()
                                    .set_file_name(format!("query.{ext}"))
                                    .save_file()
                                    .await
                                else {
                                    return Err("export cancelled".into());
                                };
                                let path = f.path().to_path_buf();
                                query::write(&r, &path).map_err(|e| e.to_string())?;
                                Ok(path.display().to_string())
                            }));
                        }
                    }
                }
                if let Some(f) = &mut self.export
                    && let Some(r) = f.poll()
                {
                    self.export_note = Some(r.clone());
                    self.export = None;
                }
                match &self.export_note {
                    Some(Ok(p)) => {
                        ui.weak(format!("saved {p}"));
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    None => {}
                }
            });
            if let Some((sql, f)) = &mut self.running
                && let Some(r) = f.poll().cloned()
            {
                let secs = f.elapsed_secs();
                match &r {
                    Ok(res) => {
                        let grid = DataGrid::new(
                            rt,
                            Source::Memory {
                                schema: res.schema.clone(),
                                batches: res.batches.clone(),
                            },
                        );
                        self.result = Some((sql.clone(), secs, grid, res.clone()));
                        self.error = None;
                    }
                    Err(e) => self.error = Some(e.clone()),
                }
                self.running = None;
            }
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            if let Some((_, secs, grid, r)) = &mut self.result {
                ui.weak(format!(
                    "{} rows in {:.2} s",
                    crate::format::thousands(r.num_rows() as u64),
                    secs
                ));
                grid.ui(ui);
            } else if self.error.is_none() {
                let names: Vec<&str> = query::TABLES.iter().map(|t| t.name).collect();
                ui.weak(format!(
                    "Results appear here. Tables: {}.",
                    names.join(", ")
                ));
            }
        });
    }
}
