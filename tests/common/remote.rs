//! Running `cclake` against a lake in object storage, and comparing two lakes' tables: shared
//! by the object-store and cluster tests.

#![allow(dead_code)]

use std::path::Path;

/// `cclake --lake LAKE ARGS…` with the test key and a server's environment.
pub fn cli(lake: &str, env: &[(&'static str, String)], args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["--lake", lake];
    all.extend_from_slice(args);
    let mut vars: Vec<(&str, Option<&str>)> =
        env.iter().map(|(k, v)| (*k, Some(v.as_str()))).collect();
    vars.push(("CCLAKE_HMAC_KEY", Some(crate::common::KEY)));
    crate::common::cclake_env(&all, &vars)
}

pub fn ok(lake: &str, env: &[(&'static str, String)], args: &[&str]) -> String {
    let (done, out, err) = cli(lake, env, args);
    assert!(done, "cclake {args:?}: {out}\n{err}");
    out
}

/// Silver, drift and both Gold tables as sorted CSV lines, clock and file-name columns aside.
pub fn tables(
    lake: &str,
    env: &[(&'static str, String)],
    dir: &Path,
    tag: &str,
) -> Vec<Vec<String>> {
    let queries = [
        "SELECT * EXCLUDE (_ingested_at, _bronze_file) FROM silver_contacts",
        "SELECT * EXCLUDE (processed_at) FROM schema_drift",
        "SELECT * EXCLUDE (computed_at) FROM gold_daily_queue_metrics",
        "SELECT * EXCLUDE (computed_at) FROM gold_hourly_queue_metrics",
    ];
    (queries.iter().enumerate())
        .map(|(i, q)| {
            let f = dir.join(format!("{tag}-{i}.csv"));
            ok(lake, env, &["query", q, "--out", f.to_str().unwrap()]);
            let mut lines: Vec<String> = std::fs::read_to_string(&f)
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
            lines.sort();
            lines
        })
        .collect()
}

/// Asserts the two lakes' tables are equal, naming the first difference.
pub fn assert_same(a: &[Vec<String>], b: &[Vec<String>], what: &str) {
    let names = [
        "silver_contacts",
        "schema_drift",
        "gold_daily",
        "gold_hourly",
    ];
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let first = x.iter().zip(y).find(|(p, q)| p != q);
        assert!(
            x == y,
            "{what}: {} differs ({} vs {} rows): {first:?}",
            names[i],
            x.len(),
            y.len()
        );
    }
}
