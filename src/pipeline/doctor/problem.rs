//! What the doctor finds, in words, with the repair for each.

use crate::lake::LakeError;

/// One thing wrong with the lake.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A Delta table's newest commit cannot be read (cut short, overwritten with garbage).
    DamagedCommit {
        table: String,
        version: u64,
        file: String,
        message: String,
    },
    /// A state file that is not the JSON it should be.
    GarbledState { path: String, message: String },
    /// The key record, damaged: it can be written again once the key is proved against Silver.
    GarbledKeyRecord { message: String },
    /// A ledger row that is not valid JSON: Bronze's manifest, kept only in backups.
    GarbledLedger { path: String, message: String },
    /// A Bronze file the ledger names that is not in the lake (or its cold store).
    MissingBronze {
        path: String,
        source_path: String,
        sha256: String,
        records: u64,
    },
    /// A Bronze file that does not decompress, or holds other than the ledger's line count.
    DamagedBronze {
        path: String,
        source_path: String,
        sha256: String,
        records: u64,
        message: String,
    },
}

impl Problem {
    /// What is wrong, in a sentence.
    pub fn describe(&self) -> String {
        match self {
            Problem::DamagedCommit {
                table,
                version,
                message,
                ..
            } => {
                format!("{table}: its newest commit (version {version}) cannot be read: {message}")
            }
            Problem::GarbledState { path, message } => {
                format!("{path} is not valid JSON ({message})")
            }
            Problem::GarbledKeyRecord { message } => format!(
                "_cclake/key.json (the fingerprint of the key Silver is masked with) is damaged \
                 ({message}); until it is written again no run can check its key"
            ),
            Problem::GarbledLedger { path, message } => {
                format!("ledger row {path} is not valid JSON ({message})")
            }
            Problem::MissingBronze {
                path,
                source_path,
                records,
                ..
            } => format!(
                "Bronze file {path} ({records} records from {source_path}) is not in the lake"
            ),
            Problem::DamagedBronze {
                path,
                source_path,
                records,
                message,
                ..
            } => format!(
                "Bronze file {path} ({records} records from {source_path}) is damaged: {message}"
            ),
        }
    }

    /// The command that repairs it, and what the repair does.
    pub fn repair_hint(&self) -> String {
        match self {
            Problem::DamagedCommit { .. } => "cclake doctor --repair: the commit is moved aside \
                (the table rolls back to its last good version) and the layer is rebuilt from \
                the one below by the next `cclake process`"
                .into(),
            Problem::GarbledState { .. } => "cclake doctor --repair: the file is moved aside \
                and written anew by the next run (Silver and Gold state: that layer is rebuilt \
                in full)"
                .into(),
            Problem::GarbledKeyRecord { .. } => "cclake doctor --repair with the lake's key \
                set: the key is proved against the customer keys Silver holds (hashing the \
                phones of their Bronze records) and the record written again"
                .into(),
            Problem::GarbledLedger { .. } => "restore this file from a backup of the lake: it \
                lists the Bronze files of one ingested export"
                .into(),
            Problem::MissingBronze { source_path, .. }
            | Problem::DamagedBronze { source_path, .. } => format!(
                "cclake doctor --repair --export {source_path} (the original export, checked by \
                 its SHA-256) writes the file again; with no export left, `cclake doctor \
                 --repair --mark-lost --reason \"…\"` counts its records as lost (audited); \
                 either way its dates are rebuilt"
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Ledger(#[from] crate::lake::ledger::LedgerError),
    #[error("{what}: {message}")]
    Read { what: String, message: String },
    #[error("marking records lost needs a reason (it is kept in the audit log)")]
    NoReason,
    #[error(
        "{export} is not the export {path} came from: its SHA-256 differs from the ledger's \
         (the file was changed, or it is another export)"
    )]
    NotTheExport { export: String, path: String },
    #[error(
        "{export} holds {found} records for {path}'s hour, the ledger counted {records}: it \
         is not the export as it was ingested"
    )]
    ExportDiffers {
        export: String,
        path: String,
        found: u64,
        records: u64,
    },
    #[error("the key record cannot be restored: {0}")]
    Key(String),
}
