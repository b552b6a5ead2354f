//! Reading CCaaS exports: file discovery, gzip detection, NDJSON / array / envelope readers,
//! shape detection, occurrence-time parsing, and the Genesys Cloud API connector.

pub mod discover;
pub mod genesys;
pub mod reader;
pub mod shape;
pub mod time;

pub use reader::{Item, Layout, Location};
pub use shape::{RecordFacts, Shape};
