//! The command line's words: commands, their arguments and defaults (clap).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::demo::GenerateOptions;

#[derive(Parser)]
#[command(
    name = "cclake",
    version,
    about = "A lakehouse for contact-center telemetry: Genesys Cloud, NICE CXone, Amazon Connect and generic exports into Bronze, Silver and Gold"
)]
pub struct Cli {
    /// The lake: a local folder, file://, s3://bucket/prefix, az://container/prefix or
    /// gs://bucket/prefix. Default: $CCLAKE_LAKE, else a `cclake` folder in your data directory.
    #[arg(long, global = true, env = "CCLAKE_LAKE")]
    pub lake: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// Follow symbolic links inside an input folder that lead to places inside it (by
        /// default links are passed over and listed).
        #[arg(long)]
        follow_symlinks: bool,
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
        /// Build Silver's dates on a Ballista cluster (`df://HOST:PORT`, the scheduler started
        /// with `cclake cluster scheduler`); the commits and Gold stay in this process.
        #[arg(long)]
        cluster: Option<String>,
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
        /// As for ingest: follow links that stay inside the input folder.
        #[arg(long)]
        follow_symlinks: bool,
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
        /// Send the quarantined records through today's readers again (all, or the quarantine
        /// files named with --file), then process; what still fails stays with its new error.
        #[arg(long)]
        retry: bool,
        /// A quarantine file to retry (as `--json` shows it); repeatable.
        #[arg(long = "file", requires = "retry")]
        files: Vec<String>,
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
        /// Write CSV text cells that start with = + - @ as they are (by default they get a
        /// leading ' so a spreadsheet does not run them as formulas).
        #[arg(long)]
        csv_formulas: bool,
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
        #[arg(long, default_value_t = crate::api::DEFAULT_MAX_ROWS)]
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
    /// Export the evidence pack for an auditor: one self-contained HTML report (policy, rule
    /// counts, last leak scan, policy history, policy per Silver partition, key fingerprint,
    /// audit log) and a SHA-256 manifest beside it.
    Evidence {
        /// Folder to write the report and its manifest into.
        #[arg(long)]
        out: PathBuf,
    },
    /// What is wrong with the lake that no run gets past (a damaged Delta commit, state file
    /// or Bronze file), and the repair for each. Exits 1 while anything is left.
    Doctor {
        /// Repair what can be: damaged commits and state files are moved aside and the
        /// layers rebuilt; Bronze files need --export or --mark-lost.
        #[arg(long)]
        repair: bool,
        /// An original export to write missing or damaged Bronze files again from (checked by
        /// its SHA-256 against the ledger); may repeat.
        #[arg(long = "export", requires = "repair")]
        exports: Vec<PathBuf>,
        /// Count the records of Bronze files that no export can restore as lost (audited).
        #[arg(long, requires_all = ["repair", "reason"])]
        mark_lost: bool,
        /// Why (kept in the audit log with a restore or a loss).
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Data subject requests: find one person everywhere in the lake, erase them everywhere,
    /// and prove nothing of them is left.
    Subject {
        #[command(subcommand)]
        action: SubjectAction,
    },
    /// Run a role of a Ballista cluster that builds Silver (`process --cluster`).
    Cluster {
        #[command(subcommand)]
        role: ClusterRole,
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
pub enum PullSource {
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

/// Who a data subject request is about. Each flag may be given more than once.
#[derive(Args, Clone)]
pub struct SubjectArgs {
    /// A phone number in any format: +15551234567, (555) 123-4567, tel:/sip: URIs.
    #[arg(long = "phone")]
    pub phones: Vec<String>,
    /// A member (loyalty, account) id.
    #[arg(long = "member-id")]
    pub member_ids: Vec<String>,
    #[arg(long = "email")]
    pub emails: Vec<String>,
    /// Silver's keyed customer_key (what the lake stores in place of a phone).
    #[arg(long = "customer-key")]
    pub customer_keys: Vec<String>,
}

#[derive(Subcommand)]
pub enum SubjectAction {
    /// Every place the person appears: Bronze lines, quarantined records, Silver rows, the Gold
    /// days and queues they count in, CRM rows. Shows places, never values; --out writes the
    /// findings with the raw values for the requester (.json or .csv).
    Find {
        #[command(flatten)]
        who: SubjectArgs,
        #[arg(long)]
        json: bool,
        /// Write the findings, raw values included, to this .json or .csv file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Erase the person everywhere: shows the plan; --apply rewrites Bronze and quarantine
    /// without them, deletes their Silver rows and rebuilds those dates and Gold, vacuums
    /// every Delta table with zero retention, audits, then reads every file of the lake to
    /// prove nothing is left (exit 1 if anything is). Rerun after a crash to finish.
    Erase {
        #[command(flatten)]
        who: SubjectArgs,
        /// Why (the request's ticket or reference); kept in the audit log.
        #[arg(long)]
        reason: String,
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        json: bool,
    },
    /// Read every file of the lake and its cold store (Delta history included) for the person:
    /// the proof of an erasure. Exits 1 if anything mentions them.
    Verify {
        #[command(flatten)]
        who: SubjectArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ClusterRole {
    /// The scheduler: takes jobs from `process --cluster` and hands their tasks to executors.
    Scheduler {
        /// Address of its gRPC service.
        #[arg(long, default_value = "0.0.0.0:50050")]
        bind: std::net::SocketAddr,
        /// Host name executors and clients reach it by.
        #[arg(long, default_value = "localhost")]
        external_host: String,
    },
    /// An executor: runs Silver tasks with its own HMAC key (CCLAKE_HMAC_KEY or the key file,
    /// which must be the lake's) and cloud credentials, writing into the lake.
    Executor {
        /// The scheduler, HOST:PORT or df://HOST:PORT.
        #[arg(long)]
        scheduler: String,
        /// Tasks run at once.
        #[arg(short = 'c', long, default_value_t = 2)]
        concurrency: usize,
        #[arg(long, default_value = "0.0.0.0")]
        bind_host: String,
        /// Host name the scheduler and other executors reach it by (default: its bind host).
        #[arg(long)]
        external_host: Option<String>,
        /// Arrow Flight port (results and shuffle data).
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port.
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Folder for shuffle files (default: a temporary folder).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}
