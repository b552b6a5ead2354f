//! Finding a data subject everywhere: the Bronze lines (file, line), quarantined records and
//! damaged originals that mention them, their Silver rows, the Gold dates and queues they
//! count in, and the CRM extract's rows. Raw values are kept only for the export the
//! requester receives; what is shown or logged names places, not values.

use std::collections::BTreeSet;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use chrono::{DateTime, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use rayon::prelude::*;
use serde::Serialize;

use super::{Matcher, SubjectError};
use crate::config::zone::ReportingZone;
use crate::config::{self, PipelineConfig};
use crate::lake::Lake;
use crate::lake::ledger::{self, LedgerEntry};
use crate::lake::tiers::{BronzeLocator, Tier};
use crate::progress::JobProgress;
use crate::query::{self, QueryError};
use crate::silver::canonical::map_record;
use crate::silver::drift::DriftCollector;
use crate::silver::pii::PhoneCache;
use crate::silver::record::Record;

/// A Bronze line that mentions the subject.
#[derive(Debug, Clone, Serialize)]
pub struct BronzeHit {
    pub file: String,
    /// `hot` or `cold`.
    pub tier: String,
    pub event_type: String,
    pub hour: DateTime<Utc>,
    /// 1-based line in the decompressed file.
    pub line: u64,
    pub kinds: Vec<String>,
    /// The export the line was ingested from.
    pub source_file: String,
    #[serde(skip)]
    pub raw: String,
    /// The contact the line is (source system, contact id), for a contact record.
    #[serde(skip)]
    pub contact: Option<(String, String)>,
}

/// A quarantined record that mentions the subject.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineHit {
    pub file: String,
    /// Row of the quarantine file (0-based).
    pub index: usize,
    pub source_file: String,
    pub line: u64,
    pub kinds: Vec<String>,
    #[serde(skip)]
    pub raw: String,
}

/// A Silver row of the subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SilverHit {
    pub date: NaiveDate,
    pub source_system: String,
    pub contact_id: Option<String>,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// A Gold day and queue the subject's contacts count in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GoldHit {
    /// The reporting zone's date.
    pub date: NaiveDate,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
}

/// A row of the CRM extract about the subject.
#[derive(Debug, Clone, Serialize)]
pub struct CrmHit {
    pub source: String,
    /// 1-based line of the extract.
    pub line: u64,
    #[serde(skip)]
    pub raw: String,
}

/// Everywhere the subject appears.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Findings {
    /// The subject's identifiers as keyed hashes.
    pub subject: Vec<String>,
    pub bronze: Vec<BronzeHit>,
    pub quarantine: Vec<QuarantineHit>,
    /// Whole inputs kept in quarantine because they could not be read to their end, that
    /// mention the subject.
    pub originals: Vec<String>,
    pub silver: Vec<SilverHit>,
    pub gold: Vec<GoldHit>,
    pub crm: Vec<CrmHit>,
    pub bronze_files_scanned: usize,
    pub lines_scanned: u64,
    /// Bronze files lifecycle expired: gone, so nothing of the subject can be in them.
    pub expired_files: usize,
}

impl Findings {
    /// True when the lake holds nothing of the subject (the CRM extract is the source
    /// system's, not the lake's).
    pub fn nothing_in_the_lake(&self) -> bool {
        self.bronze.is_empty()
            && self.quarantine.is_empty()
            && self.originals.is_empty()
            && self.silver.is_empty()
    }

    /// The Silver dates the subject's rows are on, and the UTC dates of their Bronze contact
    /// records: what an erasure rebuilds.
    pub fn silver_dates(&self) -> BTreeSet<NaiveDate> {
        let bronze = (self.bronze.iter())
            .filter(|h| h.event_type == "contact")
            .map(|h| h.hour.date_naive());
        bronze.chain(self.silver.iter().map(|s| s.date)).collect()
    }

    /// The subject's contacts (source system, contact id): their Silver rows and the contact
    /// records of their Bronze lines.
    pub fn silver_contacts(&self) -> BTreeSet<(String, String)> {
        let bronze = self.bronze.iter().filter_map(|h| h.contact.clone());
        let silver = (self.silver.iter())
            .filter_map(|s| Some((s.source_system.clone(), s.contact_id.clone()?)));
        bronze.chain(silver).collect()
    }

