//! The one contract every pane follows. A pane draws itself from a [`PaneContext`] (the
//! runtime, the open lake, the job generation, the job queue to read) and asks the app for
//! anything beyond itself by sending an [`AppCommand`], which the app carries out once per
//! frame after every pane has drawn (as rerun's `SystemCommand` and egui_demo_app's
//! `Command` do). What a pane reads from the lake it keeps in a [`Reloading`] cache, loaded on
//! the runtime and reloaded when the lake or the generation changes.

use std::future::Future;
use std::sync::mpsc::Sender;

use serde::{Deserialize, Serialize};

use super::fetch::Fetch;
use super::jobs::Jobs;
use crate::lake::Lake;
use crate::pipeline::Job;

/// What a pane asks the app to do.
#[derive(Debug)]
pub enum AppCommand {
    /// Queue a job on the open lake.
    Submit(Job),
    /// Open another lake.
    OpenLake(String),
    /// Show a pane.
    Show(PaneId),
    /// Show the Silver contacts behind a Gold number in the SQL pane's grid.
    ShowContacts(crate::query::lineage::Group),
    /// Show one queue's service level on the charts, around a day.
    ChartQueue {
        queue_id: String,
        day: chrono::NaiveDate,
    },
}

/// Everything a pane may use while it draws.
pub struct PaneContext<'a> {
    pub rt: &'a tokio::runtime::Handle,
    /// The open lake (none while one is being opened, or none could be).
    pub lake: Option<&'a Lake>,
    /// Bumped whenever a job finishes: what a pane shows of the lake may have changed.
    pub generation: u64,
    /// The job queue, to read (running job, history, whether the key is loaded).
    pub jobs: &'a Jobs,
    commands: &'a Sender<AppCommand>,
}

impl<'a> PaneContext<'a> {
    pub(super) fn new(
        rt: &'a tokio::runtime::Handle,
        lake: Option<&'a Lake>,
        jobs: &'a Jobs,
        commands: &'a Sender<AppCommand>,
    ) -> Self {
        PaneContext {
            rt,
            lake,
            generation: jobs.generation,
            jobs,
            commands,
        }
    }

    /// Asks the app to do something after this frame's panes have drawn.
    pub fn send(&self, command: AppCommand) {
        // The receiver lives as long as the app, which outlives every frame.
        let _ = self.commands.send(command);
    }

    /// Queues a job on the open lake.
    pub fn submit(&self, job: Job) {
        self.send(AppCommand::Submit(job));
    }

    /// Which lake and generation the data shown must be of.
    pub fn data_key(&self) -> Option<(String, u64)> {
        let lake = self.lake?;
        Some((lake.location().to_string(), self.generation))
    }
}

/// A pane of the app.
pub trait Pane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>);
}

/// The panes, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaneId {
    Overview,
    Charts,
    Browser,
    Sql,
    Compliance,
    Drift,
    Quarantine,
    Jobs,
    #[serde(alias = "Settings")]
    ApiServer,
}

impl PaneId {
    pub const ALL: [PaneId; 9] = [
        PaneId::Overview,
        PaneId::Charts,
        PaneId::Browser,
        PaneId::Sql,
        PaneId::Compliance,
        PaneId::Drift,
        PaneId::Quarantine,
        PaneId::Jobs,
        PaneId::ApiServer,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            PaneId::Overview => "Overview",
            PaneId::Charts => "KPI charts",
            PaneId::Browser => "Partitions",
            PaneId::Sql => "SQL",
            PaneId::Compliance => "Compliance",
            PaneId::Drift => "Schema drift",
            PaneId::Quarantine => "Quarantine",
            PaneId::Jobs => "Jobs",
            PaneId::ApiServer => "API server",
        }
    }

    /// Its shortcut: Ctrl and its place in the list.
    pub fn key(&self) -> egui::Key {
        const KEYS: [egui::Key; 9] = [
            egui::Key::Num1,
            egui::Key::Num2,
            egui::Key::Num3,
            egui::Key::Num4,
            egui::Key::Num5,
            egui::Key::Num6,
            egui::Key::Num7,
            egui::Key::Num8,
            egui::Key::Num9,
        ];
        let i = PaneId::ALL.iter().position(|p| p == self).unwrap_or(0);
        KEYS[i]
    }
}

