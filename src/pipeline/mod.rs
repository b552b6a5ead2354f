//! Work the lake can be asked to do, and how its progress and cancellation are reported to the
//! CLI and the app.

pub mod demo;
pub mod genesys;
pub mod progress;

pub use progress::{Cancelled, JobProgress, ProgressSnapshot};

use serde::Serialize;

use crate::gold::{self, GoldError, GoldMode, GoldSummary};
use crate::lake::Lake;
use crate::silver::masking::HmacKey;
use crate::silver::{self, ProcessMode, ProcessSummary, SilverError};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("Silver: {0}")]
    Silver(#[from] SilverError),
    #[error("Gold: {0}")]
    Gold(#[from] GoldError),
}

/// What `process` did to each layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LayersSummary {
    pub silver: ProcessSummary,
    pub gold: GoldSummary,
}

/// Silver from Bronze, then Gold from Silver: what `cclake process` and the app's process jobs
/// run. Gold follows whatever Silver changed (it reads Silver's Delta log), so a run that died
/// between the two layers is finished by the next one. A full Silver rebuild rebuilds Gold in
/// full too.
pub async fn process(
    lake: &Lake,
    mode: ProcessMode,
    key: HmacKey,
    progress: &JobProgress,
) -> Result<LayersSummary, ProcessError> {
    let silver = silver::process(lake, mode, key, progress).await?;
    release_freed_memory();
    let gold_mode = match mode {
        ProcessMode::Full => GoldMode::Full,
        _ => GoldMode::Incremental,
    };
    let gold = gold::build(lake, gold_mode, progress).await?;
    Ok(LayersSummary { silver, gold })
}

/// Hands the heap memory freed so far back to the system. Silver builds on rayon's threads and
/// Gold queries on the runtime's, and glibc keeps a thread's freed memory in that thread's
/// arena: without this, the 0.4-0.5 GB Silver had in flight stayed resident under everything
/// Gold then allocated, and `process` peaked at the sum of the two.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the kernel; it touches no live allocation
    // and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
