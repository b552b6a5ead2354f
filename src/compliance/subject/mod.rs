//! Data subject requests: finding one person everywhere the lake holds them (GDPR Art. 15,
//! CCPA "right to know") and erasing them everywhere (Art. 17, "right to delete").
//!
//! A person is named by what the requester knows: phone numbers (in any format), member ids,
//! e-mail addresses, or the keyed `customer_key` Silver joins on. The [`Matcher`] brings them
//! to their normal forms (E.164 phones; the keyed hashes Silver stores under the lake's key)
//! and recognises them in raw records: a phone in a `tel:` or `sip:` URI, in national or
//! international form, inside free text; a member id or e-mail as a word anywhere.
//!
//! [`find`] lists every place the person appears; [`erase`] holds the steps that rewrite
//! Bronze and quarantine without them and delete their Silver rows (the pipeline's erase job
//! runs them in order, resumably); [`trace`] searches every file of the lake for them, the
//! proof that an erasure left nothing behind.

pub mod erase;
mod find;
pub mod trace;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use find::{BronzeHit, CrmHit, Findings, GoldHit, QuarantineHit, SilverHit, find};

use crate::config::ConfigError;
use crate::lake::LakeError;
use crate::lake::ledger::LedgerError;
use crate::silver::digest::HmacKey;
use crate::silver::key_record::KeyCheckError;
use crate::silver::masking::{ColumnCounts, LoadPolicyError, Masker, Policy};
use crate::silver::pii::{PhoneCache, ascii_digits, phone_text};

/// Who a request is about, as the requester names them. Its `Debug` says how many of each
/// identifier it holds, never the values (job lists print it).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub member_ids: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    /// Keyed hashes of a phone, as Silver's `customer_key` holds them.
    #[serde(default)]
    pub customer_keys: Vec<String>,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Subject({} phones, {} member ids, {} e-mails, {} customer keys)",
            self.phones.len(),
            self.member_ids.len(),
            self.emails.len(),
            self.customer_keys.len()
        )
    }
}

impl Subject {
    pub fn is_empty(&self) -> bool {
        self.phones.is_empty()
            && self.member_ids.is_empty()
            && self.emails.is_empty()
            && self.customer_keys.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    #[error("name the person: at least one --phone, --member-id, --email or --customer-key")]
    Empty,
    #[error("{0:?} is not a phone number the masking policy's detector accepts")]
    BadPhone(String),
    #[error("{0:?} is not a customer_key (64 hexadecimal characters)")]
    BadCustomerKey(String),
    #[error("{0:?} is not an e-mail address")]
    BadEmail(String),
    #[error(transparent)]
    Policy(#[from] LoadPolicyError),
    #[error(transparent)]
    Key(#[from] KeyCheckError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("reading {what}: {message}")]
    Read { what: String, message: String },
    #[error("Delta table {table}: {source}")]
    Delta {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error("cancelled; run the same command again to finish")]
    Cancelled,
}

/// The person's identifiers in their normal forms, and how to recognise them in raw text.
pub struct Matcher {
    masker: Masker,
    /// Phones in E.164.
    e164: BTreeSet<String>,
    /// `customer_key`s: the ones given and the keyed hash of every phone.
    keys: BTreeSet<String>,
    /// Lowercase.
    member_ids: BTreeSet<String>,
    /// Lowercase.
    emails: BTreeSet<String>,
    /// A line holding none of these (lowercase) cannot match; `None` when only keys were
    /// given (any phone in any line might hash to one).
    hints: Option<Vec<String>>,
}

impl Matcher {
    /// Normalises the identifiers under the lake's policy and key; refuses what is not an
    /// identifier of its kind.
    pub fn new(subject: &Subject, policy: Policy, key: HmacKey) -> Result<Matcher, SubjectError> {
        if subject.is_empty() {
            return Err(SubjectError::Empty);
        }
        let masker = Masker::new(policy, key);
        let mut phones = PhoneCache::default();
        let mut e164 = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for p in &subject.phones {
            let number = phones.e164(&masker.policy.detectors, phone_text(p));
            let number = number.ok_or_else(|| SubjectError::BadPhone(p.clone()))?;
            if let Some(k) = masker.customer_key(&number, &mut phones) {
                keys.insert(k);
            }
            e164.insert(number);
        }
        for k in &subject.customer_keys {
            let k = k.trim().to_ascii_lowercase();
            if k.len() != 64 || !k.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SubjectError::BadCustomerKey(k));
            }
            keys.insert(k);
        }
        let mut emails = BTreeSet::new();
        for e in &subject.emails {
            let e = e.trim().to_ascii_lowercase();
            if !e.contains('@') || e.len() < 3 {
                return Err(SubjectError::BadEmail(e));
            }
            emails.insert(e);
        }
        let member_ids: BTreeSet<String> = (subject.member_ids.iter())
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| !m.is_empty())
            .collect();
        let hints = subject.customer_keys.is_empty().then(|| {
            // Any form of a phone ends in its last four digits.
            let last4 = e164
                .iter()
                .map(|p| p[p.len().saturating_sub(4)..].to_string());
            (last4.chain(member_ids.iter().cloned()))
                .chain(emails.iter().cloned())
                .collect()
        });
        Ok(Matcher {
            masker,
            e164,
            keys,
            member_ids,
            emails,
            hints,
        })
    }

