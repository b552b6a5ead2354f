//! The `cclake` command line: the same pipeline functions the app uses, with progress bars.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use cclake::bronze::{self, FileOutcome, IngestOptions, IngestSummary};
use cclake::format::{bytes, duration, thousands};
use cclake::gold::GoldSummary;
use cclake::lake::Lake;
use cclake::lake::inventory::{Inventory, inventory};
use cclake::pipeline::demo::{create_demo_lake, demo_exports_dir};
use cclake::pipeline::{self, JobProgress};
use cclake::silver::digest::HmacKey;
use cclake::silver::{self, ProcessMode, ProcessSummary};
use cclake::sources::generate::{self, GenerateOptions};
use cclake::{lifecycle, query};

#[derive(Parser)]
#[command(
    name = "cclake",
    version,
    about = "A lakehouse for contact-center telemetry: Genesys Cloud, NICE CXone and generic exports into Bronze, Silver and Gold"
)]
struct Cli {
    /// The lake: a local folder, file://, s3://bucket/prefix, az://container/prefix or
    /// gs://bucket/prefix. Default: $CCLAKE_LAKE, else a `cclake` folder in your data directory.
    #[arg(long, global = true, env = "CCLAKE_LAKE")]
    lake: Option<String>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Write realistic demo exports (Genesys, CXone, Amazon Connect, generic NDJSON, a CRM CSV).
    Generate {
        /// Folder to write the exports into.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, default_value_t = 2000)]
        contacts_per_day: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First day (UTC) of the export window, YYYY-MM-DD.
        #[arg(long, default_value_t = GenerateOptions::default_start())]
        start: NaiveDate,
    },
    /// Ingest export files and folders (recursively) into Bronze.
    Ingest {
        /// Files or folders; gzip is detected by content.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// gzip level of the Bronze files (1 fastest … 9 smallest).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=9))]
        compression_level: u32,
        /// Print only the summary line, not one line per input file.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Show what is in each layer of the lake.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// List every Bronze hour partition.
        #[arg(long)]
        partitions: bool,
    },
    /// Build Silver from Bronze and Gold from Silver: only the dates that received new data
    /// (and, in Gold, the FCR window before them), unless --full or --from/--to say otherwise.
    Process {
        /// Rebuild every date.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        full: bool,
        /// First date (UTC) of a range to rebuild, YYYY-MM-DD.
        #[arg(long, requires = "to")]
        from: Option<NaiveDate>,
        /// Last date (UTC) of the range, inclusive.
        #[arg(long, requires = "from")]
        to: Option<NaiveDate>,
    },
    /// Rotate the lake's HMAC key on purpose: Silver and Gold are rebuilt under the new key,
    /// its fingerprint is recorded and the audit log says why. With CCLAKE_HMAC_KEY set (or
    /// --use-current-key), the new key is the one in force now; otherwise a new key file is
    /// generated and put in place of the old one, which is kept as `<file>.retired-<time>`.
    Rekey {
        /// Why the key changes (kept in the audit log).
        #[arg(long)]
        reason: String,
        /// Adopt the key in force now (a key file replaced by hand) instead of generating one.
        #[arg(long)]
        use_current_key: bool,
    },
    /// Ingest then process in one go: exports to Gold.
    Run {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[arg(long, short)]
        quiet: bool,
    },
    /// Schema drift seen in Silver: new, missing and re-typed fields, unmapped statuses.
    Drift {
        #[arg(long)]
        json: bool,
    },
    /// What ingest quarantined: where it came from (file, line, offset), why, and the text.
    Quarantine {
        #[arg(long)]
        json: bool,
        /// Show at most this many rows (newest ingests last).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// SQL over the lake (DataFusion): silver_contacts, schema_drift,
    /// gold_daily_queue_metrics, gold_hourly_queue_metrics, bronze_contacts, bronze_events.
    Query {
        sql: String,
        /// Write the result to a .csv, .parquet or .json (NDJSON) file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print at most this many rows (the file gets them all).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Bronze lifecycle (cold store, expiry) and Delta vacuum: shows the plan; --apply does it.
    Lifecycle {
        #[arg(long)]
        apply: bool,
        /// Age partitions as of this date (default today), YYYY-MM-DD.
        #[arg(long)]
        now: Option<NaiveDate>,
        /// Print the S3 bucket lifecycle rule matching the settings, and nothing else.
        #[arg(long)]
        s3_rule: bool,
        #[arg(long)]
        json: bool,
    },
    /// Serve Gold over HTTP for BI tools (GET /api/v2/analytics/gold/summary, …/queues,
    /// /healthz). Token from $CCLAKE_API_TOKEN or --token-file.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8787")]
        addr: std::net::SocketAddr,
        /// File whose first line is the bearer token.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Requests per second allowed per client (token bucket).
        #[arg(long, default_value_t = 10)]
        rate: u32,
        /// Burst size of the token bucket.
        #[arg(long, default_value_t = 20)]
        burst: u32,
        /// Gold queries running at once (more wait), so a dashboard cannot starve ingestion.
        #[arg(long, default_value_t = 2)]
        max_queries: usize,
        /// Connections open at once; more are closed as they arrive.
        #[arg(long, default_value_t = 64)]
        max_connections: usize,
        /// Most rows in one answer.
        #[arg(long, default_value_t = cclake::api::DEFAULT_MAX_ROWS)]
        max_rows: usize,
    },
    /// Pull from a CCaaS platform's API into Bronze (then process, like `run`).
    Pull {
        #[command(subcommand)]
        source: PullSource,
    },
    /// Leak scan: look for raw PII in every string column of Silver and Gold. Exits 1 when
    /// it finds any, so it can gate a pipeline.
    Scan {
        #[arg(long)]
        json: bool,
    },
    /// Open the desktop app (what `cclake` with no subcommand does).
    Gui,
    /// Create the demo lake (generate a month of exports and ingest them), then show it.
    Demo {
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, default_value_t = 2000)]
        contacts_per_day: u32,
    },
}

