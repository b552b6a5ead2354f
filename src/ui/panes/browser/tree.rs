//! The browser's tree: Bronze by event type, day and hour; Silver and Gold by table and date.

use chrono::NaiveDate;

use super::Node;
use crate::format::{bytes, thousands};
use crate::lake::delta::TableStats;
use crate::lake::inventory::{Inventory, PartitionStats};

/// The tree; a click puts the node in `select`.
pub(super) fn tree_ui(
    ui: &mut egui::Ui,
    inv: &Inventory,
    selected: Option<&Node>,
    select: &mut Option<Node>,
) {
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
