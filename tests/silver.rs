//! Silver end to end: Bronze in, one masked row per contact out, with lineage, drift, dedupe,
//! enrichment and incremental rebuilds; values checked against hand-computed expectations.

mod common;

use std::path::Path;

use cclake::lake::Lake;
use cclake::lake::delta;
use cclake::pipeline::JobProgress;
use cclake::silver::{self, ProcessMode};

use common::runtime as rt;

use common::process_silver as process;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

use common::{Row, silver_rows};

fn by_contact<'a>(rows: &'a [Row], id: &str) -> Vec<&'a Row> {
    rows.iter()
        .filter(|r| r["contact_id"].as_deref() == Some(id))
        .collect()
}

fn v<'a>(r: &'a Row, col: &str) -> Option<&'a str> {
    r[col].as_deref()
}

#[test]
fn one_caller_has_one_customer_key_in_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let g = r#"{"conversationId":"g1","conversationStart":"2026-09-01T10:00:00Z","participants":[{"purpose":"customer","sessions":[{"mediaType":"voice","ani":"tel:+13175550123"}]}]}"#;
    let c = r#"{"contactId":"c1","skillId":"1","skillName":"s","contactStart":"2026-09-01T11:00:00Z","fromAddr":"3175550123","abandoned":"False","agentSeconds":"10"}"#;
    let x = r#"{"event_id":"x1","timestamp":"2026-09-01T12:00:00Z","phone_number":"(317) 555-0123","outcome_status":"Completed"}"#;
    let f = write(dir.path(), "in.ndjson", &format!("{g}\n{c}\n{x}\n"));
    common::ingest(&lake, &[f]);
    let rt = rt();
    process(&rt, &lake, ProcessMode::Incremental);
    let rows = silver_rows(&rt, &lake);
    assert_eq!(rows.len(), 3);
    let expected = common::key().hash("+13175550123");
    for r in &rows {
        assert_eq!(v(r, "customer_key"), Some(expected.as_str()), "{r:?}");
        // The general preset hashes the phone column with the same key.
        assert_eq!(v(r, "phone_number"), Some(expected.as_str()));
    }
    let sources: Vec<_> = rows
        .iter()
        .map(|r| v(r, "source_system").unwrap())
        .collect();
    assert!(
        sources.contains(&"genesys") && sources.contains(&"cxone") && sources.contains(&"generic")
    );
}

#[test]
fn the_most_recently_ingested_copy_wins() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let rec = |id: &str, csat: u32, hour: u32| {
        format!(
            r#"{{"event_id":"{id}-{csat}","contact_id":"{id}","timestamp":"2026-09-01T{hour:02}:00:00Z","queue_name":"Billing","csat":{csat},"outcome_status":"Completed"}}"#
        )
    };
    // Within one file the later line wins.
    let a = write(
        dir.path(),
        "a.ndjson",
        &format!(
            "{}\n{}\n{}\n",
            rec("C1", 1, 9),
            rec("C2", 2, 9),
            rec("C1", 3, 9)
        ),
    );
    common::ingest(&lake, &[a]);
    let rt = rt();
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!((s.rows_in, s.rows_out, s.duplicates_dropped), (3, 2, 1));
    // A later ingest wins over an earlier one.
    let b = write(dir.path(), "b.ndjson", &format!("{}\n", rec("C1", 5, 9)));
    common::ingest(&lake, &[b]);
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!((s.rows_in, s.rows_out, s.duplicates_dropped), (4, 2, 2));
    let rows = silver_rows(&rt, &lake);
    let c1 = by_contact(&rows, "C1");
    assert_eq!(c1.len(), 1);
    assert_eq!(v(c1[0], "csat_score"), Some("5.0"));
    assert!(v(c1[0], "_source_file").unwrap().ends_with("b.ndjson"));
    assert!(
        v(c1[0], "_bronze_file")
            .unwrap()
            .starts_with("bronze/event_type=contact/year=2026/month=09/day=01/hour=09/b-")
    );
    assert_eq!(by_contact(&rows, "C2").len(), 1);
}

