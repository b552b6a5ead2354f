//! Bronze ingest end to end: every input form lands byte for byte in its occurrence hour, bad
//! input goes to quarantine with its location, re-ingest is a no-op, and the counts reconcile.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use cclake::bronze::FileOutcome;
use cclake::lake::Lake;
use common::*;

fn lake_in(dir: &std::path::Path) -> Lake {
    Lake::open(dir.join("lake").to_str().unwrap()).unwrap()
}

/// The hour folder a record must land in, computed by hand for each case.
fn hour_dir(event_type: &str, y: u32, m: u32, d: u32, h: u32) -> String {
    format!("bronze/event_type={event_type}/year={y:04}/month={m:02}/day={d:02}/hour={h:02}")
}

#[test]
fn every_input_form_lands_verbatim_in_its_occurrence_hour() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in");
    std::fs::create_dir_all(&inp).unwrap();

    // (file, content, [(exact record bytes, expected hour dir)])
    let g1 = r#"{"conversationId":"g-1","conversationStart":"2026-09-01T10:15:00.000Z","participants":[{"purpose":"customer"}]}"#;
    let g2 = r#"{"conversationId":"g-2", "conversationStart":"2026-09-01T12:59:59+02:00", "participants":[]}"#;
    let c1 = r#"{"contactId":"101","skillId":"4101","contactStart":"2026-09-02T23:30:00.000Z","abandoned":"False"}"#;
    let c2 =
        r#"{"contactId":"102","masterContactId":"102","contactStartDate":"2026-09-02 08:00:00"}"#;
    let x1 = r#"{"event_id":"e1","timestamp":1788271392000,"queue_name":"Billing"}"#;
    let x2 =
        r#"{"event_id":"e2","event_occurrence_timestamp":"1788271392","event_type":"Agent_State"}"#;
    let x3 = r#"{"event_id":"e3","start_time":"2026-09-01T14:03:12"}"#;
    let x4 = r#"{"event_id":"e4","occurred_at":"2026-09-01T09:03:12.5-05:00"}"#;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("genesys_page.json", format!(r#"{{"conversations":[{g1},{g2}],"cursor":"abc","totalHits":2}}"#).into_bytes()),
        ("cxone.json", format!("{{\n  \"resultSet\": {{\n    \"totalRecords\": 2,\n    \"completedContacts\": [\n      {c1},\n      {c2}\n    ]\n  }}\n}}\n").into_bytes()),
        ("events.ndjson", format!("{x1}\n\n{x2}\r\n").into_bytes()),
        ("array.json", format!("[\n {x3},\n {x4}\n]").into_bytes()),
        // gzip under a name without an extension (as Firehose delivers): read by content
        ("single_record", gz(x1.replace("e1", "e5").as_bytes())),
        ("entities.json", format!(r#"{{"entities":[{x3}],"pageSize":1}}"#).replace("e3", "e6").into_bytes()),
    ];
    for (name, bytes) in &files {
        std::fs::write(inp.join(name), bytes).unwrap();
    }
    let lake = lake_in(dir.path());
    let s = ingest(&lake, std::slice::from_ref(&inp));
    assert_eq!(s.failed(), 0);
    assert_eq!(
        s.quarantined(),
        0,
        "{:?}",
        quarantine_rows(lake.local_root().unwrap())
    );

    let expected: Vec<(String, String)> = vec![
        (g1.into(), hour_dir("contact", 2026, 9, 1, 10)),
        (g2.into(), hour_dir("contact", 2026, 9, 1, 10)),
        (c1.into(), hour_dir("contact", 2026, 9, 2, 23)),
        (c2.into(), hour_dir("contact", 2026, 9, 2, 8)),
        (x1.into(), hour_dir("contact", 2026, 9, 1, 14)),
        (x2.into(), hour_dir("agent_state", 2026, 9, 1, 14)),
        (x3.into(), hour_dir("contact", 2026, 9, 1, 14)),
        (x4.into(), hour_dir("contact", 2026, 9, 1, 14)),
        (x1.replace("e1", "e5"), hour_dir("contact", 2026, 9, 1, 14)),
        (x3.replace("e3", "e6"), hour_dir("contact", 2026, 9, 1, 14)),
    ];
    let mut got: Vec<(String, String)> = bronze_lines(lake.local_root().unwrap())
        .into_iter()
        .map(|(path, line)| {
            let dir = path.rsplit_once('/').unwrap().0.to_string();
            (String::from_utf8(line).unwrap(), dir)
        })
        .collect();
    got.sort();
    let mut want = expected;
    want.sort();
    assert_eq!(got, want);

    // File names: <stem>_<YYYYMMDD_HHMM>_<batch>.json.gz
    for (path, _) in bronze_lines(lake.local_root().unwrap()) {
        let name = path.rsplit('/').next().unwrap();
        let parts: Vec<&str> = name.trim_end_matches(".json.gz").split('_').collect();
        assert_eq!(parts.len(), 4, "{name}");
        assert_eq!(parts[1].len(), 8);
        assert_eq!(parts[2].len(), 4);
        assert_eq!(parts[3], s.batch_id);
    }
}

