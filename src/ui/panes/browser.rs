//! The partition browser: layers → tables → partitions, and the rows of whatever is selected
//! in the data grid, with a raw Bronze line's lineage to its Silver row and back.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::format::{bytes, thousands};
use crate::lake::Lake;
use crate::lake::delta::{Commit, SILVER_CONTACTS, TableStats};
use crate::lake::inventory::{Inventory, PartitionStats};
use crate::ui::fetch::Fetch;
use crate::ui::grid::{DataGrid, Source, static_table};

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Node {
    BronzeAll {
        event_type: String,
    },
    BronzeDay {
        event_type: String,
        date: NaiveDate,
    },
    BronzeHour {
        event_type: String,
        hour: DateTime<Utc>,
    },
    Table {
        rel: String,
    },
    TablePartition {
        rel: String,
        date: String,
    },
}

impl Node {
    /// The SQL name of a Delta table the tree lists (the tree lists only the lake's tables;
    /// any other name would make the query fail by name, not read another table).
    fn sql_table(rel: &str) -> String {
        crate::query::sql_name(rel).map_or_else(|| rel.replace('/', "_"), str::to_string)
    }

    /// The query that lists the node's rows.
    pub fn sql(&self) -> String {
        let et = |s: &str| s.replace('\'', "''");
        match self {
            Node::BronzeAll { event_type } => format!(
                "SELECT date, hour, line, raw, bronze_file, tier FROM bronze_events WHERE event_type = '{}'",
                et(event_type)
            ),
            Node::BronzeDay { event_type, date } => format!(
                "SELECT date, hour, line, raw, bronze_file, tier FROM bronze_events WHERE event_type = '{}' AND date = DATE '{date}'",
                et(event_type)
            ),
            Node::BronzeHour { event_type, hour } => format!(
                "SELECT date, hour, line, raw, bronze_file, tier FROM bronze_events WHERE event_type = '{}' AND date = DATE '{}' AND hour = {}",
                et(event_type),
                hour.date_naive(),
                hour.format("%H").to_string().parse::<u32>().unwrap_or(0)
            ),
            Node::Table { rel } => format!("SELECT * FROM {}", Self::sql_table(rel)),
            Node::TablePartition { rel, date } => format!(
                "SELECT * FROM {} WHERE date = DATE '{}'",
                Self::sql_table(rel),
                date.replace('\'', "")
            ),
        }
    }

    pub fn title(&self) -> String {
        match self {
            Node::BronzeAll { event_type } => format!("Bronze {event_type}: every line"),
            Node::BronzeDay { event_type, date } => format!("Bronze {event_type} {date}"),
            Node::BronzeHour { event_type, hour } => {
                format!("Bronze {event_type} {}", hour.format("%Y-%m-%d %H:00 UTC"))
            }
            Node::Table { rel } => rel.clone(),
            Node::TablePartition { rel, date } => format!("{rel} date={date}"),
        }
    }

    fn is_bronze(&self) -> bool {
        matches!(
            self,
            Node::BronzeAll { .. } | Node::BronzeDay { .. } | Node::BronzeHour { .. }
        )
    }

    fn is_silver_contacts(&self) -> bool {
        matches!(self, Node::Table { rel } | Node::TablePartition { rel, .. } if rel == SILVER_CONTACTS)
    }
}

/// The browser pane.
#[derive(Default)]
pub struct BrowserPane {
    loaded_for: Option<(String, u64)>,
    inventory: Option<Fetch<Inventory>>,
    pub selected: Option<Node>,
    grid: Option<(Node, DataGrid)>,
    history: Option<(String, Fetch<Vec<Commit>>)>,
    lineage: Option<(usize, Fetch<Vec<arrow::record_batch::RecordBatch>>)>,
}

/// The table's last commits, newest first.
async fn read_history(lake: Lake, rel: String) -> Result<Vec<Commit>, String> {
    crate::lake::delta::history(&lake, &rel, 30)
        .await
        .map_err(|e| e.to_string())
}

