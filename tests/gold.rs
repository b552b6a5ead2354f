//! Gold end to end: every KPI checked against an independent computation written here (plain
//! Rust over the Silver rows, chrono-tz for the reporting zone, a direct scan for FCR), the
//! SPEC §4 edge cases by hand, late data, incremental = full, time-zone days, lifecycle.

mod common;

use std::collections::BTreeMap;

use cclake::gold::{self, GoldMode};
use cclake::lake::Lake;
use cclake::lake::delta;
use cclake::pipeline::JobProgress;
use cclake::silver::ProcessMode;
use chrono::{NaiveDate, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use common::runtime as rt;

use common::{lake as new_lake, process};

mod gold_oracle;
use gold_oracle::*;

fn set_pipeline(rt: &tokio::runtime::Runtime, lake: &Lake, edits: &[(&str, &str)]) {
    rt.block_on(async {
        let mut text = cclake::config::read_or_init(
            lake,
            cclake::config::PIPELINE_FILE,
            cclake::config::DEFAULT_PIPELINE,
        )
        .await
        .unwrap();
        for (from, to) in edits {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        cclake::config::write(lake, cclake::config::PIPELINE_FILE, &text)
            .await
            .unwrap();
    });
}

#[test]
fn generated_lake_matches_the_independent_computation_across_a_dst_change() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    cclake::demo::generate(
        &cclake::demo::GenerateOptions {
            out: exports.clone(),
            days: 10,
            contacts_per_day: 300,
            seed: 7,
            // Spans 2026-11-01, when New York falls back: that local day has 25 hours.
            start: "2026-10-27".parse().unwrap(),
        },
        &JobProgress::new(),
    )
    .unwrap();
    let lake = new_lake(dir.path(), "lake");
    let rt = rt();
    set_pipeline(
        &rt,
        &lake,
        &[
            (
                "reporting_timezone = \"UTC\"",
                "reporting_timezone = \"America/New_York\"",
            ),
            ("service_level_seconds = 20", "service_level_seconds = 30"),
            ("fcr_window_days = 7", "fcr_window_days = 3"),
        ],
    );
    common::ingest(&lake, &[exports]);
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert!(s.gold.full_rebuild && !s.gold.dates.is_empty());
    let settings = Settings {
        tz: chrono_tz::America::New_York,
        sl: 30.0,
        short: 5.0,
        window_days: 3,
    };
    check_against_oracle(&rt, &lake, &settings);
    // 01:30 EDT and 01:30 EST on the fall-back day are two hours with the same clock hour.
    let ambiguous = vec![
        generic("dst1", "2026-11-01T05:30:00Z", "DST", "Completed", 5.0, ""),
        generic("dst2", "2026-11-01T06:30:00Z", "DST", "Completed", 5.0, ""),
    ];
    common::ingest(&lake, &[write(dir.path(), "dst.ndjson", &ambiguous)]);
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert!(!s.gold.full_rebuild);
    let hours = sql(
        &rt,
        &lake,
        "SELECT hour, hour_start FROM gold_hourly_queue_metrics
         WHERE date = DATE '2026-11-01' AND queue_id = 'DST' ORDER BY hour_start",
    );
    assert_eq!(ints(&hours[0], "hour"), vec![Some(1), Some(1)]);
    let starts = micros(&hours[0], "hour_start");
    assert_eq!(starts[1] - starts[0], 3_600_000_000);
    check_against_oracle(&rt, &lake, &settings);

    // Changing a setting rebuilds Gold in full with the new value.
    set_pipeline(
        &rt,
        &lake,
        &[("short_abandon_seconds = 5", "short_abandon_seconds = 12")],
    );
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert!(s.silver.dates.is_empty());
    assert!(s.gold.full_rebuild, "{}", s.gold.reason);
    check_against_oracle(
        &rt,
        &lake,
        &Settings {
            short: 12.0,
            ..settings
        },
    );
}

fn generic(id: &str, at: &str, queue: &str, status: &str, wait: f64, extra: &str) -> String {
    format!(
        r#"{{"event_id":"{id}","timestamp":"{at}","queue_name":"{queue}","outcome_status":"{status}","wait_seconds":{wait},"duration_seconds":300{extra}}}"#
    )
}

#[test]
fn spec_edge_cases_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let lake = new_lake(dir.path(), "lake");
    let p1 = r#","phone_number":"(317) 555-0101""#;
    let p2 = r#","phone_number":"(317) 555-0102""#;
    let p3 = r#","phone_number":"(317) 555-0103""#;
    let p4 = r#","phone_number":"(317) 555-0104""#;
    let lines = vec![
        // Only abandons: one short (3 s < 5 s), one not. AHT, ASA, FCR null; SL 0 / 1.
        generic(
            "a1",
            "2026-09-01T10:00:00Z",
            "OnlyAbandons",
            "Abandoned",
            3.0,
            "",
        ),
        generic(
            "a2",
            "2026-09-01T11:00:00Z",
            "OnlyAbandons",
            "Abandoned",
            30.0,
            "",
        ),
        // Only a short abandon: the SL divisor is 0, so SL is null.
        generic(
            "z1",
            "2026-09-01T10:00:00Z",
            "ShortOnly",
            "Abandoned",
            2.0,
            "",
        ),
        // FCR: p1 answered, repeats exactly 7 days later (inside the window): not resolved.
        generic(
            "f1",
            "2026-09-01T09:00:00Z",
            "Sales",
            "Completed",
            10.0,
            &format!("{p1},\"csat\":4"),
        ),
        generic("f2", "2026-09-08T09:00:00Z", "Other", "Abandoned", 40.0, p1),
        // p2 answered, repeats 7 days and 1 second later (outside): resolved.
        generic("f3", "2026-09-01T09:30:00Z", "Sales", "Completed", 25.0, p2),
        generic("f4", "2026-09-08T09:30:01Z", "Other", "Completed", 1.0, p2),
        // No phone: answered, but not in the FCR denominator; no CSAT.
        generic("n1", "2026-09-01T12:00:00Z", "Sales", "Completed", 20.0, ""),
        // p3 calls twice at the very same instant and never again: one visit, both resolved.
        // p4 comes back one microsecond later: the first is not resolved, the second is.
        generic("t1", "2026-09-01T13:00:00Z", "Ties", "Completed", 5.0, p3),
        generic("t2", "2026-09-01T13:00:00Z", "Ties", "Completed", 5.0, p3),
        generic("t3", "2026-09-01T14:00:00Z", "Ties", "Completed", 5.0, p4),
        generic(
            "t4",
            "2026-09-01T14:00:00.000001Z",
            "Ties",
            "Completed",
            5.0,
            p4,
        ),
    ];
    let f = write(dir.path(), "edge.ndjson", &lines);
    common::ingest(&lake, &[f]);
    let rt = rt();
    process(&rt, &lake, ProcessMode::Incremental);
    let g = gold(&rt, &lake, false);
    let d1: NaiveDate = "2026-09-01".parse().unwrap();
    let row = |q: &str| &g[&(d1, 0, Some(q.to_string()))];

    let a = row("OnlyAbandons");
    assert_eq!((a.total, a.answered, a.abandoned, a.short), (2, 0, 2, 1));
    assert_eq!(
        (a.aht, a.asa, a.fcr, a.csat, a.csat_n),
        (None, None, None, None, 0)
    );
    assert_eq!(a.sl, Some(0.0));
    assert_eq!(a.abandon_rate, Some(100.0));

    let z = row("ShortOnly");
    assert_eq!((z.abandoned, z.short, z.sl), (1, 1, None));

    let s = row("Sales");
    assert_eq!((s.total, s.answered, s.abandoned), (3, 3, 0));
    // Waits 10, 25, 20 against 20 s: two of three within.
    assert!(close(s.sl, Some(200.0 / 3.0)), "{s:?}");
    assert!(close(s.asa, Some(55.0 / 3.0)));
    assert_eq!(s.aht, Some(300.0));
    // f1 repeats at exactly +7 d (not resolved), f3 at +7 d 1 s (resolved), n1 has no key.
    assert_eq!(s.fcr, Some(50.0));
    assert_eq!((s.csat, s.csat_n), (Some(4.0), 1));
    assert_eq!(s.abandon_rate, Some(0.0));
    let t = row("Ties");
    assert_eq!((t.total, t.answered, t.fcr), (4, 4, Some(75.0)), "{t:?}");
    check_against_oracle(&rt, &lake, &utc_settings());

    // A window of zero days: nobody can come back within it, so every answered contact with a
    // caller key is resolved.
    set_pipeline(
        &rt,
        &lake,
        &[("fcr_window_days = 7", "fcr_window_days = 0")],
    );
    let run = process(&rt, &lake, ProcessMode::Incremental);
    assert!(run.gold.full_rebuild, "{}", run.gold.reason);
    let g = gold(&rt, &lake, false);
    let t = &g[&(d1, 0, Some("Ties".to_string()))];
    assert_eq!(t.fcr, Some(100.0), "{t:?}");
    check_against_oracle(
        &rt,
        &lake,
        &Settings {
            window_days: 0,
            ..utc_settings()
        },
    );
}

