//! Lineage queries: from a raw Bronze line to the Silver row built from it, and back; from a
//! Gold number to the Silver contacts behind it, and its KPIs recomputed from them.

use crate::gold::health::{Kpi, Totals};

/// The identifiers a raw record names its contact by, in the order they are tried (Genesys
/// Cloud, Amazon Connect, NICE CXone and the generic shape).
const ID_KEYS: [&str; 5] = [
    "conversationId",
    "ContactId",
    "contactId",
    "contact_id",
    "event_id",
];

fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// The query for the Silver row(s) built from a raw Bronze line, by the contact id the line
/// names (none when it names none).
pub fn silver_rows_of_line(raw: &str) -> Option<String> {
    let raw: serde_json::Value = serde_json::from_str(raw).ok()?;
    let id = ID_KEYS.iter().find_map(|k| raw.get(*k))?;
    let id = id
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| id.to_string());
    Some(format!(
        "SELECT * FROM silver_contacts WHERE contact_id = '{}'",
        quote(&id)
    ))
}

/// The query for the raw line of a Bronze file a Silver row was built from.
pub fn bronze_line_of_row(bronze_file: &str, contact_id: &str) -> Option<String> {
    if bronze_file.is_empty() {
        return None;
    }
    Some(format!(
        "SELECT bronze_file, line, raw FROM bronze_contacts WHERE bronze_file = '{}' AND raw LIKE '%{}%'",
        quote(bronze_file),
        quote(contact_id).replace('%', "")
    ))
}

/// A Gold number's group: one queue over reporting-zone days `from..=to`, or one hour of
/// them ("" is the queue of contacts that never reached one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub queue_id: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub hour: Option<u32>,
}

impl Group {
    /// "Billing on 2026-10-05 at 14:00", for headings.
    pub fn describe(&self, queue_name: &str) -> String {
        let name = match queue_name {
            "" if self.queue_id.is_empty() => "(no queue)",
            "" => &self.queue_id,
            n => n,
        };
        let days = match self.from == self.to {
            true => format!("on {}", self.from.format("%a %Y-%m-%d")),
            false => format!("from {} to {}", self.from, self.to),
        };
        match self.hour {
            Some(h) => format!("{name} {days} at {h:02}:00"),
            None => format!("{name} {days}"),
        }
    }
}

/// The thresholds Gold's KPIs are computed with (the lake's `pipeline.toml`).
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub service_level_seconds: f64,
    pub short_abandon_seconds: f64,
    pub fcr_window_days: u32,
}

/// The query for the Silver contacts behind a Gold number, with the columns that explain its
/// KPIs (abandoned first, then by time): whether each counts within the service level or as
/// a short abandon, and its FCR verdict with the caller's next contact (any queue, within
/// the window). A contact's `_bronze_file` leads on to its raw line.
///
/// The FCR verdict is found by a join on the caller, not by Gold's window pass, so the two
/// can be checked against each other.
pub fn contacts_behind(g: &Group, rules: &Rules) -> String {
    let queue = match g.queue_id.as_str() {
        "" => "queue_id IS NULL".to_string(),
        q => format!("queue_id = '{}'", quote(q)),
    };
    let hour = g.hour.map_or(String::new(), |h| {
        format!(" AND cclake_local_hour(occurred_at) = {h}")
    });
    let (from, to) = (g.from, g.to);
    let (sl, short) = (rules.service_level_seconds, rules.short_abandon_seconds);
    let window = rules.fcr_window_days;
    format!(
        "WITH g AS (
  SELECT * FROM silver_contacts
  WHERE {queue} AND cclake_local_date(occurred_at) BETWEEN DATE '{from}' AND DATE '{to}'{hour}
),
back AS (
  SELECT g.source_system, g.contact_id, MIN(o.occurred_at) AS came_back_at
  FROM g JOIN silver_contacts o ON o.customer_key = g.customer_key
   AND o.occurred_at > g.occurred_at
   AND o.occurred_at <= g.occurred_at + INTERVAL '{window} days'
  WHERE g.answered
  GROUP BY g.source_system, g.contact_id
)
SELECT cclake_local_date(g.occurred_at) AS day, cclake_local_hour(g.occurred_at) AS hour,
       g.occurred_at, g.source_system, g.contact_id, g.abandoned, g.answered, g.wait_seconds,
       g.answered AND g.wait_seconds <= {sl:?} AS within_sl,
       g.abandoned AND g.wait_seconds < {short:?} AS short_abandon,
       g.talk_seconds, g.hold_seconds, g.acw_seconds, g.duration_seconds AS handle_seconds,
       CASE WHEN NOT g.answered OR g.customer_key IS NULL THEN NULL
            WHEN back.came_back_at IS NULL THEN 'resolved' ELSE 'repeat' END AS fcr,
       back.came_back_at, g.outcome_status, g.csat_score, g.customer_key, g.queue_name,
       g._bronze_file
FROM g LEFT JOIN back ON back.source_system = g.source_system AND back.contact_id = g.contact_id
ORDER BY g.abandoned DESC, g.occurred_at, g.contact_id"
    )
}

