//! Work the lake can be asked to do, and how its progress and cancellation are reported to the
//! CLI and the app.

pub mod demo;
pub mod progress;

pub use progress::{Cancelled, JobProgress, ProgressSnapshot};