impl BrowserPane {
    /// Partitions the tree shows (for tests and the status line).
    pub fn inventory(&mut self) -> Option<&Inventory> {
        self.inventory.as_mut()?.ok()
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        rt: &tokio::runtime::Handle,
        lake: Option<&Lake>,
        generation: u64,
    ) {
        let Some(lake) = lake else {
            ui.label("Open a lake to browse it.");
            return;
        };
        let key = (lake.location().to_string(), generation);
        if self.loaded_for.as_ref() != Some(&key) {
            self.loaded_for = Some(key);
            let l = lake.clone();
            self.inventory = Some(Fetch::spawn(rt, ui.ctx(), async move {
                crate::lake::inventory::inventory(&l)
                    .await
                    .map_err(|e| e.to_string())
            }));
            // The data may have changed under the grid: rebuild it on the next frame.
            self.grid = None;
            self.history = None;
        }
        let mut select: Option<Node> = None;
        egui::Panel::left("browser_tree")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("tree").show(ui, |ui| {
                    let Some(f) = self.inventory.as_mut() else {
                        return;
                    };
                    match f.poll() {
                        None => {
                            ui.spinner();
                        }
                        Some(Err(e)) => {
                            ui.colored_label(ui.visuals().error_fg_color, e);
                        }
                        Some(Ok(inv)) => {
                            let inv = inv.clone();
                            tree_ui(ui, &inv, self.selected.as_ref(), &mut select);
                        }
                    }
                });
            });
        if let Some(n) = select {
            self.selected = Some(n);
            self.lineage = None;
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let Some(node) = self.selected.clone() else {
                ui.heading("Pick a layer, table or partition on the left");
                ui.label("Bronze shows raw lines as ingested; Silver and Gold show Delta rows. The SQL pane queries the same tables.");
                return;
            };
            if self.grid.as_ref().is_none_or(|(n, _)| *n != node) {
                let grid = DataGrid::new(
                    rt,
                    Source::Lake {
                        lake: lake.clone(),
                        sql: node.sql(),
                    },
                );
                self.grid = Some((node.clone(), grid));
                self.lineage = None;
            }
            ui.heading(node.title());
            if let Node::Table { rel } | Node::TablePartition { rel, .. } = &node {
                self.history_ui(ui, rt, lake, rel);
            }
            let Some((_, grid)) = self.grid.as_mut() else {
                return;
            };
            let selected = grid.selected;
            let detail_h = if selected.is_some() { 220.0 } else { 0.0 };
            if let Some(i) = selected {
                egui::Panel::bottom("row_detail")
                    .resizable(true)
                    .default_size(detail_h)
                    .show(ui, |ui| {
                        let values = grid.row_values(ui.ctx(), i);
                        row_detail(ui, rt, lake, &node, i, values, &mut self.lineage);
                    });
            }
            grid.ui(ui);
        });
    }

    fn history_ui(
        &mut self,
        ui: &mut egui::Ui,
        rt: &tokio::runtime::Handle,
        lake: &Lake,
        rel: &str,
    ) {
        if self.history.as_ref().is_none_or(|(r, _)| r != rel) {
            self.history = Some((
                rel.to_string(),
                Fetch::spawn(rt, ui.ctx(), read_history(lake.clone(), rel.to_string())),
            ));
        }
        let Some((_, f)) = self.history.as_mut() else {
            return;
        };
        egui::CollapsingHeader::new("Table history (Delta log)")
            .id_salt("history")
            .show(ui, |ui| match f.poll() {
                None => {
                    ui.spinner();
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                Some(Ok(commits)) => {
                    egui::Grid::new("commits").striped(true).show(ui, |ui| {
                        ui.strong("version");
                        ui.strong("when (UTC)");
                        ui.strong("operation");
                        ui.strong("what");
                        ui.end_row();
                        for c in commits {
                            ui.label(c.version.to_string());
                            ui.label(
                                c.timestamp
                                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                                    .unwrap_or_default(),
                            );
                            ui.label(&c.operation);
                            ui.label(&c.detail);
                            ui.end_row();
                        }
                    });
                }
            });
    }
}

