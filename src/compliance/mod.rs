//! Compliance checks over the lake: the leak scan proves (or disproves) that no raw PII made
//! it past Silver.

pub mod evidence;
pub mod policy;
pub mod scan;
pub mod subject;
pub mod view;
