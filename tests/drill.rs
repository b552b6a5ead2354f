//! Drill-through from Gold to Silver: for queue-days and queue-hours of a demo lake, the
//! contacts the app lists behind a Gold number are exactly that group's Silver rows (checked
//! against a plain query of Silver by contact id), and the KPIs recounted from them (with the
//! FCR verdict found by a join on the caller, not Gold's window pass) equal Gold's row. Also
//! each source's freshness against a plain count of Silver.

mod common;

use std::collections::BTreeSet;

use arrow::array::AsArray;
use cclake::gold::health::{Kpi, Totals};
use cclake::gold::read::{Grain, Selection, rows};
use cclake::query::lineage::{Group, Rules, contacts_behind, recompute};

fn ids(batches: &[arrow::record_batch::RecordBatch], col: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for b in batches {
        let c = cclake::lake::delta::utf8_column(b.column_by_name(col).unwrap()).unwrap();
        for i in 0..b.num_rows() {
            out.insert(c.value(i).to_string());
        }
    }
    out
}

#[test]
fn the_contacts_behind_a_gold_number_recount_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let lake = common::demo_lake(&rt, dir.path(), 10, 80, 21);
    let ctx = rt.block_on(cclake::query::session(&lake)).unwrap();
    let rules = Rules {
        service_level_seconds: 20.0,
        short_abandon_seconds: 5.0,
        fcr_window_days: 7,
    };
    let mut checked = 0;
    for grain in [Grain::Daily, Grain::Hourly] {
        let gold = rt
            .block_on(rows(&lake, grain, &Selection::default()))
            .unwrap();
        // Every 7th row: days early and late in the data (FCR still open), queues with and
        // without a queue id, hours with a handful of contacts.
        for row in gold.iter().step_by(7).take(12) {
            let group = Group {
                queue_id: row.queue_id.clone(),
                from: row.date,
                to: row.date,
                hour: row.hour.map(|h| h as u32),
            };
            let sql = contacts_behind(&group, &rules);
            let listed = rt.block_on(cclake::query::run(&ctx, &sql)).unwrap();
            // The same group read plainly from Silver: the same contacts.
            let queue = match row.queue_id.as_str() {
                "" => "queue_id IS NULL".to_string(),
                q => format!("queue_id = '{q}'"),
            };
            let hour = row.hour.map_or(String::new(), |h| {
                format!(" AND cclake_local_hour(occurred_at) = {h}")
            });
            let plain = format!(
                "SELECT contact_id FROM silver_contacts WHERE {queue}
                 AND cclake_local_date(occurred_at) = DATE '{}'{hour}",
                row.date
            );
            let plain = rt.block_on(cclake::query::run(&ctx, &plain)).unwrap();
            assert_eq!(
                ids(&listed.batches, "contact_id"),
                ids(&plain.batches, "contact_id"),
                "{group:?}"
            );
            let recount = recompute(&listed.batches).unwrap();
            let mut g = Totals::default();
            g.add(row);
            assert_eq!(recount.totals.total, row.total, "{group:?}");
            assert_eq!(recount.totals.answered, row.answered, "{group:?}");
            assert_eq!(recount.totals.abandoned, row.abandoned, "{group:?}");
            assert_eq!(recount.totals.short, row.short, "{group:?}");
            assert_eq!(recount.totals.within_sl, row.within_sl, "{group:?}");
            assert_eq!(recount.totals.fcr_eligible, row.fcr_eligible, "{group:?}");
            assert_eq!(recount.totals.fcr_resolved, row.fcr_resolved, "{group:?}");
            assert_eq!(recount.totals.csat_n, row.csat_n, "{group:?}");
            for kpi in Kpi::ALL {
                match (g.value(kpi), recount.value(kpi)) {
                    (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{group:?} {kpi:?}"),
                    (a, b) => assert_eq!(a.is_some(), b.is_some(), "{group:?} {kpi:?}"),
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} groups checked");
}

#[test]
fn each_source_freshness_counts_its_silver_rows() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let lake = common::demo_lake(&rt, dir.path(), 5, 40, 5);
    let fresh = rt
        .block_on(cclake::query::freshness::freshness(&lake))
        .unwrap();
    let ctx = rt.block_on(cclake::query::session(&lake)).unwrap();
    let sql =
        "SELECT source_system, CAST(COUNT(*) AS BIGINT), MAX(occurred_at) FROM silver_contacts
               GROUP BY source_system ORDER BY source_system";
    let plain = rt.block_on(cclake::query::run(&ctx, sql)).unwrap();
    let b = &plain.batches[0];
    let names = cclake::lake::delta::utf8_column(b.column(0)).unwrap();
    let counts = b.column(1).as_primitive::<arrow::datatypes::Int64Type>();
    assert_eq!(fresh.len(), b.num_rows());
    for (i, f) in fresh.iter().enumerate() {
        assert_eq!(f.source, names.value(i));
        assert_eq!(f.total, counts.value(i), "{}", f.source);
        // Five days of data: all of it inside the two-week window, the last day not silent.
        let in_window: i64 = f.per_day.iter().map(|(_, n)| n).sum();
        assert_eq!(in_window, f.total, "{}", f.source);
        assert_eq!(f.per_day.len(), 14);
        assert_eq!(f.silent_days(), 0, "{}", f.source);
        assert!(f.latest_occurrence.is_some() && f.last_ingest.is_some());
    }
}
