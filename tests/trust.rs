//! The promises users bet on, each tried the way a careful user would break it: no record is
//! lost, no SQL writes, no key is forged, no state file is left half written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cclake::lake::Lake;
use cclake::pipeline::{self, JobProgress};
use cclake::silver::ProcessMode;
use cclake::silver::digest::HmacKey;

use common::KEY;

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
    let lake = common::demo_lake(&common::runtime(), dir, 3, 150, 3);
    (lake, dir.join("lake"))
}

fn count(root: &Path, table: &str) -> String {
    let (ok, out, err) = cclake(
        root,
        &["query", &format!("SELECT count(*) AS n FROM {table}")],
    );
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
        &[
            "query",
            "SELECT max(total_contacts) FROM gold_daily_queue_metrics",
        ],
    );
    assert!(ok && out.contains("max"), "{out}");
}

fn cclake_with_key(lake: &Path, key: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cclake"));
    cmd.arg("--lake").arg(lake).args(args);
    cmd.env_remove("CCLAKE_HMAC_KEY")
        .env_remove("CCLAKE_HMAC_KEY_FILE");
    for (k, v) in key {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn delta_versions(root: &Path) -> usize {
    std::fs::read_dir(root.join("silver/contacts/_delta_log"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn a_different_or_short_key_stops_before_writing_and_rekey_rotates_with_an_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (_lake, root) = built_lake(dir.path());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("_cclake/key.json")).unwrap()).unwrap();
    let recorded = common::key().fingerprint();
    assert_eq!(record["fingerprint"], recorded.as_str());
    let lake_text = |root: &Path| {
        common::walk(root)
            .iter()
            .filter(|p| !p.to_string_lossy().contains("bronze/"))
            .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
            .collect::<String>()
    };
    assert!(
        !lake_text(&root).contains(KEY),
        "the key itself is never in the lake"
    );

    // Another key: refused before anything is written, naming where the key came from.
    let other = "another-key-of-enough-length-0123456789";
    let versions = delta_versions(&root);
    let (ok, _, err) =
        cclake_with_key(&root, &[("CCLAKE_HMAC_KEY", other)], &["process", "--full"]);
    assert!(!ok);
    assert!(
        err.contains("CCLAKE_HMAC_KEY") && err.contains("fingerprint") && err.contains("rekey"),
        "{err}"
    );
    assert_eq!(delta_versions(&root), versions, "nothing written");

    // Short or empty keys are refused wherever they come from.
    let short_file = dir.path().join("short.key");
    std::fs::write(&short_file, "too-short-key\n").unwrap();
    for env in [
        vec![("CCLAKE_HMAC_KEY", "0123456789abcdef")],
        vec![("CCLAKE_HMAC_KEY_FILE", short_file.to_str().unwrap())],
    ] {
        let (ok, _, err) = cclake_with_key(&root, &env, &["process"]);
        assert!(!ok);
        assert!(err.contains("at least 32"), "{err}");
    }

    // A deliberate rotation to the key now in the environment.
    let (ok, out, err) = cclake_with_key(
        &root,
        &[("CCLAKE_HMAC_KEY", other)],
        &["rekey", "--reason", "ticket SEC-7: key rotation"],
    );
    assert!(ok, "{out}{err}");
    let rt = common::runtime();
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let rows = common::silver_rows(&rt, &lake);
    let new_key = HmacKey::from_bytes(other.as_bytes().to_vec());
    let old_key = common::key();
    let phone_row = rows
        .iter()
        .find(|r| r["customer_key"].is_some())
        .expect("a row with a customer key");
    let bronze_phone_keys: Vec<String> = rows
        .iter()
        .filter_map(|r| r["customer_key"].clone())
        .collect();
    assert!(!bronze_phone_keys.contains(&old_key.hash("+13175550123")));
    assert!(phone_row["customer_key"].as_deref().unwrap().len() == 64);
    let audit: Vec<serde_json::Value> = common::walk(&root.join("_cclake/audit"))
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "rekey");
    assert_eq!(audit[0]["reason"], "ticket SEC-7: key rotation");
    assert_eq!(audit[0]["details"]["from_fingerprint"], recorded.as_str());
    assert_eq!(
        audit[0]["details"]["to_fingerprint"],
        new_key.fingerprint().as_str()
    );
    assert!(!lake_text(&root).contains(other));
    // The old key may no longer write; the new one may.
    let (ok, _, err) = cclake_with_key(&root, &[("CCLAKE_HMAC_KEY", KEY)], &["process"]);
    assert!(!ok && err.contains("fingerprint"), "{err}");
    let (ok, _, err) = cclake_with_key(&root, &[("CCLAKE_HMAC_KEY", other)], &["process"]);
    assert!(ok, "{err}");
    // The customer keys are the new key's: recompute one from Bronze.
    let one = rt.block_on(async {
        let ctx = cclake::query::session(&lake).await.unwrap();
        let r = cclake::query::run(
            &ctx,
            "SELECT customer_key FROM silver_contacts WHERE source_system = 'connect' AND customer_key IS NOT NULL LIMIT 1",
        )
        .await
        .unwrap();
        cclake::lake::delta::utf8_column(r.batches[0].column(0))
            .unwrap()
            .value(0)
            .to_string()
    });
    let ctr_phones: Vec<String> = common::bronze_lines(&root)
        .iter()
        .filter_map(|(_, l)| {
            let v: serde_json::Value = serde_json::from_slice(l).ok()?;
            v["CustomerEndpoint"]["Address"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert!(ctr_phones.iter().any(|p| new_key.hash(p) == one));
    assert!(!ctr_phones.iter().any(|p| old_key.hash(p) == one));
}

#[test]
fn rekey_with_a_key_file_generates_the_new_key_and_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_lake, root) = built_lake(dir.path());
    // Switch the lake to a key file first (deliberately), then rotate that file.
    let key_file = dir.path().join("keys/hmac.key");
    std::fs::create_dir_all(key_file.parent().unwrap()).unwrap();
    std::fs::write(&key_file, KEY).unwrap();
    let env = [("CCLAKE_HMAC_KEY_FILE", key_file.to_str().unwrap())];
    let (ok, _, err) = cclake_with_key(&root, &env, &["process"]);
    assert!(ok, "the same key from a file: {err}");
    let (ok, out, err) = cclake_with_key(&root, &env, &["rekey", "--reason", "yearly rotation"]);
    assert!(ok, "{out}{err}");
    let new_text = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new_text, KEY);
    assert_eq!(new_text.len(), 64);
    let retired: Vec<PathBuf> = common::walk(key_file.parent().unwrap())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".retired-"))
        .collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(std::fs::read_to_string(&retired[0]).unwrap(), KEY);
    assert!(!key_file.with_file_name("hmac.key.next").exists());
    let (ok, _, err) = cclake_with_key(&root, &env, &["process"]);
    assert!(ok, "{err}");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("_cclake/key.json")).unwrap()).unwrap();
    assert_eq!(
        record["fingerprint"],
        HmacKey::from_bytes(new_text.into_bytes())
            .fingerprint()
            .as_str()
    );
}

