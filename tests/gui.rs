//! The real app struct driven with egui_kittest (no window, no GPU): every pane opens, a demo
//! job runs to the end and lands on the charts, the partition tree and the charts show what
//! the pipeline wrote, a failing job shows its error, and frames keep coming while a long job
//! runs.

mod common;

use std::time::{Duration, Instant};

use cclake::pipeline::Job;
use cclake::ui::jobs::JobState;
use cclake::ui::{CclakeApp, PaneId};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use common::runtime;

fn harness<'a>(rt: &tokio::runtime::Runtime, lake: &std::path::Path) -> Harness<'a, CclakeApp> {
    let app = CclakeApp::new(
        rt.handle().clone(),
        None,
        Some(lake.display().to_string()),
        String::new(),
        Ok(test_key()),
    );
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut CclakeApp| app.show(ui), app)
}

/// The key the app is handed (resolved once, as `cclake` does at start).
use common::key as test_key;

/// Steps frames (real time passes between them) until `done` holds, or panics after `secs`.
fn wait_until(
    h: &mut Harness<'_, CclakeApp>,
    secs: u64,
    what: &str,
    mut done: impl FnMut(&mut Harness<'_, CclakeApp>) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the app's job to end and asserts it succeeded; returns its record.
fn job_done(h: &mut Harness<'_, CclakeApp>, secs: u64, what: &str) {
    wait_until(h, secs, what, |h| {
        h.state()
            .jobs
            .history
            .iter()
            .any(|r| !matches!(r.state, JobState::Queued | JobState::Running))
    });
    let rec = h.state().jobs.history.last().unwrap().clone();
    assert!(matches!(rec.state, JobState::Done(_)), "{:?}", rec.state);
}

fn has_label(h: &Harness<'_, CclakeApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

#[test]
fn every_pane_opens_and_an_empty_lake_offers_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the empty-lake offer", |h| {
        has_label(h, "This lake is empty")
    });
    assert!(has_label(&h, "Create demo lake"));
    let expect = [
        ("KPI charts", "No Gold KPIs yet"),
        ("Partitions", "Pick a layer, table or partition"),
        ("SQL", "Results appear here"),
        ("Jobs", "No jobs yet in this session"),
        ("API server", "Gold API for BI tools"),
        ("Schema drift", "No schema drift recorded"),
        ("Quarantine", "Nothing is quarantined"),
        ("Overview", "This lake is empty"),
    ];
    for (nav, text) in expect {
        h.get_by_label(nav).click();
        wait_until(&mut h, 20, text, |h| has_label(h, text));
    }
    // Keyboard: Ctrl+2 is the charts.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num2);
    h.step();
    h.step();
    assert_eq!(h.state().state.pane, PaneId::Charts);
}

