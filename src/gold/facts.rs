//! The facts Gold counts, per contact: its reporting-zone date and hour, its queue, its
//! times, whether it was answered or abandoned, and its FCR verdict (SPEC §4), worked out once
//! for both tables. FCR takes one sort of the contacts by caller and time: an answered contact
//! is resolved when its caller's next contact at a later instant is not within the window.

use std::collections::HashMap;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray, StringViewArray,
};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use super::aggregate::Fact;
use crate::config::zone::{LocalTime, ReportingZone};

/// Silver's columns Gold reads, in this order (`occurred_at` as integer microseconds).
pub(super) const COLUMNS: &str = "customer_key, arrow_cast(occurred_at, 'Int64') AS occurred_us, \
     queue_id, queue_name, wait_seconds, duration_seconds, csat_score, answered, abandoned";

/// [`COLUMNS`] for contacts that are only ever someone's next contact: the caller and the time
/// read, the rest typed nulls (never looked at), so the scan reads two columns of nine.
pub(super) const NEXT_CONTACT_COLUMNS: &str = "customer_key, \
     arrow_cast(occurred_at, 'Int64') AS occurred_us, CAST(NULL AS VARCHAR) AS queue_id, \
     CAST(NULL AS VARCHAR) AS queue_name, CAST(NULL AS DOUBLE) AS wait_seconds, \
     CAST(NULL AS DOUBLE) AS duration_seconds, CAST(NULL AS DOUBLE) AS csat_score, \
     CAST(NULL AS BOOLEAN) AS answered, CAST(NULL AS BOOLEAN) AS abandoned";

/// A string column as the scan gave it (string views from Parquet, or plain strings): read
/// in place, not copied into another layout.
pub(super) enum Strs {
    View(StringViewArray),
    Plain(StringArray),
}

