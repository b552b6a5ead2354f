//! cclake: a lakehouse for contact-center telemetry.
//!
//! Data moves one way: [`sources`] read CCaaS exports, [`bronze`] keeps them byte for byte in
//! hour partitions of the [`lake`], and later layers build on Bronze. The CLI and the app
//! only ask [`pipeline`] for work and read the lake.

pub mod api;
pub mod bronze;
pub mod cli;
pub mod compliance;
pub mod config;
pub mod demo;
pub mod format;
pub mod gold;
pub mod lake;
pub mod lifecycle;
pub mod pipeline;
pub mod progress;
pub mod query;
pub mod silver;
pub mod sources;
pub mod ui;
