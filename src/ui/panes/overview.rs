//! The overview: what each layer of the open lake holds, and on an empty lake the offer to
//! create the demo lake.

use crate::format::{bytes, thousands};
use crate::lake::Lake;
use crate::lake::inventory::Inventory;
use crate::pipeline::Job;
use crate::ui::fetch::Fetch;
use crate::ui::jobs::Jobs;

#[derive(Default)]
pub struct OverviewPane {
    loaded_for: Option<(String, u64)>,
    pub inventory: Option<Fetch<Inventory>>,
}

impl OverviewPane {
    /// The inventory of the open lake (refreshed after each job).
    pub fn refresh(
        &mut self,
        rt: &tokio::runtime::Handle,
        ctx: &egui::Context,
        lake: &Lake,
        generation: u64,
    ) {
        let key = (lake.location().to_string(), generation);
        if self.loaded_for.as_ref() == Some(&key) {
            return;
        }
        self.loaded_for = Some(key);
        let l = lake.clone();
        self.inventory = Some(Fetch::spawn(rt, ctx, async move {
            crate::lake::inventory::inventory(&l)
                .await
                .map_err(|e| e.to_string())
        }));
    }

    /// True once the inventory says the lake has no ingested input.
    pub fn is_empty_lake(&mut self) -> Option<bool> {
        Some(self.inventory.as_mut()?.ok()?.ingested_inputs == 0)
    }

    /// Draws the pane; returns the job the user asked for (the demo lake).
    pub fn ui(&mut self, ui: &mut egui::Ui, lake: Option<&Lake>, jobs: &Jobs) -> Option<Job> {
        let mut request = None;
        self.draw(ui, lake, jobs, &mut request);
        request
    }

    fn draw(
        &mut self,
        ui: &mut egui::Ui,
        lake: Option<&Lake>,
        jobs: &Jobs,
        request: &mut Option<Job>,
    ) {
        let Some(lake) = lake else {
            ui.heading("No lake open");
            ui.label("Type a folder or an s3:// URL in the bar above and press Open.");
            return;
        };
        let Some(f) = self.inventory.as_mut() else {
            return;
        };
        let inv = match f.poll() {
            None => {
                ui.spinner();
                return;
            }
            Some(Err(e)) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("cannot read the lake: {e}"),
                );
                return;
            }
            Some(Ok(inv)) => inv.clone(),
        };
        if inv.ingested_inputs == 0 {
            ui.add_space(30.0);
            ui.vertical_centered(|ui| {
                ui.heading("This lake is empty");
                ui.label(lake.location());
                ui.add_space(10.0);
                ui.label("Create the demo lake: a month of generated Genesys Cloud, NICE CXone, Amazon Connect and generic exports\n(with planted PII, late files and a redelivery), ingested and processed to Gold in the background.");
                ui.add_space(10.0);
                let busy = jobs.is_busy();
                if ui.add_enabled(!busy, egui::Button::new(egui::RichText::new("Create demo lake").heading())).clicked() {
                    *request = Some(Job::Demo { days: 30, contacts_per_day: 2000 });
                }
                if busy {
                    ui.label("working… (progress in the status bar)");
                }
                ui.add_space(10.0);
                ui.weak("Or ingest your own exports from the Jobs pane, or drop files onto this window.");
            });
            return;
        }
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
                ui.label("records that could not be read (CLI: cclake quarantine)");
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
}
