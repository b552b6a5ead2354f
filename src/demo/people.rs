//! Customers and agents of the demo contact center, and the PII they carry: phones that recur
//! across sources, member ids, account numbers, Luhn-valid card numbers, e-mail addresses, and
//! the look-alikes that are *not* PII (order numbers, Luhn-invalid 16-digit references).

use rand::Rng;
use rand::seq::IndexedRandom;

/// Real US area codes, so phones normalise and validate like real ones. Every number uses the
/// 555 exchange, which is not assigned to real subscribers.
const AREA_CODES: &[u16] = &[
    317, 312, 415, 212, 617, 404, 713, 206, 303, 602, 503, 612, 214, 305, 702, 919, 704, 615,
];
const FIRST: &[&str] = &[
    "Maria", "James", "Aisha", "Chen", "Olivia", "Diego", "Priya", "Noah", "Fatima", "Liam",
    "Sofia", "Mateo", "Hannah", "Kwame", "Yuki", "Ethan", "Grace", "Omar", "Lena", "Marcus",
];
const LAST: &[&str] = &[
    "Garcia", "Smith", "Okafor", "Wang", "Johnson", "Rossi", "Patel", "Nguyen", "Khan", "Miller",
    "Kowalski", "Haddad", "Brown", "Silva", "Tanaka", "Murphy", "Cohen", "Reyes", "Fischer",
];
const EMAIL_DOMAINS: &[&str] = &["example.com", "example.org", "mail.example.net"];

/// A customer who may call any of the three systems.
#[derive(Debug, Clone)]
pub struct Customer {
    /// E.164, e.g. `+13175550123`.
    pub phone_e164: String,
    pub member_id: String,
    pub account_number: String,
    /// A Luhn-valid 16-digit card number (test BIN range).
    pub card_number: String,
    pub email: String,
    /// Present in the CRM extract.
    pub in_crm: bool,
    pub tier: &'static str,
    /// Weight of this customer in the call mix: a few call often, most rarely.
    pub weight: f64,
}

/// An agent of one source system.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub name: String,
}

impl Customer {
    /// Digits of the national number, e.g. `3175550123`.
    pub fn national(&self) -> &str {
        &self.phone_e164[2..]
    }

    /// The phone as a human typed it into a generic CRM-ish export.
    pub fn phone_free_form<R: Rng>(&self, rng: &mut R) -> String {
        let n = self.national();
        let (a, b, c) = (&n[0..3], &n[3..6], &n[6..10]);
        match rng.random_range(0..5) {
            0 => format!("+1 {a}-{b}-{c}"),
            1 => format!("({a}) {b}-{c}"),
            2 => format!("{a}.{b}.{c}"),
            3 => format!("{a}-{b}-{c}"),
            _ => self.phone_e164.clone(),
        }
    }
}

/// A foreign number written in groups the way people write their own country's numbers
/// (`+44 20 7946 0958`, `+33 1 42 68 53 00`): what a traveller leaves as a callback number.
pub fn abroad_phone<R: Rng>(rng: &mut R) -> String {
    let d = |rng: &mut R, n: usize| digits(rng, n);
    match rng.random_range(0..5) {
        0 => format!("+44 20 7946 0{}", d(rng, 3)),
        1 => format!("+33 1 42 68 {} {}", d(rng, 2), d(rng, 2)),
        2 => format!("+49 30 9018 2{}", d(rng, 3)),
        3 => format!("+55 11 98456 {}", d(rng, 4)),
        _ => format!("+61 2 9374 {}", d(rng, 4)),
    }
}

/// Appends the Luhn check digit to a digit string.
pub fn with_luhn_digit(body: &str) -> String {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    let check = (10 - sum % 10) % 10;
    format!("{body}{check}")
}

/// True when a digit string passes the Luhn check.
pub fn luhn_valid(digits: &str) -> bool {
    digits.len() >= 2
        && digits.bytes().all(|b| b.is_ascii_digit())
        && with_luhn_digit(&digits[..digits.len() - 1]) == digits
}

