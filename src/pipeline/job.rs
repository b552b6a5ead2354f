//! The work a lake can be asked to do, named once: the CLI parses a command into a [`Job`], the
//! app's queue holds them, and both call [`run`] and get a typed [`JobOutcome`] back.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;

use super::demo::{DemoError, create_demo_lake, demo_exports_dir};
use super::erase::{self, EraseError, EraseReport};
use super::layers::{self, LayersSummary, NewKey, ProcessError};
use super::pull::{PullSummary, pull_genesys};
use crate::bronze::{self, IngestError, IngestOptions, IngestSummary};
use crate::compliance::scan::{self, ScanError, ScanReport};
use crate::compliance::subject::trace::TraceReport;
use crate::compliance::subject::{Findings, Subject, SubjectError};
use crate::demo::GenerateSummary;
use crate::format::{duration, thousands};
use crate::lake::Lake;
use crate::lifecycle::{self, LifecycleError, Plan};
use crate::progress::JobProgress;
use crate::silver::ProcessMode;
use crate::silver::digest::HmacKey;
use crate::sources::genesys::{PullError, PullOptions};

/// One piece of work on a lake.
#[derive(Debug, Clone)]
pub enum Job {
    /// Generate a demo month of exports beside the lake, ingest them, then process.
    Demo { days: u32, contacts_per_day: u32 },
    /// Ingest files and folders into Bronze; with `then_process`, Silver and Gold follow.
    Ingest {
        inputs: Vec<PathBuf>,
        options: IngestOptions,
        then_process: bool,
    },
    /// Silver and Gold: the dates with new data, every date, or a range of dates.
    Process(ProcessMode),
    /// Quarantined records through today's readers again: the named quarantine files, or all.
    RetryQuarantine {
        files: Option<std::collections::BTreeSet<String>>,
        then_process: bool,
    },
    /// Silver's dates built on a Ballista cluster (`df://HOST:PORT`), committed here.
    ProcessOnCluster { mode: ProcessMode, cluster: String },
    /// Bronze lifecycle and Delta vacuum as of `now`: the plan, carried out when `apply`.
    Lifecycle { now: NaiveDate, apply: bool },
    /// Look for raw PII in every string column of Silver and Gold.
    Scan,
    /// Pull Genesys Cloud conversations into Bronze; with `then_process`, Silver and Gold
    /// follow.
    PullGenesys {
        options: Box<PullOptions>,
        then_process: bool,
    },
    /// Rotate the lake's HMAC key: Silver and Gold rebuilt under the new one, audited.
    Rekey { new: NewKey, reason: String },
    /// Find a data subject everywhere in the lake.
    SubjectFind { subject: Subject },
    /// Erase a data subject everywhere: the plan, carried out when `apply`.
    SubjectErase {
        subject: Subject,
        reason: String,
        apply: bool,
    },
    /// Read every file of the lake for a data subject.
    SubjectVerify { subject: Subject },
}

impl Job {
    /// Ingest then process: what dropping files on the app, or `cclake run`, asks for.
    pub fn ingest_and_process(inputs: Vec<PathBuf>) -> Job {
        Job::Ingest {
            inputs,
            options: IngestOptions::default(),
            then_process: true,
        }
    }

    /// Whether the job masks (and so needs the HMAC key).
    pub fn needs_key(&self) -> bool {
        match self {
            Job::Demo { .. }
            | Job::Process(_)
            | Job::ProcessOnCluster { .. }
            | Job::Rekey { .. } => true,
            Job::SubjectFind { .. } | Job::SubjectErase { .. } | Job::SubjectVerify { .. } => true,
            Job::Ingest { then_process, .. }
            | Job::PullGenesys { then_process, .. }
            | Job::RetryQuarantine { then_process, .. } => *then_process,
            Job::Lifecycle { .. } | Job::Scan => false,
        }
    }