#[test]
fn a_lost_policy_file_on_a_lake_with_silver_is_an_error_not_the_preset() {
    let dir = tempfile::tempdir().unwrap();
    let (_lake, root) = built_lake(dir.path());
    let policy = root.join("_config/masking_policy.toml");
    std::fs::remove_file(&policy).unwrap();
    let versions = delta_versions(&root);
    for args in [vec!["process", "--full"], vec!["scan"]] {
        let (ok, _, err) = cclake(&root, &args);
        assert!(!ok, "{args:?}");
        assert!(
            err.contains("masking_policy.toml is missing") && err.contains("policy_history"),
            "{args:?}: {err}"
        );
    }
    assert!(!policy.exists(), "no preset was written in its place");
    assert_eq!(delta_versions(&root), versions);
    // State and config files are replaced whole: no temp files are left beside them.
    let leftovers: Vec<PathBuf> = common::walk(&root)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn record(id: &str, at: &str) -> String {
    format!(
        r#"{{"event_id":"{id}","timestamp":"{at}","queue_name":"Billing","outcome_status":"Completed","duration_seconds":60,"phone_number":"+13175550123"}}"#
    )
}

fn ingest_lines(lake: &Lake, dir: &Path, name: &str, lines: &[String]) {
    let f = dir.join(name);
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    common::ingest(lake, &[f]);
}

fn lifecycle_apply(
    rt: &tokio::runtime::Runtime,
    lake: &Lake,
    now: &str,
) -> cclake::lifecycle::Plan {
    let plan = rt
        .block_on(cclake::lifecycle::plan(lake, now.parse().unwrap()))
        .unwrap();
    rt.block_on(cclake::lifecycle::apply(lake, plan, &JobProgress::new()))
        .unwrap()
}

fn process_full(rt: &tokio::runtime::Runtime, lake: &Lake) -> pipeline::LayersSummary {
    common::process(rt, lake, ProcessMode::Full)
}

/// Every Bronze line in the hot lake and the cold store, by event id.
fn bronze_ids(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = common::bronze_lines(root)
        .into_iter()
        .chain(common::bronze_lines(&root.with_file_name("lake-cold")))
        .map(|(_, l)| {
            let v: serde_json::Value = serde_json::from_slice(&l).unwrap();
            v["event_id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn late_data_into_a_cold_hour_is_moved_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let rt = common::runtime();
    ingest_lines(
        &lake,
        dir.path(),
        "a.ndjson",
        &[record("early", "2025-01-01T10:00:00Z")],
    );
    let done = lifecycle_apply(&rt, &lake, "2025-06-01");
    assert_eq!(done.moves(), 1);
    // A late delivery into the same hour, after it moved.
    ingest_lines(
        &lake,
        dir.path(),
        "b.ndjson",
        &[record("late", "2025-01-01T10:30:00Z")],
    );
    assert_eq!(bronze_ids(&root), vec!["early", "late"]);
    let plan = rt
        .block_on(cclake::lifecycle::plan(
            &lake,
            "2025-06-02".parse().unwrap(),
        ))
        .unwrap();
    assert_eq!((plan.moves(), plan.late_files()), (1, 1), "{plan:?}");
    rt.block_on(cclake::lifecycle::apply(&lake, plan, &JobProgress::new()))
        .unwrap();
    // Both are in Bronze exactly once (in the cold store now), and Silver rebuilds from both.
    assert_eq!(bronze_ids(&root), vec!["early", "late"]);
    assert!(common::bronze_lines(&root).is_empty(), "nothing left hot");
    let s = process_full(&rt, &lake);
    assert_eq!(s.silver.rows_out, 2);
}

#[test]
fn late_data_into_an_expired_hour_is_kept_reported_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let rt = common::runtime();
    ingest_lines(
        &lake,
        dir.path(),
        "a.ndjson",
        &[
            record("old-1", "2023-01-01T10:00:00Z"),
            record("old-2", "2023-01-01T11:00:00Z"),
            record("recent", "2025-05-30T09:00:00Z"),
        ],
    );
    process_full(&rt, &lake);
    let done = lifecycle_apply(&rt, &lake, "2025-06-01");
    assert_eq!(done.deletes(), 2);
    assert_eq!(bronze_ids(&root), vec!["recent"]);
    // A re-delivery lands in an hour that expired.
    ingest_lines(
        &lake,
        dir.path(),
        "b.ndjson",
        &[record("old-late", "2023-01-01T10:30:00Z")],
    );
    assert_eq!(
        bronze_ids(&root),
        vec!["old-late", "recent"],
        "kept in Bronze"
    );
    for mode in [ProcessMode::Incremental, ProcessMode::Full] {
        let s = rt
            .block_on(pipeline::process(
                &lake,
                mode,
                common::key(),
                &JobProgress::new(),
            ))
            .unwrap();
        // The date with expired Bronze is frozen: its Silver rows stay as built from all of
        // its Bronze, and the run says so.
        assert_eq!(s.silver.frozen_dates, vec!["2023-01-01".parse().unwrap()]);
    }
    let rows = common::silver_rows(&rt, &lake);
    let ids: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r["event_id"].as_deref())
        .collect();
    assert_eq!(
        ids.into_iter().collect::<Vec<_>>(),
        vec!["old-1", "old-2", "recent"]
    );
    // The CLI reports it too, and lifecycle's next plan lists the late file.
    let (ok, out, err) = cclake(&root, &["process", "--full"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("1 dates frozen") && out.contains("2023-01-01"),
        "{out}"
    );
    let plan = rt
        .block_on(cclake::lifecycle::plan(
            &lake,
            "2025-06-02".parse().unwrap(),
        ))
        .unwrap();
    assert_eq!((plan.deletes(), plan.late_files()), (1, 1), "{plan:?}");
}

#[test]
fn a_cold_store_belongs_to_one_lake_and_is_never_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let mut lakes = Vec::new();
    for name in ["a", "b"] {
        let root = dir.path().join(name);
        let lake = Lake::open(root.to_str().unwrap()).unwrap();
        ingest_lines(
            &lake,
            dir.path(),
            &format!("{name}.ndjson"),
            &[record(name, "2025-01-01T10:00:00Z")],
        );
        lakes.push((root, lake));
    }
    // Side by side, each gets its own default cold store.
    for (root, lake) in &lakes {
        let plan = lifecycle_apply(&rt, lake, "2025-06-01");
        assert_eq!(plan.cold_store, format!("{}-cold", root.display()));
    }
    // A configured cold store that is the lake, inside it, or another lake's is refused.
    let (root_b, lake_b) = &lakes[1];
    let a_cold = format!("{}-cold", lakes[0].0.display());
    for (cold, why) in [
        (root_b.display().to_string(), "is the lake"),
        (root_b.join("cold").display().to_string(), "is inside"),
        (a_cold.clone(), "another lake"),
    ] {
        let e = rt
            .block_on(cclake::lifecycle::open_cold_store(lake_b, &cold))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(why) || e.contains("is the lake"), "{cold}: {e}");
    }
    // A move whose target exists with other bytes keeps the hot copy.
    let (root_a, lake_a) = &lakes[0];
    ingest_lines(
        lake_a,
        dir.path(),
        "a2.ndjson",
        &[record("a-late", "2025-01-01T10:10:00Z")],
    );
    let plan = rt
        .block_on(cclake::lifecycle::plan(
            lake_a,
            "2025-06-02".parse().unwrap(),
        ))
        .unwrap();
    let target = std::path::Path::new(&a_cold).join(&plan.partitions[0].paths[0]);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, b"not the same bytes").unwrap();
    let e = rt
        .block_on(cclake::lifecycle::apply(lake_a, plan, &JobProgress::new()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("different"), "{e}");
    assert!(
        common::bronze_lines(root_a)
            .iter()
            .any(|(_, l)| String::from_utf8_lossy(l).contains("a-late")),
        "the hot copy is still there"
    );
}

#[test]
fn two_writers_never_interleave_and_the_holder_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let f = dir.path().join("in.ndjson");
    std::fs::write(&f, record("x", "2026-10-01T10:00:00Z") + "\n").unwrap();
    let rt = common::runtime();
    let lease = rt.block_on(lake.writer_lease("demo")).unwrap();
    for args in [
        vec!["ingest", f.to_str().unwrap()],
        vec!["process"],
        vec!["lifecycle", "--apply"],
    ] {
        let (ok, _, err) = cclake(&root, &args);
        assert!(!ok, "{args:?}");
        assert!(
            err.contains("`cclake demo`") && err.contains(&std::process::id().to_string()),
            "{args:?}: {err}"
        );
    }
    assert!(common::ledger_rows(&root).is_empty(), "nothing ingested");
    rt.block_on(lease.release());
    let (ok, _, err) = cclake(&root, &["run", f.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        !root.join("_cclake/writer.lease").exists(),
        "released at exit"
    );
}

#[test]
fn quarantined_raw_records_expire_with_bronze() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let rt = common::runtime();
    ingest_lines(
        &lake,
        dir.path(),
        "a.ndjson",
        &[
            record("ok", "2026-10-01T10:00:00Z"),
            "{not json".to_string(),
        ],
    );
    assert_eq!(common::quarantine_rows(&root).len(), 1);
    // Quarantine ages from the day it was ingested: not due on the day, due after 730 days.
    let today = chrono::Utc::now().date_naive();
    let plan = rt.block_on(cclake::lifecycle::plan(&lake, today)).unwrap();
    assert!(plan.partitions.iter().all(|p| p.event_type != "quarantine"));
    let later = (today + chrono::Duration::days(800)).to_string();
    let done = lifecycle_apply(&rt, &lake, &later);
    assert!(
        done.partitions
            .iter()
            .any(|p| p.event_type == "quarantine" && p.action == cclake::lifecycle::Action::Delete)
    );
    assert!(common::quarantine_rows(&root).is_empty());
    let (ok, out, err) = cclake(&root, &["quarantine"]);
    assert!(ok, "{err}");
    assert!(!out.contains("not json"), "{out}");
}