/// Data a pane reads from the lake, loaded on the runtime and loaded again when its key (by
/// default the lake and the job generation) changes. The last value stays readable while a
/// reload runs, and frames borrow it rather than copy it.
pub struct Reloading<T, K = (String, u64)> {
    key: Option<K>,
    pending: Option<Fetch<T>>,
    value: Option<Result<T, String>>,
}

impl<T, K> Default for Reloading<T, K> {
    fn default() -> Self {
        Reloading {
            key: None,
            pending: None,
            value: None,
        }
    }
}

impl<T: Send + 'static, K: PartialEq> Reloading<T, K> {
    /// Starts `load` when `key` differs from the key of the last load; picks up a load that
    /// finished. Returns the last value loaded.
    pub fn poll_with<Fut>(
        &mut self,
        key: K,
        rt: &tokio::runtime::Handle,
        egui: &egui::Context,
        load: impl FnOnce() -> Fut,
    ) -> Option<&Result<T, String>>
    where
        Fut: Future<Output = Result<T, String>> + Send + 'static,
    {
        if self.key.as_ref() != Some(&key) {
            self.key = Some(key);
            self.pending = Some(Fetch::spawn(rt, egui, load()));
        }
        self.pick_up();
        self.value.as_ref()
    }

    fn pick_up(&mut self) {
        if let Some(done) = self.pending.as_mut().and_then(Fetch::take) {
            self.value = Some(done);
            self.pending = None;
        }
    }

    /// The last value loaded (picking up a load that just finished).
    pub fn get(&mut self) -> Option<&Result<T, String>> {
        self.pick_up();
        self.value.as_ref()
    }

    /// The last value loaded, if it loaded.
    pub fn ok(&mut self) -> Option<&T> {
        self.get()?.as_ref().ok()
    }

    /// The value as last picked up, without polling (for code that only holds `&self`).
    pub fn current(&self) -> Option<&Result<T, String>> {
        self.value.as_ref()
    }

    pub fn is_loading(&self) -> bool {
        self.pending.is_some()
    }

    /// Forgets the key, so the next poll loads again.
    pub fn invalidate(&mut self) {
        self.key = None;
    }

    /// Forgets everything (another lake was opened).
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

impl<T: Send + 'static> Reloading<T> {
    /// Loads for the context's lake and generation; `None` without a lake.
    pub fn poll<Fut>(
        &mut self,
        ctx: &PaneContext<'_>,
        egui: &egui::Context,
        load: impl FnOnce(Lake) -> Fut,
    ) -> Option<&Result<T, String>>
    where
        Fut: Future<Output = Result<T, String>> + Send + 'static,
    {
        let (lake, key) = (ctx.lake?, ctx.data_key()?);
        self.poll_with(key, ctx.rt, egui, || load(lake.clone()))
    }
}

/// What a pane shows of a value being loaded: a spinner while it loads, the error in words
/// when it failed; the value once it is there.
pub fn loaded<'a, T>(ui: &mut egui::Ui, value: Option<&'a Result<T, String>>) -> Option<&'a T> {
    match value {
        None => {
            ui.spinner();
            None
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
            None
        }
        Some(Ok(v)) => Some(v),
    }
}

/// A file being saved off the UI thread (an export), and where the last one went.
#[derive(Default)]
pub struct Saving {
    running: Option<Fetch<String>>,
    note: Option<Result<String, String>>,
}

impl Saving {
    /// Starts a save unless one is under way; `save` answers with the path it wrote.
    pub fn start<Fut>(&mut self, rt: &tokio::runtime::Handle, egui: &egui::Context, save: Fut)
    where
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        if self.running.is_none() {
            self.running = Some(Fetch::spawn(rt, egui, save));
        }
    }

    /// Where the last save went, or why it did not.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if let Some(r) = self.running.as_mut().and_then(Fetch::take) {
            self.note = Some(r);
            self.running = None;
        }
        match &self.note {
            Some(Ok(p)) => {
                ui.weak(format!("saved {p}"));
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {}
        }
    }
}
