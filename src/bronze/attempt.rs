//! One input file's ingest attempt: a pending marker, the file read record by record into
//! hour partitions and quarantine, everything synced, then its ledger row; on failure its
//! files are rolled back.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path as FsPath;

use chrono::{DateTime, Utc};

use super::quarantine::QuarantineWriter;
use super::writer::PartitionWriter;
use super::{Batch, FileOutcome, IngestError, IngestOptions, Input, display_path, file_stem};
use crate::config::IngestConfig;
use crate::lake::ledger::{self, LedgerEntry, PendingIngest};
use crate::lake::{Lake, LakeError};
use crate::progress::JobProgress;
use crate::sources::reader::{ReadError, read_file};
use crate::sources::{Item, Location};

/// Inputs up to this size that cannot be read to their end are kept whole inside their
/// quarantine row; larger ones are copied into the lake beside it, streamed.
const INLINE_ORIGINAL_BYTES: u64 = 8 << 20;

/// Records read between progress reports (and cancellation checks).
const REPORT_EVERY: u64 = 4096;

/// What one run gives every attempt.
pub(super) struct RunContext<'a> {
    pub lake: &'a Lake,
    pub rt: &'a tokio::runtime::Handle,
    pub batch: &'a Batch,
    pub opts: &'a IngestOptions,
    pub limits: &'a IngestConfig,
    pub progress: &'a JobProgress,
}

/// One input file's attempt.
pub(super) struct Attempt<'a> {
    run: &'a RunContext<'a>,
    input: &'a Input<'a>,
    source_path: String,
    /// `<stem>_<YYYYMMDD>_<HHMM>_<batch>`: part of every file name the attempt writes.
    tag: String,
}

/// What an attempt has read so far.
struct Sink<'a> {
    writer: PartitionWriter<'a>,
    quarantine: QuarantineWriter,
    records: u64,
    bronze_records: u64,
    shapes: HashMap<String, u64>,
    since_report: u64,
    /// Where a damaged original too big to keep inline was copied.
    original: Option<String>,
}

impl<'a> Attempt<'a> {
    pub(super) fn new(run: &'a RunContext<'a>, input: &'a Input<'a>) -> Self {
        // The content hash in the stem keeps names unique when two inputs share a file name.
        let stem = format!("{}-{}", file_stem(input.path), &input.sha[..8]);
        let tag = format!("{stem}_{}_{}", run.batch.stamp, run.batch.id);
        Attempt {
            run,
            input,
            source_path: display_path(input.path),
            tag,
        }
    }

    /// Marks the attempt pending, writes it, and commits it or rolls its files back.
    pub(super) fn run(&self) -> Result<FileOutcome, IngestError> {
        let (lake, rt) = (self.run.lake, self.run.rt);
        self.run.progress.check()?;
        let pending = PendingIngest {
            source_path: self.source_path.clone(),
            sha256: self.input.sha.to_string(),
            batch_id: self.run.batch.id.clone(),
            attempt_tag: self.tag.clone(),
            started_at: Utc::now(),
        };
        rt.block_on(ledger::mark_pending(lake, &pending))?;
        match self.write() {
            Ok(entry) => {
                rt.block_on(ledger::clear_pending(lake, &self.tag))?;
                Ok(FileOutcome::Ingested(Box::new(entry)))
            }
            Err(e) => {
                // Undo this attempt's files now; if this fails too, the next run's recovery
                // will.
                if rt
                    .block_on(super::recover::roll_back(lake, &pending))
                    .is_ok()
                {
                    let _ = rt.block_on(ledger::clear_pending(lake, &self.tag));
                }
                Err(e)
            }
        }
    }

