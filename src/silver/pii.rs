//! PII detectors, each validating before it claims a value: a card number must pass the Luhn
//! check, a phone must normalise to a valid E.164 number (libphonenumber rules via the
//! `phonenumber` crate), member and account numbers must match the policy's patterns. The same
//! detectors scrub free text, replacing spans with `[PAN]`, `[PHONE]`, `[EMAIL]`, `[MEMBER_ID]`
//! while digit runs that fail validation (order numbers, references) stay.

use ahash::AHashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use super::digest::HexDigest;
use super::id_pattern::{IdPattern, WordPattern};

use regex::Regex;

/// A detector of one kind of PII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    Phone,
    Pan,
    MemberId,
    AccountNumber,
    Email,
    FreeText,
}

impl Detector {
    pub fn as_str(self) -> &'static str {
        match self {
            Detector::Phone => "phone",
            Detector::Pan => "pan",
            Detector::MemberId => "member_id",
            Detector::AccountNumber => "account_number",
            Detector::Email => "email",
            Detector::FreeText => "free_text",
        }
    }
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("email pattern")
});
static EMAIL_WHOLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
        .expect("email pattern")
});
/// Runs of digits with the separators people type in card and phone numbers: what the
/// pattern `\+?\(?[0-9][0-9 \t().\-]{4,}[0-9]` finds (leftmost first, greedy), found by hand.
/// The regex engine scanned every byte of every note through its lazy DFA; this looks at
/// bytes that can start a run and nothing else. `digit_runs_match_the_pattern` checks the two
/// agree.
fn digit_runs(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    let in_run =
        |c: u8| c.is_ascii_digit() || matches!(c, b' ' | b'\t' | b'(' | b')' | b'.' | b'-');
    // Bytes that can start a run: a digit, `+` or `(`. Notes are mostly words, so the scan
    // jumps from one such byte to the next instead of trying each position.
    let can_start = |c: &u8| c.is_ascii_digit() || *c == b'+' || *c == b'(';
    let mut p = 0;
    std::iter::from_fn(move || {
        while p < b.len() {
            match b[p..].iter().position(can_start) {
                Some(k) => p += k,
                None => {
                    p = b.len();
                    break;
                }
            }
            let start = p;
            // The optional `+` and `(` before the first digit: at most one way to read them.
            let mut q = p;
            if b[q] == b'+' {
                q += 1;
            }
            if b.get(q) == Some(&b'(') {
                q += 1;
            }
            if b.get(q).is_some_and(u8::is_ascii_digit) {
                // Greedy: the whole stretch of run characters, ending at its last digit, which
                // must leave at least four characters between the first and last digit.
                let mut last_digit = None;
                let mut r = q + 1;
                while r < b.len() && in_run(b[r]) {
                    if b[r].is_ascii_digit() {
                        last_digit = Some(r);
                    }
                    r += 1;
                }
                if let Some(k) = last_digit.filter(|k| *k >= q + 5) {
                    p = k + 1;
                    return Some((start, k + 1));
                }
            }
            p += 1;
        }
        None
    })
}

/// Validity of North-American numbers (country code 1) by area code, as probed from
/// libphonenumber itself (the result is kept in [`NANP_CELLS`]). An area code is `Valid` when
/// every probe across its exchanges validates, `Invalid` when none of a dense sweep of exchanges does (not an area code in
/// service), and `Undecided` otherwise (the Caribbean codes that only allow some exchanges);
/// undecided numbers go to the full parser.
pub struct NanpTable {
    cells: Vec<NanpCell>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NanpCell {
    Valid,
    Invalid,
    Undecided,
}

#[cfg(test)]
fn lib_valid(npa: usize, rest: &str) -> bool {
    phonenumber::parse(None, format!("+1{npa}{rest}"))
        .map(|n| phonenumber::is_valid(&n))
        .unwrap_or(false)
}

impl NanpTable {
    #[cfg(test)]
    fn probe() -> Self {
        let mut cells = vec![NanpCell::Invalid; 1000];
        for (npa, cell) in cells.iter_mut().enumerate().skip(200) {
            let coarse: Vec<bool> = (2..10)
                .flat_map(|x| {
                    ["550123", "219876", "873456", "004321"].map(move |r| format!("{x}{r}"))
                })
                .map(|rest| lib_valid(npa, &rest))
                .collect();
            // Exchanges starting 0 or 1 are invalid in the mainland plan; some islands differ.
            let low_exchange_valid = ["0550123", "1550123", "0219876", "1219876"]
                .iter()
                .any(|r| lib_valid(npa, r));
            *cell = if coarse.iter().all(|v| *v) && !low_exchange_valid {
                NanpCell::Valid
            } else if low_exchange_valid
                || coarse.iter().any(|v| *v)
                || (0..100).any(|xy| lib_valid(npa, &format!("{xy:02}51234")))
            {
                NanpCell::Undecided
            } else {
                NanpCell::Invalid
            };
        }
        NanpTable { cells }
    }

