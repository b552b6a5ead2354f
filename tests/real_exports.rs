//! Real exports, end to end: files shaped as Genesys Cloud, NICE CXone and Amazon Connect
//! publish them (warts included: metrics repeated per segment, string numbers, SIP URIs, a
//! missing end, Firehose's back-to-back records, envelopes around a single record) go through
//! ingest and process, and every Silver value is checked against what the platform's own
//! metric definitions give, worked out by hand in the comments. The fixtures are in
//! `tests/fixtures/real/`.

mod common;

use std::path::{Path, PathBuf};

use cclake::lake::Lake;
use cclake::silver::ProcessMode;
use common::Row;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(name)
}

/// A fresh lake holding every fixture: the Firehose file gzip-compressed under an object name
/// without an extension, as Firehose writes it to S3.
fn lake_with_fixtures(dir: &Path) -> Lake {
    let inputs = dir.join("exports");
    std::fs::create_dir_all(&inputs).unwrap();
    for name in [
        "genesys_transfer_not_responding.json",
        "genesys_details_page.json",
        "genesys_web_messaging.json",
        "genesys_ivr_and_open.ndjson",
        "cxone_contact_details.json",
        "connect_contact_event.json",
    ] {
        std::fs::copy(fixture(name), inputs.join(name)).unwrap();
    }
    let firehose = std::fs::read(fixture("connect_ctr_firehose.json")).unwrap();
    std::fs::write(
        inputs.join("ctr-stream-1-2026-10-07-15-03-02-0f8e1c2a"),
        common::gz(&firehose),
    )
    .unwrap();
    let lake = Lake::open(dir.join("lake").to_str().unwrap()).unwrap();
    common::ingest(&lake, &[inputs]);
    lake
}

fn process(rt: &tokio::runtime::Runtime, lake: &Lake) {
    common::process(rt, lake, ProcessMode::Full);
}

fn row<'a>(rows: &'a [Row], contact: &str) -> &'a Row {
    let found: Vec<&Row> = rows
        .iter()
        .filter(|r| r["contact_id"].as_deref() == Some(contact))
        .collect();
    assert_eq!(found.len(), 1, "one Silver row for {contact}");
    found[0]
}

fn text<'a>(r: &'a Row, col: &str) -> Option<&'a str> {
    r[col].as_deref()
}

fn num(r: &Row, col: &str) -> Option<f64> {
    r[col].as_deref().map(|v| v.parse().unwrap())
}

fn hash(value: &str) -> String {
    common::key().hash(value)
}

/// The columns that say what happened to a contact, in one tuple to compare at once.
#[allow(clippy::type_complexity)]
fn facts(
    r: &Row,
) -> (
    Option<&str>,
    Option<&str>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<&str>,
) {
    (
        text(r, "answered"),
        text(r, "abandoned"),
        num(r, "wait_seconds"),
        num(r, "talk_seconds"),
        num(r, "hold_seconds"),
        num(r, "acw_seconds"),
        num(r, "duration_seconds"),
        text(r, "outcome_status"),
    )
}