impl Strs {
    fn of(a: &ArrayRef) -> Result<Strs, arrow::error::ArrowError> {
        Ok(match a.data_type() {
            DataType::Utf8View => Strs::View(a.as_string_view().clone()),
            DataType::Utf8 => Strs::Plain(a.as_string::<i32>().clone()),
            _ => Strs::Plain(crate::lake::delta::utf8_column(a)?),
        })
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        match self {
            Strs::View(a) => a.is_valid(i).then(|| a.value(i)),
            Strs::Plain(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// One batch of Silver's columns, typed.
pub(super) struct Columns {
    pub customer_key: Strs,
    pub occurred_us: Int64Array,
    pub queue_id: Strs,
    pub queue_name: Strs,
    pub wait: Float64Array,
    pub duration: Float64Array,
    pub csat: Float64Array,
    pub answered: BooleanArray,
    pub abandoned: BooleanArray,
}

impl Columns {
    /// The batch's columns by position (see [`COLUMNS`]).
    pub fn of(b: &RecordBatch) -> Result<Columns, arrow::error::ArrowError> {
        let s = |i: usize| Strs::of(b.column(i));
        let f = |i: usize| -> Result<Float64Array, arrow::error::ArrowError> {
            let c = arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Float64)?;
            Ok(c.as_primitive::<Float64Type>().clone())
        };
        let flag = |i: usize| -> Result<BooleanArray, arrow::error::ArrowError> {
            let c = arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Boolean)?;
            Ok(c.as_boolean().clone())
        };
        let t = arrow::compute::cast(b.column(1), &arrow::datatypes::DataType::Int64)?;
        Ok(Columns {
            customer_key: s(0)?,
            occurred_us: t.as_primitive::<Int64Type>().clone(),
            queue_id: s(2)?,
            queue_name: s(3)?,
            wait: f(4)?,
            duration: f(5)?,
            csat: f(6)?,
            answered: flag(7)?,
            abandoned: flag(8)?,
        })
    }

    pub fn len(&self) -> usize {
        self.occurred_us.len()
    }

    /// `COALESCE(flag, false)`.
    pub fn answered(&self, i: usize) -> bool {
        self.answered.is_valid(i) && self.answered.value(i)
    }

    pub fn abandoned(&self, i: usize) -> bool {
        self.abandoned.is_valid(i) && self.abandoned.value(i)
    }

    /// Row `i` as Gold counts it, at its local time, with its FCR verdict.
    pub fn fact(&self, i: usize, local: LocalTime, fcr: Option<bool>) -> Fact<'_> {
        let f = |a: &Float64Array| a.is_valid(i).then(|| a.value(i));
        Fact {
            local,
            queue_id: self.queue_id.get(i),
            queue_name: self.queue_name.get(i),
            wait: f(&self.wait),
            duration: f(&self.duration),
            csat: f(&self.csat),
            answered: self.answered(i),
            abandoned: self.abandoned(i),
            fcr,
        }
    }
}

/// The FCR verdict of every row of `batches`, in their order: `None` when the contact is not
/// eligible (not answered, or no caller key), else whether it is resolved (no contact of the
/// same caller in (t, t + window]).
///
/// Contacts are sorted by (hash of the caller key, time): one sort of fixed-size entries on
/// all cores, the keys themselves compared once to prove that each run of equal hashes is one
/// caller. Should two callers ever share a hash, their contacts would interleave in a run, so
/// the verdicts are worked out again with the callers numbered exactly.
///
/// Contacts at or after `counted_before` (µs) are not counted, only looked at as the next
/// contact of earlier ones: of those, only each caller's earliest is sorted with the rest (an
/// incremental run reads the window of days after its dates, about as many contacts again).
/// Their own verdicts are not worked out.
pub(super) fn fcr_verdicts(
    batches: &[Columns],
    window_days: u32,
    counted_before: i64,
) -> Vec<Option<bool>> {
    let hasher = ahash::RandomState::with_seeds(1, 2, 3, 4);
    fcr_verdicts_by(batches, window_days, counted_before, |k| hasher.hash_one(k))
}

/// [`fcr_verdicts`] with the caller keys hashed by `hash` (tests make every key collide).
fn fcr_verdicts_by(
    batches: &[Columns],
    window_days: u32,
    counted_before: i64,
    hash: impl Fn(&str) -> u64 + Sync + Send,
) -> Vec<Option<bool>> {
    // (hash of the caller, time, batch, row in the batch) of every timed contact with a
    // caller, gathered batch by batch on all cores. Each thread keeps the first key of every
    // hash it meets and compares the keys after it (while they are in cache): that proves each
    // hash is one caller.
    let hash = &hash;
    let gather = |before: i64| {
        batches
            .par_iter()
            .enumerate()
            .fold(Gathered::default, |mut g, (b, c)| {
                for i in 0..c.len() {
                    let (Some(key), true) = (c.customer_key.get(i), c.occurred_us.is_valid(i))
                    else {
                        continue;
                    };
                    let h = hash(key);
                    g.note(h, key);
                    g.add((h, c.occurred_us.value(i), b as u32, i as u32), before);
                }
                g
            })
            .reduce(Gathered::default, Gathered::join)
    };
    let mut gathered = gather(counted_before);
    let key = |e: &(u64, i64, u32, u32)| batches[e.2 as usize].customer_key.get(e.3 as usize);
    if !gathered.2 {
        // Two callers share a hash: every contact, callers numbered exactly.
        gathered = gather(i64::MAX);
        let mut numbers: HashMap<&str, u64, ahash::RandomState> = HashMap::default();
        for e in gathered.0.iter_mut() {
            let next = numbers.len() as u64;
            e.0 = *numbers.entry(key(e).unwrap_or_default()).or_insert(next);
        }
    }
    let Gathered(mut keyed, _, _, later) = gathered;
    keyed.extend(later.into_iter().map(|(h, (t, b, i))| (h, t, b, i)));
    keyed.par_sort_unstable();
    let mut first_row = Vec::with_capacity(batches.len());
    let mut rows = 0;
    for c in batches {
        first_row.push(rows);
        rows += c.len();
    }
    let mut verdicts = vec![None; rows];
    let window = window_days as i64 * 86_400_000_000;
    // For each contact, the caller's first contact at a later instant decides.
    let mut start = 0;
    while start < keyed.len() {
        let (caller, t, ..) = keyed[start];
        let mut end = start + 1;
        while end < keyed.len() && keyed[end].0 == caller && keyed[end].1 == t {
            end += 1;
        }
        let next = keyed.get(end).filter(|k| k.0 == caller).map(|k| k.1);
        let resolved = next.is_none_or(|n| n > t + window);
        if t < counted_before {
            for &(_, _, b, i) in &keyed[start..end] {
                verdicts[first_row[b as usize] + i as usize] = Some(resolved);
            }
        }
        start = end;
    }
    // Only answered contacts are eligible.
    let answered = batches
        .iter()
        .flat_map(|c| (0..c.len()).map(move |i| c.answered(i)));
    for (v, answered) in verdicts.iter_mut().zip(answered) {
        if !answered {
            *v = None;
        }
    }
    verdicts
}

/// What one thread gathered: the entries of contacts to count, the first caller key seen for
/// each hash, whether every key after it was the same, and each caller's earliest contact
/// among those not counted.
struct Gathered<'a>(
    Vec<(u64, i64, u32, u32)>,
    HashMap<u64, &'a str, ahash::RandomState>,
    bool,
    HashMap<u64, (i64, u32, u32), ahash::RandomState>,
);