    /// `Some(valid)` when the table knows, `None` when the full parser must decide.
    fn lookup(&self, npa: usize) -> Option<bool> {
        match self.cells.get(npa) {
            Some(NanpCell::Valid) => Some(true),
            Some(NanpCell::Invalid) | None => Some(false),
            Some(NanpCell::Undecided) => None,
        }
    }
}

/// [`NanpTable::probe`]'s answer for the phonenumber release in Cargo.lock, one character per
/// area code 000–999 (`V` valid, `.` invalid, `?` undecided). Probing costs about a second of
/// CPU per process; `the_nanp_table_is_what_libphonenumber_says` re-probes and compares, so a
/// phonenumber update that changes the metadata fails the tests until this is regenerated.
const NANP_CELLS: [&str; 10] = [
    "....................................................................................................",
    "....................................................................................................",
    ".VVVVVVVVVV.VVVVVVVVV..VVVVVVV.V..VVV..VV.?...?.VVVVVVV.VV..V.VV?..V?VV.V.?.V..V.V.V?....V..........",
    ".VVVVVVVVVV.VVVVVVVVVV.VVVVV.VVVV.V.VV.V?V.V.?VV..VVVVV.....VV.VVV.VVV..........V.V..VV.............",
    ".VVVVVVVVVV.VVVVVVVV...VVV..V.VVV.VV.VV.V?VV.V.VV.V.......V....VV...VVV.??VV..VVV...V...............",
    "VVVVVVVVVVV.VVVVVVVVVVV??VVVVVVVVVV....VVV..V...V..V.....V.V.VVVV.VV..VVVVVV.V.VVVV.VVVVV...........",
    "VVVVVVVVVVV.VVVVVVVVV.VV..V.VVVV.V..V..VVV...VVV.?VV....VVVVVVV.?..V.V??V.....V.VVVV?.V..V..........",
    ".VVVVVVVVV..VVVVVVVVV?..VVVVV.VVV.V..VV.V.VV...VV....VV..V?.V.VV.V.?.VVVVVVV..VVVVV.?VVV............",
    "VVVVVVVVV?V.VVVVVVVVVV...VV.V?VVVV.V..VVV..VVV.VV?V...VVVVVVV.VVVVVV??V.VV..?VVV........V...........",
    "VVVVVVVVVVV.VVVVVVVVV....V..VVVV..V.VVVVVVVV.V.VVV.VV.V.V..V..........VVVV.V..VVV..?VVV..V..........",
];

pub static NANP: LazyLock<NanpTable> = LazyLock::new(|| NanpTable {
    cells: NANP_CELLS
        .iter()
        .flat_map(|row| row.bytes())
        .map(|b| match b {
            b'V' => NanpCell::Valid,
            b'?' => NanpCell::Undecided,
            _ => NanpCell::Invalid,
        })
        .collect(),
});

/// What a scrub replaced, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrubCounts {
    pub pans: u32,
    pub phones: u32,
    pub emails: u32,
    pub member_ids: u32,
    pub accounts: u32,
}

impl ScrubCounts {
    pub fn total(&self) -> u32 {
        self.pans + self.phones + self.emails + self.member_ids + self.accounts
    }
}

/// Replaces spans of a text with a token; `None` when there are none.
fn replace_spans(text: &str, spans: &[(usize, usize)], token: &str) -> Option<String> {
    if spans.is_empty() {
        return None;
    }
    let mut o = String::with_capacity(text.len());
    let mut last = 0;
    for &(start, end) in spans {
        o.push_str(&text[last..start]);
        o.push_str(token);
        last = end;
    }
    o.push_str(&text[last..]);
    Some(o)
}

/// Labels agents write before an account number, longest first (`a/c` is the banker's
/// abbreviation).
const ACCOUNT_LABELS: [&[u8]; 3] = [b"account", b"acct", b"a/c"];
/// Words that may sit between the label and the number (`Account no. 1234…`).
const ACCOUNT_FILLERS: [&[u8]; 4] = [b"number", b"num", b"nr", b"no"];

fn starts_with_ignore_case(b: &[u8], word: &[u8]) -> bool {
    b.len() >= word.len() && b[..word.len()].eq_ignore_ascii_case(word)
}

/// Error in a detector setting, naming the setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectorError {
    #[error("{field}: invalid regular expression: {message}")]
    BadPattern {
        field: &'static str,
        message: String,
    },
    #[error("default_region: `{0}` is not a two-letter region code (e.g. US, GB, DE)")]
    BadRegion(String),
}

/// How many compiled patterns libphonenumber's metadata may keep. The crate compiles its
/// patterns lazily into one cache of 100, but reading a single `+1` number walks the patterns of
/// all 25 North-American regions (about 250), so with 100 every Caribbean number recompiled
/// regexes (Silver of the 2M-record bench: 5.5-6.1 s, with room for all 5.2-5.3 s). The whole
/// database has about 3,300 patterns; the ones a lake meets are far fewer, and each stays
/// compiled once used.
const PHONE_PATTERN_CACHE: usize = 4096;

/// Gives libphonenumber's shared pattern cache room for [`PHONE_PATTERN_CACHE`] patterns, once
/// per process (replacing the cache drops what it held, so not on every policy load). Called
/// just before the full parser's first use, not when a policy loads: reaching the cache loads
/// the whole metadata database (65 ms on one core), which Silver's start would wait for even
/// on lakes whose numbers the NANP table settles.
fn widen_phonenumber_regex_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let cache = phonenumber::metadata::DATABASE.cache();
        // A poisoned lock means a pattern panicked mid-match elsewhere; the cache is then
        // left as the crate made it, which is slower but still correct.
        if let Ok(mut guard) = cache.lock() {
            *guard = regex_cache::RegexCache::new(PHONE_PATTERN_CACHE);
        }
    });
}

/// The detectors of one policy.
#[derive(Debug, Clone)]
pub struct Detectors {
    region: phonenumber::country::Id,
    member_id: IdPattern,
    member_id_in_text: WordPattern,
    account_number: IdPattern,
}