    /// What the job is, in a few words (job lists, the status bar).
    pub fn label(&self) -> String {
        match self {
            Job::Demo { days, .. } => format!("create demo lake ({days} days)"),
            Job::Ingest { inputs, .. } => format!("ingest {} item(s)", inputs.len()),
            Job::RetryQuarantine { files: None, .. } => "retry all quarantined records".into(),
            Job::RetryQuarantine { files: Some(f), .. } => {
                format!("retry {} quarantine file(s)", f.len())
            }
            Job::Process(ProcessMode::Incremental) => "process new data".into(),
            Job::Process(ProcessMode::Full) => "full rebuild".into(),
            Job::Process(ProcessMode::Range { from, to }) => format!("reprocess {from} … {to}"),
            Job::ProcessOnCluster { mode, cluster } => {
                format!("{} on {cluster}", Job::Process(*mode).label())
            }
            Job::Lifecycle { apply: false, .. } => "lifecycle plan".into(),
            Job::Lifecycle { apply: true, .. } => "lifecycle apply".into(),
            Job::Scan => "leak scan".into(),
            Job::PullGenesys { options, .. } => {
                format!("pull Genesys {} … {}", options.from, options.to)
            }
            Job::Rekey { .. } => "rotate key".into(),
            Job::SubjectFind { .. } => "find a data subject".into(),
            Job::SubjectErase { apply: false, .. } => "plan a data subject's erasure".into(),
            Job::SubjectErase { apply: true, .. } => "erase a data subject".into(),
            Job::SubjectVerify { .. } => "trace a data subject".into(),
        }
    }
}

/// What a job works with: the lake, the HMAC key resolved once by the caller (none when it
/// could not be loaded: jobs that mask then fail saying so), and the progress it reports to
/// and is cancelled through.
#[derive(Clone)]
pub struct JobContext {
    pub lake: Lake,
    pub key: Option<HmacKey>,
    pub progress: Arc<JobProgress>,
}

impl JobContext {
    pub fn new(lake: Lake, key: Option<HmacKey>) -> JobContext {
        JobContext {
            lake,
            key,
            progress: Arc::new(JobProgress::new()),
        }
    }

    fn key(&self) -> Result<HmacKey, JobError> {
        self.key.clone().ok_or(JobError::NoKey)
    }
}

/// What a job did, per kind.
#[derive(Debug, Clone)]
// One outcome per job, moved once from the runner to its caller: boxing the large summaries
// would only add indirection.
#[allow(clippy::large_enum_variant)]
pub enum JobOutcome {
    Demo {
        exports: PathBuf,
        generated: GenerateSummary,
        ingest: IngestSummary,
        layers: LayersSummary,
    },
    Retried {
        retry: crate::bronze::retry::RetrySummary,
        layers: Option<LayersSummary>,
    },
    Ingested {
        ingest: IngestSummary,
        layers: Option<LayersSummary>,
    },
    Processed(LayersSummary),
    Lifecycle(Plan),
    Scanned(ScanReport),
    Pulled {
        pull: PullSummary,
        layers: Option<LayersSummary>,
    },
    /// The key rotated to `key`, which is the one in force from now on.
    Rekeyed {
        layers: LayersSummary,
        key: HmacKey,
    },
    SubjectFound(Box<Findings>),
    SubjectErased(Box<EraseReport>),
    SubjectTraced(TraceReport),
}