    /// The findings for the requester, raw values included, as JSON.
    pub fn export_json(&self) -> String {
        let raw = |r: &str| serde_json::from_str::<serde_json::Value>(r).unwrap_or(r.into());
        let bronze: Vec<_> = (self.bronze.iter())
            .map(|h| serde_json::json!({"hit": h, "raw": raw(&h.raw)}))
            .collect();
        let quarantine: Vec<_> = (self.quarantine.iter())
            .map(|h| serde_json::json!({"hit": h, "raw": h.raw}))
            .collect();
        let crm: Vec<_> = (self.crm.iter())
            .map(|h| serde_json::json!({"hit": h, "raw": h.raw}))
            .collect();
        let doc = serde_json::json!({
            "subject": self.subject,
            "bronze": bronze,
            "quarantine": quarantine,
            "quarantine_originals": self.originals,
            "silver": self.silver,
            "gold": self.gold,
            "crm": crm,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    /// The findings for the requester, raw values included, one place a row, as CSV.
    pub fn export_csv(&self) -> String {
        let q = crate::format::csv_field;
        let mut out = String::from("layer,file,line,date,queue,what,raw\n");
        for h in &self.bronze {
            let date = h.hour.format("%Y-%m-%d %H:00").to_string();
            let what = h.kinds.join(" ");
            let row = [
                q("bronze"),
                q(&h.file),
                h.line.to_string(),
                q(&date),
                q(""),
                q(&what),
                q(&h.raw),
            ];
            out.push_str(&(row.join(",") + "\n"));
        }
        for h in &self.quarantine {
            let what = h.kinds.join(" ");
            let row = [
                q("quarantine"),
                q(&h.file),
                h.line.to_string(),
                q(""),
                q(""),
                q(&what),
                q(&h.raw),
            ];
            out.push_str(&(row.join(",") + "\n"));
        }
        for o in &self.originals {
            let row = [
                q("quarantine original"),
                q(o),
                String::new(),
                q(""),
                q(""),
                q(""),
                q(""),
            ];
            out.push_str(&(row.join(",") + "\n"));
        }
        for s in &self.silver {
            let queue = s
                .queue_name
                .clone()
                .or(s.queue_id.clone())
                .unwrap_or_default();
            let what = format!(
                "{} contact {}",
                s.source_system,
                s.contact_id.clone().unwrap_or_default()
            );
            let row = [
                q("silver"),
                q(""),
                String::new(),
                q(&s.date.to_string()),
                q(&queue),
                q(&what),
                q(""),
            ];
            out.push_str(&(row.join(",") + "\n"));
        }
        for g in &self.gold {
            let queue = g
                .queue_name
                .clone()
                .or(g.queue_id.clone())
                .unwrap_or_default();
            let row = [
                q("gold"),
                q(""),
                String::new(),
                q(&g.date.to_string()),
                q(&queue),
                q("counted in"),
                q(""),
            ];
            out.push_str(&(row.join(",") + "\n"));
        }
        for c in &self.crm {
            let row = [
                q("crm"),
                q(&c.source),
                c.line.to_string(),
                q(""),
                q(""),
                q(""),
                q(&c.raw),
            ];
            out.push_str(&(row.join(",") + "\n"));
        }
        out
    }
}

/// Files searched at a time: fetched together, then matched on rayon's threads.
const FILES_AT_ONCE: usize = 64;

/// Finds the subject everywhere in the lake.
pub async fn find(
    lake: &Lake,
    matcher: &Matcher,
    progress: &JobProgress,
) -> Result<Findings, SubjectError> {
    let pipeline = config::load_pipeline(lake).await?;
    let rows = ledger::read_all(lake).await?;
    let locator = BronzeLocator::load(lake).await?;
    let mut out = Findings {
        subject: matcher.keyed(),
        ..Default::default()
    };
    progress.set_stage("subject: searching Bronze");
    bronze(&rows, &locator, matcher, &pipeline, progress, &mut out).await?;
    progress.set_stage("subject: searching quarantine");
    quarantine(lake, &rows, matcher, &mut out).await?;
    progress.set_stage("subject: searching Silver");
    silver(lake, matcher, &mut out).await?;
    let zone = ReportingZone::parse(&pipeline.reporting_timezone)
        .or_else(|_| ReportingZone::parse("UTC"))
        .map_err(|message| SubjectError::Read {
            what: "the reporting zone".into(),
            message,
        })?;
    out.gold = gold(&out.silver, &zone);
    out.crm = crm(&pipeline, matcher).await?;
    Ok(out)
}

/// A Bronze file to search.
struct FileRef<'a> {
    entry: &'a LedgerEntry,
    path: &'a str,
    event_type: &'a str,
    hour: DateTime<Utc>,
    tier: Tier,
}

async fn bronze(
    rows: &[LedgerEntry],
    locator: &BronzeLocator,
    matcher: &Matcher,
    pipeline: &PipelineConfig,
    progress: &JobProgress,
    out: &mut Findings,
) -> Result<(), SubjectError> {
    let mut files = Vec::new();
    for entry in rows {
        for f in &entry.bronze_files {
            match locator.tier(&f.path) {
                Tier::Expired => out.expired_files += 1,
                tier => files.push(FileRef {
                    entry,
                    path: &f.path,
                    event_type: &f.event_type,
                    hour: f.hour,
                    tier,
                }),
            }
        }
    }
    progress.set_total(files.len() as u64);
    for chunk in files.chunks(FILES_AT_ONCE) {
        progress.check().map_err(|_| SubjectError::Cancelled)?;
        // Owned paths: a stream of futures borrowing the chunk trips rustc's higher-ranked
        // Send check when the whole job is spawned on the runtime.
        let paths: Vec<String> = chunk.iter().map(|f| f.path.to_string()).collect();
        let texts: Vec<Vec<u8>> = futures::stream::iter(paths)
            .map(|path| async move { read_text(locator, &path).await })
            .buffered(16)
            .try_collect()
            .await?;
        let hits: Vec<Vec<BronzeHit>> = tokio::task::block_in_place(|| {
            (chunk.par_iter().zip(&texts))
                .map(|(f, text)| search_file(f, text, matcher, pipeline))
                .collect()
        });
        out.bronze.extend(hits.into_iter().flatten());
        out.bronze_files_scanned += chunk.len();
        let lines: u64 = texts
            .iter()
            .map(|t| memchr::memchr_iter(b'\n', t).count() as u64)
            .sum();
        out.lines_scanned += lines;
        progress.add_done(chunk.len() as u64);
        progress.add_records(lines);
    }
    Ok(())
}

/// A Bronze file's decompressed text.
async fn read_text(locator: &BronzeLocator, path: &str) -> Result<Vec<u8>, SubjectError> {
    let bytes = locator.get(path).await?.ok_or_else(|| SubjectError::Read {
        what: path.to_string(),
        message: "missing from the lake and the cold store".into(),
    })?;
    crate::lake::gzip::gunzip(&bytes).map_err(|e| SubjectError::Read {
        what: path.to_string(),
        message: e.to_string(),
    })
}

fn search_file(
    f: &FileRef<'_>,
    text: &[u8],
    matcher: &Matcher,
    pipeline: &PipelineConfig,
) -> Vec<BronzeHit> {
    let mut phones = PhoneCache::default();
    let mut hits = Vec::new();
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let kinds = matcher.line(line, &mut phones);
        if kinds.is_empty() {
            continue;
        }
        hits.push(BronzeHit {
            file: f.path.to_string(),
            tier: f.tier.as_str().to_string(),
            event_type: f.event_type.to_string(),
            hour: f.hour,
            line: i as u64 + 1,
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            source_file: f.entry.source_path.clone(),
            raw: String::from_utf8_lossy(line).into_owned(),
            contact: contact_of(line, pipeline),
        });
    }
    hits
}

/// The (source system, contact id) Silver gives a raw record.
fn contact_of(line: &[u8], pipeline: &PipelineConfig) -> Option<(String, String)> {
    let record = Record::parse(line).ok()?;
    let (shape, at) = record.facts();
    let row = map_record(
        shape,
        record,
        at.ok()?,
        &pipeline.schema,
        &mut DriftCollector::default(),
    );
    Some((shape.as_str().to_string(), row.contact_id?.into_owned()))
}

async fn quarantine(
    lake: &Lake,
    rows: &[LedgerEntry],
    matcher: &Matcher,
    out: &mut Findings,
) -> Result<(), SubjectError> {
    let mut phones = PhoneCache::default();
    for entry in rows {
        if let Some(file) = &entry.quarantine_file {
            let Some(bytes) = get_if_present(lake, file).await? else {
                continue; // expired with its Bronze
            };
            let rows =
                crate::bronze::quarantine::read_rows(&bytes).map_err(|e| SubjectError::Read {
                    what: file.clone(),
                    message: e.to_string(),
                })?;
            for (index, row) in rows.into_iter().enumerate() {
                let kinds = matcher.line(row.raw.as_bytes(), &mut phones);
                if kinds.is_empty() {
                    continue;
                }
                out.quarantine.push(QuarantineHit {
                    file: file.clone(),
                    index,
                    source_file: row.source_file,
                    line: row.line,
                    kinds: kinds.iter().map(|k| k.to_string()).collect(),
                    raw: row.raw,
                });
            }
        }
        if let Some(original) = &entry.quarantine_original
            && let Some(bytes) = get_if_present(lake, original).await?
            && original_mentions(&bytes, matcher, &mut phones)
        {
            out.originals.push(original.clone());
        }
    }
    Ok(())
}

/// A damaged input kept whole: searched as far as it can be decompressed (and as stored).
fn original_mentions(bytes: &[u8], matcher: &Matcher, phones: &mut PhoneCache) -> bool {
    use std::io::Read;
    let mut text = Vec::new();
    let _ = flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut text);
    [text.as_slice(), bytes].iter().any(|t| {
        t.split(|b| *b == b'\n')
            .any(|l| !matcher.line(l, phones).is_empty())
    })
}

