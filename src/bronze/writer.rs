//! Buffers one input file's records per hour partition and writes them as gzip NDJSON, one
//! create-only file per partition per chunk. A chunk is flushed whenever the buffered bytes
//! pass a cap, so memory does not grow with the input file.

use std::collections::HashMap;
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
    buffers: HashMap<BronzePartition, PartitionBuffer>,
    /// Every partition this input has written to, across chunks.
    partitions: std::collections::HashSet<BronzePartition>,
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
            buffers: HashMap::new(),
            partitions: std::collections::HashSet::new(),
            buffered: 0,
            chunk: 0,
            written: Vec::new(),
        }
    }

    /// Whether a record can go in: its partition is one this input already has, or there
    /// are fewer than `max` of them so far.
    pub fn admits(&mut self, event_type: &str, at: DateTime<Utc>, max: usize) -> bool {
        let key = BronzePartition::for_record(event_type, at);
        if self.partitions.contains(&key) {
            return true;
        }
        if self.partitions.len() >= max {
            return false;
        }
        self.partitions.insert(key);
        true
    }

    /// Adds one record's original bytes to its partition.
    pub fn push(
        &mut self,
        event_type: &str,
        at: DateTime<Utc>,
        raw: &[u8],
    ) -> Result<(), LakeError> {
        let key = BronzePartition::for_record(event_type, at);
        let buf = self.buffers.entry(key).or_default();
        let start = buf.lines.len();
        buf.lines.extend_from_slice(raw);
        // NDJSON needs one record per line. JSON allows newlines only as whitespace between
        // tokens, so a pretty-printed record is made single-line by turning them into spaces:
        // the same length, the same value, every other byte as it came.
        if raw.contains(&b'\n') || raw.contains(&b'\r') {
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
        Ok(())
    }

    /// Compresses every buffered partition (in parallel) and writes the files.
    pub fn flush(&mut self) -> Result<(), LakeError> {
        if self.buffers.is_empty() {
            return Ok(());
        }
        let suffix = if self.chunk == 0 {
            String::new()
        } else {
            format!("-{}", self.chunk)
        };
        let file_name = format!("{}{suffix}.json.gz", self.attempt_tag);
        let level = self.level;
        let parts: Vec<_> = self.buffers.drain().collect();
        self.buffered = 0;
        self.chunk += 1;
        let files: Vec<(BronzePartition, Path, Bytes, u64)> = parts
            .into_par_iter()
            .map(|(partition, buf)| {
                let mut enc = GzEncoder::new(Vec::with_capacity(buf.lines.len() / 4), level);
                // Writing to a Vec cannot fail.
                let _ = enc.write_all(&buf.lines);
                let gz = enc.finish().unwrap_or_default();
                let path = partition.file_path(&file_name);
                (partition, path, Bytes::from(gz), buf.records)
            })
            .collect();
        let lake = self.lake;
        let entries = self.rt.block_on(async {
            futures::stream::iter(files)
                .map(|(partition, path, gz, records)| async move {
                    let bytes = gz.len() as u64;
                    lake.put_create(&path, gz).await?;
                    Ok::<_, LakeError>(BronzeFileEntry {
                        path: path.to_string(),
                        event_type: partition.event_type,
                        hour: partition.hour,
                        records,
                        bytes,
                    })
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
