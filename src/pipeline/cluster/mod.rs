//! Silver on a Ballista cluster: the scheduler and executor roles (run by `cclake cluster …`
//! with cclake's codec, so executors run cclake's own Silver code), and the client side of
//! `cclake process --cluster df://HOST:PORT`, which submits one task per date as a physical
//! plan and commits what the executors wrote exactly as a single-process run commits.
//!
//! The HMAC key never travels: the plan carries the lake's key fingerprint and each executor
//! checks its own key against it. Rows never travel either: each executor writes its date's
//! Parquet files into the lake and answers with their Delta add actions; a task that failed
//! or a job that did not finish leaves only unreferenced files, which vacuum removes.

mod exec;
pub mod task;

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::config::BallistaConfig;
use ballista_core::execution_plans::execute_physical_plan;
use ballista_core::extension::SessionConfigExt;
use chrono::NaiveDate;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::PhysicalPlanNode;
use futures::TryStreamExt;

pub use exec::{CclakeCodec, SilverDatesExec};
use task::{DateResult, SilverTasks};

use crate::lake::Lake;
use crate::progress::JobProgress;
use crate::silver::build::DateBuild;
use crate::silver::{RemoteBuilder, Settings, SilverError, SilverPlan};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0} is not a cluster address: use df://HOST:PORT (the scheduler's gRPC port)")]
    BadAddress(String),
    #[error("the Ballista {role}: {message}")]
    Role { role: &'static str, message: String },
}

/// A scheduler's address, from `df://HOST:PORT` (or `HOST:PORT`).
pub fn scheduler_address(text: &str) -> Result<(String, u16), ClusterError> {
    let bad = || ClusterError::BadAddress(text.to_string());
    let rest = text
        .strip_prefix("df://")
        .unwrap_or(text)
        .trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// Runs a scheduler on `bind` until the process ends.
pub async fn run_scheduler(bind: SocketAddr, external_host: &str) -> Result<(), ClusterError> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let role = |e: ballista_core::error::BallistaError| ClusterError::Role {
        role: "scheduler",
        message: e.to_string(),
    };
    use ballista_scheduler::config::TaskDistributionPolicy;
    // Round robin: a Silver task is a whole date of CPU work, so dates go to every executor
    // rather than filling the first one's slots.
    let mut config = SchedulerConfig::default()
        .with_hostname(external_host)
        .with_port(bind.port())
        .with_task_distribution(TaskDistributionPolicy::RoundRobin);
    config.bind_host = bind.ip().to_string();
    config.override_physical_codec = Some(Arc::new(CclakeCodec::default()));
    // Submitted plans name the lake's files: decoding them needs the lake's store.
    config.override_session_builder = Some(Arc::new(|session_config| {
        let state = ballista_core::utils::default_session_builder(session_config)?;
        Ok(
            datafusion::execution::SessionStateBuilder::new_from_existing(state)
                .with_runtime_env(lake_runtime()?)
                .build(),
        )
    }));
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(role)?;
    ballista_scheduler::scheduler_process::start_server(cluster, bind, Arc::new(config))
        .await
        .map_err(role)
}

/// A runtime whose object stores resolve any lake URL with this machine's credentials.
fn lake_runtime() -> datafusion::error::Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>>
{
    let env = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::new(crate::lake::LakeStores::default()))
        .build()?;
    Ok(Arc::new(env))
}

/// Where an executor listens and whom it serves.
pub struct ExecutorOptions {
    pub scheduler: String,
    pub bind_host: String,
    pub external_host: Option<String>,
    /// Arrow Flight port (shuffle data) and gRPC port.
    pub port: u16,
    pub grpc_port: u16,
    /// Tasks run at once.
    pub concurrency: usize,
    pub work_dir: Option<String>,
}

/// Runs an executor until the process ends.
pub async fn run_executor(opts: ExecutorOptions) -> Result<(), ClusterError> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    let (scheduler_host, scheduler_port) = scheduler_address(&opts.scheduler)?;
    let config = ExecutorProcessConfig {
        bind_host: opts.bind_host,
        external_host: opts.external_host,
        port: opts.port,
        grpc_port: opts.grpc_port,
        scheduler_host,
        scheduler_port,
        vcores: opts.concurrency.max(1),
        work_dir: opts.work_dir,
        override_physical_codec: Some(Arc::new(CclakeCodec::default())),
        // Plans read the lake's files (Gold's scan of Silver): any lake URL resolves to its
        // store, with this machine's credentials.
        override_runtime_producer: Some(Arc::new(|_config| lake_runtime())),
        ..Default::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| ClusterError::Role {
            role: "executor",
            message: e.to_string(),
        })
}

