//! Data subject requests end to end: one person who called through Genesys (a SIP `ani`),
//! CXone (a national-format `fromAddr`) and a generic feed (a dashed phone, a card number and
//! their member id in a note, an e-mail), with a line the reader could not parse and a late
//! re-delivery of their Genesys conversation, among a generated month of other people. Find
//! lists every occurrence; erase removes all of them and nothing else (every other record still
//! in Bronze exactly once, Silver and Gold equal to a lake built without the person); the audit
//! entry holds no raw value; every file of the lake, Delta history and the cold store included,
//! is read and mentions them nowhere; an erase killed with SIGKILL finishes on the next run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cclake::compliance::subject::{Findings, Subject};
use cclake::lake::Lake;
use cclake::pipeline::JobProgress;
use cclake::pipeline::erase::{self, EraseReport};
use cclake::silver::ProcessMode;
use serde_json::{Value, json};

use common::*;

/// The person, as the requester names them.
const PHONE: &str = "+1 (317) 555-0188";
const MEMBER: &str = "MBR900000017";
const EMAIL: &str = "dana.reyes@example.com";
/// Raw forms of their values that must not survive anywhere (the audit log included).
const RAW: [&str; 7] = [
    "3175550188",
    "555-0188",
    "555 0188",
    "MBR900000017",
    "dana.reyes",
    "4111111111111111",
    "4111 1111",
];

fn subject() -> Subject {
    Subject {
        phones: vec![PHONE.into()],
        member_ids: vec![MEMBER.into()],
        emails: vec![EMAIL.into()],
        customer_keys: vec![],
    }
}

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The person's Genesys conversation: the real details page's first conversation, theirs now
/// (a SIP `ani` with the number, their member id in a participant attribute).
fn genesys_conversation() -> Value {
    let mut c = fixture("genesys_details_page.json")["conversations"][0].clone();
    c["conversationId"] = json!("0d5e1f88-0188-4c51-9a0e-5b2f4d7c8e01");
    let customer = &mut c["participants"][0];
    customer["attributes"]["MemberId"] = json!(MEMBER);
    customer["sessions"][0]["ani"] = json!("sip:+13175550188@203.0.113.7;user=phone");
    c
}

/// Writes the inputs that hold the person (`with`) or the same inputs without their records
/// (`without`), under the same file names: (first delivery, late re-delivery).
fn person_inputs(root: &Path, with: bool) -> (PathBuf, PathBuf) {
    let first = root.join("first");
    let late = root.join("late");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&late).unwrap();
    let page = fixture("genesys_details_page.json");
    let others: Vec<Value> = page["conversations"].as_array().unwrap()[1..].to_vec();
    // First delivered while still open (no conversationEnd, as the API returns a conversation
    // in progress), then again, complete, in a late delivery.
    let mut open = genesys_conversation();
    open.as_object_mut().unwrap().remove("conversationEnd");
    let page_of = |mine: Value| {
        let mut conversations = others.clone();
        if with {
            conversations.insert(0, mine);
        }
        let mut p = page.clone();
        p["conversations"] = json!(conversations);
        p.to_string()
    };
    std::fs::write(first.join("genesys_details.json"), page_of(open)).unwrap();
    let mut late_page = page_of(genesys_conversation());
    if !with {
        // The same bytes would be the same input; the real late page differs.
        late_page = late_page.replace("\"totalHits\"", "\"pageNumber\":2,\"totalHits\"");
    }
    std::fs::write(late.join("genesys_details_redelivered.json"), late_page).unwrap();

    let mut cxone = fixture("cxone_contact_details.json");
    let mut mine = cxone.clone();
    mine["resultSet"]["contactId"] = json!("604856388");
    mine["resultSet"]["masterContactId"] = json!("604856388");
    mine["resultSet"]["fromAddr"] = json!("(317) 555-0188");
    mine["resultSet"]["dispositionNotes"] = json!("refund to card 4111 1111 1111 1111");
    let mut lines = vec![cxone["resultSet"].take().to_string()];
    if with {
        lines.push(mine["resultSet"].take().to_string());
    }
    std::fs::write(first.join("cxone_contacts.ndjson"), lines.join("\n") + "\n").unwrap();

    let mut generic = vec![
        record("g-other-1", "2026-10-01T08:10:00Z"),
        record("g-other-2", "2026-10-03T09:05:00Z"),
        r#"{"event_id":"g-other-3","timestamp":"2026-10-03T09:40:00Z","queue_name":"Billing","outcome_status":"Completed","duration_seconds":90,"notes":"member MBR900000018 asked about card 5500 0000 0000 0004"}"#.to_string(),
    ];
    if with {
        generic.extend([
            r#"{"event_id":"g-188-early","timestamp":"2026-10-01T08:15:00Z","queue_name":"Billing","outcome_status":"Completed","duration_seconds":240,"phone_number":"317-555-0188"}"#.to_string(),
            r#"{"event_id":"g-188","timestamp":"2026-10-03T09:15:00Z","queue_name":"Billing","outcome_status":"Completed","duration_seconds":300,"phone_number":"13175550188","notes":"member MBR900000017 paid with card 4111111111111111"}"#.to_string(),
            r#"{"event_id":"g-188-mail","timestamp":"2026-10-03T09:30:00Z","queue_name":"Retention","outcome_status":"Abandoned","duration_seconds":20,"email":"Dana.Reyes@Example.com"}"#.to_string(),
            // Cut off mid-record: quarantined, and still theirs.
            r#"{"event_id":"g-188-broken","timestamp":"2026-10-03T09:50:00Z","phone_number":"tel:+1-317-555-0188","notes":"call back ab"#.to_string(),
        ]);
    }
    std::fs::write(first.join("generic.ndjson"), generic.join("\n") + "\n").unwrap();

    (first, late)
}

