//! The app's job queue around [`pipeline::run`]: the jobs a user starts run one at a time on the
//! tokio runtime. They report through `JobEvent`s on a channel and a shared [`JobProgress`]
//! (atomics), so the UI thread only ever reads: it drains the channel and takes a progress
//! snapshot once a frame. The HMAC key is resolved once, when the app starts, and handed to
//! each job; a key rotation hands the queue the key now in force.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use chrono::{DateTime, Utc};

use crate::lake::Lake;
use crate::pipeline::{self, Job, JobContext, JobOutcome, JobProgress, ProgressSnapshot};
use crate::silver::digest::HmacKey;

/// What a job tells the UI.
#[derive(Debug)]
pub enum JobEvent {
    Started { id: u64 },
    Finished { id: u64, outcome: Box<JobOutcome> },
    Failed { id: u64, error: String },
}

/// A job in the history list.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: u64,
    pub kind: Job,
    pub lake: String,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub secs: Option<f64>,
    pub state: JobState,
    /// What a finished job did, for the pane that asked (a data subject's findings).
    pub outcome: Option<Arc<JobOutcome>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Queued,
    Running,
    Done(String),
    Failed(String),
    Cancelled(String),
}

/// The queue, the running job and the history.
pub struct Jobs {
    rt: tokio::runtime::Handle,
    tx: Sender<JobEvent>,
    rx: Receiver<JobEvent>,
    queue: VecDeque<(u64, Job, Lake)>,
    /// The HMAC key jobs mask with, or why there is none.
    key: Result<HmacKey, String>,
    running: Option<(u64, Arc<JobProgress>, std::time::Instant)>,
    pub history: Vec<JobRecord>,
    next_id: u64,
    /// Bumped whenever a job finishes, so panes know to reload what they show.
    pub generation: u64,
}

impl Jobs {
    pub fn new(rt: tokio::runtime::Handle, key: Result<HmacKey, String>) -> Self {
        let (tx, rx) = channel();
        Jobs {
            rt,
            key,
            tx,
            rx,
            queue: VecDeque::new(),
            running: None,
            history: Vec::new(),
            next_id: 1,
            generation: 0,
        }
    }

    /// Queues a job on a lake; returns its id.
    pub fn submit(&mut self, kind: Job, lake: &Lake) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.history.push(JobRecord {
            id,
            kind: kind.clone(),
            lake: lake.location().to_string(),
            queued_at: Utc::now(),
            started_at: None,
            secs: None,
            state: JobState::Queued,
            outcome: None,
        });
        self.queue.push_back((id, kind, lake.clone()));
        id
    }

    /// The running job's progress.
    pub fn running(&self) -> Option<(&JobRecord, ProgressSnapshot)> {
        let (id, progress, _) = self.running.as_ref()?;
        let rec = self.history.iter().find(|r| r.id == *id)?;
        Some((rec, progress.snapshot()))
    }

    /// The key jobs mask with, or why it could not be loaded.
    pub fn key(&self) -> Result<&HmacKey, &str> {
        self.key.as_ref().map_err(|e| e.as_str())
    }

    /// The newest job the predicate picks, queued, running or finished.
    pub fn latest(&self, pick: impl Fn(&Job) -> bool) -> Option<&JobRecord> {
        self.history.iter().rev().find(|r| pick(&r.kind))
    }

    pub fn is_busy(&self) -> bool {
        self.running.is_some() || !self.queue.is_empty()
    }

    pub fn cancel_running(&self) {
        if let Some((_, p, _)) = &self.running {
            p.cancel();
        }
    }

    /// Drains events and starts the next job when none runs. Call once a frame.
    pub fn pump(&mut self, ctx: &egui::Context) {
        while let Ok(ev) = self.rx.try_recv() {
            let secs = self
                .running
                .as_ref()
                .map(|(_, _, t)| t.elapsed().as_secs_f64());
            let mut finished = None;
            let (id, state) = match ev {
                JobEvent::Started { id } => {
                    if let Some(r) = self.history.iter_mut().find(|r| r.id == id) {
                        r.state = JobState::Running;
                        r.started_at = Some(Utc::now());
                    }
                    continue;
                }
                JobEvent::Finished { id, outcome } => {
                    if let JobOutcome::Rekeyed { key, .. } = outcome.as_ref() {
                        self.key = Ok(key.clone());
                    }
                    let state = match outcome.problem() {
                        Some(problem) => JobState::Failed(problem),
                        None => JobState::Done(outcome.summary()),
                    };
                    finished = Some(Arc::from(outcome));
                    (id, state)
                }
                JobEvent::Failed { id, error } => {
                    let cancelled = self
                        .running
                        .as_ref()
                        .is_some_and(|(_, p, _)| p.is_cancelled());
                    if cancelled {
                        (id, JobState::Cancelled(error))
                    } else {
                        (id, JobState::Failed(error))
                    }
                }
            };
            if let Some(r) = self.history.iter_mut().find(|r| r.id == id) {
                r.state = state;
                r.secs = secs;
                r.outcome = finished;
            }
            if self.running.as_ref().is_some_and(|(rid, _, _)| *rid == id) {
                self.running = None;
            }
            self.generation += 1;
        }
        if self.running.is_none()
            && let Some((id, kind, lake)) = self.queue.pop_front()
        {
            let job = JobContext::new(lake, self.key.as_ref().ok().cloned());
            self.running = Some((id, job.progress.clone(), std::time::Instant::now()));
            let tx = self.tx.clone();
            let ctx = ctx.clone();
            self.rt.spawn(async move {
                let _ = tx.send(JobEvent::Started { id });
                ctx.request_repaint();
                let ev = match pipeline::run(kind, &job).await {
                    Ok(outcome) => JobEvent::Finished {
                        id,
                        outcome: Box::new(outcome),
                    },
                    Err(error) => JobEvent::Failed {
                        id,
                        error: error.to_string(),
                    },
                };
                let _ = tx.send(ev);
                ctx.request_repaint();
            });
        }
        if self.running.is_some() {
            // Progress moves without events: keep frames coming while a job runs.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}
