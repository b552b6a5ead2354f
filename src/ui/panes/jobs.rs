//! The jobs pane: start pipeline work on the open lake and see what ran, how long it took and
//! what it did (or why it failed).

use chrono::{Datelike, NaiveDate, Utc};

use std::path::PathBuf;

use crate::pipeline::Job;
use crate::silver::ProcessMode;
use crate::ui::fetch::Fetch;
use crate::ui::jobs::{JobState, Jobs};
use crate::ui::pane::{Pane, PaneContext};

pub struct JobsPane {
    from: jiff::civil::Date,
    to: jiff::civil::Date,
    /// The file dialog of "Ingest files…", while it is open.
    picking: Option<Fetch<Vec<PathBuf>>>,
    /// A Ballista scheduler (`df://HOST:PORT`) to build Silver on; empty: this machine.
    pub cluster: String,
}

impl Default for JobsPane {
    fn default() -> Self {
        let today = Utc::now().date_naive();
        let d = |n: NaiveDate| {
            jiff::civil::Date::new(n.year() as i16, n.month() as i8, n.day() as i8)
                .unwrap_or_default()
        };
        JobsPane {
            from: d(today - chrono::Duration::days(7)),
            to: d(today),
            picking: None,
            cluster: String::new(),
        }
    }
}

fn naive(d: jiff::civil::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year() as i32, d.month() as u32, d.day() as u32)
}

impl Pane for JobsPane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        if ctx.lake.is_none() {
            ui.label("Open a lake first.");
            return;
        }
        ui.heading("Run");
        self.buttons(ui, ctx);
        if let Some(paths) = self.picking.as_mut().and_then(Fetch::take) {
            self.picking = None;
            if let Ok(paths) = paths
                && !paths.is_empty()
            {
                ctx.submit(Job::ingest_and_process(paths));
            }
        }
        ui.separator();
        ui.heading("History");
        egui::ScrollArea::vertical()
            .id_salt("job_history")
            .show(ui, |ui| history(ui, ctx.jobs));
    }
}

impl JobsPane {
    /// A process job, on the cluster when one is named.
    fn process(&self, mode: ProcessMode) -> Job {
        match self.cluster.trim() {
            "" => Job::Process(mode),
            cluster => Job::ProcessOnCluster {
                mode,
                cluster: cluster.to_string(),
            },
        }
    }

    /// The jobs a user can start, each with what it does.
    fn buttons(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        egui::Grid::new("job_buttons").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
            if ui.button("Ingest files…").clicked() && self.picking.is_none() {
                self.picking = Some(Fetch::spawn(ctx.rt, ui.ctx(), async {
                    let files = rfd::AsyncFileDialog::new()
                        .add_filter("exports", &["json", "ndjson", "jsonl", "gz"])
                        .pick_files()
                        .await
                        .unwrap_or_default();
                    Ok(files.into_iter().map(|f| f.path().to_path_buf()).collect())
                }));
            }
            ui.label("Pick export files (or drop files and folders onto the window): they are ingested into Bronze, then processed.");
            ui.end_row();
            ui.label("Build Silver on");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut self.cluster)
                        .desired_width(220.0)
                        .hint_text("this machine, or df://HOST:PORT"),
                );
                ui.label("a Ballista cluster (`cclake cluster scheduler` and executors sharing the lake and its key) builds each Silver date as a task; the commits and Gold stay here.");
            });
            ui.end_row();
            if ui.button("Process new data").clicked() {
                ctx.submit(self.process(ProcessMode::Incremental));
            }
            ui.label("Silver and Gold for the dates that received data since the last run.");
            ui.end_row();
            if ui.button("Full rebuild").clicked() {
                ctx.submit(self.process(ProcessMode::Full));
            }
            ui.label("Every Silver date from Bronze, then all of Gold (after a policy or status-map change).");
            ui.end_row();
            if ui.button("Reprocess range").clicked() && let (Some(a), Some(b)) = (naive(self.from), naive(self.to)) {
                let (from, to) = (a.min(b), a.max(b));
                ctx.submit(self.process(ProcessMode::Range { from, to }));
            }
            ui.horizontal(|ui| {
                ui.add(egui_extras::DatePickerButton::new(&mut self.from).id_salt("re_from").show_icon(false));
                ui.label("…");
                ui.add(egui_extras::DatePickerButton::new(&mut self.to).id_salt("re_to").show_icon(false));
                ui.label("(UTC dates) rebuilds those Silver dates and the Gold dates they affect.");
            });
            ui.end_row();
            if ui.button("Lifecycle plan").clicked() {
                ctx.submit(lifecycle(false));
            }
            ui.label("What would move to the cold store or expire, and what vacuum would remove (changes nothing).");
            ui.end_row();
            if ui.button("Lifecycle apply").clicked() {
                ctx.submit(lifecycle(true));
            }
            ui.label("Carry out the plan and vacuum Silver and Gold.");
            ui.end_row();
            if ui.button("Leak scan").clicked() {
                ctx.submit(Job::Scan);
            }
            ui.label("Look for raw PII (cards, phones, e-mails, member ids, unkeyed phone hashes) in every string column of Silver and Gold.");
            ui.end_row();
        });
    }
}

/// What ran this session, newest first, with what each did or why it failed.
fn history(ui: &mut egui::Ui, jobs: &Jobs) {
    if jobs.history.is_empty() {
        ui.weak("No jobs yet in this session.");
    }
    for r in jobs.history.iter().rev() {
        ui.horizontal_wrapped(|ui| {
            let (icon, color) = match &r.state {
                JobState::Queued => ("queued", ui.visuals().weak_text_color()),
                JobState::Running => ("running", ui.visuals().hyperlink_color),
                JobState::Done(_) => ("done", egui::Color32::from_rgb(60, 170, 90)),
                JobState::Failed(_) => ("FAILED", ui.visuals().error_fg_color),
                JobState::Cancelled(_) => ("cancelled", ui.visuals().warn_fg_color),
            };
            ui.colored_label(color, icon);
            ui.strong(r.kind.label());
            ui.weak(format!(
                "#{} · {} · {}",
                r.id,
                r.queued_at.format("%H:%M:%S"),
                r.secs
                    .map(crate::format::duration)
                    .unwrap_or_else(|| "…".into())
            ));
        });
        match &r.state {
            JobState::Done(s) => {
                ui.label(s);
            }
            JobState::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("failed: {e}"));
            }
            JobState::Cancelled(e) => {
                ui.colored_label(ui.visuals().warn_fg_color, format!("cancelled: {e}"));
            }
            _ => {}
        }
        ui.add_space(4.0);
    }
}

/// Lifecycle as of today.
fn lifecycle(apply: bool) -> Job {
    Job::Lifecycle {
        now: chrono::Utc::now().date_naive(),
        apply,
    }
}
