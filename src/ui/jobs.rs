//! The app's job queue: the pipeline work a user starts (demo lake, ingest, process, rebuild,
//! reprocess a range, lifecycle), run one at a time on the tokio runtime. Jobs report through
//! `JobEvent`s on a channel and a shared [`JobProgress`] (atomics), so the UI thread only ever
//! reads: it drains the channel and takes a progress snapshot once a frame.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use chrono::{DateTime, NaiveDate, Utc};

use crate::bronze::{self, IngestOptions};
use crate::format::{duration, thousands};
use crate::lake::Lake;
use crate::lifecycle;
use crate::pipeline::demo::{create_demo_lake, demo_exports_dir};
use crate::pipeline::{self, JobProgress, ProgressSnapshot};
use crate::silver::ProcessMode;
use crate::silver::digest::HmacKey;

/// Work a user can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum JobKind {
    /// Generate demo exports, ingest them, process to Gold.
    CreateDemo {
        days: u32,
        contacts_per_day: u32,
    },
    /// Ingest files or folders, then process incrementally.
    Ingest(Vec<PathBuf>),
    Process,
    FullRebuild,
    Reprocess {
        from: NaiveDate,
        to: NaiveDate,
    },
    Lifecycle {
        apply: bool,
    },
    /// Look for raw PII in Silver and Gold.
    LeakScan,
    /// Rotate the lake's HMAC key: rebuild Silver and Gold under the new key.
    Rekey {
        reason: String,
    },
    /// A job that fails on purpose in tests (and nowhere else).
    #[doc(hidden)]
    FailForTest(String),
}

impl JobKind {
    pub fn label(&self) -> String {
        match self {
            JobKind::CreateDemo { days, .. } => format!("create demo lake ({days} days)"),
            JobKind::Ingest(p) => format!("ingest {} item(s)", p.len()),
            JobKind::Process => "process new data".into(),
            JobKind::FullRebuild => "full rebuild".into(),
            JobKind::Reprocess { from, to } => format!("reprocess {from} … {to}"),
            JobKind::Lifecycle { apply: false } => "lifecycle plan".into(),
            JobKind::Lifecycle { apply: true } => "lifecycle apply".into(),
            JobKind::LeakScan => "leak scan".into(),
            JobKind::Rekey { .. } => "rotate key".into(),
            JobKind::FailForTest(_) => "test failure".into(),
        }
    }
}

/// What a job tells the UI.
#[derive(Debug)]
pub enum JobEvent {
    Started { id: u64 },
    Finished { id: u64, summary: String },
    Failed { id: u64, error: String },
}

/// A job in the history list.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: u64,
    pub kind: JobKind,
    pub lake: String,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub secs: Option<f64>,
    pub state: JobState,
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
    queue: VecDeque<(u64, JobKind, Lake)>,
    running: Option<(u64, Arc<JobProgress>, std::time::Instant)>,
    pub history: Vec<JobRecord>,
    next_id: u64,
    /// Bumped whenever a job finishes, so panes know to reload what they show.
    pub generation: u64,
}

