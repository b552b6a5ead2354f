//! Quarantine: input that could not become a Bronze record (invalid JSON, a record without a
//! parseable occurrence time, an undecodable file), kept with where it came from and why.

use std::io::Write;

use base64::Engine;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::lake::paths::quarantine_dir;
use crate::lake::{Lake, LakeError};
use crate::sources::Location;

/// The folder (inside a quarantine day) holding copies of whole inputs that could not be
/// read to their end.
pub const ORIGINALS: &str = "/originals/";

/// One quarantined item, as a line of the quarantine file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QuarantineRow {
    pub source_file: String,
    /// 1-based line in the (decompressed) input where the item starts.
    pub line: u64,
    pub byte_offset: u64,
    pub error: String,
    /// The original text (lossy only when it is not UTF-8; then `raw_base64` is exact).
    pub raw: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_base64: Option<String>,
    pub batch_id: String,
    pub quarantined_at: DateTime<Utc>,
    /// Set when the item's bytes are not in `raw` but elsewhere: `length` bytes at
    /// `byte_offset` of the source file (too large to copy), or a copy of the whole input
    /// in the lake (`original_copy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_copy: Option<String>,
    /// The quarantine file the row is in (filled when listed, not stored).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file: String,
}

/// Collects one input file's quarantined items, gzip-compressed as they come.
pub struct QuarantineWriter {
    source_file: String,
    batch_id: String,
    at: DateTime<Utc>,
    enc: Option<GzEncoder<Vec<u8>>>,
    rows: u64,
}

impl QuarantineWriter {
    pub fn new(source_file: String, batch_id: String, at: DateTime<Utc>) -> Self {
        QuarantineWriter {
            source_file,
            batch_id,
            at,
            enc: None,
            rows: 0,
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn push(&mut self, raw: &[u8], loc: Location, error: &str) {
        self.push_row(raw, loc, error, None, None);
    }

    /// Quarantines an item by reference: `head` is its start, for people; the item itself
    /// (`length` bytes at `loc` of the source, or the whole input's copy in the lake) is not
    /// held in the row.
    pub fn push_reference(
        &mut self,
        head: &[u8],
        loc: Location,
        error: &str,
        length: Option<u64>,
        original_copy: Option<String>,
    ) {
        self.push_row(head, loc, error, length, original_copy);
    }

    fn push_row(
        &mut self,
        raw: &[u8],
        loc: Location,
        error: &str,
        length: Option<u64>,
        original_copy: Option<String>,
    ) {
        let (text, b64) = match std::str::from_utf8(raw) {
            Ok(s) => (s.to_string(), None),
            Err(_) => (
                String::from_utf8_lossy(raw).into_owned(),
                Some(base64::engine::general_purpose::STANDARD.encode(raw)),
            ),
        };
        let row = QuarantineRow {
            source_file: self.source_file.clone(),
            line: loc.line,
            byte_offset: loc.offset,
            error: error.to_string(),
            raw: text,
            raw_base64: b64,
            batch_id: self.batch_id.clone(),
            quarantined_at: self.at,
            length,
            original_copy,
            file: String::new(),
        };
        let enc = self
            .enc
            .get_or_insert_with(|| GzEncoder::new(Vec::new(), Compression::default()));
        // Serialising a plain struct into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *enc, &row);
        let _ = enc.write_all(b"\n");
        self.rows += 1;
    }

    /// Writes the quarantine file (if anything was quarantined) and returns its path.
    pub async fn write(self, lake: &Lake, file_name: &str) -> Result<Option<Path>, LakeError> {
        let Some(enc) = self.enc else {
            return Ok(None);
        };
        let gz = enc.finish().unwrap_or_default();
        let path = Path::from(format!(
            "{}/{file_name}",
            quarantine_dir(self.at.date_naive())
        ));
        lake.put_create(&path, gz.into()).await?;
        Ok(Some(path))
    }
}

/// Reads every row of a quarantine file (for `status`, tests and the app).
pub fn read_rows(gz: &[u8]) -> Result<Vec<QuarantineRow>, std::io::Error> {
    use std::io::BufRead;
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(gz));
    let mut rows = Vec::new();
    for line in reader.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        rows.push(serde_json::from_str(&line)?);
    }
    Ok(rows)
}

/// Every quarantined row of the lake, oldest ingest first.
pub async fn list_all(lake: &Lake) -> Result<Vec<QuarantineRow>, LakeError> {
    let mut metas = lake.list(crate::lake::paths::QUARANTINE).await?;
    // Copies of whole inputs sit beside the quarantine files; they are not rows.
    metas.retain(|m| !m.location.as_ref().contains(ORIGINALS));
    metas.sort_by(|a, b| a.location.cmp(&b.location));
    let mut rows = Vec::new();
    for m in metas {
        let bytes = lake.get(&m.location).await?;
        let mut r = read_rows(&bytes).map_err(|source| LakeError::Io {
            path: std::path::PathBuf::from(m.location.to_string()),
            source,
        })?;
        for row in &mut r {
            row.file = m.location.to_string();
        }
        rows.append(&mut r);
    }
    rows.sort_by(|a, b| {
        (a.quarantined_at, &a.source_file, a.line).cmp(&(b.quarantined_at, &b.source_file, b.line))
    });
    Ok(rows)
}
