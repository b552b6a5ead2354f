//! Both Gold tables from the contacts' facts in one pass: each contact adds to its queue's
//! hour, and each day is the sum of its hours. The formulas are SPEC §4's, and the means are the integer sums of
//! thousandths the SQL form used (`exact_avg`): a sum of integers does not depend on the order
//! rows come in, so Gold is the same bit for bit however Silver was read.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};

use super::KpiSettings;
use super::compute::{DAILY_SCHEMA, HOURLY_SCHEMA};
use crate::config::zone::{LocalTime, days_since_epoch};

/// What Gold counts of one contact.
pub(super) struct Fact<'a> {
    pub local: LocalTime,
    pub queue_id: Option<&'a str>,
    pub queue_name: Option<&'a str>,
    pub wait: Option<f64>,
    pub duration: Option<f64>,
    pub csat: Option<f64>,
    pub answered: bool,
    pub abandoned: bool,
    /// `None`: not eligible for FCR; else resolved or not.
    pub fcr: Option<bool>,
}

/// The sums of one group.
#[derive(Default, Clone)]
struct Sums<'a> {
    queue_name: Option<&'a str>,
    total: i64,
    answered: i64,
    abandoned: i64,
    short: i64,
    within_sl: i64,
    duration: Mean,
    wait: Mean,
    csat: Mean,
    fcr_eligible: i64,
    fcr_resolved: i64,
}

/// A mean kept as the sum of the values' thousandths and their count.
#[derive(Default, Clone, Copy)]
struct Mean {
    thousandths: i64,
    n: i64,
}

impl Mean {
    fn add(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.thousandths += (v * 1000.0).round() as i64;
            self.n += 1;
        }
    }

    /// `CAST(SUM(..) AS DOUBLE) / COUNT(..) / 1000.0`.
    fn value(&self) -> Option<f64> {
        (self.n > 0).then(|| self.thousandths as f64 / self.n as f64 / 1000.0)
    }
}

impl<'a> Sums<'a> {
    fn merge(&mut self, o: Sums<'a>) {
        if o.queue_name > self.queue_name {
            self.queue_name = o.queue_name;
        }
        self.total += o.total;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.short += o.short;
        self.within_sl += o.within_sl;
        for (m, n) in [
            (&mut self.duration, o.duration),
            (&mut self.wait, o.wait),
            (&mut self.csat, o.csat),
        ] {
            m.thousandths += n.thousandths;
            m.n += n.n;
        }
        self.fcr_eligible += o.fcr_eligible;
        self.fcr_resolved += o.fcr_resolved;
    }

    fn add(&mut self, f: &Fact<'a>, s: &KpiSettings) {
        if f.queue_name > self.queue_name {
            self.queue_name = f.queue_name;
        }
        self.total += 1;
        self.answered += f.answered as i64;
        self.abandoned += f.abandoned as i64;
        let wait = |keep: &dyn Fn(f64) -> bool| f.wait.is_some_and(keep) as i64;
        self.short += (f.abandoned as i64) * wait(&|w| w < s.short_abandon_seconds);
        self.within_sl += (f.answered as i64) * wait(&|w| w <= s.service_level_seconds);
        if f.answered {
            self.duration.add(f.duration);
            self.wait.add(f.wait);
        }
        self.csat.add(f.csat);
        if let Some(resolved) = f.fcr {
            self.fcr_eligible += 1;
            self.fcr_resolved += resolved as i64;
        }
    }
}

type DayKey<'a> = (NaiveDate, Option<&'a str>);
type HourKey<'a> = (NaiveDate, i64, u32, Option<&'a str>);

/// Both tables' groups.
pub(super) struct Aggregate<'a> {
    settings: &'a KpiSettings,
    hourly: HashMap<HourKey<'a>, Sums<'a>, ahash::RandomState>,
}

impl<'a> Aggregate<'a> {
    pub fn new(settings: &'a KpiSettings) -> Self {
        Aggregate {
            settings,
            hourly: HashMap::with_hasher(ahash::RandomState::new()),
        }
    }

    /// Adds a contact to its queue's hour (days are summed from their hours at the end).
    pub fn add(&mut self, f: &Fact<'a>) {
        let l = f.local;
        let key = (l.date, l.hour_start_us, l.hour, f.queue_id);
        self.hourly.entry(key).or_default().add(f, self.settings);
    }