#[derive(Subcommand)]
enum PullSource {
    /// Genesys Cloud analytics conversation details for an interval. Credentials from
    /// GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET or --secrets-file; resumable.
    Genesys {
        /// Start of the interval (RFC 3339, e.g. 2026-10-01T00:00:00Z).
        #[arg(long)]
        from: chrono::DateTime<chrono::Utc>,
        /// End of the interval (exclusive).
        #[arg(long)]
        to: chrono::DateTime<chrono::Utc>,
        /// Region domain: mypurecloud.com, mypurecloud.ie, euw2.pure.cloud, …
        #[arg(long, default_value = "mypurecloud.com")]
        region: String,
        /// TOML file with client_id and client_secret.
        #[arg(long)]
        secrets_file: Option<PathBuf>,
        /// Only ingest into Bronze; do not process.
        #[arg(long)]
        no_process: bool,
    },
}

fn default_lake() -> String {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cclake")
        .display()
        .to_string()
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CCLAKE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // One runtime for the whole process; blocking pipeline work runs on its blocking pool.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let lake_location = cli.lake.clone().unwrap_or_else(default_lake);
    let gui = matches!(cli.command, None | Some(Command::Gui));
    if gui && has_display() {
        // eframe owns the main thread; the pipeline runs on the runtime's workers.
        return cclake::ui::run(rt.handle().clone(), cli.lake, default_lake())
            .map_err(|e| anyhow::anyhow!("the app window could not start: {e}"));
    }
    if matches!(cli.command, Some(Command::Gui)) {
        bail!("no display: the app needs a desktop session (DISPLAY or WAYLAND_DISPLAY)");
    }
    rt.block_on(run(cli.command, lake_location))
}

/// Whether a window can be opened (on Linux: an X11 or Wayland display is set).
fn has_display() -> bool {
    if cfg!(target_os = "linux") {
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    } else {
        true
    }
}

