//! Silver's Arrow schemas and the columnar builders that fill them, one row at a time, straight
//! from canonical rows (no intermediate JSON).

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder, new_null_array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};

const UTC: &str = "UTC";

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
}

/// `silver/contacts`, in SPEC §3 order.
pub static CONTACTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let f = |n: &str| Field::new(n, DataType::Float64, true);
    let b = |n: &str| Field::new(n, DataType::Boolean, true);
    Arc::new(Schema::new(vec![
        s("event_id"),
        s("contact_id"),
        Field::new("source_system", DataType::Utf8, false),
        Field::new("occurred_at", ts(), false),
        Field::new("date", DataType::Date32, false),
        Field::new("ended_at", ts(), true),
        s("queue_id"),
        s("queue_name"),
        s("agent_id"),
        s("media_type"),
        s("direction"),
        s("phone_number"),
        s("customer_key"),
        f("wait_seconds"),
        f("talk_seconds"),
        f("hold_seconds"),
        f("acw_seconds"),
        f("duration_seconds"),
        b("answered"),
        b("abandoned"),
        Field::new("outcome_status", DataType::Utf8, false),
        s("outcome_raw"),
        s("wrap_up_code"),
        f("csat_score"),
        s("member_id"),
        s("account_number"),
        s("card_number"),
        s("notes"),
        s("customer_tier"),
        s("product_type"),
        s("account_owner"),
        s("_rescued_data"),
        s("_source_file"),
        s("_bronze_file"),
        Field::new("_ingested_at", ts(), true),
        Field::new("_policy_version", DataType::Utf8, false),
    ]))
});

/// `silver/schema_drift`: one row per (date, shape, field, kind).
pub static DRIFT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("date", DataType::Date32, false),
        Field::new("shape", DataType::Utf8, false),
        Field::new("field", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("example", DataType::Utf8, true),
        Field::new("first_seen", ts(), false),
        Field::new("last_seen", ts(), false),
        Field::new("count", DataType::Int64, false),
        Field::new("processed_at", ts(), false),
    ]))
});

/// Days since 1970-01-01, as Arrow's Date32 counts them.
pub fn date32(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// A finished Silver row (masked, enriched), borrowed for the builder.
pub struct ContactRow<'a> {
    pub event_id: Option<&'a str>,
    pub contact_id: Option<&'a str>,
    pub source_system: &'a str,
    pub occurred_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub queue_id: Option<&'a str>,
    pub queue_name: Option<&'a str>,
    pub agent_id: Option<&'a str>,
    pub media_type: Option<&'a str>,
    pub direction: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub customer_key: Option<&'a str>,
    pub wait_seconds: Option<f64>,
    pub talk_seconds: Option<f64>,
    pub hold_seconds: Option<f64>,
    pub acw_seconds: Option<f64>,
    pub duration_seconds: Option<f64>,
    pub answered: Option<bool>,
    pub abandoned: Option<bool>,
    pub outcome_status: &'a str,
    pub outcome_raw: Option<&'a str>,
    pub wrap_up_code: Option<&'a str>,
    pub csat_score: Option<f64>,
    pub member_id: Option<&'a str>,
    pub account_number: Option<&'a str>,
    pub card_number: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub customer_tier: Option<&'a str>,
    pub product_type: Option<&'a str>,
    pub account_owner: Option<&'a str>,
    pub rescued_data: Option<&'a str>,
    pub source_file: &'a str,
    pub bronze_file: &'a str,
    pub ingested_at: DateTime<Utc>,
    pub policy_version: &'a str,
}

/// A string column that stays a count of nulls until its first value. Each source shape leaves
/// a third of the columns empty, and appending a null to a `StringBuilder` still writes an
/// offset and a validity bit; an empty column is one null array at the end instead.
struct TextColumn {
    leading_nulls: usize,
    builder: Option<StringBuilder>,
    /// Capacity for the builder once it exists: rows, and bytes of values.
    rows: usize,
    bytes: usize,
}

impl TextColumn {
    fn new(rows: usize, bytes: usize) -> Self {
        TextColumn {
            leading_nulls: 0,
            builder: None,
            rows,
            bytes,
        }
    }

