//! `cclake doctor`: each way a lake can be left unreadable, made the way it happens (a commit
//! cut short, a state file overwritten, a Bronze file deleted or damaged, the key record
//! garbled), then found and repaired with the command the doctor names.

mod common;

use std::path::{Path, PathBuf};

use common::{KEY, cclake_env, cclake_on, record};

fn cclake(lake: &Path, args: &[&str]) -> (bool, String, String) {
    cclake_on(lake, args)
}

/// Two exports of one hour each (one Bronze file each), on two days, ingested and processed;
/// the exports' folder.
fn built(dir: &Path) -> (PathBuf, PathBuf) {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (name, day) in [("a.ndjson", 1), ("b.ndjson", 2)] {
        let lines: Vec<String> = (0..30)
            .map(|i| {
                record(
                    &format!("{name}-{i}"),
                    &format!("2026-10-0{day}T10:{i:02}:00Z"),
                )
            })
            .collect();
        std::fs::write(input.join(name), lines.join("\n") + "\n").unwrap();
    }
    let root = dir.join("lake");
    let (ok, out, err) = cclake(&root, &["run", input.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    (root, input)
}

fn silver_ids(root: &Path) -> Vec<String> {
    let out = root.with_file_name("ids.csv");
    let (ok, o, err) = cclake(
        root,
        &[
            "query",
            "SELECT event_id FROM silver_contacts ORDER BY event_id",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{o}{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    text.lines().skip(1).map(String::from).collect()
}

fn newest_log(root: &Path, table: &str) -> PathBuf {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(root.join(table).join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    logs.sort();
    logs.pop().unwrap()
}

#[test]
fn a_commit_cut_short_is_rolled_back_and_the_layers_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _) = built(dir.path());
    let before = silver_ids(&root);
    assert_eq!(before.len(), 60);
    for table in ["silver/contacts", "gold/daily_queue_metrics"] {
        let log = newest_log(&root, table);
        let text = std::fs::read(&log).unwrap();
        std::fs::write(&log, &text[..text.len() / 2]).unwrap();
    }
    let (ok, out, _) = cclake(&root, &["doctor"]);
    assert!(!ok, "{out}");
    assert!(out.contains("silver/contacts: its newest commit"), "{out}");
    assert!(
        out.contains("gold/daily_queue_metrics: its newest commit"),
        "{out}"
    );
    assert!(out.contains("cclake doctor --repair"), "{out}");
    let (ok, out, err) = cclake(&root, &["doctor", "--repair"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("repaired: silver/contacts"), "{out}");
    let (ok, out, err) = cclake(&root, &["doctor"]);
    assert!(ok, "{out}{err}");
    assert_eq!(silver_ids(&root), before);
    let (ok, out, err) = cclake(
        &root,
        &[
            "query",
            "SELECT sum(total_contacts) AS n FROM gold_daily_queue_metrics",
        ],
    );
    assert!(ok && out.contains("60"), "{out}{err}");
    // What was moved aside is kept.
    assert!(common::walk(&root.join("_cclake/doctor")).len() >= 2);
}

#[test]
fn garbled_state_files_heal_or_are_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let (root, input) = built(dir.path());
    std::fs::write(root.join("gold/_cclake_state.json"), "{\"garb").unwrap();
    std::fs::write(root.join("silver/_cclake_state.json"), "\u{0}\u{1}").unwrap();
    std::fs::create_dir_all(root.join("_cclake/scans")).unwrap();
    std::fs::write(root.join("_cclake/scans/last.json"), "[").unwrap();
    let (ok, out, _) = cclake(&root, &["doctor"]);
    assert!(!ok);
    for f in [
        "gold/_cclake_state.json",
        "silver/_cclake_state.json",
        "_cclake/scans/last.json",
    ] {
        assert!(out.contains(&format!("{f} is not valid JSON")), "{out}");
    }
    // A run is not stopped by a damaged Silver or Gold state: it rebuilds that layer.
    let more = input.join("c.ndjson");
    std::fs::write(&more, record("late-1", "2026-10-02T09:00:00Z")).unwrap();
    let (ok, out, err) = cclake(&root, &["run", more.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(silver_ids(&root).len(), 61);
    let (ok, out, err) = cclake(&root, &["doctor", "--repair"]);
    assert!(ok, "{out}{err}");
    let (ok, out, _) = cclake(&root, &["doctor"]);
    assert!(ok, "{out}");
}

#[test]
fn bronze_files_are_written_again_from_their_export_or_marked_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (root, input) = built(dir.path());
    let lines_before = common::bronze_lines(&root);
    let files: Vec<PathBuf> = common::walk(&root.join("bronze"))
        .into_iter()
        .filter(|p| {
            p.to_string_lossy().contains("event_type=contact")
                && p.extension().is_some_and(|e| e == "gz")
        })
        .collect();
    let of = |name: &str| {
        files
            .iter()
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
            .unwrap()
            .clone()
    };
    let (a, b) = (of("a-"), of("b-"));
    std::fs::remove_file(&a).unwrap();
    let (ok, out, _) = cclake(&root, &["doctor"]);
    assert!(!ok && out.contains("is not in the lake"), "{out}");
    assert!(out.contains("--export"), "{out}");
    // The wrong export does not fit, the right one does.
    let (ok, out, err) = cclake(
        &root,
        &[
            "doctor",
            "--repair",
            "--export",
            input.join("b.ndjson").to_str().unwrap(),
        ],
    );
    assert!(!ok, "{out}{err}");
    let (ok, out, err) = cclake(
        &root,
        &[
            "doctor",
            "--repair",
            "--export",
            input.join("a.ndjson").to_str().unwrap(),
            "--reason",
            "INC-7",
        ],
    );
    assert!(ok, "{out}{err}");
    let mut after = common::bronze_lines(&root);
    let mut expected = lines_before.clone();
    let strip = |v: &mut Vec<(String, Vec<u8>)>| {
        for (p, _) in v.iter_mut() {
            *p = p
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
        }
        v.sort();
    };
    strip(&mut after);
    strip(&mut expected);
    assert_eq!(after, expected, "the restored file holds the same lines");
    assert_eq!(silver_ids(&root).len(), 60);

    // A damaged file with no export: its records are marked lost, with a reason.
    std::fs::write(&b, b"\x1f\x8b\x08\x00 not gzip any more").unwrap();
    let (ok, out, err) = cclake(&root, &["doctor", "--repair"]);
    assert!(!ok && out.contains("is damaged"), "{out}{err}");
    let (ok, out, err) = cclake(
        &root,
        &[
            "doctor",
            "--repair",
            "--mark-lost",
            "--reason",
            "INC-8 disk error",
        ],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, _) = cclake(&root, &["status"]);
    assert!(
        ok && out.contains("+ lost 30") && !out.contains("DOES NOT ADD UP"),
        "{out}"
    );
    assert_eq!(silver_ids(&root).len(), 30);
    let audit: Vec<String> = common::walk(&root.join("_cclake/audit"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        audit
            .iter()
            .any(|a| a.contains("mark_lost") && a.contains("INC-8"))
    );
    assert!(
        audit
            .iter()
            .any(|a| a.contains("restore_bronze") && a.contains("INC-7"))
    );
    let (ok, out, _) = cclake(&root, &["doctor"]);
    assert!(ok, "{out}");
}

#[test]
fn a_damaged_key_record_is_written_again_only_for_the_key_that_made_silver() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _) = built(dir.path());
    std::fs::write(root.join("_cclake/key.json"), "{\"fingerprint\": ").unwrap();
    let (ok, _, err) = cclake(&root, &["process", "--full"]);
    assert!(!ok && err.contains("cclake doctor"), "{err}");
    let lake = root.to_str().unwrap();
    let other = "another-key-0123456789abcdef01234567";
    let (ok, out, err) = cclake_env(
        &["--lake", lake, "doctor", "--repair"],
        &[("CCLAKE_HMAC_KEY", Some(other))],
    );
    assert!(
        !ok && err.contains("not the key Silver was masked with"),
        "{out}{err}"
    );
    let (ok, out, err) = cclake_env(
        &["--lake", lake, "doctor", "--repair"],
        &[("CCLAKE_HMAC_KEY", Some(KEY))],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cclake(&root, &["process", "--full"]);
    assert!(ok, "{out}{err}");
    // A rotation that started and never finished is warned about, as an erasure is.
    let file = root.join("_cclake/key.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    record["rotation"] = serde_json::json!({
        "to_fingerprint": "ab".repeat(32),
        "reason": "INC-9 rotation",
        "started_at": "2026-10-03T10:00:00Z",
        "source": "test",
    });
    std::fs::write(&file, record.to_string()).unwrap();
    let (ok, out, _) = cclake(&root, &["status"]);
    assert!(
        ok && out.contains("key rotation to fingerprint abababab") && out.contains("is unfinished"),
        "{out}"
    );
}