#[test]
fn the_reporting_zone_decides_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let lake = new_lake(dir.path(), "lake");
    let rt = rt();
    set_pipeline(
        &rt,
        &lake,
        &[(
            "reporting_timezone = \"UTC\"",
            "reporting_timezone = \"America/New_York\"",
        )],
    );
    // 03:30 UTC is 23:30 the day before in New York (EDT, UTC-4); 04:30 UTC is 00:30.
    let lines = vec![
        generic("t1", "2026-10-05T03:30:00Z", "Q", "Completed", 5.0, ""),
        generic("t2", "2026-10-05T04:30:00Z", "Q", "Completed", 5.0, ""),
    ];
    common::ingest(&lake, &[write(dir.path(), "tz.ndjson", &lines)]);
    process(&rt, &lake, ProcessMode::Incremental);
    let g = gold(&rt, &lake, false);
    let days: Vec<String> = g.keys().map(|k| k.0.to_string()).collect();
    assert_eq!(days, vec!["2026-10-04", "2026-10-05"]);
    let h = gold(&rt, &lake, true);
    let starts: Vec<i64> = h.keys().map(|k| k.1).collect();
    assert_eq!(
        starts,
        vec![
            Utc.with_ymd_and_hms(2026, 10, 5, 3, 0, 0)
                .unwrap()
                .timestamp_micros(),
            Utc.with_ymd_and_hms(2026, 10, 5, 4, 0, 0)
                .unwrap()
                .timestamp_micros(),
        ]
    );
    let hours = sql(
        &rt,
        &lake,
        "SELECT hour FROM gold_hourly_queue_metrics ORDER BY hour_start",
    );
    assert_eq!(ints(&hours[0], "hour"), vec![Some(23), Some(0)]);
}