    #[inline]
    fn push(&mut self, v: Option<&str>) {
        match (v, &mut self.builder) {
            (None, None) => self.leading_nulls += 1,
            (None, Some(b)) => b.append_null(),
            (Some(v), Some(b)) => b.append_value(v),
            (Some(v), None) => {
                let mut b = StringBuilder::with_capacity(self.rows, self.bytes);
                b.append_nulls(self.leading_nulls);
                b.append_value(v);
                self.builder = Some(b);
            }
        }
    }

    /// The column so far; the column starts empty.
    fn finish(&mut self) -> ArrayRef {
        let nulls = std::mem::take(&mut self.leading_nulls);
        match self.builder.take() {
            Some(mut b) => Arc::new(b.finish()),
            None => new_null_array(&DataType::Utf8, nulls),
        }
    }
}

/// Column builders for `silver/contacts`.
pub struct ContactsBuilder {
    text: Vec<TextColumn>,
    num: Vec<Float64Builder>,
    flags: Vec<BooleanBuilder>,
    occurred_at: TimestampMicrosecondBuilder,
    ended_at: TimestampMicrosecondBuilder,
    ingested_at: TimestampMicrosecondBuilder,
    date: Date32Builder,
    len: usize,
}

// Positions in the `text`, `num` and `flags` vectors.
const T_EVENT_ID: usize = 0;
const T_CONTACT_ID: usize = 1;
const T_SOURCE: usize = 2;
const T_QUEUE_ID: usize = 3;
const T_QUEUE_NAME: usize = 4;
const T_AGENT: usize = 5;
const T_MEDIA: usize = 6;
const T_DIRECTION: usize = 7;
const T_PHONE: usize = 8;
const T_CUSTOMER_KEY: usize = 9;
const T_OUTCOME: usize = 10;
const T_OUTCOME_RAW: usize = 11;
const T_WRAP: usize = 12;
const T_MEMBER: usize = 13;
const T_ACCOUNT: usize = 14;
const T_CARD: usize = 15;
const T_NOTES: usize = 16;
const T_TIER: usize = 17;
const T_PRODUCT: usize = 18;
const T_OWNER: usize = 19;
const T_RESCUED: usize = 20;
const T_SOURCE_FILE: usize = 21;
const T_BRONZE_FILE: usize = 22;
const T_POLICY: usize = 23;
const TEXT_COLUMNS: usize = 24;

const N_WAIT: usize = 0;
const N_TALK: usize = 1;
const N_HOLD: usize = 2;
const N_ACW: usize = 3;
const N_DURATION: usize = 4;
const N_CSAT: usize = 5;

