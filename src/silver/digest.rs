//! The secret key of the keyed hash (HMAC-SHA-256) and its hex digests.
//!
//! The key never enters the lake and is never logged. It comes from `CCLAKE_HMAC_KEY`, a key
//! file named by `CCLAKE_HMAC_KEY_FILE`, or `<config dir>/cclake/hmac.key`, generated on
//! first use. A key of fewer than [`MIN_KEY_BYTES`] bytes is refused, and a generated key file
//! is written whole or not at all (temp file, fsync, hard link, mode 0600), so a crash or a
//! racing process can never leave an empty or partial key behind. What the lake records is
//! the key's [fingerprint](HmacKey::fingerprint): an HMAC of a fixed label, which says
//! whether two keys are the same without saying anything about either.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The shortest key accepted, in bytes: the output size of SHA-256, below which the keyed
/// hash of a phone number gets easier to brute-force than the hash itself.
pub const MIN_KEY_BYTES: usize = 32;

/// The label whose keyed hash is a key's fingerprint.
const FINGERPRINT_LABEL: &str = "cclake key fingerprint v1";

/// Where a key came from, for messages (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `CCLAKE_HMAC_KEY` environment variable.
    Environment,
    /// A key file that existed.
    File(PathBuf),
    /// A key file generated just now.
    Generated(PathBuf),
    /// Bytes handed to [`HmacKey::from_bytes`].
    Given,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Environment => f.write_str("the CCLAKE_HMAC_KEY environment variable"),
            KeySource::File(p) => write!(f, "the key file {}", p.display()),
            KeySource::Generated(p) => write!(f, "the key file {} (generated now)", p.display()),
            KeySource::Given => f.write_str("a key given by the caller"),
        }
    }
}

