//! The contact-center simulation behind the demo data: queues with their own handle times and
//! staffing, an hourly arrival curve (busy mid-day, quiet nights, calmer weekends), waits that
//! grow with load, callers who give up when the wait outlasts their patience, and surveys that
//! get worse when the wait was long. One staffing incident is planted so the charts have a
//! story: a Tuesday afternoon when one queue's service level collapses.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand_distr::{Exp, LogNormal};

use super::people::Agent;
use crate::sources::Shape;

/// A queue of one source system.
#[derive(Debug, Clone)]
pub struct Queue {
    pub id: String,
    pub name: &'static str,
    /// Share of its system's volume.
    pub weight: f64,
    /// Mean talk time, seconds.
    pub talk_mean: f64,
    /// Mean time in queue at average load, seconds.
    pub wait_mean: f64,
    pub wrap_codes: &'static [&'static str],
}

/// Calls per local hour (US Eastern), relative: quiet nights, a morning ramp, a lunch dip.
const LOCAL_HOUR_CURVE: [f64; 24] = [
    0.15, 0.08, 0.06, 0.05, 0.06, 0.15, 0.45, 1.2, 2.8, 4.4, 5.4, 5.8, 5.0, 5.3, 5.6, 5.2, 4.5,
    3.7, 2.7, 2.0, 1.4, 0.9, 0.5, 0.3,
];
/// The simulated centre works US Eastern daylight time: local hour + 4 = UTC hour.
const UTC_OFFSET_HOURS: usize = 4;

/// One simulated contact, before it is rendered in a source system's format.
#[derive(Debug, Clone)]
pub struct SimContact {
    pub queue: usize,
    pub start: DateTime<Utc>,
    /// Index into the customer base; `None` for anonymous callers.
    pub customer: Option<usize>,
    pub outbound: bool,
    pub media: Media,
    /// Seconds in IVR before reaching the queue.
    pub ivr_s: f64,
    pub wait_s: f64,
    pub answered: bool,
    pub abandoned: bool,
    pub talk_s: f64,
    pub hold_s: f64,
    pub acw_s: f64,
    pub agent: Option<usize>,
    pub transferred: bool,
    /// Not answered, and left a voicemail or asked for a callback instead of hanging up.
    pub voicemail: bool,
    pub callback: bool,
    pub wrap_code: Option<&'static str>,
    pub csat: Option<u8>,
}

