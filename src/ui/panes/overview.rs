//! The overview: what each layer of the open lake holds, and on an empty lake the offer to
//! create the demo lake.

use crate::format::{bytes, thousands};
use crate::lake::Lake;
use crate::lake::inventory::{Inventory, inventory};
use crate::pipeline::Job;
use crate::ui::pane::{Pane, PaneContext, Reloading};

#[derive(Default)]
pub struct OverviewPane {
    inventory: Reloading<Inventory>,
}

async fn load(lake: Lake) -> Result<Inventory, String> {
    inventory(&lake).await.map_err(|e| e.to_string())
}

impl OverviewPane {
    /// True once the inventory says the lake has no ingested input (loads it when the lake or
    /// the generation changed; the app asks every frame, whichever pane shows).
    pub fn is_empty_lake(&mut self, ctx: &PaneContext<'_>, egui: &egui::Context) -> Option<bool> {
        let inv = self.inventory.poll(ctx, egui, load)?.as_ref().ok()?;
        Some(inv.ingested_inputs == 0)
    }
}

impl Pane for OverviewPane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        let Some(lake) = ctx.lake else {
            ui.heading("No lake open");
            ui.label("Type a folder or an s3:// URL in the bar above and press Open.");
            return;
        };
        let inv = match self.inventory.poll(ctx, ui.ctx(), load) {
            None => {
                ui.spinner();
                return;
            }
            Some(Err(e)) => {
                let e = format!("cannot read the lake: {e}");
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
            Some(Ok(inv)) => inv,
        };
        if inv.ingested_inputs == 0 {
            empty_lake(ui, lake, ctx);
        } else {
            layers(ui, inv);
        }
    }
}

/// On an empty lake: the offer to create the demo lake.
fn empty_lake(ui: &mut egui::Ui, lake: &Lake, ctx: &PaneContext<'_>) {
    ui.add_space(30.0);
    ui.vertical_centered(|ui| {
            ui.heading("This lake is empty");
            ui.label(lake.location());
            ui.add_space(10.0);
            ui.label("Create the demo lake: a month of generated Genesys Cloud, NICE CXone, Amazon Connect and generic exports\n(with planted PII, late files and a redelivery), ingested and processed to Gold in the background.");
            ui.add_space(10.0);
            let busy = ctx.jobs.is_busy();
            if ui.add_enabled(!busy, egui::Button::new(egui::RichText::new("Create demo lake").heading())).clicked() {
                ctx.submit(Job::Demo { days: 30, contacts_per_day: 2000 });
            }
            if busy {
                ui.label("working… (progress in the status bar)");
            }
            ui.add_space(10.0);
            ui.weak("Or ingest your own exports from the Jobs pane, or drop files onto this window.");
        });
}

/// What each layer holds.
fn layers(ui: &mut egui::Ui, inv: &Inventory) {
    ui.heading(format!("Lake {}", inv.location));
    ui.add_space(6.0);
    egui::Grid::new("layers")
        .striped(true)
        .spacing([24.0, 6.0])
        .show(ui, |ui| {
            ui.strong("Layer");
            ui.strong("What");
            ui.strong("Rows / records");
            ui.strong("Files");
            ui.strong("Size");
            ui.strong("Range");
            ui.end_row();
            for e in &inv.bronze {
                ui.label("Bronze");
                ui.label(&e.event_type);
                ui.label(thousands(e.records));
                ui.label(thousands(e.files as u64));
                ui.label(bytes(e.bytes));
                ui.label(format!(
                    "{} … {} (UTC hours)",
                    e.first_hour.format("%Y-%m-%d %H:00"),
                    e.last_hour.format("%Y-%m-%d %H:00")
                ));
                ui.end_row();
            }
            ui.label("Bronze");
            ui.label("quarantine");
            ui.label(thousands(inv.quarantine_records));
            ui.label(inv.quarantine_files.to_string());
            ui.label(bytes(inv.quarantine_bytes));
            ui.label("records that could not be read (the Quarantine pane)");
            ui.end_row();
            for t in &inv.tables {
                let layer = if t.name.starts_with("gold/") {
                    "Gold"
                } else {
                    "Silver"
                };
                ui.label(layer);
                ui.label(&t.name);
                match t.version {
                    None => {
                        ui.weak("not built");
                        ui.label("");
                        ui.label("");
                        ui.label("");
                    }
                    Some(v) => {
                        ui.label(thousands(t.rows));
                        ui.label(t.files.to_string());
                        ui.label(bytes(t.bytes));
                        ui.label(format!(
                            "{} dates ({} … {}), version {v}",
                            t.partitions.len(),
                            t.partitions.first().map(|p| p.date.as_str()).unwrap_or("-"),
                            t.partitions.last().map(|p| p.date.as_str()).unwrap_or("-")
                        ));
                    }
                }
                ui.end_row();
            }
        });
    ui.add_space(8.0);
    ui.label(format!(
        "{} input files in {} ingest batches{}",
        thousands(inv.ingested_inputs as u64),
        inv.batches,
        inv.last_ingest
            .map(|t| format!(", last {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default()
    ));
    let reconciled = format!(
        "records read {} = Bronze {} + quarantined {} + erased {} + retried {}",
        thousands(inv.records_read),
        thousands(inv.ledger_bronze_records),
        thousands(inv.quarantine_records),
        thousands(inv.erased_records),
        thousands(inv.retried_records),
    );
    match inv.reconciled() {
        true => ui.label(reconciled),
        false => ui.colored_label(
            ui.visuals().error_fg_color,
            reconciled + ": does not add up",
        ),
    };
    if inv.erasures_done > 0 {
        ui.label(format!(
            "{} data subject erasures done (Compliance, Data subject, audit log)",
            inv.erasures_done
        ));
    }
    for e in &inv.erasures_unfinished {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "erasure {} ({}) started {} is unfinished: the lake still holds part of that person. Run it again from Compliance, Data subject, or `cclake subject erase … --apply`.",
                e.id,
                e.reason,
                e.started_at.format("%Y-%m-%d %H:%M UTC")
            ),
        );
    }
    if inv.missing_files > 0 {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "{} Bronze files named by the ledger are missing from the store",
                inv.missing_files
            ),
        );
    }
}
