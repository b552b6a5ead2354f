//! The overview: the contact center's health on its last complete day (KPI tiles against the
//! week before, with two weeks of sparkline, and the queues with the worst service level),
//! the pipeline's health, the flow from exports to Gold with its counts, each source's
//! freshness, what each layer of the open lake holds, and on an empty lake the offer to create
//! the demo lake.

mod status;

use crate::format::{bytes, thousands};
use crate::gold::health::{Health, Kpi, Totals, change_words, health};
use crate::lake::Lake;
use crate::lake::inventory::{Inventory, inventory};
use crate::pipeline::Job;
use crate::ui::pane::AppCommand;
use crate::ui::pane::{Pane, PaneContext, Reloading};

#[derive(Default)]
pub struct OverviewPane {
    inventory: Reloading<Inventory>,
    health: Reloading<Option<Health>>,
    status: Reloading<status::Status>,
    /// Quarantined records when the user last looked at the Quarantine pane (the app keeps it
    /// between runs), for "new since your last look".
    pub quarantine_seen: Option<u64>,
}

async fn load(lake: Lake) -> Result<Inventory, String> {
    inventory(&lake).await.map_err(|e| e.to_string())
}

/// Gold's daily rows, as the health tiles need them (none before Gold is built).
async fn load_health(lake: Lake) -> Result<Option<Health>, String> {
    use crate::gold::read::{GoldReadError, Grain, Selection, rows};
    match rows(&lake, Grain::Daily, &Selection::default()).await {
        Ok(r) => Ok(health(&r, chrono::Utc::now().date_naive())),
        Err(GoldReadError::NotBuilt { .. }) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

impl OverviewPane {
    /// True once the inventory says the lake has no ingested input (loads it when the lake or
    /// the generation changed; the app asks every frame, whichever pane shows).
    pub fn is_empty_lake(&mut self, ctx: &PaneContext<'_>, egui: &egui::Context) -> Option<bool> {
        let inv = self.inventory.poll(ctx, egui, load)?.as_ref().ok()?;
        Some(inv.ingested_inputs == 0)
    }

    /// Quarantined records, once the inventory is loaded.
    pub fn quarantine_records(&self) -> Option<u64> {
        let inv = self.inventory.current()?.as_ref().ok()?;
        Some(inv.quarantine_records)
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
            return;
        }
        egui::ScrollArea::vertical()
            .id_salt("overview")
            .show(ui, |ui| {
                let health = match self.health.poll(ctx, ui.ctx(), load_health) {
                    Some(Ok(Some(h))) => Some(h),
                    _ => None,
                };
                let status = match self.status.poll(ctx, ui.ctx(), status::load) {
                    Some(Ok(s)) => Some(s),
                    Some(Err(e)) => {
                        let e = format!("cannot read the pipeline's state: {e}");
                        ui.colored_label(ui.visuals().error_fg_color, e);
                        None
                    }
                    None => None,
                };
                if let Some(h) = health {
                    tiles(ui, h);
                }
                ui.add_space(8.0);
                ui.columns(2, |cols| {
                    if let Some(h) = health {
                        worst_queues(&mut cols[0], ctx, h);
                    }
                    status::pipeline_health(&mut cols[1], ctx, inv, status, self.quarantine_seen);
                });
                ui.add_space(12.0);
                status::flow(ui, inv);
                ui.add_space(12.0);
                if let Some(s) = status {
                    status::freshness(ui, &s.freshness);
                    ui.add_space(12.0);
                }
                ui.collapsing("What each layer holds", |ui| layers(ui, inv));
            });
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
    ui.label(format!("Lake {}", inv.location));
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

/// The last complete day: a tile per KPI.
fn tiles(ui: &mut egui::Ui, h: &Health) {
    ui.heading(format!(
        "{} (last complete day)",
        h.day.format("%A %-d %B %Y")
    ));
    ui.label(format!(
        "{} contacts, against the {} days before it. Rates are recombined from the queues' counts.",
        thousands(h.totals.total as u64),
        h.baseline_days
    ));
    ui.horizontal_wrapped(|ui| {
        for kpi in Kpi::ALL {
            tile(ui, h, kpi);
        }
    });
}

/// The queues with the worst service level on the day; a click charts one.
fn worst_queues(ui: &mut egui::Ui, ctx: &PaneContext<'_>, h: &Health) {
    if h.worst.is_empty() {
        return;
    }
    ui.strong("Worst service level that day");
    egui::Grid::new("worst_queues")
        .striped(true)
        .show(ui, |ui| {
            for q in &h.worst {
                let name = if q.queue_name.is_empty() {
                    &q.queue_id
                } else {
                    &q.queue_name
                };
                let open = ui
                    .link(name)
                    .on_hover_text("its service level on the charts");
                if open.clicked() {
                    ctx.send(AppCommand::ChartQueue {
                        queue_id: q.queue_id.clone(),
                        day: h.day,
                    });
                }
                ui.label(format!("{:.1} %", q.service_level.unwrap_or_default()));
                ui.weak(format!("{} contacts", q.contacts));
                ui.end_row();
            }
        });
}

/// One KPI: the day's value, its change against the baseline in words, two weeks of line.
fn tile(ui: &mut egui::Ui, h: &Health, kpi: Kpi) {
    let now = h.totals.value(kpi);
    let before = h.baseline.value(kpi);
    let better = match (now, before) {
        (Some(n), Some(b)) if (n - b).abs() >= 0.05 => Some((n > b) == kpi.higher_is_better()),
        _ => None,
    };
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(178.0);
        ui.vertical(|ui| {
            ui.weak(kpi.label());
            let value = now.map_or("–".to_string(), |v| match kpi.unit() {
                "%" => format!("{v:.1} %"),
                "s" => format!("{v:.0} s"),
                _ => format!("{v:.2}"),
            });
            ui.label(egui::RichText::new(value).size(24.0).strong());
            let words = change_words(kpi, now, before, h.baseline_days);
            let color = match better {
                Some(true) => egui::Color32::from_rgb(60, 160, 80),
                Some(false) => ui.visuals().error_fg_color,
                None => ui.visuals().weak_text_color(),
            };
            let words = ui.colored_label(color, words);
            if kpi == Kpi::Fcr {
                words.on_hover_text(
                    "A contact counts as resolved when the caller does not come back within the \
                     FCR window; for the last days of the data that window has not passed yet, \
                     so their FCR is provisional (it can only fall).",
                );
            }
            sparkline(ui, &h.recent, kpi);
        });
    });
}

/// The KPI over the last two weeks, as a line without axes (the last point is the day).
fn sparkline(ui: &mut egui::Ui, recent: &[(chrono::NaiveDate, Totals)], kpi: Kpi) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(180.0, 28.0), egui::Sense::hover());
    let values: Vec<f64> = recent.iter().filter_map(|(_, t)| t.value(kpi)).collect();
    if values.len() < 2 {
        return;
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let span = (hi - lo).max(1e-9);
    let step = rect.width() / (values.len() - 1) as f32;
    let points: Vec<egui::Pos2> = (values.iter().enumerate())
        .map(|(i, v)| {
            let y = rect.bottom() - ((v - lo) / span) as f32 * rect.height();
            egui::pos2(rect.left() + i as f32 * step, y)
        })
        .collect();
    let stroke = egui::Stroke::new(1.5, ui.visuals().selection.bg_fill);
    ui.painter().add(egui::Shape::line(points.clone(), stroke));
    if let Some(last) = points.last() {
        ui.painter().circle_filled(*last, 2.5, stroke.color);
    }
}
