//! One date's Silver rows from its Bronze files: parse, map to the canonical columns, mask,
//! build Arrow batches, drop duplicates. [`build_date`] is a function of the files' bytes and
//! the [`Settings`] alone (it touches no store), so it can run wherever the bytes are.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;

use super::canonical::{CanonicalRow, map_record};
use super::crm::{self, Crm};
use super::digest::HmacKey;
use super::drift::{DriftCollector, DriftKind};
use super::error::SilverError;
use super::masking::{self, ColumnCounts, Masker};
use super::pii::{self, PhoneCache};
use super::plan::{BronzeRef, SilverPlan};
use super::record::{self, Record};
use super::repair;
use super::row::{RowAt, RowBuilder, Sign, Tally};
use super::status_map::StatusMap;
use super::table::ContactsBuilder;
pub use super::table::Reject;
use crate::config::{self, PipelineConfig};
use crate::lake::Lake;
use crate::progress::{self, JobProgress};
use crate::sources::Shape;

/// Everything needed to turn Bronze lines into Silver rows, besides the lines.
pub struct Settings {
    pub masker: Masker,
    pub status: StatusMap,
    pub pipeline: PipelineConfig,
    pub crm: Crm,
}

impl Settings {
    /// The lake's pipeline settings, masking policy, status map and CRM extract, with the key
    /// masking hashes with.
    pub async fn load(lake: &Lake, key: HmacKey) -> Result<Settings, SilverError> {
        let pipeline = config::load_pipeline(lake).await?;
        let policy = masking::load_policy(lake).await?;
        let status_text =
            config::read_or_init(lake, config::STATUS_MAP_FILE, config::DEFAULT_STATUS_MAP).await?;
        let status = StatusMap::parse(&status_text)?;
        let masker = Masker::new(policy, key);
        let crm = crm::load(&pipeline.crm, &masker).await?;
        Ok(Settings {
            masker,
            status,
            pipeline,
            crm,
        })
    }
}

/// One Bronze file of a date, decompressed, with the lineage its rows carry.
pub struct BronzeFile {
    pub path: String,
    /// The export file it was ingested from, and when.
    pub source_path: String,
    pub ingested_at: DateTime<Utc>,
    /// Which ingest came later (duplicates keep the most recently ingested copy).
    pub ingest_order: (DateTime<Utc>, u64),
    /// Lines, by the ledger's count.
    pub records: u64,
    pub text: Vec<u8>,
}

/// Reads a date's Bronze files (in parallel, on rayon's threads). A hot file of a local lake
/// is read straight from disk: a trip through the async store per small file cost more than
/// reading it.
pub fn read_date(
    plan: &SilverPlan,
    rt: &tokio::runtime::Handle,
    date: &NaiveDate,
) -> Result<Vec<BronzeFile>, SilverError> {
    plan.files(date)
        .par_iter()
        .map(|r| {
            let entry = &plan.ledger[r.ledger];
            Ok(BronzeFile {
                path: r.path.clone(),
                source_path: entry.source_path.clone(),
                ingested_at: entry.ingested_at,
                ingest_order: entry.ingest_order(),
                records: r.records,
                text: read_bronze(plan, rt, r)?,
            })
        })
        .collect()
}

fn read_bronze(
    plan: &SilverPlan,
    rt: &tokio::runtime::Handle,
    r: &BronzeRef,
) -> Result<Vec<u8>, SilverError> {
    let err = |message: String| SilverError::Bronze {
        path: r.path.clone(),
        message,
    };
    let bytes: bytes::Bytes = match plan.locator.local_hot_file(&r.path) {
        Some(file) => std::fs::read(&file)
            .map_err(|e| err(format!("{}: {e}", file.display())))?
            .into(),
        None => rt
            .block_on(plan.locator.get(&r.path))?
            .ok_or_else(|| err("deleted by lifecycle".into()))?,
    };
    crate::lake::gzip::gunzip(&bytes).map_err(|e| err(e.to_string()))
}