impl Detectors {
    pub fn new(
        default_region: &str,
        member_id_pattern: &str,
        account_number_pattern: &str,
    ) -> Result<Self, DetectorError> {
        let region = phonenumber::country::Id::from_str(default_region.trim())
            .map_err(|_| DetectorError::BadRegion(default_region.to_string()))?;
        let bad = |field: &'static str| {
            move |e: regex::Error| DetectorError::BadPattern {
                field,
                message: e.to_string(),
            }
        };
        let member_id = IdPattern::new(member_id_pattern).map_err(bad("member_id_pattern"))?;
        // The same pattern, found inside text: drop the anchors, require word boundaries.
        let inner = member_id_pattern
            .trim_start_matches('^')
            .trim_end_matches('$');
        let member_id_in_text = WordPattern::new(inner).map_err(bad("member_id_pattern"))?;
        let account_number =
            IdPattern::new(account_number_pattern).map_err(bad("account_number_pattern"))?;
        Ok(Detectors {
            region,
            member_id,
            member_id_in_text,
            account_number,
        })
    }

    /// The phone in E.164 if it is a valid number (national numbers read in the default
    /// region). `tel:` prefixes are accepted.
    pub fn phone_e164(&self, raw: &str) -> Option<String> {
        let s = phone_text(raw);
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        if !(7..=15).contains(&digits) || s.bytes().any(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        if let Some(answer) = self.nanp_fast_path(s) {
            return answer;
        }
        widen_phonenumber_regex_cache();
        // A number written with its country code is read without a default region: given
        // one, the phonenumber crate also strips the *other* country's national prefix, so
        // `+55 11 98456 5666` lost its area code and failed validation (Presidio's vectors).
        let region = (!s.starts_with('+')).then_some(self.region);
        let n = phonenumber::parse(region, s).ok()?;
        phonenumber::is_valid(&n).then(|| n.format().mode(phonenumber::Mode::E164).to_string())
    }

    /// North-American numbers (country code 1) decided from a table of valid area codes that
    /// libphonenumber itself produced (see [`NANP`]); `None` when the number is not plainly
    /// NANP-shaped and needs the full parser. libphonenumber keeps its patterns behind one
    /// global lock, and free text is full of digit runs, so this keeps scrubbing fast.
    fn nanp_fast_path(&self, s: &str) -> Option<Option<String>> {
        // Only plain shapes: digits with the usual separators, an optional leading +.
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'+'))
        {
            return None;
        }
        let plus = s.trim_start().starts_with('+');
        // The digits, on the stack: at most 13 of them can make a NANP number, so the rest
        // are only counted.
        let mut d = [0u8; 13];
        let mut n = 0usize;
        for b in s.bytes().filter(u8::is_ascii_digit) {
            if let Some(slot) = d.get_mut(n) {
                *slot = b - b'0';
            }
            n += 1;
        }
        let first = (n > 0).then_some(d[0]);
        // libphonenumber's US data holds seven-digit 310 numbers (310-xxxx service lines),
        // also after one or two leading 1s: the full parser reads those.
        let ones = d.iter().take(2.min(n)).take_while(|x| **x == 1).count();
        if n - ones == 7 && d[ones..ones + 3] == [3, 1, 0] {
            return None;
        }
        let national: &[u8] = match (plus, n, first) {
            (true, 11, Some(1)) => &d[1..11],
            (true, _, _) => return None,
            (false, _, _) if !self.region_is_nanp() => return None,
            (false, 10, _) => &d[..10],
            (false, 11, Some(1)) => &d[1..11],
            // A doubled long-distance prefix before ten digits: libphonenumber reads the
            // first 1 as the country code and the second as the national prefix, and
            // `111` before ten digits the same way after one more 1. Order numbers in notes
            // start with 11 often enough that sending them all to the full parser cost a
            // twentieth of Silver (agreement-tested below).
            (false, 12, Some(1)) if d[1] == 1 => &d[2..12],
            (false, 13, Some(1)) if d[1..3] == [1, 1] => &d[3..13],
            // 011 is the international dialling prefix, and other lengths after 11 have
            // rare readings of their own: the full parser reads those.
            (false, _, Some(0 | 1))
                if (n >= 3 && d[..3] == [0, 1, 1]) || (n >= 2 && d[..2] == [1, 1]) =>
            {
                return None;
            }
            // Otherwise a leading 0 or 1 leaves a national number that is not 10 digits long:
            // invalid (agreement-tested against libphonenumber below).
            (false, _, Some(0 | 1)) => return Some(None),
            // Any other length is no North-American number.
            (false, _, _) => return Some(None),
        };
        let npa = usize::from(national[0]) * 100
            + usize::from(national[1]) * 10
            + usize::from(national[2]);
        let valid = national[0] >= 2 && NANP.lookup(npa)? && national[3] >= 2;
        Some(valid.then(|| {
            let mut e = String::with_capacity(12);
            e.push_str("+1");
            e.extend(national.iter().map(|x| char::from(b'0' + x)));
            e
        }))
    }

    fn region_is_nanp(&self) -> bool {
        use phonenumber::country::Id;
        matches!(self.region, Id::US | Id::CA)
    }

    pub fn is_member_id(&self, raw: &str) -> bool {
        self.member_id.is_match(raw.trim())
    }

    pub fn is_account_number(&self, raw: &str) -> bool {
        self.account_number.is_match(raw.trim())
    }

    /// Validates a value for a column detector.
    pub fn validates(&self, detector: Detector, raw: &str) -> bool {
        match detector {
            Detector::Phone => self.phone_e164(raw).is_some(),
            Detector::Pan => pan_digits(raw).is_some(),
            Detector::MemberId => self.is_member_id(raw),
            Detector::AccountNumber => self.is_account_number(raw),
            Detector::Email => EMAIL_WHOLE.is_match(raw.trim()),
            Detector::FreeText => !raw.trim().is_empty(),
        }
    }

    /// Replaces PII spans in free text with typed tokens. `phones` caches phone validation
    /// across calls (the same numbers recur in a lake). Text without PII comes back borrowed:
    /// most notes hold none, and copying each one cost more than checking it.
    pub fn scrub<'t>(
        &self,
        text: &'t str,
        phones: &mut PhoneCache,
    ) -> (std::borrow::Cow<'t, str>, ScrubCounts) {
        use std::borrow::Cow;
        let mut counts = ScrubCounts::default();
        let step1 = if text.contains('@') {
            EMAIL.replace_all(text, |_: &regex::Captures<'_>| {
                counts.emails += 1;
                "[EMAIL]"
            })
        } else {
            Cow::Borrowed(text)
        };
        let mut ids = self.member_id_in_text.find_spans(&step1);
        ids.retain(|&(start, end)| !cuts_identifier(&step1, start, end));
        counts.member_ids += ids.len() as u32;
        let step2 = match replace_spans(&step1, &ids, "[MEMBER_ID]") {
            Some(o) => Cow::Owned(o),
            None => step1,
        };
        // Account numbers are found by their label: bare, they look like any other number.
        let accounts = self.labelled_accounts(&step2);
        counts.accounts += accounts.len() as u32;
        let step2 = match replace_spans(&step2, &accounts, "[ACCOUNT]") {
            Some(o) => Cow::Owned(o),
            None => step2,
        };
        // The output is only built once a digit run actually changes.
        let mut out: Option<String> = None;
        let mut last = 0;
        for (start, end) in digit_runs(&step2) {
            if cuts_identifier(&step2, start, end) {
                continue;
            }
            if let Some(replaced) = self.scrub_digit_run(&step2[start..end], phones, &mut counts) {
                let o = out.get_or_insert_with(|| String::with_capacity(step2.len()));
                o.push_str(&step2[last..start]);
                o.push_str(&replaced);
                last = end;
            }
        }
        let scrubbed = match out {
            None => step2,
            Some(mut o) => {
                o.push_str(&step2[last..]);
                Cow::Owned(o)
            }
        };
        (scrubbed, counts)
    }

    /// Personal data showing through an identifier (a feed that uses the caller's e-mail or
    /// phone as its contact id): an e-mail, or a phone written as one (`+…`, a `tel:` or
    /// `sip:` URI, or digits with separators). Bare digit strings are platform ids, not
    /// phones, and UUIDs are not looked into.
    pub fn identifier_pii(&self, value: &str, phones: &mut PhoneCache) -> ScrubCounts {
        let mut counts = ScrubCounts::default();
        let v = value.trim();
        if v.contains('@') && EMAIL.is_match(v) {
            counts.emails = 1;
        }
        let number = phone_text(v);
        let written_as_phone = number.len() < v.len()
            || number.starts_with('+')
            || number
                .bytes()
                .any(|b| matches!(b, b' ' | b'-' | b'.' | b'(' | b')'));
        if written_as_phone && phones.e164(self, number).is_some() {
            counts.phones = 1;
        }
        counts
    }

    /// Account numbers written after their label (`acct 12345678`, `Account no. 1234-5678-90`,
    /// `a/c: 12345678`): the digits that follow, when they match the policy's account pattern
    /// once their separators are removed. Text without a digit is passed over at once.
    fn labelled_accounts(&self, text: &str) -> Vec<(usize, usize)> {
        let b = text.as_bytes();
        let mut spans = Vec::new();
        if !b.iter().any(u8::is_ascii_digit) {
            return spans;
        }
        let word_edge = |i: usize| i >= b.len() || !b[i].is_ascii_alphanumeric();
        for i in memchr::memchr2_iter(b'a', b'A', b) {
            if i > 0 && b[i - 1].is_ascii_alphanumeric() {
                continue;
            }
            let Some(label) = ACCOUNT_LABELS
                .iter()
                .find(|l| starts_with_ignore_case(&b[i..], l) && word_edge(i + l.len()))
            else {
                continue;
            };
            let mut j = i + label.len();
            let skip = |j: &mut usize| {
                while *j < b.len() && matches!(b[*j], b' ' | b'.' | b':' | b'#' | b'-') {
                    *j += 1;
                }
            };
            skip(&mut j);
            if let Some(f) = ACCOUNT_FILLERS
                .iter()
                .find(|f| starts_with_ignore_case(&b[j..], f) && word_edge(j + f.len()))
            {
                j += f.len();
                skip(&mut j);
            }
            let mut k = j;
            let mut last_digit = None;
            while k < b.len() && (b[k].is_ascii_digit() || matches!(b[k], b' ' | b'-')) {
                if b[k].is_ascii_digit() {
                    last_digit = Some(k);
                }
                k += 1;
            }
            let Some(end) = last_digit.map(|d| d + 1) else {
                continue;
            };
            if !word_edge(end) || spans.last().is_some_and(|(_, e)| *e > j) {
                continue;
            }
            let digits: String = text[j..end].chars().filter(char::is_ascii_digit).collect();
            if self.is_account_number(&digits) {
                spans.push((j, end));
            }
        }
        spans
    }

    /// A digit run may hold a card number, a phone, both, or neither: look at its groups
    /// (split on separators) and replace the longest valid stretch at each position. `None`
    /// when nothing in the run is PII.
    fn scrub_digit_run(
        &self,
        run: &str,
        phones: &mut PhoneCache,
        counts: &mut ScrubCounts,
    ) -> Option<String> {
        // One unbroken group (order and ticket numbers) is the common case: no group list.
        let single = [(0, run.len())];
        let many;
        let groups: &[(usize, usize)] = if run.bytes().all(|b| b.is_ascii_digit()) {
            &single
        } else {
            many = group_bounds(run);
            &many
        };
        let mut out: Option<String> = None;
        let mut i = 0;
        let mut copied_to = 0;
        while i < groups.len() {
            let mut matched = None;
            for j in (i + 1..=groups.len()).rev() {
                let span = &run[groups[i].0..groups[j - 1].1];
                if pan_digits(span).is_some() {
                    matched = Some((j, "[PAN]"));
                    break;
                }
                let digits = span.bytes().filter(u8::is_ascii_digit).count();
                if (10..=15).contains(&digits) && phones.e164(self, span).is_some() {
                    matched = Some((j, "[PHONE]"));
                    break;
                }
            }
            match matched {
                Some((j, token)) => {
                    let o = out.get_or_insert_with(String::new);
                    o.push_str(&run[copied_to..groups[i].0]);
                    o.push_str(token);
                    copied_to = groups[j - 1].1;
                    if token == "[PAN]" {
                        counts.pans += 1;
                    } else {
                        counts.phones += 1;
                    }
                    i = j;
                }
                None => i += 1,
            }
        }
        let mut o = out?;
        o.push_str(&run[copied_to..]);
        Some(o)
    }
}

