//! The `cclake` command line: parse the arguments, turn a command into a [`Job`] (or a read of
//! the lake), run it with a progress bar, print what it did. The app runs the same jobs.

/// Every line the CLI prints goes through [`crate::format::escape_control`]: record values,
/// field names and file names come from exports, and an ESC or CR among them must not reach
/// the terminal as a command. Shadows `println!` in this module and the ones below it.
macro_rules! println {
    () => { std::println!() };
    ($($arg:tt)*) => {
        std::println!("{}", $crate::format::escape_control(&std::format!($($arg)*)))
    };
}

pub mod args;
mod doctor;
pub mod print;
mod progress;
mod subject;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Parser;

use crate::bronze::IngestOptions;
use crate::demo::GenerateOptions;
use crate::format::thousands;
use crate::lake::Lake;
use crate::lake::inventory::inventory;
use crate::pipeline::{Job, JobOutcome, NewKey};
use crate::silver::ProcessMode;
use crate::silver::digest::HmacKey;
use crate::sources::genesys::{Credentials, PullOptions, private_staging};
use crate::{lifecycle, query, silver};

pub use args::{Cli, ClusterRole, Command, PullSource};
use print::*;
use progress::{run_job, with_progress};

/// The lake used when none is named: a `cclake` folder in the user's data directory.
pub fn default_lake() -> String {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cclake")
        .display()
        .to_string()
}

/// The program: the app when there is a display and no command, else the command.
pub fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CCLAKE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Panic output never carries what the panicking code was handling (see the hook).
    crate::progress::install_panic_hook();
    restrict_file_mode();
    let cli = Cli::parse();
    if !matches!(
        cli.command,
        None | Some(Command::Gui | Command::Serve { .. } | Command::Cluster { .. })
    ) {
        // A printing command whose reader went away (`cclake query … | head`) ends quietly,
        // as Unix tools do, instead of failing on every later line.
        // SAFETY: setting a signal's disposition to its default before any thread is started.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // One runtime for the whole process; blocking pipeline work runs on its blocking pool.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let gui = matches!(cli.command, None | Some(Command::Gui));
    if gui && has_display() {
        // eframe owns the main thread; the pipeline runs on the runtime's workers.
        return crate::ui::run(rt.handle().clone(), cli.lake, default_lake())
            .map_err(|e| anyhow::anyhow!("the app window could not start: {e}"));
    }
    if matches!(cli.command, Some(Command::Gui)) {
        bail!("no display: the app needs a desktop session (DISPLAY or WAYLAND_DISPLAY)");
    }
    let lake = cli.lake.clone().unwrap_or_else(default_lake);
    rt.block_on(run(cli.command, lake))
}

/// Files and folders cclake creates are its user's alone (0600 and 0700): a lake holds
/// exports' raw records, and quarantine keeps lines verbatim. `CCLAKE_UMASK` (octal, e.g.
/// `027` for a group that may read the lake) widens it on purpose.
fn restrict_file_mode() {
    let mask = std::env::var("CCLAKE_UMASK")
        .ok()
        .and_then(|m| libc::mode_t::from_str_radix(m.trim(), 8).ok())
        .unwrap_or(0o077);
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(mask & 0o777);
    }
}

/// Whether a window can be opened (on Linux: an X11 or Wayland display is set).
fn has_display() -> bool {
    if cfg!(target_os = "linux") {
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    } else {
        true
    }
}

