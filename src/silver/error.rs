//! Why a Silver run stopped.

use chrono::NaiveDate;

use crate::config::ConfigError;
use crate::lake::LakeError;
use crate::lake::ledger::LedgerError;

#[derive(Debug, thiserror::Error)]
pub enum SilverError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] super::masking::LoadPolicyError),
    #[error("_config/status_map.toml: {0}")]
    StatusMap(#[from] super::status_map::StatusMapError),
    #[error(transparent)]
    Key(#[from] super::digest::KeyError),
    #[error(transparent)]
    KeyCheck(#[from] super::key_record::KeyCheckError),
    #[error(transparent)]
    Crm(#[from] super::crm::CrmError),
    #[error("Delta table {table}: {source}")]
    Delta {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error("building Silver rows for {date}: {source}")]
    Arrow {
        date: NaiveDate,
        source: arrow::error::ArrowError,
    },
    #[error("Bronze file {path} cannot be read: {message}")]
    Bronze { path: String, message: String },
    #[error("on the cluster: {0}")]
    Cluster(String),
    #[error("processing cancelled; dates already committed stay, the rest are rebuilt next run")]
    Cancelled,
    #[error(
        "another writer took over this lake's lease while this run stalled; dates already \
         committed stay, the rest are rebuilt next run"
    )]
    LeaseLost,
}
