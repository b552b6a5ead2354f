//! Helpers shared by the integration tests: reading a lake's Bronze files straight from disk,
//! independently of the library's own readers.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Every record line of every Bronze hour file on disk, with the file's path relative to the
/// lake root. Reads the files directly, not through the ledger. Staging files of a write that
/// was killed (`name#123`) are read too unless `skip_staging`.
pub fn bronze_lines_on_disk(lake: &Path, skip_staging: bool) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walk(&lake.join("bronze")) {
        let rel = entry
            .strip_prefix(lake)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.contains("/_quarantine/") || rel.contains("/_ingest_log/") {
            continue;
        }
        if skip_staging && rel.contains('#') {
            continue;
        }
        let f = std::fs::File::open(&entry).unwrap();
        let r = BufReader::new(flate2::read::MultiGzDecoder::new(f));
        for line in r.split(b'\n') {
            let line = line.unwrap_or_else(|e| panic!("{rel}: {e}"));
            if !line.is_empty() {
                out.push((rel.clone(), line));
            }
        }
    }
    out
}

/// Every record line of every Bronze hour file on disk.
pub fn bronze_lines(lake: &Path) -> Vec<(String, Vec<u8>)> {
    bronze_lines_on_disk(lake, false)
}

/// Every quarantined row, parsed as plain JSON.
pub fn quarantine_rows(lake: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for entry in walk(&lake.join("bronze/_quarantine")) {
        // Copies of whole unreadable inputs sit beside the rows.
        if entry.to_string_lossy().contains("/originals/") {
            continue;
        }
        let f = std::fs::File::open(&entry).unwrap();
        for line in BufReader::new(flate2::read::MultiGzDecoder::new(f)).lines() {
            out.push(serde_json::from_str(&line.unwrap()).unwrap());
        }
    }
    out
}

/// Ledger rows, parsed as plain JSON.
pub fn ledger_rows(lake: &Path) -> Vec<serde_json::Value> {
    let dir = lake.join("bronze/_ingest_log");
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            out.push(serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap());
        }
    }
    out
}

/// All regular files below a folder, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Writes gzip bytes.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Runs a blocking ingest on a fresh runtime, as the CLI does.
pub fn ingest(lake: &cclake::lake::Lake, inputs: &[PathBuf]) -> cclake::bronze::IngestSummary {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lake = lake.clone();
    let inputs = inputs.to_vec();
    rt.block_on(async move {
        tokio::task::spawn_blocking(move || {
            cclake::bronze::ingest(
                &lake,
                &inputs,
                &cclake::bronze::IngestOptions::default(),
                &cclake::pipeline::JobProgress::new(),
            )
        })
        .await
        .unwrap()
        .unwrap()
    })
}

/// A two-worker tokio runtime, as the CLI builds (Silver steps aside with `block_in_place`,
/// which needs the multi-thread flavour).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One Silver row, every column as text (null as `None`).
pub type Row = std::collections::BTreeMap<String, Option<String>>;

/// Every row of a lake table, every column cast to text, read back through DataFusion.
pub fn table_rows(rt: &tokio::runtime::Runtime, lake: &cclake::lake::Lake, rel: &str) -> Vec<Row> {
    use arrow::array::Array;
    use cclake::lake::delta;
    rt.block_on(async {
        let table = delta::open(lake, rel).await.unwrap();
        let ctx = datafusion::prelude::SessionContext::new();
        assert!(delta::register(&ctx, "t", &table).await.unwrap());
        let batches = ctx
            .sql("SELECT * FROM t")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut out = Vec::new();
        for b in batches {
            let cols: Vec<(String, arrow::array::StringArray)> = b
                .schema()
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name().clone(), delta::utf8_column(b.column(i)).unwrap()))
                .collect();
            for r in 0..b.num_rows() {
                out.push(
                    cols.iter()
                        .map(|(n, a)| (n.clone(), (!a.is_null(r)).then(|| a.value(r).to_string())))
                        .collect(),
                );
            }
        }
        out
    })
}