fn tree_ui(ui: &mut egui::Ui, inv: &Inventory, selected: Option<&Node>, select: &mut Option<Node>) {
    let mut leaf = |ui: &mut egui::Ui, node: Node, text: String, hover: String| {
        let on = selected == Some(&node);
        if ui.selectable_label(on, text).on_hover_text(hover).clicked() {
            *select = Some(node);
        }
    };
    egui::CollapsingHeader::new(egui::RichText::new("Bronze").strong())
        .id_salt("bronze")
        .default_open(true)
        .show(ui, |ui| {
            if inv.bronze.is_empty() {
                ui.weak("empty");
            }
            for e in &inv.bronze {
                egui::CollapsingHeader::new(format!(
                    "{}  ({} records)",
                    e.event_type,
                    thousands(e.records)
                ))
                .id_salt(("et", &e.event_type))
                .show(ui, |ui| {
                    leaf(
                        ui,
                        Node::BronzeAll {
                            event_type: e.event_type.clone(),
                        },
                        "every line".into(),
                        format!("{} files, {}", thousands(e.files as u64), bytes(e.bytes)),
                    );
                    let parts: Vec<&PartitionStats> = inv
                        .partitions
                        .iter()
                        .filter(|p| p.event_type == e.event_type)
                        .collect();
                    let mut days: std::collections::BTreeMap<NaiveDate, Vec<&PartitionStats>> =
                        Default::default();
                    for p in parts {
                        days.entry(p.hour.date_naive()).or_default().push(p);
                    }
                    for (day, hours) in days {
                        let records: u64 = hours.iter().map(|p| p.records).sum();
                        let cold = hours.iter().any(|p| p.tier == "cold");
                        egui::CollapsingHeader::new(format!(
                            "{day}  {} rec{}",
                            thousands(records),
                            if cold { " · cold" } else { "" }
                        ))
                        .id_salt(("day", &e.event_type, day))
                        .show(ui, |ui| {
                            leaf(
                                ui,
                                Node::BronzeDay {
                                    event_type: e.event_type.clone(),
                                    date: day,
                                },
                                "whole day".into(),
                                String::new(),
                            );
                            for p in hours {
                                leaf(
                                    ui,
                                    Node::BronzeHour {
                                        event_type: e.event_type.clone(),
                                        hour: p.hour,
                                    },
                                    format!(
                                        "hour={}  {} rec{}",
                                        p.hour.format("%H"),
                                        thousands(p.records),
                                        if p.tier == "cold" { " · cold" } else { "" }
                                    ),
                                    format!(
                                        "{} partition: {} files, {}",
                                        p.tier,
                                        p.files,
                                        bytes(p.bytes)
                                    ),
                                );
                            }
                        });
                    }
                });
            }
        });
    for (layer, prefix) in [("Silver", "silver/"), ("Gold", "gold/")] {
        egui::CollapsingHeader::new(egui::RichText::new(layer).strong())
            .id_salt(layer)
            .default_open(true)
            .show(ui, |ui| {
                for t in inv.tables.iter().filter(|t| t.name.starts_with(prefix)) {
                    table_node(ui, t, selected, select);
                }
            });
    }
}

fn table_node(
    ui: &mut egui::Ui,
    t: &TableStats,
    selected: Option<&Node>,
    select: &mut Option<Node>,
) {
    let Some(version) = t.version else {
        ui.weak(format!("{}: not built yet", t.name));
        return;
    };
    egui::CollapsingHeader::new(format!(
        "{}  ({} rows, v{version})",
        t.name.split('/').nth(1).unwrap_or(&t.name),
        thousands(t.rows)
    ))
    .id_salt(("table", &t.name))
    .show(ui, |ui| {
        let node = Node::Table {
            rel: t.name.clone(),
        };
        if ui
            .selectable_label(selected == Some(&node), "all rows")
            .on_hover_text(format!(
                "{} files, {}, version {version}",
                t.files,
                bytes(t.bytes)
            ))
            .clicked()
        {
            *select = Some(node);
        }
        for p in &t.partitions {
            let node = Node::TablePartition {
                rel: t.name.clone(),
                date: p.date.clone(),
            };
            if ui
                .selectable_label(
                    selected == Some(&node),
                    format!("{}  {} rows", p.date, thousands(p.rows)),
                )
                .on_hover_text(format!(
                    "date={}: {} rows in {} file(s), {}, last modified {}",
                    p.date,
                    thousands(p.rows),
                    p.files,
                    bytes(p.bytes),
                    p.last_modified.format("%Y-%m-%d %H:%M:%S UTC")
                ))
                .clicked()
            {
                *select = Some(node);
            }
        }
    });
}

