//! Pulling from a platform's API into Bronze: the Genesys Cloud source fetches result pages
//! into a private staging folder, and each page is ingested through the same path and ledger
//! as any file before the source marks it done (so a pull resumes after its last ingested
//! page).

use serde::Serialize;

use crate::bronze::{self, IngestOptions};
use crate::lake::Lake;
use crate::progress::JobProgress;
use crate::sources::genesys::{Pull, PullError, PullOptions};

/// What a pull did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PullSummary {
    pub job_id: String,
    pub resumed: bool,
    pub pages: u32,
    pub pages_already_ingested: u32,
    pub conversations: u64,
    pub bronze_records: u64,
    pub quarantined: u64,
    pub rate_limited_waits: u32,
}

/// Pulls the interval's conversations into Bronze. Blocking ingest work runs on the runtime's
/// blocking pool.
pub async fn pull_genesys(
    lake: &Lake,
    opts: &PullOptions,
    progress: &JobProgress,
) -> Result<PullSummary, PullError> {
    let mut pull = Pull::start(lake, opts, progress).await?;
    let mut summary = PullSummary {
        resumed: pull.resumed,
        ..Default::default()
    };
    progress.set_stage("Genesys: fetching result pages");
    while let Some(page) = pull.next_page().await? {
        progress.check().map_err(|_| PullError::Cancelled)?;
        let (l, f, number) = (lake.clone(), page.file.clone(), page.number);
        let ingested = tokio::task::spawn_blocking(move || {
            // A page is small: its own progress, the pull reports pages.
            bronze::ingest(&l, &[f], &IngestOptions::default(), &JobProgress::new())
        })
        .await
        .map_err(|e| PullError::Ingest {
            page: number,
            message: e.to_string(),
        })?
        .map_err(|e| PullError::Ingest {
            page: number,
            message: e.to_string(),
        })?;
        if ingested.already_ingested() > 0 {
            summary.pages_already_ingested += 1;
        }
        summary.bronze_records += ingested.bronze_records();
        summary.quarantined += ingested.quarantined();
        summary.pages += 1;
        summary.conversations += page.conversations;
        progress.add_done(1);
        progress.add_records(page.conversations);
        pull.page_done(page).await?;
    }
    summary.job_id = pull.job_id().to_string();
    summary.rate_limited_waits = pull.rate_limited_waits();
    Ok(summary)
}
