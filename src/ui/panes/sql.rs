//! The SQL box: DataFusion over the lake's tables, results in the data grid, a history of
//! queries, export to CSV, Parquet or JSON. It is also where a Gold number opens: the
//! contacts behind it, Gold's value beside its recomputation from them, and from a contact
//! its raw Bronze line, with back and forward like a browser.

use serde::{Deserialize, Serialize};

use crate::gold::health::{Kpi, Totals};
use crate::gold::read::{Grain, Selection};
use crate::lake::Lake;
use crate::query::lineage::{self, Group, Recount, Rules};
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

/// A place in the pane's back/forward history: a query, or the contacts of a Gold group.
#[derive(Debug, Clone, PartialEq)]
enum Visit {
    Sql(String),
    Contacts(Group),
}

/// The contacts of a Gold group: Gold's numbers and the ones recounted from the rows.
pub struct Drill {
    pub group: Group,
    pub queue_name: String,
    /// Gold's rows of the group, combined (none when Gold has no row for it).
    pub gold: Option<Totals>,
    pub recount: Result<Recount, String>,
}

/// What a run brought back.
struct Ran {
    sql: String,
    result: QueryResult,
    drill: Option<Drill>,
}

#[derive(Default)]
pub struct SqlPane {
    /// The query text and history (saved between runs of the app).
    pub settings: SqlSettings,
    running: Option<Fetch<Ran>>,
    result: Option<(f64, DataGrid, QueryResult)>,
    /// The contacts of a Gold group, when that is what the result is.
    pub drill: Option<Drill>,
    error: Option<String>,
    export: Saving,
    /// Back/forward: the places visited and where we are among them.
    visits: Vec<Visit>,
    at: usize,
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
        self.go(rt, ctx, lake, Visit::Sql(sql));
    }

    /// Shows the contacts behind a Gold group, with Gold's numbers and their recount.
    pub fn show_contacts(
        &mut self,
        rt: &tokio::runtime::Handle,
        ctx: &egui::Context,
        lake: &Lake,
        group: Group,
    ) {
        self.go(rt, ctx, lake, Visit::Contacts(group));
    }

    /// Visits a new place: what was ahead of the current one is forgotten, as in a browser.
    fn go(&mut self, rt: &tokio::runtime::Handle, ctx: &egui::Context, lake: &Lake, v: Visit) {
        self.visits.truncate(self.at + 1);
        if self.visits.last() != Some(&v) {
            self.visits.push(v.clone());
        }
        self.at = self.visits.len() - 1;
        self.start(rt, ctx, lake, v);
    }

    fn start(&mut self, rt: &tokio::runtime::Handle, ctx: &egui::Context, lake: &Lake, v: Visit) {
        if let Visit::Sql(sql) = &v {
            let history = &mut self.settings.history;
            history.retain(|h| h.trim() != sql.trim());
            history.insert(0, sql.clone());
            history.truncate(50);
        }
        let l = lake.clone();
        self.running = Some(Fetch::spawn(rt, ctx, async move {
            match v {
                Visit::Sql(sql) => {
                    let c = query::session(&l).await.map_err(|e| e.to_string())?;
                    let result = query::run(&c, &sql).await.map_err(|e| e.to_string())?;
                    Ok(Ran {
                        sql,
                        result,
                        drill: None,
                    })
                }
                Visit::Contacts(group) => contacts(&l, group).await,
            }
        }));
    }

    /// Goes `step` places back (-1) or forward (+1) in the history.
    fn step(&mut self, rt: &tokio::runtime::Handle, ctx: &egui::Context, lake: &Lake, step: isize) {
        let Some(at) = self
            .at
            .checked_add_signed(step)
            .filter(|a| *a < self.visits.len())
        else {
            return;
        };
        self.at = at;
        let v = self.visits[at].clone();
        self.start(rt, ctx, lake, v);
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
        let (back, forward) = ui.input(|i| {
            let alt = i.modifiers.alt;
            (
                alt && i.key_pressed(egui::Key::ArrowLeft),
                alt && i.key_pressed(egui::Key::ArrowRight),
            )
        });
        let can_back = !busy && self.at > 0;
        let can_forward = !busy && self.at + 1 < self.visits.len();
        let b = ui
            .add_enabled(can_back, egui::Button::new("< Back"))
            .on_hover_text("Alt+Left");
        if can_back && (b.clicked() || back) {
            self.step(ctx.rt, ui.ctx(), lake, -1);
        }
        let f = ui
            .add_enabled(can_forward, egui::Button::new("Forward >"))
            .on_hover_text("Alt+Right");
        if can_forward && (f.clicked() || forward) {
            self.step(ctx.rt, ui.ctx(), lake, 1);
        }
        ui.separator();
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
                Ok(Ran { sql, result, drill }) => {
                    let source = Source::Memory {
                        schema: result.schema.clone(),
                        batches: result.batches.clone(),
                    };
                    self.settings.text = sql;
                    self.result = Some((secs, DataGrid::new(ctx.rt, source), result));
                    self.drill = drill;
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
            self.running = None;
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(d) = &self.drill {
            drill_banner(ui, d);
        }
        let mut open = None;
        if let Some((secs, grid, r)) = &mut self.result {
            let rows = crate::format::thousands(r.num_rows() as u64);
            ui.horizontal(|ui| {
                ui.weak(format!("{rows} rows in {secs:.2} s"));
                open = bronze_line_button(ui, grid);
            });
            raw_line(ui, grid);
            grid.ui(ui);
        } else if self.error.is_none() {
            let names: Vec<&str> = query::TABLES.iter().map(|t| t.name).collect();
            ui.weak(format!(
                "Results appear here. Tables: {}.",
                names.join(", ")
            ));
        }
        if let (Some(sql), Some(lake)) = (open, ctx.lake) {
            self.go(ctx.rt, ui.ctx(), lake, Visit::Sql(sql));
        }
    }
}

