//! Streaming readers for every input form of SPEC §1: NDJSON, a JSON array, envelope pages, a
//! single object, or several pretty-printed objects, gzip or not (decided by the magic bytes).
//!
//! Memory stays bounded by the largest single value (one record, one line, or one envelope
//! page), never the file: NDJSON is read a line at a time and a top-level array an element at
//! a time. Each record is handed on as the exact bytes it had in the input.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::value::RawValue;

use super::shape::{Classified, RecordFacts, classify};

/// Largest single value (line, record or envelope page) read into memory, unless the caller
/// sets another. A bigger one is passed over without being held: it is reported as
/// [`Item::Oversized`] with its start and length, for quarantine by reference.
mod scanner;

use scanner::{LineRead, ScanError, Scanner};

pub const DEFAULT_MAX_VALUE_BYTES: usize = 256 << 20;
/// How much of an oversized value is kept, for people to recognise it.
const OVERSIZED_HEAD_BYTES: usize = 4096;
/// Size of the pieces the unreadable rest of a stream is quarantined in.
const QUARANTINE_PIECE_BYTES: usize = 16 << 20;
/// Envelopes may sit inside an array or hold further pages, but not deeper than this.
const MAX_NESTING: u8 = 2;

/// Where a value starts in the (decompressed) input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset from the start of the decompressed content.
    pub offset: u64,
}

/// One thing read from an input: a record, or text that could not be one.
#[derive(Debug)]
pub enum Item<'a> {
    Record {
        raw: &'a [u8],
        facts: RecordFacts,
        loc: Location,
    },
    Malformed {
        raw: &'a [u8],
        error: String,
        loc: Location,
    },
    /// A value larger than the size limit, never held whole: its first bytes and its length.
    Oversized {
        head: &'a [u8],
        length: u64,
        limit: usize,
        loc: Location,
    },
}

/// How an input file was laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Empty,
    Ndjson,
    JsonArray,
    /// One or more top-level objects (a single record, an envelope page, pretty-printed).
    JsonStream,
    /// JSON values back to back with no separator (`{…}{…}`), as Amazon Kinesis Data
    /// Firehose writes Amazon Connect contact records to S3.
    Concatenated,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Empty => "empty",
            Layout::Ndjson => "ndjson",
            Layout::JsonArray => "json-array",
            Layout::JsonStream => "json-stream",
            Layout::Concatenated => "concatenated",
        }
    }
}

/// Errors that stop reading a file: I/O (including a corrupt gzip stream) or the consumer's.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E> {
    #[error("cannot read {what}: {source}")]
    Io { what: String, source: io::Error },
    #[error(transparent)]
    Consumer(E),
}

/// True when the bytes start with the gzip magic number.
pub fn is_gzip(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
}

/// Opens a file, decompressing it when its first two bytes are gzip's magic number, whatever
/// its name. Returns the reader and whether it was gzip. `counter`, when given, is advanced by
/// the bytes read from the file itself (for progress over compressed input).
pub fn open_input<'a>(
    path: &Path,
    counter: Option<&'a AtomicU64>,
) -> io::Result<(Box<dyn BufRead + Send + 'a>, bool)> {
    let mut file = File::open(path)?;
    let mut head = [0u8; 2];
    let n = read_up_to(&mut file, &mut head)?;
    let file = CountingReader {
        inner: io::Cursor::new(head[..n].to_vec()).chain(file),
        counter,
    };
    if is_gzip(&head[..n]) {
        // MultiGzDecoder: concatenated gzip members (as `cat a.gz b.gz` makes) are one stream.
        let dec = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file));
        Ok((Box::new(BufReader::with_capacity(1 << 18, dec)), true))
    } else {
        Ok((Box::new(BufReader::with_capacity(1 << 18, file)), false))
    }
}

struct CountingReader<'a, R> {
    inner: R,
    counter: Option<&'a AtomicU64>,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = self.counter {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads every record of a file, calling `on_item` for each in order.
