//! The demo lake a new user lands on: generated exports, ingested.

use std::path::{Path, PathBuf};

use crate::bronze::{self, IngestOptions, IngestSummary};
use crate::demo::{self, GenerateOptions, GenerateSummary};
use crate::lake::Lake;
use crate::pipeline::JobProgress;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Generate(#[from] demo::GenerateError),
    #[error(transparent)]
    Ingest(#[from] bronze::IngestError),
}

/// Where the demo exports of a lake are written: beside a local lake (`<lake>-demo-exports`),
/// or in the temp folder for object-store lakes.
pub fn demo_exports_dir(lake: &Lake) -> PathBuf {
    match lake.local_root() {
        Some(root) => {
            let name = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "cclake".into());
            root.with_file_name(format!("{name}-demo-exports"))
        }
        None => std::env::temp_dir().join("cclake-demo-exports"),
    }
}

/// Generates a month of demo exports and ingests them into the lake. Blocking; call from
/// `spawn_blocking`.
pub fn create_demo_lake(
    lake: &Lake,
    exports: &Path,
    days: u32,
    contacts_per_day: u32,
    progress: &JobProgress,
) -> Result<(GenerateSummary, IngestSummary), DemoError> {
    let opts = GenerateOptions {
        out: exports.to_path_buf(),
        days,
        contacts_per_day,
        seed: 42,
        start: GenerateOptions::default_start(),
    };
    let generated = demo::generate(&opts, progress)?;
    let ingested = bronze::ingest(
        lake,
        &[exports.to_path_buf()],
        &IngestOptions::default(),
        progress,
    )?;
    let crm = exports.join("crm/customers.csv");
    tokio::runtime::Handle::current().block_on(use_crm_extract(lake, &crm))?;
    Ok((generated, ingested))
}

/// Points the lake's CRM enrichment at the generated extract, unless the user already chose
/// one. Edits the line in place so the file's comments stay.
pub async fn use_crm_extract(lake: &Lake, csv: &Path) -> Result<(), crate::config::ConfigError> {
    use crate::config::{DEFAULT_PIPELINE, PIPELINE_FILE, read_or_init, write};
    let text = read_or_init(lake, PIPELINE_FILE, DEFAULT_PIPELINE).await?;
    let current = crate::config::PipelineConfig::parse(&text)?;
    if !current.crm.source.trim().is_empty() {
        return Ok(());
    }
    let path = csv.display().to_string().replace('\\', "/");
    let edited = text.replacen("source = \"\"", &format!("source = \"{path}\""), 1);
    if crate::config::PipelineConfig::parse(&edited)?.crm.source == path {
        write(lake, PIPELINE_FILE, &edited).await?;
    }
    Ok(())
}