/// A date's Silver rows: built here, or already written to the lake as Parquet files by a
/// cluster executor (the commit makes them part of the table).
pub enum DateRows {
    Batches(Vec<RecordBatch>),
    Written {
        adds: Vec<deltalake::kernel::Add>,
        rows: u64,
    },
}

impl DateRows {
    pub fn rows(&self) -> u64 {
        match self {
            DateRows::Batches(b) => b.iter().map(|x| x.num_rows() as u64).sum(),
            DateRows::Written { rows, .. } => *rows,
        }
    }
}

/// One date's rows, ready to commit.
pub struct DateBuild {
    pub date: NaiveDate,
    pub rows: DateRows,
    pub rows_in: u64,
    pub duplicates: u64,
    pub rows_with_rescued: u64,
    pub rescued_fields: u64,
    pub crm_matched: u64,
    pub masked: BTreeMap<String, ColumnCounts>,
    pub drift: DriftCollector,
    /// Records set aside, in file and line order.
    pub rejects: Vec<Reject>,
    /// The cluster executor that built it (none: this process).
    pub built_by: Option<String>,
}

/// Turns one date's Bronze lines into Silver rows. Each work unit parses, maps, masks and
/// builds its lines in one pass, while they are still in cache (a pass that first stored every
/// mapped row of the date and built them afterwards spent a tenth of Silver waiting on
/// memory). Duplicates are found afterwards over the built batches; they are rare, so taking
/// them out again costs little.
pub fn build_date(
    settings: &Settings,
    date: NaiveDate,
    files: &[BronzeFile],
    progress: &JobProgress,
) -> Result<DateBuild, SilverError> {
    let t0 = std::time::Instant::now();
    let rows = RowBuilder::new(settings, files);
    let texts: Vec<&[u8]> = files.iter().map(|f| f.text.as_slice()).collect();
    let records: Vec<u64> = files.iter().map(|f| f.records).collect();
    let units = plan_units(&texts, &records, unit_rows(records.iter().sum()));
    let mut outs: Vec<UnitOut> = units
        .par_iter()
        .map(|pieces| {
            // This thread's phone memo, kept across the units and dates of the run.
            pii::with_phone_cache(settings.masker.id(), |phones| {
                build_unit(&rows, &texts, pieces, date, phones, progress)
            })
        })
        .collect::<Result<_, _>>()?;
    let built = t0.elapsed();
    let mut rejects: Vec<Reject> = (outs.iter_mut())
        .flat_map(|u| std::mem::take(&mut u.rejects))
        .collect();
    rejects.sort_by(|a, b| (&a.bronze_file, a.line).cmp(&(&b.bronze_file, b.line)));
    // Every Bronze record read: built, or set aside.
    let rows_in = outs.iter().map(|u| u.rows.len() as u64).sum::<u64>() + rejects.len() as u64;
    let dropped = find_duplicates(&outs, files);
    let duplicates = dropped.iter().map(|d| d.len() as u64).sum::<u64>();
    let (mut batches, tally, drift) = drop_duplicates(&rows, &texts, outs, dropped, date)?;
    if batches.is_empty() {
        // A date with no Bronze left (its files marked lost) is rebuilt as empty: the write
        // needs a batch to know the schema.
        batches.push(RecordBatch::new_empty(
            super::table::CONTACTS_SCHEMA.clone(),
        ));
    }
    tracing::debug!(
        %date,
        units = units.len(),
        units_ms = built.as_millis() as u64,
        dedupe_ms = (t0.elapsed() - built).as_millis() as u64,
        secs = t0.elapsed().as_secs_f64(),
        "built date"
    );
    Ok(DateBuild {
        date,
        rows: DateRows::Batches(batches),
        rows_in,
        duplicates,
        rows_with_rescued: tally.rows_with_rescued,
        rescued_fields: tally.rescued_fields,
        crm_matched: tally.crm_matched,
        masked: (tally.masked_by_column().into_iter())
            .map(|(c, n)| (c.to_string(), n))
            .collect(),
        drift,
        rejects,
        built_by: None,
    })
}

