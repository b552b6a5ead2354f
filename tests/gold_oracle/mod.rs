//! The independent computation of Gold the tests compare against: SPEC §4's formulas applied
//! row by row in plain Rust to the Silver rows read back, no SQL and no code of the library's
//! Gold.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use cclake::lake::Lake;
use cclake::lake::delta;
use chrono::{DateTime, NaiveDate, Timelike, Utc};

pub fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

/// The Silver columns the KPIs use.
#[derive(Debug, Clone)]
pub struct Contact {
    pub occurred_at: DateTime<Utc>,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub customer_key: Option<String>,
    pub wait: Option<f64>,
    pub duration: Option<f64>,
    pub answered: bool,
    pub abandoned: bool,
    pub csat: Option<f64>,
}

pub fn sql(
    rt: &tokio::runtime::Runtime,
    lake: &Lake,
    q: &str,
) -> Vec<arrow::record_batch::RecordBatch> {
    rt.block_on(async {
        let ctx = cclake::query::session(lake).await.unwrap();
        cclake::query::run(&ctx, q).await.unwrap().batches
    })
}

pub fn strings(b: &arrow::record_batch::RecordBatch, col: &str) -> Vec<Option<String>> {
    let a = delta::utf8_column(b.column_by_name(col).unwrap()).unwrap();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect()
}

pub fn floats(b: &arrow::record_batch::RecordBatch, col: &str) -> Vec<Option<f64>> {
    let c = arrow::compute::cast(b.column_by_name(col).unwrap(), &DataType::Float64).unwrap();
    let a = c.as_primitive::<Float64Type>();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect()
}

pub fn ints(b: &arrow::record_batch::RecordBatch, col: &str) -> Vec<Option<i64>> {
    let c = arrow::compute::cast(b.column_by_name(col).unwrap(), &DataType::Int64).unwrap();
    let a = c.as_primitive::<Int64Type>();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect()
}

pub fn micros(b: &arrow::record_batch::RecordBatch, col: &str) -> Vec<i64> {
    let c = arrow::compute::cast(
        b.column_by_name(col).unwrap(),
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )
    .unwrap();
    let c = arrow::compute::cast(&c, &DataType::Int64).unwrap();
    c.as_primitive::<Int64Type>().values().to_vec()
}

pub fn silver(rt: &tokio::runtime::Runtime, lake: &Lake) -> Vec<Contact> {
    let mut out = Vec::new();
    for b in sql(rt, lake, "SELECT * FROM silver_contacts") {
        let at = micros(&b, "occurred_at");
        let (qid, qn, key) = (
            strings(&b, "queue_id"),
            strings(&b, "queue_name"),
            strings(&b, "customer_key"),
        );
        let (wait, dur, csat) = (
            floats(&b, "wait_seconds"),
            floats(&b, "duration_seconds"),
            floats(&b, "csat_score"),
        );
        let ans = b.column_by_name("answered").unwrap().as_boolean().clone();
        let ab = b.column_by_name("abandoned").unwrap().as_boolean().clone();
        for i in 0..b.num_rows() {
            out.push(Contact {
                occurred_at: DateTime::from_timestamp_micros(at[i]).unwrap(),
                queue_id: qid[i].clone(),
                queue_name: qn[i].clone(),
                customer_key: key[i].clone(),
                wait: wait[i],
                duration: dur[i],
                answered: !ans.is_null(i) && ans.value(i),
                abandoned: !ab.is_null(i) && ab.value(i),
                csat: csat[i],
            });
        }
    }
    out
}

/// A KPI row: the counts and the rates, as SPEC §4 defines them.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    pub queue_name: Option<String>,
    pub total: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub short: i64,
    pub aht: Option<f64>,
    pub asa: Option<f64>,
    pub sl: Option<f64>,
    pub abandon_rate: Option<f64>,
    pub fcr: Option<f64>,
    pub csat: Option<f64>,
    pub csat_n: i64,
}

/// Group key: local date, hour start (µs; 0 for daily), queue.
pub type Key = (NaiveDate, i64, Option<String>);

pub struct Settings {
    pub tz: chrono_tz::Tz,
    pub sl: f64,
    pub short: f64,
    pub window_days: i64,
}