async fn run(command: Option<Command>, lake_location: String) -> Result<()> {
    let open = || Lake::open(&lake_location).context("cannot open the lake");
    match command {
        Some(Command::Generate {
            out,
            days,
            contacts_per_day,
            seed,
            start,
        }) => {
            let opts = GenerateOptions {
                out: out.clone(),
                days,
                contacts_per_day,
                seed,
                start,
            };
            let s = with_progress("generating", move |p| generate::generate(&opts, p)).await?;
            println!(
                "wrote {} files to {}: {} contacts over {} days ({} Genesys, {} CXone, {} Amazon Connect, {} generic), {} agent-state events, {} Connect contact events, {} Connect records delivered again updated, {} open Genesys conversations, plus a late delivery ({} contacts), re-deliveries, {} malformed lines and {} records without a time; CRM extract with {} customers",
                s.total_files(),
                out.display(),
                thousands(s.contacts()),
                days,
                thousands(s.counts.genesys_contacts),
                thousands(s.counts.cxone_contacts),
                thousands(s.counts.connect_contacts),
                thousands(s.counts.generic_contacts),
                thousands(s.counts.agent_state_events),
                thousands(s.counts.contact_events),
                thousands(s.counts.connect_updates),
                s.counts.open_conversations,
                thousands(s.counts.late_contacts),
                s.counts.malformed_lines,
                s.counts.records_without_time,
                thousands(s.counts.crm_rows),
            );
            Ok(())
        }
        Some(Command::Ingest {
            inputs,
            compression_level,
            quiet,
        }) => {
            let lake = open()?;
            let opts = IngestOptions {
                compression_level,
                ..Default::default()
            };
            let l = lake.clone();
            let summary =
                with_progress("ingesting", move |p| bronze::ingest(&l, &inputs, &opts, p)).await?;
            print_ingest(&summary, quiet);
            if summary.failed() > 0 {
                bail!(
                    "{} input file(s) could not be read (named above); the rest were ingested",
                    summary.failed()
                );
            }
            Ok(())
        }
        Some(Command::Status { json, partitions }) => {
            let lake = open()?;
            let inv = inventory(&lake).await.context("cannot read the lake")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&inv)?);
            } else {
                print_status(&inv, partitions);
            }
            Ok(())
        }
        Some(Command::Process { full, from, to }) => {
            let lake = open()?;
            let mode = match (full, from, to) {
                (true, _, _) => ProcessMode::Full,
                (_, Some(from), Some(to)) => {
                    if from > to {
                        bail!("--from {from} is after --to {to}");
                    }
                    ProcessMode::Range { from, to }
                }
                _ => ProcessMode::Incremental,
            };
            process(&lake, mode).await
        }
        Some(Command::Rekey {
            reason,
            use_current_key,
        }) => {
            let lake = open()?;
            let new = pipeline::NewKey::from_environment(use_current_key)
                .context("cannot get the new HMAC key")?;
            let summary =
                layers_job(move |p| async move { pipeline::rekey(&lake, new, &reason, &p).await })
                    .await?;
            print_process(&summary.silver);
            print_gold(&summary.gold);
            println!("the lake's key is rotated; the audit log records it (_cclake/audit/)");
            Ok(())
        }
        Some(Command::Run { inputs, quiet }) => {
            let lake = open()?;
            let l = lake.clone();
            let summary = with_progress("ingesting", move |p| {
                bronze::ingest(&l, &inputs, &IngestOptions::default(), p)
            })
            .await?;
            print_ingest(&summary, quiet);
            process(&lake, ProcessMode::Incremental).await?;
            if summary.failed() > 0 {
                bail!(
                    "{} input file(s) could not be read (named above)",
                    summary.failed()
                );
            }
            Ok(())
        }
        Some(Command::Drift { json }) => {
            let lake = open()?;
            let report = silver::drift::report(&lake).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_drift(&report);
            }
            Ok(())
        }
        Some(Command::Quarantine { json, limit }) => {
            let lake = open()?;
            let rows = bronze::quarantine::list_all(&lake).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            if rows.is_empty() {
                println!("nothing in quarantine");
                return Ok(());
            }
            let skip = rows.len().saturating_sub(limit);
            if skip > 0 {
                println!("({skip} older rows not shown; --limit or --json for all)");
            }
            for r in &rows[skip..] {
                let mut raw: String = r.raw.chars().take(100).collect();
                if r.raw.chars().count() > 100 {
                    raw.push('…');
                }
                println!(
                    "{}:{} (byte {}), batch {}: {}\n    {raw}",
                    r.source_file, r.line, r.byte_offset, r.batch_id, r.error
                );
            }
            println!("{} quarantined records", thousands(rows.len() as u64));
            Ok(())
        }
        Some(Command::Query { sql, out, limit }) => {
            let lake = open()?;
            let ctx = query::session(&lake).await?;
            let result = query::run(&ctx, &sql).await?;
            match out {
                Some(path) => {
                    query::write(&result, &path)?;
                    println!(
                        "{} rows written to {}",
                        thousands(result.num_rows() as u64),
                        path.display()
                    );
                }
                None => print_result(&result, limit)?,
            }
            Ok(())
        }
        Some(Command::Lifecycle {
            apply,
            now,
            s3_rule,
            json,
        }) => {
            let lake = open()?;
            if s3_rule {
                let cfg = cclake::config::load_pipeline(&lake).await?.lifecycle;
                println!(
                    "{}",
                    serde_json::to_string_pretty(&lifecycle::s3_rule(&lake, &cfg))?
                );
                return Ok(());
            }
            let now = now.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let mut plan = lifecycle::plan(&lake, now).await?;
            if apply {
                let l = lake.clone();
                let progress = JobProgress::new();
                plan = lifecycle::apply(&l, plan, &progress).await?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                print_lifecycle(&plan);
            }
            Ok(())
        }
        Some(Command::Demo {
            days,
            contacts_per_day,
        }) => {
            let lake = open()?;
            demo(&lake, days, contacts_per_day).await
        }
        Some(Command::Serve {
            addr,
            token_file,
            max_connections,
            max_rows,
            rate,
            burst,
            max_queries,
        }) => {
            let lake = open()?;
            let token = cclake::api::token_from(
                std::env::var("CCLAKE_API_TOKEN").ok(),
                token_file.as_deref(),
            )?;
            if token.is_none() {
                eprintln!(
                    "warning: no API token (CCLAKE_API_TOKEN or --token-file): serving without authentication on loopback only"
                );
            }
            let cfg = cclake::api::ApiConfig {
                addr,
                token,
                requests_per_second: rate,
                burst,
                max_concurrent_queries: max_queries,
                max_connections,
                max_rows,
                ..Default::default()
            };
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            cclake::api::serve(lake, cfg, shutdown, |a| {
                println!("serving Gold on http://{a}/api/v2/analytics/gold/summary (Ctrl-C stops)")
            })
            .await?;
            Ok(())
        }
        Some(Command::Pull {
            source:
                PullSource::Genesys {
                    from,
                    to,
                    region,
                    secrets_file,
                    no_process,
                },
        }) => {
            let lake = open()?;
            let opts = cclake::pipeline::genesys::PullOptions {
                from,
                to,
                region,
                credentials: cclake::pipeline::genesys::Credentials::load(secrets_file.as_deref())?,
                api_base: None,
                login_base: None,
                staging: cclake::pipeline::genesys::private_staging()?,
                poll_every: Duration::from_secs(2),
                max_tries: 8,
            };
            let progress = JobProgress::new();
            let s = cclake::pipeline::genesys::pull(&lake, &opts, &progress).await?;
            println!(
                "Genesys job {}{}: {} pages ({} already in the lake), {} conversations → {} records in Bronze, {} quarantined{}",
                s.job_id,
                if s.resumed { " (resumed)" } else { "" },
                s.pages,
                s.pages_already_ingested,
                thousands(s.conversations),
                thousands(s.bronze_records),
                thousands(s.quarantined),
                if s.rate_limited_waits > 0 {
                    format!("; waited out {} rate limits", s.rate_limited_waits)
                } else {
                    String::new()
                }
            );
            if !no_process {
                process(&lake, ProcessMode::Incremental).await?;
            }
            Ok(())
        }
        Some(Command::Scan { json }) => {
            let lake = open()?;
            let report = cclake::compliance::scan::scan(&lake, &JobProgress::new()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "scanned {} values in {} columns of {} ({} phone numbers from Bronze checked as unkeyed SHA-256)",
                    thousands(report.values_scanned),
                    report.columns_scanned,
                    report.tables.join(", "),
                    thousands(report.bronze_phones as u64)
                );
                println!(
                    "not scanned (identifiers): {}",
                    report.not_scanned.join(", ")
                );
                if report.clean() {
                    println!("no raw PII found");
                } else {
                    println!(
                        "{:<26} {:<16} {:<11} {:<22} {:>7}  example",
                        "table", "column", "partition", "kind", "values"
                    );
                    for f in &report.findings {
                        println!(
                            "{:<26} {:<16} {:<11} {:<22} {:>7}  {}",
                            f.table,
                            f.column,
                            f.partition,
                            f.kind,
                            thousands(f.count),
                            f.example
                        );
                    }
                }
            }
            if !report.clean() {
                bail!(
                    "the leak scan found raw PII ({} findings)",
                    report.findings.len()
                );
            }
            Ok(())
        }
        Some(Command::Gui) => Ok(()),
        None => {
            // Without a subcommand and without a display: open the default lake, creating
            // the demo lake when empty.
            let lake = open()?;
            let inv = inventory(&lake).await.context("cannot read the lake")?;
            if inv.ingested_inputs == 0 {
                println!(
                    "{} is empty: creating the demo lake (a month of generated exports).",
                    lake.location()
                );
                demo(&lake, 30, 2000).await
            } else {
                print_status(&inv, false);
                Ok(())
            }
        }
    }
}

