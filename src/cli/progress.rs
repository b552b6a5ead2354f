//! Running work from a terminal: a progress bar on stderr fed from the job's
//! [`JobProgress`], and Ctrl-C asking the job to stop.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::format::thousands;
use crate::lake::Lake;
use crate::pipeline::{self, Job, JobContext, JobOutcome, JobProgress};
use crate::silver::digest::HmacKey;

/// Runs a pipeline job on the runtime behind a progress bar.
pub async fn run_job(
    lake: &Lake,
    key: Option<HmacKey>,
    job: Job,
    label: &'static str,
) -> Result<JobOutcome> {
    let ctx = JobContext::new(lake.clone(), key);
    let progress = ctx.progress.clone();
    let handle = tokio::spawn(async move { pipeline::run(job, &ctx).await });
    Ok(watch(handle, &progress, label).await??)
}

/// Runs blocking work (writing demo exports) on the runtime's blocking pool behind a progress
/// bar.
pub async fn with_progress<T, E>(
    label: &'static str,
    work: impl FnOnce(&JobProgress) -> Result<T, E> + Send + 'static,
) -> Result<T>
where
    T: Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let progress = Arc::new(JobProgress::new());
    let p = progress.clone();
    let handle = tokio::task::spawn_blocking(move || work(&p));
    Ok(watch(handle, &progress, label).await??)
}

/// Updates the bar until the task ends; Ctrl-C cancels it (the task then ends cancelled).
async fn watch<T>(
    mut handle: tokio::task::JoinHandle<T>,
    progress: &JobProgress,
    label: &'static str,
) -> Result<T> {
    let bar = progress_bar(label);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let result = loop {
        tokio::select! {
            r = &mut handle => break r,
            _ = &mut ctrl_c => {
                bar.set_message("cancelling…");
                progress.cancel();
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => update_bar(&bar, progress),
        }
    };
    bar.finish_and_clear();
    result.context("the job panicked")
}

fn progress_bar(label: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:30} [{bar:30}] {percent:>3}%  {prefix}  eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(label);
    bar
}

fn update_bar(bar: &ProgressBar, progress: &JobProgress) {
    let s = progress.snapshot();
    bar.set_length(s.total.max(1));
    bar.set_position(s.done.min(s.total));
    if !s.stage.is_empty() {
        bar.set_message(crate::format::escape_control(&s.stage).into_owned());
    }
    bar.set_prefix(format!(
        "{} records, {}/s",
        thousands(s.records),
        thousands(s.records_per_sec() as u64)
    ));
}