/// The selected row in full, and its lineage: a Bronze line's Silver row, or a Silver row's
/// Bronze line.
fn row_detail(
    ui: &mut egui::Ui,
    rt: &tokio::runtime::Handle,
    lake: &Lake,
    node: &Node,
    row: usize,
    values: Option<Vec<(String, String)>>,
    lineage: &mut Option<(usize, Fetch<Vec<arrow::record_batch::RecordBatch>>)>,
) {
    let Some(values) = values else {
        ui.spinner();
        return;
    };
    let get = |c: &str| {
        values
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        egui::ScrollArea::vertical().id_salt("detail_left").show(ui, |ui| {
            if node.is_bronze() {
                ui.strong(format!("Raw line {}", get("line")));
                ui.add(egui::Label::new(egui::RichText::new(get("bronze_file")).weak().small()).wrap());
                let raw = get("raw");
                let pretty = serde_json::from_str::<serde_json::Value>(&raw)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or(raw);
                ui.add(egui::Label::new(egui::RichText::new(pretty).monospace()).selectable(true));
            } else {
                key_values(ui, "row_values", &values);
            }
        });
        let ui = &mut cols[1];
        let sql = if node.is_bronze() {
            let raw: serde_json::Value = serde_json::from_str(&get("raw")).unwrap_or_default();
            let id = ["conversationId", "contactId", "contact_id", "event_id"]
                .iter()
                .find_map(|k| raw.get(*k))
                .map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string()));
            id.map(|id| {
                format!(
                    "SELECT * FROM silver_contacts WHERE contact_id = '{}'",
                    id.replace('\'', "''")
                )
            })
        } else if node.is_silver_contacts() {
            let file = get("_bronze_file");
            let id = get("contact_id");
            (!file.is_empty()).then(|| {
                format!(
                    "SELECT bronze_file, line, raw FROM bronze_contacts WHERE bronze_file = '{}' AND raw LIKE '%{}%'",
                    file.replace('\'', "''"),
                    id.replace('\'', "''").replace('%', "")
                )
            })
        } else {
            None
        };
        let Some(sql) = sql else {
            ui.weak("No lineage for this row.");
            return;
        };
        ui.strong(if node.is_bronze() {
            "Lineage: the Silver row built from this line"
        } else {
            "Lineage: the Bronze line this row was built from"
        });
        if lineage.as_ref().is_none_or(|(r, _)| *r != row) {
            let l = lake.clone();
            *lineage = Some((
                row,
                Fetch::spawn(rt, ui.ctx(), async move {
                    let ctx = crate::query::session(&l).await.map_err(|e| e.to_string())?;
                    crate::query::run(&ctx, &sql)
                        .await
                        .map(|r| r.batches)
                        .map_err(|e| e.to_string())
                }),
            ));
        }
        let Some((_, f)) = lineage.as_mut() else {
            return;
        };
        match f.poll() {
            None => {
                ui.spinner();
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            Some(Ok(b)) => {
                let b = b.clone();
                let rows: usize = b.iter().map(|b| b.num_rows()).sum();
                if rows == 0 {
                    ui.weak("not found (the line may be a duplicate that lost to a later copy, or Silver is not built yet)");
                } else if rows == 1 {
                    // One match: show it in full, the raw JSON pretty-printed.
                    let batch = b.iter().find(|b| b.num_rows() == 1).cloned();
                    if let Some(batch) = batch {
                        let values: Vec<(String, String)> = batch
                            .schema()
                            .fields()
                            .iter()
                            .zip(batch.columns())
                            .map(|(f, c)| {
                                let v = crate::ui::grid::cell_text(c, 0);
                                let v = if f.name() == "raw" {
                                    serde_json::from_str::<serde_json::Value>(&v)
                                        .ok()
                                        .and_then(|j| serde_json::to_string_pretty(&j).ok())
                                        .unwrap_or(v)
                                } else {
                                    v
                                };
                                (f.name().clone(), v)
                            })
                            .collect();
                        egui::ScrollArea::vertical().id_salt("lineage_one").show(ui, |ui| {
                            key_values(ui, "lineage_values", &values);
                        });
                    }
                } else {
                    static_table(ui, "lineage", &b, 160.0);
                }
            }
        }
    });
}

/// Column name and value, one per line.
fn key_values(ui: &mut egui::Ui, id: &str, values: &[(String, String)]) {
    let width = ui.available_width();
    egui::Grid::new(id)
        .striped(true)
        .num_columns(2)
        .min_col_width(width * 0.25)
        .max_col_width(width * 0.7)
        .show(ui, |ui| {
            for (n, v) in values {
                ui.strong(n);
                let text = if v.contains('\n') {
                    egui::RichText::new(v).monospace()
                } else {
                    egui::RichText::new(v)
                };
                ui.add(egui::Label::new(text).selectable(true).wrap());
                ui.end_row();
            }
        });
}