#[test]
fn real_exports_give_the_platforms_own_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_with_fixtures(dir.path());
    let rt = common::runtime();
    process(&rt, &lake);
    let rows = common::silver_rows(&rt, &lake);

    // Genesys: IVR → queue → an agent who did not answer (nError, tNotResponding, but 57 s
    // of after-call work and its own wrap-up) → the agent who answered. tAnswered is on the
    // answering agent's session; the acd session only has nOffered and tAcd.
    let r = row(&rows, "32d23263-e5bd-4567-bff3-143e38f7b095");
    assert_eq!(
        facts(r),
        (
            Some("true"),
            Some("false"),
            Some(12.411),  // tAnswered of the answering agent
            Some(374.894), // tTalk (tTalkComplete repeats it: not added)
            None,          // nobody held
            Some(60.0),    // tAcw 57,000 (not-responding agent) + 3,000
            Some(434.894), // tHandle 57,000 + 377,894
            Some("handled"),
        )
    );
    assert_eq!(
        text(r, "agent_id"),
        Some("2eb54224-120e-47b0-aab1-8c2daeac20d9")
    );
    assert_eq!(text(r, "wrap_up_code"), Some("ININ-WRAP-UP-TIMEOUT"));
    assert_eq!(
        text(r, "queue_id"),
        Some("39988345-a7c5-4ce5-851e-334cb54efc79")
    );
    assert_eq!(text(r, "queue_name"), Some("Ouvidoria RS"));
    assert_eq!(
        (text(r, "media_type"), text(r, "direction")),
        (Some("voice"), Some("inbound"))
    );
    // `sip:+5551999599880@10.27.12.4;user=phone` is the caller's E.164 number.
    assert_eq!(
        text(r, "customer_key"),
        Some(hash("+5551999599880").as_str())
    );
    assert!(
        text(r, "occurred_at")
            .unwrap()
            .starts_with("2024-04-29T17:30:43.090")
    );
    assert!(
        text(r, "ended_at")
            .unwrap()
            .starts_with("2024-04-29T17:38:17.974")
    );
    // Identifiers in rescued data stay whole (no `[MEMBER_ID]-0427-…`).
    let rescued = text(r, "_rescued_data").unwrap();
    assert!(
        rescued.contains("bb150765-0427-47c1-a541-4460d0032ef0"),
        "{rescued}"
    );

    // A held call: tTalk three times, tHeld twice, then the totals, which are not added.
    let r = row(&rows, "6f1e9d3a-3c1b-4c51-9a0e-5b2f4d7c8e01");
    assert_eq!(
        facts(r),
        (
            Some("true"),
            Some("false"),
            Some(8.0),
            Some(125.0), // 60 + 45 + 20
            Some(45.0),  // 30 + 15
            Some(25.0),
            Some(195.0), // tHandle
            Some("handled"),
        )
    );
    assert_eq!(
        text(r, "notes"),
        Some("Caller asked about claim; callback on [PHONE], card [PAN] on file")
    );
    assert_eq!(
        (text(r, "wrap_up_code"), num(r, "csat_score")),
        (Some("Claim Status"), Some(4.0))
    );
    assert_eq!(text(r, "member_id"), Some(hash("MBR123456789").as_str()));
    // Timestamps with two fractional digits.
    assert!(
        text(r, "occurred_at")
            .unwrap()
            .starts_with("2026-10-05T14:02:11.520")
    );

    // Hung up in queue after 45 s: tAbandon on the acd session, no agent.
    let r = row(&rows, "0b7d5e2a-1f3c-4e6d-8a9b-2c4e6f8a0b1d");
    assert_eq!(
        facts(r),
        (
            Some("false"),
            Some("true"),
            Some(45.0),
            None,
            None,
            None,
            None,
            Some("abandoned")
        )
    );
    assert_eq!(text(r, "agent_id"), None);
    assert_eq!(text(r, "queue_name"), Some("Claims"));

    // Web messaging: tTalk 21 times and tHeld 20 times in one session; no ani, so no phone.
    let r = row(&rows, "9a4c1e77-5b2d-4f3a-8e6c-0d1f2a3b4c5d");
    assert_eq!(
        facts(r),
        (
            Some("true"),
            Some("false"),
            Some(15.23),
            Some(231.0), // 1 + 2 + … + 21 seconds
            Some(105.0), // 0.5 + 1 + … + 10 seconds
            Some(30.0),
            Some(366.0),
            Some("handled"),
        )
    );
    assert_eq!(text(r, "media_type"), Some("message"));
    assert_eq!(
        (text(r, "phone_number"), text(r, "customer_key")),
        (None, None)
    );
    assert_eq!(text(r, "wrap_up_code"), Some("Password Reset"));

    // IVR only: never reached a queue, so neither answered nor abandoned.
    let r = row(&rows, "3e5f7a9b-1c2d-4e3f-8a4b-5c6d7e8f9a0b");
    assert_eq!(
        facts(r),
        (
            Some("false"),
            Some("false"),
            None,
            None,
            None,
            None,
            None,
            Some("unknown")
        )
    );
    assert_eq!((text(r, "queue_id"), text(r, "agent_id")), (None, None));

    // Still open: no conversationEnd; answered after 6.1 s, no talk time emitted yet. The
    // customer is an `external` participant calling from a SIP URI.
    let r = row(&rows, "7b9d1f3a-5c7e-4a9b-8d1f-3a5c7e9b1d3f");
    assert_eq!(
        facts(r),
        (
            Some("true"),
            Some("false"),
            Some(6.1),
            None,
            None,
            None,
            None,
            Some("handled")
        )
    );
    assert_eq!(text(r, "ended_at"), None);
    assert_eq!(
        text(r, "customer_key"),
        Some(hash("+442079460958").as_str())
    );

    // CXone contacts/{id}: one contact as the result set, every value a string. Talk is
    // agentSeconds − holdSeconds; handle is agentSeconds + ACWSeconds.
    let r = row(&rows, "604856324");
    assert_eq!(
        facts(r),
        (
            Some("true"),
            Some("false"),
            Some(47.0),
            Some(292.0),
            Some(20.0),
            Some(55.0),
            Some(367.0),
            Some("handled"),
        )
    );
    assert_eq!(
        (
            text(r, "agent_id"),
            text(r, "queue_id"),
            text(r, "queue_name")
        ),
        (Some("5123"), Some("4101"), Some("Card Services"))
    );
    // Empty strings are null.
    assert_eq!(
        (
            text(r, "notes"),
            text(r, "csat_score"),
            text(r, "account_number")
        ),
        (None, None, None)
    );

    // Amazon Connect: the update (ACW done) wins over the first delivery by
    // LastUpdateTimestamp, although the first delivery comes later in the file.
    let r = row(&rows, "15a5cf14-3212-45a1-9f86-a8e97db8afaf");
    assert_eq!(
        facts(r),
        (
            Some("true"),
            Some("false"),
            Some(7.0),  // Queue.Duration
            Some(33.0), // Agent.AgentInteractionDuration
            Some(0.0),  // Agent.CustomerHoldDuration
            Some(32.0), // Agent.AfterContactWorkDuration (null in the first delivery)
            Some(65.0),
            Some("handled"),
        )
    );
    assert_eq!(
        (
            text(r, "agent_id"),
            text(r, "queue_id"),
            text(r, "queue_name")
        ),
        (
            Some("57db30ae-8c01-44e6-abd5-80b7b51944cf"),
            Some("c677a7a5-1d56-4ce3-a890-79fc53f7fe3f"),
            Some("BasicQueue")
        )
    );
    assert_eq!(
        (
            text(r, "media_type"),
            text(r, "direction"),
            text(r, "outcome_raw")
        ),
        (Some("voice"), Some("inbound"), Some("CUSTOMER_DISCONNECT"))
    );
    // Attributes are rescued and scrubbed; the recording's name keeps the contact id whole.
    let rescued = text(r, "_rescued_data").unwrap();
    assert!(
        rescued.contains(r#""callbackNumber":"[PHONE]""#),
        "{rescued}"
    );
    assert!(!rescued.contains("3175550123"), "{rescued}");
    assert!(
        rescued.contains("15a5cf14-3212-45a1-9f86-a8e97db8afaf_20261007T15:00_UTC.wav"),
        "{rescued}"
    );
    // Queued for 95 s and no agent connected: abandoned.
    let r = row(&rows, "4c8e0f2a-6b1d-4f3e-9a5c-7e1b3d5f7a9c");
    assert_eq!(
        facts(r),
        (
            Some("false"),
            Some("true"),
            Some(95.0),
            None,
            None,
            None,
            None,
            Some("abandoned")
        )
    );

    // One caller (+1 317-555-0123) through Genesys (tel:), CXone (national format) and
    // Connect (E.164): one customer key.
    let key = hash("+13175550123");
    for id in [
        "6f1e9d3a-3c1b-4c51-9a0e-5b2f4d7c8e01",
        "604856324",
        "15a5cf14-3212-45a1-9f86-a8e97db8afaf",
    ] {
        assert_eq!(
            text(row(&rows, id), "customer_key"),
            Some(key.as_str()),
            "{id}"
        );
    }
    assert_eq!(rows.len(), 9, "every contact once, the re-delivery folded");
    let sources: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| text(r, "source_system"))
        .collect();
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        vec!["connect", "cxone", "genesys"]
    );
}

