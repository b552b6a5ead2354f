//! An ingest killed half way (SIGKILL, a real process) and run again leaves every record in
//! Bronze exactly once.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const FILES: usize = 30;
const PER_FILE: usize = 4000;

#[test]
fn killed_ingest_rerun_has_every_record_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in");
    std::fs::create_dir_all(&inp).unwrap();
    for f in 0..FILES {
        let mut text = Vec::new();
        for i in 0..PER_FILE {
            // Spread each file over 48 hours so it writes many partition files.
            let hour = (i * 7 + f) % 48;
            writeln!(
                text,
                r#"{{"event_id":"f{f}-r{i}","timestamp":"2026-09-{:02}T{:02}:{:02}:00Z","notes":"{}"}}"#,
                1 + hour / 24,
                hour % 24,
                i % 60,
                "x".repeat(i % 200)
            )
            .unwrap();
        }
        std::fs::write(inp.join(format!("part_{f:02}.ndjson")), gz(&text)).unwrap();
    }
    let lake = dir.path().join("lake");
    let bin = env!("CARGO_BIN_EXE_cclake");
    let run = || {
        let mut c = Command::new(bin);
        c.args(["ingest", "--quiet", "--compression-level", "9", "--lake"])
            .arg(&lake)
            .arg(&inp)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };

    // First run: kill -9 once some files are committed and another input's hour files are
    // on disk but not yet in the ledger (the worst moment). Between seeing that and the kill
    // the other file may commit, so a kill that missed the moment is tried again on a fresh
    // lake (a busy machine makes that likelier).
    let mut committed_at_kill = 0;
    let mut caught = false;
    for attempt in 0..8 {
        let _ = std::fs::remove_dir_all(&lake);
        let mut child = run().spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let rows = ledger_rows(&lake);
            let named: usize = rows
                .iter()
                .map(|r| r["bronze_files"].as_array().unwrap().len())
                .sum();
            let on_disk = walk(&lake.join("bronze"))
                .iter()
                .filter(|p| p.to_string_lossy().contains("/event_type="))
                .count();
            if rows.len() >= 2 && on_disk > named {
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the ingest finished before it could be killed"
            );
            assert!(Instant::now() < deadline, "the ingest made no progress");
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL on unix
        let status = child.wait().unwrap();
        assert!(!status.success(), "the first run was killed, not finished");
        committed_at_kill = ledger_rows(&lake).len();
        assert!(
            committed_at_kill < FILES,
            "killed half way ({committed_at_kill} of {FILES} committed)"
        );
        let pending_at_kill = walk(&lake.join("bronze/_ingest_log/_pending")).len();
        let lines_at_kill = bronze_lines_on_disk(&lake, true).len();
        eprintln!(
            "attempt {attempt}: killed with {committed_at_kill} files committed, {pending_at_kill} in flight, {lines_at_kill} lines on disk"
        );
        if pending_at_kill > 0 && lines_at_kill > committed_at_kill * PER_FILE {
            caught = true;
            break;
        }
    }
    assert!(
        caught,
        "no attempt killed the ingest with uncommitted records on disk"
    );

    // Second run finishes the job.
    let out = run().output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{committed_at_kill} already ingested")),
        "{stdout}"
    );

    // Every record exactly once among all files on disk (not only those the ledger names),
    // and no staging file of a killed write is left behind.
    assert!(
        !walk(&lake)
            .iter()
            .any(|p| p.to_string_lossy().contains('#'))
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (_, line) in bronze_lines(&lake) {
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        *seen
            .entry(v["event_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(seen.len(), FILES * PER_FILE);
    let dupes: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).take(5).collect();
    assert!(
        dupes.is_empty(),
        "records written more than once: {dupes:?}"
    );
    assert_eq!(ledger_rows(&lake).len(), FILES);
    assert!(
        walk(&lake.join("bronze/_ingest_log/_pending")).is_empty(),
        "no marker is left"
    );
    // A third run is a no-op.
    let out = run().output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{FILES} already ingested")));
}
