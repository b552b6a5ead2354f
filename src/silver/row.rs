//! One Silver row from one mapped record: masking, status normalisation, CRM columns and
//! lineage, and the tally of what that did.

use std::collections::BTreeMap;

use serde_json::Value;

use super::build::{BronzeFile, Settings};
use super::canonical::CanonicalRow;
use super::digest::HexDigest;
use super::drift::{DriftCollector, DriftKind};
use super::masking::{self, ColumnCounts, Masker};
use super::pii::PhoneCache;
use super::table::{ContactRow, ContactsBuilder};
use crate::sources::Shape;

/// What building rows added up to: masking per column, rescued data, CRM matches. Kept per
/// work unit and summed per date; a dropped duplicate's share is counted again and taken off.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Tally {
    pub masked: [ColumnCounts; 5],
    /// Values present per masked column: a column shows in the summary once it had one.
    pub present: [u64; 5],
    pub rows_with_rescued: u64,
    pub rescued_fields: u64,
    pub crm_matched: u64,
}

/// The masked columns, in [`Tally`]'s slot order.
pub const MASKED_COLUMNS: [&str; 5] = [
    "phone_number",
    "member_id",
    "account_number",
    "card_number",
    "notes",
];

impl Tally {
    pub fn add(&mut self, o: &Tally, sign: Sign) {
        let f = |a: &mut u64, b: u64| match sign {
            Sign::Plus => *a += b,
            // A recount masks exactly as the build did, so this never goes below zero; a
            // miscount would show as a low number rather than stop the run.
            Sign::Minus => *a = a.saturating_sub(b),
        };
        for (mine, theirs) in self.masked.iter_mut().zip(&o.masked) {
            f(&mut mine.masked, theirs.masked);
            f(&mut mine.unvalidated_kept, theirs.unvalidated_kept);
            f(&mut mine.unvalidated_redacted, theirs.unvalidated_redacted);
            f(&mut mine.spans_scrubbed, theirs.spans_scrubbed);
        }
        for (mine, theirs) in self.present.iter_mut().zip(&o.present) {
            f(mine, *theirs);
        }
        f(&mut self.rows_with_rescued, o.rows_with_rescued);
        f(&mut self.rescued_fields, o.rescued_fields);
        f(&mut self.crm_matched, o.crm_matched);
    }

    pub fn masked_by_column(&self) -> BTreeMap<&'static str, ColumnCounts> {
        MASKED_COLUMNS
            .into_iter()
            .zip(self.masked)
            .zip(self.present)
            .filter(|(_, present)| *present > 0)
            .map(|((c, n), _)| (c, n))
            .collect()
    }
}

#[derive(Clone, Copy)]
pub enum Sign {
    Plus,
    Minus,
}

/// Where a built row came from: dedupe orders by it, and a dropped duplicate is read again
/// from it to take its share off the tally.
pub struct RowAt {
    pub shape: Shape,
    /// The platform's last update of the record, in µs (Amazon Connect re-delivers a contact
    /// when it changes); `i64::MIN` when the record has none.
    pub updated: i64,
    pub file: usize,
    pub line: usize,
    pub from: usize,
    pub to: usize,
}

/// Turns mapped records into Silver rows: masking, status normalisation, CRM columns, lineage.
pub struct RowBuilder<'c> {
    pub settings: &'c Settings,
    pub files: &'c [BronzeFile],
    /// The masked columns' rules, looked up once (in [`MASKED_COLUMNS`] order).
    rules: [Option<&'c masking::ColumnRule>; 5],
}

impl<'c> RowBuilder<'c> {
    pub fn new(settings: &'c Settings, files: &'c [BronzeFile]) -> Self {
        RowBuilder {
            settings,
            files,
            rules: MASKED_COLUMNS.map(|c| settings.masker.rule(c)),
        }
    }

    /// The normalised outcome, answered and abandoned. The generic shape's statuses go
    /// through the status map (an unmapped one is drift, and "unknown"); the platforms' own
    /// exports say answered and abandoned themselves.
    fn outcome(
        &self,
        shape: Shape,
        r: &CanonicalRow<'_>,
        drift: &mut DriftCollector,
    ) -> (&'c str, Option<bool>, Option<bool>) {
        if shape != Shape::Generic {
            let outcome = r.outcome_status.unwrap_or("unknown");
            return (outcome, r.answered, r.abandoned);
        }
        let normalized = match r.outcome_raw.as_deref() {
            None => "unknown",
            Some(raw) => match self.settings.status.normalize(raw) {
                Some(n) => n,
                None => {
                    drift.observe(
                        shape,
                        "outcome_status",
                        DriftKind::UnmappedStatus,
                        Some(&Value::String(raw.to_string())),
                        r.occurred_at.unwrap_or_default(),
                    );
                    "unknown"
                }
            },
        };
        let answered = matches!(normalized, "handled" | "transferred");
        (normalized, Some(answered), Some(normalized == "abandoned"))
    }

