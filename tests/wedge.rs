//! Nothing a record, a link or a pipe does can wedge the lake or leak through it: one odd
//! record is read around or set aside while the rest of its date goes on, links do not pull
//! outside files into the lake, the lake's files are its user's alone, and what the CLI prints
//! or exports cannot command a terminal or a spreadsheet.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{cclake_on, record};

fn cclake(lake: &Path, args: &[&str]) -> (bool, String, String) {
    cclake_on(lake, args)
}

/// A single-column query's values, one a line.
fn column(lake: &Path, sql: &str) -> Vec<String> {
    let out = dir_out(lake, sql);
    let text = std::fs::read_to_string(&out).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.trim_matches('"').to_string())
        .collect()
}

fn dir_out(lake: &Path, sql: &str) -> PathBuf {
    let out = lake.with_file_name(format!(
        "q-{}.csv",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let (ok, o, e) = cclake(
        lake,
        &[
            "query",
            sql,
            "--out",
            out.to_str().unwrap(),
            "--csv-formulas",
        ],
    );
    assert!(ok, "{sql}: {o}{e}");
    out
}

/// Raw values of the odd records below that must never be printed.
const RAW: [&str; 6] = [
    "2065550100",
    "５５５",
    "555-0142",
    "abc€123",
    "212 555 0000",
    "4111111111111111",
];

fn odd_records() -> Vec<u8> {
    let mut text = Vec::new();
    let mut line = |s: &str| {
        text.extend_from_slice(s.as_bytes());
        text.push(b'\n');
    };
    for i in 0..6 {
        line(&record(
            &format!("good-{i}"),
            &format!("2026-10-01T1{i}:00:00Z"),
        ));
    }
    line(
        r#"{"event_id":"huge-wait","timestamp":"2026-10-01T10:05:00Z","queue_name":"Billing","outcome_status":"Completed","wait_seconds":1e400,"duration_seconds":60}"#,
    );
    line(
        r#"{"event_id":"surrogate","timestamp":"2026-10-01T10:06:00Z","queue_name":"Billing","outcome_status":"Completed","notes":"call \ud800 card 4111111111111111"}"#,
    );
    for (id, phone) in [
        ("symbol", "☎☎+12065550100"),
        ("fullwidth", "(４１５) ５５５-０１４２"),
        ("euro", "abc€123"),
        ("plain", "+1 212 555 0000"),
    ] {
        line(&format!(
            r#"{{"event_id":"{id}","timestamp":"2026-10-01T11:00:00Z","queue_name":"Sales","outcome_status":"Completed","duration_seconds":30,"phone_number":"{phone}"}}"#
        ));
    }
    // Values that cannot be read inside nested objects: only they are lost, not the object.
    line(
        r#"{"AWSContactTraceRecordFormatVersion":"2017-03-10","ContactId":"ct-nested","InitiationTimestamp":"2026-10-01T12:00:00Z","DisconnectTimestamp":"2026-10-01T12:10:00Z","Channel":"VOICE","InitiationMethod":"INBOUND","CustomerEndpoint":{"Address":"+13175550123","Type":"TELEPHONE_NUMBER"},"Queue":{"Name":"Sales","Duration":1e999},"Agent":{"AgentInteractionDuration":-1e400,"CustomerHoldDuration":12}}"#,
    );
    line(
        r#"{"conversationId":"gx-nested","conversationStart":"2026-10-01T10:00:00.000Z","conversationEnd":"2026-10-01T10:05:00.000Z","originatingDirection":"inbound","participants":[{"purpose":"customer","participantName":"A\ud800B","sessions":[{"mediaType":"voice","ani":"tel:＋１２０６５５５０１００","direction":"inbound","segments":[{"segmentStart":"2026-10-01T10:00:00.000Z","segmentEnd":"2026-10-01T10:05:00.000Z","queueId":"q-nested","segmentType":"interact"}]}]},{"purpose":"acd","sessions":[{"mediaType":"voice","segments":[{"segmentStart":"2026-10-01T10:00:00.000Z","segmentEnd":"2026-10-01T10:01:00.000Z","queueId":"q-nested","segmentType":"interact"}],"metrics":[{"name":"tAcd","value":1e400,"emitDate":"2026-10-01T10:01:00.000Z"}]}]}]}"#,
    );
    // A byte that is not UTF-8 inside a string value.
    text.extend_from_slice(
        br#"{"event_id":"bad-byte","timestamp":"2026-10-01T12:00:00Z","queue_name":"Bill"#,
    );
    text.push(0xff);
    text.extend_from_slice(br#"ing","outcome_status":"Completed","duration_seconds":45}"#);
    text.push(b'\n');
    text
}

fn assert_no_raw(what: &str, text: &str) {
    for raw in RAW {
        assert!(
            !text.contains(raw),
            "{what} carries a raw value ({raw}): {text}"
        );
    }
}

#[test]
fn one_odd_record_never_stops_silver_and_is_set_aside_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("odd.ndjson"), odd_records()).unwrap();
    let root = dir.path().join("lake");
    let (ok, out, err) = cclake(&root, &["run", input.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert_no_raw("run's output", &(out.clone() + &err));
    // Every record reached Silver: the unreadable values were read as empty.
    let ids = column(
        &root,
        "SELECT event_id FROM silver_contacts ORDER BY event_id",
    );
    assert_eq!(ids.len(), 15, "{ids:?}");
    let wait = column(
        &root,
        "SELECT coalesce(cast(wait_seconds AS varchar), 'null') FROM silver_contacts WHERE event_id = 'huge-wait'",
    );
    assert_eq!(wait, ["null"]);
    let drift = column(
        &root,
        "SELECT field FROM schema_drift WHERE kind = 'unreadable_value' ORDER BY field",
    );
    assert!(
        drift.contains(&"wait_seconds".to_string()) && drift.contains(&"notes".to_string()),
        "{drift:?}"
    );
    // Full-width and symbol-prefixed phones are masked like any other: a keyed hash.
    let phones = column(
        &root,
        "SELECT phone_number FROM silver_contacts WHERE event_id IN ('symbol','fullwidth','plain') ORDER BY event_id",
    );
    assert_eq!(phones.len(), 3);
    for p in &phones {
        assert!(
            p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit()),
            "{p}"
        );
    }
    let nested = column(
        &root,
        "SELECT concat(event_id, ' ', coalesce(queue_name, queue_id), ' ', cast(hold_seconds AS varchar), ' ', cast(length(phone_number) AS varchar)) \
         FROM silver_contacts WHERE event_id IN ('ct-nested', 'gx-nested') ORDER BY event_id",
    );
    assert_eq!(nested.len(), 2, "{nested:?}");
    assert!(nested[0].starts_with("ct-nested Sales 12"), "{nested:?}");
    assert!(nested[1].starts_with("gx-nested q-nested"), "{nested:?}");
    assert!(
        nested.iter().all(|n| n.ends_with(" 64")),
        "phones hashed: {nested:?}"
    );
    let notes = column(
        &root,
        "SELECT notes FROM silver_contacts WHERE event_id = 'surrogate'",
    );
    assert!(notes[0].contains("[PAN]"), "{notes:?}");

    // Lines no reading can save, put into a Bronze file by hand: the date still builds, each
    // is set aside with its file, line and reason, and the counts add up.
    let bronze = common::walk(&root.join("bronze"))
        .into_iter()
        .find(|p| {
            p.to_string_lossy().contains("hour=10") && p.extension().is_some_and(|e| e == "gz")
        })
        .expect("a Bronze file of 10:00");
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&bronze).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    let kept = text.iter().filter(|b| **b == b'\n').count();
    text.extend_from_slice(
        b"[1,2,3]\n{\"event_id\":\"no-time\"}\n{\"timestamp\":\"2026-10-01T10:00:00Z\",\"x\": }\n",
    );
    std::fs::write(&bronze, common::gz(&text)).unwrap();
    let (ok, out, err) = cclake(&root, &["process", "--full"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("3 set aside"), "{out}");
    let summary = out
        .lines()
        .find(|l| l.starts_with("Silver:"))
        .unwrap_or_default()
        .to_string();
    let numbers: Vec<u64> = summary
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .filter_map(|w| w.replace(',', "").parse().ok())
        .collect();
    // "Silver: D dates rebuilt (…); IN records in → OUT contacts out (DUP …, REJ set aside)"
    let n = numbers.len();
    let (rows_in, rows_out, dups, rejected) = (
        numbers[n - 4],
        numbers[n - 3],
        numbers[n - 2],
        numbers[n - 1],
    );
    assert_eq!(rows_in, rows_out + dups + rejected, "{summary}");
    assert_eq!(rejected, 3);
    let rejects = column(
        &root,
        "SELECT concat(bronze_file, ' | ', cast(line AS varchar), ' | ', reason) FROM silver_rejects ORDER BY line",
    );
    assert_eq!(rejects.len(), 3, "{rejects:?}");
    let name = bronze.file_name().unwrap().to_string_lossy().to_string();
    for (i, r) in rejects.iter().enumerate() {
        assert!(r.contains(&name), "{r}");
        assert!(r.contains(&format!(" | {} | ", kept + 1 + i)), "{r}");
    }
    assert!(
        rejects[0].contains("not a readable JSON object"),
        "{rejects:?}"
    );
    assert!(rejects[1].contains("no occurrence time"), "{rejects:?}");
    // status names the rejects table.
    let (ok, out, _) = cclake(&root, &["status"]);
    assert!(ok && out.contains("silver/rejects"), "{out}");
}

#[test]
fn links_in_an_input_folder_are_not_followed_and_the_lake_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("secret.json"),
        record("SECRET-MARKER", "2026-10-01T10:00:00Z"),
    )
    .unwrap();
    std::fs::write(outside.join("id_rsa"), "-----BEGIN KEY----- SECRET-MARKER").unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("a.json"), record("ok-1", "2026-10-01T10:00:00Z")).unwrap();
    std::fs::write(input.join("server.pem"), "SECRET-MARKER").unwrap();
    std::fs::write(input.join("settings.conf"), "{\"SECRET-MARKER\": 1}").unwrap();
    std::os::unix::fs::symlink(&outside, input.join("etclink")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.json"), input.join("s.json")).unwrap();
    let root = dir.path().join("lake");
    let (ok, out, err) = cclake(&root, &["ingest", input.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    // A link to the lake inside the input is passed over like any other link.
    std::os::unix::fs::symlink(&root, input.join("lakelink")).unwrap();
    let (ok, out, err) = cclake(&root, &["ingest", input.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let mut seen = 0;
    for f in common::walk(&root) {
        let mut bytes = std::fs::read(&f).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut text = Vec::new();
            let _ = flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut text);
            bytes = text;
        }
        assert!(
            !String::from_utf8_lossy(&bytes).contains("SECRET-MARKER"),
            "{} holds an outside file's content",
            f.display()
        );
        let mode = std::fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", f.display());
        seen += 1;
    }
    assert!(seen > 3);
    for d in walkdir_dirs(&root) {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "folder {} is {mode:o}", d.display());
    }
    assert_eq!(common::bronze_lines(&root).len(), 1);
    // Followed on request, but only inside the input folder.
    let (ok, out, err) = cclake(
        &root,
        &["ingest", "--follow-symlinks", input.to_str().unwrap()],
    );
    assert!(ok, "{out}{err}");
    assert_eq!(common::bronze_lines(&root).len(), 1);
}

fn walkdir_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p.clone());
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn printed_and_exported_values_cannot_command_a_terminal_or_a_spreadsheet() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let lines = [
        r#"{"event_id":"esc","timestamp":"2026-10-01T10:00:00Z","queue_name":"Sales\u001b]0;owned\u0007\u001b[2J","outcome_status":"Completed","duration_seconds":60}"#,
        r#"{"event_id":"formula","timestamp":"2026-10-01T10:01:00Z","queue_name":"=HYPERLINK(\"http://evil\",\"x\")","outcome_status":"Completed","duration_seconds":60}"#,
    ];
    std::fs::write(&input, lines.join("\n")).unwrap();
    let root = dir.path().join("lake");
    let (ok, out, err) = cclake(&root, &["run", input.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cclake(
        &root,
        &[
            "query",
            "SELECT queue_name FROM silver_contacts ORDER BY event_id",
        ],
    );
    assert!(ok, "{err}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\x1b"), "{out}");
    // CSV: the formula is neutralised unless asked for.
    let csv = dir.path().join("q.csv");
    let (ok, _, err) = cclake(
        &root,
        &[
            "query",
            "SELECT queue_name FROM silver_contacts WHERE event_id = 'formula'",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    // A reader that goes away ends the CLI quietly.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cclake"))
        .args([
            "--lake",
            root.to_str().unwrap(),
            "query",
            "SELECT * FROM silver_contacts",
        ])
        .env("CCLAKE_HMAC_KEY", common::KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    let _ = std::io::stdout().flush();
}

#[test]
fn a_runaway_query_is_stopped_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let lines: Vec<String> = (0..40)
        .map(|i| record(&format!("r{i}"), &format!("2026-10-01T10:{i:02}:00Z")))
        .collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let root = dir.path().join("lake");
    let (ok, out, err) = cclake(&root, &["run", input.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let lake = root.to_str().unwrap();
    let cross = "SELECT a.*, b.event_id AS b1, c.event_id AS c1, d.event_id AS d1 \
                 FROM silver_contacts a, silver_contacts b, silver_contacts c, silver_contacts d";
    let (ok, out, err) = common::cclake_env(
        &["--lake", lake, "query", cross],
        &[
            ("CCLAKE_HMAC_KEY", Some(common::KEY)),
            ("CCLAKE_QUERY_MEMORY", Some("2MB")),
        ],
    );
    assert!(!ok, "{out}");
    assert!(err.contains("needed more than 2.0 MB"), "{err}");
    let (ok, out, err) = common::cclake_env(
        &[
            "--lake",
            lake,
            "query",
            // Summed, not counted: a count of a cross join is answered from statistics.
            "SELECT sum(length(a.event_id) + length(b.event_id) + length(c.event_id) \
             + length(d.event_id) + length(e.event_id)) FROM silver_contacts a, \
             silver_contacts b, silver_contacts c, silver_contacts d, silver_contacts e",
        ],
        &[
            ("CCLAKE_HMAC_KEY", Some(common::KEY)),
            ("CCLAKE_QUERY_TIMEOUT", Some("0.5")),
        ],
    );
    assert!(!ok, "{out}");
    assert!(err.contains("ran longer than"), "{err}");
}
