//! The SQL box: DataFusion over the lake's tables, results in the data grid, a history of
//! queries, export to CSV, Parquet or JSON.

use serde::{Deserialize, Serialize};

use crate::lake::Lake;
use crate::query::{self, QueryResult};
use crate::ui::fetch::Fetch;
use crate::ui::grid::{DataGrid, Source};
use crate::ui::pane::{Pane, PaneContext, Saving};

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
    /// The query text and history (saved between runs of the app).
    pub settings: SqlSettings,
    running: Option<Fetch<QueryResult>>,
    result: Option<(f64, DataGrid, QueryResult)>,
    error: Option<String>,
    export: Saving,
}

impl SqlPane {
    pub fn new(settings: SqlSettings) -> Self {
        SqlPane {
            settings,
            ..Default::default()
        }
    }

    /// Runs the query text on the lake (read-only SQL) and remembers it in the history.
    pub fn run(&mut self, rt: &tokio::runtime::Handle, ctx: &egui::Context, lake: &Lake) {
        let sql = self.settings.text.clone();
        let history = &mut self.settings.history;
        history.retain(|h| h.trim() != sql.trim());
        history.insert(0, sql.clone());
        history.truncate(50);
        let l = lake.clone();
        self.running = Some(Fetch::spawn(rt, ctx, async move {
            let c = query::session(&l).await.map_err(|e| e.to_string())?;
            query::run(&c, &sql).await.map_err(|e| e.to_string())
        }));
    }

    /// The table names to insert and the history to pick from.
    fn side(&mut self, ui: &mut egui::Ui) {
        let settings = &mut self.settings;
        ui.strong("Tables");
        for query::LakeTable { name, .. } in query::TABLES {
            if ui
                .small_button(name)
                .on_hover_text("insert the name")
                .clicked()
            {
                settings.text.push_str(name);
            }
        }
        ui.separator();
        ui.strong("History");
        egui::ScrollArea::vertical().id_salt("hist").show(ui, |ui| {
            let mut pick = None;
            for h in &settings.history {
                let one_line: String = h.split_whitespace().collect::<Vec<_>>().join(" ");
                let button = egui::Button::new(egui::RichText::new(&one_line).small()).truncate();
                if ui.add(button).on_hover_text(h).clicked() {
                    pick = Some(h.clone());
                }
            }
            if let Some(h) = pick {
                settings.text = h;
            }
        });
    }

    /// Run, the running state, and the export buttons with the last export's outcome.
    fn toolbar(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>, lake: &Lake, keys: bool) {
        let busy = self.running.is_some();
        let run = egui::Button::new("Run");
        if ui
            .add_enabled(!busy, run)
            .on_hover_text("Ctrl+Enter")
            .clicked()
            || (keys && !busy)
        {
            self.run(ctx.rt, ui.ctx(), lake);
        }
        if busy {
            ui.spinner();
            ui.label("running…");
        }
        if let Some((_, _, r)) = &self.result {
            ui.separator();
            for (label, ext) in [
                ("Export CSV…", "csv"),
                ("Parquet…", "parquet"),
                ("JSON…", "json"),
            ] {
                if ui.button(label).clicked() {
                    self.export.start(ctx.rt, ui.ctx(), export(r.clone(), ext));
                }
            }
        }
        self.export.ui(ui);
    }

    /// The finished query's rows, or its error.
    fn results(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        if let Some(f) = &mut self.running
            && let Some(r) = f.take()
        {
            let secs = f.elapsed_secs();
            match r {
                Ok(res) => {
                    let source = Source::Memory {
                        schema: res.schema.clone(),
                        batches: res.batches.clone(),
                    };
                    self.result = Some((secs, DataGrid::new(ctx.rt, source), res));
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
            self.running = None;
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some((secs, grid, r)) = &mut self.result {
            let rows = crate::format::thousands(r.num_rows() as u64);
            ui.weak(format!("{rows} rows in {secs:.2} s"));
            grid.ui(ui);
        } else if self.error.is_none() {
            let names: Vec<&str> = query::TABLES.iter().map(|t| t.name).collect();
            ui.weak(format!(
                "Results appear here. Tables: {}.",
                names.join(", ")
            ));
        }
    }
}

impl Pane for SqlPane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        let Some(lake) = ctx.lake else {
            ui.label("Open a lake to query it.");
            return;
        };
        egui::Panel::right("sql_history")
            .resizable(true)
            .default_size(260.0)
            .show(ui, |ui| self.side(ui));
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let editor = ui.add(
                egui::TextEdit::multiline(&mut self.settings.text)
                    .code_editor()
                    .desired_rows(6)
                    .desired_width(f32::INFINITY)
                    .hint_text("SELECT … FROM silver_contacts …"),
            );
            let keys = editor.has_focus()
                && ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| self.toolbar(ui, ctx, lake, keys));
            self.results(ui, ctx);
        });
    }
}

/// Asks where to save a result, and saves it in the format of `ext`.
async fn export(result: QueryResult, ext: &'static str) -> Result<String, String> {
    let Some(f) = rfd::AsyncFileDialog::new()
        .set_file_name(format!("query.{ext}"))
        .save_file()
        .await
    else {
        return Err("export cancelled".into());
    };
    let path = f.path().to_path_buf();
    query::write(&result, &path).map_err(|e| e.to_string())?;
    Ok(path.display().to_string())
}
