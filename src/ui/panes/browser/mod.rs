//! The partition browser: layers → tables → partitions, and the rows of whatever is selected
//! in the data grid, with a raw Bronze line's lineage to its Silver row and back.
mod detail;
mod tree;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::lake::Lake;
use crate::lake::delta::{self, Commit, SILVER_CONTACTS};
use crate::lake::inventory::{Inventory, inventory};
use crate::ui::grid::{DataGrid, Source};
use crate::ui::pane::{Pane, PaneContext, Reloading, loaded};

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    inventory: Reloading<Inventory>,
    pub selected: Option<Node>,
    /// The grid of the selected node, and the lake and generation it reads.
    grid: Option<(Node, (String, u64), DataGrid)>,
    /// The selected table's commits, by lake, generation and table.
    history: Reloading<Vec<Commit>, (String, u64, String)>,
    lineage: detail::Lineage,
}

async fn load(lake: Lake) -> Result<Inventory, String> {
    inventory(&lake).await.map_err(|e| e.to_string())
}

impl BrowserPane {
    /// Partitions the tree shows (for tests and the status line).
    pub fn inventory(&mut self) -> Option<&Inventory> {
        self.inventory.ok()
    }

    /// The selected node's rows, the table's history and the selected row's detail.
    fn selection(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>, lake: &Lake, node: Node) {
        let Some(data_key) = ctx.data_key() else {
            return;
        };
        // A new node, or data that may have changed under the grid: a new grid.
        if (self.grid.as_ref()).is_none_or(|(n, k, _)| *n != node || *k != data_key) {
            let source = Source::Lake {
                lake: lake.clone(),
                sql: node.sql(),
            };
            let grid = DataGrid::new(ctx.rt, source);
            self.grid = Some((node.clone(), data_key.clone(), grid));
            self.lineage.clear();
        }
        ui.heading(node.title());
        if let Node::Table { rel } | Node::TablePartition { rel, .. } = &node {
            let key = (data_key.0, data_key.1, rel.clone());
            let (l, r) = (lake.clone(), rel.clone());
            let commits = self
                .history
                .poll_with(key, ctx.rt, ui.ctx(), || async move {
                    delta::history(&l, &r, 30).await.map_err(|e| e.to_string())
                });
            history(ui, commits);
        }
        let Some((_, _, grid)) = self.grid.as_mut() else {
            return;
        };
        if let Some(i) = grid.selected {
            egui::Panel::bottom("row_detail")
                .resizable(true)
                .default_size(220.0)
                .show(ui, |ui| {
                    let values = grid.row_values(ui.ctx(), i);
                    detail::row_detail(ui, ctx.rt, lake, &node, i, values, &mut self.lineage);
                });
        }
        grid.ui(ui);
    }
}

impl Pane for BrowserPane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        let Some(lake) = ctx.lake else {
            ui.label("Open a lake to browse it.");
            return;
        };
        let mut select: Option<Node> = None;
        let inventory = self.inventory.poll(ctx, ui.ctx(), load);
        let selected = self.selected.as_ref();
        egui::Panel::left("browser_tree")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("tree").show(ui, |ui| {
                    if let Some(inv) = loaded(ui, inventory) {
                        tree::tree_ui(ui, inv, selected, &mut select);
                    }
                });
            });
        if let Some(n) = select {
            self.selected = Some(n);
            self.lineage.clear();
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let Some(node) = self.selected.clone() else {
                ui.heading("Pick a layer, table or partition on the left");
                ui.label("Bronze shows raw lines as ingested; Silver and Gold show Delta rows. The SQL pane queries the same tables.");
                return;
            };
            self.selection(ui, ctx, lake, node);
        });
    }
}

/// The table's Delta commits, newest first.
fn history(ui: &mut egui::Ui, commits: Option<&Result<Vec<Commit>, String>>) {
    egui::CollapsingHeader::new("Table history (Delta log)")
        .id_salt("history")
        .show(ui, |ui| {
            let Some(commits) = loaded(ui, commits) else {
                return;
            };
            egui::Grid::new("commits").striped(true).show(ui, |ui| {
                for h in ["version", "when (UTC)", "operation", "what"] {
                    ui.strong(h);
                }
                ui.end_row();
                for c in commits {
                    ui.label(c.version.to_string());
                    let when = c
                        .timestamp
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string());
                    ui.label(when.unwrap_or_default());
                    ui.label(&c.operation);
                    ui.label(&c.detail);
                    ui.end_row();
                }
            });
        });
}