/// The rows of each unit that lose to another copy of their contact. Dedupe is on
/// (source_system, contact_id): the copy the platform updated last wins (Amazon Connect's
/// LastUpdateTimestamp), then the most recently ingested copy, then the later line. Records
/// without a contact id cannot be matched and are all kept.
fn find_duplicates(outs: &[UnitOut], files: &[BronzeFile]) -> Vec<Vec<usize>> {
    use std::collections::hash_map::Entry;
    let order = |a: &RowAt| (a.updated, files[a.file].ingest_order, a.file, a.line);
    let rows_in = outs.iter().map(|u| u.rows.len()).sum::<usize>();
    let mut dropped: Vec<Vec<usize>> = outs.iter().map(|_| Vec::new()).collect();
    let mut winner: ahash::AHashMap<(Shape, &str), (usize, usize)> =
        ahash::AHashMap::with_capacity(rows_in);
    for (ui, u) in outs.iter().enumerate() {
        let Some(ids) = u.batch.column_by_name("contact_id") else {
            continue;
        };
        let ids = ids.as_string::<i32>();
        for (ri, a) in u.rows.iter().enumerate() {
            if ids.is_null(ri) {
                continue;
            }
            // One hash and probe per row: nearly every id is new.
            match winner.entry((a.shape, ids.value(ri))) {
                Entry::Occupied(mut seen) => {
                    let (uj, rj) = *seen.get();
                    if order(&outs[uj].rows[rj]) >= order(a) {
                        dropped[ui].push(ri);
                    } else {
                        dropped[uj].push(rj);
                        seen.insert((ui, ri));
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert((ui, ri));
                }
            }
        }
    }
    dropped
}

/// Filters the dropped rows out of the units' batches and sums the units' tallies and drift,
/// minus the dropped rows' share: they are read again the way they were built. Drift seen on
/// a dropped copy stays observed: the field or status was in the data.
fn drop_duplicates(
    rows: &RowBuilder<'_>,
    texts: &[&[u8]],
    outs: Vec<UnitOut>,
    dropped: Vec<Vec<usize>>,
    date: NaiveDate,
) -> Result<(Vec<RecordBatch>, Tally, DriftCollector), SilverError> {
    let mut tally = Tally::default();
    let mut drift = DriftCollector::default();
    let mut batches = Vec::with_capacity(outs.len());
    for (u, gone) in outs.into_iter().zip(dropped) {
        tally.add(&u.tally, Sign::Plus);
        drift.merge(u.drift);
        if gone.is_empty() {
            batches.push(u.batch);
            continue;
        }
        let minus = pii::with_phone_cache(rows.settings.masker.id(), |phones| {
            let mut minus = Tally::default();
            let mut scratch = DriftCollector::default();
            for &ri in &gone {
                let a = &u.rows[ri];
                let line = &texts[a.file][a.from..a.to];
                let mut repaired = String::new();
                let (shape, row) = parse_line(rows, None, line, &mut repaired, &mut scratch)
                    .map_err(|m| SilverError::Bronze {
                        path: rows.files[a.file].path.clone(),
                        message: format!("line {}: {m}", a.line + 1),
                    })?;
                rows.row(shape, &row, a.file, None, &mut minus, &mut scratch, phones);
            }
            Ok::<_, SilverError>(minus)
        })?;
        tally.add(&minus, Sign::Minus);
        let mut keep = vec![true; u.rows.len()];
        for ri in gone {
            keep[ri] = false;
        }
        let batch = arrow::compute::filter_record_batch(&u.batch, &BooleanArray::from(keep))
            .map_err(|source| SilverError::Arrow { date, source })?;
        batches.push(batch);
    }
    Ok((batches, tally, drift))
}

/// Lines `from..to` (byte offsets, cut at line ends) of one Bronze file of a date.
struct Piece {
    file: usize,
    from: usize,
    to: usize,
    first_line: usize,
    /// How many lines: the ledger's record count for a whole file, counted for a cut one.
    /// Only sizes the builders.
    lines: usize,
}

/// Records a worker builds into one Arrow batch, at most.
const UNIT_ROWS: usize = 16_384;
/// ... and at least, unless the date has fewer: below this the per-batch work (builders,
/// filters, an encoder call per column) starts to show.
const MIN_UNIT_ROWS: usize = 2_048;

/// Rows per work unit for a date of `rows`: at least four units per thread, so that a date
/// built alone (a late file, a reprocessed day) keeps every core busy to its end instead of
/// waiting on the one thread that drew the last big unit.
fn unit_rows(rows: u64) -> usize {
    let units = 4 * rayon::current_num_threads().max(1);
    (usize::try_from(rows).unwrap_or(usize::MAX) / units).clamp(MIN_UNIT_ROWS, UNIT_ROWS)
}

/// Cuts a date's decompressed files into work units of about `unit_rows` lines: small files
/// are grouped by their ledger record counts, a big one is cut at line ends.
fn plan_units<T: AsRef<[u8]>>(texts: &[T], records: &[u64], unit_rows: usize) -> Vec<Vec<Piece>> {
    let mut units = Vec::new();
    let mut unit: Vec<Piece> = Vec::new();
    let mut in_unit = 0;
    for (file, text) in texts.iter().enumerate() {
        let text = text.as_ref();
        let n = records.get(file).map_or(usize::MAX, |r| *r as usize);
        if in_unit + n <= unit_rows {
            // Fits: no need to look for its line ends.
            if !text.is_empty() {
                unit.push(Piece {
                    file,
                    from: 0,
                    to: text.len(),
                    first_line: 0,
                    lines: n,
                });
                in_unit += n;
            }
            continue;
        }
        let (mut from, mut first_line, mut lines) = (0, 0, 0);
        for nl in memchr::memchr_iter(b'\n', text) {
            lines += 1;
            if in_unit + lines >= unit_rows {
                unit.push(Piece {
                    file,
                    from,
                    to: nl + 1,
                    first_line,
                    lines,
                });
                units.push(std::mem::take(&mut unit));
                in_unit = 0;
                (from, first_line, lines) = (nl + 1, first_line + lines, 0);
            }
        }
        if from < text.len() {
            // A last line without a newline counts too.
            lines += usize::from(text.last() != Some(&b'\n'));
            unit.push(Piece {
                file,
                from,
                to: text.len(),
                first_line,
                lines,
            });
            in_unit += lines;
        }
    }
    if !unit.is_empty() {
        units.push(unit);
    }
    units
}

/// One work unit's rows, masked and built.
struct UnitOut {
    batch: RecordBatch,
    rows: Vec<RowAt>,
    tally: Tally,
    drift: DriftCollector,
    rejects: Vec<Reject>,
}

/// Parses and maps one Bronze line. `text` is the line as validated UTF-8 when the caller has
/// it; otherwise the bytes are parsed. A line strict parsing refuses is read again with its
/// unreadable values rewritten ([`repair`], into `repaired`), each reported as drift of its
/// field. The error is the reason the record is set aside, without any of its values.
fn parse_line<'t>(
    rows: &RowBuilder<'_>,
    text: Option<&'t str>,
    bytes: &'t [u8],
    repaired: &'t mut String,
    drift: &mut DriftCollector,
) -> Result<(Shape, CanonicalRow<'t>), String> {
    let schema = &rows.settings.pipeline.schema;
    let strict = match text {
        Some(t) => Record::parse_str(t),
        None => Record::parse(bytes),
    };
    let error = match strict {
        Ok(obj) => {
            let (shape, at) = obj.facts();
            let at = at.map_err(no_time)?;
            record::take_nested_unreadable();
            let row = map_record(shape, obj, at, schema, drift);
            if !record::take_nested_unreadable() {
                return Ok((shape, row));
            }
            // A value inside a nested object could not be read (the line parsed, its object
            // did not): the line is mapped again repaired, so only that value is lost, not
            // the object. The first mapping's drift stands; the second's is the same and is
            // not counted twice.
            None
        }
        Err(e) => Some(e),
    };
    let reason =
        |e: &serde_json::Error| format!("not a readable JSON object: {}", scrub_json_error(e));
    let Some((fixed, fixes)) = repair::repair(bytes) else {
        return Err(error.map_or_else(|| "a nested value cannot be read".into(), |e| reason(&e)));
    };
    *repaired = fixed;
    let repaired: &'t String = repaired;
    let obj = Record::parse_str(repaired).map_err(|e| reason(error.as_ref().unwrap_or(&e)))?;
    let (shape, at) = obj.facts();
    let at = at.map_err(no_time)?;
    for f in &fixes {
        drift.observe(shape, &f.field, DriftKind::Unreadable, None, at);
    }
    // After a nested failure the first mapping's drift was already counted.
    let mut counted = DriftCollector::default();
    let drift = if error.is_some() { drift } else { &mut counted };
    Ok((shape, map_record(shape, obj, at, schema, drift)))
}