impl JobOutcome {
    /// The outcome in one line (the app's job list and status bar).
    pub fn summary(&self) -> String {
        match self {
            JobOutcome::Demo {
                exports,
                generated,
                ingest,
                layers,
            } => format!(
                "{} export files generated in {}; {} records ingested; {} contacts in Silver; {} Gold dates",
                generated.total_files(),
                exports.display(),
                thousands(ingest.bronze_records()),
                thousands(layers.silver.rows_out),
                layers.gold.dates.len()
            ),
            JobOutcome::Retried { retry, layers } => {
                let mut s = format!(
                    "{} quarantined records from {} files retried: {} now in Bronze, {} still failing{}",
                    thousands(retry.retried),
                    retry.files,
                    thousands(retry.into_bronze),
                    thousands(retry.still_failing),
                    match retry.not_retryable {
                        0 => String::new(),
                        n => format!(", {n} held by reference (re-ingest their original file)"),
                    }
                );
                if let Some(l) = layers {
                    s.push_str("; ");
                    s.push_str(&layers_line(l));
                }
                s
            }
            JobOutcome::Ingested { ingest, layers } => {
                let mut s = format!(
                    "{} files ingested ({} already in the lake, {} failed): {} records to Bronze, {} quarantined",
                    ingest.ingested().count(),
                    ingest.already_ingested(),
                    ingest.failed(),
                    thousands(ingest.bronze_records()),
                    thousands(ingest.quarantined()),
                );
                if let Some(l) = layers {
                    s.push_str("; ");
                    s.push_str(&layers_line(l));
                }
                s
            }
            JobOutcome::Processed(l) => layers_line(l),
            JobOutcome::Lifecycle(plan) => {
                let vacuum: usize = plan.vacuum.iter().map(|(_, n)| n).sum();
                format!(
                    "{}: {} partitions to cold, {} to delete, {} old Delta files to vacuum",
                    if plan.applied {
                        "applied"
                    } else {
                        "plan (nothing changed)"
                    },
                    plan.moves(),
                    plan.deletes(),
                    vacuum
                )
            }
            JobOutcome::Scanned(report) => format!(
                "no raw PII found in {} values of {} columns ({})",
                thousands(report.values_scanned),
                report.columns_scanned,
                report.tables.join(", ")
            ),
            JobOutcome::Pulled { pull, layers } => {
                let mut s = format!(
                    "Genesys job {}: {} pages, {} conversations → {} records in Bronze, {} quarantined",
                    pull.job_id,
                    pull.pages,
                    thousands(pull.conversations),
                    thousands(pull.bronze_records),
                    thousands(pull.quarantined)
                );
                if let Some(l) = layers {
                    s.push_str("; ");
                    s.push_str(&layers_line(l));
                }
                s
            }
            JobOutcome::Rekeyed { layers, .. } => format!("key rotated; {}", layers_line(layers)),
            JobOutcome::SubjectFound(f) => findings_line(f),
            JobOutcome::SubjectErased(r) => match &r.erasure {
                Some(e) if r.applied => format!(
                    "erasure {} done: {} Bronze lines in {} files, {} quarantined records and {} Silver rows removed; {} Gold dates recomputed; {} files of the lake read, {} still mention the subject",
                    e.id,
                    e.bronze_lines_removed,
                    e.bronze_files_rewritten,
                    e.quarantine_rows_removed,
                    e.silver_rows_removed,
                    e.gold_dates.len(),
                    r.trace.as_ref().map_or(0, |t| t.files_scanned),
                    r.trace.as_ref().map_or(0, |t| t.hits.len()),
                ),
                _ => format!("plan (nothing changed): {}", findings_line(&r.found)),
            },
            JobOutcome::SubjectTraced(t) => format!(
                "{} files of the lake read: {} mention the subject",
                t.files_scanned,
                t.hits.len()
            ),
        }
    }

    /// What went wrong although the job ran to its end: input files that could not be read,
    /// raw PII found by a scan. The CLI exits non-zero and the app lists the job as failed.
    pub fn problem(&self) -> Option<String> {
        match self {
            JobOutcome::Ingested { ingest, .. } | JobOutcome::Demo { ingest, .. }
                if ingest.failed() > 0 =>
            {
                Some(format!(
                    "{} input file(s) could not be read: {}",
                    ingest.failed(),
                    ingest.failures().take(3).collect::<Vec<_>>().join("; ")
                ))
            }
            JobOutcome::Scanned(report) if !report.clean() => {
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
                Some(format!(
                    "raw PII found ({} findings): {}",
                    report.findings.len(),
                    lines.join("; ")
                ))
            }
            JobOutcome::SubjectErased(r)
                if r.trace.as_ref().is_some_and(|t| !t.hits.is_empty()) =>
            {
                let files: Vec<&str> = (r.trace.iter().flat_map(|t| &t.hits))
                    .map(|h| h.path.as_str())
                    .take(5)
                    .collect();
                Some(format!(
                    "the subject is still in {} file(s) after the erasure: {}",
                    r.trace.as_ref().map_or(0, |t| t.hits.len()),
                    files.join(", ")
                ))
            }
            JobOutcome::SubjectTraced(t) if !t.hits.is_empty() => Some(format!(
                "the subject is in {} file(s) of the lake",
                t.hits.len()
            )),
            _ => None,
        }
    }
}

