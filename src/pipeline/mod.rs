//! Jobs over the layers: the one vocabulary of work ([`Job`]) the CLI and the app both run
//! through [`run`], and the steps that span layers (Silver then Gold, a key rotation, the demo
//! lake, a pull from a platform's API).

pub mod cluster;
pub mod demo;
pub mod doctor;
pub mod erase;
pub mod job;
pub mod layers;
pub mod pull;

pub use crate::progress::{Cancelled, JobProgress, ProgressSnapshot};
pub use job::{Job, JobContext, JobError, JobOutcome, run};
pub use layers::{LayersSummary, NewKey, ProcessError, process, rekey};
