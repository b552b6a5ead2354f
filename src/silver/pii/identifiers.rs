//! Identifiers a PII span must not cut: UUIDs, hex ids, URL and path segments.

/// Whether replacing `text[start..end]` would cut an identifier into pieces. Identifiers are
/// left whole: a span that overlaps a UUID, that is glued without a separator into a hex id
/// (`aed4111111111111111` in a recording name), or that is only part of a URL or path
/// segment. A span that is a whole word, or a whole URL segment (`?phone=+13175550123`), is
/// replaced as usual. Called only for a span a detector found, so it costs nothing on text
/// without PII.
pub(super) fn cuts_identifier(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    // A number right after `tel:` or `sip:` is a phone wherever the URI stands, a URL's path
    // included.
    let before = &b[..start];
    if [&b"tel:"[..], b"sip:", b"sips:"].iter().any(|scheme| {
        before.len() >= scheme.len()
            && before[before.len() - scheme.len()..].eq_ignore_ascii_case(scheme)
    }) {
        return false;
    }
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
pub(super) fn uuid_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
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
pub(super) fn group_bounds(run: &str) -> Vec<(usize, usize)> {
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
