//! The app: the shell (lake bar, pane navigation, status bar), the persisted state and the
//! plumbing (runtime handle, job queue). Panes live in `panes/`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::fetch::Fetch;
use super::jobs::{JobState, Jobs};
use super::panes::{
    browser, charts, compliance, drift, jobs as jobs_pane, overview, settings, sql,
};
use crate::format::{duration, thousands};
use crate::lake::Lake;
use crate::pipeline::Job;
use crate::silver::digest::HmacKey;

/// The panes, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pane {
    Overview,
    Charts,
    Browser,
    Sql,
    Compliance,
    Drift,
    Jobs,
    Settings,
}

impl Pane {
    pub const ALL: [Pane; 8] = [
        Pane::Overview,
        Pane::Charts,
        Pane::Browser,
        Pane::Sql,
        Pane::Compliance,
        Pane::Drift,
        Pane::Jobs,
        Pane::Settings,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Pane::Overview => "Overview",
            Pane::Charts => "KPI charts",
            Pane::Browser => "Partitions",
            Pane::Sql => "SQL",
            Pane::Compliance => "Compliance",
            Pane::Drift => "Schema drift",
            Pane::Jobs => "Jobs",
            Pane::Settings => "API server",
        }
    }

    fn key(&self) -> egui::Key {
        match self {
            Pane::Overview => egui::Key::Num1,
            Pane::Charts => egui::Key::Num2,
            Pane::Browser => egui::Key::Num3,
            Pane::Sql => egui::Key::Num4,
            Pane::Compliance => egui::Key::Num5,
            Pane::Drift => egui::Key::Num6,
            Pane::Jobs => egui::Key::Num7,
            Pane::Settings => egui::Key::Num8,
        }
    }
}

/// What the user sees and chose; saved by eframe between runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    pub lake: String,
    pub recent: Vec<String>,
    pub pane: Pane,
    pub charts: charts::ChartSettings,
    pub sql: sql::SqlSettings,
    pub show_frame_time: bool,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            lake: String::new(),
            recent: Vec::new(),
            pane: Pane::Overview,
            charts: Default::default(),
            sql: Default::default(),
            show_frame_time: true,
        }
    }
}

/// The running app.
pub struct CclakeApp {
    pub state: AppState,
    rt: tokio::runtime::Handle,
    pub jobs: Jobs,
    lake: Option<Lake>,
    lake_error: Option<String>,
    opening: Option<Fetch<Lake>>,
    lake_input: String,
    folder_pick: Option<Fetch<Option<PathBuf>>>,
    file_pick: Option<Fetch<Vec<PathBuf>>>,
    /// The demo job started from the empty-lake offer: when it ends, show the charts.
    demo_job: Option<u64>,
    /// First start on the default lake: create the demo lake without asking if it is empty.
    auto_demo: bool,
    pub overview: overview::OverviewPane,
    pub charts: charts::ChartsPane,
    pub browser: browser::BrowserPane,
    pub sql: sql::SqlPane,
    jobs_pane: jobs_pane::JobsPane,
    pub settings: settings::SettingsPane,
    pub drift: drift::DriftPane,
    pub compliance: compliance::CompliancePane,
    /// CPU time of the last frames' UI code, for the frame-time readout.
    pub frame_ms: FrameTimes,
}

/// Recent frame times (ms).
#[derive(Default, Debug, Clone)]
pub struct FrameTimes {
    samples: std::collections::VecDeque<f32>,
    frames: u64,
}

