//! The selected row in full, and its lineage: a Bronze line's Silver row, or a Silver row's
//! Bronze line.

use arrow::record_batch::RecordBatch;

use super::Node;
use crate::lake::Lake;
use crate::query::{self, lineage};
use crate::ui::grid::{cell_text, pretty_json, static_table};
use crate::ui::pane::{Reloading, loaded};

/// The lineage rows of the selected row, by (node, row).
pub(super) type Lineage = Reloading<Vec<RecordBatch>, (Node, usize)>;

/// The row's values (or a raw line pretty-printed) on the left, its lineage on the right.
pub(super) fn row_detail(
    ui: &mut egui::Ui,
    rt: &tokio::runtime::Handle,
    lake: &Lake,
    node: &Node,
    row: usize,
    values: Option<Vec<(String, String)>>,
    lineage: &mut Lineage,
) {
    let Some(values) = values else {
        ui.spinner();
        return;
    };
    let get = |c: &str| {
        let value = values.iter().find(|(n, _)| n == c);
        value.map(|(_, v)| v.clone()).unwrap_or_default()
    };
    ui.columns(2, |cols| {
        // Columns lay out justified, which would spread a wrapped line letter by letter
        // across the width: the raw text is laid out from the left.
        let ui = &mut cols[0];
        let left = egui::Layout::top_down(egui::Align::Min);
        ui.with_layout(left, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("detail_left")
                .show(ui, |ui| {
                    if node.is_bronze() {
                        ui.strong(format!("Raw line {}", get("line")));
                        let file = egui::RichText::new(get("bronze_file")).weak().small();
                        ui.add(egui::Label::new(file).wrap());
                        let pretty = egui::RichText::new(pretty_json(get("raw"))).monospace();
                        ui.add(egui::Label::new(pretty).selectable(true));
                    } else {
                        key_values(ui, "row_values", &values);
                    }
                })
        });
        let ui = &mut cols[1];
        let sql = if node.is_bronze() {
            lineage::silver_rows_of_line(&get("raw"))
        } else if node.is_silver_contacts() {
            lineage::bronze_line_of_row(&get("_bronze_file"), &get("contact_id"))
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
        let l = lake.clone();
        let found = lineage.poll_with((node.clone(), row), rt, ui.ctx(), || async move {
            let ctx = query::session(&l).await.map_err(|e| e.to_string())?;
            let result = query::run(&ctx, &sql).await.map_err(|e| e.to_string())?;
            Ok(result.batches)
        });
        lineage_view(ui, found);
    });
}

/// What the lineage query found: one row in full, several in a table.
fn lineage_view(ui: &mut egui::Ui, found: Option<&Result<Vec<RecordBatch>, String>>) {
    let Some(batches) = loaded(ui, found) else {
        return;
    };
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        ui.weak("not found (the line may be a duplicate that lost to a later copy, or Silver is not built yet)");
        return;
    }
    if rows > 1 {
        static_table(ui, "lineage", batches, 160.0);
        return;
    }
    // One match: show it in full, the raw JSON pretty-printed.
    let Some(batch) = batches.iter().find(|b| b.num_rows() == 1) else {
        return;
    };
    let schema = batch.schema();
    let values: Vec<(String, String)> = (schema.fields().iter())
        .zip(batch.columns())
        .map(|(f, c)| {
            let v = cell_text(c, 0);
            let v = if f.name() == "raw" { pretty_json(v) } else { v };
            (f.name().clone(), v)
        })
        .collect();
    egui::ScrollArea::vertical()
        .id_salt("lineage_one")
        .show(ui, |ui| key_values(ui, "lineage_values", &values));
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
