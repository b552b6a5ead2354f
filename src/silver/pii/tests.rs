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
