//! Turns the paths a user gave into the list of input files to ingest.

use std::path::{Path, PathBuf};

/// Extensions a JSON export is written with. Inside a directory only these are read (a name
/// ending in `.gz` is read by content: gzip of any of them), plus files with no extension at
/// all whose first bytes are JSON or gzip (Kinesis Data Firehose names its objects without
/// one). Anything else, a CRM CSV, a README, a key or a config file beside the exports, is
/// passed over and listed. A file named explicitly is always read.
const JSON_EXTENSIONS: &[&str] = &["json", "ndjson", "jsonl", "gz"];

/// The input files found under the given paths.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Files to ingest, in a stable order (sorted within each directory).
    pub files: Vec<PathBuf>,
    /// Files inside directories that were passed over, with the reason.
    pub skipped: Vec<(PathBuf, &'static str)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("input {path} does not exist")]
    Missing { path: PathBuf },
    #[error("cannot list {path}: {source}")]
    Walk {
        path: PathBuf,
        source: walkdir::Error,
    },
}

/// Expands files and directories (recursively). Hidden files and folders (a leading `.`)
/// inside a directory are skipped, as are files whose name says they are not JSON. Symbolic
/// links inside a directory are not followed (a link to `/etc` would pull outside files into
/// the lake); with `follow_symlinks`, a link is followed when where it leads lies inside the
/// directory given.
pub fn discover(inputs: &[PathBuf], follow_symlinks: bool) -> Result<Discovered, DiscoverError> {
    let mut out = Discovered::default();
    for input in inputs {
        if input.is_file() {
            out.files.push(input.clone());
            continue;
        }
        if !input.is_dir() {
            return Err(DiscoverError::Missing {
                path: input.clone(),
            });
        }
        let root = input.canonicalize().unwrap_or_else(|_| input.clone());
        let mut walker = walkdir::WalkDir::new(input)
            .follow_links(follow_symlinks)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(e.path()));
        while let Some(entry) = walker.next() {
            let entry = match entry {
                Ok(e) => e,
                // A folder inside the input that cannot be read is passed over and named;
                // the rest of the batch goes on. The input itself must be readable.
                Err(e) if e.depth() > 0 => {
                    let path = e.path().map_or_else(|| input.clone(), |p| p.to_path_buf());
                    let reason = if e.loop_ancestor().is_some() {
                        "a symbolic link back to a folder above it (not followed)"
                    } else {
                        "cannot be read (permission denied or gone)"
                    };
                    out.skipped.push((path, reason));
                    continue;
                }
                Err(source) => {
                    return Err(DiscoverError::Walk {
                        path: input.clone(),
                        source,
                    });
                }
            };
            if entry.path_is_symlink() {
                let inside = entry
                    .path()
                    .canonicalize()
                    .is_ok_and(|target| target.starts_with(&root));
                if !follow_symlinks {
                    out.skipped.push((
                        entry.into_path(),
                        "a symbolic link (not followed; --follow-symlinks follows links that stay inside the input folder)",
                    ));
                    continue;
                }
                if !inside {
                    if entry.file_type().is_dir() {
                        walker.skip_current_dir();
                    }
                    out.skipped.push((
                        entry.into_path(),
                        "a symbolic link to a place outside the input folder (not followed)",
                    ));
                    continue;
                }
            }
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.into_path();
            match skip_reason(&path) {
                Some(reason) => out.skipped.push((path, reason)),
                None => out.files.push(path),
            }
        }
    }
    Ok(out)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn skip_reason(path: &Path) -> Option<&'static str> {
    let Some(ext) = path.extension() else {
        return (!starts_like_an_export(path))
            .then_some("no extension, and its first bytes are neither JSON nor gzip");
    };
    let ext = ext.to_str().unwrap_or_default().to_ascii_lowercase();
    (!JSON_EXTENSIONS.contains(&ext.as_str()))
        .then_some("not a JSON export (by its extension: .json, .ndjson, .jsonl or .gz are read)")
}

/// Whether a file's first non-blank byte opens JSON (`{`, `[`) or it is gzip.
fn starts_like_an_export(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 512];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) else {
        return false;
    };
    let head = &head[..n];
    if head.starts_with(&[0x1f, 0x8b]) {
        return true;
    }
    let head = head
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(head);
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_and_skips_non_json() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::create_dir_all(d.join(".hidden")).unwrap();
        for f in [
            "a/x.json",
            "a/b/y.ndjson.gz",
            "a/b/z",
            "crm.csv",
            ".hidden/q.json",
            ".dot.json",
            "server.pem",
            "app.conf",
        ] {
            std::fs::write(d.join(f), "{}").unwrap();
        }
        std::fs::write(d.join("a/shadow"), "root:x:0:0\n").unwrap();
        let got = discover(&[d.to_path_buf()], false).unwrap();
        let names: Vec<_> = got
            .files
            .iter()
            .map(|p| p.strip_prefix(d).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["a/b/y.ndjson.gz", "a/b/z", "a/x.json"]);
        // The CSV, the key, the config and the extension-less text file.
        assert_eq!(got.skipped.len(), 4, "{:?}", got.skipped);
        // Named explicitly, a CSV is read (and will be quarantined if it is not JSON).
        let got = discover(&[d.join("crm.csv")], false).unwrap();
        assert_eq!(got.files.len(), 1);
        assert!(matches!(
            discover(&[d.join("nope")], false),
            Err(DiscoverError::Missing { .. })
        ));
    }

    #[test]
    fn symbolic_links_are_not_followed_out_of_the_input() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.json"), "{}").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("real")).unwrap();
        std::fs::write(d.join("real/x.json"), "{}").unwrap();
        std::os::unix::fs::symlink(outside.path(), d.join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.json"), d.join("s.json")).unwrap();
        std::os::unix::fs::symlink(d.join("real"), d.join("inner")).unwrap();
        std::os::unix::fs::symlink(d, d.join("real/loop")).unwrap();
        let names = |got: &Discovered| -> Vec<String> {
            (got.files.iter())
                .map(|p| p.strip_prefix(d).unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let got = discover(&[d.to_path_buf()], false).unwrap();
        assert_eq!(names(&got), ["real/x.json"]);
        assert_eq!(got.skipped.len(), 4, "{:?}", got.skipped);
        // Followed on request, but only where a link stays inside the input folder.
        let got = discover(&[d.to_path_buf()], true).unwrap();
        assert_eq!(names(&got), ["inner/x.json", "real/x.json"]);
        assert!(
            got.files
                .iter()
                .all(|f| !f.to_string_lossy().contains("secret"))
        );
    }
}
