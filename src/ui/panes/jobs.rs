//! The jobs pane: start pipeline work on the open lake and see what ran, how long it took and
//! what it did (or why it failed).

use chrono::{Datelike, NaiveDate, Utc};

use crate::lake::Lake;
use crate::pipeline::Job;
use crate::silver::ProcessMode;
use crate::ui::jobs::{JobState, Jobs};

pub struct JobsPane {
    from: jiff::civil::Date,
    to: jiff::civil::Date,
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
        }
    }
}

fn naive(d: jiff::civil::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year() as i32, d.month() as u32, d.day() as u32)
}

impl JobsPane {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        rt: &tokio::runtime::Handle,
        lake: Option<&Lake>,
        jobs: &mut Jobs,
        picked: &mut Option<crate::ui::fetch::Fetch<Vec<std::path::PathBuf>>>,
    ) {
        let Some(lake) = lake else {
            ui.label("Open a lake first.");
            return;
        };
        ui.heading("Run");
        egui::Grid::new("job_buttons").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
            if ui.button("Ingest files…").clicked() && picked.is_none() {
                *picked = Some(crate::ui::fetch::Fetch::spawn(rt, ui.ctx(), async {
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
            if ui.button("Process new data").clicked() {
                jobs.submit(Job::Process(ProcessMode::Incremental), lake);
            }
            ui.label("Silver and Gold for the dates that received data since the last run.");
            ui.end_row();
            if ui.button("Full rebuild").clicked() {
                jobs.submit(Job::Process(ProcessMode::Full), lake);
            }
            ui.label("Every Silver date from Bronze, then all of Gold (after a policy or status-map change).");
            ui.end_row();
            ui.horizontal(|ui| {
                if ui.button("Reprocess range").clicked() && let (Some(from), Some(to)) = (naive(self.from), naive(self.to)) {
                    if from <= to {
                        jobs.submit(Job::Process(ProcessMode::Range { from, to }), lake);
                    } else {
                        jobs.submit(Job::Process(ProcessMode::Range { from: to, to: from }), lake);
                    }
                }
            });
            ui.horizontal(|ui| {
                ui.add(egui_extras::DatePickerButton::new(&mut self.from).id_salt("re_from").show_icon(false));
                ui.label("…");
                ui.add(egui_extras::DatePickerButton::new(&mut self.to).id_salt("re_to").show_icon(false));
                ui.label("(UTC dates) rebuilds those Silver dates and the Gold dates they affect.");
            });
            ui.end_row();
            if ui.button("Lifecycle plan").clicked() {
                jobs.submit(lifecycle(false), lake);
            }
            ui.label("What would move to the cold store or expire, and what vacuum would remove (changes nothing).");
            ui.end_row();
            if ui.button("Lifecycle apply").clicked() {
                jobs.submit(lifecycle(true), lake);
            }
            ui.label("Carry out the plan and vacuum Silver and Gold.");
            ui.end_row();
            if ui.button("Leak scan").clicked() {
                jobs.submit(Job::Scan, lake);
            }
            ui.label("Look for raw PII (cards, phones, e-mails, member ids, unkeyed phone hashes) in every string column of Silver and Gold.");
            ui.end_row();
        });
        if let Some(f) = picked
            && let Some(r) = f.poll()
        {
            if let Ok(paths) = r
                && !paths.is_empty()
            {
                jobs.submit(Job::ingest_and_process(paths.clone()), lake);
            }
            *picked = None;
        }
        ui.separator();
        ui.heading("History");
        egui::ScrollArea::vertical()
            .id_salt("job_history")
            .show(ui, |ui| {
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
            });
    }
}

/// Lifecycle as of today.
fn lifecycle(apply: bool) -> Job {
    Job::Lifecycle {
        now: chrono::Utc::now().date_naive(),
        apply,
    }
}
