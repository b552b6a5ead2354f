//! The data grid: a virtualized table over a query's rows. Only the visible rows are built
//! each frame (egui_extras `TableBuilder::rows`), and rows come either from memory (a SQL
//! result) or page by page from the lake (a table or partition of any size: each 500-row page
//! is its own `LIMIT … OFFSET` query run in the background, so scrolling a 2-million-row table
//! never waits). Sorting, filtering and column stats are queries too.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::{SessionConfig, SessionContext};
use egui_extras::{Column, TableBuilder};

use super::fetch::Fetch;
use crate::lake::Lake;

const PAGE: usize = 500;
const ROW_HEIGHT: f32 = 20.0;

/// Rows to show.
pub enum Source {
    /// A finished result, held in memory.
    Memory {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    /// A query over the lake (`SELECT … FROM …`), fetched a page at a time.
    Lake { lake: Lake, sql: String },
}

/// What the user asked the grid for.
#[derive(Debug, Clone, Default, PartialEq)]
struct View {
    filter: String,
    sort: Option<(String, bool)>,
}

/// Rows of the current view, and where they come from.
struct Rows {
    view: View,
    total: Fetch<usize>,
    /// Memory: one page holds everything. Lake: page index → rows.
    pages: HashMap<usize, Fetch<Vec<RecordBatch>>>,
    /// For memory sources: the sorted/filtered rows.
    memory: Option<Fetch<Vec<RecordBatch>>>,
}

/// A grid over one source.
pub struct DataGrid {
    rt: tokio::runtime::Handle,
    source: Arc<SourceInner>,
    schema: Option<SchemaRef>,
    schema_fetch: Option<Fetch<SchemaRef>>,
    rows: Option<Rows>,
    filter_input: String,
    view: View,
    pub selected: Option<usize>,
    stats: Option<Fetch<Vec<RecordBatch>>>,
    show_stats: bool,
    /// Set while the user types a filter that failed: shown in red.
    error: Option<String>,
}

enum SourceInner {
    Memory {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    Lake {
        lake: Lake,
        sql: String,
    },
}

/// A DataFusion session over the source: the lake's tables, or the in-memory result as `t`.
/// One target partition keeps an unsorted scan in a stable order, so pages fit together.
async fn session(source: &SourceInner) -> Result<SessionContext, String> {
    match source {
        SourceInner::Memory { schema, batches } => {
            let ctx =
                SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
            let mem =
                datafusion::datasource::MemTable::try_new(schema.clone(), vec![batches.clone()])
                    .map_err(|e| e.to_string())?;
            ctx.register_table("t", Arc::new(mem))
                .map_err(|e| e.to_string())?;
            Ok(ctx)
        }
        SourceInner::Lake { lake, .. } => {
            crate::query::session_with(lake, SessionConfig::new().with_target_partitions(1))
                .await
                .map_err(|e| e.to_string())
        }
    }
}

fn base_sql(source: &SourceInner) -> String {
    match source {
        SourceInner::Memory { .. } => "SELECT * FROM t".into(),
        SourceInner::Lake { sql, .. } => sql.clone(),
    }
}

fn view_sql(source: &SourceInner, view: &View) -> String {
    let mut sql = format!("SELECT * FROM ({}) AS base", base_sql(source));
    if !view.filter.trim().is_empty() {
        sql.push_str(&format!(" WHERE {}", view.filter));
    }
    if let Some((col, asc)) = &view.sort {
        sql.push_str(&format!(
            " ORDER BY \"{}\" {} NULLS LAST",
            col.replace('"', "\"\""),
            if *asc { "ASC" } else { "DESC" }
        ));
    }
    sql
}

async fn collect(source: &SourceInner, sql: &str) -> Result<Vec<RecordBatch>, String> {
    let ctx = session(source).await?;
    let df = crate::query::user_sql(&ctx, sql)
        .await
        .map_err(|e| e.to_string())?;
    df.collect().await.map_err(|e| e.to_string())
}

impl DataGrid {
    pub fn new(rt: &tokio::runtime::Handle, source: Source) -> Self {
        let (inner, schema) = match source {
            Source::Memory { schema, batches } => (
                SourceInner::Memory {
                    schema: schema.clone(),
                    batches,
                },
                Some(schema),
            ),
            Source::Lake { lake, sql } => (SourceInner::Lake { lake, sql }, None),
        };
        DataGrid {
            rt: rt.clone(),
            source: Arc::new(inner),
            schema,
            schema_fetch: None,
            rows: None,
            filter_input: String::new(),
            view: View::default(),
            selected: None,
            stats: None,
            show_stats: false,
            error: None,
        }
    }

    fn is_memory(&self) -> bool {
        matches!(*self.source, SourceInner::Memory { .. })
    }

