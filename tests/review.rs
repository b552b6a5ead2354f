//! Acting on drift: mapping an unmapped status and reprocessing changes Gold as expected;
//! mapping a new field fills its canonical column; ignoring is recorded; bad targets refused.

mod common;

use cclake::lake::Lake;
use cclake::silver::ProcessMode;
use cclake::silver::review;

use common::runtime as rt;

fn process(rt: &tokio::runtime::Runtime, lake: &Lake, mode: ProcessMode) {
    common::process(rt, lake, mode);
}

fn one_number(rt: &tokio::runtime::Runtime, lake: &Lake, sql: &str) -> Option<f64> {
    rt.block_on(async {
        let ctx = cclake::query::session(lake).await.unwrap();
        let r = cclake::query::run(&ctx, sql).await.unwrap();
        let b = r.batches.iter().find(|b| b.num_rows() > 0)?;
        let c = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Float64).unwrap();
        let a = c
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .unwrap();
        use arrow::array::Array;
        (!a.is_null(0)).then(|| a.value(0))
    })
}

#[test]
fn mapping_an_unmapped_status_and_reprocessing_changes_gold() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let line = |id: &str, status: &str, extra: &str| {
        format!(
            r#"{{"event_id":"{id}","timestamp":"2026-09-01T10:00:00Z","queue_name":"Q","outcome_status":"{status}","wait_seconds":5{extra}}}"#
        )
    };
    let lines = [
        line("a", "Completed", ""),
        line("b", "Callback Requested", ""),
        line("c", "Callback Requested", ""),
        // No wait_seconds of its own: a drifted name for it.
        r#"{"event_id":"d","timestamp":"2026-09-01T11:00:00Z","queue_name":"Q","outcome_status":"Abandoned","queue_secs":42}"#.to_string(),
    ];
    let f = dir.path().join("in.ndjson");
    std::fs::write(&f, lines.join("\n")).unwrap();
    common::ingest(&lake, &[f]);
    let rt = rt();
    process(&rt, &lake, ProcessMode::Incremental);
    let answered = "SELECT answered_contacts FROM gold_daily_queue_metrics WHERE queue_id = 'Q'";
    assert_eq!(one_number(&rt, &lake, answered), Some(1.0));
    let drift = rt.block_on(cclake::silver::drift::report(&lake)).unwrap();
    let unmapped = drift.iter().find(|d| d.kind == "unmapped_status").unwrap();
    assert_eq!(unmapped.example.as_deref(), Some("Callback Requested"));
    assert!(
        drift
            .iter()
            .any(|d| d.kind == "new" && d.field == "queue_secs")
    );

    // The engineer maps the status and the field, then reprocesses the date.
    rt.block_on(review::map_status(&lake, "Callback Requested", "handled"))
        .unwrap();
    rt.block_on(review::map_field(
        &lake,
        "generic",
        "queue_secs",
        Some("wait_seconds"),
    ))
    .unwrap();
    let day = "2026-09-01".parse().unwrap();
    process(&rt, &lake, ProcessMode::Range { from: day, to: day });
    assert_eq!(one_number(&rt, &lake, answered), Some(3.0));
    assert_eq!(
        one_number(
            &rt,
            &lake,
            "SELECT wait_seconds FROM silver_contacts WHERE contact_id = 'd'"
        ),
        Some(42.0),
        "the mapped field fills wait_seconds"
    );
    let drift = rt.block_on(cclake::silver::drift::report(&lake)).unwrap();
    assert!(
        !drift.iter().any(|d| d.kind == "unmapped_status"),
        "{drift:?}"
    );

    // The files keep their comments; ignoring moves the field out of the map.
    let pipeline = std::fs::read_to_string(dir.path().join("lake/_config/pipeline.toml")).unwrap();
    assert!(
        pipeline.contains("# cclake pipeline settings"),
        "{pipeline}"
    );
    assert!(
        pipeline.contains(r#"generic = { "queue_secs" = "wait_seconds" }"#),
        "{pipeline}"
    );
    rt.block_on(review::map_field(&lake, "generic", "queue_secs", None))
        .unwrap();
    let cfg = rt.block_on(cclake::config::load_pipeline(&lake)).unwrap();
    assert!(
        cfg.schema
            .field_map
            .get("generic")
            .is_none_or(|m| m.is_empty())
    );
    assert_eq!(
        cfg.schema.ignored["generic"],
        vec!["queue_secs".to_string()]
    );
    let status = std::fs::read_to_string(dir.path().join("lake/_config/status_map.toml")).unwrap();
    assert!(status.contains(r#""callback requested" = "handled""#));
    assert!(status.starts_with("# Raw outcome values"));

    // Bad targets are refused in words.
    let e = rt
        .block_on(review::map_status(&lake, "x", "finished"))
        .unwrap_err();
    assert!(e.to_string().contains("not a normalized outcome"), "{e}");
    let e = rt
        .block_on(review::map_field(&lake, "generic", "x", Some("salary")))
        .unwrap_err();
    assert!(e.to_string().contains("not a canonical column"), "{e}");
}