/// Why a record without a usable occurrence time is set aside.
fn no_time(e: crate::sources::time::TimeError) -> String {
    format!("no occurrence time: {}", scrub(&e.to_string()))
}

/// A JSON parser's complaint in words, with where it is in the line and nothing it quotes.
fn scrub_json_error(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "not an object of fields",
        serde_json::error::Category::Eof => "the line ends inside a value",
    };
    let detail = scrub(&e.to_string());
    format!("{what} ({detail})")
}

fn scrub(message: &str) -> String {
    crate::format::scrub_message(message)
}

/// Parses, maps, masks and builds one work unit's lines into one Arrow batch.
fn build_unit(
    rows: &RowBuilder<'_>,
    texts: &[&[u8]],
    pieces: &[Piece],
    date: NaiveDate,
    phones: &mut PhoneCache,
    progress: &JobProgress,
) -> Result<UnitOut, SilverError> {
    let n = pieces.iter().map(|p| p.lines).sum();
    let mut b = ContactsBuilder::with_capacity(n);
    let mut at = Vec::with_capacity(n);
    let mut tally = Tally::default();
    let mut drift = DriftCollector::default();
    let mut rejects = Vec::new();
    for p in pieces {
        let bytes = &texts[p.file][p.from..p.to];
        // UTF-8 checked once for the piece (it is cut at line ends): parsing from text then
        // skips the check the byte parser makes on every string. A piece that fails it is
        // parsed line by line from bytes, so the bad line is named.
        let whole = simdutf8::basic::from_utf8(bytes).ok();
        let (mut pos, mut line) = (0, p.first_line);
        let mut parsed = 0u64;
        while pos < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |k| pos + k);
            if end > pos {
                // One record's failure (a value it cannot read, a panic in a mapper or a
                // detector) sets that record aside; the rest of the date goes on.
                let built = progress::catch_panic(|| {
                    let mut repaired = String::new();
                    let (shape, row) = parse_line(
                        rows,
                        whole.map(|w| &w[pos..end]),
                        &bytes[pos..end],
                        &mut repaired,
                        &mut drift,
                    )?;
                    rows.row(
                        shape,
                        &row,
                        p.file,
                        Some(&mut b),
                        &mut tally,
                        &mut drift,
                        phones,
                    );
                    Ok::<_, String>(RowAt {
                        shape,
                        updated: row.updated_at.map_or(i64::MIN, |t| t.timestamp_micros()),
                        file: p.file,
                        line,
                        from: p.from + pos,
                        to: p.from + end,
                    })
                });
                match built {
                    Ok(Ok(a)) => at.push(a),
                    Ok(Err(reason)) => rejects.push(rows.reject(p.file, line, reason)),
                    Err(panic) => rejects.push(rows.reject(p.file, line, panic.to_string())),
                }
                parsed += 1;
            }
            pos = end + 1;
            line += 1;
        }
        progress.add_done(parsed);
        progress.add_records(parsed);
        progress.check().map_err(|_| SilverError::Cancelled)?;
    }
    let batch = b
        .finish()
        .map_err(|source| SilverError::Arrow { date, source })?;
    Ok(UnitOut {
        batch,
        rows: at,
        tally,
        drift,
        rejects,
    })
}