/// Runs Silver and Gold on the shared runtime with a progress bar.
async fn process(lake: &Lake, mode: ProcessMode) -> Result<()> {
    let key = HmacKey::from_environment().context("cannot get the HMAC key for masking")?;
    let l = lake.clone();
    let summary =
        layers_job(move |p| async move { pipeline::process(&l, mode, key, &p).await }).await?;
    print_process(&summary.silver);
    print_gold(&summary.gold);
    Ok(())
}

/// Runs a Silver-and-Gold job on the shared runtime with a progress bar; Ctrl-C cancels it.
async fn layers_job<F, Fut>(job: F) -> Result<pipeline::LayersSummary>
where
    F: FnOnce(Arc<JobProgress>) -> Fut,
    Fut: std::future::Future<Output = Result<pipeline::LayersSummary, pipeline::ProcessError>>
        + Send
        + 'static,
{
    let progress = Arc::new(JobProgress::new());
    let bar = progress_bar("processing");
    let mut handle = tokio::spawn(job(progress.clone()));
    let result = loop {
        tokio::select! {
            r = &mut handle => break r,
            _ = tokio::signal::ctrl_c() => progress.cancel(),
            _ = tokio::time::sleep(Duration::from_millis(100)) => update_bar(&bar, &progress),
        }
    };
    bar.finish_and_clear();
    Ok(result.context("the job panicked")??)
}

