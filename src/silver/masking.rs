//! The masking policy (`_config/masking_policy.toml`) and how it is applied: per-column rules
//! (detector, action, what to do with values the detector does not validate), the keyed hash,
//! and per-column counts of what happened.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// A parsed and validated policy, with its version (SHA-256 of its text).
#[derive(Debug, Clone)]
pub struct Policy {
    pub file: PolicyFile,
    pub detectors: Detectors,
    pub version: String,
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

/// The secret key of the keyed hash. Never stored in the lake, never logged. Keeps the
/// keyed HMAC state so each hash only pays for its message.
#[derive(Clone)]
pub struct HmacKey {
    mac: Hmac<Sha256>,
    /// SHA-256 states after the key's inner and outer pad blocks (RFC 2104). A value that
    /// fits one block with its padding (what masking hashes: phones, ids) then costs exactly
    /// two compressions and no buffering; cloning and finalizing the `Hmac` state around them
    /// cost as much again.
    inner: [u32; 8],
    outer: [u32; 8],
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("CCLAKE_HMAC_KEY is set but shorter than 16 characters; use a long random secret")]
    TooShort,
    #[error("cannot read the HMAC key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the HMAC key file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no config directory to keep the HMAC key in; set CCLAKE_HMAC_KEY or CCLAKE_HMAC_KEY_FILE"
    )]
    NoConfigDir,
}

impl HmacKey {
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> HmacKey {
        let bytes: Vec<u8> = bytes.into();
        // HMAC accepts keys of any length, so this cannot fail.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&bytes).expect("HMAC takes any key length");
        // RFC 2104: a key longer than the block is hashed first, then zero-padded to a block.
        let mut block = [0u8; 64];
        if bytes.len() > 64 {
            block[..32].copy_from_slice(&Sha256::digest(&bytes));
        } else {
            block[..bytes.len()].copy_from_slice(&bytes);
        }
        let pad_state = |pad: u8| {
            let mut state = SHA256_IV;
            let padded = block.map(|b| b ^ pad);
            sha2::compress256(&mut state, &[padded.into()]);
            state
        };
        HmacKey {
            mac,
            inner: pad_state(0x36),
            outer: pad_state(0x5c),
        }
    }

    /// The key from `CCLAKE_HMAC_KEY`, else the file named by `CCLAKE_HMAC_KEY_FILE`, else
    /// `<config dir>/cclake/hmac.key`, generated on first use with mode 0600.
    pub fn from_environment() -> Result<HmacKey, KeyError> {
        if let Ok(k) = std::env::var("CCLAKE_HMAC_KEY") {
            if k.len() < 16 {
                return Err(KeyError::TooShort);
            }
            return Ok(HmacKey::from_bytes(k.into_bytes()));
        }
        let path = match std::env::var_os("CCLAKE_HMAC_KEY_FILE") {
            Some(p) => PathBuf::from(p),
            None => dirs::config_dir()
                .ok_or(KeyError::NoConfigDir)?
                .join("cclake")
                .join("hmac.key"),
        };
        Self::from_file(&path)
    }