/// Where a subject was found, in counts (no value).
fn findings_line(f: &Findings) -> String {
    format!(
        "{} Bronze lines in {} files, {} quarantined records, {} damaged originals, {} Silver rows, {} Gold days and queues, {} CRM rows",
        f.bronze.len(),
        f.bronze
            .iter()
            .map(|h| &h.file)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        f.quarantine.len(),
        f.originals.len(),
        f.silver.len(),
        f.gold.len(),
        f.crm.len()
    )
}

fn layers_line(l: &LayersSummary) -> String {
    format!(
        "Silver: {} dates rebuilt, {} contacts, {} duplicates dropped, {} set aside; Gold: {} dates recomputed{} in {}",
        l.silver.dates.len(),
        thousands(l.silver.rows_out),
        thousands(l.silver.duplicates_dropped),
        thousands(l.silver.rejected),
        l.gold.dates.len(),
        if l.gold.full_rebuild { " (full)" } else { "" },
        duration(l.silver.elapsed_secs + l.gold.elapsed_secs)
    )
}

/// Why a job stopped. The layers' errors are boxed: they are large, and a job's result is
/// passed around by value.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(
        "this job masks data and needs the HMAC key, which could not be loaded \
         (CCLAKE_HMAC_KEY, CCLAKE_HMAC_KEY_FILE or the key file in the config folder)"
    )]
    NoKey,
    #[error(transparent)]
    Ingest(Box<IngestError>),
    #[error(transparent)]
    Layers(Box<ProcessError>),
    #[error(transparent)]
    Lifecycle(Box<LifecycleError>),
    #[error(transparent)]
    Scan(Box<ScanError>),
    #[error(transparent)]
    Demo(Box<DemoError>),
    #[error(transparent)]
    Pull(Box<PullError>),
    #[error(transparent)]
    Subject(Box<SubjectError>),
    #[error(transparent)]
    Erase(Box<EraseError>),
    #[error("the job stopped unexpectedly: {0}")]
    Panicked(String),
}

macro_rules! boxed_from {
    ($($variant:ident($error:ty)),* $(,)?) => {$(
        impl From<$error> for JobError {
            fn from(e: $error) -> Self {
                JobError::$variant(Box::new(e))
            }
        }
    )*};
}

boxed_from!(
    Ingest(IngestError),
    Layers(ProcessError),
    Lifecycle(LifecycleError),
    Scan(ScanError),
    Demo(DemoError),
    Pull(PullError),
    Subject(SubjectError),
    Erase(EraseError),
);

