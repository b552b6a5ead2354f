//! Acting on schema drift: map a drifted field onto a canonical column or mark it reviewed and
//! ignored (`_config/pipeline.toml` `[schema]`), or map an unmapped status value onto a
//! normalized outcome (`_config/status_map.toml`). The changes apply on the next process of
//! the affected dates. Edits keep the files' comments: the status map gets one line, and the
//! `[schema]` section (the last one of `pipeline.toml`) is rewritten from the parsed values.

use crate::config::{self, ConfigError, PipelineConfig};
use crate::lake::Lake;

use super::canonical::MAPPABLE_COLUMNS;
use super::status_map::{OUTCOMES, StatusMap};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("`{0}` is not a canonical column a field can be mapped to (one of: {1})")]
    UnknownColumn(String, String),
    #[error("`{0}` is not a normalized outcome (one of: {1})")]
    UnknownOutcome(String, String),
    #[error("_config/status_map.toml would not parse after the edit: {0}")]
    StatusMap(String),
    #[error(
        "_config/pipeline.toml: [schema] is not the last section, so it cannot be rewritten safely; edit it by hand"
    )]
    SchemaNotLast,
    #[error("the raw value is empty")]
    Empty,
}

/// Maps `field` of `shape` onto `column` (`Some`) or marks it ignored (`None`).
pub async fn map_field(
    lake: &Lake,
    shape: &str,
    field: &str,
    column: Option<&str>,
) -> Result<(), ReviewError> {
    if let Some(c) = column
        && !MAPPABLE_COLUMNS.iter().any(|(n, _)| *n == c)
    {
        let known: Vec<&str> = MAPPABLE_COLUMNS.iter().map(|(n, _)| *n).collect();
        return Err(ReviewError::UnknownColumn(c.into(), known.join(", ")));
    }
    let text = config::read_or_init(lake, config::PIPELINE_FILE, config::DEFAULT_PIPELINE).await?;
    let mut cfg = PipelineConfig::parse(&text)?;
    let map = cfg.schema.field_map.entry(shape.to_string()).or_default();
    let ignored = cfg.schema.ignored.entry(shape.to_string()).or_default();
    match column {
        Some(c) => {
            map.insert(field.to_string(), c.to_string());
            ignored.retain(|f| f != field);
        }
        None => {
            map.remove(field);
            if !ignored.iter().any(|f| f == field) {
                ignored.push(field.to_string());
            }
        }
    }
    cfg.schema.field_map.retain(|_, m| !m.is_empty());
    cfg.schema.ignored.retain(|_, v| !v.is_empty());
    let start = text
        .lines()
        .scan(0usize, |pos, l| {
            let at = *pos;
            *pos += l.len() + 1;
            Some((at, l))
        })
        .find(|(_, l)| l.trim() == "[schema]")
        .map(|(at, _)| at);
    let head =
        match start {
            Some(at) => {
                let rest = &text[at..];
                if rest.lines().skip(1).any(|l| {
                    l.trim_start().starts_with('[') && !l.trim_start().starts_with("[schema.")
                }) {
                    return Err(ReviewError::SchemaNotLast);
                }
                &text[..at]
            }
            None => text.as_str(),
        };
    let mut out = head.trim_end().to_string();
    out.push_str("\n\n[schema]\n# Fields that drifted in and were mapped to a canonical column, per shape.\n[schema.field_map]\n");
    for (shape, fields) in &cfg.schema.field_map {
        if fields.is_empty() {
            continue;
        }
        let pairs: Vec<String> = fields
            .iter()
            .map(|(f, c)| format!("{} = {}", toml_str(f), toml_str(c)))
            .collect();
        out.push_str(&format!(
            "{} = {{ {} }}\n",
            toml_key(shape),
            pairs.join(", ")
        ));
    }
    out.push_str("# Fields reviewed and deliberately ignored (still kept in _rescued_data), per shape.\n[schema.ignored]\n");
    for (shape, fields) in &cfg.schema.ignored {
        if fields.is_empty() {
            continue;
        }
        let list: Vec<String> = fields.iter().map(|f| toml_str(f)).collect();
        out.push_str(&format!("{} = [{}]\n", toml_key(shape), list.join(", ")));
    }
    // The result must read back as the edited configuration.
    let check = PipelineConfig::parse(&out)?;
    if check.schema != cfg.schema {
        return Err(ReviewError::SchemaNotLast);
    }
    config::write(lake, config::PIPELINE_FILE, &out).await?;
    Ok(())
}

/// Maps a raw status value onto a normalized outcome.
pub async fn map_status(lake: &Lake, raw: &str, outcome: &str) -> Result<(), ReviewError> {
    let key = raw.trim().to_lowercase();
    if key.is_empty() {
        return Err(ReviewError::Empty);
    }
    let outcome = outcome.trim().to_lowercase();
    if !OUTCOMES.contains(&outcome.as_str()) {
        return Err(ReviewError::UnknownOutcome(outcome, OUTCOMES.join(", ")));
    }
    let text =
        config::read_or_init(lake, config::STATUS_MAP_FILE, config::DEFAULT_STATUS_MAP).await?;
    let line = format!("{} = {}", toml_str(&key), toml_str(&outcome));
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Replace the key's line if it is there, else add it right under [map].
    let existing = lines.iter().position(|l| {
        l.split('=')
            .next()
            .is_some_and(|k| k.trim().trim_matches('"').to_lowercase() == key)
    });
    match existing {
        Some(i) => lines[i] = line,
        None => match lines.iter().position(|l| l.trim() == "[map]") {
            Some(i) => lines.insert(i + 1, line),
            None => {
                lines.push("[map]".into());
                lines.push(line);
            }
        },
    }
    let out = lines.join("\n") + "\n";
    StatusMap::parse(&out).map_err(|e| ReviewError::StatusMap(e.to_string()))?;
    config::write(lake, config::STATUS_MAP_FILE, &out).await?;
    Ok(())
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        s.to_string()
    } else {
        toml_str(s)
    }
}
