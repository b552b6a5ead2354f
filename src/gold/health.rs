//! The overview's health at a glance, from Gold's daily rows: the KPIs of the last complete day
//! for the whole contact center against the seven days before it, the last two weeks of each
//! for a sparkline, and the queues with the worst service level that day.
//!
//! Rates are recombined from their counts, not averaged: a day's service level is all its
//! queues' answered-within-target over all their offered contacts, and AHT, ASA and CSAT are
//! weighted by the contacts they were measured on.

use chrono::NaiveDate;

use super::read::KpiRow;

/// A KPI of the overview's tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kpi {
    ServiceLevel,
    Aht,
    Asa,
    AbandonRate,
    Fcr,
    Csat,
}

impl Kpi {
    pub const ALL: [Kpi; 6] = [
        Kpi::ServiceLevel,
        Kpi::Aht,
        Kpi::Asa,
        Kpi::AbandonRate,
        Kpi::Fcr,
        Kpi::Csat,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kpi::ServiceLevel => "Service level",
            Kpi::Aht => "AHT",
            Kpi::Asa => "ASA",
            Kpi::AbandonRate => "Abandon rate",
            Kpi::Fcr => "FCR",
            Kpi::Csat => "CSAT",
        }
    }

    /// The unit a value is shown with.
    pub fn unit(self) -> &'static str {
        match self {
            Kpi::Aht | Kpi::Asa => "s",
            Kpi::Csat => "",
            _ => "%",
        }
    }

    /// Whether a higher value is better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Kpi::ServiceLevel | Kpi::Fcr | Kpi::Csat)
    }
}

/// Sums of one or more days (or queues): what the rates are recombined from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub total: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub short: i64,
    pub within_sl: i64,
    /// Sums of AHT and ASA over answered contacts, and of CSAT over its responses.
    pub handle_sum: f64,
    pub wait_sum: f64,
    pub fcr_eligible: i64,
    pub fcr_resolved: i64,
    pub csat_sum: f64,
    pub csat_n: i64,
}

impl Totals {
    pub fn add(&mut self, r: &KpiRow) {
        self.total += r.total;
        self.answered += r.answered;
        self.abandoned += r.abandoned;
        self.short += r.short;
        self.within_sl += r.within_sl;
        self.handle_sum += r.aht.unwrap_or(0.0) * r.answered as f64;
        self.wait_sum += r.asa.unwrap_or(0.0) * r.answered as f64;
        self.fcr_eligible += r.fcr_eligible;
        self.fcr_resolved += r.fcr_resolved;
        self.csat_sum += r.csat.unwrap_or(0.0) * r.csat_n as f64;
        self.csat_n += r.csat_n;
    }

    /// The KPI over these sums (SPEC §4), none when nothing measures it.
    pub fn value(&self, kpi: Kpi) -> Option<f64> {
        let ratio = |n: f64, d: i64| (d > 0).then(|| n / d as f64);
        match kpi {
            Kpi::ServiceLevel => ratio(
                100.0 * self.within_sl as f64,
                self.answered + self.abandoned - self.short,
            ),
            Kpi::Aht => ratio(self.handle_sum, self.answered),
            Kpi::Asa => ratio(self.wait_sum, self.answered),
            Kpi::AbandonRate => ratio(100.0 * self.abandoned as f64, self.total),
            Kpi::Fcr => ratio(100.0 * self.fcr_resolved as f64, self.fcr_eligible),
            Kpi::Csat => ratio(self.csat_sum, self.csat_n),
        }
    }
}

/// A queue on the day, for the worst-queues list.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueDay {
    pub queue_id: String,
    pub queue_name: String,
    pub service_level: Option<f64>,
    pub contacts: i64,
}

/// The overview's health.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    /// The last complete day: the latest date in Gold, or the one before it when the latest
    /// is `today` (still filling).
    pub day: NaiveDate,
    pub totals: Totals,
    /// The seven days before `day` (those Gold has).
    pub baseline: Totals,
    pub baseline_days: usize,
    /// Each of the fourteen days up to `day` that Gold has, with its totals.
    pub recent: Vec<(NaiveDate, Totals)>,
    /// The three queues with the lowest service level on `day` (with at least 5 contacts).
    pub worst: Vec<QueueDay>,
}

/// Contacts a queue needs on the day to be ranked: a rate over two contacts says little.
const MIN_CONTACTS: i64 = 5;

