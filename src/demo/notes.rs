//! Agent notes as agents really write them: mostly harmless, sometimes with a phone number, an
//! e-mail, a member id, a card number read out by the caller, or clinical details; and often
//! with long digit runs that are not PII (order, claim and tracking references).

use rand::Rng;
use rand::seq::IndexedRandom;

use super::people::{Customer, abroad_phone, luhn_invalid_16, order_number, spaced_card};

/// PII values a note contained, so the caller can record what was planted.
#[derive(Debug, Default)]
pub struct NotePii {
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub member_ids: Vec<String>,
    pub pans: Vec<String>,
}

const CLINICAL: &[&str] = &[
    "reports ongoing lower back pain after MRI, prescribed gabapentin 300mg",
    "diagnosed with type 2 diabetes in March, asking about insulin coverage",
    "post-op follow up for knee replacement, PT twice weekly",
    "pregnant, 24 weeks, asking which OB providers are in network",
    "anxiety and depression, currently on sertraline 50mg, needs refill authorization",
    "chest pain ER visit on the 12th, disputes out-of-network bill",
];
const HEALTH_TOPICS: &[&str] = &[
    "Explained deductible and out-of-pocket max for current plan year.",
    "Claim status: in review, expected decision within 10 business days.",
    "Sent new ID card to address on file.",
    "Prior authorization submitted for specialist referral.",
    "Pharmacy tier question, generic alternative suggested.",
];
const BANK_TOPICS: &[&str] = &[
    "Balance inquiry, no issues.",
    "Travel notice added for 2 weeks.",
    "Disputed merchant charge, provisional credit issued.",
    "Payment arrangement set up for next cycle.",
    "Card replaced after customer reported it damaged.",
    "Explained APR change on statement.",
];
const TELCO_TOPICS: &[&str] = &[
    "Customer called about a bill.",
    "Router rebooted remotely, speeds back to normal.",
    "Upgraded plan to Fiber 1G.",
    "Scheduled technician visit.",
    "Explained proration on first invoice.",
    "Retention offer accepted: 20% off for 12 months.",
];

/// Genesys wrap-up notes of a health insurer: clinical text sometimes, member ids, callbacks.
pub fn health_note<R: Rng>(rng: &mut R, c: Option<&Customer>, pii: &mut NotePii) -> String {
    let mut note = HEALTH_TOPICS
        .choose(rng)
        .copied()
        .unwrap_or_default()
        .to_string();
    if rng.random_bool(0.25) {
        note = format!(
            "Member {}. {note}",
            CLINICAL.choose(rng).copied().unwrap_or_default()
        );
    }
    if rng.random_bool(0.3) {
        note.push_str(&format!(" Claim ref {}.", order_number(rng)));
    }
    if let Some(c) = c {
        if rng.random_bool(0.15) {
            note.push_str(&format!(" Verified member {}.", c.member_id));
            pii.member_ids.push(c.member_id.clone());
        }
        if rng.random_bool(0.12) {
            let p = c.phone_free_form(rng);
            note.push_str(&format!(" Best callback number {p}."));
            pii.phones.push(p);
        }
        if rng.random_bool(0.03) {
            let p = abroad_phone(rng);
            note.push_str(&format!(" Travelling; reachable at {p} until the 20th."));
            pii.phones.push(p);
        }
        if rng.random_bool(0.06) {
            note.push_str(&format!(" Wants EOB emailed to {}.", c.email));
            pii.emails.push(c.email.clone());
        }
        if rng.random_bool(0.03) {
            let pan = spaced_card(&c.card_number);
            note.push_str(&format!(" Member read card {pan} to pay premium; advised not to share card numbers by phone."));
            pii.pans.push(pan);
        }
    }
    note
}

/// CXone disposition notes of a bank: card numbers read out, account references, look-alikes.
pub fn bank_note<R: Rng>(rng: &mut R, c: Option<&Customer>, pii: &mut NotePii) -> String {
    let mut note = BANK_TOPICS
        .choose(rng)
        .copied()
        .unwrap_or_default()
        .to_string();
    if rng.random_bool(0.2) {
        note.push_str(&format!(
            " Confirmation {}.",
            spaced_card(&luhn_invalid_16(rng))
        ));
    }
    if let Some(c) = c {
        if rng.random_bool(0.08) {
            let pan = if rng.random_bool(0.5) {
                spaced_card(&c.card_number)
            } else {
                c.card_number.clone()
            };
            note.push_str(&format!(" Customer disputed charge on card {pan}."));
            pii.pans.push(pan);
        }
        if rng.random_bool(0.08) {
            note.push_str(&format!(" Statement copy sent to {}.", c.email));
            pii.emails.push(c.email.clone());
        }
        if rng.random_bool(0.06) {
            let p = c.phone_free_form(rng);
            note.push_str(&format!(" Updated mobile to {p}."));
            pii.phones.push(p);
        }
        if rng.random_bool(0.02) {
            let p = abroad_phone(rng);
            note.push_str(&format!(" Card blocked abroad, call back on {p}."));
            pii.phones.push(p);
        }
    }
    note
}

/// Generic (telco) notes: mostly order references, sometimes a card or e-mail.
pub fn telco_note<R: Rng>(rng: &mut R, c: Option<&Customer>, pii: &mut NotePii) -> String {
    let mut note = TELCO_TOPICS
        .choose(rng)
        .copied()
        .unwrap_or_default()
        .to_string();
    if rng.random_bool(0.5) {
        note.push_str(&format!(" Reference order {}", order_number(rng)));
    }
    if let Some(c) = c {
        if rng.random_bool(0.04) {
            note.push_str(&format!(" Paid with card {}.", c.card_number));
            pii.pans.push(c.card_number.clone());
        }
        if rng.random_bool(0.05) {
            note.push_str(&format!(" Confirmation sent to {}.", c.email));
            pii.emails.push(c.email.clone());
        }
    }
    note
}
