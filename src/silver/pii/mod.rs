//! PII detectors, each validating before it claims a value: a card number must pass the Luhn
//! check, a phone must normalise to a valid E.164 number (libphonenumber rules via the
//! `phonenumber` crate), member and account numbers must match the policy's patterns. The same
//! detectors scrub free text, replacing spans with `[PAN]`, `[PHONE]`, `[EMAIL]`, `[MEMBER_ID]`
//! while digit runs that fail validation (order numbers, references) stay.

mod card;
mod identifiers;
mod nanp;
mod phone_cache;

use std::str::FromStr;
use std::sync::LazyLock;

pub use card::{luhn, pan_digits};
use identifiers::{cuts_identifier, group_bounds};
pub use nanp::{NANP, NanpTable};
pub use phone_cache::{PhoneCache, clear_thread_phone_cache, with_phone_cache};

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
        let wide = ascii_digits(raw);
        let s = phone_text(&wide);
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
        match ascii_digits(text) {
            Cow::Borrowed(_) => self.scrub_ascii_marks(text, phones),
            // Wide digits are read as ASCII; a text with nothing to replace stays as written.
            Cow::Owned(wide) => {
                let (scrubbed, counts) = self.scrub_ascii_marks(&wide, phones);
                if counts.total() == 0 {
                    (Cow::Borrowed(text), counts)
                } else {
                    (Cow::Owned(scrubbed.into_owned()), counts)
                }
            }
        }
    }

    /// The value's phone when the whole value is one, written with digits and the marks phones
    /// are written with, or as a `tel:`/`sip:` URI (an id like `a3175550123b` holds no phone).
    fn whole_value_phone<'t>(
        &self,
        text: &'t str,
        phones: &mut PhoneCache,
    ) -> Option<(&'t str, String)> {
        let whole = phone_text(text);
        let phone_marks = |c: u8| c.is_ascii_digit() || b" \t+().-/".contains(&c);
        if whole.bytes().filter(u8::is_ascii_digit).count() >= 7 && whole.bytes().all(phone_marks) {
            phones.e164(self, whole).map(|e164| (whole, e164))
        } else {
            None
        }
    }

    /// [`Detectors::scrub`] of a text whose digits are ASCII.
    fn scrub_ascii_marks<'t>(
        &self,
        text: &'t str,
        phones: &mut PhoneCache,
    ) -> (std::borrow::Cow<'t, str>, ScrubCounts) {
        use std::borrow::Cow;
        let mut counts = ScrubCounts::default();
        // A value that is one phone however it is punctuated (`tel:+13+175550123` reads as a
        // number to libphonenumber, but not as one digit run) is replaced whole.
        if let Some((whole, _)) = self.whole_value_phone(text, phones) {
            // `whole` lies inside `text` (`phone_text` only trims and cuts), and holds digits.
            let Some(at) = text.find(whole) else {
                return (Cow::Borrowed(text), counts);
            };
            counts.phones = 1;
            let mut o = String::with_capacity(text.len());
            o.push_str(&text[..at]);
            o.push_str("[PHONE]");
            o.push_str(&text[at + whole.len()..]);
            return (Cow::Owned(o), counts);
        }
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

    /// Every phone number in free text, as E.164: digit runs (with their separators) that
    /// validate, the way [`Detectors::scrub`] finds them, and the whole value when it is a
    /// phone (`tel:`/`sip:` URIs included).
    pub fn phones_in(&self, text: &str, phones: &mut PhoneCache) -> Vec<String> {
        let text = &*ascii_digits(text);
        let mut out = Vec::new();
        if let Some((_, e164)) = self.whole_value_phone(text, phones) {
            out.push(e164);
        }
        let b = text.as_bytes();
        for (start, end) in digit_runs(text) {
            // Digits glued to letters are part of a word or an id, not a phone.
            let glued = |i: Option<usize>| {
                i.and_then(|i| b.get(i))
                    .is_some_and(u8::is_ascii_alphabetic)
            };
            if glued(start.checked_sub(1)) || glued(Some(end)) {
                continue;
            }
            let run = &text[start..end];
            let groups = group_bounds(run);
            for i in 0..groups.len() {
                for j in (i + 1..=groups.len()).rev() {
                    let span = &run[groups[i].0..groups[j - 1].1];
                    let digits = span.bytes().filter(u8::is_ascii_digit).count();
                    if (10..=15).contains(&digits)
                        && let Some(e164) = phones.e164(self, span)
                    {
                        out.push(e164);
                        break;
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Personal data showing through an identifier (a feed that uses the caller's e-mail or
    /// phone as its contact id): an e-mail, or a phone written as one (`+…`, a `tel:` or
    /// `sip:` URI, or digits with separators). Bare digit strings are platform ids, not
    /// phones, and UUIDs are not looked into.
    pub fn identifier_pii(&self, value: &str, phones: &mut PhoneCache) -> ScrubCounts {
        let mut counts = ScrubCounts::default();
        let value = ascii_digits(value);
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
    // `get` rather than indexing: a value may start with any character (`☎+1…`, `(４１５)…`),
    // and a prefix length that falls inside one is simply no prefix.
    let after = |p: &str| {
        s.get(..p.len())
            .filter(|head| head.eq_ignore_ascii_case(p))
            .and_then(|_| s.get(p.len()..))
    };
    let s = if let Some(rest) = after("tel:") {
        rest
    } else if let Some(rest) = after("sips:").or_else(|| after("sip:")) {
        rest.split('@').next().unwrap_or_default()
    } else {
        return s;
    };
    s.split(';').next().unwrap_or_default().trim()
}

/// Digits and phone marks written in other scripts, as ASCII: full-width forms (Japanese and
/// Chinese exports write `（０３）１２３４－５６７８`), the ideographic space, and Arabic-Indic and
/// Devanagari digits. libphonenumber reads all of these as the digits they are, and a masker
/// that did not would let such a phone through unmasked. ASCII text comes back borrowed.
pub fn ascii_digits(text: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if text.is_ascii() || !text.chars().any(|c| to_ascii_mark(c).is_some()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| to_ascii_mark(c).unwrap_or(c))
            .collect(),
    )
}

/// The ASCII character a wide digit or phone mark stands for.
fn to_ascii_mark(c: char) -> Option<char> {
    let digit = |zero: u32| char::from_digit(u32::from(c) - zero, 10);
    match c {
        // Full-width digits, and the marks phones are written with (+ ( ) - . /).
        '\u{FF10}'..='\u{FF19}' => digit(0xFF10),
        '\u{FF0B}' => Some('+'),
        '\u{FF08}' => Some('('),
        '\u{FF09}' => Some(')'),
        '\u{FF0D}' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' => Some('-'),
        '\u{FF0E}' => Some('.'),
        '\u{FF0F}' => Some('/'),
        '\u{3000}' => Some(' '),
        '\u{0660}'..='\u{0669}' => digit(0x0660),
        '\u{06F0}'..='\u{06F9}' => digit(0x06F0),
        '\u{0966}'..='\u{096F}' => digit(0x0966),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
