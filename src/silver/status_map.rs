//! Outcome normalisation: raw outcome words of each system mapped, case-insensitively, onto
//! handled, abandoned, transferred, voicemail, callback, failed or unknown.

use std::collections::HashMap;

use ahash::AHashMap;

use serde::Deserialize;

/// The normalised outcomes.
pub const OUTCOMES: &[&str] = &[
    "handled",
    "abandoned",
    "transferred",
    "voicemail",
    "callback",
    "failed",
    "unknown",
];

#[derive(Debug, Clone, Default)]
pub struct StatusMap {
    map: AHashMap<String, String>,
}

#[derive(Deserialize)]
struct StatusMapFile {
    #[serde(default)]
    map: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatusMapError {
    #[error("status_map.toml does not parse: {0}")]
    Syntax(String),
    #[error("status_map.toml: `{raw}` maps to `{to}`, which is not one of {}", OUTCOMES.join(", "))]
    UnknownOutcome { raw: String, to: String },
}

impl StatusMap {
    pub fn parse(text: &str) -> Result<StatusMap, StatusMapError> {
        let file: StatusMapFile =
            toml::from_str(text).map_err(|e| StatusMapError::Syntax(e.to_string()))?;
        let mut map = AHashMap::new();
        for (raw, to) in file.map {
            let to = to.trim().to_lowercase();
            if !OUTCOMES.contains(&to.as_str()) {
                return Err(StatusMapError::UnknownOutcome { raw, to });
            }
            map.insert(raw.trim().to_lowercase(), to);
        }
        Ok(StatusMap { map })
    }

    /// The normalised outcome, or `None` when the raw value is not mapped.
    pub fn normalize(&self, raw: &str) -> Option<&str> {
        let t = raw.trim();
        // Every contact passes here: short ASCII values are lowercased on the stack.
        let mut buf = [0u8; 64];
        if t.is_ascii() && t.len() <= buf.len() {
            let key = &mut buf[..t.len()];
            key.copy_from_slice(t.as_bytes());
            key.make_ascii_lowercase();
            let key = std::str::from_utf8(key).ok()?;
            return self.map.get(key).map(String::as_str);
        }
        self.map.get(&t.to_lowercase()).map(String::as_str)
    }
}

/// Adds or changes one mapping in the file's text, keeping the rest (and its comments).
pub fn with_mapping(text: &str, raw: &str, to: &str) -> Result<String, StatusMapError> {
    let mut doc: toml::Table =
        toml::from_str(text).map_err(|e| StatusMapError::Syntax(e.to_string()))?;
    let map = doc
        .entry("map")
        .or_insert_with(|| toml::Value::Table(Default::default()));
    if let toml::Value::Table(t) = map {
        t.insert(
            raw.trim().to_lowercase(),
            toml::Value::String(to.to_string()),
        );
    }
    let out = toml::to_string(&doc).map_err(|e| StatusMapError::Syntax(e.to_string()))?;
    StatusMap::parse(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_map_covers_the_spec_words() {
        let m = StatusMap::parse(crate::config::DEFAULT_STATUS_MAP).unwrap();
        for (raw, want) in [
            ("Completed", "handled"),
            ("RESOLVED", "handled"),
            (" Handled ", "handled"),
            ("Answered", "handled"),
            ("Abandoned", "abandoned"),
            ("Cancelled", "abandoned"),
            ("Canceled", "abandoned"),
            ("Caller Hangup", "abandoned"),
            ("Transferred", "transferred"),
            ("Voicemail", "voicemail"),
            ("Callback", "callback"),
            ("Failed", "failed"),
            ("Error", "failed"),
        ] {
            assert_eq!(m.normalize(raw), Some(want), "{raw}");
        }
        assert_eq!(m.normalize("Callback Requested"), None);
        assert!(StatusMap::parse("[map]\nx = \"great\"").is_err());
        let t = with_mapping(
            crate::config::DEFAULT_STATUS_MAP,
            "Callback Requested",
            "callback",
        )
        .unwrap();
        assert_eq!(
            StatusMap::parse(&t)
                .unwrap()
                .normalize("callback requested"),
            Some("callback")
        );
    }
}