/// A lake holding a generated month (of other people) and the person inputs, processed after
/// each delivery, the way a lake grows.
fn build(rt: &tokio::runtime::Runtime, dir: &Path, exports: &Path, with: bool) -> Lake {
    let (first, late) = person_inputs(&dir.join("inputs"), with);
    let lake = lake(dir, "lake");
    ingest(&lake, &[exports.to_path_buf(), first]);
    process(rt, &lake, ProcessMode::Incremental);
    ingest(&lake, &[late]);
    process(rt, &lake, ProcessMode::Incremental);
    lake
}

fn find(rt: &tokio::runtime::Runtime, lake: &Lake) -> Findings {
    rt.block_on(erase::find(lake, &subject(), key(), &JobProgress::new()))
        .unwrap()
}

fn erase_apply(rt: &tokio::runtime::Runtime, lake: &Lake) -> EraseReport {
    rt.block_on(erase::erase(
        lake,
        &subject(),
        "DSAR ticket 4711",
        key(),
        true,
        &JobProgress::new(),
    ))
    .unwrap()
}

/// Every Bronze line of the lake and its cold store, sorted: the raw bytes, byte for byte.
fn all_bronze_lines(root: &Path) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = bronze_lines(root)
        .into_iter()
        .chain(bronze_lines(&root.with_file_name("lake-cold")))
        .map(|(_, l)| l)
        .collect();
    lines.sort();
    lines
}

/// A table's rows without the columns that say when or from which file a row was written.
fn comparable(rows: Vec<Row>) -> Vec<Row> {
    let volatile = [
        "_ingested_at",
        "_source_file",
        "_bronze_file",
        "processed_at",
        "computed_at",
    ];
    let mut out: Vec<Row> = (rows.into_iter())
        .map(|r| {
            r.into_iter()
                .filter(|(k, _)| !volatile.iter().any(|v| k.contains(v)))
                .collect()
        })
        .collect();
    out.sort();
    out
}

fn mentions_raw(text: &str) -> Vec<&'static str> {
    RAW.iter().copied().filter(|r| text.contains(r)).collect()
}