/// Runs one command against the lake at `location`.
pub async fn run(command: Option<Command>, location: String) -> Result<()> {
    let open = || Lake::open(&location).context("cannot open the lake");
    match command {
        Some(Command::Generate {
            out,
            days,
            contacts_per_day,
            seed,
            start,
        }) => generate(out, days, contacts_per_day, seed, start).await,
        Some(Command::Ingest {
            inputs,
            compression_level,
            quiet,
            follow_symlinks,
        }) => {
            let options = IngestOptions {
                compression_level,
                follow_symlinks,
                ..Default::default()
            };
            ingest(&open()?, inputs, options, false, quiet).await
        }
        Some(Command::Status { json, partitions }) => status(&open()?, json, partitions).await,
        Some(Command::Process {
            full,
            from,
            to,
            cluster,
        }) => process(&open()?, full, from, to, cluster).await,
        Some(Command::Cluster { role }) => cluster_role(role).await,
        Some(Command::Evidence { out }) => evidence(&open()?, &out).await,
        Some(Command::Rekey {
            reason,
            use_current_key,
        }) => rekey(&open()?, reason, use_current_key).await,
        Some(Command::Run {
            inputs,
            quiet,
            follow_symlinks,
        }) => {
            let options = IngestOptions {
                follow_symlinks,
                ..Default::default()
            };
            ingest(&open()?, inputs, options, true, quiet).await
        }
        Some(Command::Drift { json }) => drift(&open()?, json).await,
        Some(Command::Quarantine {
            json,
            limit,
            retry: true,
            files,
        }) => {
            let files = (!files.is_empty()).then(|| files.into_iter().collect());
            let retry = Job::RetryQuarantine {
                files,
                then_process: true,
            };
            job(&open()?, retry, "retrying", Show::default())
                .await
                .map(drop)?;
            let _ = (json, limit);
            Ok(())
        }
        Some(Command::Quarantine { json, limit, .. }) => quarantine(&open()?, json, limit).await,
        Some(Command::Query {
            sql,
            out,
            limit,
            csv_formulas,
        }) => sql_query(&open()?, &sql, out, limit, csv_formulas).await,
        Some(Command::Lifecycle {
            apply,
            now,
            s3_rule,
            json,
        }) => lifecycle(&open()?, apply, now, s3_rule, json).await,
        Some(Command::Demo {
            days,
            contacts_per_day,
        }) => demo(&open()?, days, contacts_per_day).await,
        Some(Command::Serve {
            addr,
            token_file,
            max_connections,
            max_rows,
            rate,
            burst,
            max_queries,
        }) => {
            let cfg = crate::api::ApiConfig {
                addr,
                token: None,
                requests_per_second: rate,
                burst,
                max_concurrent_queries: max_queries,
                max_connections,
                // A quarter of the slots at most for one address.
                max_connections_per_client: (max_connections / 4).max(1),
                max_rows,
                ..Default::default()
            };
            serve(open()?, cfg, token_file).await
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
            let options = PullOptions {
                from,
                to,
                region,
                credentials: Credentials::load(secrets_file.as_deref())?,
                api_base: None,
                login_base: None,
                staging: private_staging()?,
                poll_every: Duration::from_secs(2),
                max_tries: 8,
            };
            pull(&open()?, options, !no_process).await
        }
        Some(Command::Scan { json }) => scan(&open()?, json).await,
        Some(Command::Subject { action }) => subject::subject(&open()?, action).await,
        Some(Command::Doctor {
            repair,
            exports,
            mark_lost,
            reason,
            json,
        }) => {
            let opts = crate::pipeline::doctor::RepairOptions {
                exports,
                mark_lost,
                reason,
                key: None,
            };
            doctor::doctor(&open()?, repair.then_some(opts), json).await
        }
        Some(Command::Gui) => Ok(()),
        None => first_run(&open()?).await,
    }
}

/// The HMAC key, resolved once for a job that masks.
fn key_for(job: &Job) -> Result<Option<HmacKey>> {
    if !job.needs_key() {
        return Ok(None);
    }
    let key = HmacKey::from_environment().context("cannot get the HMAC key for masking")?;
    Ok(Some(key))
}

/// How an outcome is printed.
#[derive(Default, Clone, Copy)]
struct Show {
    /// Only summary lines, not one per input file.
    quiet: bool,
    json: bool,
}

/// Runs a job with the key it needs behind a progress bar, prints what it did, and fails
/// (exit 1) when it found a problem: input files it could not read, raw PII.
async fn job(lake: &Lake, job: Job, label: &'static str, show: Show) -> Result<JobOutcome> {
    let key = key_for(&job)?;
    let outcome = run_job(lake, key, job, label).await?;
    print_outcome(&outcome, show.quiet, show.json)?;
    if let Some(problem) = outcome.problem() {
        bail!("{problem}");
    }
    Ok(outcome)
}

