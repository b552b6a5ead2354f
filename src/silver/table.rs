//! Silver's Arrow schemas and the columnar builders that fill them, one row at a time, straight
//! from canonical rows (no intermediate JSON).

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, BooleanBufferBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder,
    StringArray, StringBuilder, TimestampMicrosecondBuilder, new_null_array,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
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

/// A Bronze record Silver set aside: it could not be read as JSON, has no occurrence time, or
/// its mapping failed. Its text stays in Bronze (file and line say where); the reason says
/// what went wrong and never quotes the record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    pub bronze_file: String,
    /// 1-based, as editors count.
    pub line: u64,
    pub source_file: String,
    pub reason: String,
}

/// `silver/rejects`: the Bronze records a date's build set aside, with where they are and why.
/// Rebuilt with its date, like the contacts.
pub static REJECTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("date", DataType::Date32, false),
        Field::new("bronze_file", DataType::Utf8, false),
        Field::new("line", DataType::Int64, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("processed_at", ts(), false),
    ]))
});

/// The rejects of some dates as one batch.
pub fn rejects_batch(
    rows: &[(NaiveDate, &Reject)],
    processed_at: DateTime<Utc>,
) -> Result<RecordBatch, ArrowError> {
    let mut date = Date32Builder::new();
    let (mut file, mut source, mut reason) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut line = Int64Builder::new();
    let mut processed = TimestampMicrosecondBuilder::new().with_timezone(UTC);
    for (d, r) in rows {
        date.append_value(date32(*d));
        file.append_value(&r.bronze_file);
        line.append_value(i64::try_from(r.line).unwrap_or(i64::MAX));
        source.append_value(&r.source_file);
        reason.append_value(&r.reason);
        processed.append_value(processed_at.timestamp_micros());
    }
    RecordBatch::try_new(
        REJECTS_SCHEMA.clone(),
        vec![
            Arc::new(date.finish()),
            Arc::new(file.finish()),
            Arc::new(line.finish()),
            Arc::new(source.finish()),
            Arc::new(reason.finish()),
            Arc::new(processed.finish()),
        ],
    )
}

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

/// A string column built straight into its offsets and bytes. It stays a count of nulls until
/// its first value (each source shape leaves a third of the columns empty: an empty column is
/// one null array at the end), and it has no validity bitmap until its first null after that
/// (most columns have none). Arrow's `StringBuilder` wrote a validity bit and checked the offset
/// for every value of every Silver row.
struct TextColumn {
    leading_nulls: usize,
    /// Empty until the first value; from then on a 0 and the end of every row, the leading
    /// nulls (empty slots) included.
    offsets: Vec<i32>,
    values: Vec<u8>,
    /// Validity of every row, once there is a null after the first value.
    validity: Option<BooleanBufferBuilder>,
    /// More than 2 GiB of text: Arrow's `Utf8` cannot hold it, `finish` says so.
    overflow: bool,
    /// Capacity once the first value comes: rows, and bytes of values.
    rows: usize,
    bytes: usize,
}

impl TextColumn {
    fn new(rows: usize, bytes: usize) -> Self {
        TextColumn {
            leading_nulls: 0,
            offsets: Vec::new(),
            values: Vec::new(),
            validity: None,
            overflow: false,
            rows,
            bytes,
        }
    }

    #[inline]
    fn push(&mut self, v: Option<&str>) {
        match v {
            Some(v) => {
                if self.offsets.is_empty() {
                    self.start();
                }
                self.values.extend_from_slice(v.as_bytes());
                self.push_offset();
                if let Some(b) = &mut self.validity {
                    b.append(true);
                }
            }
            None if self.offsets.is_empty() => self.leading_nulls += 1,
            None => {
                if self.validity.is_none() {
                    self.validity = Some(self.validity_so_far());
                }
                self.push_offset();
                if let Some(b) = &mut self.validity {
                    b.append(false);
                }
            }
        }
    }

    /// The first value: the leading nulls become empty slots, invalid when there were any.
    #[cold]
    fn start(&mut self) {
        self.offsets = Vec::with_capacity(self.rows.max(self.leading_nulls) + 1);
        self.offsets.resize(self.leading_nulls + 1, 0);
        self.values = Vec::with_capacity(self.bytes);
        if self.leading_nulls > 0 {
            self.validity = Some(self.validity_so_far());
        }
    }

    /// A validity bitmap for the rows so far (the column has had its first value): the
    /// leading nulls invalid, every later row valid (the bitmap exists from the first null on).
    fn validity_so_far(&self) -> BooleanBufferBuilder {
        let rows = self.offsets.len() - 1;
        let mut b = BooleanBufferBuilder::new(self.rows.max(rows + 1));
        b.append_n(self.leading_nulls, false);
        b.append_n(rows - self.leading_nulls, true);
        b
    }

    #[inline]
    fn push_offset(&mut self) {
        let end = i32::try_from(self.values.len()).unwrap_or_else(|_| {
            self.overflow = true;
            i32::MAX
        });
        self.offsets.push(end);
    }