#[test]
fn a_demo_job_finishes_lands_on_the_charts_and_the_panes_show_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the empty lake", |h| {
        has_label(h, "This lake is empty")
    });
    // What the button does, with a smaller lake so the test is quick.
    h.state_mut().create_demo(3, 150);
    wait_until(&mut h, 300, "the demo job to finish", |h| {
        h.state()
            .jobs
            .history
            .iter()
            .any(|r| matches!(r.state, JobState::Done(_) | JobState::Failed(_)))
    });
    let rec = h.state().jobs.history.last().unwrap().clone();
    assert!(matches!(rec.state, JobState::Done(_)), "{:?}", rec.state);
    h.step();
    assert_eq!(
        h.state().state.pane,
        PaneId::Charts,
        "the demo lands on the charts"
    );

    // The charts list the lake's queues (from Gold).
    wait_until(&mut h, 60, "the queue list", |h| has_label(h, "Queues ("));
    for q in ["Claims", "Billing", "Tech Support"] {
        assert!(has_label(&h, q), "queue {q} in the charts pane");
    }
    assert!(has_label(&h, "Service level % by queue"));

    // The partition tree lists the partitions the pipeline wrote.
    h.get_by_label("Partitions").click();
    wait_until(&mut h, 60, "the partition tree", |h| {
        has_label(h, "records)")
    });
    let inv = h.state_mut().browser.inventory().cloned().unwrap();
    assert!(!inv.partitions.is_empty());
    let contact = inv
        .bronze
        .iter()
        .find(|e| e.event_type == "contact")
        .unwrap();
    assert!(has_label(
        &h,
        &format!(
            "contact  ({} records)",
            cclake::format::thousands(contact.records)
        )
    ));
    let silver = inv
        .tables
        .iter()
        .find(|t| t.name == "silver/contacts")
        .unwrap();
    assert!(has_label(
        &h,
        &format!("contacts  ({} rows", cclake::format::thousands(silver.rows))
    ));
    // Open the Silver table's first date and see its rows in the grid.
    h.get_by_label_contains("contacts  (").click();
    h.step();
    let first = &silver.partitions[0];
    h.get_by_label_contains(&format!(
        "{}  {} rows",
        first.date,
        cclake::format::thousands(first.rows)
    ))
    .click();
    wait_until(&mut h, 60, "the grid's row count", |h| {
        has_label(
            h,
            &format!("{} rows", cclake::format::thousands(first.rows)),
        ) && has_label(h, "contact_id")
    });

    // The leak scan from the Jobs pane finds the demo lake clean.
    h.get_by_label("Jobs").click();
    h.step();
    h.get_by_label("Leak scan").click();
    wait_until(&mut h, 300, "the leak scan", |h| {
        has_label(h, "no raw PII found in")
    });

    // The drift pane lists what the demo's exports drifted on, missing and new fields included.
    h.get_by_label("Schema drift").click();
    wait_until(&mut h, 60, "the drift rows", |h| {
        has_label(h, "unmapped_status")
    });
    assert!(has_label(&h, "new"));
    let observations = h.state_mut().drift.observations().cloned().unwrap();
    assert!(observations.iter().any(|d| d.kind == "unmapped_status"));
}

#[test]
fn a_failing_job_shows_its_error_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the lake", |h| h.state().lake().is_some());
    // A real failure: an export that is not there.
    let missing = dir.path().join("export.json");
    h.state_mut()
        .submit(Job::ingest_and_process(vec![missing.clone()]));
    let words = format!("{} does not exist", missing.display());
    wait_until(&mut h, 20, "the failure", |h| {
        has_label(h, "ingest 1 item(s) failed: ") && has_label(h, &words)
    });
    h.get_by_label("Jobs").click();
    wait_until(&mut h, 20, "the history entry", |h| {
        h.query_all_by_label_contains(&words).count() >= 2
    });
}

#[test]
fn frames_keep_coming_while_a_long_job_runs() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the lake", |h| h.state().lake().is_some());
    // A month of demo data: far longer than the frames measured below.
    h.state_mut().create_demo(30, 2000);
    wait_until(&mut h, 20, "the job to start", |h| {
        h.state().jobs.running().is_some()
    });
    let mut worst = Duration::ZERO;
    let mut total = Duration::ZERO;
    let frames = 60;
    for _ in 0..frames {
        let t = Instant::now();
        h.step();
        let dt = t.elapsed();
        worst = worst.max(dt);
        total += dt;
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        h.state().jobs.running().is_some(),
        "the job must still be running for the measurement to mean anything"
    );
    println!(
        "frame time while a job runs: mean {:.2} ms, max {:.2} ms over {frames} frames",
        total.as_secs_f64() * 1000.0 / frames as f64,
        worst.as_secs_f64() * 1000.0
    );
    // A frame that waited on the job would take seconds; the bound is loose for debug builds
    // on a loaded 2-core machine.
    assert!(worst < Duration::from_millis(500), "worst frame {worst:?}");
    // Cancelling leaves the lake consistent and the job ends as cancelled.
    h.get_by_label("Cancel").click();
    wait_until(&mut h, 120, "the cancel", |h| !h.state().jobs.is_busy());
    let rec = h.state().jobs.history.last().unwrap();
    assert!(
        matches!(rec.state, JobState::Cancelled(_)),
        "the job ended {:?}",
        rec.state
    );
}