async fn generate(
    out: PathBuf,
    days: u32,
    contacts_per_day: u32,
    seed: u64,
    start: NaiveDate,
) -> Result<()> {
    let opts = GenerateOptions {
        out: out.clone(),
        days,
        contacts_per_day,
        seed,
        start,
    };
    let s = with_progress("generating", move |p| crate::demo::generate(&opts, p)).await?;
    print_generate(&s, &out, days);
    Ok(())
}

/// `ingest`, and `run` (ingest then process).
async fn ingest(
    lake: &Lake,
    inputs: Vec<PathBuf>,
    options: IngestOptions,
    then_process: bool,
    quiet: bool,
) -> Result<()> {
    let ingest = Job::Ingest {
        inputs,
        options,
        then_process,
    };
    let show = Show {
        quiet,
        ..Show::default()
    };
    job(lake, ingest, "ingesting", show).await.map(drop)
}

async fn status(lake: &Lake, json: bool, partitions: bool) -> Result<()> {
    let inv = inventory(lake).await.context("cannot read the lake")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&inv)?);
    } else {
        print_status(&inv, partitions);
        if let Ok(Some(record)) = silver::key_record::read(lake).await
            && let Some(r) = record.rotation
        {
            println!(
                "  warning: a key rotation to fingerprint {} started {} ({}) is unfinished: Silver and Gold are partly under each key; run `cclake rekey` again with the new key to finish it",
                r.to_fingerprint.chars().take(16).collect::<String>(),
                r.started_at.format("%Y-%m-%d %H:%M UTC"),
                r.reason
            );
        }
    }
    Ok(())
}

async fn process(
    lake: &Lake,
    full: bool,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    cluster: Option<String>,
) -> Result<()> {
    let mode = match (full, from, to) {
        (true, _, _) => ProcessMode::Full,
        (_, Some(from), Some(to)) if from > to => bail!("--from {from} is after --to {to}"),
        (_, Some(from), Some(to)) => ProcessMode::Range { from, to },
        _ => ProcessMode::Incremental,
    };
    let show = Show::default();
    let work = match cluster {
        Some(cluster) => Job::ProcessOnCluster { mode, cluster },
        None => Job::Process(mode),
    };
    job(lake, work, "processing", show).await.map(drop)
}

async fn evidence(lake: &Lake, out: &std::path::Path) -> Result<()> {
    let pack = crate::compliance::evidence::build(lake).await?;
    let report = pack.write(out)?;
    println!(
        "evidence pack written to {} (SHA-256 {}; manifest beside it), masking policy {}",
        report.display(),
        pack.sha256(),
        &pack.policy_version[..12.min(pack.policy_version.len())]
    );
    Ok(())
}

/// Runs a cluster role until the process is stopped.
async fn cluster_role(role: ClusterRole) -> Result<()> {
    use crate::pipeline::cluster;
    match role {
        ClusterRole::Scheduler {
            bind,
            external_host,
        } => {
            eprintln!(
                "Ballista scheduler for cclake on {bind} (df://{external_host}:{})",
                bind.port()
            );
            cluster::run_scheduler(bind, &external_host).await?;
        }
        ClusterRole::Executor {
            scheduler,
            concurrency,
            bind_host,
            external_host,
            port,
            grpc_port,
            work_dir,
        } => {
            // Checked here so a missing key stops the executor at once, not at its first task.
            let key =
                HmacKey::from_environment().context("an executor needs the lake's HMAC key")?;
            eprintln!(
                "Ballista executor for cclake: scheduler {scheduler}, {concurrency} tasks at once, key fingerprint {}",
                &key.fingerprint()[..16]
            );
            let opts = cluster::ExecutorOptions {
                scheduler,
                bind_host,
                external_host,
                port,
                grpc_port,
                concurrency,
                work_dir: work_dir.map(|p| p.display().to_string()),
            };
            cluster::run_executor(opts).await?;
        }
    }
    Ok(())
}