/// The contacts of a group, with Gold's rows of it and the KPIs recounted from them.
async fn contacts(lake: &Lake, group: Group) -> Result<Ran, String> {
    let pipeline = crate::config::load_pipeline(lake)
        .await
        .map_err(|e| e.to_string())?;
    let rules = Rules {
        service_level_seconds: pipeline.service_level_seconds,
        short_abandon_seconds: pipeline.short_abandon_seconds,
        fcr_window_days: pipeline.fcr_window_days,
    };
    let sql = lineage::contacts_behind(&group, &rules);
    let c = query::session(lake).await.map_err(|e| e.to_string())?;
    let result = query::run(&c, &sql).await.map_err(|e| e.to_string())?;
    let grain = match group.hour {
        Some(_) => Grain::Hourly,
        None => Grain::Daily,
    };
    let sel = Selection {
        from: Some(group.from),
        to: Some(group.to),
        queue_id: Some(group.queue_id.clone()),
    };
    let rows = crate::gold::read::rows(lake, grain, &sel)
        .await
        .map_err(|e| e.to_string())?;
    let rows: Vec<_> = (rows.into_iter())
        .filter(|r| group.hour.is_none() || r.hour.map(|h| h as u32) == group.hour)
        .collect();
    let gold = (!rows.is_empty()).then(|| {
        let mut t = Totals::default();
        rows.iter().for_each(|r| t.add(r));
        t
    });
    let queue_name = rows
        .first()
        .map(|r| r.queue_name.clone())
        .unwrap_or_default();
    let drill = Drill {
        recount: lineage::recompute(&result.batches),
        group,
        queue_name,
        gold,
    };
    Ok(Ran {
        sql,
        result,
        drill: Some(drill),
    })
}