/// The secret key of the keyed hash. Keeps the keyed HMAC state so each hash only pays for
/// its message.
#[derive(Clone)]
pub struct HmacKey {
    mac: Hmac<Sha256>,
    /// SHA-256 states after the key's inner and outer pad blocks (RFC 2104). A value that
    /// fits one block with its padding (what masking hashes: phones, ids) then costs exactly
    /// two compressions and no buffering; cloning and finalizing the `Hmac` state around them
    /// cost as much again.
    inner: [u32; 8],
    outer: [u32; 8],
    source: KeySource,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HmacKey(from {})", self.source)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "{from} holds a key of {len} bytes; at least {MIN_KEY_BYTES} are needed (a long random \
         secret, e.g. `head -c 32 /dev/urandom | base64`)"
    )]
    TooShort { from: KeySource, len: usize },
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
    /// A key from bytes the caller already has (tests, the CRM join of a rekey). Keys read
    /// from the environment or a file go through [`HmacKey::from_environment`], which
    /// checks their length and says where they came from.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> HmacKey {
        Self::with_source(bytes.into(), KeySource::Given)
    }

    fn with_source(bytes: Vec<u8>, source: KeySource) -> HmacKey {
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
            source,
        }
    }

    /// The key from `CCLAKE_HMAC_KEY`, else the file named by `CCLAKE_HMAC_KEY_FILE`, else
    /// `<config dir>/cclake/hmac.key`, generated on first use.
    pub fn from_environment() -> Result<HmacKey, KeyError> {
        if let Ok(k) = std::env::var("CCLAKE_HMAC_KEY") {
            return Self::checked(k.into_bytes(), KeySource::Environment);
        }
        Self::from_file(&Self::default_file()?)
    }

    /// Where [`HmacKey::from_environment`] keeps the key when no variable names one.
    pub fn default_file() -> Result<PathBuf, KeyError> {
        match std::env::var_os("CCLAKE_HMAC_KEY_FILE") {
            Some(p) => Ok(PathBuf::from(p)),
            None => Ok(dirs::config_dir()
                .ok_or(KeyError::NoConfigDir)?
                .join("cclake")
                .join("hmac.key")),
        }
    }

    fn checked(bytes: Vec<u8>, source: KeySource) -> Result<HmacKey, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                from: source,
                len: bytes.len(),
            });
        }
        Ok(Self::with_source(bytes, source))
    }

    /// Reads a key file (surrounding whitespace is not part of the key), creating it with a
    /// fresh random key if it is missing.
    pub fn from_file(path: &Path) -> Result<HmacKey, KeyError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).trim().as_bytes().to_vec();
                Self::checked(text, KeySource::File(path.to_path_buf()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match generate_key_file(path) {
                    Ok(key) => Self::checked(key, KeySource::Generated(path.to_path_buf())),
                    // Created by another process meanwhile: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::from_file(path)
                    }
                    Err(source) => Err(KeyError::Create {
                        path: path.to_path_buf(),
                        source,
                    }),
                }
            }
            Err(source) => Err(KeyError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Where this key came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The key's fingerprint: the keyed hash of a fixed label, hex. Two keys have the same
    /// fingerprint only if they are the same key; the fingerprint tells nothing about the key.
    pub fn fingerprint(&self) -> String {
        self.hash(FINGERPRINT_LABEL)
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

/// The file a rotation generates its new key into, beside the key file in force.
pub fn next_key_file(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".next");
    path.with_file_name(name)
}

/// Puts a rotation's new key in force once the lake has been rebuilt under it: the old key
/// is kept as `<file>.retired-<time>` (a hard link, made first), then the new key file is
/// renamed over the old one, which replaces it atomically. A crash at any point leaves either
/// key whole at `path`. Returns where the old key went.
pub fn promote_next_key_file(path: &Path) -> std::io::Result<PathBuf> {
    let next = next_key_file(path);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(
        ".retired-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ));
    let retired = path.with_file_name(name);
    match std::fs::hard_link(path, &retired) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::rename(&next, path)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(retired)
}

/// Writes a new key file whole or not at all: 32 random bytes, hex encoded, into a temp file
/// (mode 0600) that is synced and then hard-linked to `path` (which fails if `path` exists, so
/// two processes generating at once keep one key), then the folder is synced. Returns the key.
fn generate_key_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let key = hex::encode(rand::random::<[u8; 32]>()).into_bytes();
    let tmp = dir.join(format!(
        ".{}.{:08x}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        rand::random::<u32>()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(&key)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    written?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Not every platform can sync a folder; the key file itself is synced.
        let _ = d.sync_all();
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn short_and_empty_key_files_are_refused_and_a_generated_one_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("empty.key", ""), ("short.key", "0123456789abcdef0123\n")] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            let e = HmacKey::from_file(&p).unwrap_err();
            assert!(matches!(e, KeyError::TooShort { .. }), "{e}");
            assert!(e.to_string().contains(name), "{e}");
        }
        let p = dir.path().join("sub/new.key");
        let k = HmacKey::from_file(&p).unwrap();
        assert!(matches!(k.source(), KeySource::Generated(_)));
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.len(), 64, "32 random bytes, hex");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Read back: the same key, and no temp file left behind.
        let again = HmacKey::from_file(&p).unwrap();
        assert_eq!(again.fingerprint(), k.fingerprint());
        assert!(matches!(again.source(), KeySource::File(_)));
        let left: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn processes_generating_at_once_keep_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("race.key");
        let prints: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| HmacKey::from_file(&p).unwrap().fingerprint()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(prints.windows(2).all(|w| w[0] == w[1]), "{prints:?}");
    }

    #[test]
    fn fingerprints_tell_keys_apart_without_revealing_them() {
        let a = HmacKey::from_bytes(vec![b'a'; 32]);
        let b = HmacKey::from_bytes(vec![b'b'; 32]);
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(
            a.fingerprint(),
            HmacKey::from_bytes(vec![b'a'; 32]).fingerprint()
        );
        assert!(!a.fingerprint().contains("aaaa"));
    }
}