#[test]
fn the_api_server_starts_and_stops_from_the_window() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the lake", |h| h.state().lake().is_some());
    h.get_by_label("API server").click();
    h.step();
    h.state_mut().api_server.set_addr("127.0.0.1:0");
    h.get_by_label("Start server").click();
    wait_until(&mut h, 20, "the server address", |h| {
        h.state().api_server.serving_on().is_some()
    });
    let addr = h.state().api_server.serving_on().unwrap();
    assert!(has_label(
        &h,
        &format!("http://{addr}/api/v2/analytics/gold/summary")
    ));
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    h.get_by_label("Stop server").click();
    wait_until(&mut h, 20, "the stop", |h| has_label(h, "Start server"));
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn the_first_start_on_an_empty_default_lake_creates_the_demo_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    // Nothing stored, no lake named: the default lake, as on a fresh machine.
    let app = CclakeApp::new(
        rt.handle().clone(),
        None,
        None,
        dir.path().join("default-lake").display().to_string(),
        Ok(test_key()),
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut CclakeApp| app.show(ui), app);
    wait_until(&mut h, 20, "the demo job", |h| {
        h.state()
            .jobs
            .history
            .iter()
            .any(|r| matches!(r.kind, Job::Demo { .. }))
    });
    h.state().jobs.cancel_running();
    wait_until(&mut h, 120, "the cancel", |h| !h.state().jobs.is_busy());
    // A lake named explicitly (or a later start) only offers it.
    let other = CclakeApp::new(
        rt.handle().clone(),
        None,
        Some(dir.path().join("named").display().to_string()),
        String::new(),
        Ok(test_key()),
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut CclakeApp| app.show(ui), other);
    wait_until(&mut h, 20, "the offer", |h| {
        has_label(h, "Create demo lake")
    });
    assert!(h.state().jobs.history.is_empty());
}

#[test]
fn the_policy_editor_previews_refuses_a_bad_regex_at_its_field_and_saves_with_history() {
    use cclake::silver::masking::Action;
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let lake = cclake::lake::Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(
        &input,
        r#"{"event_id":"p1","timestamp":"2026-09-01T10:00:00Z","queue_name":"Q","outcome_status":"Completed","phone_number":"(317) 555-0123","member_id":"ABC123456789","notes":"card 4111 1111 1111 1111 on file"}"#,
    )
    .unwrap();
    common::ingest(&lake, &[input]);
    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the lake", |h| h.state().lake().is_some());
    h.get_by_label("Compliance").click();
    let phone_row = |h: &mut Harness<'_, CclakeApp>| {
        h.state_mut()
            .compliance
            .preview_rows()
            .and_then(|rows| rows.iter().find(|r| r.column == "phone_number").cloned())
    };
    wait_until(&mut h, 60, "the preview", |h| phone_row(h).is_some());
    let row = phone_row(&mut h).unwrap();
    assert_eq!(row.raw, "(317) 555-0123");
    assert_eq!(row.verdict, "masked");
    assert_eq!(row.masked.len(), 64, "hashed: {}", row.masked);

    // Change the phone rule to keep: the preview follows, nothing is saved.
    h.state_mut()
        .compliance
        .editing()
        .unwrap()
        .columns
        .get_mut("phone_number")
        .unwrap()
        .action = Action::Keep;
    wait_until(&mut h, 60, "the new preview", |h| {
        phone_row(h).is_some_and(|r| r.masked == "(317) 555-0123")
    });
    let on_disk =
        std::fs::read_to_string(dir.path().join("lake/_config/masking_policy.toml")).unwrap();
    assert!(on_disk.contains("action = \"hash\""));

    // A bad regex is refused at its field, and the policy cannot be saved.
    h.state_mut()
        .compliance
        .editing()
        .unwrap()
        .member_id_pattern = "([A-Z".into();
    wait_until(&mut h, 20, "the field error", |h| {
        has_label(h, "member_id_pattern: invalid regular expression")
    });
    h.state_mut()
        .compliance
        .editing()
        .unwrap()
        .member_id_pattern = "^[A-Za-z]{2,4}[0-9]{6,12}$".into();
    h.step();

    // Saving needs a reason; with one it writes the policy and its history.
    h.get_by_label("Save policy").click_accesskit();
    wait_until(&mut h, 20, "the reason error", |h| {
        has_label(h, "a reason is required")
    });
    h.state_mut()
        .compliance
        .set_reason("phones are pseudonymised upstream (ticket 42)");
    h.get_by_label("Save policy").click_accesskit();
    wait_until(&mut h, 20, "the save", |h| has_label(h, "saved policy"));
    let on_disk =
        std::fs::read_to_string(dir.path().join("lake/_config/masking_policy.toml")).unwrap();
    assert!(on_disk.contains("[columns.phone_number]"));
    let history = rt
        .block_on(cclake::compliance::policy::history(&lake))
        .unwrap();
    assert_eq!(history.len(), 2, "the policy before and the saved one");
    assert_eq!(
        history[1].reason,
        "phones are pseudonymised upstream (ticket 42)"
    );
    assert!(
        cclake::compliance::policy::diff(&history[0].text, &history[1].text)
            .iter()
            .any(|l| l.starts_with('+') && l.contains("keep"))
    );
    // The history is in the pane's audit part.
    h.get_by_label("Audit").click();
    wait_until(&mut h, 20, "the history in the pane", |h| {
        has_label(h, "phones are pseudonymised upstream")
    });
}