/// The independent computation of SPEC §4.
pub fn oracle(contacts: &[Contact], s: &Settings, hourly: bool) -> BTreeMap<Key, Kpi> {
    // FCR: for each answered contact with a key, is there another contact of the same key in
    // (t, t + window]? Found by scanning that key's contacts.
    let mut by_key: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for c in contacts {
        if let Some(k) = &c.customer_key {
            by_key.entry(k).or_default().push(c.occurred_at);
        }
    }
    for times in by_key.values_mut() {
        times.sort();
    }
    let window = chrono::Duration::days(s.window_days);
    struct Acc {
        name: Option<String>,
        total: i64,
        answered: i64,
        abandoned: i64,
        short: i64,
        within: i64,
        dur: Vec<f64>,
        wait: Vec<f64>,
        fcr_elig: i64,
        fcr_ok: i64,
        csat: Vec<f64>,
    }
    let mut groups: BTreeMap<Key, Acc> = BTreeMap::new();
    for c in contacts {
        let local = c.occurred_at.with_timezone(&s.tz);
        let date = local.date_naive();
        let hour_start = if hourly {
            let into = local.minute() as i64 * 60 + local.second() as i64;
            c.occurred_at.timestamp_micros()
                - into * 1_000_000
                - c.occurred_at.timestamp_subsec_micros() as i64
        } else {
            0
        };
        let a = groups
            .entry((date, hour_start, c.queue_id.clone()))
            .or_insert(Acc {
                name: None,
                total: 0,
                answered: 0,
                abandoned: 0,
                short: 0,
                within: 0,
                dur: vec![],
                wait: vec![],
                fcr_elig: 0,
                fcr_ok: 0,
                csat: vec![],
            });
        if c.queue_name > a.name {
            a.name = c.queue_name.clone();
        }
        a.total += 1;
        if c.answered {
            a.answered += 1;
            if c.wait.is_some_and(|w| w <= s.sl) {
                a.within += 1;
            }
            a.dur.extend(c.duration);
            a.wait.extend(c.wait);
            if let Some(k) = &c.customer_key {
                a.fcr_elig += 1;
                // The first of the caller's contacts strictly after this one.
                let times = &by_key[k.as_str()];
                let next = times.partition_point(|t| *t <= c.occurred_at);
                let repeat = times
                    .get(next)
                    .is_some_and(|t| *t <= c.occurred_at + window);
                if !repeat {
                    a.fcr_ok += 1;
                }
            }
        }
        if c.abandoned {
            a.abandoned += 1;
            if c.wait.is_some_and(|w| w < s.short) {
                a.short += 1;
            }
        }
        a.csat.extend(c.csat);
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    groups
        .into_iter()
        .map(|(k, a)| {
            let denom = a.answered + a.abandoned - a.short;
            (
                k,
                Kpi {
                    queue_name: a.name,
                    total: a.total,
                    answered: a.answered,
                    abandoned: a.abandoned,
                    short: a.short,
                    aht: mean(&a.dur),
                    asa: mean(&a.wait),
                    sl: (denom != 0).then(|| 100.0 * a.within as f64 / denom as f64),
                    abandon_rate: Some(100.0 * a.abandoned as f64 / a.total as f64),
                    fcr: (a.fcr_elig > 0).then(|| 100.0 * a.fcr_ok as f64 / a.fcr_elig as f64),
                    csat: mean(&a.csat),
                    csat_n: a.csat.len() as i64,
                },
            )
        })
        .collect()
}

pub fn gold(rt: &tokio::runtime::Runtime, lake: &Lake, hourly: bool) -> BTreeMap<Key, Kpi> {
    let table = if hourly {
        "gold_hourly_queue_metrics"
    } else {
        "gold_daily_queue_metrics"
    };
    let mut out = BTreeMap::new();
    for b in sql(rt, lake, &format!("SELECT * FROM {table}")) {
        let dates = ints(&b, "date");
        let hs = if hourly {
            micros(&b, "hour_start")
        } else {
            vec![0; b.num_rows()]
        };
        let (q, qn) = (strings(&b, "queue_id"), strings(&b, "queue_name"));
        let i = |c| ints(&b, c);
        let f = |c| floats(&b, c);
        let (total, ans, ab, short, csat_n) = (
            i("total_contacts"),
            i("answered_contacts"),
            i("abandoned_contacts"),
            i("short_abandoned_contacts"),
            i("csat_responses"),
        );
        let (aht, asa, sl, ar, fcr, csat) = (
            f("avg_duration_sec"),
            f("avg_wait_sec"),
            f("service_level_pct"),
            f("abandon_rate_pct"),
            f("fcr_rate_pct"),
            f("customer_satisfaction_avg"),
        );
        for r in 0..b.num_rows() {
            let date = NaiveDate::default() + chrono::Duration::days(dates[r].unwrap());
            let prev = out.insert(
                (date, hs[r], q[r].clone()),
                Kpi {
                    queue_name: qn[r].clone(),
                    total: total[r].unwrap(),
                    answered: ans[r].unwrap(),
                    abandoned: ab[r].unwrap(),
                    short: short[r].unwrap(),
                    aht: aht[r],
                    asa: asa[r],
                    sl: sl[r],
                    abandon_rate: ar[r],
                    fcr: fcr[r],
                    csat: csat[r],
                    csat_n: csat_n[r].unwrap(),
                },
            );
            assert!(prev.is_none(), "duplicate Gold key {date} {:?}", q[r]);
        }
    }
    out
}

pub fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-9),
        _ => false,
    }
}

pub fn assert_matches(got: &BTreeMap<Key, Kpi>, want: &BTreeMap<Key, Kpi>, what: &str) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: group keys"
    );
    for (k, w) in want {
        let g = &got[k];
        let ok = g.queue_name == w.queue_name
            && (g.total, g.answered, g.abandoned, g.short, g.csat_n)
                == (w.total, w.answered, w.abandoned, w.short, w.csat_n)
            && close(g.aht, w.aht)
            && close(g.asa, w.asa)
            && close(g.sl, w.sl)
            && close(g.abandon_rate, w.abandon_rate)
            && close(g.fcr, w.fcr)
            && close(g.csat, w.csat);
        assert!(ok, "{what} {k:?}:\n gold   {g:?}\n oracle {w:?}");
    }
}

pub fn check_against_oracle(rt: &tokio::runtime::Runtime, lake: &Lake, s: &Settings) {
    let contacts = silver(rt, lake);
    assert!(!contacts.is_empty());
    assert_matches(
        &gold(rt, lake, false),
        &oracle(&contacts, s, false),
        "daily",
    );
    assert_matches(&gold(rt, lake, true), &oracle(&contacts, s, true), "hourly");
}

pub fn utc_settings() -> Settings {
    Settings {
        tz: chrono_tz::UTC,
        sl: 20.0,
        short: 5.0,
        window_days: 7,
    }
}