/// A cluster that builds Silver dates: the scheduler's URL and the lake key's fingerprint the
/// executors must hold.
pub struct Cluster {
    url: String,
    fingerprint: String,
    /// Dates each executor has built in this run, for the progress line.
    built: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Cluster {
    pub fn new(
        address: &str,
        key: &crate::silver::digest::HmacKey,
    ) -> Result<Cluster, ClusterError> {
        let (host, port) = scheduler_address(address)?;
        Ok(Cluster {
            url: format!("http://{host}:{port}"),
            fingerprint: key.fingerprint(),
            built: Default::default(),
        })
    }

    async fn submit(&self, tasks: SilverTasks) -> Result<Vec<DateResult>, SilverError> {
        let err = |e: datafusion::error::DataFusionError| SilverError::Cluster(e.to_string());
        // The plan is the dates alone: one stage whose tasks are the dates (a coalesce on top
        // would run every date inside one task).
        let plan: Arc<dyn ExecutionPlan> = Arc::new(SilverDatesExec::new(tasks));
        let session = SessionConfig::new_with_ballista();
        let stream = execute_physical_plan::<PhysicalPlanNode>(
            self.url.clone(),
            &BallistaConfig::default(),
            plan,
            &CclakeCodec::default(),
            uuid_like(),
            session,
        )
        .await
        .map_err(err)?;
        let batches: Vec<arrow::array::RecordBatch> = stream.try_collect().await.map_err(err)?;
        let mut out = Vec::new();
        for b in &batches {
            let col = arrow::array::AsArray::as_string::<i32>(b.column(0));
            for json in col.iter().flatten() {
                let r: DateResult = serde_json::from_str(json)
                    .map_err(|e| SilverError::Cluster(format!("an executor's answer: {e}")))?;
                out.push(r);
            }
        }
        Ok(out)
    }
}

/// A session id for one job.
fn uuid_like() -> String {
    format!(
        "cclake-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    )
}

#[async_trait::async_trait]
impl RemoteBuilder for Cluster {
    async fn build(
        &self,
        lake: &Lake,
        _settings: &Settings,
        plan: &SilverPlan,
        group: &[NaiveDate],
        progress: &JobProgress,
    ) -> Vec<Result<DateBuild, SilverError>> {
        let tasks = SilverTasks::new(lake, &self.fingerprint, plan, group);
        let records: u64 = tasks
            .dates
            .iter()
            .flat_map(|d| &d.files)
            .map(|f| f.records)
            .sum();
        let results = match self.submit(tasks).await {
            Ok(r) => r,
            Err(e) => return vec![Err(e)],
        };
        progress.add_records(records);
        let mut by_date: std::collections::BTreeMap<NaiveDate, DateResult> =
            results.into_iter().map(|r| (r.date, r)).collect();
        if let Ok(mut built) = self.built.lock() {
            for r in by_date.values() {
                tracing::info!(date = %r.date, executor = %r.executor, rows = r.rows, "Silver date built on the cluster");
                *built.entry(r.executor.clone()).or_default() += 1;
            }
            let per: Vec<String> = built.iter().map(|(e, n)| format!("{e}: {n}")).collect();
            progress.set_stage(format!(
                "Silver on the cluster, dates built per executor: {}",
                per.join(", ")
            ));
        }
        (group.iter())
            .map(|d| {
                by_date
                    .remove(d)
                    .map(DateResult::into_build)
                    .ok_or_else(|| SilverError::Cluster(format!("no executor answered for {d}")))
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl crate::gold::RemoteQuery for Cluster {
    async fn collect(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        settings: &crate::gold::KpiSettings,
    ) -> datafusion::error::Result<Vec<arrow::array::RecordBatch>> {
        let codec = CclakeCodec::with_zone(settings.zone.name());
        let stream = execute_physical_plan::<PhysicalPlanNode>(
            self.url.clone(),
            &BallistaConfig::default(),
            plan,
            &codec,
            uuid_like(),
            SessionConfig::new_with_ballista(),
        )
        .await?;
        let batches: Vec<arrow::array::RecordBatch> = stream.try_collect().await?;
        tracing::info!(
            batches = batches.len(),
            "Gold's per-contact query ran on the cluster"
        );
        Ok(batches)
    }
}