#[test]
fn rotate_key_from_the_compliance_pane_rebuilds_under_a_new_key_file_and_audits_it() {
    use cclake::silver::digest::HmacKey;
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    // The app's key comes from a key file, as on a desktop without CCLAKE_HMAC_KEY.
    let key_file = dir.path().join("hmac.key");
    let key = HmacKey::from_file(&key_file).unwrap();
    let old_text = std::fs::read(&key_file).unwrap();
    let exports = dir.path().join("exports");
    common::generate(&exports, 2, 60, 4);
    let lake = common::lake(dir.path(), "lake");
    common::ingest(&lake, &[exports]);
    rt.block_on(cclake::pipeline::process(
        &lake,
        cclake::silver::ProcessMode::Incremental,
        key.clone(),
        &cclake::pipeline::JobProgress::new(),
    ))
    .unwrap();
    let app = CclakeApp::new(
        rt.handle().clone(),
        None,
        Some(dir.path().join("lake").display().to_string()),
        String::new(),
        Ok(key.clone()),
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut CclakeApp| app.show(ui), app);
    h.get_by_label("Compliance").click();
    wait_until(&mut h, 60, "the pane", |h| has_label(h, "Masking policy"));
    h.get_by_label("Audit").click();
    let fingerprint = &key.fingerprint()[..12];
    wait_until(&mut h, 60, "the key section", |h| {
        has_label(h, "lake's fingerprint") && has_label(h, fingerprint)
    });
    // The button waits for a reason.
    use egui_kittest::kittest::NodeT;
    assert!(h.get_by_label("Rotate key…").accesskit_node().is_disabled());
    h.state_mut()
        .compliance
        .set_rekey_reason("laptop with the old key was lost (ticket 7)");
    h.step();
    h.get_by_label("Rotate key…").click_accesskit();
    job_done(&mut h, 300, "the rotation");

    // The key file now holds a new key, the old one is kept beside it, and the app's queue
    // masks with the new one.
    let new_text = std::fs::read(&key_file).unwrap();
    assert_ne!(new_text, old_text);
    let retired: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("hmac.key.retired-")
        })
        .collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(std::fs::read(retired[0].path()).unwrap(), old_text);
    let new_key = HmacKey::from_file(&key_file).unwrap();
    assert_eq!(
        h.state().jobs.key().unwrap().fingerprint(),
        new_key.fingerprint()
    );
    // The lake records the new fingerprint and the audit log says why; the pane shows both.
    let record = rt
        .block_on(cclake::silver::key_record::read(&lake))
        .unwrap()
        .unwrap();
    assert_eq!(record.fingerprint, new_key.fingerprint());
    assert!(record.rotation.is_none());
    let new_short = &new_key.fingerprint()[..12];
    wait_until(&mut h, 60, "the new fingerprint and the audit entry", |h| {
        has_label(h, new_short) && has_label(h, "laptop with the old key was lost (ticket 7)")
    });
}