async fn rekey(lake: &Lake, reason: String, use_current_key: bool) -> Result<()> {
    let current = HmacKey::from_environment().context("cannot get the HMAC key in force")?;
    let new = NewKey::for_key(&current, use_current_key);
    let rekey = Job::Rekey { new, reason };
    let outcome = run_job(lake, Some(current), rekey, "rotating the key").await?;
    print_outcome(&outcome, false, false)
}

async fn drift(lake: &Lake, json: bool) -> Result<()> {
    let report = silver::drift::report(lake).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_drift(&report);
    }
    Ok(())
}

async fn quarantine(lake: &Lake, json: bool, limit: usize) -> Result<()> {
    let rows = crate::bronze::quarantine::list_all(lake).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_quarantine(&rows, limit);
    }
    Ok(())
}

async fn sql_query(
    lake: &Lake,
    sql: &str,
    out: Option<PathBuf>,
    limit: usize,
    csv_formulas: bool,
) -> Result<()> {
    let ctx = query::session(lake).await?;
    let result = query::run(&ctx, sql).await?;
    match out {
        Some(path) => {
            query::write_with(&result, &path, csv_formulas)?;
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

async fn lifecycle(
    lake: &Lake,
    apply: bool,
    now: Option<NaiveDate>,
    s3_rule: bool,
    json: bool,
) -> Result<()> {
    if s3_rule {
        let cfg = crate::config::load_pipeline(lake).await?.lifecycle;
        let rule = lifecycle::s3_rule(lake, &cfg);
        println!("{}", serde_json::to_string_pretty(&rule)?);
        return Ok(());
    }
    let now = now.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let label = if apply { "lifecycle" } else { "planning" };
    let show = Show {
        json,
        ..Show::default()
    };
    job(lake, Job::Lifecycle { now, apply }, label, show)
        .await
        .map(drop)
}

async fn serve(
    lake: Lake,
    mut cfg: crate::api::ApiConfig,
    token_file: Option<PathBuf>,
) -> Result<()> {
    let token = std::env::var("CCLAKE_API_TOKEN").ok();
    cfg.token = crate::api::token_from(token, token_file.as_deref())?;
    if cfg.token.is_none() {
        eprintln!(
            "warning: no API token (CCLAKE_API_TOKEN or --token-file): serving without authentication on loopback only"
        );
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    crate::api::serve(lake, cfg, shutdown, |a| {
        println!("serving Gold on http://{a}/api/v2/analytics/gold/summary (Ctrl-C stops)")
    })
    .await?;
    Ok(())
}

async fn pull(lake: &Lake, options: PullOptions, then_process: bool) -> Result<()> {
    let pull = Job::PullGenesys {
        options: Box::new(options),
        then_process,
    };
    job(lake, pull, "pulling", Show::default()).await.map(drop)
}

async fn scan(lake: &Lake, json: bool) -> Result<()> {
    let show = Show {
        json,
        ..Show::default()
    };
    job(lake, Job::Scan, "scanning", show).await.map(drop)
}

async fn demo(lake: &Lake, days: u32, contacts_per_day: u32) -> Result<()> {
    let demo = Job::Demo {
        days,
        contacts_per_day,
    };
    let show = Show {
        quiet: true,
        ..Show::default()
    };
    job(lake, demo, "creating demo lake", show).await?;
    print_status(&inventory(lake).await?, false);
    Ok(())
}

/// Without a command and without a display: the lake's status, after creating the demo lake
/// in an empty one.
async fn first_run(lake: &Lake) -> Result<()> {
    let inv = inventory(lake).await.context("cannot read the lake")?;
    if inv.ingested_inputs > 0 {
        print_status(&inv, false);
        return Ok(());
    }
    println!(
        "{} is empty: creating the demo lake (a month of generated exports).",
        lake.location()
    );
    demo(lake, 30, 2000).await
}