/// The number inside a phone value as exports write it: `tel:+13175550123`,
/// `sip:+13175550123@10.1.2.3;user=phone` (Genesys `ani`), or the number itself. URI
/// parameters (`;user=phone`, `;ext=22`) and a SIP host are not part of the number.
pub fn phone_text(raw: &str) -> &str {
    let s = raw.trim();
    let lower = |p: &str| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p);
    let s = if lower("tel:") {
        &s[4..]
    } else if lower("sips:") {
        s[5..].split('@').next().unwrap_or_default()
    } else if lower("sip:") {
        s[4..].split('@').next().unwrap_or_default()
    } else {
        return s;
    };
    s.split(';').next().unwrap_or_default().trim()
}

/// Whether replacing `text[start..end]` would cut an identifier into pieces. Identifiers are
/// left whole: a span that overlaps a UUID, that is glued without a separator into a hex id
/// (`aed4111111111111111` in a recording name), or that is only part of a URL or path
/// segment. A span that is a whole word, or a whole URL segment (`?phone=+13175550123`), is
/// replaced as usual. Called only for a span a detector found, so it costs nothing on text
/// without PII.
fn cuts_identifier(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let in_token = |c: u8| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'_'
                    | b'.'
                    | b'/'
                    | b':'
                    | b'%'
                    | b'?'
                    | b'='
                    | b'&'
                    | b'#'
                    | b'~'
                    | b'+'
                    | b'@'
            )
    };
    let mut ts = start;
    while ts > 0 && in_token(b[ts - 1]) {
        ts -= 1;
    }
    let mut te = end;
    while te < b.len() && in_token(b[te]) {
        te += 1;
    }
    // Sentence punctuation after a word is not part of it.
    while te > end && matches!(b[te - 1], b'.' | b',' | b':' | b'?' | b'!') {
        te -= 1;
    }
    if (ts, te) == (start, end) {
        return false;
    }
    let token = &text[ts..te];
    let is_url = token.contains("://")
        || token.starts_with('/')
        || token.starts_with("www.")
        || token.bytes().filter(|c| *c == b'/').count() >= 2;
    if is_url {
        let delim = |c: &u8| matches!(c, b'/' | b'?' | b'&' | b'=' | b'#' | b';');
        let seg_start = b[ts..start]
            .iter()
            .rposition(delim)
            .map_or(ts, |i| ts + i + 1);
        let seg_end = b[end..te].iter().position(delim).map_or(te, |i| end + i);
        return (seg_start, seg_end) != (start, end);
    }
    if uuid_spans(token).any(|(us, ue)| ts + us < end && start < ts + ue) {
        return true;
    }
    // A hex id: the span glued (no separator) to hex letters, the whole stretch of hex digits
    // standing alone between non-alphanumeric characters.
    let glued = (start > ts && b[start - 1].is_ascii_alphanumeric())
        || (end < te && b[end].is_ascii_alphanumeric());
    if !glued {
        return false;
    }
    let mut hs = start;
    while hs > ts && b[hs - 1].is_ascii_hexdigit() {
        hs -= 1;
    }
    let mut he = end;
    while he < te && b[he].is_ascii_hexdigit() {
        he += 1;
    }
    let bounded = (hs == 0 || !b[hs - 1].is_ascii_alphanumeric())
        && (he == b.len() || !b[he].is_ascii_alphanumeric());
    let stretch = &b[hs..he];
    bounded
        && stretch.len() >= 12
        && stretch.iter().any(u8::is_ascii_alphabetic)
        && b[start..end].iter().all(|c| c.is_ascii_hexdigit())
}