impl Jobs {
    pub fn new(rt: tokio::runtime::Handle) -> Self {
        let (tx, rx) = channel();
        Jobs {
            rt,
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
    pub fn submit(&mut self, kind: JobKind, lake: &Lake) -> u64 {
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
            let (id, state) = match ev {
                JobEvent::Started { id } => {
                    if let Some(r) = self.history.iter_mut().find(|r| r.id == id) {
                        r.state = JobState::Running;
                        r.started_at = Some(Utc::now());
                    }
                    continue;
                }
                JobEvent::Finished { id, summary } => (id, JobState::Done(summary)),
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
            }
            if self.running.as_ref().is_some_and(|(rid, _, _)| *rid == id) {
                self.running = None;
            }
            self.generation += 1;
        }
        if self.running.is_none()
            && let Some((id, kind, lake)) = self.queue.pop_front()
        {
            let progress = Arc::new(JobProgress::new());
            self.running = Some((id, progress.clone(), std::time::Instant::now()));
            let tx = self.tx.clone();
            let ctx = ctx.clone();
            self.rt.spawn(async move {
                let _ = tx.send(JobEvent::Started { id });
                ctx.request_repaint();
                let ev = match run(kind, &lake, &progress).await {
                    Ok(summary) => JobEvent::Finished { id, summary },
                    Err(error) => JobEvent::Failed { id, error },
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

/// Runs one job to its summary line, or its error in words.
async fn run(kind: JobKind, lake: &Lake, progress: &Arc<JobProgress>) -> Result<String, String> {
    let key = || HmacKey::from_environment().map_err(|e| format!("HMAC key: {e}"));
    match kind {
        JobKind::CreateDemo {
            days,
            contacts_per_day,
        } => {
            let exports = demo_exports_dir(lake);
            let (l, p, e) = (lake.clone(), progress.clone(), exports.clone());
            let (generated, ingested) = tokio::task::spawn_blocking(move || {
                create_demo_lake(&l, &e, days, contacts_per_day, &p)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            let layers = pipeline::process(lake, ProcessMode::Incremental, key()?, progress)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!(
                "{} export files generated in {}; {} records ingested; {} contacts in Silver; {} Gold dates",
                generated.total_files(),
                exports.display(),
                thousands(ingested.bronze_records()),
                thousands(layers.silver.rows_out),
                layers.gold.dates.len()
            ))
        }
        JobKind::Ingest(paths) => {
            let (l, p) = (lake.clone(), progress.clone());
            let ingested = tokio::task::spawn_blocking(move || {
                bronze::ingest(&l, &paths, &IngestOptions::default(), &p)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            let layers = pipeline::process(lake, ProcessMode::Incremental, key()?, progress)
                .await
                .map_err(|e| e.to_string())?;
            let mut s = format!(
                "{} files ingested ({} already in the lake, {} failed): {} records to Bronze, {} quarantined; {}",
                ingested.ingested().count(),
                ingested.already_ingested(),
                ingested.failed(),
                thousands(ingested.bronze_records()),
                thousands(ingested.quarantined()),
                process_line(&layers)
            );
            if ingested.failed() > 0 {
                s.push_str("; see the CLI or the log for the files that failed");
            }
            Ok(s)
        }
        JobKind::Process | JobKind::FullRebuild | JobKind::Reprocess { .. } => {
            let mode = match kind {
                JobKind::FullRebuild => ProcessMode::Full,
                JobKind::Reprocess { from, to } => ProcessMode::Range { from, to },
                _ => ProcessMode::Incremental,
            };
            let layers = pipeline::process(lake, mode, key()?, progress)
                .await
                .map_err(|e| e.to_string())?;
            Ok(process_line(&layers))
        }
        JobKind::Lifecycle { apply } => {
            progress.set_stage("lifecycle: planning");
            let plan = lifecycle::plan(lake, Utc::now().date_naive())
                .await
                .map_err(|e| e.to_string())?;
            let plan = if apply {
                lifecycle::apply(lake, plan, progress)
                    .await
                    .map_err(|e| e.to_string())?
            } else {
                plan
            };
            let vacuum: usize = plan.vacuum.iter().map(|(_, n)| n).sum();
            Ok(format!(
                "{}: {} partitions to cold, {} to delete, {} old Delta files to vacuum",
                if apply {
                    "applied"
                } else {
                    "plan (nothing changed)"
                },
                plan.moves(),
                plan.deletes(),
                vacuum
            ))
        }
        JobKind::LeakScan => {
            let report = crate::compliance::scan::scan(lake, progress)
                .await
                .map_err(|e| e.to_string())?;
            if report.clean() {
                Ok(format!(
                    "no raw PII found in {} values of {} columns ({})",
                    thousands(report.values_scanned),
                    report.columns_scanned,
                    report.tables.join(", ")
                ))
            } else {
                let lines: Vec<String> = report
                    .findings
                    .iter()
                    .take(10)
                    .map(|f| {
                        format!(
                            "{}.{} date={} {} ×{} (e.g. {})",
                            f.table, f.column, f.partition, f.kind, f.count, f.example
                        )
                    })
                    .collect();
                Err(format!(
                    "raw PII found ({} findings): {}",
                    report.findings.len(),
                    lines.join("; ")
                ))
            }
        }
        JobKind::Rekey { reason } => {
            let new =
                pipeline::NewKey::from_environment(false).map_err(|e| format!("HMAC key: {e}"))?;
            let layers = pipeline::rekey(lake, new, &reason, progress)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("key rotated; {}", process_line(&layers)))
        }
        JobKind::FailForTest(message) => {
            progress.set_stage("failing on purpose");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Err(message)
        }
    }
}

fn process_line(l: &pipeline::LayersSummary) -> String {
    format!(
        "Silver: {} dates rebuilt, {} contacts, {} duplicates dropped; Gold: {} dates recomputed{} in {}",
        l.silver.dates.len(),
        thousands(l.silver.rows_out),
        thousands(l.silver.duplicates_dropped),
        l.gold.dates.len(),
        if l.gold.full_rebuild { " (full)" } else { "" },
        duration(l.silver.elapsed_secs + l.gold.elapsed_secs)
    )
}
