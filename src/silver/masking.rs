//! The masking policy (`_config/masking_policy.toml`) and how it is applied: per-column rules
//! (detector, action, what to do with values the detector does not validate), the keyed hash,
//! and per-column counts of what happened.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::digest::{HexDigest, HmacKey};
use super::pii::{Detector, DetectorError, Detectors, PhoneCache};

/// Silver columns a policy may have a rule for.
pub const PII_COLUMNS: &[&str] = &[
    "phone_number",
    "member_id",
    "account_number",
    "card_number",
    "notes",
];

/// What replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Hash,
    Redact,
    MaskLast4,
    Keep,
    /// Free text only: replace detected spans with typed tokens.
    Scrub,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unvalidated {
    Keep,
    Redact,
}

/// One column's rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnRule {
    pub detector: Detector,
    pub action: Action,
    #[serde(default = "default_unvalidated")]
    pub unvalidated: Unvalidated,
}

fn default_unvalidated() -> Unvalidated {
    Unvalidated::Redact
}

/// The policy file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyFile {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub preset: String,
    #[serde(default = "us")]
    pub default_region: String,
    pub member_id_pattern: String,
    pub account_number_pattern: String,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnRule>,
}

fn yes() -> bool {
    true
}

fn us() -> String {
    "US".into()
}

/// A policy that failed validation, naming the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("masking policy does not parse: {0}")]
    Syntax(String),
    #[error(transparent)]
    Detector(#[from] DetectorError),
    #[error("columns.{column}: there is no PII column `{column}` (known: {known})")]
    UnknownColumn { column: String, known: String },
    #[error("columns.{column}: action `scrub` only applies to the free_text detector")]
    ScrubNeedsFreeText { column: String },
}

/// Why the lake's policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadPolicyError {
    #[error("_config/masking_policy.toml: {0}")]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(
        "_config/masking_policy.toml is missing, but this lake already has Silver data masked \
         under a policy: restore the file (every saved version is in _config/policy_history/) or \
         save a policy from the compliance pane; cclake will not fall back to the general \
         preset and re-mask under a different policy"
    )]
    MissingWithSilver,
}

/// The lake's masking policy. A new lake gets the `general` preset written out; a lake that
/// already has Silver data and lost its policy file is an error, never a silent fallback.
pub async fn load_policy(lake: &crate::lake::Lake) -> Result<Policy, LoadPolicyError> {
    use crate::config;
    let path = object_store::path::Path::from(config::POLICY_FILE);
    let missing = match lake.get(&path).await {
        Ok(_) => false,
        Err(crate::lake::LakeError::Store {
            source: object_store::Error::NotFound { .. },
            ..
        }) => true,
        Err(e) => return Err(config::ConfigError::from(e).into()),
    };
    if missing
        && !lake
            .list(&format!(
                "{}/_delta_log",
                crate::lake::delta::SILVER_CONTACTS
            ))
            .await
            .map_err(config::ConfigError::from)?
            .is_empty()
    {
        return Err(LoadPolicyError::MissingWithSilver);
    }
    let text = config::read_or_init(lake, config::POLICY_FILE, config::PRESET_GENERAL).await?;
    Ok(Policy::parse(&text)?)
}

/// A parsed and validated policy, with its version (SHA-256 of its text).
#[derive(Debug, Clone)]
pub struct Policy {
    pub file: PolicyFile,
    pub detectors: Detectors,
    pub version: String,
    /// The policy file's text, as saved (its version is the SHA-256 of this).
    pub text: String,
}

impl Policy {
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        Policy::from_file(file, text)
    }

    /// Validates a policy built in memory (the app's editor); `text` is what will be saved.
    pub fn from_file(file: PolicyFile, text: &str) -> Result<Policy, PolicyError> {
        let detectors = Detectors::new(
            &file.default_region,
            &file.member_id_pattern,
            &file.account_number_pattern,
        )?;
        for (column, rule) in &file.columns {
            if !PII_COLUMNS.contains(&column.as_str()) {
                return Err(PolicyError::UnknownColumn {
                    column: column.clone(),
                    known: PII_COLUMNS.join(", "),
                });
            }
            if rule.action == Action::Scrub && rule.detector != Detector::FreeText {
                return Err(PolicyError::ScrubNeedsFreeText {
                    column: column.clone(),
                });
            }
        }
        Ok(Policy {
            file,
            detectors,
            version: hex::encode(Sha256::digest(text.as_bytes())),
            text: text.to_string(),
        })
    }

    /// The shipped preset of that name.
    pub fn preset_text(name: &str) -> Option<&'static str> {
        match name {
            "general" => Some(crate::config::PRESET_GENERAL),
            "healthcare" => Some(crate::config::PRESET_HEALTHCARE),
            "finance" => Some(crate::config::PRESET_FINANCE),
            _ => None,
        }
    }
}

