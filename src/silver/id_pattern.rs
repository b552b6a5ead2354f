//! The policy's member-id and account-number patterns, with a fast path for the usual shape.
//!
//! Silver checks the member-id pattern against every member id and searches every note for it
//! (`\b(?:pattern)\b`). Run through the regex engine, those two uses took about 7 % of
//! Silver's CPU, though ID patterns are nearly always a run of letters then a run of digits.
//! A pattern of that kind (a sequence of ASCII classes, each repeated at least once, no two
//! neighbours sharing a character) is matched here without the engine: with every piece
//! required and neighbours disjoint, reading each piece greedily is the only way a text can
//! match, so one pass decides. Any other pattern goes to the regex engine unchanged; the
//! tests check that both ways agree.

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A pattern as the policy wrote it, matched with [`Regex::is_match`] semantics.
#[derive(Debug, Clone)]
pub struct IdPattern {
    regex: Regex,
    /// Set when the pattern is anchored at both ends and simple.
    simple: Option<Simple>,
}

impl IdPattern {
    pub fn new(pattern: &str) -> Result<IdPattern, regex::Error> {
        let regex = Regex::new(pattern)?;
        let simple = Simple::parse(pattern).filter(|s| s.start && s.end);
        Ok(IdPattern { regex, simple })
    }

    /// Whether `text` holds a match (for an anchored pattern: is one).
    pub fn is_match(&self, text: &str) -> bool {
        match &self.simple {
            Some(s) => s.whole(text.as_bytes()),
            None => self.regex.is_match(text),
        }
    }
}

/// A pattern found as a whole word inside text: `\b(?:pattern)\b`.
#[derive(Debug, Clone)]
pub struct WordPattern {
    regex: Regex,
    /// Set when the pattern is simple and made of word characters only: a match is then
    /// exactly one whole word of the text.
    simple: Option<Simple>,
}

impl WordPattern {
    /// `inner` is the pattern without anchors.
    pub fn new(inner: &str) -> Result<WordPattern, regex::Error> {
        let regex = Regex::new(&format!(r"\b(?:{inner})\b"))?;
        let simple = Simple::parse(inner).filter(|s| !s.start && !s.end && s.word_only());
        Ok(WordPattern { regex, simple })
    }

    /// Byte ranges of the matches, leftmost first and not overlapping (as `find_iter`).
    pub fn find_spans(&self, text: &str) -> Vec<(usize, usize)> {
        match &self.simple {
            Some(s) => s.find_words(text),
            None => self
                .regex
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect(),
        }
    }
}

/// One piece: a set of ASCII bytes repeated `min..=max` times (`min` at least 1).
#[derive(Debug, Clone, PartialEq)]
struct Piece {
    set: u128,
    min: u32,
    max: u32,
}

#[derive(Debug, Clone)]
struct Simple {
    pieces: Vec<Piece>,
    /// The bytes of the piece with the largest minimum, as a lookup table, and that minimum
    /// (see [`Simple::find_words`]).
    anchor: (Box<[bool; 256]>, usize),
    /// Anchored by `^` / `$`.
    start: bool,
    end: bool,
}

impl Simple {
    /// `None` unless the pattern has the simple shape (see the module comment).
    fn parse(pattern: &str) -> Option<Simple> {
        let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
        let items: Vec<&Hir> = match hir.kind() {
            HirKind::Concat(v) => v.iter().collect(),
            _ => vec![&hir],
        };
        let (mut start, mut end) = (false, false);
        let mut pieces: Vec<Piece> = Vec::new();
        let last = items.len().saturating_sub(1);
        for (i, h) in items.iter().enumerate() {
            match h.kind() {
                HirKind::Look(Look::Start) if i == 0 => start = true,
                HirKind::Look(Look::End) if i == last => end = true,
                HirKind::Literal(lit) => {
                    for &b in lit.0.iter() {
                        pieces.push(Piece {
                            set: ascii_bit(b)?,
                            min: 1,
                            max: 1,
                        });
                    }
                }
                HirKind::Class(c) => pieces.push(Piece {
                    set: ascii_set(c)?,
                    min: 1,
                    max: 1,
                }),
                HirKind::Repetition(r) => {
                    let set = match r.sub.kind() {
                        HirKind::Class(c) => ascii_set(c)?,
                        HirKind::Literal(l) if l.0.len() == 1 => ascii_bit(l.0[0])?,
                        _ => return None,
                    };
                    pieces.push(Piece {
                        set,
                        min: r.min,
                        max: r.max.unwrap_or(u32::MAX),
                    });
                }
                _ => return None,
            }
        }
        // `AA` is `A{2}`: neighbours with the same set merge, so only different sets remain
        // side by side.
        let mut merged: Vec<Piece> = Vec::with_capacity(pieces.len());
        for p in pieces {
            match merged.last_mut() {
                Some(last) if last.set == p.set => {
                    last.min = last.min.saturating_add(p.min);
                    last.max = last.max.saturating_add(p.max);
                }
                _ => merged.push(p),
            }
        }
        let exact = !merged.is_empty()
            && merged.iter().all(|p| p.min >= 1 && p.set != 0)
            && merged.windows(2).all(|w| w[0].set & w[1].set == 0);
        if !exact {
            return None;
        }
        let top = merged.iter().max_by_key(|p| p.min)?;
        let mut table = Box::new([false; 256]);
        for (b, slot) in table.iter_mut().enumerate().take(128) {
            *slot = (top.set >> b) & 1 == 1;
        }
        let anchor = (table, top.min as usize);
        Some(Simple {
            pieces: merged,
            anchor,
            start,
            end,
        })
    }