/// Byte ranges of the UUIDs (8-4-4-4-12 hex digits) in a text.
fn uuid_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
    let b = text.as_bytes();
    let at = move |i: usize| -> bool {
        let mut p = i;
        for (k, n) in SHAPE.iter().enumerate() {
            if k > 0 {
                if b.get(p) != Some(&b'-') {
                    return false;
                }
                p += 1;
            }
            if p + n > b.len() || !b[p..p + n].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            p += n;
        }
        true
    };
    (0..b.len().saturating_sub(35))
        .filter(move |i| (*i == 0 || !b[i - 1].is_ascii_hexdigit()) && at(*i))
        .map(|i| (i, i + 36))
}

/// Byte ranges of the digit groups of a run, with a leading `+` or `(` kept with its group.
fn group_bounds(run: &str) -> Vec<(usize, usize)> {
    let b = run.as_bytes();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            || ((b[i] == b'+' || b[i] == b'(') && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b')') {
                i += 1;
            }
            let end = if b[i - 1] == b')' && !run[start..i].contains('(') {
                i - 1
            } else {
                i
            };
            groups.push((start, end));
        } else {
            i += 1;
        }
    }
    groups
}

/// The digits of a card number: 13–19 digits (spaces and dashes allowed) passing Luhn.
pub fn pan_digits(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-')
    {
        return None;
    }
    // Most digit runs in text are too short or too long: decide that before building a string.
    if !(13..=19).contains(&s.bytes().filter(u8::is_ascii_digit).count()) {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (plausible_issuer(digits.as_bytes()) && luhn(&digits)).then_some(digits)
}

/// Whether a card number's leading digits and length belong to a card network (ISO/IEC 7812
/// issuer ranges): Luhn alone takes one digit run in ten, and no network issues 13-digit
/// numbers starting with 1 (UATP's 15-digit `1…` cards do exist). Ranges: UATP 1 (15 digits);
/// Mastercard 2221–2720 and Mir 2200–2204; Diners 30, 36, 38–39, Amex 34/37, JCB 35; Visa 4;
/// Mastercard, Maestro and Dankort 5; Discover, Maestro, UnionPay and RuPay 6; UnionPay 81
/// and RuPay 82; Troy 9792. `digits` holds 13 to 19 ASCII digits.
fn plausible_issuer(digits: &[u8]) -> bool {
    let prefix = |k: usize| {
        digits[..k]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    match digits[0] {
        b'1' => digits.len() == 15,
        b'2' => matches!(prefix(4), 2200..=2204 | 2221..=2720),
        b'3' => matches!(prefix(2), 30 | 34..=39),
        b'4' | b'5' | b'6' => true,
        b'8' => matches!(prefix(2), 81 | 82),
        b'9' => prefix(4) == 9792,
        _ => false,
    }
}

/// The Luhn checksum over a string of ASCII digits.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// Memo of phone normalisation and hashing: libphonenumber parsing and the keyed hash are the
/// costliest steps of masking and callers recur, so each worker keeps the answers it has seen
/// (see [`with_phone_cache`], which keeps one per thread for a whole run).
#[derive(Default)]
pub struct PhoneCache {
    /// Which masker (key and policy) the remembered hashes belong to.
    owner: u64,
    /// E.164 form of numbers the full parser had to read.
    map: AHashMap<String, Option<String>>,
    /// Keyed hashes of E.164 numbers (the phone column and customer_key share them).
    hashes: ahash::AHashSet<KeyEntry>,
    /// Keyed hash of a phone value exactly as written (`None`: not a valid number), so a
    /// caller seen before costs one lookup. This lookup is on every row, and the table
    /// outgrows the core's cache (10,000 callers): so each entry holds its key and raw digest
    /// in one cache line, where a boxed key or a hex digest beside the key cost a miss more.
    keys: ahash::AHashSet<KeyEntry>,
}

impl std::fmt::Debug for PhoneCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneCache")
            .field("owner", &self.owner)
            .field("parsed", &self.map.len())
            .field("hashes", &self.hashes.len())
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// A memo key held inline: phone numbers as written are short, and a longer value is simply
/// not remembered.
#[derive(Clone, Copy, PartialEq, Eq)]
struct ShortKey {
    len: u8,
    bytes: [u8; SHORT_KEY],
}

/// The longest value a memo remembers: `+1 (317) 555-0123 x1234` fits.
const SHORT_KEY: usize = 23;

impl ShortKey {
    fn new(s: &str) -> Option<ShortKey> {
        let mut bytes = [0u8; SHORT_KEY];
        bytes.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        Some(ShortKey {
            len: s.len() as u8,
            bytes,
        })
    }
}

impl std::hash::Hash for ShortKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The unused tail is always zero, so hashing the used bytes is enough.
        state.write(&self.bytes[..usize::from(self.len)]);
    }
}

