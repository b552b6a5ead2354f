//! The readers on any bytes: the stream reader (NDJSON, arrays, envelopes, values back to
//! back), shape detection of one value, and the repair pass Silver runs on a line strict
//! parsing refuses. None may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut items = 0usize;
    let _ = cclake::sources::reader::read_stream(
        std::io::Cursor::new(data),
        "fuzz input",
        1 << 20,
        |_item| {
            items += 1;
            Ok::<(), std::convert::Infallible>(())
        },
    );
    let _ = cclake::sources::shape::classify(data);
    if let Some((text, _)) = cclake::silver::repair::repair(data) {
        // What repair hands on is text; parsing it may fail for other reasons, never panic.
        let _ = cclake::silver::record::Record::parse_str(&text);
    }
});