    /// Starts whatever the current view still needs.
    fn ensure(&mut self, ctx: &egui::Context) {
        if self.schema.is_none() && self.schema_fetch.is_none() {
            let src = self.source.clone();
            self.schema_fetch = Some(Fetch::spawn(&self.rt, ctx, async move {
                let c = session(&src).await?;
                let sql = format!("SELECT * FROM ({}) AS base LIMIT 0", base_sql(&src));
                let df = crate::query::user_sql(&c, &sql)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Arc::new(df.schema().as_arrow().clone()))
            }));
        }
        if let Some(f) = &mut self.schema_fetch
            && let Some(Ok(s)) = f.poll()
        {
            self.schema = Some(s.clone());
        }
        if self.rows.as_ref().is_some_and(|r| r.view == self.view) {
            return;
        }
        let view = self.view.clone();
        let src = self.source.clone();
        let sql = view_sql(&src, &view);
        let count_sql = format!("SELECT COUNT(*) AS n FROM ({sql}) AS v");
        let total = Fetch::spawn(&self.rt, ctx, async move {
            let b = collect(&src, &count_sql).await?;
            let n = b
                .first()
                .and_then(|b| {
                    arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::UInt64).ok()
                })
                .and_then(|a| {
                    a.as_any()
                        .downcast_ref::<arrow::array::UInt64Array>()
                        .map(|a| a.value(0))
                })
                .unwrap_or(0);
            Ok(n as usize)
        });
        let memory = if self.is_memory() {
            let src = self.source.clone();
            Some(Fetch::spawn(&self.rt, ctx, async move {
                collect(&src, &sql).await
            }))
        } else {
            None
        };
        self.rows = Some(Rows {
            view,
            total,
            pages: HashMap::new(),
            memory,
        });
        self.selected = None;
    }

    /// Total rows of the current view, once known.
    pub fn total(&mut self) -> Option<usize> {
        self.rows.as_mut()?.total.ok().copied()
    }

    /// The error of the current view, if its count failed (a bad filter, a bad query).
    fn view_error(&mut self) -> Option<String> {
        match self.rows.as_mut()?.total.poll() {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// The batch and row index holding global row `i`, if loaded; starts loading it if not.
    fn locate(&mut self, ctx: &egui::Context, i: usize) -> Option<(RecordBatch, usize)> {
        let rows = self.rows.as_mut()?;
        let (batches, mut local) = if let Some(mem) = &mut rows.memory {
            (mem.ok()?.clone(), i)
        } else {
            let page = i / PAGE;
            let fetch = rows.pages.entry(page).or_insert_with(|| {
                let src = self.source.clone();
                let sql = format!(
                    "{} LIMIT {PAGE} OFFSET {}",
                    view_sql(&src, &rows.view),
                    page * PAGE
                );
                Fetch::spawn(&self.rt, ctx, async move { collect(&src, &sql).await })
            });
            (fetch.ok()?.clone(), i % PAGE)
        };
        for b in batches {
            if local < b.num_rows() {
                return Some((b, local));
            }
            local -= b.num_rows();
        }
        None
    }

    /// One row as (column, text) pairs, if loaded.
    pub fn row_values(&mut self, ctx: &egui::Context, i: usize) -> Option<Vec<(String, String)>> {
        let (batch, r) = self.locate(ctx, i)?;
        Some(
            batch
                .schema()
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, c)| (f.name().clone(), cell_text(c, r)))
                .collect(),
        )
    }

