//! Silver on a real Ballista cluster: a scheduler and two executors started as `cclake
//! cluster …` processes on loopback, over an `s3://` lake on moto's S3 server.
//! `process --full --cluster` (Silver's dates as tasks, Gold's per-contact query as a plan
//! over Silver's files) gives Silver, drift and Gold equal to a single-process run on the
//! same Bronze, with dates built on both executors, a clean leak scan and the key in no
//! log; an executor that dies under the scheduler leaves the lake at its last good version
//! or finishes the job, and a rerun ends with the same tables.

mod common;
#[path = "common/remote.rs"]
mod remote;
#[path = "common/servers.rs"]
mod servers;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use remote::{assert_same, cli, ok, tables};
use servers::{Moto, free_port};

/// A cluster role, its output captured in a file.
struct Role {
    child: Child,
    log: PathBuf,
}

impl Role {
    fn start(args: &[String], env: &[(&'static str, String)], log: PathBuf) -> Role {
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_cclake"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("CCLAKE_HMAC_KEY", common::KEY)
            .env("CCLAKE_LOG", "info")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap();
        Role { child, log }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Cluster {
    address: String,
    scheduler: Role,
    executors: Vec<Role>,
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A scheduler and `n` executors (one task at once each, so every executor gets work).
fn cluster(dir: &Path, env: &[(&'static str, String)], n: usize) -> Cluster {
    let port = free_port();
    let s = |v: &str| v.to_string();
    let scheduler = Role::start(
        &[
            s("cluster"),
            s("scheduler"),
            s("--bind"),
            format!("127.0.0.1:{port}"),
            s("--external-host"),
            s("127.0.0.1"),
        ],
        env,
        dir.join("scheduler.log"),
    );
    wait_port(port);
    let executors: Vec<Role> = (0..n)
        .map(|i| {
            let (flight, grpc) = (free_port(), free_port());
            let work = dir.join(format!("executor-{i}"));
            std::fs::create_dir_all(&work).unwrap();
            let role = Role::start(
                &[
                    s("cluster"),
                    s("executor"),
                    s("--scheduler"),
                    format!("127.0.0.1:{port}"),
                    s("-c"),
                    s("1"),
                    s("--bind-host"),
                    s("127.0.0.1"),
                    s("--port"),
                    flight.to_string(),
                    s("--grpc-port"),
                    grpc.to_string(),
                    s("--work-dir"),
                    work.display().to_string(),
                ],
                env,
                dir.join(format!("executor-{i}.log")),
            );
            wait_port(flight);
            role
        })
        .collect();
    // Every executor registered before the first job, so the scheduler can spread it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = std::fs::read_to_string(dir.join("scheduler.log")).unwrap_or_default();
        if log.matches("register executor request").count() >= n {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the executors did not register: {log}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Cluster {
        address: format!("df://127.0.0.1:{port}"),
        scheduler,
        executors,
    }
}

/// Processes `single` in one process and asserts every table equals `on_cluster`'s.
fn equals_a_single_process_run(
    on_cluster: &str,
    single: &str,
    env: &[(&'static str, String)],
    dir: &Path,
    what: &str,
) {
    ok(single, env, &["process", "--full"]);
    let a = tables(on_cluster, env, dir, "cluster");
    let b = tables(single, env, dir, "single");
    assert_same(&a, &b, what);
}

/// The executors named in `process` output ("built on the cluster by A (n dates), B (m dates)").
fn executors_used(out: &str) -> usize {
    out.lines()
        .find(|l| l.contains("built on the cluster by"))
        .map_or(0, |l| l.matches(" dates)").count())
}

/// An S3 lake on moto with the same generated exports ingested twice over: `cluster` and
/// `single` (the Bronze of both is the same records, byte for byte).
fn s3_lakes(moto: &Moto, dir: &Path, days: u32) -> (String, String) {
    moto.bucket("lake");
    let exports = dir.join("exports");
    common::generate(&exports, days, 40, 31);
    let env = moto.env();
    let (a, b) = (
        "s3://lake/cluster".to_string(),
        "s3://lake/single".to_string(),
    );
    for l in [&a, &b] {
        ok(l, &env, &["ingest", "--quiet", exports.to_str().unwrap()]);
    }
    (a, b)
}

#[test]
fn process_on_a_two_executor_cluster_equals_a_single_process_run() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let env = moto.env();
    let (on_cluster, single) = s3_lakes(&moto, dir.path(), 6);
    let mut c = cluster(dir.path(), &env, 2);

    // Which executor gets a date is the scheduler's choice at the moment it binds the job's
    // tasks: an executor whose free slot it has not seen yet (a loaded machine) gets none, and
    // the other may take every date in one task. So the job runs up to three times (each a
    // full rebuild, each result checked below) until one of them spread over both.
    let mut out = String::new();
    for attempt in 1..=3 {
        out = ok(
            &on_cluster,
            &env,
            &["process", "--full", "--cluster", &c.address],
        );
        assert!(out.contains("Silver: 6 dates rebuilt"), "{out}");
        if executors_used(&out) == 2 {
            break;
        }
        eprintln!("attempt {attempt}: one executor built every date");
    }
    if executors_used(&out) != 2 {
        for e in &c.executors {
            eprintln!(
                "== {}\n{}",
                e.log.display(),
                std::fs::read_to_string(&e.log).unwrap()
            );
        }
    }
    assert_eq!(executors_used(&out), 2, "both executors built dates: {out}");
    assert!(
        out.contains("per-contact query on the cluster"),
        "Gold ran on the cluster: {out}"
    );
    equals_a_single_process_run(
        &on_cluster,
        &single,
        &env,
        dir.path(),
        "the cluster's tables differ from the single process's",
    );
    let scan = ok(&on_cluster, &env, &["scan"]);
    assert!(scan.contains("no raw PII found"), "{scan}");

    // The key travelled nowhere: not in any role's log, nor in the client's output.
    c.scheduler.kill();
    for e in &mut c.executors {
        e.kill();
    }
    for log in std::iter::once(&c.scheduler.log).chain(c.executors.iter().map(|e| &e.log)) {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(
            !text.contains(common::KEY),
            "{} holds the key",
            log.display()
        );
    }
    assert!(!out.contains(common::KEY));
    let executor_log = std::fs::read_to_string(&c.executors[0].log).unwrap();
    assert!(executor_log.contains("key fingerprint"), "{executor_log}");
}

#[test]
fn an_executor_that_dies_leaves_the_lake_whole_and_a_rerun_finishes() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let env = moto.env();
    let (on_cluster, single) = s3_lakes(&moto, dir.path(), 4);
    let mut c = cluster(dir.path(), &env, 2);
    // The scheduler still counts the second executor when it dies: its tasks fail there.
    c.executors[1].kill();
    let (done, out, err) = cli(
        &on_cluster,
        &env,
        &["process", "--full", "--cluster", &c.address],
    );
    eprintln!(
        "with one executor dead: {}",
        if done {
            "the job finished"
        } else {
            "the job failed cleanly"
        }
    );
    if !done {
        // A clean failure: said in words, and the lake still at its last good version (none).
        assert!(err.contains("cluster") || err.contains("Silver"), "{err}");
        let status = ok(&on_cluster, &env, &["status"]);
        assert!(
            status.contains("silver/contacts") && !status.contains("version 1"),
            "{status}"
        );
        let again = ok(
            &on_cluster,
            &env,
            &["process", "--full", "--cluster", &c.address],
        );
        assert!(again.contains("Silver: 4 dates rebuilt"), "{again}");
    } else {
        assert!(out.contains("Silver: 4 dates rebuilt"), "{out}");
    }
    equals_a_single_process_run(
        &on_cluster,
        &single,
        &env,
        dir.path(),
        "after the executor died, the tables differ from the single process's",
    );
}