async fn get_if_present(lake: &Lake, path: &str) -> Result<Option<bytes::Bytes>, SubjectError> {
    match lake.get(&object_store::path::Path::from(path)).await {
        Ok(b) => Ok(Some(b)),
        Err(crate::lake::LakeError::Store {
            source: object_store::Error::NotFound { .. },
            ..
        }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The Silver rows of the subject: the ones their Bronze records became, and any other row
/// holding their keyed hashes.
async fn silver(lake: &Lake, matcher: &Matcher, out: &mut Findings) -> Result<(), SubjectError> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut terms: Vec<String> = (matcher.masked_values().iter())
        .map(|(col, v)| format!("{col} = {}", quote(v)))
        .collect();
    let contacts: BTreeSet<&(String, String)> = out
        .bronze
        .iter()
        .filter_map(|h| h.contact.as_ref())
        .collect();
    for (system, id) in contacts {
        terms.push(format!(
            "(source_system = {} AND contact_id = {})",
            quote(system),
            quote(id)
        ));
    }
    if terms.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT date, source_system, contact_id, queue_id, queue_name,
                arrow_cast(occurred_at, 'Int64') AS at
         FROM silver_contacts WHERE {} ORDER BY occurred_at",
        terms.join(" OR ")
    );
    let query_err = |e: QueryError| SubjectError::Read {
        what: "silver_contacts".into(),
        message: e.to_string(),
    };
    let ctx = query::session(lake).await.map_err(query_err)?;
    let result = match query::run(&ctx, &sql).await {
        Ok(r) => r,
        Err(QueryError::NotBuilt { .. }) => return Ok(()),
        Err(e) => return Err(query_err(e)),
    };
    for b in &result.batches {
        let text = |i: usize| crate::lake::delta::utf8_column(b.column(i)).ok();
        let (Some(date), Some(system), Some(id), Some(qid), Some(qname)) =
            (text(0), text(1), text(2), text(3), text(4))
        else {
            continue;
        };
        let at = arrow::compute::cast(b.column(5), &DataType::Int64).ok();
        let at = at.as_ref().map(|a| a.as_primitive::<Int64Type>());
        let opt = |a: &arrow::array::StringArray, i: usize| {
            (!a.is_null(i)).then(|| a.value(i).to_string())
        };
        for i in 0..b.num_rows() {
            let Ok(day) = date.value(i).parse() else {
                continue;
            };
            out.silver.push(SilverHit {
                date: day,
                source_system: system.value(i).to_string(),
                contact_id: opt(&id, i),
                queue_id: opt(&qid, i),
                queue_name: opt(&qname, i),
                occurred_at: at
                    .and_then(|a| DateTime::from_timestamp_micros(a.value(i)))
                    .unwrap_or_default(),
            });
        }
    }
    Ok(())
}

/// The Gold days (in the reporting zone) and queues the subject's Silver rows count in.
fn gold(silver: &[SilverHit], zone: &ReportingZone) -> Vec<GoldHit> {
    let hits: BTreeSet<GoldHit> = (silver.iter())
        .map(|s| GoldHit {
            date: zone.local(s.occurred_at.timestamp_micros()).date,
            queue_id: s.queue_id.clone(),
            queue_name: s.queue_name.clone(),
        })
        .collect();
    hits.into_iter().collect()
}

/// The CRM extract's rows about the subject (the extract is the source system's export: it is
/// reported, not changed).
async fn crm(pipeline: &PipelineConfig, matcher: &Matcher) -> Result<Vec<CrmHit>, SubjectError> {
    let source = pipeline.crm.source.trim();
    if source.is_empty() || source.to_ascii_lowercase().ends_with(".parquet") {
        return Ok(Vec::new());
    }
    let path = source.strip_prefix("file://").unwrap_or(source);
    let Ok(text) = tokio::fs::read(path).await else {
        return Ok(Vec::new()); // Silver reports a CRM source it cannot read
    };
    let mut phones = PhoneCache::default();
    let mut hits = Vec::new();
    for (i, line) in text.split(|b| *b == b'\n').enumerate().skip(1) {
        if !line.is_empty() && !matcher.line(line, &mut phones).is_empty() {
            hits.push(CrmHit {
                source: source.to_string(),
                line: i as u64 + 1,
                raw: String::from_utf8_lossy(line).into_owned(),
            });
        }
    }
    Ok(hits)
}