#[test]
fn find_lists_every_occurrence_and_erase_removes_exactly_the_person() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let exports = dir.path().join("exports");
    generate(&exports, 5, 40, 11);
    let a = build(&rt, &dir.path().join("a"), &exports, true);
    let b = build(&rt, &dir.path().join("b"), &exports, false);
    let root_a = dir.path().join("a/lake");
    // The first day goes to the cold store (90 days on, by the default lifecycle).
    let plan = rt
        .block_on(cclake::lifecycle::plan(&a, "2026-12-31".parse().unwrap()))
        .unwrap();
    let done = rt
        .block_on(cclake::lifecycle::apply(&a, plan, &JobProgress::new()))
        .unwrap();
    assert!(done.moves() > 0);

    // The lake built without the person holds nothing of them: the matches below are theirs.
    assert!(find(&rt, &b).nothing_in_the_lake());

    // Find: every line planted, each place named.
    let f = find(&rt, &a);
    let mut sources: Vec<(String, String)> = (f.bronze.iter())
        .map(|h| {
            let name = Path::new(&h.source_file)
                .file_name()
                .unwrap()
                .to_string_lossy();
            (name.into_owned(), h.kinds.join(" "))
        })
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            ("cxone_contacts.ndjson", "phone"),
            ("generic.ndjson", "email"),
            ("generic.ndjson", "member_id phone"),
            ("generic.ndjson", "phone"),
            ("genesys_details.json", "member_id phone"),
            ("genesys_details_redelivered.json", "member_id phone"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string())),
        "{:#?}",
        f.bronze
    );
    assert!(
        f.bronze.iter().any(|h| h.tier == "cold"),
        "the 1 October call is in the cold store"
    );
    assert_eq!(f.quarantine.len(), 1, "{:?}", f.quarantine);
    let mut contacts: Vec<(&str, Option<&str>)> = (f.silver.iter())
        .map(|s| (s.source_system.as_str(), s.contact_id.as_deref()))
        .collect();
    contacts.sort();
    assert_eq!(
        contacts,
        [
            ("cxone", Some("604856388")),
            ("generic", Some("g-188")),
            ("generic", Some("g-188-early")),
            ("generic", Some("g-188-mail")),
            ("genesys", Some("0d5e1f88-0188-4c51-9a0e-5b2f4d7c8e01")),
        ]
    );
    let gold_dates: std::collections::BTreeSet<String> =
        f.gold.iter().map(|g| g.date.to_string()).collect();
    assert!(
        gold_dates.contains("2026-10-03") && gold_dates.contains("2026-10-05"),
        "{gold_dates:?}"
    );
    // What is shown holds no raw value; the export for the requester does.
    let shown = serde_json::to_string(&f).unwrap();
    assert_eq!(mentions_raw(&shown), Vec::<&str>::new());
    assert!(f.export_json().contains("sip:+13175550188@203.0.113.7"));
    assert!(f.export_csv().contains("4111111111111111"));
    // Before the erasure, the trace sees them in Silver's files (the keyed customer_key).
    let before = rt
        .block_on(erase::verify(&a, &subject(), key(), &JobProgress::new()))
        .unwrap();
    assert!(
        before
            .hits
            .iter()
            .any(|h| h.path.starts_with("silver/contacts/")),
        "{:?}",
        before.hits
    );
    assert!(
        before.hits.iter().any(|h| h.store == "cold store"),
        "{:?}",
        before.hits
    );

    // Plan first: nothing changes.
    let lines_before = all_bronze_lines(&root_a);
    let plan = rt
        .block_on(erase::erase(
            &a,
            &subject(),
            "DSAR ticket 4711",
            key(),
            false,
            &JobProgress::new(),
        ))
        .unwrap();
    assert!(!plan.applied && plan.erasure.is_none());
    assert_eq!(all_bronze_lines(&root_a), lines_before);

    let report = erase_apply(&rt, &a);
    let e = report.erasure.as_ref().unwrap();
    assert_eq!(
        (
            e.bronze_lines_removed,
            e.quarantine_rows_removed,
            e.silver_rows_removed
        ),
        (6, 1, 5)
    );
    let trace = report.trace.as_ref().unwrap();
    assert!(trace.hits.is_empty(), "{:?}", trace.hits);
    assert!(trace.files_scanned > 50);

    // Nothing else changed: every other Bronze line is there exactly once, byte for byte, and
    // Silver and Gold are those of a full rebuild of the lake that never held the person.
    assert_eq!(
        all_bronze_lines(&root_a),
        all_bronze_lines(&dir.path().join("b/lake"))
    );
    common::process(&rt, &b, ProcessMode::Full);
    for table in [
        cclake::lake::delta::SILVER_CONTACTS,
        "gold/daily_queue_metrics",
        "gold/hourly_queue_metrics",
    ] {
        let (ra, rb) = (table_rows(&rt, &a, table), table_rows(&rt, &b, table));
        assert!(!rb.is_empty());
        assert!(
            comparable(ra) == comparable(rb),
            "{table} differs from the rebuild without the person"
        );
    }

    // Found nowhere, and the counts still add up: read = Bronze + quarantined + erased.
    assert!(find(&rt, &a).nothing_in_the_lake());
    let inv = rt.block_on(cclake::lake::inventory::inventory(&a)).unwrap();
    assert!(
        inv.reconciled(),
        "{} {} {} {}",
        inv.records_read,
        inv.ledger_bronze_records,
        inv.quarantine_records,
        inv.erased_records
    );
    assert_eq!(inv.erased_records, 7);
    assert_eq!((inv.erasures_done, inv.erasures_unfinished.len()), (1, 0));
    assert_eq!((inv.missing_files, inv.uncommitted_files), (0, 0));

    // One audit entry, with counts and keyed hashes and no raw value.
    let audit = rt.block_on(cclake::lake::audit::read_all(&a)).unwrap();
    let erases: Vec<_> = audit.iter().filter(|e| e.action == "erase").collect();
    assert_eq!(erases.len(), 1);
    assert_eq!(erases[0].reason, "DSAR ticket 4711");
    assert_eq!(erases[0].details["bronze_lines_removed"], 6);
    let text = serde_json::to_string(&audit).unwrap();
    assert_eq!(mentions_raw(&text), Vec::<&str>::new());
    assert!(text.contains("customer_key:"));

    // The CLI proves it the same way.
    let (ok, out, err) = cclake_on(&root_a, &["subject", "verify", "--phone", "317.555.0188"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("none mentions the person"), "{out}");
}