impl ContactsBuilder {
    /// Builders sized for `rows` rows, so a chunk is built without regrowing its buffers.
    pub fn with_capacity(rows: usize) -> Self {
        // Typical bytes per value: hashes are 64, notes and file paths longer, most shorter.
        let bytes = |i: usize| match i {
            T_PHONE | T_CUSTOMER_KEY | T_MEMBER | T_NOTES | T_SOURCE_FILE | T_BRONZE_FILE => 64,
            T_RESCUED | T_TIER | T_PRODUCT | T_OWNER | T_ACCOUNT | T_CARD => 0,
            _ => 16,
        };
        ContactsBuilder {
            text: (0..TEXT_COLUMNS)
                .map(|i| TextColumn::new(rows, rows * bytes(i)))
                .collect(),
            num: (0..6)
                .map(|_| Float64Builder::with_capacity(rows))
                .collect(),
            flags: (0..2)
                .map(|_| BooleanBuilder::with_capacity(rows))
                .collect(),
            occurred_at: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC),
            ended_at: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC),
            ingested_at: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC),
            date: Date32Builder::with_capacity(rows),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, r: &ContactRow<'_>) {
        let texts: [(usize, Option<&str>); TEXT_COLUMNS] = [
            (T_EVENT_ID, r.event_id),
            (T_CONTACT_ID, r.contact_id),
            (T_SOURCE, Some(r.source_system)),
            (T_QUEUE_ID, r.queue_id),
            (T_QUEUE_NAME, r.queue_name),
            (T_AGENT, r.agent_id),
            (T_MEDIA, r.media_type),
            (T_DIRECTION, r.direction),
            (T_PHONE, r.phone_number),
            (T_CUSTOMER_KEY, r.customer_key),
            (T_OUTCOME, Some(r.outcome_status)),
            (T_OUTCOME_RAW, r.outcome_raw),
            (T_WRAP, r.wrap_up_code),
            (T_MEMBER, r.member_id),
            (T_ACCOUNT, r.account_number),
            (T_CARD, r.card_number),
            (T_NOTES, r.notes),
            (T_TIER, r.customer_tier),
            (T_PRODUCT, r.product_type),
            (T_OWNER, r.account_owner),
            (T_RESCUED, r.rescued_data),
            (T_SOURCE_FILE, Some(r.source_file)),
            (T_BRONZE_FILE, Some(r.bronze_file)),
            (T_POLICY, Some(r.policy_version)),
        ];
        for (i, v) in texts {
            self.text[i].push(v);
        }
        for (i, v) in [
            (N_WAIT, r.wait_seconds),
            (N_TALK, r.talk_seconds),
            (N_HOLD, r.hold_seconds),
            (N_ACW, r.acw_seconds),
            (N_DURATION, r.duration_seconds),
            (N_CSAT, r.csat_score),
        ] {
            self.num[i].append_option(v);
        }
        self.flags[0].append_option(r.answered);
        self.flags[1].append_option(r.abandoned);
        // The UTC day straight from the microseconds: the same day as `date32` of the date,
        // without building a calendar date per row.
        let micros = r.occurred_at.timestamp_micros();
        self.occurred_at.append_value(micros);
        self.date
            .append_value(micros.div_euclid(86_400_000_000) as i32);
        self.ended_at
            .append_option(r.ended_at.map(|t| t.timestamp_micros()));
        self.ingested_at
            .append_value(r.ingested_at.timestamp_micros());
        self.len += 1;
    }

    /// The rows so far as one batch in [`CONTACTS_SCHEMA`] order; the builder starts empty.
    pub fn finish(&mut self) -> Result<RecordBatch, arrow::error::ArrowError> {
        let mut t: Vec<ArrayRef> = self.text.iter_mut().map(TextColumn::finish).collect();
        let mut n: Vec<ArrayRef> = self
            .num
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let mut f: Vec<ArrayRef> = self
            .flags
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let take = |v: &mut Vec<ArrayRef>, i: usize| {
            std::mem::replace(&mut v[i], Arc::new(arrow::array::NullArray::new(0)))
        };
        let columns: Vec<ArrayRef> = vec![
            take(&mut t, T_EVENT_ID),
            take(&mut t, T_CONTACT_ID),
            take(&mut t, T_SOURCE),
            Arc::new(self.occurred_at.finish()),
            Arc::new(self.date.finish()),
            Arc::new(self.ended_at.finish()),
            take(&mut t, T_QUEUE_ID),
            take(&mut t, T_QUEUE_NAME),
            take(&mut t, T_AGENT),
            take(&mut t, T_MEDIA),
            take(&mut t, T_DIRECTION),
            take(&mut t, T_PHONE),
            take(&mut t, T_CUSTOMER_KEY),
            take(&mut n, N_WAIT),
            take(&mut n, N_TALK),
            take(&mut n, N_HOLD),
            take(&mut n, N_ACW),
            take(&mut n, N_DURATION),
            take(&mut f, 0),
            take(&mut f, 1),
            take(&mut t, T_OUTCOME),
            take(&mut t, T_OUTCOME_RAW),
            take(&mut t, T_WRAP),
            take(&mut n, N_CSAT),
            take(&mut t, T_MEMBER),
            take(&mut t, T_ACCOUNT),
            take(&mut t, T_CARD),
            take(&mut t, T_NOTES),
            take(&mut t, T_TIER),
            take(&mut t, T_PRODUCT),
            take(&mut t, T_OWNER),
            take(&mut t, T_RESCUED),
            take(&mut t, T_SOURCE_FILE),
            take(&mut t, T_BRONZE_FILE),
            Arc::new(self.ingested_at.finish()),
            take(&mut t, T_POLICY),
        ];
        self.len = 0;
        RecordBatch::try_new(CONTACTS_SCHEMA.clone(), columns)
    }
}

/// One drift row.
pub struct DriftRow<'a> {
    pub date: NaiveDate,
    pub shape: &'a str,
    pub field: &'a str,
    pub kind: &'a str,
    pub example: Option<&'a str>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub count: u64,
    pub processed_at: DateTime<Utc>,
}