/// A group's counts and sums recounted from its contacts. AHT and ASA are means over the
/// answered contacts that have a value (as SQL's AVG skips nulls), so they keep their own
/// counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Recount {
    pub totals: Totals,
    pub handle_n: i64,
    pub wait_n: i64,
}

impl Recount {
    pub fn value(&self, kpi: Kpi) -> Option<f64> {
        let t = &self.totals;
        match kpi {
            Kpi::Aht => (self.handle_n > 0).then(|| t.handle_sum / self.handle_n as f64),
            Kpi::Asa => (self.wait_n > 0).then(|| t.wait_sum / self.wait_n as f64),
            k => t.value(k),
        }
    }
}

/// A Gold group's KPIs recomputed from the rows of [`contacts_behind`], by SPEC §4 (the
/// columns are found by name).
pub fn recompute(batches: &[arrow::record_batch::RecordBatch]) -> Result<Recount, String> {
    use arrow::array::{Array, AsArray, BooleanArray, Float64Array};
    let mut r = Recount::default();
    for b in batches {
        let col = |name: &str| {
            b.column_by_name(name)
                .ok_or_else(|| format!("the contacts have no column {name}"))
        };
        let flag = |name: &str| -> Result<BooleanArray, String> {
            col(name)?
                .as_boolean_opt()
                .cloned()
                .ok_or_else(|| format!("{name} is not a boolean"))
        };
        let num = |name: &str| -> Result<Float64Array, String> {
            col(name)?
                .as_primitive_opt::<arrow::datatypes::Float64Type>()
                .cloned()
                .ok_or_else(|| format!("{name} is not a number"))
        };
        let (answered, abandoned) = (flag("answered")?, flag("abandoned")?);
        let (within, short) = (flag("within_sl")?, flag("short_abandon")?);
        let (wait, handle, csat) = (
            num("wait_seconds")?,
            num("handle_seconds")?,
            num("csat_score")?,
        );
        let fcr = crate::lake::delta::utf8_column(col("fcr")?).map_err(|e| e.to_string())?;
        let yes = |a: &BooleanArray, i: usize| a.is_valid(i) && a.value(i);
        for i in 0..b.num_rows() {
            r.totals.total += 1;
            if yes(&answered, i) {
                r.totals.answered += 1;
                if handle.is_valid(i) {
                    r.totals.handle_sum += handle.value(i);
                    r.handle_n += 1;
                }
                if wait.is_valid(i) {
                    r.totals.wait_sum += wait.value(i);
                    r.wait_n += 1;
                }
            }
            r.totals.abandoned += yes(&abandoned, i) as i64;
            r.totals.within_sl += yes(&within, i) as i64;
            r.totals.short += yes(&short, i) as i64;
            if fcr.is_valid(i) {
                r.totals.fcr_eligible += 1;
                r.totals.fcr_resolved += (fcr.value(i) == "resolved") as i64;
            }
            if csat.is_valid(i) {
                r.totals.csat_n += 1;
                r.totals.csat_sum += csat.value(i);
            }
        }
    }
    Ok(r)
}