#[test]
fn the_cli_finds_exports_and_erases_with_a_plan_first() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let exports = dir.path().join("exports");
    generate(&exports, 2, 30, 5);
    build(&rt, dir.path(), &exports, true);
    let root = dir.path().join("lake");
    let out_file = dir.path().join("request.csv");
    let (ok, out, err) = cclake_on(
        &root,
        &[
            "subject",
            "find",
            "--phone",
            "sip:+13175550188@pbx",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("Silver: 4 rows"), "{out}");
    assert_eq!(mentions_raw(&out), Vec::<&str>::new(), "{out}");
    assert_eq!(mentions_raw(&err), Vec::<&str>::new(), "{err}");
    let csv = std::fs::read_to_string(&out_file).unwrap();
    assert!(csv.starts_with("layer,file,line,date,queue,what,raw"));
    assert!(csv.contains("555-0188"));

    // No person, no reason: clear errors, nothing written.
    let (ok, _, err) = cclake_on(&root, &["subject", "find"]);
    assert!(!ok && err.contains("name the person"), "{err}");
    let (ok, _, err) = cclake_on(
        &root,
        &[
            "subject", "erase", "--phone", PHONE, "--reason", " ", "--apply",
        ],
    );
    assert!(!ok && err.contains("needs a reason"), "{err}");
    let (ok, out, _) = cclake_on(
        &root,
        &["subject", "erase", "--phone", PHONE, "--reason", "t-1"],
    );
    assert!(ok && out.contains("plan only"), "{out}");
    // Another key would see nobody: refused.
    let (ok, _, err) = cclake_env(
        &[
            "--lake",
            root.to_str().unwrap(),
            "subject",
            "find",
            "--phone",
            PHONE,
        ],
        &[(
            "CCLAKE_HMAC_KEY",
            Some("another-key-0123456789abcdef0123456789abcdef"),
        )],
    );
    assert!(!ok && err.contains("is not the key this lake"), "{err}");

    let (ok, out, err) = cclake_on(
        &root,
        &[
            "subject", "erase", "--phone", PHONE, "--reason", "t-1", "--apply",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("none mentions the person"), "{out}");
    let (ok, out, _) = cclake_on(&root, &["status"]);
    assert!(
        ok && out.contains("erasures: 1 done") && !out.contains("DOES NOT ADD UP"),
        "{out}"
    );
}

/// The state file of the erasure under way, once it has one.
fn erasure_state(root: &Path) -> Option<Value> {
    let dir = root.join("_cclake/erasures");
    let f = (std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()))
        .find(|e| e.file_name().to_string_lossy().ends_with(".json"))?;
    serde_json::from_str(&std::fs::read_to_string(f.path()).ok()?).ok()
}

