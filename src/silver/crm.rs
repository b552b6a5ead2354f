//! CRM enrichment: customer tier, product and account owner from a CSV or Parquet extract,
//! joined on the contact id or on the caller's phone (hashed with the lake's key, so the join
//! happens on `customer_key` and no raw phone is kept).

use std::collections::HashMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};

use super::masking::Masker;
use super::pii::PhoneCache;
use crate::config::CrmConfig;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrmInfo {
    pub customer_tier: Option<String>,
    pub product_type: Option<String>,
    pub account_owner: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrmJoin {
    /// On `customer_key` (the CRM phone hashed with the same key).
    Phone,
    ContactId,
}

/// The CRM extract, keyed for the join.
#[derive(Debug, Default)]
pub struct Crm {
    pub join: Option<CrmJoin>,
    pub by_key: HashMap<String, CrmInfo>,
    pub rows: usize,
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    #[error("CRM source {source_path}: {message}")]
    Read {
        source_path: String,
        message: String,
    },
    #[error("CRM source {source_path} has no column `{column}` (columns: {columns})")]
    MissingColumn {
        source_path: String,
        column: String,
        columns: String,
    },
    #[error("pipeline.toml crm.join must be \"phone\" or \"contact_id\", not \"{0}\"")]
    BadJoin(String),
}

impl Crm {
    pub fn lookup(&self, customer_key: Option<&str>, contact_id: Option<&str>) -> Option<&CrmInfo> {
        let key = match self.join? {
            CrmJoin::Phone => customer_key?,
            CrmJoin::ContactId => contact_id?,
        };
        self.by_key.get(key)
    }
}

/// Loads the CRM extract named in `pipeline.toml` (nothing when the source is empty).
pub async fn load(cfg: &CrmConfig, masker: &Masker) -> Result<Crm, CrmError> {
    let source = cfg.source.trim();
    if source.is_empty() {
        return Ok(Crm::default());
    }
    let join = match cfg.join.trim() {
        "phone" => CrmJoin::Phone,
        "contact_id" => CrmJoin::ContactId,
        other => return Err(CrmError::BadJoin(other.to_string())),
    };
    let path = source.strip_prefix("file://").unwrap_or(source).to_string();
    let read_err = |e: &dyn std::fmt::Display| CrmError::Read {
        source_path: source.to_string(),
        message: e.to_string(),
    };
    if !std::path::Path::new(&path).exists() {
        return Err(read_err(&"file not found"));
    }
    let ctx = SessionContext::new();
    let df = if path.to_ascii_lowercase().ends_with(".parquet") {
        ctx.read_parquet(&path, ParquetReadOptions::default()).await
    } else {
        ctx.read_csv(&path, CsvReadOptions::new().has_header(true))
            .await
    }
    .map_err(|e| read_err(&e))?;
    let batches = df.collect().await.map_err(|e| read_err(&e))?;

    let mut crm = Crm {
        join: Some(join),
        source: source.to_string(),
        ..Default::default()
    };
    let mut phones = PhoneCache::default();
    for batch in &batches {
        let schema = batch.schema();
        let column = |name: &str| -> Result<Option<arrow::array::ArrayRef>, CrmError> {
            match schema.index_of(name) {
                Ok(i) => arrow::compute::cast(batch.column(i), &DataType::Utf8)
                    .map(Some)
                    .map_err(|e| read_err(&e)),
                Err(_) => Ok(None),
            }
        };
        let key = column(&cfg.key_column)?.ok_or_else(|| CrmError::MissingColumn {
            source_path: source.to_string(),
            column: cfg.key_column.clone(),
            columns: schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let (tier, product, owner) = (
            column("customer_tier")?,
            column("product_type")?,
            column("account_owner")?,
        );
        let text = |a: &Option<arrow::array::ArrayRef>, i: usize| -> Option<String> {
            let a = a.as_ref()?.as_string::<i32>();
            (!a.is_null(i)).then(|| a.value(i).to_string())
        };
        let keys = key.as_string::<i32>();
        for i in 0..batch.num_rows() {
            if keys.is_null(i) {
                continue;
            }
            let raw = keys.value(i);
            let k = match join {
                CrmJoin::Phone => match masker.customer_key(raw, &mut phones) {
                    Some(k) => k,
                    None => continue,
                },
                CrmJoin::ContactId => raw.to_string(),
            };
            crm.rows += 1;
            crm.by_key.insert(
                k,
                CrmInfo {
                    customer_tier: text(&tier, i),
                    product_type: text(&product, i),
                    account_owner: text(&owner, i),
                },
            );
        }
    }
    Ok(crm)
}
