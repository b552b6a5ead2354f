//! Bad input: a huge line is quarantined by reference in bounded memory, and every kind of
//! bad input is refused or quarantined with a reason that says what and where.

mod common;

use std::path::Path;
use std::process::Command;

use cclake::lake::Lake;

use common::record;

fn cclake(lake: &Path, args: &[&str]) -> (bool, String, String) {
    common::cclake_on(lake, args)
}

fn set_ingest_limits(root: &Path, max_record_bytes: usize, max_partitions: usize) {
    let file = root.join("_config/pipeline.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let text = cclake::config::DEFAULT_PIPELINE
        .replace(
            "max_record_bytes = 268435456",
            &format!("max_record_bytes = {max_record_bytes}"),
        )
        .replace(
            "max_partitions_per_input = 10000",
            &format!("max_partitions_per_input = {max_partitions}"),
        );
    std::fs::write(file, text).unwrap();
}

#[test]
fn a_huge_line_is_quarantined_by_reference_in_bounded_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    // One line of 1 GiB between two records, in a gzip file of about a megabyte.
    let input = dir.path().join("huge.ndjson.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&input).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all((record("before", "2026-10-01T10:00:00Z") + "\n").as_bytes())
        .unwrap();
    enc.write_all(br#"{"event_id":"huge","blob":""#).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&chunk).unwrap();
    }
    enc.write_all(b"\"}\n").unwrap();
    enc.write_all((record("after", "2026-10-01T11:00:00Z") + "\n").as_bytes())
        .unwrap();
    enc.finish().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_cclake"))
        .arg("--lake")
        .arg(&root)
        .args(["ingest", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "{}",
        String::from_utf8_lossy(&child.stderr)
    );
    // The ingest's peak memory stayed near the default 256 MiB limit, not the 1 GiB line.
    let peak_kib = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss
    };
    assert!(peak_kib < 600 * 1024, "peak RSS {peak_kib} KiB");
    let ledger = common::ledger_rows(&root);
    assert_eq!(
        (
            ledger[0]["records"].as_u64(),
            ledger[0]["bronze_records"].as_u64(),
            ledger[0]["quarantined"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    let q = common::quarantine_rows(&root);
    assert_eq!(q[0]["line"], 2);
    assert!(q[0]["length"].as_u64().unwrap() > 1 << 30);
    assert!(q[0]["raw"].as_str().unwrap().len() <= 4096);
    assert!(
        q[0]["raw"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"event_id":"huge""#)
    );
    assert!(
        q[0]["error"].as_str().unwrap().contains("not copied"),
        "{}",
        q[0]["error"]
    );
}

#[test]
fn bad_inputs_are_refused_or_quarantined_with_a_clear_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    set_ingest_limits(&root, 1 << 20, 50);
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    // A file whose records spread over 100 hours: over the limit of 50 partitions.
    let spread: Vec<String> = (0..100)
        .map(|h| {
            let at = chrono::DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z").unwrap()
                + chrono::Duration::hours(h);
            record(&format!("s{h}"), &at.to_rfc3339())
        })
        .collect();
    std::fs::write(inputs.join("spread.ndjson"), spread.join("\n")).unwrap();
    // Occurrence times outside 1970–9999, beside a good record.
    std::fs::write(
        inputs.join("years.ndjson"),
        [
            record("ok", "2026-10-01T10:00:00Z"),
            record("old", "1900-01-01T00:00:00Z"),
            r#"{"event_id":"far","timestamp":253402300800000}"#.to_string(),
        ]
        .join("\n"),
    )
    .unwrap();
    // A damaged gzip over 8 MiB: copied into the lake beside its quarantine row, streamed.
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() < 10 << 20 {
        text.push_str(&record(
            &format!("g{i}-{:x}", i * 2654435761),
            "2026-10-02T10:00:00Z",
        ));
        text.push('\n');
        i += 1;
    }
    let mut gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    gz.truncate(gz.len() - 100);
    assert!(gz.len() > 8 << 20);
    std::fs::write(inputs.join("damaged.json.gz"), &gz).unwrap();
    // A folder that cannot be read (a loop of links) is passed over, not fatal.
    std::os::unix::fs::symlink(&inputs, inputs.join("loop")).unwrap();

    let summary = common::ingest(&lake, std::slice::from_ref(&inputs));
    let failed: Vec<String> = summary
        .outcomes
        .iter()
        .filter_map(|o| match o {
            cclake::bronze::FileOutcome::Failed { source_path, error } => {
                Some(format!("{source_path}: {error}"))
            }
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].contains("spread.ndjson") && failed[0].contains("more than 50"),
        "{failed:?}"
    );
    assert!(summary.skipped.iter().any(|(p, _)| p.ends_with("loop")));
    assert!(
        !common::bronze_lines(&root)
            .iter()
            .any(|(_, l)| String::from_utf8_lossy(l).contains("\"s1\"")),
        "nothing of the refused file was written"
    );
    let q = common::quarantine_rows(&root);
    let years: Vec<&serde_json::Value> = q
        .iter()
        .filter(|r| r["source_file"].as_str().unwrap().ends_with("years.ndjson"))
        .collect();
    assert_eq!(years.len(), 2);
    assert!(
        years
            .iter()
            .all(|r| r["error"].as_str().unwrap().contains("outside 1970–9999"))
    );
    let damaged = q
        .iter()
        .find(|r| {
            r["source_file"]
                .as_str()
                .unwrap()
                .ends_with("damaged.json.gz")
        })
        .unwrap();
    let copy = root.join(damaged["original_copy"].as_str().unwrap());
    assert_eq!(
        std::fs::read(copy).unwrap(),
        gz,
        "the whole original, byte for byte"
    );
    for row in common::ledger_rows(&root) {
        assert_eq!(
            row["records"].as_u64().unwrap(),
            row["bronze_records"].as_u64().unwrap() + row["quarantined"].as_u64().unwrap()
        );
    }

    // A folder holding the lake, or inside it, is refused before anything is read.
    for folder in [dir.path().to_path_buf(), root.join("bronze")] {
        let (ok, _, err) = cclake(&root, &["ingest", folder.to_str().unwrap()]);
        assert!(!ok);
        assert!(
            err.contains("holds the lake") || err.contains("inside the lake"),
            "{err}"
        );
    }
}
