//! Card numbers: issuer ranges and the Luhn check.

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