#[test]
fn bad_input_is_quarantined_with_where_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in");
    std::fs::create_dir_all(&inp).unwrap();
    let good = r#"{"event_id":"ok","timestamp":"2026-09-01T10:00:00Z"}"#;
    let content = format!(
        "{good}\n{{\"event_id\": \"cut\", \"timest\n{}\n{{\"event_id\":\"no-time\"}}\n{{\"event_id\":\"bad-time\",\"timestamp\":\"next tuesday\"}}\n[1,2]\n",
        good.replace("ok", "ok2")
    );
    std::fs::write(inp.join("feed.ndjson"), &content).unwrap();
    // A gzip file cut short: the records before the damage stay, the file is kept whole.
    let full = gz(format!("{good}\n").repeat(2000).as_bytes());
    std::fs::write(inp.join("truncated.json.gz"), &full[..full.len() - 40]).unwrap();

    let lake = lake_in(dir.path());
    let s = ingest(&lake, std::slice::from_ref(&inp));
    let root = lake.local_root().unwrap();
    let q = quarantine_rows(root);
    let feed: Vec<_> = q
        .iter()
        .filter(|r| r["source_file"].as_str().unwrap().ends_with("feed.ndjson"))
        .collect();
    let by_line: BTreeMap<u64, &serde_json::Value> = feed
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), *r))
        .collect();
    assert_eq!(
        by_line.keys().copied().collect::<Vec<_>>(),
        vec![2, 4, 5, 6]
    );
    assert_eq!(by_line[&2]["raw"], "{\"event_id\": \"cut\", \"timest");
    assert!(
        by_line[&2]["error"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );
    assert!(
        by_line[&4]["error"]
            .as_str()
            .unwrap()
            .contains("no occurrence time")
    );
    assert!(
        by_line[&5]["error"]
            .as_str()
            .unwrap()
            .contains("next tuesday")
    );
    assert_eq!(
        by_line[&5]["raw"],
        r#"{"event_id":"bad-time","timestamp":"next tuesday"}"#
    );
    // An array on a line is a list of records; its two numbers are not records.
    assert_eq!(feed.iter().filter(|r| r["line"] == 6).count(), 2);
    assert!(
        by_line[&6]["error"]
            .as_str()
            .unwrap()
            .contains("not a JSON object")
    );
    let offset = by_line[&2]["byte_offset"].as_u64().unwrap() as usize;
    assert!(content[offset..].starts_with("{\"event_id\": \"cut\""));

    let trunc = q
        .iter()
        .find(|r| {
            r["source_file"]
                .as_str()
                .unwrap()
                .ends_with("truncated.json.gz")
        })
        .unwrap();
    assert!(
        trunc["error"]
            .as_str()
            .unwrap()
            .contains("whole original file")
    );
    use base64::Engine;
    let kept = base64::engine::general_purpose::STANDARD
        .decode(trunc["raw_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(kept, full[..full.len() - 40].to_vec());

    // records read = Bronze + quarantined, for every file, in the ledger and on disk.
    for row in ledger_rows(root) {
        assert_eq!(
            row["records"].as_u64().unwrap(),
            row["bronze_records"].as_u64().unwrap() + row["quarantined"].as_u64().unwrap(),
            "{row}"
        );
    }
    let feed_row = s
        .ingested()
        .find(|e| e.source_path.ends_with("feed.ndjson"))
        .unwrap();
    assert_eq!(
        (
            feed_row.records,
            feed_row.bronze_records,
            feed_row.quarantined
        ),
        (7, 2, 5)
    );
    let lines = bronze_lines(root);
    assert_eq!(lines.len() as u64, s.bronze_records());
    assert!(
        s.bronze_records() > 2,
        "records before the gzip damage are kept"
    );
}

#[test]
fn re_ingesting_the_same_bytes_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in");
    std::fs::create_dir_all(&inp).unwrap();
    std::fs::write(
        inp.join("a.ndjson"),
        "{\"event_id\":\"1\",\"timestamp\":\"2026-09-01T10:00:00Z\"}\n",
    )
    .unwrap();
    let lake = lake_in(dir.path());
    let first = ingest(&lake, std::slice::from_ref(&inp));
    assert_eq!(first.ingested().count(), 1);
    let before = walk(lake.local_root().unwrap());

    // Same bytes under another name, and the same folder again.
    std::fs::copy(inp.join("a.ndjson"), dir.path().join("copy.json")).unwrap();
    let second = ingest(&lake, &[inp.clone(), dir.path().join("copy.json")]);
    assert_eq!(second.ingested().count(), 0);
    assert_eq!(second.already_ingested(), 2);
    assert!(
        second
            .outcomes
            .iter()
            .all(|o| matches!(o, FileOutcome::AlreadyIngested { .. }))
    );
    let after = walk(lake.local_root().unwrap());
    assert_eq!(before, after, "a second ingest must not write any file");
}

#[test]
fn a_late_record_lands_in_its_old_hour_beside_the_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(dir.path());
    let day1 = dir.path().join("day1.ndjson");
    std::fs::write(
        &day1,
        "{\"event_id\":\"a\",\"timestamp\":\"2026-09-01T10:05:00Z\"}\n",
    )
    .unwrap();
    ingest(&lake, &[day1]);
    let late = dir.path().join("late.ndjson");
    std::fs::write(
        &late,
        "{\"event_id\":\"b\",\"timestamp\":\"2026-09-01T10:55:00Z\"}\n",
    )
    .unwrap();
    ingest(&lake, &[late]);
    let hour = lake
        .local_root()
        .unwrap()
        .join(hour_dir("contact", 2026, 9, 1, 10));
    let names: Vec<_> = std::fs::read_dir(hour)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "the late file sits beside the first: {names:?}"
    );
}