impl FrameTimes {
    fn push(&mut self, ms: f32) {
        if self.samples.len() == 120 {
            self.samples.pop_front();
        }
        self.samples.push_back(ms);
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

impl CclakeApp {
    /// `lake`: the lake to open (command line); else the last one, else `default_lake`.
    /// `key`: the HMAC key jobs mask with (resolved once by the caller), or why there is none.
    pub fn new(
        rt: tokio::runtime::Handle,
        stored: Option<AppState>,
        lake: Option<String>,
        default_lake: String,
        key: Result<HmacKey, String>,
    ) -> Self {
        // The very first start (nothing stored) on the default lake fills it with the demo, so
        // a new user lands on charts; later starts, or a lake named explicitly, only offer it.
        let auto_demo = stored.is_none() && lake.is_none();
        let mut state = stored.unwrap_or_default();
        if let Some(l) = lake {
            state.lake = l;
        }
        if state.lake.is_empty() {
            state.lake = default_lake;
        }
        let mut app = CclakeApp {
            lake_input: state.lake.clone(),
            state,
            jobs: Jobs::new(rt.clone(), key),
            rt,
            lake: None,
            lake_error: None,
            opening: None,
            folder_pick: None,
            file_pick: None,
            demo_job: None,
            auto_demo,
            overview: Default::default(),
            charts: Default::default(),
            browser: Default::default(),
            sql: Default::default(),
            jobs_pane: Default::default(),
            settings: Default::default(),
            drift: Default::default(),
            compliance: Default::default(),
            frame_ms: Default::default(),
        };
        let loc = app.state.lake.clone();
        app.open_lake(loc);
        app
    }

    /// The open lake.
    pub fn lake(&self) -> Option<&Lake> {
        self.lake.as_ref()
    }

    /// Opens a lake (off the UI thread: a local lake's folder is created if missing).
    pub fn open_lake(&mut self, location: String) {
        let location = location.trim().to_string();
        if location.is_empty() {
            return;
        }
        self.lake_input = location.clone();
        self.opening = Some(Fetch::spawn_detached(&self.rt, async move {
            Lake::open(&location).map_err(|e| e.to_string())
        }));
    }

    fn poll_open(&mut self, ctx: &egui::Context) {
        let Some(f) = &mut self.opening else { return };
        ctx.request_repaint_after(std::time::Duration::from_millis(50));
        match f.poll() {
            None => {}
            Some(Ok(lake)) => {
                let lake = lake.clone();
                self.state.lake = lake.location().to_string();
                self.state.recent.retain(|r| r != lake.location());
                self.state.recent.insert(0, lake.location().to_string());
                self.state.recent.truncate(10);
                self.lake = Some(lake);
                self.lake_error = None;
                self.opening = None;
                self.demo_job = None;
                // Everything shown is of the old lake: start the panes afresh.
                self.overview = Default::default();
                self.charts = Default::default();
                self.browser = Default::default();
            }
            Some(Err(e)) => {
                self.lake_error = Some(e.clone());
                self.opening = None;
            }
        }
    }

    /// Starts a job on the open lake.
    pub fn submit(&mut self, kind: Job) -> Option<u64> {
        let lake = self.lake.clone()?;
        Some(self.jobs.submit(kind, &lake))
    }

    /// Creates the demo lake in the open lake; the app shows the charts when it is done.
    pub fn create_demo(&mut self, days: u32, contacts_per_day: u32) -> Option<u64> {
        let id = self.submit(Job::Demo {
            days,
            contacts_per_day,
        })?;
        self.demo_job = Some(id);
        Some(id)
    }

    /// The whole UI, one frame.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let started = std::time::Instant::now();
        let ctx = ui.ctx().clone();
        self.poll_open(&ctx);
        self.jobs.pump(&ctx);
        if let Some(lake) = &self.lake {
            self.overview
                .refresh(&self.rt, &ctx, lake, self.jobs.generation);
        }
        if self.auto_demo && self.lake.is_some() {
            match self.overview.is_empty_lake() {
                Some(true) => {
                    self.auto_demo = false;
                    self.create_demo(30, 2000);
                }
                Some(false) => self.auto_demo = false,
                None => {}
            }
        }
        // A finished demo job lands on the charts.
        if let Some(id) = self.demo_job {
            match self
                .jobs
                .history
                .iter()
                .find(|r| r.id == id)
                .map(|r| &r.state)
            {
                Some(JobState::Done(_)) => {
                    self.state.pane = Pane::Charts;
                    self.demo_job = None;
                }
                Some(JobState::Failed(_)) | Some(JobState::Cancelled(_)) | None => {
                    self.demo_job = None
                }
                _ => {}
            }
        }
        self.shortcuts(&ctx);
        self.dropped_files(&ctx);

        egui::Panel::top("lake_bar").show(ui, |ui| self.lake_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("nav")
            .resizable(false)
            .exact_size(150.0)
            .show(ui, |ui| {
                ui.add_space(6.0);
                for (i, p) in Pane::ALL.iter().enumerate() {
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
            });
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let lake = self.lake.clone();
            let generation = self.jobs.generation;
            match self.state.pane {
                Pane::Overview => {
                    if let Some(Job::Demo {
                        days,
                        contacts_per_day,
                    }) = self.overview.ui(ui, lake.as_ref(), &self.jobs)
                    {
                        self.create_demo(days, contacts_per_day);
                    }
                }
                Pane::Charts => self.charts.ui(
                    ui,
                    &self.rt,
                    lake.as_ref(),
                    generation,
                    &mut self.state.charts,
                ),
                Pane::Browser => self.browser.ui(ui, &self.rt, lake.as_ref(), generation),
                Pane::Sql => self
                    .sql
                    .ui(ui, &self.rt, lake.as_ref(), &mut self.state.sql),
                Pane::Settings => self.settings.ui(ui, &self.rt, lake.as_ref()),
                Pane::Drift => self.drift.ui(ui, &self.rt, lake.as_ref(), &mut self.jobs),
                Pane::Compliance => self
                    .compliance
                    .ui(ui, &self.rt, lake.as_ref(), &mut self.jobs),
                Pane::Jobs => self.jobs_pane.ui(
                    ui,
                    &self.rt,
                    lake.as_ref(),
                    &mut self.jobs,
                    &mut self.file_pick,
                ),
            }
        });
        self.frame_ms.push(started.elapsed().as_secs_f32() * 1000.0);
        self.frame_ms.frames += 1;
        // CCLAKE_FRAME_LOG=1: frame-time figures on stderr every 120 frames, for measuring.
        if self.frame_ms.frames.is_multiple_of(120)
            && std::env::var_os("CCLAKE_FRAME_LOG").is_some()
        {
            let job = self
                .jobs
                .running()
                .map(|(r, p)| format!("{} ({})", r.kind.label(), p.stage))
                .unwrap_or_else(|| "no job".into());
            eprintln!(
                "frames {}: UI CPU mean {:.2} ms, p95 {:.2} ms, max {:.2} ms; pane {:?}; {job}",
                self.frame_ms.frames,
                self.frame_ms.mean(),
                self.frame_ms.p95(),
                self.frame_ms.max(),
                self.state.pane
            );
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        for p in Pane::ALL {
            if ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, p.key())) {
                self.state.pane = p;
            }
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::O)) {
            self.pick_folder(ctx);
        }
    }

    fn dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() && self.submit(Job::ingest_and_process(dropped)).is_some() {
            self.state.pane = Pane::Jobs;
        }
    }

    fn pick_folder(&mut self, ctx: &egui::Context) {
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

    fn lake_bar(&mut self, ui: &mut egui::Ui) {
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
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
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

impl eframe::App for CclakeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