fn print_gold(g: &GoldSummary) {
    if g.dates.is_empty() {
        println!("Gold: {}", g.reason);
        return;
    }
    let first = g.dates.first().map(|d| d.to_string()).unwrap_or_default();
    let last = g.dates.last().map(|d| d.to_string()).unwrap_or_default();
    println!(
        "Gold: {} dates recomputed ({first} … {last}){}; {} daily and {} hourly queue rows, in {}",
        g.dates.len(),
        if g.full_rebuild { ", full rebuild" } else { "" },
        thousands(g.daily_rows),
        thousands(g.hourly_rows),
        step_time(g.elapsed_secs)
    );
    println!("  why: {}", g.reason);
}

fn print_process(s: &ProcessSummary) {
    if !s.frozen_dates.is_empty() {
        let list: Vec<String> = s.frozen_dates.iter().map(|d| d.to_string()).collect();
        println!(
            "Silver: {} dates frozen, not rebuilt: lifecycle expired part of their Bronze, so \
             their rows stay as built from all of it; records that arrived late in their expired \
             hours stay in Bronze until lifecycle expires them ({})",
            list.len(),
            list.join(", ")
        );
    }
    if s.dates.is_empty() {
        println!("Silver is up to date: no new Bronze data since the last run");
        return;
    }
    let first = s.dates.first().map(|d| d.to_string()).unwrap_or_default();
    let last = s.dates.last().map(|d| d.to_string()).unwrap_or_default();
    println!(
        "Silver: {} dates rebuilt ({first} … {last}); {} records in → {} contacts out ({} duplicates dropped)",
        s.dates.len(),
        thousands(s.rows_in),
        thousands(s.rows_out),
        thousands(s.duplicates_dropped)
    );
    if s.masking_enabled {
        for (col, n) in &s.masked {
            let spans = if n.spans_scrubbed > 0 {
                format!(", {} spans scrubbed", thousands(n.spans_scrubbed))
            } else {
                String::new()
            };
            println!(
                "  {col:<15} {} masked, unvalidated: {} kept, {} redacted{spans}",
                thousands(n.masked),
                thousands(n.unvalidated_kept),
                thousands(n.unvalidated_redacted)
            );
        }
    } else {
        println!(
            "  masking is DISABLED in _config/masking_policy.toml: PII columns are stored as they came"
        );
    }
    println!(
        "  rescued: {} fields on {} rows; drift: {} observations ({} unmapped statuses); CRM: {} of {} rows matched a customer",
        thousands(s.rescued_fields),
        thousands(s.rows_with_rescued_data),
        thousands(s.drift_observations),
        thousands(s.unmapped_statuses),
        thousands(s.crm_matched),
        thousands(s.rows_out),
    );
    println!(
        "  policy {}, Delta version {}, in {}",
        &s.policy_version[..12.min(s.policy_version.len())],
        s.silver_version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into()),
        step_time(s.elapsed_secs)
    );
}