#[test]
fn masking_gaps_are_closed_and_identifiers_holding_pii_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let rt = common::runtime();
    // A card number that straddles the 160-character cut of a drift example, a phone-number
    // key in rescued data, an account number next to its label, and a feed that uses the
    // caller's e-mail as its contact id.
    let long = format!("{} card 4111 1111 1111 1111 on file", "x".repeat(150));
    let lines = vec![
        format!(
            r#"{{"event_id":"e1","contact_id":"jane.doe@example.com","timestamp":"2026-10-01T10:00:00Z","queue_name":"Billing","outcome_status":"Completed","duration_seconds":60,"x_note":"{long}","x_callbacks":{{"+13175550123":"after 5pm"}},"notes":"refund to acct 12345678 approved"}}"#
        ),
        format!(
            r#"{{"event_id":"e2","contact_id":"C-2","timestamp":"2026-10-01T11:00:00Z","queue_name":"Billing","outcome_status":"Completed","duration_seconds":60,"x_note":"{long}"}}"#
        ),
    ];
    ingest_lines(&lake, dir.path(), "in.ndjson", &lines);
    process_full(&rt, &lake);
    let drift = common::table_rows(&rt, &lake, cclake::lake::delta::SILVER_DRIFT);
    let example = drift
        .iter()
        .find(|r| r["field"].as_deref() == Some("x_note"))
        .and_then(|r| r["example"].clone())
        .unwrap();
    assert!(!example.contains("4111"), "{example}");
    assert!(example.chars().count() <= 161, "{example}");
    let rows = common::silver_rows(&rt, &lake);
    let e1 = rows
        .iter()
        .find(|r| r["event_id"].as_deref() == Some("e1"))
        .unwrap();
    let rescued = e1["_rescued_data"].as_deref().unwrap();
    assert!(!rescued.contains("3175550123"), "{rescued}");
    assert!(rescued.contains(r#""[PHONE]":"after 5pm""#), "{rescued}");
    assert_eq!(
        e1["notes"].as_deref(),
        Some("refund to acct [ACCOUNT] approved")
    );
    // The leak scan flags the e-mail used as a contact id.
    let report = rt
        .block_on(cclake::compliance::scan::scan(&lake, &JobProgress::new()))
        .unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.column == "contact_id" && f.kind == "email"),
        "{:#?}",
        report.findings
    );
    // Platform ids that look like digits are not flagged; only that e-mail is.
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
}