#[test]
fn every_file_reconciles_and_connect_events_are_bronze_events() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_with_fixtures(dir.path());
    let ledger = common::ledger_rows(&dir.path().join("lake"));
    let by_name = |name: &str| {
        ledger
            .iter()
            .find(|e| e["source_path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} in the ledger"))
    };
    let counts = |e: &serde_json::Value| {
        (
            e["records"].as_u64().unwrap(),
            e["bronze_records"].as_u64().unwrap(),
            e["quarantined"].as_u64().unwrap(),
        )
    };
    let firehose = by_name("ctr-stream-1-2026-10-07-15-03-02-0f8e1c2a");
    assert_eq!(counts(firehose), (3, 3, 0));
    assert_eq!(firehose["format"], "concatenated");
    assert_eq!(firehose["gzip"], true);
    assert_eq!(counts(by_name("cxone_contact_details.json")), (1, 1, 0));
    assert_eq!(
        counts(by_name("genesys_transfer_not_responding.json")),
        (1, 1, 0)
    );
    assert_eq!(counts(by_name("genesys_details_page.json")), (2, 2, 0));
    assert_eq!(counts(by_name("connect_contact_event.json")), (1, 1, 0));
    // The EventBridge event is kept whole (its own time and id are in the envelope) in the
    // hour of its `time`, as a contact event: not a contact.
    let lines = common::bronze_lines(&dir.path().join("lake"));
    let events: Vec<&(String, Vec<u8>)> = lines
        .iter()
        .filter(|(p, _)| p.contains("event_type=contact_event/"))
        .collect();
    assert_eq!(events.len(), 1);
    assert!(
        events[0]
            .0
            .starts_with("bronze/event_type=contact_event/year=2026/month=10/day=07/hour=15/")
    );
    let event: serde_json::Value = serde_json::from_slice(&events[0].1).unwrap();
    assert_eq!(event["detail"]["eventType"], "CONNECTED_TO_AGENT");
    drop(lake);
}