pub fn read_file<E>(
    path: &Path,
    counter: Option<&AtomicU64>,
    limit: usize,
    on_item: impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(Layout, bool), ReadError<E>> {
    let what = path.display().to_string();
    let (reader, gzip) = open_input(path, counter).map_err(|source| ReadError::Io {
        what: what.clone(),
        source,
    })?;
    let layout = read_stream(reader, &what, limit, on_item)?;
    Ok((layout, gzip))
}

/// Reads every record of an already-decompressed stream. `what` names it in errors; no
/// single line or value larger than `limit` bytes is held in memory.
pub fn read_stream<R: BufRead, E>(
    reader: R,
    what: &str,
    limit: usize,
    mut on_item: impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<Layout, ReadError<E>> {
    let io_err = |source| ReadError::Io {
        what: what.to_string(),
        source,
    };
    let mut sc = Scanner::new(reader, 1, 0, limit);
    sc.skip_bom().map_err(io_err)?;
    match sc.peek_non_ws().map_err(io_err)? {
        None => Ok(Layout::Empty),
        Some(b'[') => {
            stream_values(sc, &mut on_item, what)?;
            Ok(Layout::JsonArray)
        }
        Some(_) => {
            let (line, offset) = (sc.line, sc.offset);
            let mut first = Vec::new();
            let first_len = sc.read_line(&mut first).map_err(io_err)?;
            if first_len.over {
                // Too long to hold: NDJSON with an oversized first line is all it can be read as.
                ndjson(sc, first, first_len, line, offset, &mut on_item, what)?;
                return Ok(Layout::Ndjson);
            }
            match first_line(&first) {
                FirstLine::One => {
                    ndjson(sc, first, first_len, line, offset, &mut on_item, what)?;
                    return Ok(Layout::Ndjson);
                }
                FirstLine::BackToBack => {
                    let rest = io::Cursor::new(first).chain(sc.into_inner());
                    stream_values(Scanner::new(rest, line, offset, limit), &mut on_item, what)?;
                    return Ok(Layout::Concatenated);
                }
                FirstLine::Unfinished => {}
            }
            // The first line is an unfinished value: pretty-printed JSON, unless the next
            // line is a complete object of its own (then it is NDJSON with a broken line).
            let mut second = Vec::new();
            let second_start = (sc.line, sc.offset);
            let second_len = sc.read_line(&mut second).map_err(io_err)?;
            let second_trim = trim(&second);
            if !second_len.over
                && second_trim.first() == Some(&b'{')
                && !looks_truncated(second_trim)
            {
                emit_value(&first, Location { line, offset }, 0, &mut on_item)
                    .map_err(ReadError::Consumer)?;
                ndjson(
                    sc,
                    second,
                    second_len,
                    second_start.0,
                    second_start.1,
                    &mut on_item,
                    what,
                )?;
                return Ok(Layout::Ndjson);
            }
            first.extend_from_slice(&second);
            let rest = io::Cursor::new(first).chain(sc.into_inner());
            stream_values(Scanner::new(rest, line, offset, limit), &mut on_item, what)?;
            Ok(Layout::JsonStream)
        }
    }
}

/// What the first line of a stream that is not an array holds.
enum FirstLine {
    /// One value (or a broken line): NDJSON.
    One,
    /// A complete value and then the start of another on the same line (`{…}{…}`).
    BackToBack,
    /// The start of a value that ends on a later line: pretty-printed JSON.
    Unfinished,
}

fn first_line(text: &[u8]) -> FirstLine {
    let t = trim(text);
    match serde_json::from_slice::<serde::de::IgnoredAny>(t) {
        Ok(_) => FirstLine::One,
        Err(e) if e.is_eof() => FirstLine::Unfinished,
        Err(_) => {
            let mut values =
                serde_json::Deserializer::from_slice(t).into_iter::<serde::de::IgnoredAny>();
            let first_ok = matches!(values.next(), Some(Ok(_)));
            let next = t[values.byte_offset()..]
                .iter()
                .find(|c| !is_ws(**c))
                .copied();
            if first_ok && matches!(next, Some(b'{' | b'[')) {
                FirstLine::BackToBack
            } else {
                FirstLine::One
            }
        }
    }
}

/// Values written back to back in one piece of text: their byte ranges, and where the text
/// stops being JSON with the error. `None` unless a value is followed by the start of another:
/// a single broken value is not a concatenation.
#[allow(clippy::type_complexity)]
fn back_to_back(text: &[u8]) -> Option<(Vec<(usize, usize)>, Option<(usize, String)>)> {
    let mut values = serde_json::Deserializer::from_slice(text).into_iter::<&RawValue>();
    let base = text.as_ptr() as usize;
    let mut spans = Vec::new();
    let mut tail = None;
    loop {
        let before = values.byte_offset();
        match values.next() {
            None => break,
            Some(Ok(v)) => {
                let start = v.get().as_ptr() as usize - base;
                spans.push((start, start + v.get().len()));
            }
            Some(Err(e)) => {
                let from = before + text[before..].iter().take_while(|c| is_ws(**c)).count();
                tail = Some((
                    from,
                    format!(
                        "invalid JSON after {} values: {}",
                        spans.len(),
                        crate::format::scrub_message(&e.to_string())
                    ),
                ));
                break;
            }
        }
    }
    // One good value followed by a broken one is a concatenation too.
    let another = tail
        .as_ref()
        .is_some_and(|(from, _)| matches!(text.get(*from), Some(b'{' | b'[')));
    (spans.len() >= 2 || (spans.len() == 1 && another)).then_some((spans, tail))
}

/// Why a file that holds JSON gave no record at all (an empty array, an envelope page with an
/// empty record list, paging keys alone). Such a file is quarantined whole with this reason,
/// so `records read = Bronze + quarantined` is never `0 = 0 + 0` for a file with content.
pub fn no_records_reason(content: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(trim(content)) {
        Ok(serde_json::Value::Array(a)) if a.is_empty() => "an empty JSON array".to_string(),
        Ok(serde_json::Value::Object(o)) => {
            let keys: Vec<&str> = o.keys().take(8).map(String::as_str).collect();
            format!(
                "an object that is an envelope with no records in it (keys: {})",
                keys.join(", ")
            )
        }
        _ => "none of its values is a record (empty arrays or envelope pages)".to_string(),
    }
}

/// True when the text is the start of a JSON value that ends later (an EOF parse error).
fn looks_truncated(text: &[u8]) -> bool {
    match serde_json::from_slice::<serde::de::IgnoredAny>(trim(text)) {
        Ok(_) => false,
        Err(e) => e.is_eof(),
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !is_ws(*c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ws(*c)).map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// NDJSON: each non-blank line is one value (a record, an envelope, or an array of records);
/// a line over the limit is reported as oversized, never held whole.
fn ndjson<R: BufRead, E>(
    mut sc: Scanner<R>,
    first: Vec<u8>,
    first_len: LineRead,
    line: u64,
    offset: u64,
    on_item: &mut impl FnMut(Item<'_>) -> Result<(), E>,
    what: &str,
) -> Result<(), ReadError<E>> {
    let mut buf = first;
    let mut len = first_len;
    let mut loc = Location { line, offset };
    loop {
        let lead = buf.iter().position(|c| !is_ws(*c)).unwrap_or(0) as u64;
        let at = Location {
            line: loc.line,
            offset: loc.offset + lead,
        };
        if len.over {
            on_item(Item::Oversized {
                head: &buf[lead as usize..buf.len().min(lead as usize + OVERSIZED_HEAD_BYTES)],
                length: len.bytes - lead,
                limit: sc.limit,
                loc: at,
            })
            .map_err(ReadError::Consumer)?;
        } else {
            let value = trim(&buf);
            if !value.is_empty() {
                emit_value(value, at, 0, on_item).map_err(ReadError::Consumer)?;
            }
        }
        loc = Location {
            line: sc.line,
            offset: sc.offset,
        };
        buf.clear();
        len = sc.read_line(&mut buf).map_err(|source| ReadError::Io {
            what: what.to_string(),
            source,
        })?;
        if len.bytes == 0 {
            return Ok(());
        }
    }
}

/// Pretty-printed or concatenated top-level values; a top-level array is streamed an element
/// at a time. A structural error quarantines the rest of the stream (nothing is dropped).
fn stream_values<R: BufRead, E>(
    mut sc: Scanner<R>,
    on_item: &mut impl FnMut(Item<'_>) -> Result<(), E>,
    what: &str,
) -> Result<(), ReadError<E>> {
    let io_err = |source| ReadError::Io {
        what: what.to_string(),
        source,
    };
    let mut buf = Vec::new();
    loop {
        let Some(c) = sc.peek_non_ws().map_err(io_err)? else {
            return Ok(());
        };
        if c == b'[' {
            let array_start = sc.location();
            sc.bump();
            loop {
                match sc.peek_non_ws().map_err(io_err)? {
                    Some(b']') => {
                        sc.bump();
                        break;
                    }
                    Some(_) => {}
                    None => {
                        let msg = format!(
                            "JSON array opened at line {} is not closed before the end of the input",
                            array_start.line
                        );
                        return drain(sc, Vec::new(), msg, on_item, what);
                    }
                }
                match read_one(&mut sc, &mut buf, 1, on_item, what)? {
                    ValueRead::Read => {}
                    ValueRead::Broken(msg) => {
                        return drain(sc, std::mem::take(&mut buf), msg, on_item, what);
                    }
                    ValueRead::CutOff => return Ok(()),
                }
                match sc.peek_non_ws().map_err(io_err)? {
                    Some(b',') => sc.bump(),
                    Some(b']') => {
                        sc.bump();
                        break;
                    }
                    other => {
                        let msg = match other {
                            Some(c) => format!(
                                "expected `,` or `]` after an array element, found `{}`",
                                c as char
                            ),
                            None => "JSON array is not closed before the end of the input".into(),
                        };
                        return drain(sc, Vec::new(), msg, on_item, what);
                    }
                }
            }
        } else {
            match read_one(&mut sc, &mut buf, 0, on_item, what)? {
                ValueRead::Read => {}
                ValueRead::Broken(msg) => {
                    return drain(sc, std::mem::take(&mut buf), msg, on_item, what);
                }
                ValueRead::CutOff => return Ok(()),
            }
        }
    }
}

/// Hands the unreadable rest of a stream (starting with `partial`) to quarantine in pieces.
/// How reading one value ended.
enum ValueRead {
    /// Read and handed on (whole, or as an oversized item): go on.
    Read,
    /// Not valid JSON: the rest of the stream is quarantined from here.
    Broken(String),
    /// Too large and cut off at the end of the input: handed on as oversized; nothing follows.
    CutOff,
}

/// Reads the next value (at nesting `depth`) and hands it on.
fn read_one<R: BufRead, E>(
    sc: &mut Scanner<R>,
    buf: &mut Vec<u8>,
    depth: u8,
    on_item: &mut impl FnMut(Item<'_>) -> Result<(), E>,
    what: &str,
) -> Result<ValueRead, ReadError<E>> {
    let at = sc.location();
    let oversized =
        |buf: &[u8], length, limit, on_item: &mut dyn FnMut(Item<'_>) -> Result<(), E>| {
            on_item(Item::Oversized {
                head: buf,
                length,
                limit,
                loc: at,
            })
            .map_err(ReadError::Consumer)
        };
    match sc.read_value(buf) {
        Ok(None) => emit_value(buf, at, depth, on_item).map_err(ReadError::Consumer)?,
        Ok(Some(length)) => oversized(buf, length, sc.limit, on_item)?,
        Err(ScanError::Io(source)) => {
            return Err(ReadError::Io {
                what: what.to_string(),
                source,
            });
        }
        Err(ScanError::Structure(msg)) => return Ok(ValueRead::Broken(msg)),
        Err(ScanError::OversizedCutOff(length)) => {
            oversized(buf, length, sc.limit, on_item)?;
            return Ok(ValueRead::CutOff);
        }
    }
    Ok(ValueRead::Read)
}

fn drain<R: BufRead, E>(
    mut sc: Scanner<R>,
    mut partial: Vec<u8>,
    error: String,
    on_item: &mut impl FnMut(Item<'_>) -> Result<(), E>,
    what: &str,
) -> Result<(), ReadError<E>> {
    let mut loc = Location {
        line: sc
            .line
            .saturating_sub(partial.iter().filter(|c| **c == b'\n').count() as u64),
        offset: sc.offset.saturating_sub(partial.len() as u64),
    };
    loop {
        let want = QUARANTINE_PIECE_BYTES.saturating_sub(partial.len());
        let got = if want == 0 {
            0
        } else {
            (&mut sc.r)
                .take(want as u64)
                .read_to_end(&mut partial)
                .map_err(|source| ReadError::Io {
                    what: what.to_string(),
                    source,
                })?
        };
        let piece = trim(&partial);
        if !piece.is_empty() {
            on_item(Item::Malformed {
                raw: piece,
                error: error.clone(),
                loc,
            })
            .map_err(ReadError::Consumer)?;
        }
        if want > 0 && got < want {
            return Ok(());
        }
        loc.offset += partial.len() as u64;
        loc.line += partial.iter().filter(|c| **c == b'\n').count() as u64;
        partial.clear();
    }
}

/// Classifies one complete value and hands its records on (expanding envelopes and arrays).
fn emit_value<E>(
    bytes: &[u8],
    at: Location,
    depth: u8,
    on_item: &mut impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let bytes = trim(bytes);
    if bytes.first() == Some(&b'[') && depth < MAX_NESTING {
        return match serde_json::from_slice::<Vec<&RawValue>>(bytes) {
            Ok(elements) => emit_elements(bytes, &elements, at, depth, on_item),
            Err(e) => match back_to_back(bytes).filter(|_| depth == 0) {
                Some(parts) => emit_back_to_back(bytes, parts, at, on_item),
                None => on_item(Item::Malformed {
                    raw: bytes,
                    error: format!(
                        "invalid JSON array: {}",
                        crate::format::scrub_message(&e.to_string())
                    ),
                    loc: at,
                }),
            },
        };
    }
    match classify(bytes) {
        Ok(Classified::Record(facts)) => on_item(Item::Record {
            raw: bytes,
            facts,
            loc: at,
        }),
        Ok(Classified::Envelope(records)) if depth < MAX_NESTING => {
            emit_elements(bytes, &records, at, depth, on_item)
        }
        Ok(Classified::Envelope(_)) => on_item(Item::Malformed {
            raw: bytes,
            error: "envelope nested too deeply".into(),
            loc: at,
        }),
        Err(error) => match back_to_back(bytes).filter(|_| depth == 0) {
            // A line of NDJSON holding several values with no separator.
            Some(parts) => emit_back_to_back(bytes, parts, at, on_item),
            None => on_item(Item::Malformed {
                raw: bytes,
                error,
                loc: at,
            }),
        },
    }
}

/// Emits values found back to back in one line, then what follows them if it is not JSON.
#[allow(clippy::type_complexity)]
fn emit_back_to_back<E>(
    text: &[u8],
    (spans, tail): (Vec<(usize, usize)>, Option<(usize, String)>),
    at: Location,
    on_item: &mut impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let loc_of = |start: usize| Location {
        line: at.line + text[..start].iter().filter(|c| **c == b'\n').count() as u64,
        offset: at.offset + start as u64,
    };
    for (start, end) in spans {
        emit_value(&text[start..end], loc_of(start), 1, on_item)?;
    }
    if let Some((from, error)) = tail {
        on_item(Item::Malformed {
            raw: trim(&text[from..]),
            error,
            loc: loc_of(from),
        })?;
    }
    Ok(())
}

/// Emits the elements of an array or envelope, each with its own line and offset.
fn emit_elements<E>(
    container: &[u8],
    elements: &[&RawValue],
    at: Location,
    depth: u8,
    on_item: &mut impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let base = container.as_ptr() as usize;
    let (mut scanned, mut line) = (0usize, at.line);
    for el in elements {
        let start = el.get().as_ptr() as usize - base;
        line += container[scanned..start]
            .iter()
            .filter(|c| **c == b'\n')
            .count() as u64;
        scanned = start;
        let loc = Location {
            line,
            offset: at.offset + start as u64,
        };
        emit_value(el.get().as_bytes(), loc, depth + 1, on_item)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
