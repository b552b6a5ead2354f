//! Lifecycle against late data and a shared cold store: a late record into a cold hour is
//! moved, one into an expired hour is kept and reported, a cold store belongs to one lake, and
//! quarantined raw records expire with Bronze.

mod common;

use std::path::Path;

use cclake::lake::Lake;
use cclake::pipeline::{self, JobProgress};
use cclake::silver::ProcessMode;

use common::{ingest_lines, record};

fn cclake(lake: &Path, args: &[&str]) -> (bool, String, String) {
    common::cclake_on(lake, args)
}

fn lifecycle_apply(
    rt: &tokio::runtime::Runtime,
    lake: &Lake,
    now: &str,
) -> cclake::lifecycle::Plan {
    let plan = rt
        .block_on(cclake::lifecycle::plan(lake, now.parse().unwrap()))
        .unwrap();
    rt.block_on(cclake::lifecycle::apply(lake, plan, &JobProgress::new()))
        .unwrap()
}

fn process_full(rt: &tokio::runtime::Runtime, lake: &Lake) -> pipeline::LayersSummary {
    common::process(rt, lake, ProcessMode::Full)
}

/// Every Bronze line in the hot lake and the cold store, by event id.
fn bronze_ids(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = common::bronze_lines(root)
        .into_iter()
        .chain(common::bronze_lines(&root.with_file_name("lake-cold")))
        .map(|(_, l)| {
            let v: serde_json::Value = serde_json::from_slice(&l).unwrap();
            v["event_id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn late_data_into_a_cold_hour_is_moved_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let rt = common::runtime();
    ingest_lines(
        &lake,
        dir.path(),
        "a.ndjson",
        &[record("early", "2025-01-01T10:00:00Z")],
    );
    let done = lifecycle_apply(&rt, &lake, "2025-06-01");
    assert_eq!(done.moves(), 1);
    // A late delivery into the same hour, after it moved.
    ingest_lines(
        &lake,
        dir.path(),
        "b.ndjson",
        &[record("late", "2025-01-01T10:30:00Z")],
    );
    assert_eq!(bronze_ids(&root), vec!["early", "late"]);
    let plan = rt
        .block_on(cclake::lifecycle::plan(
            &lake,
            "2025-06-02".parse().unwrap(),
        ))
        .unwrap();
    assert_eq!((plan.moves(), plan.late_files()), (1, 1), "{plan:?}");
    rt.block_on(cclake::lifecycle::apply(&lake, plan, &JobProgress::new()))
        .unwrap();
    // Both are in Bronze exactly once (in the cold store now), and Silver rebuilds from both.
    assert_eq!(bronze_ids(&root), vec!["early", "late"]);
    assert!(common::bronze_lines(&root).is_empty(), "nothing left hot");
    let s = process_full(&rt, &lake);
    assert_eq!(s.silver.rows_out, 2);
}

#[test]
fn late_data_into_an_expired_hour_is_kept_reported_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let rt = common::runtime();
    ingest_lines(
        &lake,
        dir.path(),
        "a.ndjson",
        &[
            record("old-1", "2023-01-01T10:00:00Z"),
            record("old-2", "2023-01-01T11:00:00Z"),
            record("recent", "2025-05-30T09:00:00Z"),
        ],
    );
    process_full(&rt, &lake);
    let done = lifecycle_apply(&rt, &lake, "2025-06-01");
    assert_eq!(done.deletes(), 2);
    assert_eq!(bronze_ids(&root), vec!["recent"]);
    // A re-delivery lands in an hour that expired.
    ingest_lines(
        &lake,
        dir.path(),
        "b.ndjson",
        &[record("old-late", "2023-01-01T10:30:00Z")],
    );
    assert_eq!(
        bronze_ids(&root),
        vec!["old-late", "recent"],
        "kept in Bronze"
    );
    for mode in [ProcessMode::Incremental, ProcessMode::Full] {
        let s = rt
            .block_on(pipeline::process(
                &lake,
                mode,
                common::key(),
                &JobProgress::new(),
            ))
            .unwrap();
        // The date with expired Bronze is frozen: its Silver rows stay as built from all of
        // its Bronze, and the run says so.
        assert_eq!(s.silver.frozen_dates, vec!["2023-01-01".parse().unwrap()]);
    }
    let rows = common::silver_rows(&rt, &lake);
    let ids: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r["event_id"].as_deref())
        .collect();
    assert_eq!(
        ids.into_iter().collect::<Vec<_>>(),
        vec!["old-1", "old-2", "recent"]
    );
    // The CLI reports it too, and lifecycle's next plan lists the late file.
    let (ok, out, err) = cclake(&root, &["process", "--full"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("1 dates frozen") && out.contains("2023-01-01"),
        "{out}"
    );
    let plan = rt
        .block_on(cclake::lifecycle::plan(
            &lake,
            "2025-06-02".parse().unwrap(),
        ))
        .unwrap();
    assert_eq!((plan.deletes(), plan.late_files()), (1, 1), "{plan:?}");
    // status counts the expired records apart from what Bronze still holds.
    let (ok, out, _) = cclake(&root, &["status"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("records read 4 = Bronze 2 + expired 2 + quarantined 0"),
        "{out}"
    );
    assert!(!out.contains("DOES NOT ADD UP"), "{out}");
}

#[test]
fn a_cold_store_belongs_to_one_lake_and_is_never_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let mut lakes = Vec::new();
    for name in ["a", "b"] {
        let root = dir.path().join(name);
        let lake = Lake::open(root.to_str().unwrap()).unwrap();
        ingest_lines(
            &lake,
            dir.path(),
            &format!("{name}.ndjson"),
            &[record(name, "2025-01-01T10:00:00Z")],
        );
        lakes.push((root, lake));
    }
    // Side by side, each gets its own default cold store.
    for (root, lake) in &lakes {
        let plan = lifecycle_apply(&rt, lake, "2025-06-01");
        assert_eq!(plan.cold_store, format!("{}-cold", root.display()));
    }
    // A configured cold store that is the lake, inside it, or another lake's is refused.
    let (root_b, lake_b) = &lakes[1];
    let a_cold = format!("{}-cold", lakes[0].0.display());
    for (cold, why) in [
        (root_b.display().to_string(), "is the lake"),
        (root_b.join("cold").display().to_string(), "is inside"),
        (a_cold.clone(), "another lake"),
    ] {
        let e = rt
            .block_on(cclake::lifecycle::open_cold_store(lake_b, &cold))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(why) || e.contains("is the lake"), "{cold}: {e}");
    }
    // A move whose target exists with other bytes keeps the hot copy.
    let (root_a, lake_a) = &lakes[0];
    ingest_lines(
        lake_a,
        dir.path(),
        "a2.ndjson",
        &[record("a-late", "2025-01-01T10:10:00Z")],
    );
    let plan = rt
        .block_on(cclake::lifecycle::plan(
            lake_a,
            "2025-06-02".parse().unwrap(),
        ))
        .unwrap();
    let target = std::path::Path::new(&a_cold).join(&plan.partitions[0].paths[0]);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, b"not the same bytes").unwrap();
    let e = rt
        .block_on(cclake::lifecycle::apply(lake_a, plan, &JobProgress::new()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("different"), "{e}");
    assert!(
        common::bronze_lines(root_a)
            .iter()
            .any(|(_, l)| String::from_utf8_lossy(l).contains("a-late")),
        "the hot copy is still there"
    );
}

#[test]
fn quarantined_raw_records_expire_with_bronze() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let lake = Lake::open(root.to_str().unwrap()).unwrap();
    let rt = common::runtime();
    ingest_lines(
        &lake,
        dir.path(),
        "a.ndjson",
        &[
            record("ok", "2026-10-01T10:00:00Z"),
            "{not json".to_string(),
        ],
    );
    assert_eq!(common::quarantine_rows(&root).len(), 1);
    // Quarantine ages from the day it was ingested: not due on the day, due after 730 days.
    let today = chrono::Utc::now().date_naive();
    let plan = rt.block_on(cclake::lifecycle::plan(&lake, today)).unwrap();
    assert!(plan.partitions.iter().all(|p| p.event_type != "quarantine"));
    let later = (today + chrono::Duration::days(800)).to_string();
    let done = lifecycle_apply(&rt, &lake, &later);
    assert!(
        done.partitions
            .iter()
            .any(|p| p.event_type == "quarantine" && p.action == cclake::lifecycle::Action::Delete)
    );
    assert!(common::quarantine_rows(&root).is_empty());
    let (ok, out, err) = cclake(&root, &["quarantine"]);
    assert!(ok, "{err}");
    assert!(!out.contains("not json"), "{out}");
}