#[test]
fn a_data_subject_is_found_and_erased_from_the_compliance_pane_and_the_audit_shows_it() {
    use egui_kittest::kittest::NodeT;
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let lake = common::lake(dir.path(), "lake");
    let person = |id: &str, at: &str| {
        format!(
            r#"{{"event_id":"{id}","timestamp":"{at}","queue_name":"Billing","outcome_status":"Completed","duration_seconds":60,"phone_number":"sip:+13175550188@pbx.example"}}"#
        )
    };
    let lines = [
        person("mine-1", "2026-10-01T10:00:00Z"),
        common::record("other-1", "2026-10-01T10:05:00Z"),
        person("mine-2", "2026-10-02T11:00:00Z"),
        common::record("other-2", "2026-10-02T11:05:00Z"),
    ];
    common::ingest_lines(&lake, dir.path(), "calls.ndjson", &lines);
    common::process(&rt, &lake, cclake::silver::ProcessMode::Incremental);
    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the lake", |h| h.state().lake().is_some());
    h.get_by_label("Compliance").click();
    wait_until(&mut h, 60, "the pane", |h| has_label(h, "Masking policy"));
    h.get_by_label("Data subject").click();
    wait_until(&mut h, 20, "the identifier fields", |h| {
        has_label(h, "phone numbers")
    });
    assert!(
        h.get_by_label("Find everywhere")
            .accesskit_node()
            .is_disabled()
    );
    h.state_mut()
        .compliance
        .set_subject_phones("(317) 555-0188");
    h.step();
    h.get_by_label("Find everywhere").click_accesskit();
    wait_until(&mut h, 120, "the findings", |h| {
        has_label(h, "Bronze: 2 lines in 2 files")
    });
    assert!(has_label(&h, "Silver: 2 contacts"));
    // Places are shown, values are not.
    assert!(!has_label(&h, "555-0188") && !has_label(&h, "5550188"));
    // Erasing needs a reason, then a confirmation.
    assert!(
        h.get_by_label("Erase this person…")
            .accesskit_node()
            .is_disabled()
    );
    h.state_mut()
        .compliance
        .set_erase_reason("DSAR ticket 8812");
    h.step();
    h.get_by_label("Erase this person…").click_accesskit();
    wait_until(&mut h, 20, "the confirmation", |h| {
        has_label(h, "Erase this person everywhere?")
    });
    h.get_by_label("Erase").click_accesskit();
    wait_until(&mut h, 300, "the erasure", |h| {
        has_label(h, "none mentions this person")
    });
    assert!(has_label(&h, "2 Bronze lines removed from 2 files"));
    let ids: Vec<String> = common::bronze_lines(&dir.path().join("lake"))
        .into_iter()
        .map(|(_, l)| {
            serde_json::from_slice::<serde_json::Value>(&l).unwrap()["event_id"].to_string()
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|i| i.contains("other")), "{ids:?}");
    // The receipt is listed and the audit part shows the log entry.
    wait_until(&mut h, 20, "the receipt", |h| {
        has_label(h, "DSAR ticket 8812")
    });
    h.get_by_label("Audit").click();
    wait_until(&mut h, 20, "the audit entry", |h| {
        has_label(h, "DSAR ticket 8812") && has_label(h, "bronze_lines_removed")
    });
}

#[test]
fn quarantined_records_are_listed_and_retried_from_the_quarantine_pane() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let lake = common::lake(dir.path(), "lake");
    let lines = [
        common::record("ok-1", "2026-10-01T10:00:00Z"),
        r#"{"event_id":"fixed-1","timestamp":"01.10.2026 10:05","queue_name":"Billing"}"#
            .to_string(),
    ];
    common::ingest_lines(&lake, dir.path(), "feed.ndjson", &lines);
    // Stand-in for a reader fix (see tests/quarantine_retry.rs).
    let q = common::walk(&dir.path().join("lake/bronze/_quarantine"));
    let gz = std::fs::read(&q[0]).unwrap();
    let text = String::from_utf8(cclake::lake::gzip::gunzip(&gz).unwrap()).unwrap();
    let fixed = text.replace("01.10.2026 10:05", "2026-10-01T10:05:00Z");
    std::fs::write(&q[0], cclake::lake::gzip::gzip(fixed.as_bytes())).unwrap();

    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the lake", |h| h.state().lake().is_some());
    h.get_by_label("Quarantine").click();
    wait_until(&mut h, 60, "the quarantine list", |h| {
        has_label(h, "1 records in 1 files")
    });
    h.get_by_label("Retry all").click();
    job_done(&mut h, 120, "the retry");
    wait_until(&mut h, 60, "the empty quarantine", |h| {
        has_label(h, "Nothing is quarantined")
    });
    let ids: Vec<String> = common::bronze_lines(&dir.path().join("lake"))
        .into_iter()
        .map(|(_, l)| {
            serde_json::from_slice::<serde_json::Value>(&l).unwrap()["event_id"].to_string()
        })
        .collect();
    assert_eq!(
        ids.iter().filter(|i| i.contains("fixed-1")).count(),
        1,
        "{ids:?}"
    );
}