impl Default for Gathered<'_> {
    fn default() -> Self {
        Gathered(Vec::new(), HashMap::default(), true, HashMap::default())
    }
}

impl<'a> Gathered<'a> {
    fn add(&mut self, e: (u64, i64, u32, u32), counted_before: i64) {
        if e.1 < counted_before {
            self.0.push(e);
            return;
        }
        self.later((e.0, (e.1, e.2, e.3)));
    }

    fn later(&mut self, (h, v): (u64, (i64, u32, u32))) {
        let earliest = self.3.entry(h).or_insert(v);
        if v < *earliest {
            *earliest = v;
        }
    }

    fn note(&mut self, hash: u64, key: &'a str) {
        let first = *self.1.entry(hash).or_insert(key);
        self.2 &= first == key;
    }

    fn join(mut self, other: Gathered<'a>) -> Self {
        self.0.extend_from_slice(&other.0);
        for (h, k) in other.1 {
            self.note(h, k);
        }
        self.2 &= other.2;
        for later in other.3 {
            self.later(later);
        }
        self
    }
}

/// The reporting zone's local time of instants, remembered per quarter hour of UTC: offsets
/// change on quarter hours, so a quarter hour whose first and last microsecond have the same
/// local date, hour and hour start has them for every instant between (one that does not, a
/// quarter hour an odd historical offset cuts, is worked out instant by instant).
pub(super) struct LocalClock<'a> {
    zone: &'a ReportingZone,
    memo: HashMap<i64, Option<LocalTime>, ahash::RandomState>,
}

const QUARTER_HOUR_US: i64 = 15 * 60 * 1_000_000;

impl<'a> LocalClock<'a> {
    pub fn new(zone: &'a ReportingZone) -> Self {
        LocalClock {
            zone,
            memo: HashMap::with_hasher(ahash::RandomState::new()),
        }
    }

