//! Reading CCaaS exports: file discovery, gzip detection, NDJSON / array / envelope readers,
//! shape detection, occurrence-time parsing, and the synthetic demo data generator.

pub mod discover;
pub mod generate;
pub mod reader;
pub mod shape;
pub mod time;

pub use reader::{Item, Layout, Location};
pub use shape::{RecordFacts, Shape};
