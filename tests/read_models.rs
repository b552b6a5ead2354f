//! The read models the app and the API share: Gold rows by grain and selection, the queue
//! list, a Delta table's history, and the typed "not built yet" answer, checked against SQL
//! over the same lake.

mod common;

use cclake::gold::read::{self, GoldReadError, Grain, Selection};
use cclake::lake::delta::{self, SILVER_CONTACTS};
use cclake::query::{self, QueryError};
use cclake::silver::ProcessMode;

fn count(rt: &tokio::runtime::Runtime, lake: &cclake::lake::Lake, sql: &str) -> i64 {
    let ctx = rt.block_on(query::session(lake)).unwrap();
    let r = rt.block_on(query::run(&ctx, sql)).unwrap();
    let c =
        arrow::compute::cast(r.batches[0].column(0), &arrow::datatypes::DataType::Int64).unwrap();
    use arrow::array::AsArray;
    c.as_primitive::<arrow::datatypes::Int64Type>().value(0)
}

#[test]
fn a_lake_without_gold_says_not_built_and_unknown_tables_stay_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let exports = dir.path().join("exports");
    common::generate(&exports, 1, 40, 1);
    let lake = common::lake(dir.path(), "lake");
    common::ingest(&lake, &[exports]);

    let err = rt
        .block_on(read::rows(&lake, Grain::Daily, &Selection::default()))
        .unwrap_err();
    assert!(matches!(err, GoldReadError::NotBuilt { .. }), "{err}");
    let ctx = rt.block_on(query::session(&lake)).unwrap();
    let err = rt
        .block_on(query::run(
            &ctx,
            "SELECT COUNT(*) FROM gold_daily_queue_metrics",
        ))
        .unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::NotBuilt {
                table: "gold_daily_queue_metrics"
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("cclake process"), "{err}");
    // A CTE of the same name is the user's own table, not the lake's.
    let ok = rt.block_on(query::run(
        &ctx,
        "WITH silver_contacts AS (SELECT 1 AS x) SELECT x FROM silver_contacts",
    ));
    assert!(ok.is_ok(), "{:?}", ok.err());
    let err = rt
        .block_on(query::run(&ctx, "SELECT * FROM no_such_table"))
        .unwrap_err();
    assert!(matches!(err, QueryError::Sql(_)), "{err}");
    // Bronze is always there.
    assert!(count(&rt, &lake, "SELECT COUNT(*) FROM bronze_contacts") > 0);
}

#[test]
fn gold_readers_agree_with_sql_and_history_lists_the_commits() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let lake = common::demo_lake(&rt, dir.path(), 3, 80, 9);
    common::process(&rt, &lake, ProcessMode::Full);

    let daily = rt
        .block_on(read::rows(&lake, Grain::Daily, &Selection::default()))
        .unwrap();
    let sql_rows = count(&rt, &lake, "SELECT COUNT(*) FROM gold_daily_queue_metrics");
    assert_eq!(daily.len() as i64, sql_rows);
    let keys: Vec<_> = daily.iter().map(|r| (r.date, r.queue_id.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "rows come ordered by date and queue");
    let sum: i64 = daily.iter().map(|r| r.total).sum();
    assert_eq!(
        sum,
        count(
            &rt,
            &lake,
            "SELECT SUM(total_contacts) FROM gold_daily_queue_metrics"
        )
    );

    // One day, one queue.
    let day = daily[0].date;
    let queue = daily[0].queue_id.clone();
    let sel = Selection {
        from: Some(day),
        to: Some(day),
        queue_id: Some(queue.clone()),
    };
    let hourly = rt.block_on(read::rows(&lake, Grain::Hourly, &sel)).unwrap();
    assert!(!hourly.is_empty());
    assert!(hourly.iter().all(|r| r.date == day && r.queue_id == queue));
    let hourly_total: i64 = hourly.iter().map(|r| r.total).sum();
    assert_eq!(hourly_total, daily[0].total, "the hours add up to the day");

    let queues = rt.block_on(read::queues(&lake)).unwrap();
    assert_eq!(
        queues.len() as i64,
        count(
            &rt,
            &lake,
            "SELECT COUNT(DISTINCT queue_id) FROM gold_daily_queue_metrics"
        )
    );
    assert!(queues.iter().all(|q| q.first_date <= q.last_date));

    // Two Silver runs: the incremental build, then the full rebuild, newest first.
    let history = rt
        .block_on(delta::history(&lake, SILVER_CONTACTS, 10))
        .unwrap();
    let versions: Vec<u64> = history.iter().map(|c| c.version).collect();
    assert_eq!(versions, vec![1, 0], "{history:?}");
    assert!(history.iter().all(|c| c.operation == "silver.process"));
    assert!(history[0].detail.contains("3 dates"), "{history:?}");
    assert!(history[0].timestamp.is_some());
    assert!(history[0].detail.contains(" files"), "{history:?}");
}
