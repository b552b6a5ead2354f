//! The promises users bet on, each tried the way a careful user would break it: no record is
//! lost, no SQL writes, no key is forged, no state file is left half written.

mod common;

use std::path::{Path, PathBuf};

use cclake::lake::Lake;
use cclake::pipeline::JobProgress;
use cclake::silver::ProcessMode;
use cclake::silver::digest::HmacKey;

use common::{KEY, ingest_lines, record};

fn cclake(lake: &Path, args: &[&str]) -> (bool, String, String) {
    common::cclake_on(lake, args)
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
    let lake = lake.to_str().unwrap();
    let mut all = vec!["--lake", lake];
    all.extend_from_slice(args);
    let env: Vec<(&str, Option<&str>)> = key.iter().map(|(k, v)| (*k, Some(*v))).collect();
    common::cclake_env(&all, &env)
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
    common::process(&rt, &lake, ProcessMode::Full);
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