/// A masked value. Kept values stay borrowed and hashes live on the stack, so masking a row
/// only allocates for rewritten text.
pub enum Masked<'a> {
    Text(Cow<'a, str>),
    Hash(HexDigest),
}

impl Masked<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Masked::Text(t) => t,
            Masked::Hash(h) => h.as_str(),
        }
    }
}

impl std::ops::Deref for Masked<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// What masking did to one column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnCounts {
    /// Values the detector validated and the action was applied to.
    pub masked: u64,
    pub unvalidated_kept: u64,
    pub unvalidated_redacted: u64,
    /// Spans replaced inside free text.
    pub spans_scrubbed: u64,
}

impl ColumnCounts {
    pub fn add(&mut self, o: &ColumnCounts) {
        self.masked += o.masked;
        self.unvalidated_kept += o.unvalidated_kept;
        self.unvalidated_redacted += o.unvalidated_redacted;
        self.spans_scrubbed += o.spans_scrubbed;
    }
}

/// A policy with its key, ready to mask values.
#[derive(Debug, Clone)]
pub struct Masker {
    pub policy: Policy,
    key: HmacKey,
    /// Names this policy and key for the per-thread phone memo (clones share it: they hash
    /// alike).
    id: u64,
}

/// Source of [`Masker::id`]s.
static NEXT_MASKER: AtomicU64 = AtomicU64::new(1);

impl Masker {
    pub fn new(policy: Policy, key: HmacKey) -> Masker {
        Masker {
            policy,
            key,
            id: NEXT_MASKER.fetch_add(1, Ordering::Relaxed),
        }
    }

    pub fn enabled(&self) -> bool {
        self.policy.file.enabled
    }

    pub fn key(&self) -> &HmacKey {
        &self.key
    }

    /// Identifies this masker's key and policy (see [`super::pii::with_phone_cache`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The keyed hash of any value (what the audit log records of a subject's identifiers).
    pub fn hash_value(&self, value: &str) -> String {
        self.key.hash(value)
    }

    /// The customer join key: the keyed hash of the E.164 phone, whatever the phone column's
    /// action, so one caller has one key in every source.
    pub fn customer_key(&self, phone: &str, phones: &mut PhoneCache) -> Option<String> {
        self.customer_key_hex(phone, phones)
            .map(|k| k.as_str().to_string())
    }

    fn customer_key_hex(&self, phone: &str, phones: &mut PhoneCache) -> Option<HexDigest> {
        phones.key_of(&self.policy.detectors, phone, |x| self.key.digest(x))
    }