/// Builds a drift batch.
pub fn drift_batch(rows: &[DriftRow<'_>]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let mut date = Date32Builder::new();
    let (mut shape, mut field, mut kind, mut example) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut first = TimestampMicrosecondBuilder::new().with_timezone(UTC);
    let mut last = TimestampMicrosecondBuilder::new().with_timezone(UTC);
    let mut processed = TimestampMicrosecondBuilder::new().with_timezone(UTC);
    let mut count = Int64Builder::new();
    for r in rows {
        date.append_value(date32(r.date));
        shape.append_value(r.shape);
        field.append_value(r.field);
        kind.append_value(r.kind);
        example.append_option(r.example);
        first.append_value(r.first_seen.timestamp_micros());
        last.append_value(r.last_seen.timestamp_micros());
        count.append_value(r.count as i64);
        processed.append_value(r.processed_at.timestamp_micros());
    }
    RecordBatch::try_new(
        DRIFT_SCHEMA.clone(),
        vec![
            Arc::new(date.finish()),
            Arc::new(shape.finish()),
            Arc::new(field.finish()),
            Arc::new(kind.finish()),
            Arc::new(example.finish()),
            Arc::new(first.finish()),
            Arc::new(last.finish()),
            Arc::new(count.finish()),
            Arc::new(processed.finish()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, StringArray};

    #[test]
    fn the_date_column_is_the_utc_day_of_occurred_at() {
        let mut b = ContactsBuilder::with_capacity(4);
        let times = [
            "1969-12-31T23:59:59.999999Z",
            "1970-01-01T00:00:00Z",
            "2026-09-30T23:59:59.5Z",
            "2026-10-01T00:00:00Z",
        ];
        for t in times {
            let at: DateTime<Utc> = t.parse().unwrap();
            b.push(&ContactRow {
                event_id: None,
                contact_id: None,
                source_system: "generic",
                occurred_at: at,
                ended_at: None,
                queue_id: None,
                queue_name: None,
                agent_id: None,
                media_type: None,
                direction: None,
                phone_number: None,
                customer_key: None,
                wait_seconds: None,
                talk_seconds: None,
                hold_seconds: None,
                acw_seconds: None,
                duration_seconds: None,
                answered: None,
                abandoned: None,
                outcome_status: "unknown",
                outcome_raw: None,
                wrap_up_code: None,
                csat_score: None,
                member_id: None,
                account_number: None,
                card_number: None,
                notes: None,
                customer_tier: None,
                product_type: None,
                account_owner: None,
                rescued_data: None,
                source_file: "f",
                bronze_file: "b",
                ingested_at: at,
                policy_version: "v",
            });
        }
        let batch = b.finish().unwrap();
        let dates = batch
            .column_by_name("date")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::Date32Array>()
            .unwrap();
        let want: Vec<i32> = times
            .iter()
            .map(|t| date32(t.parse::<DateTime<Utc>>().unwrap().date_naive()))
            .collect();
        assert_eq!(dates.values().to_vec(), want);
        assert_eq!(want, vec![-1, 0, 20726, 20727]);
    }

    #[test]
    fn text_columns_equal_a_plain_builder_whatever_their_nulls() {
        // Columns: all null, null then values, values then nulls, alternating.
        let rows: Vec<[Option<&str>; 4]> = (0..10)
            .map(|i| {
                [
                    None,
                    (i >= 4).then_some("late"),
                    (i < 3).then_some("early"),
                    (i % 2 == 0).then_some("even"),
                ]
            })
            .collect();
        let mut lazy: Vec<TextColumn> = (0..4).map(|_| TextColumn::new(4, 8)).collect();
        // Twice: a finished column starts empty and is built afresh.
        for round in 0..2 {
            let mut plain: Vec<StringBuilder> = (0..4).map(|_| StringBuilder::new()).collect();
            for r in &rows[round..] {
                for (c, v) in r.iter().enumerate() {
                    lazy[c].push(*v);
                    plain[c].append_option(*v);
                }
            }
            for (l, p) in lazy.iter_mut().zip(&mut plain) {
                let (l, p) = (l.finish(), p.finish());
                assert_eq!(l.data_type(), &DataType::Utf8);
                let l = l.as_any().downcast_ref::<StringArray>().unwrap();
                assert_eq!(l, &p);
                assert_eq!(l.null_count(), p.null_count());
            }
        }
    }
}
