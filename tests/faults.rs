//! Fault injection: real `cclake process` and `cclake lifecycle --apply` processes are killed
//! with SIGKILL at random moments, then run again. Afterwards every ledger record must be in
//! hot or cold Bronze exactly once (or, past retention, nowhere), and Silver and Gold must
//! equal those of a full rebuild on a fresh lake.

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cclake::lake::Lake;
use rand::{Rng, SeedableRng};

use common::KEY;
const TRIALS: usize = 20;

fn cclake(lake: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cclake"));
    c.arg("--lake")
        .arg(lake)
        .args(args)
        .env("CCLAKE_HMAC_KEY", KEY)
        .env("CCLAKE_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn run_ok(lake: &Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let out = cclake(lake, args).output().unwrap();
    assert!(
        out.status.success(),
        "cclake {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed()
}

/// Starts a command and kills it with SIGKILL after `after` (if it is still running).
fn kill_after(lake: &Path, args: &[&str], after: Duration) -> bool {
    let mut child = cclake(lake, args).spawn().unwrap();
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    killed
}

fn copy_dir(from: &Path, to: &Path) {
    for f in common::walk(from) {
        let rel = f.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

/// A table's rows as text, sorted, without the columns that record when or from which
/// physical file a row was written (they differ between two lakes built from the same data).
fn table(rt: &tokio::runtime::Runtime, lake: &Path, rel: &str) -> Vec<String> {
    let lake = Lake::open(lake.to_str().unwrap()).unwrap();
    let mut rows: Vec<String> = common::table_rows(rt, &lake, rel)
        .into_iter()
        .map(|mut r| {
            for clock in [
                "_ingested_at",
                "_bronze_file",
                "computed_at",
                "processed_at",
            ] {
                r.remove(clock);
            }
            format!("{r:?}")
        })
        .collect();
    rows.sort();
    rows
}

fn layers(rt: &tokio::runtime::Runtime, lake: &Path) -> BTreeMap<&'static str, Vec<String>> {
    use cclake::lake::delta::*;
    [SILVER_CONTACTS, SILVER_DRIFT, GOLD_DAILY, GOLD_HOURLY]
        .into_iter()
        .map(|t| (t, table(rt, lake, t)))
        .collect()
}

/// Every Bronze line in hot and cold Bronze, with how many copies there are and the day of
/// the partition holding it.
fn bronze_copies(lake: &Path) -> BTreeMap<String, (usize, String)> {
    let mut seen: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let cold = lake.with_file_name(format!(
        "{}-cold",
        lake.file_name().unwrap().to_string_lossy()
    ));
    for root in [lake.to_path_buf(), cold] {
        for (path, line) in common::bronze_lines_on_disk(&root, true) {
            let day = path
                .split("/year=")
                .nth(1)
                .map(|p| p.chars().take(20).collect())
                .unwrap_or_default();
            seen.entry(String::from_utf8_lossy(&line).into_owned())
                .or_insert((0, day))
                .0 += 1;
        }
    }
    seen
}

/// The exports every trial uses, generated once.
fn exports(dir: &Path, start: &str) -> PathBuf {
    let out = dir.join("exports");
    cclake::demo::generate(
        &cclake::demo::GenerateOptions {
            out: out.clone(),
            days: 4,
            contacts_per_day: 60,
            seed: 17,
            start: start.parse().unwrap(),
        },
        &cclake::pipeline::JobProgress::new(),
    )
    .unwrap();
    out
}

#[test]
fn killed_process_runs_finish_on_rerun_with_the_tables_of_a_full_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let exports = exports(dir.path(), "2026-10-01");
    let rt = common::runtime();
    // The reference: a fresh lake, ingested and processed once.
    let reference = dir.path().join("reference/lake");
    run_ok(&reference, &["ingest", exports.to_str().unwrap()]);
    let full = run_ok(&reference, &["process", "--full"]);
    let want = layers(&rt, &reference);
    assert!(want[cclake::lake::delta::GOLD_DAILY].len() > 10);
    // A template with only Bronze, copied for each trial.
    let template = dir.path().join("template/lake");
    run_ok(&template, &["ingest", exports.to_str().unwrap()]);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut killed = 0;
    for trial in 0..TRIALS {
        let lake = dir.path().join(format!("trial-{trial}/lake"));
        copy_dir(&template, &lake);
        let after = full.mul_f64(rng.random_range(0.05..1.1));
        killed += usize::from(kill_after(&lake, &["process"], after));
        // Sometimes the rerun is killed too, before the last one.
        if rng.random_bool(0.3) {
            let again = full.mul_f64(rng.random_range(0.05..0.9));
            killed += usize::from(kill_after(&lake, &["process"], again));
        }
        run_ok(&lake, &["process"]);
        let got = layers(&rt, &lake);
        for (t, rows) in &want {
            assert_eq!(&got[t], rows, "trial {trial}: {t} after kill at {after:?}");
        }
        std::fs::remove_dir_all(lake.parent().unwrap()).unwrap();
    }
    assert!(
        killed >= TRIALS / 2,
        "most runs were killed mid-way ({killed})"
    );
}

#[test]
fn killed_lifecycle_applies_lose_no_record_and_leave_no_copy_twice() {
    let dir = tempfile::tempdir().unwrap();
    // Four days of data, aged so the first two expire and the next two move to cold.
    let exports = exports(dir.path(), "2026-01-01");
    let rt = common::runtime();
    let template = dir.path().join("template/lake");
    run_ok(&template, &["ingest", exports.to_str().unwrap()]);
    let pipeline = template.join("_config/pipeline.toml");
    let text = std::fs::read_to_string(&pipeline)
        .unwrap_or_else(|_| cclake::config::DEFAULT_PIPELINE.to_string());
    std::fs::create_dir_all(pipeline.parent().unwrap()).unwrap();
    std::fs::write(
        &pipeline,
        text.replace("bronze_cold_after_days = 90", "bronze_cold_after_days = 2")
            .replace(
                "bronze_delete_after_days = 730",
                "bronze_delete_after_days = 4",
            ),
    )
    .unwrap();
    run_ok(&template, &["process"]);
    let want = layers(&rt, &template);
    let now = ["--now", "2026-01-07"];
    let ledger = common::ledger_rows(&template);
    let all_before = bronze_copies(&template);
    // Partitions of the first two days are past retention (`2026/month=01/day=01` …).
    let expired_day = |day: &str| day.ends_with("day=01") || day.ends_with("day=02");

    // One uninterrupted apply, to know how long one takes and what it leaves.
    let probe = dir.path().join("probe/lake");
    copy_dir(&template, &probe);
    let apply = [&["lifecycle", "--apply"][..], &now[..]].concat();
    let full = run_ok(&probe, &apply);
    let after_clean = bronze_copies(&probe);
    assert!(after_clean.len() < all_before.len(), "something expired");
    assert!(after_clean.values().all(|(n, _)| *n == 1));

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut killed = 0;
    for trial in 0..TRIALS {
        let lake = dir.path().join(format!("trial-{trial}/lake"));
        copy_dir(&template, &lake);
        let after = full.mul_f64(rng.random_range(0.02..1.1));
        killed += usize::from(kill_after(&lake, &apply, after));
        run_ok(&lake, &apply);
        let copies = bronze_copies(&lake);
        assert_eq!(copies, after_clean, "trial {trial}: killed at {after:?}");
        // Every record of the ledger that is not past retention is in Bronze exactly once.
        for (line, (_, day)) in &all_before {
            let have = copies.get(line).map_or(0, |(n, _)| *n);
            let want = if expired_day(day) { 0 } else { 1 };
            assert_eq!(have, want, "trial {trial}: a record of {day}");
        }
        // Lifecycle never changes what Silver and Gold say.
        assert_eq!(layers(&rt, &lake), want, "trial {trial}");
        std::fs::remove_dir_all(lake.parent().unwrap()).unwrap();
    }
    assert!(!ledger.is_empty());
    assert!(
        killed >= TRIALS / 2,
        "most applies were killed mid-way ({killed})"
    );
}