    /// Reads the file into partitions and quarantine, then makes it durable and commits.
    fn write(&self) -> Result<LedgerEntry, IngestError> {
        let run = self.run;
        let now = Utc::now();
        let mut sink = Sink {
            writer: PartitionWriter::new(
                run.lake,
                run.rt,
                self.tag.clone(),
                run.opts.compression_level,
                run.opts.chunk_bytes,
            ),
            quarantine: QuarantineWriter::new(self.source_path.clone(), run.batch.id.clone(), now),
            records: 0,
            bronze_records: 0,
            shapes: HashMap::new(),
            since_report: 0,
            original: None,
        };
        let limit = run.limits.max_record_bytes.max(1024);
        let done = Some(run.progress.done_counter());
        let read = read_file(self.input.path, done, limit, |item| {
            self.take(&mut sink, item)
        });
        run.progress.add_records(sink.since_report);
        let (layout, gzip) = match read {
            Ok((layout, gzip)) => (layout.as_str().to_string(), gzip),
            Err(ReadError::Consumer(e)) => return Err(e),
            Err(ReadError::Io { what, source }) => {
                let gzip = sniff_gzip(self.input.path)?;
                self.keep_unreadable(&mut sink, &what, &source, now)?;
                ("undecodable".to_string(), gzip)
            }
        };
        if sink.records == 0 && !matches!(layout.as_str(), "empty" | "undecodable") {
            self.keep_recordless(&mut sink, &layout, gzip)?;
        }
        self.commit(sink, layout, gzip)
    }

    /// One item of the file: a record to its hour partition, anything else to quarantine.
    fn take(&self, sink: &mut Sink<'_>, item: Item<'_>) -> Result<(), IngestError> {
        let (limits, progress) = (self.run.limits, self.run.progress);
        sink.records += 1;
        sink.since_report += 1;
        if sink.since_report == REPORT_EVERY {
            progress.add_records(sink.since_report);
            sink.since_report = 0;
            progress.check()?;
        }
        match item {
            Item::Record { raw, facts, loc } => match facts.occurred_at {
                Ok(at) => {
                    let max = limits.max_partitions_per_input;
                    if !sink.writer.push(&facts.event_type, at, raw, max)? {
                        let input = self.source_path.clone();
                        return Err(IngestError::TooManyPartitions { input, max });
                    }
                    sink.bronze_records += 1;
                    *sink
                        .shapes
                        .entry(facts.shape.as_str().to_string())
                        .or_default() += 1;
                }
                Err(e) => sink.quarantine.push(raw, loc, &e.to_string()),
            },
            Item::Malformed { raw, error, loc } => sink.quarantine.push(raw, loc, &error),
            Item::Oversized {
                head,
                length,
                limit,
                loc,
            } => {
                let why = format!(
                    "a single value of {length} bytes is larger than the {limit}-byte limit \
                     ([ingest] max_record_bytes); it was not copied: it stays in the source file, \
                     {length} bytes from byte {} of its decompressed content (line {}); the \
                     first bytes are shown here",
                    loc.offset, loc.line
                );
                sink.quarantine
                    .push_reference(head, loc, &why, Some(length), None);
            }
        }
        Ok(())
    }