    /// The phone column's masked value and the caller's `customer_key`, validating and hashing
    /// the number once when the column's rule is the usual hash of the E.164 form (then the two
    /// are the same hash).
    pub fn mask_phone<'v>(
        &self,
        value: &'v str,
        phones: &mut PhoneCache,
        counts: &mut ColumnCounts,
    ) -> (Masked<'v>, Option<HexDigest>) {
        self.mask_phone_with(self.rule("phone_number"), value, phones, counts)
    }

    /// [`Masker::mask_phone`] with the phone column's rule already looked up.
    pub fn mask_phone_with<'v>(
        &self,
        rule: Option<&ColumnRule>,
        value: &'v str,
        phones: &mut PhoneCache,
        counts: &mut ColumnCounts,
    ) -> (Masked<'v>, Option<HexDigest>) {
        let key = self.customer_key_hex(value, phones);
        let plain_hash = self.enabled()
            && rule
                .is_some_and(|r| r.detector == Detector::Phone && matches!(r.action, Action::Hash));
        match key {
            Some(k) if plain_hash => {
                counts.masked += 1;
                (Masked::Hash(k), key)
            }
            _ => (self.mask_with(rule, value, phones, counts), key),
        }
    }

    /// A column's rule, if the policy has one. Silver looks the rules up once per work unit rather
    /// than once per value.
    pub fn rule(&self, column: &str) -> Option<&ColumnRule> {
        self.policy.file.columns.get(column)
    }

    /// Masks one value of a PII column per its rule. Columns without a rule are kept.
    pub fn mask(
        &self,
        column: &str,
        value: &str,
        phones: &mut PhoneCache,
        counts: &mut ColumnCounts,
    ) -> String {
        self.mask_value(column, value, phones, counts)
            .as_str()
            .to_string()
    }

    /// [`Masker::mask`] without copying what it keeps.
    pub fn mask_value<'v>(
        &self,
        column: &str,
        value: &'v str,
        phones: &mut PhoneCache,
        counts: &mut ColumnCounts,
    ) -> Masked<'v> {
        self.mask_with(self.rule(column), value, phones, counts)
    }

    /// [`Masker::mask_value`] with the column's rule already looked up (see [`Masker::rule`]).
    pub fn mask_with<'v>(
        &self,
        rule: Option<&ColumnRule>,
        value: &'v str,
        phones: &mut PhoneCache,
        counts: &mut ColumnCounts,
    ) -> Masked<'v> {
        let kept = Masked::Text(Cow::Borrowed(value));
        let redacted = Masked::Text(Cow::Borrowed(REDACTED));
        if !self.enabled() {
            return kept;
        }
        let Some(rule) = rule else {
            return kept;
        };
        let d = &self.policy.detectors;
        if rule.detector == Detector::FreeText {
            return match rule.action {
                Action::Keep => kept,
                Action::Scrub => {
                    let (text, n) = d.scrub(value, phones);
                    counts.spans_scrubbed += u64::from(n.total());
                    if n.total() > 0 {
                        counts.masked += 1;
                    }
                    Masked::Text(text)
                }
                _ => {
                    counts.masked += 1;
                    redacted
                }
            };
        }
        // The value in its canonical form when the detector validates it.
        let canonical: Option<Cow<'v, str>> = match rule.detector {
            Detector::Phone => phones.e164(d, value).map(Cow::Owned),
            Detector::Pan => super::pii::pan_digits(value).map(Cow::Owned),
            other => d
                .validates(other, value)
                .then(|| Cow::Borrowed(value.trim())),
        };
        let Some(canonical) = canonical else {
            return match rule.unvalidated {
                Unvalidated::Keep => {
                    counts.unvalidated_kept += 1;
                    kept
                }
                Unvalidated::Redact => {
                    counts.unvalidated_redacted += 1;
                    redacted
                }
            };
        };
        counts.masked += 1;
        match rule.action {
            Action::Hash if rule.detector == Detector::Phone => {
                Masked::Hash(phones.hash_of(&canonical, |x| self.key.digest(x)))
            }
            Action::Hash => Masked::Hash(self.key.hash_hex(&canonical)),
            Action::Redact | Action::Scrub => redacted,
            Action::MaskLast4 => Masked::Text(Cow::Owned(mask_last4(&canonical))),
            Action::Keep => {
                counts.masked -= 1;
                kept
            }
        }
    }

    /// Scrubs free text that has no rule of its own (`_rescued_data`), when masking is on.
    pub fn scrub(&self, text: &str, phones: &mut PhoneCache) -> (String, u32) {
        if !self.enabled() {
            return (text.to_string(), 0);
        }
        let (s, n) = self.policy.detectors.scrub(text, phones);
        (s.into_owned(), n.total())
    }
}

