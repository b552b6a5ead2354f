//! Buffers one input file's records per hour partition and writes them as gzip NDJSON, one
//! create-only file per partition per chunk. A chunk is flushed whenever the buffered bytes
//! pass a cap, so memory does not grow with the input file.

use std::io::Write;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use rayon::prelude::*;

use crate::lake::ledger::BronzeFileEntry;
use crate::lake::paths::BronzePartition;
use crate::lake::{Lake, LakeError};

/// Concurrent object writes per flush; local writes are cheap, cloud PUTs are latency-bound.
const WRITE_CONCURRENCY: usize = 16;

#[derive(Default)]
struct PartitionBuffer {
    lines: Vec<u8>,
    records: u64,
}

/// Partition buffers for one input file of one ingest attempt.
pub struct PartitionWriter<'a> {
    lake: &'a Lake,
    rt: &'a tokio::runtime::Handle,
    /// `<stem>_<YYYYMMDD_HHMM>_<batch>`: every file this attempt writes starts with it.
    attempt_tag: String,
    level: Compression,
    chunk_bytes: usize,
    /// Event types as records spell them, each with its index in the keys below. A file
    /// holds one or a few, so a scan beats hashing the string.
    event_types: Vec<String>,
    /// (event type, UTC hour as seconds / 3600) of every partition this input has written
    /// to, across chunks, to its index in `partitions` and `buffers`: one cheap hash per
    /// record instead of building the partition's name.
    slots: ahash::AHashMap<(usize, i64), usize>,
    partitions: Vec<BronzePartition>,
    buffers: Vec<PartitionBuffer>,
    buffered: usize,
    chunk: u32,
    written: Vec<BronzeFileEntry>,
}

impl<'a> PartitionWriter<'a> {
    pub fn new(
        lake: &'a Lake,
        rt: &'a tokio::runtime::Handle,
        attempt_tag: String,
        level: u32,
        chunk_bytes: usize,
    ) -> Self {
        PartitionWriter {
            lake,
            rt,
            attempt_tag,
            level: Compression::new(level),
            chunk_bytes,
            event_types: Vec::new(),
            slots: ahash::AHashMap::new(),
            partitions: Vec::new(),
            buffers: Vec::new(),
            buffered: 0,
            chunk: 0,
            written: Vec::new(),
        }
    }

    /// Adds one record's original bytes to its partition. Returns false, adding nothing,
    /// when the record's partition would be this input's `max + 1`th.
    pub fn push(
        &mut self,
        event_type: &str,
        at: DateTime<Utc>,
        raw: &[u8],
        max: usize,
    ) -> Result<bool, LakeError> {
        let kind = match self.event_types.iter().position(|e| e == event_type) {
            Some(k) => k,
            None => {
                self.event_types.push(event_type.to_string());
                self.event_types.len() - 1
            }
        };
        let key = (kind, at.timestamp().div_euclid(3600));
        let slot = match self.slots.get(&key) {
            Some(&slot) => slot,
            None => {
                if self.partitions.len() >= max {
                    return Ok(false);
                }
                self.partitions
                    .push(BronzePartition::for_record(event_type, at));
                self.buffers.push(PartitionBuffer::default());
                self.slots.insert(key, self.partitions.len() - 1);
                self.partitions.len() - 1
            }
        };
        let buf = &mut self.buffers[slot];
        let start = buf.lines.len();
        buf.lines.extend_from_slice(raw);
        // NDJSON needs one record per line. JSON allows newlines only as whitespace between
        // tokens, so a pretty-printed record is made single-line by turning them into spaces:
        // the same length, the same value, every other byte as it came.
        if memchr::memchr2(b'\n', b'\r', raw).is_some() {
            for b in &mut buf.lines[start..] {
                if *b == b'\n' || *b == b'\r' {
                    *b = b' ';
                }
            }
        }
        buf.lines.push(b'\n');
        buf.records += 1;
        self.buffered += raw.len() + 1;
        if self.buffered >= self.chunk_bytes {
            self.flush()?;
        }
        Ok(true)
    }

    /// Compresses every buffered partition (in parallel) and writes the files: on a local
    /// lake each from the thread that compressed it, in object storage as concurrent PUTs.
    pub fn flush(&mut self) -> Result<(), LakeError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let suffix = if self.chunk == 0 {
            String::new()
        } else {
            format!("-{}", self.chunk)
        };
        let file_name = format!("{}{suffix}.json.gz", self.attempt_tag);
        let (level, lake) = (self.level, self.lake);
        let parts: Vec<(BronzePartition, PartitionBuffer)> = (self.buffers.iter_mut())
            .zip(&self.partitions)
            .filter(|(b, _)| b.records > 0)
            .map(|(b, p)| (p.clone(), std::mem::take(b)))
            .collect();
        self.buffered = 0;
        self.chunk += 1;
        let local = lake.local_root().is_some();
        let files: Vec<(BronzeFileEntry, Option<Bytes>)> = parts
            .into_par_iter()
            .map(|(partition, buf)| {
                let mut enc = GzEncoder::new(Vec::with_capacity(buf.lines.len() / 4), level);
                // Writing to a Vec cannot fail.
                let _ = enc.write_all(&buf.lines);
                let gz = enc.finish().unwrap_or_default();
                let path = partition.file_path(&file_name);
                let entry = BronzeFileEntry {
                    path: path.to_string(),
                    event_type: partition.event_type,
                    hour: partition.hour,
                    records: buf.records,
                    bytes: gz.len() as u64,
                };
                match lake.create_local(&path, &gz) {
                    Some(written) => written.map(|()| (entry, None)),
                    None => Ok((entry, Some(Bytes::from(gz)))),
                }
            })
            .collect::<Result<_, LakeError>>()?;
        if local {
            self.written.extend(files.into_iter().map(|(e, _)| e));
            return Ok(());
        }
        let entries = self.rt.block_on(async {
            futures::stream::iter(files)
                .map(|(entry, gz)| async move {
                    let path = Path::from(entry.path.as_str());
                    lake.put_create(&path, gz.unwrap_or_default()).await?;
                    Ok::<_, LakeError>(entry)
                })
                .buffer_unordered(WRITE_CONCURRENCY)
                .try_collect::<Vec<_>>()
                .await
        });
        // On failure the caller rolls the whole attempt back by its tag, so files written
        // before the error need no bookkeeping here.
        self.written.append(&mut entries?);
        Ok(())
    }

    /// Flushes what is left and returns every file written, sorted by path.
    pub fn finish(mut self) -> Result<Vec<BronzeFileEntry>, LakeError> {
        self.flush()?;
        let mut files = self.written;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}