    /// The filter, the stats switch and the row count.
    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label("Filter (SQL):");
            let resp = ui.add(
                egui::TextEdit::singleline(&mut self.filter_input)
                    .hint_text("e.g. queue_name = 'Claims' AND wait_seconds > 60")
                    .desired_width(380.0),
            );
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Apply").clicked() || enter {
                self.view.filter = self.filter_input.clone();
            }
            if !self.view.filter.is_empty() && ui.button("Clear").clicked() {
                self.filter_input.clear();
                self.view.filter.clear();
            }
            if ui
                .selectable_label(self.show_stats, "Column stats")
                .on_hover_text("Nulls, min, max and distinct values per column (like SUMMARIZE)")
                .clicked()
            {
                self.show_stats = !self.show_stats;
                self.stats = None;
            }
            match self.total() {
                Some(n) => {
                    ui.label(format!("{} rows", crate::format::thousands(n as u64)));
                }
                None => {
                    if self.view_error().is_none() {
                        ui.spinner();
                    }
                }
            }
        });
    }

    /// Draws the toolbar, the grid and (when asked) the column stats.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.ensure(&ctx);
        self.toolbar(ui);
        self.error = self.view_error();
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
            return;
        }
        if self.show_stats {
            self.stats_ui(ui);
            ui.separator();
        }
        let Some(schema) = self.schema.clone() else {
            ui.spinner();
            return;
        };
        let total = self.total().unwrap_or(0);
        let ncols = schema.fields().len();
        let mut clicked_sort: Option<String> = None;
        let mut clicked_row: Option<usize> = None;
        let selected = self.selected;
        egui::ScrollArea::horizontal().show(ui, |ui| {
            let mut table = TableBuilder::new(ui)
                .id_salt("grid")
                .striped(true)
                .resizable(true)
                .sense(egui::Sense::click())
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
            for _ in 0..ncols {
                table = table.column(Column::initial(130.0).at_least(40.0).clip(true));
            }
            table
                .header(22.0, |mut header| {
                    for f in schema.fields() {
                        header.col(|ui| {
                            let arrow = match &self.view.sort {
                                Some((c, true)) if c == f.name() => " (asc)",
                                Some((c, false)) if c == f.name() => " (desc)",
                                _ => "",
                            };
                            if ui
                                .button(
                                    egui::RichText::new(format!("{}{arrow}", f.name())).strong(),
                                )
                                .on_hover_text(format!("{}: click to sort", f.data_type()))
                                .clicked()
                            {
                                clicked_sort = Some(f.name().clone());
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(ROW_HEIGHT, total, |mut row| {
                        let i = row.index();
                        row.set_selected(selected == Some(i));
                        let located = self.locate(&ctx, i);
                        for c in 0..ncols {
                            row.col(|ui| match &located {
                                Some((b, r)) => {
                                    let text = b
                                        .columns()
                                        .get(c)
                                        .map(|col| cell_text(col, *r))
                                        .unwrap_or_default();
                                    ui.add(egui::Label::new(text).truncate().selectable(false));
                                }
                                None => {
                                    ui.weak("…");
                                }
                            });
                        }
                        if row.response().clicked() {
                            clicked_row = Some(i);
                        }
                    });
                });
        });
        if let Some(col) = clicked_sort {
            self.view.sort = match &self.view.sort {
                Some((c, true)) if *c == col => Some((col, false)),
                Some((c, false)) if *c == col => None,
                _ => Some((col, true)),
            };
        }
        if let Some(i) = clicked_row {
            self.selected = Some(i);
        }
    }

    fn stats_ui(&mut self, ui: &mut egui::Ui) {
        let Some(schema) = self.schema.clone() else {
            return;
        };
        if self.stats.is_none() {
            let parts: Vec<String> = schema
                .fields()
                .iter()
                .map(|f| {
                    let c = format!("\"{}\"", f.name().replace('"', "\"\""));
                    let name = f.name().replace('\'', "''");
                    let (min, max) = if f.data_type().is_nested() {
                        ("NULL".to_string(), "NULL".to_string())
                    } else {
                        (
                            format!("CAST(MIN({c}) AS VARCHAR)"),
                            format!("CAST(MAX({c}) AS VARCHAR)"),
                        )
                    };
                    format!(
                        "SELECT '{name}' AS column_name, '{}' AS column_type, \
                         COUNT(*) - COUNT({c}) AS nulls, {min} AS min, {max} AS max, \
                         approx_distinct({c}) AS approx_distinct FROM v",
                        f.data_type()
                    )
                })
                .collect();
            let sql = format!(
                "WITH v AS ({}) {}",
                view_sql(
                    &self.source,
                    &View {
                        sort: None,
                        ..self.view.clone()
                    }
                ),
                parts.join(" UNION ALL ")
            );
            let src = self.source.clone();
            self.stats = Some(Fetch::spawn(&self.rt, ui.ctx(), async move {
                collect(&src, &sql).await
            }));
        }
        let Some(stats) = &mut self.stats else { return };
        match stats.poll() {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("computing column stats…");
                });
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            Some(Ok(batches)) => {
                let batches = batches.clone();
                static_table(ui, "stats", &batches, 180.0);
            }
        }
    }
}

/// A small table of fully loaded batches (stats, summaries).
pub fn static_table(ui: &mut egui::Ui, id: &str, batches: &[RecordBatch], max_height: f32) {
    let Some(first) = batches.first() else {
        ui.weak("no rows");
        return;
    };
    let schema = first.schema();
    let rows: Vec<(usize, usize)> = batches
        .iter()
        .enumerate()
        .flat_map(|(bi, b)| (0..b.num_rows()).map(move |r| (bi, r)))
        .collect();
    ui.push_id(id, |ui| {
        let mut table = TableBuilder::new(ui)
            .striped(true)
            .resizable(true)
            .max_scroll_height(max_height)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
        for _ in schema.fields() {
            table = table.column(Column::initial(120.0).at_least(40.0).clip(true));
        }
        table
            .header(20.0, |mut h| {
                for f in schema.fields() {
                    h.col(|ui| {
                        ui.strong(f.name());
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, rows.len(), |mut row| {
                    let (bi, r) = rows[row.index()];
                    for c in batches[bi].columns() {
                        row.col(|ui| {
                            ui.add(egui::Label::new(cell_text(c, r)).truncate());
                        });
                    }
                });
            });
    });
}

/// A cell as text (empty for null).
pub fn cell_text(col: &ArrayRef, row: usize) -> String {
    if col.is_null(row) {
        return String::new();
    }
    let opts = FormatOptions::default();
    match ArrayFormatter::try_new(col.as_ref(), &opts) {
        Ok(f) => f.value(row).to_string(),
        Err(_) => String::new(),
    }
}

/// JSON pretty-printed, or the text as it is when it is not JSON.
pub fn pretty_json(text: String) -> String {
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(text)
}