/// `1234567890` → `******7890`.
pub fn mask_last4(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep = chars.len().min(4);
    let mut out = "*".repeat(chars.len() - keep);
    out.extend(&chars[chars.len() - keep..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(preset: &str) -> Masker {
        let p = Policy::parse(Policy::preset_text(preset).unwrap()).unwrap();
        Masker::new(p, HmacKey::from_bytes(b"test-key-0123456789".to_vec()))
    }

    #[test]
    fn presets_parse_and_differ() {
        let g = masker("general");
        let h = masker("healthcare");
        let f = masker("finance");
        assert_eq!(g.policy.file.columns["notes"].action, Action::Scrub);
        assert_eq!(h.policy.file.columns["notes"].action, Action::Redact);
        assert_eq!(f.policy.file.columns["card_number"].action, Action::Hash);
        assert_ne!(g.policy.version, h.policy.version);
        assert_eq!(g.policy.version.len(), 64);
    }

    #[test]
    fn the_thread_phone_memo_never_mixes_keys() {
        let p = || Policy::parse(Policy::preset_text("general").unwrap()).unwrap();
        let a = Masker::new(p(), HmacKey::from_bytes(b"key-one-0123456789".to_vec()));
        let b = Masker::new(p(), HmacKey::from_bytes(b"key-two-0123456789".to_vec()));
        let mut n = ColumnCounts::default();
        let key_with = |m: &Masker, n: &mut ColumnCounts| {
            super::super::pii::with_phone_cache(m.id(), |c| {
                let (col, key) = m.mask_phone("(317) 555-0123", c, n);
                (col.to_string(), key.map(|k| k.to_string()))
            })
        };
        // Same thread, same number: each masker gets its own key's hash, also when the
        // other one filled the memo first, and a clone shares the memo.
        for _ in 0..2 {
            let (col_a, key_a) = key_with(&a, &mut n);
            let (col_b, key_b) = key_with(&b, &mut n);
            let (col_c, _) = key_with(&a.clone(), &mut n);
            assert_eq!(
                key_a.as_deref(),
                Some(a.key().hash("+13175550123").as_str())
            );
            assert_eq!(
                key_b.as_deref(),
                Some(b.key().hash("+13175550123").as_str())
            );
            assert_eq!((col_a.clone(), col_b), (key_a.unwrap(), key_b.unwrap()));
            assert_eq!(col_c, col_a);
        }
        assert_eq!(n.masked, 6);
    }

    #[test]
    fn the_phone_memo_answers_as_a_fresh_one_for_short_and_long_values() {
        let m = masker("general");
        let want = m.key().hash("+13175550123");
        // The memo holds values of up to 31 bytes inline; longer ones go round it.
        let long = "tel:+1 (317) 555-0123                      ";
        assert!(long.len() > 31);
        let mut memo = PhoneCache::default();
        for _ in 0..3 {
            for v in ["317.555.0123", "+1 317 555 0123", long] {
                assert_eq!(m.customer_key(v, &mut memo).as_deref(), Some(want.as_str()));
                let fresh = m.customer_key(v, &mut PhoneCache::default());
                assert_eq!(fresh.as_deref(), Some(want.as_str()), "{v}");
            }
            assert_eq!(m.customer_key("555-0123", &mut memo), None);
        }
    }

    #[test]
    fn actions_and_unvalidated_values() {
        let m = masker("general");
        let mut c = PhoneCache::default();
        let mut n = ColumnCounts::default();
        // One caller, three spellings, one hash: the same as customer_key.
        let h1 = m.mask("phone_number", "(317) 555-0123", &mut c, &mut n);
        let h2 = m.mask("phone_number", "+13175550123", &mut c, &mut n);
        assert_eq!(h1, h2);
        assert_eq!(Some(h1.clone()), m.customer_key("317.555.0123", &mut c));
        assert_eq!(h1, m.key().hash("+13175550123"));
        assert_eq!(m.mask("phone_number", "N/A", &mut c, &mut n), REDACTED);
        assert_eq!(m.mask("member_id", "N/A", &mut c, &mut n), "N/A"); // unvalidated: keep
        assert_eq!(
            m.mask("account_number", "1234567890", &mut c, &mut n),
            "******7890"
        );
        assert_eq!(
            m.mask("card_number", "4111 1111 1111 1111", &mut c, &mut n),
            REDACTED
        );
        assert_eq!(n.masked, 4);
        assert_eq!((n.unvalidated_kept, n.unvalidated_redacted), (1, 1));
        let f = masker("finance");
        assert_eq!(
            f.mask("card_number", "4111-1111-1111-1111", &mut c, &mut n),
            f.key().hash("4111111111111111")
        );
        let h = masker("healthcare");
        assert_eq!(
            h.mask("notes", "Member has diabetes", &mut c, &mut n),
            REDACTED
        );
    }

    #[test]
    fn disabled_policy_keeps_values() {
        let text = Policy::preset_text("general")
            .unwrap()
            .replace("enabled = true", "enabled = false");
        let m = Masker::new(
            Policy::parse(&text).unwrap(),
            HmacKey::from_bytes(b"k0123456789abcdef".to_vec()),
        );
        let mut c = PhoneCache::default();
        let mut n = ColumnCounts::default();
        assert_eq!(
            m.mask("phone_number", "3175550123", &mut c, &mut n),
            "3175550123"
        );
        // customer_key is still computed: joins must keep working.
        assert!(m.customer_key("3175550123", &mut c).is_some());
    }

    #[test]
    fn invalid_policies_name_the_field() {
        let bad = Policy::preset_text("general")
            .unwrap()
            .replace(r"^[0-9]{8,17}$", "([0-9");
        let e = Policy::parse(&bad).unwrap_err();
        assert!(e.to_string().starts_with("account_number_pattern:"), "{e}");
        let bad = format!(
            "{}\n[columns.email]\ndetector = \"email\"\naction = \"hash\"\n",
            Policy::preset_text("general").unwrap()
        );
        assert!(matches!(
            Policy::parse(&bad),
            Err(PolicyError::UnknownColumn { .. })
        ));
        let bad = Policy::preset_text("general")
            .unwrap()
            .replace("action = \"mask_last4\"", "action = \"scrub\"");
        assert!(matches!(
            Policy::parse(&bad),
            Err(PolicyError::ScrubNeedsFreeText { .. })
        ));
    }
}