/// Sets `[ingest]` limits in a lake's pipeline.toml.
fn set_ingest_limits(root: &Path, max_record_bytes: usize, max_partitions: usize) {
    let file = root.join("_config/pipeline.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let text = cclake::config::DEFAULT_PIPELINE
        .replace(
            "max_record_bytes = 268435456",
            &format!("max_record_bytes = {max_record_bytes}"),
        )
        .replace(
            "max_partitions_per_input = 10000",
            &format!("max_partitions_per_input = {max_partitions}"),
        );
    std::fs::write(file, text).unwrap();
}

#[test]
fn a_huge_line_is_quarantined_by_reference_in_bounded_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    // One line of 1 GiB between two records, in a gzip file of about a megabyte.
    let input = dir.path().join("huge.ndjson.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&input).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all((record("before", "2026-10-01T10:00:00Z") + "\n").as_bytes())
        .unwrap();
    enc.write_all(br#"{"event_id":"huge","blob":""#).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&chunk).unwrap();
    }
    enc.write_all(b"\"}\n").unwrap();
    enc.write_all((record("after", "2026-10-01T11:00:00Z") + "\n").as_bytes())
        .unwrap();
    enc.finish().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_cclake"))
        .arg("--lake")
        .arg(&root)
        .args(["ingest", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "{}",
        String::from_utf8_lossy(&child.stderr)
    );
    // The ingest's peak memory stayed near the default 256 MiB limit, not the 1 GiB line.
    let peak_kib = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss
    };
    assert!(peak_kib < 600 * 1024, "peak RSS {peak_kib} KiB");
    let ledger = common::ledger_rows(&root);
    assert_eq!(
        (
            ledger[0]["records"].as_u64(),
            ledger[0]["bronze_records"].as_u64(),
            ledger[0]["quarantined"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    let q = common::quarantine_rows(&root);
    assert_eq!(q[0]["line"], 2);
    assert!(q[0]["length"].as_u64().unwrap() > 1 << 30);
    assert!(q[0]["raw"].as_str().unwrap().len() <= 4096);
    assert!(
        q[0]["raw"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"event_id":"huge""#)
    );
    assert!(
        q[0]["error"].as_str().unwrap().contains("not copied"),
        "{}",
        q[0]["error"]
    );
}

#[test]
fn bad_inputs_are_refused_or_quarantined_with_a_clear_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    set_ingest_limits(&root, 1 << 20, 50);
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    // A file whose records spread over 100 hours: over the limit of 50 partitions.
    let spread: Vec<String> = (0..100)
        .map(|h| {
            let at = chrono::DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z").unwrap()
                + chrono::Duration::hours(h);
            record(&format!("s{h}"), &at.to_rfc3339())
        })
        .collect();
    std::fs::write(inputs.join("spread.ndjson"), spread.join("\n")).unwrap();
    // Occurrence times outside 1970–9999, beside a good record.
    std::fs::write(
        inputs.join("years.ndjson"),
        [
            record("ok", "2026-10-01T10:00:00Z"),
            record("old", "1900-01-01T00:00:00Z"),
            r#"{"event_id":"far","timestamp":253402300800000}"#.to_string(),
        ]
        .join("\n"),
    )
    .unwrap();
    // A damaged gzip over 8 MiB: copied into the lake beside its quarantine row, streamed.
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() < 10 << 20 {
        text.push_str(&record(
            &format!("g{i}-{:x}", i * 2654435761),
            "2026-10-02T10:00:00Z",
        ));
        text.push('\n');
        i += 1;
    }
    let mut gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    gz.truncate(gz.len() - 100);
    assert!(gz.len() > 8 << 20);
    std::fs::write(inputs.join("damaged.json.gz"), &gz).unwrap();
    // A folder that cannot be read (a loop of links) is passed over, not fatal.
    std::os::unix::fs::symlink(&inputs, inputs.join("loop")).unwrap();

    let summary = common::ingest(&lake, std::slice::from_ref(&inputs));
    let failed: Vec<String> = summary
        .outcomes
        .iter()
        .filter_map(|o| match o {
            cclake::bronze::FileOutcome::Failed { source_path, error } => {
                Some(format!("{source_path}: {error}"))
            }
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].contains("spread.ndjson") && failed[0].contains("more than 50"),
        "{failed:?}"
    );
    assert!(summary.skipped.iter().any(|(p, _)| p.ends_with("loop")));
    assert!(
        !common::bronze_lines(&root)
            .iter()
            .any(|(_, l)| String::from_utf8_lossy(l).contains("\"s1\"")),
        "nothing of the refused file was written"
    );
    let q = common::quarantine_rows(&root);
    let years: Vec<&serde_json::Value> = q
        .iter()
        .filter(|r| r["source_file"].as_str().unwrap().ends_with("years.ndjson"))
        .collect();
    assert_eq!(years.len(), 2);
    assert!(
        years
            .iter()
            .all(|r| r["error"].as_str().unwrap().contains("outside 1970–9999"))
    );
    let damaged = q
        .iter()
        .find(|r| {
            r["source_file"]
                .as_str()
                .unwrap()
                .ends_with("damaged.json.gz")
        })
        .unwrap();
    let copy = root.join(damaged["original_copy"].as_str().unwrap());
    assert_eq!(
        std::fs::read(copy).unwrap(),
        gz,
        "the whole original, byte for byte"
    );
    for row in common::ledger_rows(&root) {
        assert_eq!(
            row["records"].as_u64().unwrap(),
            row["bronze_records"].as_u64().unwrap() + row["quarantined"].as_u64().unwrap()
        );
    }

    // A folder holding the lake, or inside it, is refused before anything is read.
    for folder in [dir.path().to_path_buf(), root.join("bronze")] {
        let (ok, _, err) = cclake(&root, &["ingest", folder.to_str().unwrap()]);
        assert!(!ok);
        assert!(
            err.contains("holds the lake") || err.contains("inside the lake"),
            "{err}"
        );
    }
}