/// Runs a job to its outcome. Blocking steps (ingest, generating exports) run on the runtime's
/// blocking pool, so this may be awaited from any runtime task.
pub async fn run(job: Job, ctx: &JobContext) -> Result<JobOutcome, JobError> {
    let lake = &ctx.lake;
    let progress = &ctx.progress;
    match job {
        Job::Demo {
            days,
            contacts_per_day,
        } => {
            let exports = demo_exports_dir(lake);
            let (l, p, e) = (lake.clone(), progress.clone(), exports.clone());
            let (generated, ingest) = blocking(move || {
                create_demo_lake(&l, &e, days, contacts_per_day, &p).map_err(JobError::from)
            })
            .await?;
            let layers = process(ctx, ProcessMode::Incremental).await?;
            Ok(JobOutcome::Demo {
                exports,
                generated,
                ingest,
                layers,
            })
        }
        Job::Ingest {
            inputs,
            options,
            then_process,
        } => {
            let (l, p) = (lake.clone(), progress.clone());
            let ingest =
                blocking(move || bronze::ingest(&l, &inputs, &options, &p).map_err(JobError::from))
                    .await?;
            let layers = match then_process {
                true => Some(process(ctx, ProcessMode::Incremental).await?),
                false => None,
            };
            Ok(JobOutcome::Ingested { ingest, layers })
        }
        Job::Process(mode) => Ok(JobOutcome::Processed(process(ctx, mode).await?)),
        Job::RetryQuarantine {
            files,
            then_process,
        } => {
            let (l, p) = (lake.clone(), progress.clone());
            let staging = crate::sources::genesys::private_staging()
                .map_err(|e| JobError::Panicked(format!("no staging folder for the retry: {e}")))?
                .join("quarantine-retry");
            let retry = blocking(move || {
                let opts = IngestOptions::default();
                crate::bronze::retry::retry(&l, files.as_ref(), &staging, &opts, &p)
                    .map_err(JobError::from)
            })
            .await?;
            let layers = match then_process && retry.retried > 0 {
                true => Some(process(ctx, ProcessMode::Incremental).await?),
                false => None,
            };
            Ok(JobOutcome::Retried { retry, layers })
        }
        Job::ProcessOnCluster { mode, cluster } => {
            let key = ctx.key()?;
            let layers = layers::process_on(lake, mode, key, Some(&cluster), progress).await?;
            Ok(JobOutcome::Processed(layers))
        }
        Job::Lifecycle { now, apply } => {
            progress.set_stage("lifecycle: planning");
            let plan = lifecycle::plan(lake, now).await?;
            let plan = match apply {
                true => lifecycle::apply(lake, plan, progress).await?,
                false => plan,
            };
            Ok(JobOutcome::Lifecycle(plan))
        }
        Job::Scan => Ok(JobOutcome::Scanned(scan::scan(lake, progress).await?)),
        Job::PullGenesys {
            options,
            then_process,
        } => {
            let pull = pull_genesys(lake, &options, progress).await?;
            let layers = match then_process {
                true => Some(process(ctx, ProcessMode::Incremental).await?),
                false => None,
            };
            Ok(JobOutcome::Pulled { pull, layers })
        }
        Job::Rekey { new, reason } => {
            let current = ctx.key()?;
            let layers = layers::rekey(lake, &current, new.clone(), &reason, progress).await?;
            // The key in force from now on: a generated one has been put in place of the file.
            let key = match new {
                NewKey::Current(k) => *k,
                NewKey::Generated { key_file } => {
                    HmacKey::from_file(&key_file).map_err(ProcessError::from)?
                }
            };
            Ok(JobOutcome::Rekeyed { layers, key })
        }
        Job::SubjectFind { subject } => {
            let found = erase::find(lake, &subject, ctx.key()?, progress).await?;
            Ok(JobOutcome::SubjectFound(Box::new(found)))
        }
        Job::SubjectErase {
            subject,
            reason,
            apply,
        } => {
            let r = erase::erase(lake, &subject, &reason, ctx.key()?, apply, progress).await?;
            Ok(JobOutcome::SubjectErased(Box::new(r)))
        }
        Job::SubjectVerify { subject } => {
            let t = erase::verify(lake, &subject, ctx.key()?, progress).await?;
            Ok(JobOutcome::SubjectTraced(t))
        }
    }
}

async fn process(ctx: &JobContext, mode: ProcessMode) -> Result<LayersSummary, JobError> {
    Ok(layers::process(&ctx.lake, mode, ctx.key()?, &ctx.progress).await?)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, JobError> + Send + 'static,
) -> Result<T, JobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| JobError::Panicked(e.to_string()))?
}
