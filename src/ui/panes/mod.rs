//! One module per pane.

pub mod api_server;
pub mod browser;
pub mod charts;
pub mod compliance;
pub mod drift;
pub mod jobs;
pub mod overview;
pub mod quarantine;
pub mod sql;