#[test]
fn the_overview_tiles_equal_gold_recomputed_by_sql_and_a_worst_queue_opens_its_chart() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let lake = common::demo_lake(&rt, dir.path(), 4, 60, 9);
    // The last day's service level and AHT, recombined from Gold's counts by SQL.
    let ctx = rt.block_on(cclake::query::session(&lake)).unwrap();
    let sql = "SELECT date,
        100.0 * SUM(answered_within_sl) / SUM(answered_contacts + abandoned_contacts - short_abandoned_contacts) AS sl,
        SUM(avg_duration_sec * answered_contacts) / SUM(answered_contacts) AS aht
        FROM gold_daily_queue_metrics GROUP BY date ORDER BY date DESC LIMIT 1";
    let result = rt.block_on(cclake::query::run(&ctx, sql)).unwrap();
    let b = &result.batches[0];
    use arrow::array::AsArray;
    let sl = b
        .column(1)
        .as_primitive::<arrow::datatypes::Float64Type>()
        .value(0);
    let aht = b
        .column(2)
        .as_primitive::<arrow::datatypes::Float64Type>()
        .value(0);
    let mut h = harness(&rt, &dir.path().join("lake"));
    let sl_text = format!("{sl:.1} %");
    let aht_text = format!("{aht:.0} s");
    wait_until(&mut h, 60, "the tiles", |h| {
        has_label(h, "last complete day")
    });
    assert!(has_label(&h, &sl_text), "service level tile {sl_text}");
    assert!(has_label(&h, &aht_text), "AHT tile {aht_text}");
    // The worst queue opens the charts on its service level.
    let worst_sql = "SELECT queue_name FROM gold_daily_queue_metrics
        WHERE date = (SELECT MAX(date) FROM gold_daily_queue_metrics) AND total_contacts >= 5
          AND service_level_pct IS NOT NULL
        ORDER BY service_level_pct, queue_id LIMIT 1";
    let worst = rt.block_on(cclake::query::run(&ctx, worst_sql)).unwrap();
    let name = cclake::lake::delta::utf8_column(worst.batches[0].column(0))
        .unwrap()
        .value(0)
        .to_string();
    wait_until(&mut h, 20, "the worst queues", |h| {
        has_label(h, "Worst service level that day")
    });
    h.get_by_label(&name).click();
    wait_until(&mut h, 20, "the charts", |h| {
        h.state().state.pane == PaneId::Charts
    });
    assert_eq!(h.state().charts.settings.queues.len(), 1);
}