/// Ten days of contacts from a small set of callers, so FCR windows cross days.
fn ten_days(seed: u64) -> Vec<String> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut lines = Vec::new();
    for day in 1..=10 {
        for i in 0..40 {
            let caller = rng.random_range(0..30);
            let status =
                ["Completed", "Abandoned", "Transferred", "Voicemail"][rng.random_range(0..4)];
            let at = Utc.with_ymd_and_hms(2026, 9, day, 0, 0, 0).unwrap()
                + chrono::Duration::seconds(rng.random_range(0..86_400));
            let phone = if rng.random_bool(0.9) {
                format!(r#","phone_number":"(317) 555-{:04}""#, 100 + caller)
            } else {
                String::new()
            };
            let csat = if rng.random_bool(0.3) {
                format!(r#","csat":{}"#, rng.random_range(1..=5))
            } else {
                String::new()
            };
            lines.push(generic(
                &format!("d{day}-{i}"),
                &at.to_rfc3339(),
                ["Sales", "Billing", "Support"][rng.random_range(0..3)],
                status,
                rng.random_range(0.0..90.0f64).round(),
                &(phone + &csat),
            ));
        }
    }
    lines
}

type GoldSnapshot = (BTreeMap<Key, Kpi>, BTreeMap<Key, Kpi>);

fn snapshot(rt: &tokio::runtime::Runtime, lake: &Lake) -> GoldSnapshot {
    (gold(rt, lake, false), gold(rt, lake, true))
}

#[test]
fn a_late_file_recomputes_its_day_and_the_fcr_window_before_it_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let lines = ten_days(3);
    let main = write(dir.path(), "days.ndjson", &lines);
    let late_lines: Vec<String> = (0..5)
        .map(|i| {
            generic(
                &format!("late{i}"),
                &format!("2026-09-03T1{i}:15:00Z"),
                "Sales",
                "Completed",
                12.0,
                &format!(r#","phone_number":"(317) 555-{:04}""#, 100 + i),
            )
        })
        .collect();
    let late = write(dir.path(), "late.ndjson", &late_lines);

    let lake = new_lake(dir.path(), "lake");
    let rt = rt();
    set_pipeline(
        &rt,
        &lake,
        &[("fcr_window_days = 7", "fcr_window_days = 2")],
    );
    common::ingest(&lake, std::slice::from_ref(&main));
    process(&rt, &lake, ProcessMode::Incremental);
    let before = rt
        .block_on(delta::table_stats(&lake, delta::GOLD_DAILY))
        .unwrap();
    let gold_before = snapshot(&rt, &lake);

    common::ingest(&lake, std::slice::from_ref(&late));
    let s = process(&rt, &lake, ProcessMode::Incremental);
    assert_eq!(
        s.silver
            .dates
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>(),
        vec!["2026-09-03"]
    );
    // Day 3 and the two days before it (their FCR can see day 3), nothing else.
    assert!(!s.gold.full_rebuild);
    assert_eq!(
        s.gold
            .dates
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>(),
        vec!["2026-09-01", "2026-09-02", "2026-09-03"]
    );
    let after = rt
        .block_on(delta::table_stats(&lake, delta::GOLD_DAILY))
        .unwrap();
    for (b, a) in before.partitions.iter().zip(&after.partitions) {
        assert_eq!(a.date, b.date);
        if a.date.as_str() <= "2026-09-03" {
            assert!(a.last_modified >= b.last_modified);
        } else {
            assert_eq!(a, b, "untouched Gold date {} keeps its files", a.date);
        }
    }
    // The newest Gold commit adds and removes files of the recomputed dates only.
    let log = dir.path().join("lake/gold/daily_queue_metrics/_delta_log");
    let mut commits: Vec<_> = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    commits.sort();
    for line in std::fs::read_to_string(commits.last().unwrap())
        .unwrap()
        .lines()
    {
        let a: serde_json::Value = serde_json::from_str(line).unwrap();
        for kind in ["add", "remove"] {
            if let Some(x) = a.get(kind) {
                let d = x["partitionValues"]["date"].as_str().unwrap();
                assert!(d <= "2026-09-03", "{line}");
            }
        }
    }
    let gold_after = snapshot(&rt, &lake);
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    for (k, v) in &gold_before.0 {
        if k.0 > day("2026-09-03") {
            assert_eq!(gold_after.0.get(k), Some(v));
        }
    }
    assert_ne!(
        gold_before
            .0
            .range((day("2026-09-03"), 0, None)..(day("2026-09-04"), 0, None))
            .count(),
        0
    );
    assert_ne!(
        gold_before.0, gold_after.0,
        "the late contacts changed day 3"
    );
    let settings = Settings {
        window_days: 2,
        ..utc_settings()
    };
    check_against_oracle(&rt, &lake, &settings);

    // Equal to one full rebuild of the same inputs on a fresh lake.
    let fresh = new_lake(dir.path(), "fresh");
    set_pipeline(
        &rt,
        &fresh,
        &[("fcr_window_days = 7", "fcr_window_days = 2")],
    );
    common::ingest(&fresh, &[main, late]);
    process(&rt, &fresh, ProcessMode::Full);
    assert_eq!(snapshot(&rt, &fresh), gold_after);
}

#[test]
fn any_split_into_batches_processed_incrementally_gives_the_gold_of_a_full_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let lines = ten_days(11);
    let rt = rt();
    for seed in 0..3u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut shuffled = lines.clone();
        shuffled.shuffle(&mut rng);
        // Cut into 2–5 batches of random sizes (each one input file).
        let cuts = rng.random_range(1..5);
        let mut points: Vec<usize> = (0..cuts)
            .map(|_| rng.random_range(1..shuffled.len()))
            .collect();
        points.sort();
        points.dedup();
        let mut batches = Vec::new();
        let mut start = 0;
        for p in points.into_iter().chain([shuffled.len()]) {
            batches.push(write(
                dir.path(),
                &format!("s{seed}-b{start}.ndjson"),
                &shuffled[start..p],
            ));
            start = p;
        }
        let inc = new_lake(dir.path(), &format!("inc{seed}"));
        for b in &batches {
            common::ingest(&inc, std::slice::from_ref(b));
            process(&rt, &inc, ProcessMode::Incremental);
        }
        let full = new_lake(dir.path(), &format!("full{seed}"));
        common::ingest(&full, &batches);
        process(&rt, &full, ProcessMode::Full);
        assert_eq!(
            snapshot(&rt, &inc),
            snapshot(&rt, &full),
            "seed {seed}: {} batches",
            batches.len()
        );
        // And a Gold-only full rebuild of the incremental lake changes nothing.
        let before = snapshot(&rt, &inc);
        rt.block_on(gold::build(&inc, GoldMode::Full, &JobProgress::new()))
            .unwrap();
        assert_eq!(snapshot(&rt, &inc), before);
    }
}