fn print_result(result: &query::QueryResult, limit: usize) -> Result<()> {
    let mut shown = Vec::new();
    let mut left = limit;
    for b in &result.batches {
        if left == 0 {
            break;
        }
        let take = left.min(b.num_rows());
        shown.push(b.slice(0, take));
        left -= take;
    }
    if shown.is_empty() {
        shown.push(arrow::record_batch::RecordBatch::new_empty(
            result.schema.clone(),
        ));
    }
    println!("{}", arrow::util::pretty::pretty_format_batches(&shown)?);
    let total = result.num_rows();
    if total > limit {
        println!(
            "{} rows ({} shown; --limit N for more, --out FILE for all)",
            thousands(total as u64),
            thousands(limit as u64)
        );
    } else {
        println!("{} rows", thousands(total as u64));
    }
    Ok(())
}

fn print_lifecycle(plan: &lifecycle::Plan) {
    println!(
        "lifecycle as of {}: cold after {} days, delete after {} days, cold store {}",
        plan.now,
        plan.cold_after_days,
        plan.delete_after_days,
        if plan.cold_store.is_empty() {
            "(not set)"
        } else {
            &plan.cold_store
        }
    );
    if plan.partitions.is_empty() {
        println!("  no Bronze partition is due to move or expire");
    }
    let verb = |a: &lifecycle::Action| match (a, plan.applied) {
        (lifecycle::Action::MoveToCold, false) => "would move to cold",
        (lifecycle::Action::MoveToCold, true) => "moved to cold",
        (lifecycle::Action::Delete, false) => "would delete",
        (lifecycle::Action::Delete, true) => "deleted",
    };
    for p in &plan.partitions {
        let late = if p.late_files > 0 {
            format!(
                ", {} arrived late, after the hour had moved or expired",
                p.late_files
            )
        } else {
            String::new()
        };
        println!(
            "  {:<20} {} ({} days old, {}, {} files, {}{late})",
            verb(&p.action),
            p.partition,
            p.age_days,
            p.tier,
            p.files,
            bytes(p.bytes)
        );
    }
    println!(
        "  {} partitions to cold, {} to delete{}",
        plan.moves(),
        plan.deletes(),
        match plan.late_files() {
            0 => String::new(),
            n => format!("; {n} files among them arrived late"),
        }
    );
    for (table, n) in &plan.vacuum {
        println!(
            "  vacuum {table}: {n} unreferenced files older than {} days {}",
            plan.retention_days,
            if plan.applied { "removed" } else { "to remove" }
        );
    }
    if !plan.applied {
        println!("dry run: nothing changed; run with --apply to carry it out");
    }
}