    /// A file undecodable or unreadable part way (a truncated .gz): the records read so far
    /// stay in Bronze and the whole original file goes to quarantine, so nothing of it is
    /// lost even if the damage hid records. A small file is kept inside its row; a large one
    /// is streamed into the lake beside the quarantine file, never held.
    fn keep_unreadable(
        &self,
        sink: &mut Sink<'_>,
        what: &str,
        source: &std::io::Error,
        now: DateTime<Utc>,
    ) -> Result<(), IngestError> {
        let (path, size) = (self.input.path, self.input.size);
        let read_so_far = sink.records;
        sink.records += 1;
        if size <= INLINE_ORIGINAL_BYTES {
            let original = std::fs::read(path).map_err(|e| LakeError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            let why = format!(
                "cannot read {what} past record {read_so_far}: {source}; the whole original file is kept here"
            );
            sink.quarantine.push(&original, Location::default(), &why);
            return Ok(());
        }
        let copy = object_store::path::Path::from(format!(
            "{}/originals/{}_{}.original",
            crate::lake::paths::quarantine_dir(now.date_naive()),
            self.run.batch.id,
            attempt_stem(&self.tag)
        ));
        self.run.rt.block_on(self.run.lake.put_file(&copy, path))?;
        sink.original = Some(copy.to_string());
        let why = format!(
            "cannot read {what} past record {read_so_far}: {source}; the whole original \
             file ({size} bytes) is kept at {copy}"
        );
        let at = Some(copy.to_string());
        sink.quarantine
            .push_reference(b"", Location::default(), &why, Some(size), at);
        Ok(())
    }

    /// JSON with no record in it (an empty array, an envelope page with an empty list): kept
    /// whole in quarantine with the reason, never a silent "0 records".
    fn keep_recordless(
        &self,
        sink: &mut Sink<'_>,
        layout: &str,
        gzip: bool,
    ) -> Result<(), IngestError> {
        let content = read_content(self.input.path, gzip)?;
        sink.records += 1;
        let why = format!(
            "the file holds JSON ({layout}) but no records: {}; kept here whole",
            crate::sources::reader::no_records_reason(&content)
        );
        sink.quarantine.push(&content, Location::default(), &why);
        Ok(())
    }

    /// Finishes the partition and quarantine files, syncs everything the attempt wrote, and
    /// commits its ledger row.
    fn commit(
        &self,
        sink: Sink<'_>,
        layout: String,
        gzip: bool,
    ) -> Result<LedgerEntry, IngestError> {
        let (lake, rt, batch) = (self.run.lake, self.run.rt, self.run.batch);
        let bronze_files = sink.writer.finish()?;
        let quarantined = sink.quarantine.rows();
        let name = format!("{}_{}.json.gz", batch.id, attempt_stem(&self.tag));
        let quarantine_file = rt.block_on(sink.quarantine.write(lake, &name))?;
        let mut written: Vec<object_store::path::Path> = (bronze_files.iter())
            .map(|f| object_store::path::Path::from(f.path.as_str()))
            .collect();
        written.extend(quarantine_file.clone());
        written.extend(
            sink.original
                .iter()
                .map(|p| object_store::path::Path::from(p.as_str())),
        );
        lake.sync(&written)?;
        let entry = LedgerEntry {
            source_path: self.source_path.clone(),
            sha256: self.input.sha.to_string(),
            bytes: self.input.size,
            records: sink.records,
            bronze_records: sink.bronze_records,
            quarantined,
            bronze_files,
            quarantine_file: quarantine_file.map(|p| p.to_string()),
            quarantine_original: sink.original,
            format: layout,
            gzip,
            shapes: sink.shapes,
            batch_id: batch.id.clone(),
            batch_started_at: batch.started_at,
            input_seq: self.input.seq,
            ingested_at: Utc::now(),
            erased: 0,
            erased_by: Vec::new(),
            retried: 0,
            lost: 0,
            lost_files: Vec::new(),
        };
        debug_assert_eq!(entry.records, entry.bronze_records + entry.quarantined);
        self.run.progress.check()?;
        rt.block_on(ledger::commit(lake, &entry))?;
        Ok(entry)
    }
}

/// Whether a file starts with gzip's magic bytes.
fn sniff_gzip(path: &FsPath) -> Result<bool, IngestError> {
    let mut head = [0u8; 2];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|source| LakeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(crate::sources::reader::is_gzip(&head[..n]))
}

/// A file's content, decompressed when it is gzip (for a file small enough to have held no
/// record).
fn read_content(path: &FsPath, gzip: bool) -> Result<Vec<u8>, IngestError> {
    let io = |e: std::io::Error| LakeError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let original = std::fs::read(path).map_err(io)?;
    if !gzip {
        return Ok(original);
    }
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(original.as_slice())
        .read_to_end(&mut text)
        .map_err(io)?;
    Ok(text)
}

/// The `<stem>` part of an attempt tag `<stem>_<YYYYMMDD>_<HHMM>_<batch>`.
pub(super) fn attempt_stem(attempt_tag: &str) -> &str {
    attempt_tag.split('_').next().unwrap_or(attempt_tag)
}