    /// What identifies the subject, as keyed hashes (for the audit log and the erasure's
    /// identity): never a raw value.
    pub fn keyed(&self) -> Vec<String> {
        let key = &self.masker;
        let mut out: BTreeSet<String> = self
            .keys
            .iter()
            .map(|k| format!("customer_key:{k}"))
            .collect();
        for m in &self.member_ids {
            out.insert(format!("member_id:{}", key.hash_value(m)));
        }
        for e in &self.emails {
            out.insert(format!("email:{}", key.hash_value(e)));
        }
        out.into_iter().collect()
    }

    /// A short name of the subject that does not say who they are (the same identifiers give
    /// the same name under the same key): part of an erasure's id.
    pub fn id(&self) -> String {
        let hash = self.masker.hash_value(&self.keyed().join("\n"));
        hash[..8.min(hash.len())].to_string()
    }

    /// The customer keys (hex) Silver may hold for the subject.
    pub fn customer_keys(&self) -> &BTreeSet<String> {
        &self.keys
    }

    /// The values Silver's masked columns hold for the subject: (column, masked value).
    pub fn masked_values(&self) -> Vec<(&'static str, String)> {
        let mut phones = PhoneCache::default();
        let mut counts = ColumnCounts::default();
        let mut out = Vec::new();
        for k in &self.keys {
            out.push(("customer_key", k.clone()));
        }
        for p in &self.e164 {
            let masked = self
                .masker
                .mask("phone_number", p, &mut phones, &mut counts);
            if masked != *p {
                out.push(("phone_number", masked));
            }
        }
        for m in &self.member_ids {
            // Member ids are matched as written and uppercased: exports write them in capitals.
            for form in [m.clone(), m.to_ascii_uppercase()] {
                let masked = self
                    .masker
                    .mask("member_id", &form, &mut phones, &mut counts);
                if masked != form {
                    out.push(("member_id", masked));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether one raw line (a JSON record, a CSV row, any text) mentions the subject; the
    /// kinds of identifier found.
    pub fn line(&self, line: &[u8], phones: &mut PhoneCache) -> BTreeSet<&'static str> {
        let mut kinds = BTreeSet::new();
        if let Some(hints) = &self.hints {
            // Wide digits read as ASCII first: a phone written `（２１２）…` ends in the same
            // four digits as its hint.
            let lower = if line.is_ascii() {
                line.to_ascii_lowercase()
            } else {
                ascii_digits(&String::from_utf8_lossy(line))
                    .to_ascii_lowercase()
                    .into_bytes()
            };
            let hinted = hints
                .iter()
                .any(|h| memchr::memmem::find(&lower, h.as_bytes()).is_some());
            if !hinted {
                return kinds;
            }
        }
        let text = String::from_utf8_lossy(line);
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => walk(&v, &mut |s| self.text(s, phones, &mut kinds)),
            Err(_) => self.text(&text, phones, &mut kinds),
        }
        kinds
    }

    /// Whether one value mentions the subject; adds the kinds found.
    pub fn text(&self, s: &str, phones: &mut PhoneCache, kinds: &mut BTreeSet<&'static str>) {
        let lower = s.to_ascii_lowercase();
        if self.emails.iter().any(|e| lower.contains(e.as_str())) {
            kinds.insert("email");
        }
        if self.member_ids.iter().any(|m| has_word(&lower, m)) {
            kinds.insert("member_id");
        }
        if self.keys.iter().any(|k| lower.contains(k.as_str())) {
            kinds.insert("customer_key");
        }
        if ascii_digits(s).bytes().filter(u8::is_ascii_digit).count() < 7 {
            return;
        }
        let detectors = &self.masker.policy.detectors;
        for number in detectors.phones_in(s, phones) {
            let key = || {
                self.masker
                    .customer_key(&number, &mut PhoneCache::default())
            };
            if self.e164.contains(&number) || key().is_some_and(|k| self.keys.contains(&k)) {
                kinds.insert("phone");
            }
        }
    }
}

/// Every string of a JSON value (object keys included: exports key maps by caller) and every
/// number, as text.
fn walk(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Number(n) => f(&n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| walk(x, f)),
        Value::Object(o) => {
            for (k, x) in o {
                f(k);
                walk(x, f);
            }
        }
        _ => {}
    }
}

/// Whether `word` stands in `text` as a word of its own (not inside a longer id).
fn has_word(text: &str, word: &str) -> bool {
    let b = text.as_bytes();
    text.match_indices(word).any(|(i, w)| {
        let before = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let after = i + w.len() >= b.len() || !b[i + w.len()].is_ascii_alphanumeric();
        before && after
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(subject: Subject) -> Matcher {
        let policy = Policy::parse(crate::config::PRESET_GENERAL).unwrap();
        Matcher::new(
            &subject,
            policy,
            HmacKey::from_bytes(b"subject-test-key-0123456789abcdef".to_vec()),
        )
        .unwrap()
    }

    #[test]
    fn a_phone_is_recognised_in_every_form_exports_write_it() {
        let m = matcher(Subject {
            phones: vec!["(317) 555-0123".into()],
            ..Default::default()
        });
        let mut phones = PhoneCache::default();
        for line in [
            r#"{"ani":"sip:+13175550123@10.1.2.3;user=phone"}"#,
            r#"{"ani":"tel:+13175550123"}"#,
            r#"{"fromAddr":"3175550123"}"#,
            r#"{"notes":"call back on 317-555-0123 after 5"}"#,
            r#"{"Attributes":{"+13175550123":"vip"}}"#,
            "3175550123,Gold,Card",
        ] {
            assert!(
                m.line(line.as_bytes(), &mut phones).contains("phone"),
                "{line}"
            );
        }
        for line in [
            r#"{"ani":"tel:+13175550124"}"#,
            r#"{"order":"ref 3175550123999"}"#,
            r#"{"id":"a3175550123b"}"#,
        ] {
            assert!(m.line(line.as_bytes(), &mut phones).is_empty(), "{line}");
        }
    }

    #[test]
    fn member_ids_and_emails_match_as_words_and_keys_by_hash() {
        let m = matcher(Subject {
            member_ids: vec!["MBR123456789".into()],
            emails: vec!["Ana.Lima@Example.com".into()],
            ..Default::default()
        });
        let mut phones = PhoneCache::default();
        let hit = m.line(
            br#"{"MemberId":"mbr123456789","from":"ana.lima@example.com"}"#,
            &mut phones,
        );
        assert_eq!(hit, ["email", "member_id"].into());
        assert!(
            m.line(br#"{"MemberId":"MBR1234567890"}"#, &mut phones)
                .is_empty()
        );
        // Only a key: any phone that hashes to it is the subject's.
        let key = m.masker.customer_key("+13175550123", &mut phones).unwrap();
        let by_key = matcher(Subject {
            customer_keys: vec![key.to_uppercase()],
            ..Default::default()
        });
        assert!(
            by_key
                .line(br#"{"ani":"tel:+13175550123"}"#, &mut phones)
                .contains("phone")
        );
        assert!(by_key.keyed().iter().all(|k| !k.contains("3175550123")));
    }

    #[test]
    fn bad_identifiers_are_refused_in_words() {
        let policy = || Policy::parse(crate::config::PRESET_GENERAL).unwrap();
        let key = || HmacKey::from_bytes(b"subject-test-key-0123456789abcdef".to_vec());
        let err = |s: Subject| Matcher::new(&s, policy(), key()).err().unwrap().to_string();
        assert!(err(Subject::default()).contains("name the person"));
        let phone = Subject {
            phones: vec!["12".into()],
            ..Default::default()
        };
        assert!(err(phone).contains("not a phone number"));
        let key_only = Subject {
            customer_keys: vec!["abc".into()],
            ..Default::default()
        };
        assert!(err(key_only).contains("64 hexadecimal"));
    }
}