    /// The column so far; the column starts empty.
    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        let nulls = std::mem::take(&mut self.leading_nulls);
        if self.offsets.is_empty() {
            return Ok(new_null_array(&DataType::Utf8, nulls));
        }
        if std::mem::take(&mut self.overflow) {
            *self = TextColumn::new(self.rows, self.bytes);
            return Err(ArrowError::ComputeError(
                "more than 2 GiB of text in one Silver column of one work unit".into(),
            ));
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::take(&mut self.offsets)));
        let values = Buffer::from_vec(std::mem::take(&mut self.values));
        let validity = self
            .validity
            .take()
            .map(|mut b| NullBuffer::new(b.finish()));
        // SAFETY: `values` is the concatenation of `&str`s, so it is UTF-8, and each offset
        // is the end of one of them (a char boundary); offsets start at 0 and never decrease
        // (OffsetBuffer::new checked), and there is one validity bit per row.
        Ok(Arc::new(unsafe {
            StringArray::new_unchecked(offsets, values, validity)
        }))
    }
}

/// Column builders for `silver/contacts`.
pub struct ContactsBuilder {
    text: [TextColumn; TEXT_COLUMNS],
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
        // Typical bytes per value: hashes and the policy version are 64, notes and file paths
        // about as long (Bronze paths twice that), most shorter.
        let bytes = |i: usize| match i {
            T_PHONE | T_CUSTOMER_KEY | T_MEMBER | T_NOTES | T_SOURCE_FILE | T_POLICY => 64,
            T_BRONZE_FILE => 128,
            T_RESCUED | T_TIER | T_PRODUCT | T_OWNER | T_ACCOUNT | T_CARD => 0,
            _ => 16,
        };
        ContactsBuilder {
            text: std::array::from_fn(|i| TextColumn::new(rows, rows * bytes(i))),
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
        let t = &mut self.text;
        t[T_EVENT_ID].push(r.event_id);
        t[T_CONTACT_ID].push(r.contact_id);
        t[T_SOURCE].push(Some(r.source_system));
        t[T_QUEUE_ID].push(r.queue_id);
        t[T_QUEUE_NAME].push(r.queue_name);
        t[T_AGENT].push(r.agent_id);
        t[T_MEDIA].push(r.media_type);
        t[T_DIRECTION].push(r.direction);
        t[T_PHONE].push(r.phone_number);
        t[T_CUSTOMER_KEY].push(r.customer_key);
        t[T_OUTCOME].push(Some(r.outcome_status));
        t[T_OUTCOME_RAW].push(r.outcome_raw);
        t[T_WRAP].push(r.wrap_up_code);
        t[T_MEMBER].push(r.member_id);
        t[T_ACCOUNT].push(r.account_number);
        t[T_CARD].push(r.card_number);
        t[T_NOTES].push(r.notes);
        t[T_TIER].push(r.customer_tier);
        t[T_PRODUCT].push(r.product_type);
        t[T_OWNER].push(r.account_owner);
        t[T_RESCUED].push(r.rescued_data);
        t[T_SOURCE_FILE].push(Some(r.source_file));
        t[T_BRONZE_FILE].push(Some(r.bronze_file));
        t[T_POLICY].push(Some(r.policy_version));
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
        let mut t: Vec<ArrayRef> = self
            .text
            .iter_mut()
            .map(TextColumn::finish)
            .collect::<Result<_, _>>()?;
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
    use arrow::array::{Array, AsArray};

    #[test]
    fn text_columns_match_arrow_for_every_null_pattern() {
        let patterns: Vec<Vec<Option<&str>>> = vec![
            vec![],
            vec![None, None, None],
            vec![Some("a"), Some(""), Some("ü€")],
            vec![None, None, Some("x"), Some("yz"), None, Some("")],
            vec![Some("x"), None, None, Some("y")],
            vec![Some(""), None],
            (0..40)
                .map(|i| (i % 3 != 0).then_some(if i % 2 == 0 { "even" } else { "odd" }))
                .collect(),
        ];
        for p in patterns {
            // Capacity both too small and large enough.
            for cap in [1, p.len() + 1] {
                let mut c = TextColumn::new(cap, cap * 2);
                for v in &p {
                    c.push(*v);
                }
                let got = c.finish().unwrap();
                got.to_data().validate_full().unwrap();
                let want = StringArray::from(p.clone());
                assert_eq!(got.as_string::<i32>(), &want, "{p:?} cap {cap}");
                assert_eq!(got.null_count(), want.null_count());
                // The column starts again empty.
                assert_eq!(c.finish().unwrap().len(), 0);
            }
        }
    }

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
                let (l, p) = (l.finish().unwrap(), p.finish());
                assert_eq!(l.data_type(), &DataType::Utf8);
                let l = l.as_any().downcast_ref::<StringArray>().unwrap();
                assert_eq!(l, &p);
                assert_eq!(l.null_count(), p.null_count());
            }
        }
    }
}