/// Starts `cclake subject erase --apply` and kills it (SIGKILL) once `at` holds of its state;
/// false when it finished first.
fn kill_erase_when(root: &Path, at: impl Fn(&Value) -> bool) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cclake"))
        .args([
            "--lake",
            root.to_str().unwrap(),
            "subject",
            "erase",
            "--phone",
            PHONE,
        ])
        .args(["--reason", "DSAR 99", "--apply"])
        .env("CCLAKE_HMAC_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if erasure_state(root).is_some_and(|s| at(&s)) {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(Instant::now() < deadline, "the erase made no progress");
        std::thread::sleep(Duration::from_micros(500));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    for f in walk(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

/// A lake (`dir/pristine`, built and processed) where the person called every hour for
/// `hours` hours, beside another caller each hour; and where the test's working copy goes.
fn hourly_caller_lake(rt: &tokio::runtime::Runtime, dir: &Path, hours: u32) -> (PathBuf, PathBuf) {
    let mut lines = Vec::new();
    for h in 0..hours {
        let at = format!("2026-10-{:02}T{:02}:", 1 + h / 24, h % 24);
        lines.push(format!(
            r#"{{"event_id":"p-{h}","timestamp":"{at}10:00Z","queue_name":"Billing","outcome_status":"Completed","duration_seconds":60,"phone_number":"(317) 555-0188"}}"#
        ));
        lines.push(record(&format!("o-{h}"), &format!("{at}20:00Z")));
    }
    let lake = common::lake(dir, "pristine");
    ingest_lines(&lake, dir, "calls.ndjson", &lines);
    process(rt, &lake, ProcessMode::Incremental);
    (dir.join("pristine"), dir.join("lake"))
}

#[test]
fn an_erase_killed_mid_files_and_mid_layers_finishes_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    // The person called every hour for five days, among others: many files to rewrite.
    let (pristine, root) = hourly_caller_lake(&rt, dir.path(), 120);

    let phase = |s: &Value| s["phase"].as_str().unwrap_or("").to_string();
    let mut caught = (false, false);
    for _ in 0..8 {
        copy_dir(&pristine, &root);
        caught.0 = kill_erase_when(&root, |s| {
            phase(s) == "files" && s["bronze_files_rewritten"].as_u64() >= Some(5)
        });
        if caught.0 {
            break;
        }
    }
    assert!(
        caught.0,
        "no attempt killed the erase while it rewrote Bronze"
    );
    let mid = erasure_state(&root).unwrap();
    assert!(
        mid["bronze_files_rewritten"].as_u64().unwrap() < 120,
        "{mid}"
    );
    // The lake says an erasure is unfinished.
    let (_, out, _) = cclake_on(&root, &["status"]);
    assert!(out.contains("is unfinished"), "{out}");
    // Killed again while it rebuilds the layers (a rerun goes on from where it was).
    caught.1 = kill_erase_when(&root, |s| phase(s) == "layers");
    let (ok, out, err) = cclake_on(
        &root,
        &[
            "subject", "erase", "--phone", PHONE, "--reason", "DSAR 99", "--apply",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("none mentions the person"), "{out}");
    eprintln!(
        "killed mid-files, then {} mid-layers",
        if caught.1 { "again" } else { "not" }
    );

    // Every other record exactly once, none of theirs, no file left over, counts reconciled.
    let mut ids: Vec<String> = (bronze_lines(&root).into_iter())
        .map(|(_, l)| {
            serde_json::from_slice::<Value>(&l).unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    let mut expected: Vec<String> = (0..120).map(|h| format!("o-{h}")).collect();
    expected.sort();
    assert_eq!(ids, expected);
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let inv = rt
        .block_on(cclake::lake::inventory::inventory(&lake))
        .unwrap();
    assert!(inv.reconciled());
    assert_eq!(inv.erased_records, 120);
    assert_eq!((inv.missing_files, inv.uncommitted_files), (0, 0));
    assert_eq!((inv.erasures_done, inv.erasures_unfinished.len()), (1, 0));
    assert_eq!(
        walk(&root.join("_cclake/erasures")).len(),
        1,
        "one receipt, no staging copy"
    );
    let state = erasure_state(&root).unwrap();
    assert_eq!(state["pending_deletes"], json!([]));
    assert_eq!(state["bronze_lines_removed"], 120);
    let silver = silver_rows(&rt, &lake);
    assert_eq!(silver.len(), 120);
    let audit = rt.block_on(cclake::lake::audit::read_all(&lake)).unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "erase").count(), 1);
}

/// Starts `cclake subject erase --apply` and kills it (SIGKILL) after `after`; false when it
/// had already finished.
fn kill_erase_after(root: &Path, after: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cclake"))
        .args(["--lake", root.to_str().unwrap(), "subject", "erase"])
        .args(["--phone", PHONE, "--reason", "DSAR 7", "--apply"])
        .env("CCLAKE_HMAC_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    killed
}

#[test]
fn an_erase_killed_at_twenty_random_instants_always_finishes_and_verifies() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    // The person called every hour for two days, among others.
    let (pristine, root) = hourly_caller_lake(&rt, dir.path(), 48);
    let erase = [
        "subject", "erase", "--phone", PHONE, "--reason", "DSAR 7", "--apply",
    ];

    // How long an erase takes here, uninterrupted.
    copy_dir(&pristine, &root);
    let t = Instant::now();
    let (ok, out, err) = cclake_on(&root, &erase);
    assert!(ok, "{out}{err}");
    let full = t.elapsed();

    let mut rng = rand::rngs::StdRng::seed_from_u64(29);
    let mut killed = 0;
    for round in 0..20 {
        copy_dir(&pristine, &root);
        let at = full.mul_f64(rng.random_range(0.02..1.0));
        killed += usize::from(kill_erase_after(&root, at));
        let (ok, out, err) = cclake_on(&root, &erase);
        assert!(
            ok,
            "round {round}, killed after {at:?}: the rerun failed: {out}{err}"
        );
        let lake = Lake::open(root.to_str().unwrap()).unwrap();
        let inv = rt
            .block_on(cclake::lake::inventory::inventory(&lake))
            .unwrap();
        assert!(inv.reconciled(), "round {round}");
        assert_eq!(inv.erased_records, 48, "round {round}");
        assert_eq!((inv.erasures_done, inv.erasures_unfinished.len()), (1, 0));
        assert_eq!(
            walk(&root.join("_cclake/erasures")).len(),
            1,
            "round {round}: one receipt, no staging copy"
        );
        let audit = rt.block_on(cclake::lake::audit::read_all(&lake)).unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "erase").count(), 1);
        let (ok, out, err) = cclake_on(&root, &["subject", "verify", "--phone", PHONE]);
        assert!(ok, "round {round}: verify found the person: {out}{err}");
        assert_eq!(silver_rows(&rt, &lake).len(), 48, "round {round}");
    }
    eprintln!("erase took {full:?}; {killed} of 20 runs were killed before they finished");
    assert!(killed >= 10, "only {killed} of 20 runs were killed mid-way");
}