#[test]
fn duplicates_across_work_units_leave_the_summary_counting_only_kept_rows() {
    // 20,000 lines of one date in one file: more than one work unit, so copies of a contact
    // meet within a unit and across units. Line i has contact C(i % 15000): the 5,000 lowest
    // contacts come twice and the later line (i + 15000) wins. Only some lines carry a member
    // id, a note with a phone number or an unknown field, so counting a dropped copy shows.
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let mut text = String::new();
    for i in 0..20_000u32 {
        let mut extra = String::new();
        if i % 3 == 0 {
            extra.push_str(&format!(r#","member_id":"MBR{:09}""#, i));
        }
        if i % 4 == 0 {
            extra.push_str(r#","notes":"call me back on 317-555-0123 please""#);
        }
        if i % 5 == 0 {
            extra.push_str(&format!(r#","x_extra":{i}"#));
        }
        text.push_str(&format!(
            r#"{{"event_id":"e{i}","contact_id":"C{}","timestamp":"2026-09-01T{:02}:00:00Z","queue_name":"Billing","outcome_status":"Completed"{extra}}}"#,
            i % 15_000,
            i % 24
        ));
        text.push('\n');
    }
    let f = write(dir.path(), "big.ndjson", &text);
    common::ingest(&lake, &[f]);
    let rt = rt();
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!(
        (s.rows_in, s.rows_out, s.duplicates_dropped),
        (20_000, 15_000, 5_000)
    );
    let winners = || 5_000..20_000u32;
    let expect = |k: u32| winners().filter(|i| i % k == 0).count() as u64;
    assert_eq!(s.masked["member_id"].masked, expect(3));
    assert_eq!(s.masked["notes"].masked, expect(4));
    assert_eq!(s.masked["notes"].spans_scrubbed, expect(4));
    assert_eq!(s.rows_with_rescued_data, expect(5));
    assert_eq!(s.rescued_fields, expect(5));
    assert!(
        !s.masked.contains_key("phone_number"),
        "no phone column values"
    );

    // The table agrees: each contact once, as its later line.
    let rows = silver_rows(&rt, &lake);
    assert_eq!(rows.len(), 15_000);
    let mut events: Vec<u32> = rows
        .iter()
        .map(|r| v(r, "event_id").unwrap()[1..].parse().unwrap())
        .collect();
    events.sort_unstable();
    assert_eq!(events, winners().collect::<Vec<_>>());
    let count = |col: &str| rows.iter().filter(|r| v(r, col).is_some()).count() as u64;
    assert_eq!(count("member_id"), expect(3));
    assert_eq!(count("notes"), expect(4));
    assert_eq!(count("_rescued_data"), expect(5));
}

#[test]
fn incremental_runs_rebuild_only_the_touched_dates() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let day = |d: u32, id: &str| {
        format!(
            r#"{{"event_id":"{id}","timestamp":"2026-09-{d:02}T10:00:00Z","queue_name":"Q","outcome_status":"Completed"}}"#
        )
    };
    let f = write(
        dir.path(),
        "days.ndjson",
        &format!("{}\n{}\n{}\n", day(1, "a"), day(2, "b"), day(3, "c")),
    );
    common::ingest(&lake, &[f]);
    let rt = rt();
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!(s.dates.len(), 3);
    let files_before = rt
        .block_on(delta::table_stats(&lake, delta::SILVER_CONTACTS))
        .unwrap();

    // Nothing new: nothing rebuilt.
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert!(s.dates.is_empty());

    // A late file for day 2 rebuilds day 2 only.
    let late = write(dir.path(), "late.ndjson", &format!("{}\n", day(2, "b2")));
    common::ingest(&lake, &[late]);
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!(
        s.dates.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        vec!["2026-09-02"]
    );
    let files_after = rt
        .block_on(delta::table_stats(&lake, delta::SILVER_CONTACTS))
        .unwrap();
    for (b, a) in files_before.partitions.iter().zip(&files_after.partitions) {
        if a.date == "2026-09-02" {
            assert_eq!(a.rows, 2);
            assert!(a.last_modified >= b.last_modified);
        } else {
            assert_eq!(a, b, "untouched partition {} keeps its files", a.date);
        }
    }
    // The newest commit touched only the late date.
    let log = dir.path().join("lake/silver/contacts/_delta_log");
    let mut commits: Vec<_> = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    commits.sort();
    let last = std::fs::read_to_string(commits.last().unwrap()).unwrap();
    for line in last.lines() {
        let a: serde_json::Value = serde_json::from_str(line).unwrap();
        for kind in ["add", "remove"] {
            if let Some(x) = a.get(kind) {
                assert_eq!(x["partitionValues"]["date"], "2026-09-02", "{line}");
            }
        }
    }
    // A range rebuild touches exactly the range.
    let s = process(
        &rt,
        &lake,
        ProcessMode::Range {
            from: "2026-09-01".parse().unwrap(),
            to: "2026-09-02".parse().unwrap(),
        },
    );
    assert_eq!(s.dates.len(), 2);
    assert_eq!(silver_rows(&rt, &lake).len(), 4);
}

#[test]
fn drift_is_recorded_and_a_mapped_status_applies_on_reprocess() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let f = write(
        dir.path(),
        "feed.ndjson",
        concat!(
            r#"{"event_id":"1","timestamp":"2026-09-01T10:00:00Z","queue_name":"Q","duration_seconds":60,"outcome_status":"Callback Requested","sentiment_score":0.4}"#,
            "\n",
            r#"{"event_id":"2","timestamp":"2026-09-01T11:00:00Z","queue_name":"Q","duration_seconds":"sixty","outcome_status":"Completed"}"#,
            "\n",
        ),
    );
    common::ingest(&lake, &[f]);
    let rt = rt();
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!(s.unmapped_statuses, 1);
    let report = rt.block_on(silver::drift::report(&lake)).unwrap();
    let find = |field: &str, kind: &str| {
        report
            .iter()
            .find(|d| d.field == field && d.kind == kind)
            .cloned()
    };
    assert_eq!(find("sentiment_score", "new").unwrap().count, 1);
    assert_eq!(
        find("duration_seconds", "type_changed")
            .unwrap()
            .example
            .as_deref(),
        Some("sixty")
    );
    assert_eq!(
        find("outcome_status", "unmapped_status")
            .unwrap()
            .example
            .as_deref(),
        Some("Callback Requested")
    );
    let rows = silver_rows(&rt, &lake);
    let r1 = &by_contact(&rows, "1")[0];
    assert_eq!(v(r1, "outcome_status"), Some("unknown"));
    assert!(v(r1, "_rescued_data").unwrap().contains("sentiment_score"));
    let r2 = &by_contact(&rows, "2")[0];
    assert_eq!(v(r2, "duration_seconds"), None);
    assert_eq!(
        v(r2, "_rescued_data"),
        Some(r#"{"duration_seconds":"sixty"}"#)
    );

    // Map the status, rebuild: the drift is gone and the row is a callback.
    rt.block_on(async {
        let text = cclake::config::read_or_init(
            &lake,
            cclake::config::STATUS_MAP_FILE,
            cclake::config::DEFAULT_STATUS_MAP,
        )
        .await
        .unwrap();
        let text =
            silver::status_map::with_mapping(&text, "Callback Requested", "callback").unwrap();
        cclake::config::write(&lake, cclake::config::STATUS_MAP_FILE, &text)
            .await
            .unwrap();
    });
    let s = process(&rt, &lake, ProcessMode::Full);
    assert_eq!(s.unmapped_statuses, 0);
    let rows = silver_rows(&rt, &lake);
    assert_eq!(
        v(by_contact(&rows, "1")[0], "outcome_status"),
        Some("callback")
    );
    let report = rt.block_on(silver::drift::report(&lake)).unwrap();
    assert!(!report.iter().any(|d| d.kind == "unmapped_status"));
}

#[test]
fn generated_lake_keeps_no_planted_pii_and_one_row_per_contact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exports");
    let opts = cclake::demo::GenerateOptions {
        out: out.clone(),
        days: 5,
        contacts_per_day: 500,
        seed: 5,
        start: cclake::demo::GenerateOptions::default_start(),
    };
    let g = cclake::demo::generate(&opts, &JobProgress::new()).unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    common::ingest(&lake, std::slice::from_ref(&out));
    let rt = rt();
    rt.block_on(cclake::pipeline::demo::use_crm_extract(
        &lake,
        &out.join("crm/customers.csv"),
    ))
    .unwrap();
    let s = process(&rt, &lake, ProcessMode::Incremental);
    let rows = silver_rows(&rt, &lake);
    assert_eq!(rows.len() as u64, s.rows_out);

    // One row per contact: every generated contact except those that lost their timestamp.
    let c = &g.counts;
    let contacts = c.genesys_contacts
        + c.cxone_contacts
        + c.connect_contacts
        + c.generic_contacts
        + c.late_contacts
        - c.records_without_time;
    assert_eq!(rows.len() as u64, contacts);
    let mut keys = std::collections::HashSet::new();
    for r in &rows {
        assert!(keys.insert((
            v(r, "source_system").unwrap().to_string(),
            v(r, "contact_id").unwrap().to_string()
        )));
    }
    assert_eq!(
        s.duplicates_dropped,
        c.reexported_contacts + c.connect_updates,
        "the CXone re-export and the updated Connect records are the only duplicates"
    );

    // No planted PII value in any string column, in any of the forms it was planted in.
    let p = &g.planted_pii;
    let mut needles: Vec<String> = Vec::new();
    needles.extend(p.phones.iter().cloned());
    needles.extend(p.member_ids.iter().cloned());
    needles.extend(p.account_numbers.iter().cloned());
    needles.extend(p.emails.iter().cloned());
    for card in &p.card_numbers {
        needles.push(card.clone());
        needles.push(card.replace(' ', ""));
    }
    assert!(
        needles.len() > 500,
        "the generator planted PII ({})",
        needles.len()
    );
    let haystack: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.values().flatten().map(String::as_str))
        .collect();
    let needles: Vec<&String> = needles.iter().filter(|n| n.len() >= 8).collect();
    let mut leaks = Vec::new();
    for h in &haystack {
        for n in &needles {
            if h.contains(n.as_str()) {
                leaks.push(format!("{n} in {h}"));
            }
        }
        if leaks.len() > 5 {
            break;
        }
    }
    assert!(leaks.is_empty(), "planted PII found in Silver: {leaks:?}");

    // Rescued fields are visible, CRM columns are joined, notes were scrubbed, drift recorded.
    assert!(
        rows.iter()
            .filter(|r| v(r, "_rescued_data").is_some())
            .count()
            > rows.len() / 2
    );
    assert!(
        rows.iter()
            .any(|r| v(r, "_rescued_data").is_some_and(|x| x.contains("sentiment_score")))
    );
    let enriched = rows
        .iter()
        .filter(|r| v(r, "customer_tier").is_some())
        .count();
    assert!(
        enriched > rows.len() / 3,
        "CRM matched {enriched} of {}",
        rows.len()
    );
    assert!(
        rows.iter()
            .any(|r| v(r, "notes").is_some_and(|n| n.contains("[PAN]")
                || n.contains("[EMAIL]")
                || n.contains("[PHONE]")))
    );
    assert!(
        rows.iter()
            .all(|r| v(r, "_policy_version") == Some(s.policy_version.as_str()))
    );
    let report = rt.block_on(silver::drift::report(&lake)).unwrap();
    assert!(
        report
            .iter()
            .any(|d| d.shape == "generic" && d.field == "sentiment_score" && d.kind == "new")
    );
}

#[test]
fn a_run_that_died_before_recording_its_work_is_redone_to_the_same_result() {
    // Dying after the Delta commits but before the state file is written looks, to the next
    // run, exactly like this: the commits are there, the state is not.
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let rec = |d: u32, id: &str| {
        format!(
            r#"{{"event_id":"{id}","timestamp":"2026-09-{d:02}T10:00:00Z","queue_name":"Q","phone_number":"317-555-01{d:02}","outcome_status":"Completed"}}"#
        )
    };
    let f = write(
        dir.path(),
        "in.ndjson",
        &format!("{}\n{}\n", rec(1, "a"), rec(2, "b")),
    );
    common::ingest(&lake, &[f]);
    let rt = rt();
    process(&rt, &lake, ProcessMode::Incremental);
    let mut before = silver_rows(&rt, &lake);
    std::fs::remove_file(dir.path().join("lake/silver/_cclake_state.json")).unwrap();
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!(s.dates.len(), 2, "the unrecorded dates are rebuilt");
    let mut after = silver_rows(&rt, &lake);
    before.sort_by(|a, b| a["contact_id"].cmp(&b["contact_id"]));
    after.sort_by(|a, b| a["contact_id"].cmp(&b["contact_id"]));
    assert_eq!(before, after);
    assert_eq!(after.len(), 2);
}

#[test]
fn crm_from_parquet_joined_on_contact_id() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    // A Parquet CRM extract keyed by contact id.
    let schema = Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new("contact_id", arrow::datatypes::DataType::Utf8, false),
        arrow::datatypes::Field::new("customer_tier", arrow::datatypes::DataType::Utf8, true),
        arrow::datatypes::Field::new("product_type", arrow::datatypes::DataType::Utf8, true),
        arrow::datatypes::Field::new("account_owner", arrow::datatypes::DataType::Utf8, true),
    ]));
    let batch = arrow::record_batch::RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arrow::array::StringArray::from(vec!["C1", "C9"])),
            Arc::new(arrow::array::StringArray::from(vec![
                Some("Gold"),
                Some("Bronze"),
            ])),
            Arc::new(arrow::array::StringArray::from(vec![
                Some("Fiber 1G"),
                None,
            ])),
            Arc::new(arrow::array::StringArray::from(vec![
                Some("Dana"),
                Some("Luis"),
            ])),
        ],
    )
    .unwrap();
    let crm = dir.path().join("crm.parquet");
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&crm).unwrap(), schema, None)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    rt().block_on(async {
        let text = cclake::config::read_or_init(
            &lake,
            cclake::config::PIPELINE_FILE,
            cclake::config::DEFAULT_PIPELINE,
        )
        .await
        .unwrap();
        let text = text
            .replacen(
                "source = \"\"",
                &format!("source = \"{}\"", crm.display()),
                1,
            )
            .replacen("join = \"phone\"", "join = \"contact_id\"", 1)
            .replacen(
                "key_column = \"phone_number\"",
                "key_column = \"contact_id\"",
                1,
            );
        cclake::config::write(&lake, cclake::config::PIPELINE_FILE, &text)
            .await
            .unwrap();
    });
    let rec = |id: &str| {
        format!(
            r#"{{"event_id":"{id}","contact_id":"{id}","timestamp":"2026-09-01T10:00:00Z","queue_name":"Q","outcome_status":"Completed"}}"#
        )
    };
    let f = write(
        dir.path(),
        "in.ndjson",
        &format!("{}\n{}\n", rec("C1"), rec("C2")),
    );
    common::ingest(&lake, &[f]);
    let rt = rt();
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!((s.crm_rows, s.crm_matched), (2, 1));
    let rows = silver_rows(&rt, &lake);
    let c1 = by_contact(&rows, "C1")[0];
    assert_eq!(
        (
            v(c1, "customer_tier"),
            v(c1, "product_type"),
            v(c1, "account_owner")
        ),
        (Some("Gold"), Some("Fiber 1G"), Some("Dana"))
    );
    let c2 = by_contact(&rows, "C2")[0];
    assert_eq!(v(c2, "customer_tier"), None);
}