/// Every Silver contact row.
pub fn silver_rows(rt: &tokio::runtime::Runtime, lake: &cclake::lake::Lake) -> Vec<Row> {
    table_rows(rt, lake, cclake::lake::delta::SILVER_CONTACTS)
}

/// The HMAC key the tests mask with (long enough for the CLI's check too).
pub const KEY: &str = "cclake-test-key-0123456789abcdef0123456789";

pub fn key() -> cclake::silver::digest::HmacKey {
    cclake::silver::digest::HmacKey::from_bytes(KEY.as_bytes().to_vec())
}

/// A local lake `name` in `dir`.
pub fn lake(dir: &Path, name: &str) -> cclake::lake::Lake {
    cclake::lake::Lake::open(dir.join(name).to_str().unwrap()).unwrap()
}

/// Silver then Gold with the test key, as `cclake process` runs them.
pub fn process(
    rt: &tokio::runtime::Runtime,
    lake: &cclake::lake::Lake,
    mode: cclake::silver::ProcessMode,
) -> cclake::pipeline::LayersSummary {
    rt.block_on(cclake::pipeline::process(
        lake,
        mode,
        key(),
        &cclake::pipeline::JobProgress::new(),
    ))
    .unwrap()
}

/// Silver alone with the test key.
pub fn process_silver(
    rt: &tokio::runtime::Runtime,
    lake: &cclake::lake::Lake,
    mode: cclake::silver::ProcessMode,
) -> cclake::silver::ProcessSummary {
    rt.block_on(cclake::silver::process(
        lake,
        mode,
        key(),
        &cclake::pipeline::JobProgress::new(),
    ))
    .unwrap()
}

/// Demo exports written to `out` from October 2026.
pub fn generate(out: &Path, days: u32, contacts_per_day: u32, seed: u64) {
    cclake::demo::generate(
        &cclake::demo::GenerateOptions {
            out: out.to_path_buf(),
            days,
            contacts_per_day,
            seed,
            start: "2026-10-01".parse().unwrap(),
        },
        &cclake::pipeline::JobProgress::new(),
    )
    .unwrap();
}

/// A lake `lake` in `dir` holding generated exports (in `dir/exports`), ingested and
/// processed to Gold.
pub fn demo_lake(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    days: u32,
    contacts_per_day: u32,
    seed: u64,
) -> cclake::lake::Lake {
    let exports = dir.join("exports");
    generate(&exports, days, contacts_per_day, seed);
    let lake = lake(dir, "lake");
    ingest(&lake, &[exports]);
    process(rt, &lake, cclake::silver::ProcessMode::Incremental);
    lake
}

/// The `cclake` binary with these environment variables set (`None`: removed), the HMAC key
/// variables removed unless set here, and `CCLAKE_LAKE` removed: (success, stdout, stderr).
pub fn cclake_env(args: &[&str], env: &[(&str, Option<&str>)]) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cclake"));
    cmd.args(args)
        .env_remove("CCLAKE_LAKE")
        .env_remove("CCLAKE_HMAC_KEY")
        .env_remove("CCLAKE_HMAC_KEY_FILE");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cclake --lake LAKE ARGS…` with the test key: (success, stdout, stderr).
pub fn cclake_on(lake: &Path, args: &[&str]) -> (bool, String, String) {
    let lake = lake.to_str().unwrap();
    let mut all = vec!["--lake", lake];
    all.extend_from_slice(args);
    cclake_env(&all, &[("CCLAKE_HMAC_KEY", Some(KEY))])
}

/// A generic-shape record of `id` at `at` with a phone number, as NDJSON.
pub fn record(id: &str, at: &str) -> String {
    format!(
        r#"{{"event_id":"{id}","timestamp":"{at}","queue_name":"Billing","outcome_status":"Completed","duration_seconds":60,"phone_number":"+13175550123"}}"#
    )
}

/// Writes `lines` to `dir/name` and ingests the file.
pub fn ingest_lines(lake: &cclake::lake::Lake, dir: &Path, name: &str, lines: &[String]) {
    let f = dir.join(name);
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    ingest(lake, &[f]);
}