#[test]
fn json_without_records_is_quarantined_whole_never_zero_records() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    let files = [
        (
            "empty_page.json",
            r#"{"conversations": [], "totalHits": 0}"#,
        ),
        ("empty_array.json", "[]"),
        ("cursor_only.json", r#"{"cursor": null, "totalHits": 0}"#),
        (
            "cxone_empty.json",
            r#"{"resultSet": {"totalRecords": 0, "completedContacts": []}}"#,
        ),
    ];
    for (name, text) in files {
        std::fs::write(inputs.join(name), text).unwrap();
    }
    // A blank file holds no JSON value: zero records is right for it.
    std::fs::write(inputs.join("blank.json"), "\n\n").unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let summary = common::ingest(&lake, &[inputs]);
    for e in summary.ingested() {
        let blank = e.source_path.ends_with("blank.json");
        let want = if blank { (0, 0, 0) } else { (1, 0, 1) };
        assert_eq!(
            (e.records, e.bronze_records, e.quarantined),
            want,
            "{}",
            e.source_path
        );
    }
    let q = common::quarantine_rows(&dir.path().join("lake"));
    assert_eq!(q.len(), files.len());
    for row in &q {
        let error = row["error"].as_str().unwrap();
        assert!(error.contains("no records"), "{error}");
        let raw = row["raw"].as_str().unwrap();
        assert!(
            files.iter().any(|(_, text)| *text == raw),
            "kept whole: {raw}"
        );
    }
}

