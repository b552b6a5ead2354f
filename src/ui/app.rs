//! The app: its persisted state, the panes, and each frame's order of work: pick up the lake
//! being opened and the jobs' events, draw the frame and the current pane, then carry out the
//! commands the panes sent.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use serde::{Deserialize, Serialize};

use super::fetch::Fetch;
use super::jobs::{JobState, Jobs};
use super::pane::{AppCommand, Pane, PaneContext, PaneId};
use super::panes::{
    api_server, browser, charts, compliance, drift, jobs, overview, quarantine, sql,
};
use super::shell::FrameTimes;
use crate::lake::Lake;
use crate::pipeline::Job;
use crate::silver::digest::HmacKey;

/// What the user sees and chose; saved by eframe between runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    pub lake: String,
    pub recent: Vec<String>,
    pub pane: PaneId,
    pub charts: charts::ChartSettings,
    pub sql: sql::SqlSettings,
    pub show_frame_time: bool,
    /// Quarantined records per lake when its Quarantine pane was last shown.
    pub quarantine_seen: std::collections::BTreeMap<String, u64>,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            lake: String::new(),
            recent: Vec::new(),
            pane: PaneId::Overview,
            charts: Default::default(),
            sql: Default::default(),
            show_frame_time: true,
            quarantine_seen: Default::default(),
        }
    }
}