impl SimContact {
    pub fn end(&self) -> DateTime<Utc> {
        self.start + secs(self.ivr_s + self.wait_s + self.talk_s + self.hold_s + self.acw_s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Voice,
    Chat,
    Email,
}

/// Converts fractional seconds to a chrono duration (millisecond precision).
pub fn secs(s: f64) -> Duration {
    Duration::milliseconds((s * 1000.0).round() as i64)
}

/// The planted incident: a staffing gap on one queue for a few afternoon hours.
#[derive(Debug, Clone)]
pub struct Incident {
    pub source: Shape,
    pub queue: usize,
    pub date: NaiveDate,
    /// UTC hours [from, to).
    pub hours: (u32, u32),
    /// How much longer callers wait.
    pub wait_factor: f64,
}

/// Picks the second Tuesday of the range (or the first, for short ranges) for the incident.
pub fn incident_date(start: NaiveDate, days: u32) -> Option<NaiveDate> {
    let tuesdays: Vec<NaiveDate> = (0..days)
        .map(|d| start + Duration::days(i64::from(d)))
        .filter(|d| d.weekday() == Weekday::Tue)
        .collect();
    tuesdays.get(1).or(tuesdays.first()).copied()
}

/// Simulates one source system's contacts for one day.
#[allow(clippy::too_many_arguments)]
pub fn simulate_day<R: Rng>(
    rng: &mut R,
    source: Shape,
    queues: &[Queue],
    agents: &[Agent],
    customers: &WeightedIndex<f64>,
    date: NaiveDate,
    volume: usize,
    incident: Option<&Incident>,
) -> Vec<SimContact> {
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let n = if weekend { volume * 11 / 20 } else { volume };
    // Day-to-day noise of ±10 %.
    let n = ((n as f64) * rng.random_range(0.9..1.1)).round() as usize;
    let curve: Vec<f64> = (0..24)
        .map(|utc| LOCAL_HOUR_CURVE[(utc + 24 - UTC_OFFSET_HOURS) % 24])
        .collect();
    let mean_load = curve.iter().sum::<f64>() / 24.0;
    let hours = WeightedIndex::new(&curve).ok();
    let queue_pick = WeightedIndex::new(queues.iter().map(|q| q.weight)).ok();
    let patience = Exp::new(1.0 / 150.0).ok();
    let midnight = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());

    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let hour = hours.as_ref().map_or(12, |h| h.sample(rng));
        let start = midnight
            + Duration::seconds((hour * 3600) as i64 + rng.random_range(0..3600))
            + Duration::milliseconds(rng.random_range(0..1000));
        let qi = queue_pick.as_ref().map_or(0, |w| w.sample(rng));
        let q = &queues[qi];
        let media = match rng.random_range(0..100) {
            0..=84 => Media::Voice,
            85..=95 => Media::Chat,
            _ => Media::Email,
        };
        let customer = if media == Media::Voice && rng.random_bool(0.03) {
            None
        } else {
            Some(customers.sample(rng))
        };
        let outbound = source == Shape::Cxone && q.name == "Collections" && rng.random_bool(0.3);

        // Waits grow faster than load: queues saturate. Scaled so a normal day lands near the
        // industry's 80/20 service level with a few percent abandons, which makes the planted
        // incident stand out the way a real one does.
        let load = curve[hour] / mean_load;
        let mut wait_mean = q.wait_mean * 0.15 * (0.35 + 0.65 * load.powf(1.6));
        if let Some(inc) = incident
            && inc.source == source
            && inc.queue == qi
            && inc.date == date
            && (inc.hours.0..inc.hours.1).contains(&(hour as u32))
        {
            wait_mean *= inc.wait_factor;
        }
        let offered_wait = sample_exp(rng, wait_mean);
        let will_wait = if outbound || media == Media::Email {
            f64::INFINITY
        } else {
            patience.as_ref().map_or(120.0, |p| p.sample(rng))
                * if media == Media::Chat { 2.0 } else { 1.0 }
        };
        let abandoned = offered_wait > will_wait;
        let wait_s = if outbound {
            0.0
        } else {
            round1(offered_wait.min(will_wait))
        };
        // Some callers who would have hung up leave a voicemail or take a callback instead.
        let (voicemail, callback) = match abandoned && media == Media::Voice {
            true => voicemail_or_callback(rng),
            false => (false, false),
        };
        let answered = !abandoned;
        let (talk_s, hold_s, acw_s, agent) = match answered {
            true => handling(rng, q, agents.len()),
            false => (0.0, 0.0, 0.0, None),
        };
        let transferred = answered && rng.random_bool(0.06);
        let csat = match answered && rng.random_bool(0.27) {
            true => Some(survey_score(rng, wait_s, transferred)),
            false => None,
        };
        let wrap_code = answered.then(|| {
            let i = rng.random_range(0..q.wrap_codes.len().max(1));
            q.wrap_codes.get(i).copied().unwrap_or("General Inquiry")
        });
        out.push(SimContact {
            queue: qi,
            start,
            customer,
            outbound,
            media,
            ivr_s: if media == Media::Voice {
                round1(rng.random_range(8.0..45.0))
            } else {
                0.0
            },
            wait_s,
            answered,
            abandoned,
            talk_s,
            hold_s,
            acw_s,
            agent,
            transferred,
            voicemail,
            callback,
            wrap_code,
            csat,
        });
    }
    out.sort_by_key(|c| c.start);
    out
}

/// Whether a caller who gave up left a voicemail, or took a callback.
fn voicemail_or_callback<R: Rng>(rng: &mut R) -> (bool, bool) {
    match rng.random_range(0..100) {
        0..=5 => (true, false),
        6..=13 => (false, true),
        _ => (false, false),
    }
}

/// An answered contact's talk, hold and after-call work (seconds), and its agent.
fn handling<R: Rng>(rng: &mut R, q: &Queue, agents: usize) -> (f64, f64, f64, Option<usize>) {
    let talk = LogNormal::from_mean_cv(q.talk_mean, 0.6)
        .map_or(q.talk_mean, |d| d.sample(rng))
        .clamp(20.0, 5400.0);
    let hold = if rng.random_bool(0.28) {
        sample_exp(rng, 55.0).min(900.0)
    } else {
        0.0
    };
    let acw = LogNormal::from_mean_cv(42.0f64, 0.5)
        .map_or(42.0, |d| d.sample(rng))
        .clamp(5.0, 600.0);
    let agent = rng.random_range(0..agents.max(1));
    (round1(talk), round1(hold), round1(acw), Some(agent))
}

/// A survey score from 1 to 5: long waits and transfers cost a point each.
fn survey_score<R: Rng>(rng: &mut R, wait_s: f64, transferred: bool) -> u8 {
    let mut score: i32 = match rng.random_range(0..100) {
        0..=4 => 1,
        5..=11 => 2,
        12..=24 => 3,
        25..=54 => 4,
        _ => 5,
    };
    if wait_s > 120.0 {
        score -= 1;
    }
    if transferred {
        score -= 1;
    }
    score.clamp(1, 5) as u8
}

fn sample_exp<R: Rng>(rng: &mut R, mean: f64) -> f64 {
    Exp::new(1.0 / mean.max(0.001)).map_or(mean, |d| d.sample(rng))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