/// The health of the contact center from Gold's daily rows; none when Gold has no day.
pub fn health(rows: &[KpiRow], today: NaiveDate) -> Option<Health> {
    let mut days: std::collections::BTreeMap<NaiveDate, Totals> = Default::default();
    for r in rows {
        days.entry(r.date).or_default().add(r);
    }
    let latest = *days.keys().next_back()?;
    let day = match latest >= today {
        true => days
            .range(..today)
            .next_back()
            .map(|(d, _)| *d)
            .unwrap_or(latest),
        false => latest,
    };
    let totals = days.get(&day).copied().unwrap_or_default();
    let week = days.range(day - chrono::Duration::days(7)..day);
    let mut baseline = Totals::default();
    let mut baseline_days = 0;
    for (_, t) in week {
        merge(&mut baseline, t);
        baseline_days += 1;
    }
    let recent = (days.range(day - chrono::Duration::days(13)..=day))
        .map(|(d, t)| (*d, *t))
        .collect();
    let mut worst: Vec<QueueDay> = (rows.iter())
        .filter(|r| r.date == day && r.total >= MIN_CONTACTS)
        .map(|r| QueueDay {
            queue_id: r.queue_id.clone(),
            queue_name: r.queue_name.clone(),
            service_level: r.sl,
            contacts: r.total,
        })
        .filter(|q| q.service_level.is_some())
        .collect();
    worst.sort_by(|a, b| {
        a.service_level
            .partial_cmp(&b.service_level)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    worst.truncate(3);
    Some(Health {
        day,
        totals,
        baseline,
        baseline_days,
        recent,
        worst,
    })
}

fn merge(into: &mut Totals, t: &Totals) {
    into.total += t.total;
    into.answered += t.answered;
    into.abandoned += t.abandoned;
    into.short += t.short;
    into.within_sl += t.within_sl;
    into.handle_sum += t.handle_sum;
    into.wait_sum += t.wait_sum;
    into.fcr_eligible += t.fcr_eligible;
    into.fcr_resolved += t.fcr_resolved;
    into.csat_sum += t.csat_sum;
    into.csat_n += t.csat_n;
}

/// The change against the baseline, in words: "2.1 points below the 7 days before".
pub fn change_words(kpi: Kpi, now: Option<f64>, before: Option<f64>, days: usize) -> String {
    let (Some(now), Some(before)) = (now, before) else {
        return "no baseline".to_string();
    };
    let diff = now - before;
    let amount = match kpi.unit() {
        "%" => format!("{:.1} points", diff.abs()),
        "s" => format!("{:.0} s", diff.abs()),
        _ => format!("{:.2}", diff.abs()),
    };
    let span = match days {
        1 => "the day before".to_string(),
        n => format!("the {n} days before"),
    };
    if diff.abs() < 0.05 {
        return format!("as {span}");
    }
    let word = match (kpi, diff > 0.0) {
        (Kpi::Aht | Kpi::Asa, true) => "longer than",
        (Kpi::Aht | Kpi::Asa, false) => "shorter than",
        (_, true) => "above",
        (_, false) => "below",
    };
    format!("{amount} {word} {span}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(date: &str, queue: &str, total: i64, answered: i64, within: i64, aht: f64) -> KpiRow {
        KpiRow {
            date: date.parse().unwrap(),
            hour: None,
            hour_start: None,
            queue_id: queue.into(),
            queue_name: queue.into(),
            total,
            answered,
            abandoned: total - answered,
            short: 0,
            within_sl: within,
            aht: Some(aht),
            asa: Some(10.0),
            sl: Some(100.0 * within as f64 / total as f64),
            abandon_rate: Some(100.0 * (total - answered) as f64 / total as f64),
            fcr_eligible: answered,
            fcr_resolved: answered / 2,
            fcr: None,
            csat: None,
            csat_n: 0,
        }
    }

    #[test]
    fn rates_are_recombined_from_counts_not_averaged() {
        // Queue A: 10 offered, 10 answered, 10 in target; queue B: 90 offered, 45 in target.
        let rows = [
            row("2026-10-02", "A", 10, 10, 10, 100.0),
            row("2026-10-02", "B", 90, 90, 45, 300.0),
            row("2026-10-01", "A", 10, 10, 5, 100.0),
        ];
        let h = health(&rows, "2026-12-01".parse().unwrap()).unwrap();
        assert_eq!(h.day, "2026-10-02".parse().unwrap());
        // 55 of 100, not the mean of 100 % and 50 %.
        assert_eq!(h.totals.value(Kpi::ServiceLevel), Some(55.0));
        // AHT weighted by answered: (10·100 + 90·300) / 100.
        assert_eq!(h.totals.value(Kpi::Aht), Some(280.0));
        assert_eq!(h.baseline.value(Kpi::ServiceLevel), Some(50.0));
        assert_eq!(h.worst[0].queue_id, "B");
        assert_eq!(
            change_words(Kpi::ServiceLevel, Some(55.0), Some(50.0), 1),
            "5.0 points above the day before"
        );
    }

    #[test]
    fn a_day_still_filling_is_not_the_last_complete_day() {
        let rows = [
            row("2026-10-02", "A", 10, 10, 10, 100.0),
            row("2026-10-03", "A", 1, 1, 1, 100.0),
        ];
        let h = health(&rows, "2026-10-03".parse().unwrap()).unwrap();
        assert_eq!(h.day, "2026-10-02".parse().unwrap());
    }
}