    /// Reads a key file, creating it with a fresh random key (mode 0600) if it is missing.
    pub fn from_file(path: &std::path::Path) -> Result<HmacKey, KeyError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).trim().to_string();
                Ok(HmacKey::from_bytes(text.into_bytes()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let create = |source| KeyError::Create {
                    path: path.to_path_buf(),
                    source,
                };
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(create)?;
                }
                let key = hex::encode(rand::random::<[u8; 32]>());
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                match opts.open(path) {
                    Ok(mut f) => {
                        use std::io::Write;
                        f.write_all(key.as_bytes()).map_err(create)?;
                        f.sync_all().map_err(create)?;
                        Ok(HmacKey::from_bytes(key.into_bytes()))
                    }
                    // Created by another process meanwhile: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::from_file(path)
                    }
                    Err(e) => Err(create(e)),
                }
            }
            Err(source) => Err(KeyError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// HMAC-SHA-256 of a value, hex encoded.
    pub fn hash(&self, value: &str) -> String {
        self.hash_hex(value).as_str().to_string()
    }

    /// [`HmacKey::hash`] on the stack: Silver hashes a value or two per contact and the
    /// heap allocation showed up beside the hash itself.
    pub fn hash_hex(&self, value: &str) -> HexDigest {
        HexDigest::of(&self.digest(value))
    }

    /// HMAC-SHA-256 of a value, as raw bytes (what the phone memo keeps: half the size of hex).
    pub fn digest(&self, value: &str) -> [u8; 32] {
        let v = value.as_bytes();
        // One block holds the value, the 0x80 end marker and the 8-byte bit length.
        if v.len() > 55 {
            let mut mac = self.mac.clone();
            mac.update(v);
            return mac.finalize().into_bytes().into();
        }
        let mut block = [0u8; 64];
        block[..v.len()].copy_from_slice(v);
        block[v.len()] = 0x80;
        // The inner hash has already taken the 64-byte pad block.
        block[56..].copy_from_slice(&((64 + v.len() as u64) * 8).to_be_bytes());
        let mut state = self.inner;
        sha2::compress256(&mut state, &[block.into()]);
        let mut block = [0u8; 64];
        for (out, word) in block.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        block[32] = 0x80;
        block[56..].copy_from_slice(&((64 + 32u64) * 8).to_be_bytes());
        let mut state = self.outer;
        sha2::compress256(&mut state, &[block.into()]);
        let mut out = [0u8; 32];
        for (o, word) in out.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A SHA-256 digest in lowercase hex, as `hex::encode` writes it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexDigest([u8; 64]);

impl HexDigest {
    pub fn of(bytes: &[u8; 32]) -> HexDigest {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0x0f)];
        }
        HexDigest(out)
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: `of` is the only constructor and writes ASCII hex digits into every byte, so
        // this is always UTF-8. (Checking it on every call showed in Silver's profile: two
        // digests per contact, read twice each.)
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

impl std::fmt::Display for HexDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HexDigest({})", self.as_str())
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
    fn hmac_is_keyed() {
        let a = HmacKey::from_bytes(b"key-one-0123456789".to_vec());
        let b = HmacKey::from_bytes(b"key-two-0123456789".to_vec());
        let plain = hex::encode(Sha256::digest(b"+13175550123"));
        assert_ne!(a.hash("+13175550123"), plain);
        assert_ne!(a.hash("+13175550123"), b.hash("+13175550123"));
        assert_eq!(a.hash("+13175550123"), a.hash("+13175550123"));
        // RFC 4231 test case 2.
        let k = HmacKey::from_bytes(b"Jefe".to_vec());
        assert_eq!(
            k.hash("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn one_block_hmac_agrees_with_the_hmac_crate() {
        // Keys shorter than, equal to and longer than the block (hashed first); values of
        // every length around the one-block limit (55) and beyond, so both paths are covered.
        for key_len in [1usize, 16, 63, 64, 65, 131] {
            let key: Vec<u8> = (0..key_len).map(|i| (i * 7 + 3) as u8).collect();
            let ours = HmacKey::from_bytes(key.clone());
            for len in 0..=130usize {
                let value: String = (0..len)
                    .map(|i| char::from(b'0' + (i % 10) as u8))
                    .collect();
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
                mac.update(value.as_bytes());
                let want = hex::encode(mac.finalize().into_bytes());
                assert_eq!(
                    ours.hash(&value),
                    want,
                    "key {key_len} bytes, value {len} bytes"
                );
            }
        }
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

    #[test]
    fn key_file_is_created_once_with_owner_only_access() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/hmac.key");
        let k1 = HmacKey::from_file(&path).unwrap();
        let k2 = HmacKey::from_file(&path).unwrap();
        assert_eq!(k1.hash("x"), k2.hash("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
