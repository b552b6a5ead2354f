//! Quarantine replay: records quarantined by yesterday's readers go through today's again.
//! A reader fix cannot happen inside a test, so the quarantined text of one record is put in
//! the form today's reader accepts, as a fixed reader would read the original; another record
//! still fails. `cclake quarantine --retry` moves the first into Bronze exactly once (and on
//! into Silver), keeps the second in quarantine with its new error, keeps the counts
//! reconciled, and a second retry changes nothing.

mod common;

use std::io::Write;

use common::*;

#[test]
fn a_retried_record_enters_bronze_once_and_what_still_fails_stays() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = common::lake(dir.path(), "lake");
    let lines = [
        record("ok-1", "2026-10-01T10:00:00Z"),
        // The occurrence time in a form this reader does not know.
        r#"{"event_id":"fixed-1","timestamp":"01.10.2026 10:05","queue_name":"Billing","outcome_status":"Completed","duration_seconds":60}"#.to_string(),
        // Cut off: no reader will ever read it.
        r#"{"event_id":"broken-1","timestamp":"2026-10-01T10:10:00Z","queue_na"#.to_string(),
    ];
    ingest_lines(&lake, dir.path(), "feed.ndjson", &lines);
    let (ok, out, _) = cclake_on(&root, &["quarantine", "--json"]);
    assert!(ok);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 2, "{out}");
    let qfile = rows[0]["file"].as_str().unwrap().to_string();

    // Stand-in for a reader fix: the quarantined text as the fixed reader would read it.
    let path = root.join(&qfile);
    let gz = std::fs::read(&path).unwrap();
    let text = String::from_utf8(cclake::lake::gzip::gunzip(&gz).unwrap()).unwrap();
    let fixed = text.replace("01.10.2026 10:05", "2026-10-01T10:05:00Z");
    assert_ne!(fixed, text);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(fixed.as_bytes()).unwrap();
    std::fs::write(&path, enc.finish().unwrap()).unwrap();

    let (ok, out, err) = cclake_on(&root, &["quarantine", "--retry", "--file", &qfile]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(
            "2 quarantined records from 1 files retried: 1 now in Bronze, 1 still failing"
        ),
        "{out}"
    );

    // In Bronze exactly once, in Silver, and what still fails is in quarantine with its error.
    let ids: Vec<String> = (bronze_lines(&root).into_iter())
        .map(|(_, l)| {
            serde_json::from_slice::<serde_json::Value>(&l).unwrap()["event_id"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(ids.iter().filter(|i| *i == "fixed-1").count(), 1, "{ids:?}");
    assert_eq!(ids.iter().filter(|i| *i == "ok-1").count(), 1, "{ids:?}");
    let rt = runtime();
    let silver = silver_rows(&rt, &lake);
    assert!(
        silver
            .iter()
            .any(|r| r["event_id"].as_deref() == Some("fixed-1"))
    );
    let q = quarantine_rows(&root);
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(q[0]["raw"].as_str().unwrap().contains("broken-1"));
    let (_, status, _) = cclake_on(&root, &["status"]);
    assert!(
        status.contains("+ retried 2") && !status.contains("DOES NOT ADD UP"),
        "{status}"
    );

    // Again: the broken record is retried and fails again; nothing enters Bronze twice.
    let (ok, out, err) = cclake_on(&root, &["quarantine", "--retry"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("0 now in Bronze, 1 still failing"), "{out}");
    let again = bronze_lines(&root).len();
    assert_eq!(again, ids.len());
    assert_eq!(quarantine_rows(&root).len(), 1);
    let (_, status, _) = cclake_on(&root, &["status"]);
    assert!(!status.contains("DOES NOT ADD UP"), "{status}");
}
