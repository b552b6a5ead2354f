//! The lake's own settings under `_config/`: `pipeline.toml` (thresholds, time zone, windows,
//! lifecycle, CRM source, schema mappings), `masking_policy.toml` and `status_map.toml`. Each
//! is created from the defaults in `assets/` the first time a lake is used, so a user can see
//! and edit every setting in one place.

pub mod zone;

use std::collections::BTreeMap;

use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::lake::{Lake, LakeError};

pub const PIPELINE_FILE: &str = "_config/pipeline.toml";
pub const POLICY_FILE: &str = "_config/masking_policy.toml";
pub const STATUS_MAP_FILE: &str = "_config/status_map.toml";

pub const DEFAULT_PIPELINE: &str = include_str!("../../assets/pipeline.toml");
pub const DEFAULT_STATUS_MAP: &str = include_str!("../../assets/status_map.toml");
pub const PRESET_GENERAL: &str = include_str!("../../assets/policies/general.toml");
pub const PRESET_HEALTHCARE: &str = include_str!("../../assets/policies/healthcare.toml");
pub const PRESET_FINANCE: &str = include_str!("../../assets/policies/finance.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("{file} is not valid: {message}")]
    Invalid { file: String, message: String },
}

/// `pipeline.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct PipelineConfig {
    pub reporting_timezone: String,
    pub service_level_seconds: f64,
    pub short_abandon_seconds: f64,
    pub fcr_window_days: u32,
    pub crm: CrmConfig,
    pub lifecycle: LifecycleConfig,
    pub ingest: IngestConfig,
    pub schema: SchemaConfig,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            reporting_timezone: "UTC".into(),
            service_level_seconds: 20.0,
            short_abandon_seconds: 5.0,
            fcr_window_days: 7,
            crm: CrmConfig::default(),
            lifecycle: LifecycleConfig::default(),
            ingest: IngestConfig::default(),
            schema: SchemaConfig::default(),
        }
    }
}

/// Limits that keep one bad input from exhausting memory or flooding Bronze.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IngestConfig {
    pub max_record_bytes: usize,
    pub max_partitions_per_input: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_record_bytes: 256 << 20,
            max_partitions_per_input: 10_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CrmConfig {
    pub source: String,
    /// `phone` or `contact_id`.
    pub join: String,
    pub key_column: String,
}

impl Default for CrmConfig {
    fn default() -> Self {
        CrmConfig {
            source: String::new(),
            join: "phone".into(),
            key_column: "phone_number".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LifecycleConfig {
    pub bronze_cold_after_days: u32,
    pub bronze_delete_after_days: u32,
    pub cold_store: String,
    pub delta_retention_days: u32,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            bronze_cold_after_days: 90,
            bronze_delete_after_days: 730,
            cold_store: String::new(),
            delta_retention_days: 7,
        }
    }
}

/// Reviewed schema drift: per shape, fields mapped to a canonical column or ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SchemaConfig {
    pub field_map: BTreeMap<String, BTreeMap<String, String>>,
    pub ignored: BTreeMap<String, Vec<String>>,
}

impl PipelineConfig {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid {
            file: PIPELINE_FILE.into(),
            message: e.to_string(),
        })
    }
}

/// Reads a config file of the lake, writing `default` first if the lake has none yet.
pub async fn read_or_init(lake: &Lake, file: &str, default: &str) -> Result<String, ConfigError> {
    let path = Path::from(file);
    match lake.get(&path).await {
        Ok(bytes) => String::from_utf8(bytes.to_vec()).map_err(|e| ConfigError::Invalid {
            file: file.into(),
            message: e.to_string(),
        }),
        Err(LakeError::Store {
            source: object_store::Error::NotFound { .. },
            ..
        }) => {
            match lake
                .put_create(&path, default.as_bytes().to_vec().into())
                .await
            {
                // Another process created it first: theirs is as good as ours.
                Ok(()) | Err(LakeError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            Ok(default.to_string())
        }
        Err(e) => Err(e.into()),
    }
}

/// Replaces a config file (config is the one thing in the lake that is edited in place).
pub async fn write(lake: &Lake, file: &str, text: &str) -> Result<(), ConfigError> {
    lake.put_overwrite(&Path::from(file), text.as_bytes().to_vec().into())
        .await?;
    Ok(())
}

/// The lake's `pipeline.toml`.
pub async fn load_pipeline(lake: &Lake) -> Result<PipelineConfig, ConfigError> {
    PipelineConfig::parse(&read_or_init(lake, PIPELINE_FILE, DEFAULT_PIPELINE).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_defaults_parse() {
        let p = PipelineConfig::parse(DEFAULT_PIPELINE).unwrap();
        assert_eq!(p, PipelineConfig::default());
        assert!(PipelineConfig::parse("service_level_seconds = \"twenty\"").is_err());
        let p = PipelineConfig::parse(
            "[schema.field_map]\ngeneric = { queue_seconds = \"wait_seconds\" }",
        )
        .unwrap();
        assert_eq!(
            p.schema.field_map["generic"]["queue_seconds"],
            "wait_seconds"
        );
    }
}
