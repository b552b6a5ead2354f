//! The app's frame around the panes: the lake bar, the navigation and the status bar.

use super::app::CclakeApp;
use super::fetch::Fetch;
use super::jobs::JobState;
use super::pane::PaneId;
use crate::format::{duration, thousands};

impl CclakeApp {
    pub(super) fn nav(&mut self, ui: &mut egui::Ui) {
        ui.add_space(6.0);
        for (i, p) in PaneId::ALL.iter().enumerate() {
            let r = ui
                .add_sized(
                    [ui.available_width(), 28.0],
                    egui::Button::selectable(self.state.pane == *p, p.label()),
                )
                .on_hover_text(format!("Ctrl+{}", i + 1));
            if r.clicked() {
                self.state.pane = *p;
            }
        }
    }

    pub(super) fn pick_folder(&mut self, ctx: &egui::Context) {
        if self.folder_pick.is_some() {
            return;
        }
        self.folder_pick = Some(Fetch::spawn(&self.rt, ctx, async {
            Ok(rfd::AsyncFileDialog::new()
                .set_title("Open a lake folder")
                .pick_folder()
                .await
                .map(|f| f.path().to_path_buf()))
        }));
    }

    pub(super) fn lake_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.strong("cclake");
            ui.separator();
            ui.label("Lake");
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.lake_input)
                    .desired_width(520.0)
                    .hint_text("a folder, file://, s3://bucket/prefix, az://…, gs://…"),
            );
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Open").clicked() || enter {
                let loc = self.lake_input.clone();
                self.open_lake(loc);
            }
            if ui
                .button("Browse…")
                .on_hover_text("Pick a lake folder (Ctrl+O)")
                .clicked()
            {
                self.pick_folder(ui.ctx());
            }
            if let Some(f) = &mut self.folder_pick
                && let Some(r) = f.poll()
            {
                let picked = r.clone();
                self.folder_pick = None;
                if let Ok(Some(p)) = picked {
                    self.open_lake(p.display().to_string());
                }
            }
            let recent = self.state.recent.clone();
            ui.menu_button("Recent lakes", |ui| {
                if recent.is_empty() {
                    ui.weak("no lakes opened yet");
                }
                for r in recent {
                    if ui.button(&r).clicked() {
                        self.open_lake(r);
                        ui.close();
                    }
                }
            });
            if self.opening.is_some() {
                ui.spinner();
            }
            if let Some(e) = &self.lake_error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            // Light, dark or the system's; egui keeps the choice with the app's memory.
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                theme_buttons(ui);
            });
        });
    }

    pub(super) fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match self.jobs.running() {
                Some((rec, p)) => {
                    // No spinner: it repaints every frame, and software-rendered desktops
                    // would spend a core on it while the job needs the CPU. Progress moves at
                    // the 10 Hz the job queue asks for.
                    ui.strong(rec.kind.label());
                    ui.label(if p.stage.is_empty() { "starting" } else { &p.stage });
                    let fraction = p.fraction().unwrap_or(0.0);
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .desired_width(220.0)
                            .show_percentage(),
                    );
                    ui.label(format!(
                        "{} records · {}/s{}",
                        thousands(p.records),
                        thousands(p.records_per_sec() as u64),
                        p.eta_secs()
                            .map(|s| format!(" · ETA {}", duration(s)))
                            .unwrap_or_default()
                    ));
                    if ui.button("Cancel").clicked() {
                        self.jobs.cancel_running();
                    }
                }
                None => {
                    match self.jobs.history.last() {
                        Some(r) => match &r.state {
                            JobState::Failed(e) => {
                                ui.colored_label(
                                    ui.visuals().error_fg_color,
                                    format!("{} failed: {e}", r.kind.label()),
                                );
                            }
                            JobState::Done(_) => {
                                ui.label(format!(
                                    "{} finished in {}",
                                    r.kind.label(),
                                    r.secs.map(duration).unwrap_or_default()
                                ));
                            }
                            JobState::Cancelled(_) => {
                                ui.label(format!("{} cancelled", r.kind.label()));
                            }
                            _ => {
                                ui.label("idle");
                            }
                        },
                        None => {
                            ui.weak("idle");
                        }
                    };
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if self.state.show_frame_time {
                    ui.weak(format!(
                        "UI {:.1} ms (max {:.1})",
                        self.frame_ms.last(),
                        self.frame_ms.max()
                    ))
                    .on_hover_text("CPU time of the app's UI code per frame, last and max of the last 120 frames");
                }
            });
        });
    }
}

/// Recent frame times (ms).
#[derive(Default, Debug, Clone)]
pub struct FrameTimes {
    samples: std::collections::VecDeque<f32>,
    frames: u64,
}

impl FrameTimes {
    pub(super) fn push(&mut self, ms: f32) {
        self.frames += 1;
        if self.samples.len() == 120 {
            self.samples.pop_front();
        }
        self.samples.push_back(ms);
    }
    /// Frames drawn so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }
    pub fn last(&self) -> f32 {
        self.samples.back().copied().unwrap_or(0.0)
    }
    pub fn max(&self) -> f32 {
        self.samples.iter().copied().fold(0.0, f32::max)
    }
    pub fn p95(&self) -> f32 {
        let mut v: Vec<f32> = self.samples.iter().copied().collect();
        v.sort_by(f32::total_cmp);
        v.get(v.len().saturating_sub(1) * 95 / 100)
            .copied()
            .unwrap_or(0.0)
    }
    pub fn mean(&self) -> f32 {
        if self.samples.is_empty() {
            0.0
        } else {
            self.samples.iter().sum::<f32>() / self.samples.len() as f32
        }
    }
}

/// Dark, light or the system's theme, in words (the default font has no theme icons).
fn theme_buttons(ui: &mut egui::Ui) {
    use egui::ThemePreference;
    let mut pref = ui.ctx().options(|o| o.theme_preference);
    let before = pref;
    // Right to left: the last is leftmost.
    ui.selectable_value(&mut pref, ThemePreference::Dark, "Dark");
    ui.selectable_value(&mut pref, ThemePreference::Light, "Light");
    ui.selectable_value(&mut pref, ThemePreference::System, "System");
    if pref != before {
        ui.ctx().set_theme(pref);
    }
}