fn print_drift(report: &[silver::drift::DriftSummary]) {
    if report.is_empty() {
        println!("no schema drift recorded (or Silver not built yet: run `cclake process`)");
        return;
    }
    println!(
        "{:<8} {:<28} {:<16} {:>9} {:>5}  {:<16}  {:<16}  example",
        "shape", "field", "kind", "records", "days", "first seen", "last seen"
    );
    for d in report {
        let mut ex = d.example.clone().unwrap_or_default();
        if ex.chars().count() > 40 {
            ex = format!("{}…", ex.chars().take(40).collect::<String>());
        }
        println!(
            "{:<8} {:<28} {:<16} {:>9} {:>5}  {:<16}  {:<16}  {ex}",
            d.shape,
            d.field,
            d.kind,
            thousands(d.count as u64),
            d.days,
            d.first_seen.format("%Y-%m-%d %H:%M"),
            d.last_seen.format("%Y-%m-%d %H:%M"),
        );
    }
}

async fn demo(lake: &Lake, days: u32, contacts_per_day: u32) -> Result<()> {
    let exports = demo_exports_dir(lake);
    let l = lake.clone();
    let e = exports.clone();
    let (generated, ingested) = with_progress("creating demo lake", move |p| {
        create_demo_lake(&l, &e, days, contacts_per_day, p)
    })
    .await?;
    println!(
        "generated {} export files in {}",
        generated.total_files(),
        exports.display()
    );
    print_ingest(&ingested, true);
    process(lake, ProcessMode::Incremental).await?;
    let inv = inventory(lake).await?;
    print_status(&inv, false);
    Ok(())
}

/// Runs blocking pipeline work on the runtime's blocking pool with a progress bar on stderr.
async fn with_progress<T, E>(
    label: &'static str,
    work: impl FnOnce(&JobProgress) -> Result<T, E> + Send + 'static,
) -> Result<T>
where
    T: Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let progress = Arc::new(JobProgress::new());
    let p = progress.clone();
    let mut job = tokio::task::spawn_blocking(move || work(&p));
    let bar = progress_bar(label);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let result = loop {
        tokio::select! {
            r = &mut job => break r,
            _ = &mut ctrl_c => {
                bar.set_message("cancelling…");
                progress.cancel();
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => update_bar(&bar, &progress),
        }
    };
    bar.finish_and_clear();
    Ok(result.context("the job panicked")??)
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
        bar.set_message(s.stage.clone());
    }
    bar.set_prefix(format!(
        "{} records, {}/s",
        thousands(s.records),
        thousands(s.records_per_sec() as u64)
    ));
}

