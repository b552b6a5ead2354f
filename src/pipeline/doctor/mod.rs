//! `cclake doctor`: what is wrong with a lake that no ordinary run can get past, and the repair
//! for each. It reads every Delta table's newest commit, every state file, the ingest ledger
//! and every Bronze file; [`repair`] sets each problem right the one way that loses nothing
//! it need not: a damaged newest Delta commit or state file is moved aside (Silver and Gold
//! are rebuilt from the layer below), a deleted or damaged Bronze file is written again from
//! its original export (proved by its SHA-256) or, on request, its records are marked lost
//! (audited) and their dates rebuilt. What is moved aside is kept under `_cclake/doctor/`.
//!
//! ```text
//! cclake doctor                                  # what is wrong, and the command for each
//! cclake doctor --repair                         # state files and Delta commits
//! cclake doctor --repair --export exports/a.json # a Bronze file, from its original export
//! cclake doctor --repair --mark-lost --reason …  # a Bronze file with no export left
//! ```

mod check;
mod problem;
mod repair;

pub use check::check;
pub use problem::{DoctorError, Problem};
pub use repair::{RepairOptions, Repaired, repair};