    /// Every piece only holds word characters (`[A-Za-z0-9_]`).
    fn word_only(&self) -> bool {
        let word = (0u8..128)
            .filter(|b| is_ascii_word(*b))
            .fold(0u128, |m, b| m | 1 << b);
        self.pieces.iter().all(|p| p.set & !word == 0)
    }

    /// The words of `text` that match whole. A matching word holds a maximal run of the
    /// piece with the largest minimum (its neighbours share no byte with it, and the word's
    /// ends are no word bytes), so only words around such runs are read: the scan over the
    /// rest is one table lookup per byte. Telling words apart byte by byte cost as much as the
    /// regex engine did.
    fn find_words(&self, text: &str) -> Vec<(usize, usize)> {
        let (table, min) = (&self.anchor.0, self.anchor.1);
        let b = text.as_bytes();
        let mut spans = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i..].iter().position(|c| table[usize::from(*c)]) {
                Some(k) => i += k,
                None => break,
            }
            let run = i;
            i += b[i..]
                .iter()
                .position(|c| !table[usize::from(*c)])
                .unwrap_or(b.len() - i);
            if i - run < min {
                continue;
            }
            let (start, end) = word_around(text, run, i);
            if self.whole(&b[start..end]) {
                spans.push((start, end));
            }
            // Other runs in this word belong to the same word.
            i = i.max(end);
        }
        spans
    }

    /// Whether all of `text` matches, reading each piece greedily.
    fn whole(&self, text: &[u8]) -> bool {
        let mut i = 0;
        for p in &self.pieces {
            let mut n = 0u32;
            while n < p.max
                && text
                    .get(i)
                    .is_some_and(|b| *b < 128 && (p.set >> b) & 1 == 1)
            {
                i += 1;
                n += 1;
            }
            if n < p.min {
                return false;
            }
        }
        i == text.len()
    }
}

fn ascii_bit(b: u8) -> Option<u128> {
    (b < 128).then(|| 1u128 << b)
}

/// The class as a set of ASCII bytes; `None` if it holds anything beyond ASCII.
fn ascii_set(c: &Class) -> Option<u128> {
    let mut set = 0u128;
    let mut add = |lo: u32, hi: u32| {
        if hi >= 128 {
            return false;
        }
        for b in lo..=hi {
            set |= 1 << b;
        }
        true
    };
    let ok = match c {
        Class::Unicode(u) => u
            .iter()
            .all(|r| add(u32::from(r.start()), u32::from(r.end()))),
        Class::Bytes(b) => b
            .iter()
            .all(|r| add(u32::from(r.start()), u32::from(r.end()))),
    };
    ok.then_some(set)
}

fn is_ascii_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `c` is a word character as the regex engine's Unicode `\b` sees it.
fn is_word(c: char) -> bool {
    if c.is_ascii() {
        is_ascii_word(c as u8)
    } else {
        regex_syntax::is_word_character(c)
    }
}