#[test]
fn lifecycle_plans_then_moves_and_expires_old_partitions_and_cold_data_stays_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let lake = new_lake(dir.path(), "lake");
    let lines = vec![
        generic("old", "2024-01-02T10:00:00Z", "Q", "Completed", 5.0, ""),
        generic("cold", "2026-06-01T10:00:00Z", "Q", "Completed", 5.0, ""),
        generic("new", "2026-11-20T10:00:00Z", "Q", "Completed", 5.0, ""),
    ];
    common::ingest(&lake, &[write(dir.path(), "in.ndjson", &lines)]);
    let rt = rt();
    process(&rt, &lake, ProcessMode::Incremental);
    let now: NaiveDate = "2026-11-26".parse().unwrap();
    let files_before = common::walk(&dir.path().join("lake/bronze"));

    let plan = rt.block_on(cclake::lifecycle::plan(&lake, now)).unwrap();
    assert!(!plan.applied);
    assert_eq!((plan.moves(), plan.deletes()), (1, 1), "{plan:?}");
    assert!(
        plan.partitions
            .iter()
            .any(|p| p.partition.contains("year=2026/month=06"))
    );
    // The default cold store is the lake's own sibling, never shared with other lakes.
    assert_eq!(
        plan.cold_store,
        dir.path().join("lake-cold").display().to_string()
    );
    // A dry run changes nothing.
    assert_eq!(common::walk(&dir.path().join("lake/bronze")), files_before);
    assert!(!dir.path().join("lake-cold").exists());

    let done = rt
        .block_on(cclake::lifecycle::apply(&lake, plan, &JobProgress::new()))
        .unwrap();
    assert!(done.applied);
    let cold_files = common::walk(&dir.path().join("lake-cold/bronze"));
    assert_eq!(cold_files.len(), 1);
    assert!(cold_files[0].to_string_lossy().contains("month=06"));
    let hot = common::walk(&dir.path().join("lake/bronze"));
    assert!(
        !hot.iter()
            .any(|p| p.to_string_lossy().contains("month=06/day=01/hour=10/"))
    );
    assert!(
        !hot.iter()
            .any(|p| p.to_string_lossy().contains("year=2024/"))
    );
    let history = rt.block_on(cclake::lifecycle::history(&lake)).unwrap();
    assert_eq!(history.len(), 1);

    // The cold row is still in Bronze for SQL and status, and Silver still rebuilds from it.
    let b = sql(
        &rt,
        &lake,
        "SELECT tier, raw FROM bronze_contacts ORDER BY date",
    );
    let tiers = strings(&b[0], "tier");
    assert_eq!(tiers, vec![Some("cold".into()), Some("hot".into())]);
    let inv = rt
        .block_on(cclake::lake::inventory::inventory(&lake))
        .unwrap();
    assert!(inv.partitions.iter().any(|p| p.tier == "cold"));
    assert_eq!(inv.missing_files, 0);
    let s = process(&rt, &lake, ProcessMode::Full);
    assert_eq!(s.silver.rows_out, 2);
    // The expired date keeps its Silver row (its Bronze is gone; it is not rebuilt).
    assert_eq!(silver(&rt, &lake).len(), 3);
    // Nothing is due any more.
    let again = rt.block_on(cclake::lifecycle::plan(&lake, now)).unwrap();
    assert!(again.partitions.is_empty());
}

