//! Each platform's canonical mapping and the masking after it, on any record: the bytes are
//! read as Silver reads a Bronze line (strictly, else repaired), mapped as every shape, and
//! every text the mapping hands on is masked and scrubbed. None may panic.

#![no_main]

use std::sync::LazyLock;

use cclake::silver::drift::DriftCollector;
use cclake::silver::masking::{Masker, Policy};
use cclake::silver::pii::PhoneCache;
use cclake::silver::record::Record;
use cclake::sources::Shape;
use libfuzzer_sys::fuzz_target;

static MASKER: LazyLock<Masker> = LazyLock::new(|| {
    let policy = Policy::parse(cclake::config::PRESET_GENERAL).expect("the shipped preset");
    let key = cclake::silver::digest::HmacKey::from_bytes(b"fuzz-key-0123456789abcdef0123456789".to_vec());
    Masker::new(policy, key)
});

fuzz_target!(|data: &[u8]| {
    let repaired;
    let record = match Record::parse(data) {
        Ok(r) => r,
        Err(_) => match cclake::silver::repair::repair(data) {
            Some((text, _)) => {
                repaired = text;
                match Record::parse_str(&repaired) {
                    Ok(r) => r,
                    Err(_) => return,
                }
            }
            None => return,
        },
    };
    let (_, at) = record.facts();
    let at = at.unwrap_or_default();
    let schema = cclake::config::SchemaConfig::default();
    let mut phones = PhoneCache::default();
    for shape in [Shape::Genesys, Shape::Cxone, Shape::Connect, Shape::Generic] {
        let mut drift = DriftCollector::default();
        let row = cclake::silver::canonical::map_record(shape, record.clone(), at, &schema, &mut drift);
        for text in [
            row.phone_number.as_deref(),
            row.member_id.as_deref(),
            row.account_number.as_deref(),
            row.card_number.as_deref(),
            row.notes.as_deref(),
            row.contact_id.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            let _ = MASKER.mask_phone(text, &mut phones, &mut Default::default());
            let _ = MASKER.scrub(text, &mut phones);
            let _ = MASKER.policy.detectors.identifier_pii(text, &mut phones);
        }
    }
});