#[test]
fn generated_exports_reconcile_with_the_generator_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exports");
    let opts = cclake::demo::GenerateOptions {
        out: out.clone(),
        days: 6,
        contacts_per_day: 400,
        seed: 11,
        start: cclake::demo::GenerateOptions::default_start(),
    };
    let g = cclake::demo::generate(&opts, &cclake::pipeline::JobProgress::new()).unwrap();
    let lake = lake_in(dir.path());
    let s = ingest(&lake, std::slice::from_ref(&out));
    let c = &g.counts;
    // The byte-identical re-delivery is skipped; everything else is read once.
    let expected_read = c.genesys_contacts
        + c.cxone_contacts
        + c.connect_contacts
        + c.connect_updates
        + c.contact_events
        + c.generic_contacts
        + c.agent_state_events
        + c.late_contacts
        + c.reexported_contacts
        + c.malformed_lines;
    assert_eq!(s.records(), expected_read);
    assert_eq!(s.quarantined(), c.malformed_lines + c.records_without_time);
    assert_eq!(s.already_ingested(), 1);
    assert_eq!(s.skipped.len(), 1, "the CRM CSV is not ingested");
    let lines = bronze_lines(lake.local_root().unwrap());
    assert_eq!(lines.len() as u64, s.bronze_records());
    let agent_states = lines
        .iter()
        .filter(|(p, _)| p.contains("event_type=agent_state/"))
        .count() as u64;
    assert_eq!(agent_states, c.agent_state_events);
    let contact_events = lines
        .iter()
        .filter(|(p, _)| p.contains("event_type=contact_event/"))
        .count() as u64;
    assert_eq!(contact_events, c.contact_events);
    assert!(c.connect_updates > 0 && c.contact_events > 0);
    // Every Bronze line is valid JSON and is exactly one record.
    for (_, line) in lines.iter().take(2000) {
        serde_json::from_slice::<serde_json::Value>(line).unwrap();
    }
    // Shapes were recognised.
    let mut shapes: HashMap<String, u64> = HashMap::new();
    for e in s.ingested() {
        for (k, v) in &e.shapes {
            *shapes.entry(k.clone()).or_default() += v;
        }
    }
    assert_eq!(shapes["genesys"], c.genesys_contacts + c.late_contacts);
    assert_eq!(shapes["cxone"], c.cxone_contacts + c.reexported_contacts);
    assert_eq!(shapes["connect"], c.connect_contacts + c.connect_updates);
    assert_eq!(
        shapes["generic"],
        c.generic_contacts + c.agent_state_events + c.contact_events - c.records_without_time
    );
}

#[test]
fn inputs_that_do_not_exist_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let missing = PathBuf::from("/definitely/not/here.json");
    let err = rt
        .block_on(async {
            let l = lake.clone();
            tokio::task::spawn_blocking(move || {
                cclake::bronze::ingest(
                    &l,
                    &[missing],
                    &Default::default(),
                    &cclake::pipeline::JobProgress::new(),
                )
            })
            .await
            .unwrap()
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("/definitely/not/here.json"),
        "{err}"
    );
}

#[test]
fn object_store_lakes_ingest_through_the_same_path() {
    // memory:// exercises everything a cloud lake does (no local root, list-based rollback).
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.ndjson");
    std::fs::write(
        &f,
        "{\"event_id\":\"1\",\"timestamp\":\"2026-09-01T10:00:00Z\"}\n{\"event_id\":\"2\"}\n",
    )
    .unwrap();
    let lake = Lake::open("memory://").unwrap();
    assert!(lake.local_root().is_none());
    let s = ingest(&lake, std::slice::from_ref(&f));
    assert_eq!((s.bronze_records(), s.quarantined()), (1, 1));
    let s = ingest(&lake, &[f]);
    assert_eq!(s.already_ingested(), 1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let inv = rt
        .block_on(cclake::lake::inventory::inventory(&lake))
        .unwrap();
    assert_eq!(
        (
            inv.bronze_records(),
            inv.quarantine_records,
            inv.ingested_inputs
        ),
        (1, 1, 1)
    );
}