fn print_ingest(s: &IngestSummary, quiet: bool) {
    if s.recovered_files > 0 {
        println!(
            "recovered an interrupted ingest: removed {} partial files; their inputs were ingested again",
            s.recovered_files
        );
    }
    for o in &s.outcomes {
        match o {
            FileOutcome::Ingested(e) if !quiet || e.quarantined > 0 => println!(
                "{}: {} read = {} to Bronze + {} quarantined ({} files, {})",
                e.source_path,
                thousands(e.records),
                thousands(e.bronze_records),
                thousands(e.quarantined),
                e.bronze_files.len(),
                e.format,
            ),
            FileOutcome::AlreadyIngested {
                source_path,
                previous,
                ..
            } => println!(
                "{source_path}: already ingested (same bytes as {} in batch {} at {}); nothing written",
                previous.source_path,
                previous.batch_id,
                previous.ingested_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            FileOutcome::DuplicateInRun {
                source_path,
                same_as,
            } => println!("{source_path}: same bytes as {same_as} in this run; nothing written"),
            FileOutcome::Failed { source_path, error } => {
                eprintln!("error: {source_path}: {error}")
            }
            FileOutcome::Ingested(_) => {}
        }
    }
    for (p, why) in &s.skipped {
        if !quiet {
            println!("{}: skipped, {why}", p.display());
        }
    }
    let rate = s.records() as f64 / s.elapsed_secs.max(1e-9);
    println!(
        "batch {}: {} files ingested, {} already ingested, {} failed; {} records → {} in Bronze ({} partitions, {} files, {}) + {} quarantined, in {} ({}/s)",
        s.batch_id,
        s.ingested().count(),
        s.already_ingested(),
        s.failed(),
        thousands(s.records()),
        thousands(s.bronze_records()),
        thousands(s.partitions() as u64),
        thousands(s.bronze_files() as u64),
        bytes(s.bronze_bytes()),
        thousands(s.quarantined()),
        step_time(s.elapsed_secs),
        thousands(rate as u64),
    );
}

/// A pipeline step's time in a summary line: hundredths under ten seconds, where runs are
/// compared (the app's panes round to tenths).
fn step_time(secs: f64) -> String {
    if secs < 10.0 {
        format!("{secs:.2} s")
    } else {
        duration(secs)
    }
}

fn print_status(inv: &Inventory, partitions: bool) {
    println!("lake {}", inv.location);
    println!();
    println!("Bronze");
    if inv.bronze.is_empty() {
        println!("  empty: run `cclake ingest FILES…` (or `cclake demo`)");
    } else {
        println!(
            "  {:<16} {:>10} {:>8} {:>12} {:>10}  hours (UTC)",
            "event_type", "partitions", "files", "records", "bytes"
        );
        for e in &inv.bronze {
            println!(
                "  {:<16} {:>10} {:>8} {:>12} {:>10}  {} … {}",
                e.event_type,
                thousands(e.partitions as u64),
                thousands(e.files as u64),
                thousands(e.records),
                bytes(e.bytes),
                e.first_hour.format("%Y-%m-%d %H:00"),
                e.last_hour.format("%Y-%m-%d %H:00"),
            );
        }
        println!(
            "  {:<16} {:>10} {:>8} {:>12} {:>10}",
            "total",
            thousands(inv.partitions.len() as u64),
            thousands(inv.bronze_files() as u64),
            thousands(inv.bronze_records()),
            bytes(inv.bronze_bytes()),
        );
    }
    println!(
        "  quarantine: {} records in {} files ({})",
        thousands(inv.quarantine_records),
        inv.quarantine_files,
        bytes(inv.quarantine_bytes)
    );
    println!(
        "  ledger: {} input files ({}) in {} batches{}",
        thousands(inv.ingested_inputs as u64),
        bytes(inv.input_bytes),
        inv.batches,
        inv.last_ingest
            .map(|t| format!(", last {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
            .unwrap_or_default()
    );
    if inv.uncommitted_files > 0 {
        println!(
            "  {} files of an unfinished ingest (ignored; the next ingest removes them)",
            inv.uncommitted_files
        );
    }
    if inv.missing_files > 0 {
        println!(
            "  warning: {} ledger files are missing from the store",
            inv.missing_files
        );
    }
    if partitions {
        println!();
        println!(
            "  {:<16} {:<16} {:>6} {:>10} {:>10}",
            "event_type", "hour (UTC)", "files", "records", "bytes"
        );
        for p in &inv.partitions {
            println!(
                "  {:<16} {:<16} {:>6} {:>10} {:>10}",
                p.event_type,
                p.hour.format("%Y-%m-%d %H:00"),
                p.files,
                thousands(p.records),
                bytes(p.bytes)
            );
        }
    }
    for (layer, prefix) in [("Silver", "silver/"), ("Gold", "gold/")] {
        println!();
        println!("{layer}");
        for t in inv.tables.iter().filter(|t| t.name.starts_with(prefix)) {
            match t.version {
                None => println!("  {:<28} not built yet (run `cclake process`)", t.name),
                Some(v) => println!(
                    "  {:<28} {:>9} rows {:>6} files {:>10}  {} dates ({} … {}), version {v}",
                    t.name,
                    thousands(t.rows),
                    t.files,
                    bytes(t.bytes),
                    t.partitions.len(),
                    t.partitions.first().map(|p| p.date.as_str()).unwrap_or("-"),
                    t.partitions.last().map(|p| p.date.as_str()).unwrap_or("-"),
                ),
            }
        }
    }
}