#[test]
fn three_clicks_from_the_overview_to_the_contacts_of_the_worst_hour() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let lake = common::demo_lake(&rt, dir.path(), 4, 60, 9);
    let ctx = rt.block_on(cclake::query::session(&lake)).unwrap();
    let worst_sql = "SELECT queue_name FROM gold_daily_queue_metrics
        WHERE date = (SELECT MAX(date) FROM gold_daily_queue_metrics) AND total_contacts >= 5
          AND service_level_pct IS NOT NULL
        ORDER BY service_level_pct, queue_id LIMIT 1";
    let worst = rt.block_on(cclake::query::run(&ctx, worst_sql)).unwrap();
    let name = cclake::lake::delta::utf8_column(worst.batches[0].column(0))
        .unwrap()
        .value(0)
        .to_string();
    let mut h = harness(&rt, &dir.path().join("lake"));
    // 1: the worst queue on the overview.
    wait_until(&mut h, 60, "the worst queues", |h| {
        has_label(h, "Worst service level that day")
    });
    h.get_by_label(&name).click();
    // 2: the contacts of its worst hour, from the hourly breakdown.
    wait_until(&mut h, 60, "the hourly breakdown", |h| {
        h.query_all_by_label_contains("Contacts of the worst hour")
            .next()
            .is_some()
    });
    let button = h
        .query_all_by_label_contains("Contacts of the worst hour")
        .next()
        .unwrap();
    button.click();
    wait_until(&mut h, 60, "the contacts", |h| {
        h.state().state.pane == PaneId::Sql && h.state().sql.drill.is_some()
    });
    // The rows are the Silver contacts Gold counted in that hour: as many as its total.
    let text = h.state().sql.settings.text.clone();
    assert!(text.contains("cclake_local_hour(occurred_at) ="), "{text}");
    let hour: u32 = text
        .split("cclake_local_hour(occurred_at) = ")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let gold_sql = format!(
        "SELECT SUM(total_contacts) FROM gold_hourly_queue_metrics
         WHERE queue_name = '{name}' AND hour = {hour}
           AND date = (SELECT MAX(date) FROM gold_daily_queue_metrics)"
    );
    let gold = rt.block_on(cclake::query::run(&ctx, &gold_sql)).unwrap();
    use arrow::array::AsArray;
    let total = gold.batches[0]
        .column(0)
        .as_primitive::<arrow::datatypes::Int64Type>()
        .value(0);
    let silver = rt.block_on(cclake::query::run(&ctx, &text)).unwrap();
    assert_eq!(
        silver.num_rows() as i64,
        total,
        "the contacts behind the hour's Gold row"
    );
    // Gold's numbers beside their recount from those rows: the same, KPI by KPI.
    {
        let drill = h
            .state()
            .sql
            .drill
            .as_ref()
            .expect("the drill's Gold and recount");
        let gold = drill.gold.expect("Gold's row of the hour");
        let recount = drill.recount.as_ref().unwrap();
        assert_eq!(recount.totals.total, gold.total);
        assert_eq!(recount.totals.abandoned, gold.abandoned);
        assert_eq!(recount.totals.within_sl, gold.within_sl);
        assert_eq!(recount.totals.fcr_resolved, gold.fcr_resolved);
        for kpi in cclake::gold::health::Kpi::ALL {
            match (gold.value(kpi), recount.value(kpi)) {
                (Some(g), Some(r)) => assert!((g - r).abs() < 1e-6, "{kpi:?}: {g} vs {r}"),
                (g, r) => assert_eq!(g.is_some(), r.is_some(), "{kpi:?}"),
            }
        }
    }
    // Another query from the box, then Back to the contacts with their check, and Forward.
    h.state_mut().sql.settings.text = "SELECT COUNT(*) AS bronze_lines FROM bronze_contacts".into();
    h.get_by_label("Run").click_accesskit();
    wait_until(&mut h, 60, "the other query", |h| {
        h.state().sql.drill.is_none() && has_label(h, "bronze_lines")
    });
    h.get_by_label("< Back").click_accesskit();
    wait_until(&mut h, 60, "the contacts again", |h| {
        h.state().sql.drill.is_some()
    });
    assert!(has_label(&h, "Recomputed from these rows"));
    assert!(
        h.state()
            .sql
            .settings
            .text
            .contains("cclake_local_hour(occurred_at) =")
    );
    h.get_by_label("Forward >").click_accesskit();
    wait_until(&mut h, 60, "the other query again", |h| {
        h.state().sql.drill.is_none() && has_label(h, "bronze_lines")
    });
}

#[test]
fn records_silver_set_aside_are_listed_in_the_quarantine_pane_and_reprocessed_from_it() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let lake = common::lake(dir.path(), "lake");
    let lines: Vec<String> = (0..5)
        .map(|i| common::record(&format!("r{i}"), &format!("2026-10-01T10:0{i}:00Z")))
        .collect();
    common::ingest_lines(&lake, dir.path(), "calls.ndjson", &lines);
    // A line no reading can save, put into the Bronze file by hand.
    let bronze = common::walk(&dir.path().join("lake/bronze"))
        .into_iter()
        .find(|p| {
            p.extension().is_some_and(|e| e == "gz") && p.to_string_lossy().contains("hour=10")
        })
        .unwrap();
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&bronze).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    text.extend_from_slice(b"[\"not\", \"a record\"]\n");
    std::fs::write(&bronze, common::gz(&text)).unwrap();
    common::process(&rt, &lake, cclake::silver::ProcessMode::Incremental);

    let mut h = harness(&rt, &dir.path().join("lake"));
    wait_until(&mut h, 20, "the lake", |h| h.state().lake().is_some());
    h.get_by_label("Quarantine").click();
    wait_until(&mut h, 20, "the records Silver set aside", |h| {
        has_label(h, "Set aside by Silver") && has_label(h, "not a readable JSON object")
    });
    assert!(has_label(&h, "1 records, 2026-10-01 … 2026-10-01."));
    assert!(has_label(&h, "calls.ndjson"));
    h.get_by_label("Reprocess their dates").click();
    job_done(&mut h, 60, "the reprocess");
}
