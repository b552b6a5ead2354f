//! Finding where a JSON value or an NDJSON line ends without parsing it, with line and
//! byte positions, and a limit on what is held in memory.

use std::io::{self, BufRead};

use super::{Location, OVERSIZED_HEAD_BYTES, is_ws};

pub(super) enum ScanError {
    Io(io::Error),
    Structure(String),
    /// A value over the limit that the input ends inside (unbalanced brackets): its length.
    OversizedCutOff(u64),
}

/// A byte scanner that finds where one JSON value ends without parsing it, tracking lines.
pub(super) struct Scanner<R> {
    pub(super) r: R,
    pub(super) line: u64,
    pub(super) offset: u64,
    /// The most bytes one line or value may hold in memory.
    pub(super) limit: usize,
}

/// What reading a line took: its length, and whether it was longer than the limit (then
/// only the limit's worth was kept).
#[derive(Debug, Clone, Copy)]
pub(super) struct LineRead {
    pub(super) bytes: u64,
    pub(super) over: bool,
}

impl<R: BufRead> Scanner<R> {
    pub(super) fn new(r: R, line: u64, offset: u64, limit: usize) -> Self {
        Scanner {
            r,
            line,
            offset,
            limit,
        }
    }

    pub(super) fn into_inner(self) -> R {
        self.r
    }

    pub(super) fn location(&self) -> Location {
        Location {
            line: self.line,
            offset: self.offset,
        }
    }

    pub(super) fn skip_bom(&mut self) -> io::Result<()> {
        let buf = self.r.fill_buf()?;
        if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.r.consume(3);
            self.offset += 3;
        }
        Ok(())
    }

    pub(super) fn bump(&mut self) {
        self.r.consume(1);
        self.offset += 1;
    }

    /// Skips whitespace and returns the next byte without consuming it.
    pub(super) fn peek_non_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let mut i = 0;
            let mut lines = 0;
            while i < buf.len() && is_ws(buf[i]) {
                lines += u64::from(buf[i] == b'\n');
                i += 1;
            }
            let found = buf.get(i).copied();
            self.r.consume(i);
            self.offset += i as u64;
            self.line += lines;
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    /// Reads up to and including the next newline, keeping at most the limit's worth: the
    /// rest of a longer line is read past, not kept.
    pub(super) fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<LineRead> {
        let mut read = LineRead {
            bytes: 0,
            over: false,
        };
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Ok(read);
            }
            let (take, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if !read.over {
                let room = self.limit.saturating_sub(out.len());
                if take <= room {
                    out.extend_from_slice(&buf[..take]);
                } else {
                    out.extend_from_slice(&buf[..room]);
                    read.over = true;
                }
            }
            self.r.consume(take);
            self.offset += take as u64;
            read.bytes += take as u64;
            if done {
                self.line += 1;
                return Ok(read);
            }
        }
    }

    /// Reads one JSON value (object, array, string or scalar) into `out`. A value longer than
    /// the limit is read past to its end, keeping only its first bytes: `Ok(Some(length))`.
    pub(super) fn read_value(&mut self, out: &mut Vec<u8>) -> Result<Option<u64>, ScanError> {
        out.clear();
        let mut depth: u32 = 0;
        let mut in_str = false;
        let mut esc = false;
        let mut first = true;
        let mut scalar = false;
        // Bytes of the value so far; past the limit only its head stays in `out`.
        let mut total: u64 = 0;
        let mut over = false;
        loop {
            let buf = self.r.fill_buf().map_err(ScanError::Io)?;
            if buf.is_empty() {
                if scalar && !out.is_empty() {
                    return Ok(over.then_some(total));
                }
                if over {
                    return Err(ScanError::OversizedCutOff(total));
                }
                return Err(ScanError::Structure(format!(
                    "value starting at line {} is cut off by the end of the input",
                    self.line
                )));
            }
            let mut end = None;
            for (i, &c) in buf.iter().enumerate() {
                if first {
                    first = false;
                    match c {
                        b'{' | b'[' => depth = 1,
                        b'"' => in_str = true,
                        b'}' | b']' | b',' | b':' => {
                            return Err(ScanError::Structure(format!(
                                "unexpected `{}` at line {}",
                                c as char, self.line
                            )));
                        }
                        _ => scalar = true,
                    }
                    continue;
                }
                if scalar {
                    if is_ws(c) || matches!(c, b',' | b']' | b'}') {
                        end = Some(i);
                        break;
                    }
                    continue;
                }
                if in_str {
                    if esc {
                        esc = false;
                    } else if c == b'\\' {
                        esc = true;
                    } else if c == b'"' {
                        in_str = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(buf.len());
            if !over {
                out.extend_from_slice(&buf[..take]);
                if out.len() > self.limit {
                    out.truncate(OVERSIZED_HEAD_BYTES);
                    over = true;
                }
            }
            total += take as u64;
            let lines = buf[..take].iter().filter(|c| **c == b'\n').count() as u64;
            self.r.consume(take);
            self.offset += take as u64;
            self.line += lines;
            if end.is_some() {
                return Ok(over.then_some(total));
            }
        }
    }
}