#[test]
fn back_to_back_values_on_ndjson_lines_and_broken_tails() {
    let dir = tempfile::tempdir().unwrap();
    let a = r#"{"event_id":"a","timestamp":"2026-10-01T10:00:00Z"}"#;
    let b = r#"{"event_id":"b","timestamp":"2026-10-01T11:00:00Z"}"#;
    let c = r#"{"event_id":"c","timestamp":"2026-10-01T12:00:00Z"}"#;
    // NDJSON whose second line holds two records with no separator, and whose third holds a
    // record followed by a cut-off one.
    let text = format!("{a}\n{b}{c}\n{a} {{\"event_id\": \"d\",\n");
    let f = dir.path().join("mixed.ndjson");
    std::fs::write(&f, text).unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let s = common::ingest(&lake, &[f]);
    let e = s.ingested().next().unwrap();
    assert_eq!((e.records, e.bronze_records, e.quarantined), (5, 4, 1));
    let q = common::quarantine_rows(&dir.path().join("lake"));
    assert_eq!(q[0]["raw"], "{\"event_id\": \"d\",");
    assert_eq!(q[0]["line"], 3);
}

#[test]
fn gold_on_real_exports_follows_the_metric_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_with_fixtures(dir.path());
    let rt = common::runtime();
    process(&rt, &lake);
    let gold = common::table_rows(&rt, &lake, cclake::lake::delta::GOLD_DAILY);
    let day = |date: &str, queue: &str| -> &Row {
        gold.iter()
            .find(|r| text(r, "date") == Some(date) && text(r, "queue_id") == Some(queue))
            .unwrap_or_else(|| panic!("Gold row {date} {queue}: {gold:?}"))
    };
    let kpis = |r: &Row| {
        (
            num(r, "total_contacts"),
            num(r, "answered_contacts"),
            num(r, "abandoned_contacts"),
            num(r, "avg_duration_sec"),
            num(r, "avg_wait_sec"),
            num(r, "service_level_pct"),
            num(r, "abandon_rate_pct"),
            num(r, "fcr_rate_pct"),
        )
    };
    // Claims on 5 October: the held call (answered after 8 s, handle 195 s) and a caller who
    // hung up after 45 s. SL = 1 answered within 20 s / (1 answered + 1 abandoned). The held
    // call's caller called again within 7 days (CXone, the same afternoon): FCR 0 of 1.
    assert_eq!(
        kpis(day("2026-10-05", "7c1f0a52-0f0c-4a8e-9d0f-3b6f2c1a9e44")),
        (
            Some(2.0),
            Some(1.0),
            Some(1.0),
            Some(195.0),
            Some(8.0),
            Some(50.0),
            Some(50.0),
            Some(0.0)
        )
    );
    // Card Services (CXone): answered after 47 s, over the 20 s target; the caller came back
    // through Amazon Connect two days later, so not resolved at first contact either.
    assert_eq!(
        kpis(day("2026-10-05", "4101")),
        (
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(367.0),
            Some(47.0),
            Some(0.0),
            Some(0.0),
            Some(0.0)
        )
    );
    // BasicQueue (Connect) on 7 October: one answered (7 s, handle 33 + 0 + 32), one
    // abandoned after 95 s; the answered caller did not call again: FCR 100 %.
    assert_eq!(
        kpis(day("2026-10-07", "c677a7a5-1d56-4ce3-a890-79fc53f7fe3f")),
        (
            Some(2.0),
            Some(1.0),
            Some(1.0),
            Some(65.0),
            Some(7.0),
            Some(50.0),
            Some(50.0),
            Some(100.0)
        )
    );
    // The transferred call counts once, in the queue it was offered to, with both agents'
    // handle time.
    assert_eq!(
        kpis(day("2024-04-29", "39988345-a7c5-4ce5-851e-334cb54efc79")),
        (
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(434.894),
            Some(12.411),
            Some(100.0),
            Some(0.0),
            Some(100.0)
        )
    );
}