    /// Masks, normalises and enriches one record, pushes it to `out` (a recount passes none)
    /// and adds what it did to `tally`.
    #[allow(clippy::too_many_arguments)]
    pub fn row<'r>(
        &self,
        shape: Shape,
        r: &'r CanonicalRow<'r>,
        file: usize,
        out: Option<&mut ContactsBuilder>,
        tally: &mut Tally,
        drift: &mut DriftCollector,
        phones: &mut PhoneCache,
    ) {
        let ctx = self.settings;
        let m = &ctx.masker;
        // The phone column and customer_key share one validation and one hash.
        let (phone, customer_key) = match r.phone_number.as_deref() {
            Some(v) => {
                tally.present[0] += 1;
                let (p, k) = m.mask_phone_with(self.rules[0], v, phones, &mut tally.masked[0]);
                (Some(p), k)
            }
            None => (None, None),
        };
        let mut mask = |i: usize, v: Option<&'r str>, phones: &mut PhoneCache| {
            let v = v?;
            tally.present[i] += 1;
            Some(m.mask_with(self.rules[i], v, phones, &mut tally.masked[i]))
        };
        let member = mask(1, r.member_id.as_deref(), phones);
        let account = mask(2, r.account_number.as_deref(), phones);
        let card = mask(3, r.card_number.as_deref(), phones);
        let notes = mask(4, r.notes.as_deref(), phones);

        let (outcome, answered, abandoned) = self.outcome(shape, r, drift);
        if !r.rescued.is_empty() {
            tally.rows_with_rescued += 1;
            tally.rescued_fields += r.rescued.len() as u64;
        }
        let crm = ctx.crm.lookup(
            customer_key.as_ref().map(HexDigest::as_str),
            r.contact_id.as_deref(),
        );
        tally.crm_matched += u64::from(crm.is_some());
        let Some(out) = out else {
            return;
        };
        // Rescued data is scrubbed and written out only for a row that is built: a recount
        // needs its counts, not its text.
        let rescued = (!r.rescued.is_empty()).then(|| {
            let mut v = Value::Object(r.rescued.clone());
            if m.enabled() {
                scrub_value(m, &mut v, phones);
            }
            v.to_string()
        });
        let file = &self.files[file];
        out.push(&ContactRow {
            event_id: r.event_id.as_deref(),
            contact_id: r.contact_id.as_deref(),
            source_system: shape.as_str(),
            occurred_at: r.occurred_at.unwrap_or_default(),
            ended_at: r.ended_at,
            queue_id: r.queue_id.as_deref(),
            queue_name: r.queue_name.as_deref(),
            agent_id: r.agent_id.as_deref(),
            media_type: r.media_type.as_deref(),
            direction: r.direction.as_deref(),
            phone_number: phone.as_deref(),
            customer_key: customer_key.as_ref().map(HexDigest::as_str),
            wait_seconds: r.wait_seconds,
            talk_seconds: r.talk_seconds,
            hold_seconds: r.hold_seconds,
            acw_seconds: r.acw_seconds,
            duration_seconds: r.duration_seconds,
            answered,
            abandoned,
            outcome_status: outcome,
            outcome_raw: r.outcome_raw.as_deref(),
            wrap_up_code: r.wrap_up_code.as_deref(),
            csat_score: r.csat_score,
            member_id: member.as_deref(),
            account_number: account.as_deref(),
            card_number: card.as_deref(),
            notes: notes.as_deref(),
            customer_tier: crm.and_then(|c| c.customer_tier.as_deref()),
            product_type: crm.and_then(|c| c.product_type.as_deref()),
            account_owner: crm.and_then(|c| c.account_owner.as_deref()),
            rescued_data: rescued.as_deref(),
            source_file: &file.source_path,
            bronze_file: &file.path,
            ingested_at: file.ingested_at,
            policy_version: &m.policy.version,
        });
    }
}

/// Scrubs PII out of every string (and number) inside rescued JSON, keeping it valid JSON. Keys
/// are scrubbed like values: exports key maps by caller (a phone-number key in Amazon
/// Connect's `Attributes`, an e-mail in a CRM lookup).
fn scrub_value(m: &Masker, v: &mut Value, phones: &mut PhoneCache) {
    match v {
        Value::String(s) => {
            let (t, n) = m.scrub(s, phones);
            if n > 0 {
                *s = t;
            }
        }
        Value::Number(num) => {
            let text = num.to_string();
            let (t, n) = m.scrub(&text, phones);
            if n > 0 {
                *v = Value::String(t);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scrub_value(m, x, phones)),
        Value::Object(o) => {
            let has_pii_key = o.keys().any(|k| m.scrub(k, phones).1 > 0);
            if has_pii_key {
                let old = std::mem::take(o);
                for (k, mut x) in old {
                    scrub_value(m, &mut x, phones);
                    let (scrubbed, _) = m.scrub(&k, phones);
                    // Two keys that scrub alike (two phone numbers) keep both values.
                    let mut key = scrubbed.clone();
                    let mut n = 1;
                    while o.contains_key(&key) {
                        n += 1;
                        key = format!("{scrubbed}#{n}");
                    }
                    o.insert(key, x);
                }
            } else {
                o.values_mut().for_each(|x| scrub_value(m, x, phones));
            }
        }
        _ => {}
    }
}