/// The maximal run of word characters around `from..to` (which holds word bytes only).
fn word_around(text: &str, from: usize, to: usize) -> (usize, usize) {
    let start = text[..from]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(from, |(k, _)| k);
    let end = text[to..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(k, _)| to + k);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic text from an alphabet of letters, digits, separators and non-ASCII word
    /// and non-word characters (an Arabic-Indic digit is a word character and `\d`).
    fn texts(seed: u64, n: usize) -> Vec<String> {
        const ALPHABET: &[&str] = &[
            "A", "B", "M", "R", "b", "r", "z", "0", "1", "5", "9", " ", "-", "_", ".", "é", "٣",
            "€", "MBR", "123456", "ab", "\n",
        ];
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|_| {
                let len = (next() % 24) as usize;
                (0..len)
                    .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    const PATTERNS: &[&str] = &[
        "^[A-Za-z]{2,4}[0-9]{6,12}$",
        "^[0-9]{8,17}$",
        "^MBR[0-9]{3,6}$",
        "^(?i)mbr[0-9]+$",
        "^[A-Z]{2}[0-9]+_[a-z]{1,3}$",
        "^AA[0-9]{2}$",
        "^[0-9]{3}[A-Z][0-9]{3}$",
        "^[A-Z]{2}-[0-9]{2}$",
        // Not simple (unicode digits, an optional piece, alternation, no anchors,
        // overlapping neighbours): the regex engine answers.
        r"^[A-Z]{2}\d{6}$",
        "^[A-Z]{0,3}[0-9]{2}$",
        "^(?:AB|MBR)[0-9]{2,}$",
        "[0-9]{3}",
        "^[A-Z0-9]{2}[0-9]{2}$",
        "^[A-Z0-9]{1,4}[0-9]{2}$",
    ];

    #[test]
    fn simple_shapes_are_recognised() {
        assert!(IdPattern::new(PATTERNS[0]).unwrap().simple.is_some());
        assert!(IdPattern::new(PATTERNS[1]).unwrap().simple.is_some());
        assert!(IdPattern::new(PATTERNS[3]).unwrap().simple.is_some());
        // A dash is fine in a whole value...
        assert!(IdPattern::new(PATTERNS[7]).unwrap().simple.is_some());
        for p in &PATTERNS[8..] {
            assert!(IdPattern::new(p).unwrap().simple.is_none(), "{p}");
        }
        // ...but is no word character: found in text by the engine.
        assert!(
            WordPattern::new("[A-Z]{2}-[0-9]{2}")
                .unwrap()
                .simple
                .is_none()
        );
        assert!(
            WordPattern::new("[A-Za-z]{2,4}[0-9]{6,12}")
                .unwrap()
                .simple
                .is_some()
        );
    }

    #[test]
    fn the_fast_path_agrees_with_the_regex_engine() {
        let cases = texts(0x9E37_79B9_7F4A_7C15, 20_000);
        let mut matched = (0, 0);
        for p in PATTERNS {
            let whole = IdPattern::new(p).unwrap();
            let engine = Regex::new(p).unwrap();
            let inner = p.trim_start_matches('^').trim_end_matches('$');
            let in_text = WordPattern::new(inner).unwrap();
            let engine_in_text = Regex::new(&format!(r"\b(?:{inner})\b")).unwrap();
            for t in &cases {
                let want = engine.is_match(t);
                assert_eq!(whole.is_match(t), want, "{p} on {t:?}");
                matched.0 += usize::from(want);
                let want: Vec<(usize, usize)> = engine_in_text
                    .find_iter(t)
                    .map(|m| (m.start(), m.end()))
                    .collect();
                assert_eq!(in_text.find_spans(t), want, "{inner} in {t:?}");
                matched.1 += want.len();
            }
        }
        // The cases exercise matches, not only misses.
        assert!(matched.0 > 500 && matched.1 > 500, "{matched:?}");
    }

    #[test]
    fn ids_are_found_only_as_whole_words() {
        let p = WordPattern::new("[A-Za-z]{2,4}[0-9]{6,12}").unwrap();
        assert!(p.simple.is_some());
        let t = "id:MBR123456, éMBR123456 MBR123456٣ MBR123456_x €MBR123456 ab12345678901234";
        let found: Vec<&str> = p.find_spans(t).iter().map(|(a, b)| &t[*a..*b]).collect();
        assert_eq!(found, ["MBR123456", "MBR123456"]);
        assert_eq!(word_around(t, 6, 9), (3, 12));
        // Two long enough runs of the anchor piece in one word: the word is found once.
        let twice = WordPattern::new("[0-9]{3}[A-Z][0-9]{3}").unwrap();
        assert!(twice.simple.is_some());
        assert_eq!(twice.find_spans("x 123A456 y"), [(2, 9)]);
        assert_eq!(word_around(t, 19, 25), (14, 25), "é is a word character");
    }
}