fn digits<R: Rng>(rng: &mut R, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A 16-digit number that fails the Luhn check (a shipment or confirmation reference).
pub fn luhn_invalid_16<R: Rng>(rng: &mut R) -> String {
    let valid = with_luhn_digit(&format!("4{}", digits(rng, 14)));
    let last = valid.as_bytes()[15] - b'0';
    format!("{}{}", &valid[..15], (last + 1) % 10)
}

/// A 12-digit order number: long digits, but not a card, phone or account.
pub fn order_number<R: Rng>(rng: &mut R) -> String {
    format!("{}{}", rng.random_range(1..10u8), digits(rng, 11))
}

/// Groups a card number the way people read it out: `4111 1111 1111 1111`.
pub fn spaced_card(pan: &str) -> String {
    pan.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds the customer base. Phones are unique; call weights follow a long tail.
pub fn customers<R: Rng>(rng: &mut R, n: usize) -> Vec<Customer> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    let tiers = [
        "Platinum", "Gold", "Gold", "Silver", "Silver", "Silver", "Bronze", "Bronze",
    ];
    while out.len() < n {
        let area = *AREA_CODES.choose(rng).unwrap_or(&317);
        let line = rng.random_range(100..10_000u16);
        let phone = format!("+1{area}555{line:04}");
        if !seen.insert(phone.clone()) {
            if seen.len() >= AREA_CODES.len() * 9_900 {
                break;
            }
            continue;
        }
        let rank = out.len() + 1;
        let first = FIRST.choose(rng).copied().unwrap_or("Alex");
        let last = LAST.choose(rng).copied().unwrap_or("Doe");
        out.push(Customer {
            phone_e164: phone,
            member_id: format!("MBR{}", digits(rng, 9)),
            account_number: format!("{}{}", rng.random_range(1..10u8), digits(rng, 9)),
            card_number: with_luhn_digit(&format!("4{}", digits(rng, 14))),
            email: format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                rng.random_range(1..100u8),
                EMAIL_DOMAINS.choose(rng).copied().unwrap_or("example.com")
            ),
            in_crm: rng.random_bool(0.8),
            tier: tiers.choose(rng).copied().unwrap_or("Silver"),
            // Zipf-like: customer k calls about k^-0.7 as often as the most frequent one.
            weight: (rank as f64).powf(-0.7),
        });
    }
    out
}

/// Agents of one system; `id` builds each system's own kind of id.
pub fn agents<R: Rng>(rng: &mut R, n: usize, id: impl Fn(&mut R, usize) -> String) -> Vec<Agent> {
    (0..n)
        .map(|i| {
            let first = FIRST.choose(rng).copied().unwrap_or("Alex");
            let last = LAST.choose(rng).copied().unwrap_or("Doe");
            Agent {
                id: id(rng, i),
                name: format!("{first} {last}"),
            }
        })
        .collect()
}

/// A random UUID (v4 layout) from the generator's own RNG, so output stays deterministic.
pub fn uuid<R: Rng>(rng: &mut R) -> String {
    let b: [u8; 16] = rng.random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn luhn_helpers_agree_with_known_numbers() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("4111111111111112"));
        assert_eq!(with_luhn_digit("411111111111111"), "4111111111111111");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            assert!(!luhn_valid(&luhn_invalid_16(&mut rng)));
            let c = customers(&mut rng, 1).remove(0);
            assert!(luhn_valid(&c.card_number));
            assert_eq!(c.phone_e164.len(), 12);
        }
        assert_eq!(spaced_card("4111111111111111"), "4111 1111 1111 1111");
        // Foreign numbers are valid numbers of their country, so masking must find them.
        for _ in 0..100 {
            let p = abroad_phone(&mut rng);
            let n = phonenumber::parse(None, &p).unwrap();
            assert!(phonenumber::is_valid(&n), "{p}");
        }
    }

    #[test]
    fn uuids_look_like_uuids() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let u = uuid(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_eq!(u.matches('-').count(), 4);
    }
}
