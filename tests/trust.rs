//! The promises users bet on, each tried the way a careful user would break it: no record is
//! lost, no SQL writes, no key is forged, no state file is left half written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cclake::lake::Lake;
use cclake::pipeline::{self, JobProgress};
use cclake::silver::ProcessMode;
use cclake::silver::masking::HmacKey;

const KEY: &str = "trust-test-key-0123456789abcdef0123456789";

fn cclake(lake: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cclake"))
        .arg("--lake")
        .arg(lake)
        .args(args)
        .env("CCLAKE_HMAC_KEY", KEY)
        .env_remove("CCLAKE_HMAC_KEY_FILE")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Generated exports of a few days, ingested and processed to Gold.
fn built_lake(dir: &Path) -> (Lake, PathBuf) {
    let exports = dir.join("exports");
    cclake::sources::generate::generate(
        &cclake::sources::generate::GenerateOptions {
            out: exports.clone(),
            days: 3,
            contacts_per_day: 150,
            seed: 3,
            start: "2026-10-01".parse().unwrap(),
        },
        &JobProgress::new(),
    )
    .unwrap();
    let root = dir.join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    common::ingest(&lake, &[exports]);
    let rt = common::runtime();
    rt.block_on(pipeline::process(
        &lake,
        ProcessMode::Full,
        HmacKey::from_bytes(KEY.as_bytes().to_vec()),
        &JobProgress::new(),
    ))
    .unwrap();
    (lake, root)
}

fn count(root: &Path, table: &str) -> String {
    let (ok, out, err) = cclake(root, &["query", &format!("SELECT count(*) AS n FROM {table}")]);
    assert!(ok, "{err}");
    out
}

#[test]
fn sql_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (_lake, root) = built_lake(dir.path());
    let before = count(&root, "gold_daily_queue_metrics");
    let target = dir.path().join("exfiltrated.csv");
    for sql in [
        "INSERT INTO gold_daily_queue_metrics SELECT * FROM gold_daily_queue_metrics".to_string(),
        format!(
            "COPY (SELECT * FROM silver_contacts) TO '{}'",
            target.display()
        ),
        "CREATE TABLE t AS SELECT 1".to_string(),
        "DROP TABLE gold_daily_queue_metrics".to_string(),
        "SET datafusion.execution.batch_size = 1".to_string(),
        "DELETE FROM silver_contacts".to_string(),
    ] {
        let (ok, _, err) = cclake(&root, &["query", &sql]);
        assert!(!ok, "{sql} was accepted");
        assert!(err.contains("read-only"), "{sql}: {err}");
    }
    assert!(!target.exists(), "COPY wrote a file");
    assert_eq!(count(&root, "gold_daily_queue_metrics"), before);
    // Queries still run.
    let (ok, out, _) = cclake(
        &root,
        &["query", "SELECT max(total_contacts) FROM gold_daily_queue_metrics"],
    );
    assert!(ok && out.contains("max"), "{out}");
}