    pub fn local(&mut self, us: i64) -> LocalTime {
        let quarter = us.div_euclid(QUARTER_HOUR_US);
        let zone = self.zone;
        let same = *self.memo.entry(quarter).or_insert_with(|| {
            let first = zone.local(quarter * QUARTER_HOUR_US);
            let last = zone.local((quarter + 1) * QUARTER_HOUR_US - 1);
            (first == last).then_some(first)
        });
        same.unwrap_or_else(|| zone.local(us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BooleanArray, Float64Array};
    use rand::{Rng, SeedableRng};

    /// A batch of contacts: (caller, µs, answered); `None` caller: no key.
    fn batch(rows: &[(Option<u8>, Option<i64>, bool)]) -> Columns {
        let keys: Vec<Option<String>> = rows
            .iter()
            .map(|r| r.0.map(|c| format!("caller{c}")))
            .collect();
        let none = || Strs::Plain(StringArray::from(vec![None::<&str>; rows.len()]));
        Columns {
            customer_key: Strs::Plain(StringArray::from(keys)),
            occurred_us: Int64Array::from(rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            queue_id: none(),
            queue_name: none(),
            wait: Float64Array::from(vec![None; rows.len()]),
            duration: Float64Array::from(vec![None; rows.len()]),
            csat: Float64Array::from(vec![None; rows.len()]),
            answered: BooleanArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            abandoned: BooleanArray::from(vec![false; rows.len()]),
        }
    }

    /// SPEC §4 read literally: resolved when no other contact of the caller is in (t, t + w].
    fn by_definition(rows: &[(Option<u8>, Option<i64>, bool)], w: i64) -> Vec<Option<bool>> {
        rows.iter()
            .map(|&(c, t, answered)| {
                let (c, t) = (c?, t?);
                answered.then(|| {
                    !rows
                        .iter()
                        .any(|o| o.0 == Some(c) && o.1.is_some_and(|u| u > t && u <= t + w))
                })
            })
            .collect()
    }

    #[test]
    fn fcr_verdicts_follow_the_definition_even_when_every_caller_hashes_alike() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let day = 86_400_000_000i64;
        for _ in 0..40 {
            let rows: Vec<(Option<u8>, Option<i64>, bool)> = (0..rng.random_range(1..300))
                .map(|_| {
                    let caller = (rng.random_range(0..10) > 0).then(|| rng.random_range(0..12));
                    // Whole hours over three weeks: many contacts at the very same instant.
                    let t = (rng.random_range(0..20) > 0)
                        .then(|| rng.random_range(0..500) * 3_600_000_000);
                    (caller, t, rng.random_bool(0.8))
                })
                .collect();
            let expect = by_definition(&rows, 7 * day);
            // Split into batches at a random place, as a scan hands them over.
            let cut = rng.random_range(0..=rows.len());
            let batches = [batch(&rows[..cut]), batch(&rows[cut..])];
            assert_eq!(fcr_verdicts(&batches, 7, i64::MAX), expect);
            // Contacts from a cut on are only looked at: the ones before it keep their
            // verdicts.
            let cut_at = rng.random_range(0..500) * 3_600_000_000;
            let before = fcr_verdicts(&batches, 7, cut_at);
            let before_colliding = fcr_verdicts_by(&batches, 7, cut_at, |_| 42);
            for (r, row) in rows.iter().enumerate() {
                if row.1.is_some_and(|t| t < cut_at) {
                    assert_eq!(before[r], expect[r], "row {r} before the cut");
                    assert_eq!(before_colliding[r], expect[r], "row {r}, colliding");
                } else {
                    assert_eq!(before[r], None, "row {r} from the cut on has no verdict");
                }
            }
            assert_eq!(
                fcr_verdicts_by(&batches, 7, i64::MAX, |_| 42),
                expect,
                "all callers colliding"
            );
            let zero = by_definition(&rows, 0);
            assert_eq!(
                fcr_verdicts(&batches, 0, i64::MAX),
                zero,
                "a window of no days"
            );
        }
    }

    #[test]
    fn the_local_clock_agrees_with_the_zone_around_transitions() {
        for name in [
            "UTC",
            "America/New_York",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "Australia/Lord_Howe",
        ] {
            let zone = ReportingZone::parse(name).unwrap();
            let mut clock = LocalClock::new(&zone);
            // 2026-03-01 to 2026-11-30 in steps of 7 min 13 s: crosses DST both ways.
            let mut us = 1_772_323_200_000_000i64;
            while us < 1_796_000_000_000_000 {
                assert_eq!(clock.local(us), zone.local(us), "{name} at {us}");
                us += 433_000_000;
            }
        }
    }
}