/// One memo entry: a key and its keyed hash (`None`: not a valid number), 57 bytes padded
/// to exactly one cache line. Found by its key alone (equality and hash look at the key).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct KeyEntry {
    key: ShortKey,
    digest: Option<[u8; 32]>,
}

impl PartialEq for KeyEntry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for KeyEntry {}

impl std::hash::Hash for KeyEntry {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl std::borrow::Borrow<ShortKey> for KeyEntry {
    fn borrow(&self) -> &ShortKey {
        &self.key
    }
}

/// Entries a memo map holds before it starts over: bounds memory on lakes with millions of
/// distinct callers (64 to 100 bytes an entry). The budget is shared by the worker threads,
/// so a many-core machine does not keep a full memo on each.
static MEMO_CAP: LazyLock<usize> =
    LazyLock::new(|| (400_000 / rayon::current_num_threads().max(1)).max(20_000));

/// Adds (or replaces) a memo entry.
fn remember(set: &mut ahash::AHashSet<KeyEntry>, entry: KeyEntry) {
    if set.len() >= *MEMO_CAP {
        set.clear();
    }
    set.replace(entry);
}

impl PhoneCache {
    pub fn e164(&mut self, d: &Detectors, raw: &str) -> Option<String> {
        // Numbers the NANP table decides are cheap: only what the full parser had to read is
        // remembered, so unique digit runs in free text do not fill the cache.
        if let Some(answer) = d.nanp_fast_path(phone_text(raw)) {
            return answer;
        }
        if let Some(hit) = self.map.get(raw) {
            return hit.clone();
        }
        let v = d.phone_e164(raw);
        if self.map.len() >= *MEMO_CAP {
            self.map.clear();
        }
        self.map.insert(raw.to_string(), v.clone());
        v
    }

    /// `hash(e164)`, remembered.
    pub fn hash_of(&mut self, e164: &str, hash: impl FnOnce(&str) -> [u8; 32]) -> HexDigest {
        HexDigest::of(&self.digest_of(e164, hash))
    }

    fn digest_of(&mut self, e164: &str, hash: impl FnOnce(&str) -> [u8; 32]) -> [u8; 32] {
        let Some(key) = ShortKey::new(e164) else {
            return hash(e164);
        };
        if let Some(d) = self.hashes.get(&key).and_then(|e| e.digest) {
            return d;
        }
        let d = hash(e164);
        remember(
            &mut self.hashes,
            KeyEntry {
                key,
                digest: Some(d),
            },
        );
        d
    }