/// Gold's numbers of the group beside the same KPIs recounted from the contacts listed.
fn drill_banner(ui: &mut egui::Ui, d: &Drill) {
    ui.heading(format!(
        "Contacts behind Gold: {}",
        d.group.describe(&d.queue_name)
    ));
    let recount = match &d.recount {
        Ok(r) => r,
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("cannot recount: {e}"));
            return;
        }
    };
    let Some(gold) = &d.gold else {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "Gold has no row for this group (rebuild Gold if Silver changed since)",
        );
        return;
    };
    let fmt = |kpi: Kpi, v: Option<f64>| match (v, kpi.unit()) {
        (None, _) => "–".to_string(),
        (Some(v), "%") => format!("{v:.2} %"),
        (Some(v), "s") => format!("{v:.2} s"),
        (Some(v), _) => format!("{v:.2}"),
    };
    egui::Grid::new("drill_check")
        .striped(true)
        .spacing([20.0, 2.0])
        .show(ui, |ui| {
            ui.weak("");
            ui.weak("Contacts");
            for kpi in Kpi::ALL {
                ui.weak(kpi.label());
            }
            ui.end_row();
            ui.strong("Gold");
            ui.label(gold.total.to_string());
            for kpi in Kpi::ALL {
                ui.label(fmt(kpi, gold.value(kpi)));
            }
            ui.end_row();
            ui.strong("Recomputed from these rows");
            ui.label(recount.totals.total.to_string());
            for kpi in Kpi::ALL {
                let (g, r) = (gold.value(kpi), recount.value(kpi));
                let same = match (g, r) {
                    (Some(g), Some(r)) => (g - r).abs() < 0.005,
                    (None, None) => true,
                    _ => false,
                };
                match same {
                    true => ui.label(fmt(kpi, r)),
                    false => ui.colored_label(ui.visuals().error_fg_color, fmt(kpi, r) + " ≠"),
                };
            }
            ui.end_row();
        });
    ui.weak("within_sl, short_abandon and fcr say how each contact counts; fcr = repeat when the caller came back within the window (came_back_at).");
}

/// With a contact selected: the button that opens its raw Bronze line.
fn bronze_line_button(ui: &mut egui::Ui, grid: &mut DataGrid) -> Option<String> {
    let i = grid.selected?;
    let values = grid.row_values(ui.ctx(), i)?;
    let get = |c: &str| values.iter().find(|(n, _)| n == c).map(|(_, v)| v.clone());
    let (file, contact) = (get("_bronze_file")?, get("contact_id")?);
    let sql = lineage::bronze_line_of_row(&file, &contact)?;
    let open = ui
        .button("Open its Bronze line")
        .on_hover_text(format!("contact {contact} in {file}"));
    open.clicked().then_some(sql)
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
            // The generated query of a Gold group is long: it gives the rows the room.
            let max = if self.drill.is_some() { 110.0 } else { 260.0 };
            let text = &mut self.settings.text;
            let scroll = egui::ScrollArea::vertical()
                .id_salt("sql_text")
                .max_height(max);
            let editor = scroll.show(ui, |ui| {
                ui.add(
                    egui::TextEdit::multiline(text)
                        .code_editor()
                        .desired_rows(6)
                        .desired_width(f32::INFINITY)
                        .hint_text("SELECT … FROM silver_contacts …"),
                )
            });
            let editor = editor.inner;
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

/// A raw Bronze line (the selected row's, or the only row's) in full, pretty-printed above
/// the grid, under the file and line it is.
fn raw_line(ui: &mut egui::Ui, grid: &mut DataGrid) {
    let row = match (grid.selected, grid.total()) {
        (Some(i), _) => i,
        (None, Some(1)) => 0,
        _ => return,
    };
    let Some(values) = grid.row_values(ui.ctx(), row) else {
        return;
    };
    let get = |c: &str| values.iter().find(|(n, _)| n == c).map(|(_, v)| v.clone());
    let Some(raw) = get("raw") else { return };
    let line = get("line").unwrap_or_default();
    let file = get("bronze_file").unwrap_or_default();
    ui.horizontal(|ui| {
        ui.strong(format!("Raw line {line}"));
        ui.weak(file);
    });
    egui::ScrollArea::vertical()
        .id_salt("raw_line")
        .max_height(ui.available_height() * 0.6)
        .show(ui, |ui| {
            let text = egui::RichText::new(crate::ui::grid::pretty_json(raw)).monospace();
            ui.add(egui::Label::new(text).selectable(true));
        });
}