/// The same check on any processed lake, e.g. the 2M-record bench lake or a lake built from
/// real exports: `CCLAKE_ORACLE_LAKE=/tmp/cclake-bench/lake cargo test --release --test gold
/// -- --ignored any_lake`.
#[test]
#[ignore = "needs CCLAKE_ORACLE_LAKE: a processed lake to check"]
fn any_lake_matches_the_independent_computation() {
    let path = std::env::var("CCLAKE_ORACLE_LAKE").expect("set CCLAKE_ORACLE_LAKE");
    let lake = Lake::open(&path).unwrap();
    let rt = rt();
    let cfg = rt.block_on(cclake::config::load_pipeline(&lake)).unwrap();
    let settings = Settings {
        tz: cfg.reporting_timezone.parse().unwrap(),
        sl: cfg.service_level_seconds,
        short: cfg.short_abandon_seconds,
        window_days: cfg.fcr_window_days as i64,
    };
    let contacts = silver(&rt, &lake);
    let daily = gold(&rt, &lake, false);
    let hourly = gold(&rt, &lake, true);
    assert_matches(&daily, &oracle(&contacts, &settings, false), "daily");
    assert_matches(&hourly, &oracle(&contacts, &settings, true), "hourly");
    println!(
        "{}: {} Silver contacts; {} daily and {} hourly Gold rows match the independent computation",
        path,
        contacts.len(),
        daily.len(),
        hourly.len()
    );
}
