//! Turns the paths a user gave into the list of input files to ingest.

use std::path::{Path, PathBuf};

/// Extensions that are clearly not JSON exports. Inside a directory these are skipped (and
/// reported) so a CRM CSV or a README beside the exports is not quarantined line by line; a
/// file named explicitly is always read.
const NOT_JSON_EXTENSIONS: &[&str] = &[
    "csv", "tsv", "parquet", "txt", "md", "toml", "yaml", "yml", "xlsx", "xls", "pdf", "png",
    "jpg", "zip", "lock",
];

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
/// inside a directory are skipped, as are files whose extension says they are not JSON.
pub fn discover(inputs: &[PathBuf]) -> Result<Discovered, DiscoverError> {
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
        let walker = walkdir::WalkDir::new(input)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(e.path()));
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                // A folder inside the input that cannot be read is passed over and named;
                // the rest of the batch goes on. The input itself must be readable.
                Err(e) if e.depth() > 0 => {
                    let path = e.path().map_or_else(|| input.clone(), |p| p.to_path_buf());
                    out.skipped
                        .push((path, "cannot be read (permission denied or gone)"));
                    continue;
                }
                Err(source) => {
                    return Err(DiscoverError::Walk {
                        path: input.clone(),
                        source,
                    });
                }
            };
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
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    NOT_JSON_EXTENSIONS
        .contains(&ext.as_str())
        .then_some("not a JSON export (by its extension)")
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
        ] {
            std::fs::write(d.join(f), "{}").unwrap();
        }
        let got = discover(&[d.to_path_buf()]).unwrap();
        let names: Vec<_> = got
            .files
            .iter()
            .map(|p| p.strip_prefix(d).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["a/b/y.ndjson.gz", "a/b/z", "a/x.json"]);
        assert_eq!(got.skipped.len(), 1);
        // Named explicitly, a CSV is read (and will be quarantined if it is not JSON).
        let got = discover(&[d.join("crm.csv")]).unwrap();
        assert_eq!(got.files.len(), 1);
        assert!(matches!(
            discover(&[d.join("nope")]),
            Err(DiscoverError::Missing { .. })
        ));
    }
}
