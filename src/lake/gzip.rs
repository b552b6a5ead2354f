//! Whole-buffer gunzip for Bronze files, through libdeflate.
//!
//! A Bronze file is one hour of one input: small, and always read whole. zlib's
//! streaming design (a 32 KB window copied along, output grown as it goes) buys nothing there,
//! and libdeflate, which works on the whole buffer at once, inflates the bench lake's 634 MB of
//! Bronze in 0.32 s where zlib-rs takes 0.72 s (one core). Inflating Bronze was a tenth of
//! Silver's CPU time. (Writing stays with zlib-rs' fastest level: libdeflate's level 1 makes
//! Bronze a quarter smaller but cost ingest 13% more CPU.)

use std::ptr::NonNull;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GzipError {
    #[error("not valid gzip data (member starting at byte {offset})")]
    BadData { offset: usize },
    #[error("out of memory for the gzip decompressor")]
    OutOfMemory,
}

/// Deflate's largest expansion (258-byte matches in under two bits each), rounded up.
const MAX_RATIO: usize = 1_100;

/// A libdeflate decompressor, freed on drop.
struct Decompressor(NonNull<libdeflate_decompressor>);

impl Decompressor {
    fn new() -> Result<Self, GzipError> {
        // SAFETY: allocating a decompressor has no preconditions; NULL means out of memory.
        let p = unsafe { libdeflate_alloc_decompressor() };
        NonNull::new(p)
            .map(Decompressor)
            .ok_or(GzipError::OutOfMemory)
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the pointer came from libdeflate_alloc_decompressor and is freed once, here.
        unsafe { libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

/// Decompresses a whole gzip file. Concatenated members (what `cat a.gz b.gz` makes) are one
/// stream, as gzip itself reads them; anything after the last member that is not another
/// member is an error, so a damaged file is never read as a shorter good one.
pub fn gunzip(gz: &[u8]) -> Result<Vec<u8>, GzipError> {
    if gz.is_empty() {
        return Ok(Vec::new());
    }
    let d = Decompressor::new()?;
    // The trailer's ISIZE is the last member's size (mod 4 GiB): exact for a file of one
    // member, a first guess otherwise. Text inflates some 5 to 6 times.
    let isize_hint = gz
        .len()
        .checked_sub(4)
        .and_then(|i| gz.get(i..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize);
    // Deflate cannot expand past about 1,032 to 1, so no honest member needs more room than
    // this: a damaged trailer must not ask for gigabytes.
    let ceiling = gz.len().saturating_mul(MAX_RATIO).saturating_add(1 << 16);
    let mut out: Vec<u8> = Vec::with_capacity(
        isize_hint
            .min(ceiling)
            .max(gz.len().saturating_mul(6).min(ceiling))
            .max(64),
    );
    let mut pos = 0;
    while pos < gz.len() {
        let input = &gz[pos..];
        let (mut used, mut written) = (0usize, 0usize);
        let spare = out.spare_capacity_mut();
        // SAFETY: libdeflate reads `input.len()` bytes from `input` and writes at most
        // `spare.len()` bytes into the vector's spare capacity, reporting how many it wrote;
        // the decompressor is live and used by this thread alone.
        let ret = unsafe {
            libdeflate_gzip_decompress_ex(
                d.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                spare.as_mut_ptr().cast(),
                spare.len(),
                &mut used,
                &mut written,
            )
        };
        if ret == libdeflate_result_LIBDEFLATE_SUCCESS && used > 0 {
            // SAFETY: libdeflate initialised exactly `written` bytes of the spare capacity.
            unsafe { out.set_len(out.len() + written) };
            pos += used;
        } else if ret == libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE {
            // The member did not fit: double the room (reserve counts from the length, so
            // ask for the spare room there is plus as much again) and inflate it again.
            if out.capacity() >= ceiling {
                return Err(GzipError::BadData { offset: pos });
            }
            let spare = out.capacity() - out.len();
            out.reserve(spare + out.capacity().max(1 << 16));
        } else {
            // Bad data, or a "member" that took no input at all.
            return Err(GzipError::BadData { offset: pos });
        }
    }
    Ok(out)
}

/// Compresses `text` as one gzip member (small state files rewritten in place of old ones).
pub fn gzip(text: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(text);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"id\":{i},\"note\":\"call {}\"}}\n", i * 7919 % 1013))
            .collect::<String>()
            .into_bytes()
    }

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_what_zlib_writes_at_every_level() {
        for n in [0, 1, 1000, 50_000] {
            let data = text(n);
            for level in [0, 1, 6, 9] {
                let gz = gzip(&data, level);
                assert_eq!(gunzip(&gz).unwrap(), data, "n={n} level={level}");
                // The same bytes as zlib's own streaming reader.
                let mut back = Vec::new();
                flate2::read::MultiGzDecoder::new(&gz[..])
                    .read_to_end(&mut back)
                    .unwrap();
                assert_eq!(back, data);
            }
        }
    }

    #[test]
    fn concatenated_members_are_one_stream() {
        let (a, b) = (text(3000), text(10));
        let mut both = gzip(&a, 1);
        both.extend(gzip(&b, 9));
        let mut want = a.clone();
        want.extend(&b);
        assert_eq!(gunzip(&both).unwrap(), want);
        // Two members of the same size: the trailer's hint is right for each, and the second
        // must not be dropped.
        let mut twice = gzip(&a, 1);
        twice.extend(gzip(&a, 1));
        assert_eq!(gunzip(&twice).unwrap().len(), 2 * a.len());
    }

    #[test]
    fn a_short_first_guess_only_costs_a_retry() {
        // A first member far bigger than six times the file, then a tiny last one whose size
        // is all the trailer tells.
        let big = vec![b'x'; 600_000];
        let mut gz = gzip(&big, 1);
        gz.extend(gzip(b"tail\n", 1));
        let out = gunzip(&gz).unwrap();
        assert_eq!(out.len(), big.len() + 5);
        assert!(out.ends_with(b"xtail\n"));
        // libdeflate checks each member's ISIZE, so a trailer that lies is bad data, whether
        // it claims too little or (without asking for 4 GiB first) far too much.
        for claim in [7u32, u32::MAX] {
            let mut lying = gzip(&big, 1);
            let n = lying.len();
            lying[n - 4..].copy_from_slice(&claim.to_le_bytes());
            assert_eq!(gunzip(&lying), Err(GzipError::BadData { offset: 0 }));
        }
    }

    #[test]
    fn damage_is_an_error_with_the_member_offset() {
        let data = text(2000);
        let good = gzip(&data, 1);
        let mut cut = good.clone();
        cut.truncate(good.len() - 9);
        assert_eq!(gunzip(&cut), Err(GzipError::BadData { offset: 0 }));
        let mut trailing = good.clone();
        trailing.extend(b"garbage");
        assert_eq!(
            gunzip(&trailing),
            Err(GzipError::BadData { offset: good.len() })
        );
        assert!(gunzip(b"not gzip at all").is_err());
    }
}
