//! The `cclake` binary as a user runs it: generate, ingest, status, and errors in words.

mod common;

fn cclake(args: &[&str]) -> (bool, String, String) {
    common::cclake_env(args, &[("CCLAKE_HMAC_KEY", Some(common::KEY))])
}

#[test]
fn generate_ingest_status_and_a_second_ingest_that_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x");
    let l = dir.path().join("l");
    let (xs, ls) = (x.to_str().unwrap(), l.to_str().unwrap());

    let (ok, out, err) = cclake(&[
        "generate",
        "--out",
        xs,
        "--days",
        "3",
        "--contacts-per-day",
        "200",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("contacts over 3 days"), "{out}");

    // One hand-made bad feed beside the generated exports.
    std::fs::create_dir_all(x.join("bad")).unwrap();
    std::fs::write(
        x.join("bad/feed.ndjson"),
        "{\"event_id\":\"1\",\"timestamp\":\"2026-10-01T10:00:00Z\"}\n{\"event_id\": \"2\", \"timest\n",
    )
    .unwrap();
    let (ok, out, err) = cclake(&["ingest", "--lake", ls, xs]);
    assert!(ok, "{err}");
    assert!(
        out.contains(" read = "),
        "per-file reconciliation lines: {out}"
    );
    assert!(
        out.contains("feed.ndjson: 2 read = 1 to Bronze + 1 quarantined"),
        "{out}"
    );
    assert!(
        out.contains("already ingested"),
        "the re-delivered copy is noticed: {out}"
    );
    assert!(out.contains("skipped, not a JSON export"), "{out}");
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("batch ") && last.contains("in Bronze"),
        "{last}"
    );

    let (ok, out, _) = cclake(&["status", "--lake", ls]);
    assert!(ok);
    assert!(
        out.contains("contact") && out.contains("agent_state") && out.contains("quarantine:"),
        "{out}"
    );
    let (ok, out, _) = cclake(&["quarantine", "--lake", ls]);
    assert!(ok);
    assert!(
        out.contains("bad/feed.ndjson:2 (byte 52)") && out.contains("invalid JSON"),
        "{out}"
    );
    assert!(
        out.contains("{\"event_id\": \"2\", \"timest"),
        "the raw text is shown: {out}"
    );
    let (ok, json, _) = cclake(&["status", "--lake", ls, "--json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let records: u64 = v["bronze"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["records"].as_u64().unwrap())
        .sum();
    assert_eq!(common::bronze_lines(&l).len() as u64, records);

    let before = common::walk(&l);
    let (ok, out, _) = cclake(&["ingest", "--lake", ls, xs]);
    assert!(ok);
    assert!(out.contains("0 files ingested"), "{out}");
    assert_eq!(before, common::walk(&l), "a second ingest writes nothing");
}

#[test]
fn errors_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let l = dir.path().join("l");
    let (ok, _, err) = cclake(&[
        "ingest",
        "--lake",
        l.to_str().unwrap(),
        "/no/such/export.json",
    ]);
    assert!(!ok);
    assert!(
        err.contains("/no/such/export.json") && err.contains("does not exist"),
        "{err}"
    );
    let (ok, _, err) = cclake(&["status", "--lake", "ftp://example/lake"]);
    assert!(!ok);
    assert!(err.contains("unsupported scheme"), "{err}");
}

#[test]
fn run_builds_silver_and_drift_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x");
    let l = dir.path().join("l");
    let (xs, ls) = (x.to_str().unwrap(), l.to_str().unwrap());
    let (ok, _, err) = cclake(&[
        "generate",
        "--out",
        xs,
        "--days",
        "6",
        "--contacts-per-day",
        "150",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = cclake(&["run", "--quiet", "--lake", ls, xs]);
    assert!(ok, "{err}");
    assert!(out.contains("Silver: 6 dates rebuilt"), "{out}");
    assert!(
        out.contains("duplicates dropped") && out.contains("masked"),
        "{out}"
    );
    let (ok, out, _) = cclake(&["process", "--lake", ls]);
    assert!(ok);
    assert!(out.contains("up to date"), "{out}");
    let (ok, out, _) = cclake(&[
        "process",
        "--lake",
        ls,
        "--from",
        "2026-10-02",
        "--to",
        "2026-10-03",
    ]);
    assert!(ok);
    assert!(out.contains("Silver: 2 dates rebuilt"), "{out}");
    let (ok, out, _) = cclake(&["drift", "--lake", ls]);
    assert!(ok);
    assert!(
        out.contains("sentiment_score") && out.contains("unmapped_status"),
        "{out}"
    );
    let (ok, out, _) = cclake(&["status", "--lake", ls]);
    assert!(ok);
    assert!(
        out.contains("silver/contacts") && out.contains("6 dates"),
        "{out}"
    );
    let (ok, _, err) = cclake(&[
        "process",
        "--lake",
        ls,
        "--from",
        "2026-10-05",
        "--to",
        "2026-10-01",
    ]);
    assert!(!ok && err.contains("is after"), "{err}");
}