    /// The keyed hash of a phone's E.164 form (`None` when it is no valid number), by the
    /// value as written.
    pub fn key_of(
        &mut self,
        d: &Detectors,
        raw: &str,
        hash: impl FnOnce(&str) -> [u8; 32],
    ) -> Option<HexDigest> {
        let k = ShortKey::new(raw);
        if let Some(hit) = k.and_then(|k| self.keys.get(&k)) {
            return hit.digest.as_ref().map(HexDigest::of);
        }
        let digest = self.e164(d, raw).map(|e| self.digest_of(&e, hash));
        if let Some(key) = k {
            remember(&mut self.keys, KeyEntry { key, digest });
        }
        digest.as_ref().map(HexDigest::of)
    }
}

thread_local! {
    static THREAD_PHONES: std::cell::RefCell<PhoneCache> = std::cell::RefCell::default();
}

/// Empties this thread's phone memo (a run is over; the app stays open).
pub fn clear_thread_phone_cache() {
    THREAD_PHONES.with(|cell| {
        if let Ok(mut c) = cell.try_borrow_mut() {
            *c = PhoneCache::default();
        }
    });
}

/// Runs `f` with this thread's phone memo for the masker `owner` (see
/// [`super::masking::Masker::id`]); a memo left by another masker is cleared first, as its
/// hashes were made with another key. Silver's workers keep theirs across chunks and dates,
/// where a memo per chunk re-hashed half the callers. `f` must not re-enter (it gets a fresh
/// memo if it does).
pub fn with_phone_cache<R>(owner: u64, f: impl FnOnce(&mut PhoneCache) -> R) -> R {
    THREAD_PHONES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut c) => {
            if c.owner != owner {
                *c = PhoneCache {
                    owner,
                    ..PhoneCache::default()
                };
            }
            f(&mut c)
        }
        Err(_) => f(&mut PhoneCache::default()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Detectors {
        Detectors::new("US", r"^[A-Za-z]{2,4}[0-9]{6,12}$", r"^[0-9]{8,17}$").unwrap()
    }

    #[test]
    fn pans_need_luhn_and_length() {
        assert_eq!(
            pan_digits("4111 1111 1111 1111").as_deref(),
            Some("4111111111111111")
        );
        assert!(pan_digits("4111-1111-1111-1111").is_some());
        assert!(pan_digits("378282246310005").is_some()); // Amex, 15
        assert!(pan_digits("4111111111111112").is_none()); // Luhn fails
        assert!(pan_digits("411111111111").is_none()); // 12 digits
        assert!(pan_digits("N/A").is_none());
        assert!(pan_digits("").is_none());
        assert!(pan_digits("4111 1111 1111 111x").is_none());
    }

    #[test]
    fn phones_normalise_to_e164() {
        let d = d();
        for raw in [
            "+1 317-555-0123",
            "(317) 555-0123",
            "317.555.0123",
            "3175550123",
            "tel:+13175550123",
            "+13175550123",
        ] {
            assert_eq!(d.phone_e164(raw).as_deref(), Some("+13175550123"), "{raw}");
        }
        assert_eq!(
            d.phone_e164("+44 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            d.phone_e164("+49 30 901820").as_deref(),
            Some("+4930901820")
        );
        for bad in ["N/A", "", "tel:anonymous", "12", "384729384729", "555-0123"] {
            assert_eq!(d.phone_e164(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_nanp_table_is_what_libphonenumber_says() {
        let probed = NanpTable::probe();
        for (npa, (want, have)) in probed.cells.iter().zip(&NANP.cells).enumerate() {
            assert_eq!(want, have, "area code {npa:03}: regenerate NANP_CELLS");
        }
        assert_eq!(probed.cells.len(), NANP.cells.len());
    }

    #[test]
    fn the_nanp_fast_path_agrees_with_libphonenumber() {
        use rand::{Rng, SeedableRng};
        let d = d();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut checked = 0;
        for i in 0..21_000 {
            let n: u64 = rng.random_range(1_000_000_000..10_000_000_000);
            let long: u64 = rng.random_range(100_000_000_000..1_000_000_000_000);
            let forms = [
                format!("{n}"),
                format!("+1{n}"),
                format!("1{n}"),
                format!("({}) {}-{}", n / 10_000_000, n / 10_000 % 1000, n % 10_000),
                format!("{long}"),
                format!("{}", n / 100),
                // Leading 0 or 1 with any length, as order numbers in notes have.
                format!("1{long}"),
                format!("0{n}"),
                format!("1{}", n / 10),
                format!("0{}", long / 10),
                format!("01{long}"),
                format!("10{}", n / 1000),
                format!("11{n}"),
                format!("11{}", n / 10),
                format!("11{:09}", n % 1_000_000),
                format!("111{n}"),
                format!("11{long}"),
                format!("11 {}-{}", n / 10_000, n % 10_000),
                format!("011{}", n / 10),
                format!("{}", n / 1000),
                format!("310{}", n % 10_000),
                format!("1310-{:04}", n % 10_000),
                format!("11310{:04}", n % 10_000),
            ];
            let form = &forms[i % forms.len()];
            let slow = phonenumber::parse(Some(phonenumber::country::Id::US), form)
                .ok()
                .filter(phonenumber::is_valid)
                .map(|p| p.format().mode(phonenumber::Mode::E164).to_string());
            if let Some(fast) = d.nanp_fast_path(form) {
                assert_eq!(fast, slow, "{form}");
                checked += 1;
            }
        }
        assert!(
            checked > 15_000,
            "the fast path decides most numbers ({checked})"
        );
    }

    #[test]
    fn digit_runs_match_the_pattern() {
        use rand::{Rng, SeedableRng};
        let pattern = Regex::new(r"\+?\(?[0-9][0-9 \t().\-]{4,}[0-9]").unwrap();
        let alphabet = [
            "0", "1", "5", "9", " ", "\t", "(", ")", ".", "-", "+", "a", "é", "٣", "/", "12345",
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut found = 0;
        for _ in 0..20_000 {
            let len = rng.random_range(0..40);
            let text: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let want: Vec<(usize, usize)> = pattern
                .find_iter(&text)
                .map(|m| (m.start(), m.end()))
                .collect();
            let have: Vec<(usize, usize)> = digit_runs(&text).collect();
            assert_eq!(have, want, "{text:?}");
            found += want.len();
        }
        assert!(found > 5_000, "the texts hold runs ({found})");
    }

    #[test]
    fn ids_follow_their_patterns() {
        let d = d();
        assert!(d.is_member_id("MBR123456789"));
        assert!(!d.is_member_id("N/A"));
        assert!(d.is_account_number("1234567890"));
        assert!(!d.is_account_number("12-34"));
        assert!(Detectors::new("US", "([", "x").is_err());
        assert!(matches!(
            Detectors::new("USA", "x", "x"),
            Err(DetectorError::BadRegion(_))
        ));
    }

    #[test]
    fn scrubbing_replaces_pii_and_keeps_look_alikes() {
        let d = d();
        let mut c = PhoneCache::default();
        let (s, n) = d.scrub(
            "Member MBR123456789 read card 4111 1111 1111 1111 to pay; callback (317) 555-0123, email jo.doe@example.com. Order 384729384729, ref 4821 9930 1123 4567.",
            &mut c,
        );
        assert_eq!(
            s,
            "Member [MEMBER_ID] read card [PAN] to pay; callback [PHONE], email [EMAIL]. Order 384729384729, ref 4821 9930 1123 4567."
        );
        assert_eq!((n.pans, n.phones, n.emails, n.member_ids), (1, 1, 1, 1));
        // A PAN followed by more digits is still found.
        let (s, _) = d.scrub("card 4111111111111111 1234", &mut c);
        assert_eq!(s, "card [PAN] 1234");
        let (s, n) = d.scrub("nothing to see, ticket 12345", &mut c);
        assert_eq!((&*s, n.total()), ("nothing to see, ticket 12345", 0));
        assert!(
            matches!(s, std::borrow::Cow::Borrowed(_)),
            "unchanged text is not copied"
        );
    }

    /// Microsoft Presidio's own recognizer test vectors (presidio-analyzer tests for the phone
    /// and credit-card recognizers): international numbers written in groups are phones in any
    /// policy region, and the card vectors are cards.
    #[test]
    fn presidio_phone_and_card_vectors() {
        let d = d();
        let mut c = PhoneCache::default();
        for (text, want) in [
            ("_: +55 11 98456 5666", "_: [PHONE]"),
            ("Brazil: +55 11 98456 5666", "Brazil: [PHONE]"),
            ("BR: +55 11 98456 5666", "BR: [PHONE]"),
            (
                "My US number is (415) 555-0132, and my international one is +1 415 555 0132",
                "My US number is [PHONE], and my international one is [PHONE]",
            ),
            ("one is +44 (20) 7123 4567", "one is [PHONE]"),
            ("one is +91 4155 550132", "one is [PHONE]"),
            ("one is +91 4155550132", "one is [PHONE]"),
            ("one is +49 30 1234567", "one is [PHONE]"),
            ("one is +39 06 678 4343", "one is [PHONE]"),
            ("Call +33 1 42 68 53 00.", "Call [PHONE]."),
            ("Call +33.1.42.68.53.00.", "Call [PHONE]."),
            ("Call +30 21 0 1234567.", "Call [PHONE]."),
            ("Call +81 3 3239 0321.", "Call [PHONE]."),
            ("US: 415-555-0132", "US: [PHONE]"),
            ("_: (415)555-0132", "_: [PHONE]"),
        ] {
            let (s, n) = d.scrub(text, &mut c);
            assert_eq!(s, want, "{text}");
            assert_eq!(n.phones as usize, want.matches("[PHONE]").count(), "{text}");
        }
        for e164 in ["+5511984565666", "+33142685300", "+442071234567"] {
            assert_eq!(d.phone_e164(e164).as_deref(), Some(e164));
        }
        for card in [
            "4012888888881881",
            "4012-8888-8888-1881",
            "4012 8888 8888 1881",
            "122000000000003", // UATP (AirPlus), 15 digits starting with 1
            "371449635398431", // Amex
            "5555555555554444",
            "5019717010103742", // Dankort
            "30569309025904",   // Diners, 14 digits
            "6011000400000000", // Discover
            "3528000700000000", // JCB
            "6759649826438453", // Maestro
            "4111111111111111",
            "4917300800000000",
            "4484070000000000",
            "2221000000000009", // Mastercard 2-series
        ] {
            assert!(pan_digits(card).is_some(), "{card}");
            let text = format!("my credit card: {card}");
            let (s, n) = d.scrub(&text, &mut c);
            assert_eq!((s.as_ref(), n.pans), ("my credit card: [PAN]", 1), "{card}");
        }
        for not_a_card in [
            "4012-8888-8888-1882", // Luhn fails
            "36168002586008",      // Luhn fails
            "1234567890128",       // 13 digits starting with 1: Luhn-valid, no network
            "1000000000009",
            "7000000000000007", // 7: petroleum / fleet, not a customer card
            "0000000000000000",
        ] {
            assert!(pan_digits(not_a_card).is_none(), "{not_a_card}");
        }
    }

    #[test]
    fn identifiers_stay_whole() {
        let d = d();
        let mut c = PhoneCache::default();
        for text in [
            // Genesys ids, whose first group can look like a member id (2 letters, 6 digits).
            "division bb150765-0427-47c1-a541-4460d0032ef0 and d72e496f-c880-46a1-a9a1-964553bba379",
            "conv-bb150765-0427-47c1-a541-4460d0032ef0",
            // A recording name whose hex id holds a Luhn-valid run of digits.
            "https://recordings.example.com/2026/10/aed4111111111111111.mp3",
            "see aed4111111111111111ff for the file",
            // A Connect recording location: the contact id, then a time.
            "amazon-connect-fcc603e85e16/connect/kightsCC/CallRecordings/2022/04/08/15a5cf14-3212-45a1-9f86-a8e97db8afaf_20220408T15:00_UTC.wav",
            "/api/v2/recordings/ab123456cd/media",
        ] {
            let (s, n) = d.scrub(text, &mut c);
            assert_eq!((s.as_ref(), n.total()), (text, 0), "{text}");
        }
        // Whole values next to identifiers are still found, and a URL segment that is PII is
        // replaced whole.
        for (text, want) in [
            (
                "caller AB123456 re bb150765-0427-47c1-a541-4460d0032ef0",
                "caller [MEMBER_ID] re bb150765-0427-47c1-a541-4460d0032ef0",
            ),
            (
                "https://crm.example.com/search?phone=+13175550123&card=4111111111111111",
                "https://crm.example.com/search?phone=[PHONE]&card=[PAN]",
            ),
            ("order#4111111111111111", "order#[PAN]"),
            ("card4111111111111111", "card[PAN]"),
            ("card 4111111111111111-exp", "card [PAN]-exp"),
        ] {
            assert_eq!(d.scrub(text, &mut c).0, want, "{text}");
        }
    }

    #[test]
    fn phone_uris_are_read_as_their_number() {
        let d = d();
        for raw in [
            "tel:+13175550123",
            "sip:+13175550123@10.1.2.3;user=phone",
            "sip:+13175550123@edge.example.com",
            "SIP:+13175550123@10.1.2.3",
            "tel:+1-317-555-0123;ext=22",
        ] {
            assert_eq!(d.phone_e164(raw).as_deref(), Some("+13175550123"), "{raw}");
        }
        for raw in [
            "sip:agent.smith@example.com",
            "sip:65a5609eefe87a1b57549613+equatorial.orgspan.com;tgrp=7ec1@localhost",
            "tel:anonymous",
            "2f6a1c1e-2b8e-4b1e-9d3a-0c6e1f2a3b4c",
        ] {
            assert_eq!(d.phone_e164(raw), None, "{raw}");
        }
    }

    #[test]
    fn account_numbers_are_found_by_their_label() {
        let d = d();
        let mut c = PhoneCache::default();
        for (text, want) in [
            ("acct 12345678 closed", "acct [ACCOUNT] closed"),
            (
                "Account no. 1234-5678-90, verified",
                "Account no. [ACCOUNT], verified",
            ),
            (
                "moved funds to a/c: 987654321012",
                "moved funds to a/c: [ACCOUNT]",
            ),
            (
                "ACCOUNT NUMBER 00012345678 frozen",
                "ACCOUNT NUMBER [ACCOUNT] frozen",
            ),
            // Not accounts: too short for the pattern, no label, a word that starts alike.
            ("acct 1234 only", "acct 1234 only"),
            ("order 12345678 shipped", "order 12345678 shipped"),
            ("accounting 12345678", "accounting 12345678"),
        ] {
            let (s, n) = d.scrub(text, &mut c);
            assert_eq!(s, want, "{text}");
            assert_eq!(n.accounts as usize, want.matches("[ACCOUNT]").count());
        }
    }
}
