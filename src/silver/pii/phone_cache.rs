//! The per-thread memo of phone normalisation and hashing.

use std::sync::LazyLock;

use ahash::AHashMap;

use super::{Detectors, phone_text};
use crate::silver::digest::HexDigest;

/// Memo of phone normalisation and hashing: libphonenumber parsing and the keyed hash are the
/// costliest steps of masking and callers recur, so each worker keeps the answers it has seen
/// (see [`with_phone_cache`], which keeps one per thread for a whole run).
#[derive(Default)]
pub struct PhoneCache {
    /// Which masker (key and policy) the remembered hashes belong to.
    owner: u64,
    /// E.164 form of numbers the full parser had to read.
    map: AHashMap<String, Option<String>>,
    /// Keyed hashes of E.164 numbers (the phone column and customer_key share them).
    hashes: ahash::AHashSet<KeyEntry>,
    /// Keyed hash of a phone value exactly as written (`None`: not a valid number), so a
    /// caller seen before costs one lookup. This lookup is on every row, and the table
    /// outgrows the core's cache (10,000 callers): so each entry holds its key and raw digest
    /// in one cache line, where a boxed key or a hex digest beside the key cost a miss more.
    keys: ahash::AHashSet<KeyEntry>,
}

impl std::fmt::Debug for PhoneCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneCache")
            .field("owner", &self.owner)
            .field("parsed", &self.map.len())
            .field("hashes", &self.hashes.len())
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// A memo key held inline: phone numbers as written are short, and a longer value is simply
/// not remembered.
#[derive(Clone, Copy, PartialEq, Eq)]
struct ShortKey {
    len: u8,
    bytes: [u8; SHORT_KEY],
}

/// The longest value a memo remembers: `+1 (317) 555-0123 x1234` fits.
const SHORT_KEY: usize = 23;

impl ShortKey {
    fn new(s: &str) -> Option<ShortKey> {
        let mut bytes = [0u8; SHORT_KEY];
        bytes.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        Some(ShortKey {
            len: s.len() as u8,
            bytes,
        })
    }
}

impl std::hash::Hash for ShortKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The unused tail is always zero, so hashing the used bytes is enough.
        state.write(&self.bytes[..usize::from(self.len)]);
    }
}

/// One memo entry: a key and its keyed hash (`None`: not a valid number), 57 bytes padded
/// to exactly one cache line. Found by its key alone (equality and hash look at the key).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct KeyEntry {
    key: ShortKey,
    digest: Option<[u8; 32]>,
}

impl PartialEq for KeyEntry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for KeyEntry {}

impl std::hash::Hash for KeyEntry {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl std::borrow::Borrow<ShortKey> for KeyEntry {
    fn borrow(&self) -> &ShortKey {
        &self.key
    }
}

/// Entries a memo map holds before it starts over: bounds memory on lakes with millions of
/// distinct callers (64 to 100 bytes an entry). The budget is shared by the worker threads,
/// so a many-core machine does not keep a full memo on each.
static MEMO_CAP: LazyLock<usize> =
    LazyLock::new(|| (400_000 / rayon::current_num_threads().max(1)).max(20_000));

/// Adds (or replaces) a memo entry.
fn remember(set: &mut ahash::AHashSet<KeyEntry>, entry: KeyEntry) {
    if set.len() >= *MEMO_CAP {
        set.clear();
    }
    set.replace(entry);
}

impl PhoneCache {
    pub fn e164(&mut self, d: &Detectors, raw: &str) -> Option<String> {
        // Numbers the NANP table decides are cheap: only what the full parser had to read is
        // remembered, so unique digit runs in free text do not fill the cache.
        if let Some(answer) = d.nanp_fast_path(phone_text(raw)) {
            return answer;
        }
        if let Some(hit) = self.map.get(raw) {
            return hit.clone();
        }
        let v = d.phone_e164(raw);
        if self.map.len() >= *MEMO_CAP {
            self.map.clear();
        }
        self.map.insert(raw.to_string(), v.clone());
        v
    }

    /// `hash(e164)`, remembered.
    pub fn hash_of(&mut self, e164: &str, hash: impl FnOnce(&str) -> [u8; 32]) -> HexDigest {
        HexDigest::of(&self.digest_of(e164, hash))
    }

    fn digest_of(&mut self, e164: &str, hash: impl FnOnce(&str) -> [u8; 32]) -> [u8; 32] {
        let Some(key) = ShortKey::new(e164) else {
            return hash(e164);
        };
        if let Some(d) = self.hashes.get(&key).and_then(|e| e.digest) {
            return d;
        }
        let d = hash(e164);
        remember(
            &mut self.hashes,
            KeyEntry {
                key,
                digest: Some(d),
            },
        );
        d
    }

    /// The keyed hash of a phone's E.164 form (`None` when it is no valid number), by the
    /// value as written.
    pub fn key_of(
        &mut self,
        d: &Detectors,
        raw: &str,
        hash: impl FnOnce(&str) -> [u8; 32],
    ) -> Option<HexDigest> {
        let k = ShortKey::new(raw);
        if let Some(hit) = k.and_then(|k| self.keys.get(&k)) {
            return hit.digest.as_ref().map(HexDigest::of);
        }
        let digest = self.e164(d, raw).map(|e| self.digest_of(&e, hash));
        if let Some(key) = k {
            remember(&mut self.keys, KeyEntry { key, digest });
        }
        digest.as_ref().map(HexDigest::of)
    }
}

thread_local! {
    static THREAD_PHONES: std::cell::RefCell<PhoneCache> = std::cell::RefCell::default();
}

/// Empties this thread's phone memo (a run is over; the app stays open).
pub fn clear_thread_phone_cache() {
    THREAD_PHONES.with(|cell| {
        if let Ok(mut c) = cell.try_borrow_mut() {
            *c = PhoneCache::default();
        }
    });
}

/// Runs `f` with this thread's phone memo for the masker `owner` (see
/// [`super::masking::Masker::id`]); a memo left by another masker is cleared first, as its
/// hashes were made with another key. Silver's workers keep theirs across chunks and dates,
/// where a memo per chunk re-hashed half the callers. `f` must not re-enter (it gets a fresh
/// memo if it does).
pub fn with_phone_cache<R>(owner: u64, f: impl FnOnce(&mut PhoneCache) -> R) -> R {
    THREAD_PHONES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut c) => {
            if c.owner != owner {
                *c = PhoneCache {
                    owner,
                    ..PhoneCache::default()
                };
            }
            f(&mut c)
        }
        Err(_) => f(&mut PhoneCache::default()),
    })
}