impl RowBuilder<'_> {
    /// The record at `line` (0-based) of file `file`, set aside for `reason`.
    fn reject(&self, file: usize, line: usize, reason: String) -> Reject {
        let f = &self.files[file];
        Reject {
            bronze_file: f.path.clone(),
            line: line as u64 + 1,
            source_file: f.source_path.clone(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_gives_every_thread_several_units_within_bounds() {
        let threads = rayon::current_num_threads();
        assert_eq!(unit_rows(0), MIN_UNIT_ROWS);
        assert_eq!(unit_rows(u64::MAX), UNIT_ROWS);
        let rows = 70_000u64;
        let per = unit_rows(rows);
        assert!((MIN_UNIT_ROWS..=UNIT_ROWS).contains(&per));
        if per > MIN_UNIT_ROWS {
            assert!(rows as usize / per >= 4 * threads, "{per} rows per unit");
        }
    }

    #[test]
    fn work_units_cover_every_line_once_and_cut_only_at_line_ends() {
        let file = |lines: usize, trailing_newline: bool| -> Vec<u8> {
            let mut t: Vec<u8> = (0..lines)
                .flat_map(|i| format!("line{i}\n").into_bytes())
                .collect();
            if !trailing_newline {
                t.extend_from_slice(b"last");
            }
            t
        };
        let texts = vec![
            file(3, true),
            file(UNIT_ROWS * 2 + 5, true),
            Vec::new(),
            file(10, false),
            b"\n\nx\n".to_vec(),
        ];
        let counts: Vec<u64> = texts
            .iter()
            .map(|t| t.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64)
            .collect();
        // Right record counts, and wrong ones (a hand-edited file): the lines are covered.
        let units = check_plan(&texts, &counts, UNIT_ROWS);
        assert!(units >= 3, "the big file is cut");
        check_plan(&texts, &vec![1; texts.len()], UNIT_ROWS);
        // Smaller units cut the big file in more places, still only at line ends.
        assert!(check_plan(&texts, &counts, MIN_UNIT_ROWS) >= 16);
    }

    /// Checks that the plan covers every line once; returns how many units it has.
    fn check_plan(texts: &[Vec<u8>], records: &[u64], unit_rows: usize) -> usize {
        let units = plan_units(texts, records, unit_rows);
        let mut seen: Vec<Vec<(usize, Vec<u8>)>> = texts.iter().map(|_| Vec::new()).collect();
        for unit in &units {
            let lines: usize = unit.iter().map(|p| p.lines).sum();
            assert!(lines <= unit_rows || unit.len() == 1, "{lines}");
            for p in unit {
                let t = &texts[p.file];
                assert!(
                    p.from == 0 || t[p.from - 1] == b'\n',
                    "starts after a newline"
                );
                assert!(
                    p.to == t.len() || t[p.to - 1] == b'\n',
                    "ends after a newline"
                );
                let piece = &t[p.from..p.to];
                let body = piece.strip_suffix(b"\n").unwrap_or(piece);
                let split: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
                for (k, l) in split.into_iter().enumerate() {
                    seen[p.file].push((p.first_line + k, l.to_vec()));
                }
            }
        }
        // Put back together, each file is its lines in order, numbered from 0.
        for (t, mut got) in texts.iter().zip(seen) {
            got.sort();
            let body = t.strip_suffix(b"\n").unwrap_or(t);
            let want: Vec<(usize, Vec<u8>)> = if t.is_empty() {
                Vec::new()
            } else {
                body.split(|b| *b == b'\n')
                    .map(<[u8]>::to_vec)
                    .enumerate()
                    .collect()
            };
            assert_eq!(got, want);
        }
        units.len()
    }
}