/// The running app.
pub struct CclakeApp {
    pub state: AppState,
    pub(super) rt: tokio::runtime::Handle,
    pub jobs: Jobs,
    pub(super) lake: Option<Lake>,
    pub(super) lake_error: Option<String>,
    pub(super) opening: Option<Fetch<Lake>>,
    pub(super) lake_input: String,
    pub(super) folder_pick: Option<Fetch<Option<PathBuf>>>,
    /// The demo job started from the empty-lake offer: when it ends, show the charts.
    demo_job: Option<u64>,
    /// First start on the default lake: create the demo lake without asking if it is empty.
    auto_demo: bool,
    commands: (Sender<AppCommand>, Receiver<AppCommand>),
    pub overview: overview::OverviewPane,
    pub charts: charts::ChartsPane,
    pub browser: browser::BrowserPane,
    pub sql: sql::SqlPane,
    pub jobs_pane: jobs::JobsPane,
    pub api_server: api_server::ApiServerPane,
    pub quarantine: quarantine::QuarantinePane,
    pub drift: drift::DriftPane,
    pub compliance: compliance::CompliancePane,
    /// CPU time of the last frames' UI code, for the frame-time readout.
    pub frame_ms: FrameTimes,
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
            charts: charts::ChartsPane::new(state.charts.clone()),
            sql: sql::SqlPane::new(state.sql.clone()),
            state,
            jobs: Jobs::new(rt.clone(), key),
            rt,
            lake: None,
            lake_error: None,
            opening: None,
            folder_pick: None,
            demo_job: None,
            auto_demo,
            commands: channel(),
            overview: Default::default(),
            browser: Default::default(),
            jobs_pane: Default::default(),
            api_server: Default::default(),
            quarantine: Default::default(),
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
        match f.take() {
            None => {}
            Some(Ok(lake)) => {
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
                self.charts = charts::ChartsPane::new(self.charts.settings.clone());
                self.browser = Default::default();
                self.drift = Default::default();
                self.compliance = Default::default();
            }
            Some(Err(e)) => {
                self.lake_error = Some(e);
                self.opening = None;
            }
        }
    }

    /// Starts a job on the open lake.
    pub fn submit(&mut self, job: Job) -> Option<u64> {
        let lake = self.lake.clone()?;
        let demo = matches!(job, Job::Demo { .. });
        let id = self.jobs.submit(job, &lake);
        if demo {
            // The demo lands on the charts when it is done.
            self.demo_job = Some(id);
        }
        Some(id)
    }

    /// Creates the demo lake in the open lake; the app shows the charts when it is done.
    pub fn create_demo(&mut self, days: u32, contacts_per_day: u32) -> Option<u64> {
        self.submit(Job::Demo {
            days,
            contacts_per_day,
        })
    }

    /// The whole UI, one frame.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let started = std::time::Instant::now();
        let ctx = ui.ctx().clone();
        self.poll_open(&ctx);
        self.jobs.pump(&ctx);
        self.first_start_demo(&ctx);
        self.land_finished_demo();
        self.shortcuts(&ctx);
        self.dropped_files(&ctx);

        egui::Panel::top("lake_bar").show(ui, |ui| self.lake_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("nav")
            .resizable(false)
            .exact_size(150.0)
            .show(ui, |ui| self.nav(ui));
        egui::CentralPanel::default_margins().show(ui, |ui| self.current_pane(ui));
        self.run_commands(&ctx);
        self.frame_ms.push(started.elapsed().as_secs_f32() * 1000.0);
        self.log_frame_times();
    }

    /// Keeps what the Quarantine pane showed, for the overview's "new since your last look".
    fn note_quarantine_seen(&mut self) {
        let Some(lake) = &self.lake else { return };
        let seen = &mut self.state.quarantine_seen;
        if self.state.pane == PaneId::Quarantine
            && let Some(n) = self.overview.quarantine_records()
        {
            seen.insert(lake.location().to_string(), n);
        }
        self.overview.quarantine_seen = seen.get(lake.location()).copied();
    }

    /// Draws the pane in view with this frame's context.
    fn current_pane(&mut self, ui: &mut egui::Ui) {
        self.note_quarantine_seen();
        let ctx = PaneContext::new(&self.rt, self.lake.as_ref(), &self.jobs, &self.commands.0);
        let pane: &mut dyn Pane = match self.state.pane {
            PaneId::Overview => &mut self.overview,
            PaneId::Charts => &mut self.charts,
            PaneId::Browser => &mut self.browser,
            PaneId::Sql => &mut self.sql,
            PaneId::Compliance => &mut self.compliance,
            PaneId::Drift => &mut self.drift,
            PaneId::Jobs => &mut self.jobs_pane,
            PaneId::ApiServer => &mut self.api_server,
            PaneId::Quarantine => &mut self.quarantine,
        };
        pane.ui(ui, &ctx);
    }

    /// Carries out what the panes asked for this frame.
    fn run_commands(&mut self, ctx: &egui::Context) {
        while let Ok(command) = self.commands.1.try_recv() {
            match command {
                AppCommand::Submit(job) => {
                    self.submit(job);
                }
                AppCommand::OpenLake(location) => self.open_lake(location),
                AppCommand::Show(pane) => self.state.pane = pane,
                AppCommand::ShowContacts(group) => {
                    if let Some(lake) = self.lake.clone() {
                        self.sql.show_contacts(&self.rt, ctx, &lake, group);
                    }
                    self.state.pane = PaneId::Sql;
                }
                AppCommand::ChartQueue { queue_id, day } => {
                    let s = &mut self.charts.settings;
                    s.metric = super::panes::charts::Metric::ServiceLevel;
                    s.queues = [queue_id].into();
                    s.from = Some(day - chrono::Duration::days(13));
                    s.to = Some(day);
                    s.view = super::panes::charts::View::Chart;
                    s.drill_day = Some(day);
                    self.state.pane = PaneId::Charts;
                }
            }
        }
    }

    /// The very first start on an empty default lake creates the demo lake by itself.
    fn first_start_demo(&mut self, ctx: &egui::Context) {
        let pane_ctx = PaneContext::new(&self.rt, self.lake.as_ref(), &self.jobs, &self.commands.0);
        // The overview's inventory is kept current even while another pane shows.
        let empty = self.overview.is_empty_lake(&pane_ctx, ctx);
        if !self.auto_demo || self.lake.is_none() {
            return;
        }
        match empty {
            Some(true) => {
                self.auto_demo = false;
                self.create_demo(30, 2000);
            }
            Some(false) => self.auto_demo = false,
            None => {}
        }
    }

    /// A finished demo job lands on the charts.
    fn land_finished_demo(&mut self) {
        let Some(id) = self.demo_job else { return };
        let state = self.jobs.history.iter().find(|r| r.id == id);
        match state.map(|r| &r.state) {
            Some(JobState::Done(_)) => {
                self.state.pane = PaneId::Charts;
                self.demo_job = None;
            }
            Some(JobState::Failed(_)) | Some(JobState::Cancelled(_)) | None => self.demo_job = None,
            _ => {}
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        for p in PaneId::ALL {
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
            self.state.pane = PaneId::Jobs;
        }
    }

    /// CCLAKE_FRAME_LOG=1: frame-time figures on stderr every 120 frames, for measuring.
    fn log_frame_times(&self) {
        if !self.frame_ms.frames().is_multiple_of(120)
            || std::env::var_os("CCLAKE_FRAME_LOG").is_none()
        {
            return;
        }
        let job = self
            .jobs
            .running()
            .map(|(r, p)| format!("{} ({})", r.kind.label(), p.stage))
            .unwrap_or_else(|| "no job".into());
        eprintln!(
            "frames {}: UI CPU mean {:.2} ms, p95 {:.2} ms, max {:.2} ms; pane {:?}; {job}",
            self.frame_ms.frames(),
            self.frame_ms.mean(),
            self.frame_ms.p95(),
            self.frame_ms.max(),
            self.state.pane
        );
    }
}

impl eframe::App for CclakeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.state.charts = self.charts.settings.clone();
        self.state.sql = self.sql.settings.clone();
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