    /// Adds another part's groups (counted on another thread).
    pub fn merge(mut self, other: Aggregate<'a>) -> Self {
        for (k, v) in other.hourly {
            self.hourly.entry(k).or_default().merge(v);
        }
        self
    }

    /// The two tables' rows, ordered by date (and hour start) and queue id (no queue last).
    pub fn finish(
        self,
        computed_at: DateTime<Utc>,
    ) -> Result<(RecordBatch, RecordBatch), arrow::error::ArrowError> {
        let nulls_last = |q: &Option<&str>| (q.is_none(), q.unwrap_or_default().to_string());
        let mut daily: HashMap<DayKey<'a>, Sums<'a>, ahash::RandomState> = HashMap::default();
        for ((d, _, _, q), s) in &self.hourly {
            daily.entry((*d, *q)).or_default().merge(s.clone());
        }
        let mut days: Vec<_> = daily.into_iter().collect();
        days.sort_by_cached_key(|((d, q), _)| (*d, nulls_last(q)));
        let mut hours: Vec<_> = self.hourly.into_iter().collect();
        hours.sort_by_cached_key(|((d, start, _, q), _)| (*d, *start, nulls_last(q)));
        let date = |d: &NaiveDate| days_since_epoch(*d);
        let mut daily: Vec<ArrayRef> = vec![Arc::new(Date32Array::from_iter_values(
            days.iter().map(|((d, _), _)| date(d)),
        ))];
        daily.extend(kpi_columns(
            days.iter().map(|((_, q), s)| (*q, s)),
            computed_at,
        ));
        let mut hourly: Vec<ArrayRef> = vec![
            Arc::new(Date32Array::from_iter_values(
                hours.iter().map(|((d, ..), _)| date(d)),
            )),
            Arc::new(Int32Array::from_iter_values(
                hours.iter().map(|((_, _, h, _), _)| *h as i32),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    hours.iter().map(|((_, s, _, _), _)| *s),
                )
                .with_timezone("UTC"),
            ),
        ];
        hourly.extend(kpi_columns(
            hours.iter().map(|((.., q), s)| (*q, s)),
            computed_at,
        ));
        Ok((
            RecordBatch::try_new(DAILY_SCHEMA.clone(), daily)?,
            RecordBatch::try_new(HOURLY_SCHEMA.clone(), hourly)?,
        ))
    }
}

/// The KPI columns of the groups (the tables' columns after their keys), with the rates.
fn kpi_columns<'a, 'b: 'a>(
    groups: impl Iterator<Item = (Option<&'b str>, &'a Sums<'b>)> + Clone,
    computed_at: DateTime<Utc>,
) -> Vec<ArrayRef> {
    let int = |f: &dyn Fn(&Sums) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(
            groups.clone().map(|(_, s)| f(s)),
        ))
    };
    let float = |f: &dyn Fn(&Sums) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from_iter(groups.clone().map(|(_, s)| f(s))))
    };
    let pct = |n: i64, d: i64| (d > 0).then(|| 100.0 * n as f64 / d as f64);
    let offered = |s: &Sums| s.answered + s.abandoned - s.short;
    let rows = groups.clone().count();
    vec![
        Arc::new(StringArray::from_iter(groups.clone().map(|(q, _)| q))),
        Arc::new(StringArray::from_iter(
            groups.clone().map(|(_, s)| s.queue_name),
        )),
        int(&|s| s.total),
        int(&|s| s.answered),
        int(&|s| s.abandoned),
        int(&|s| s.short),
        int(&|s| s.within_sl),
        float(&|s| s.duration.value()),
        float(&|s| s.wait.value()),
        float(&|s| pct(s.within_sl, offered(s))),
        float(&|s| Some(100.0 * s.abandoned as f64 / s.total as f64)),
        int(&|s| s.fcr_eligible),
        int(&|s| s.fcr_resolved),
        float(&|s| pct(s.fcr_resolved, s.fcr_eligible)),
        float(&|s| s.csat.value()),
        int(&|s| s.csat.n),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(std::iter::repeat_n(
                computed_at.timestamp_micros(),
                rows,
            ))
            .with_timezone("UTC"),
        ),
    ]
}
