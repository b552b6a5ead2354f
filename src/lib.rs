//! cclake: a lakehouse for contact-center telemetry.
//!
//! Data moves one way, and so do the imports: a module uses only modules on its floor or
//! below it (`python3 ../shared/tools/layers.py` checks it).
//!
//! ```text
//!  CCaaS exports (files, a platform's API)           demo::generate writes realistic ones
//!        │  sources: reader (NDJSON, arrays, envelopes, gzip), classify (shape, event time),
//!        │           genesys (the API pull)
//!        ▼
//!  Bronze   bronze::ingest ─ every record byte for byte, gzip NDJSON in
//!        │  event_type/year/month/day/hour; bad input in quarantine; lake::ledger says
//!        │  what was ingested, lake::tiers where each file lives (hot, cold, expired)
//!        ▼
//!  Silver   silver::process ─ plan (dates from the ledger) → build (canonical mapping,
//!        │  masking with silver::digest's HMAC key, CRM join, dedupe) → commit (Delta
//!        │  replaceWhere per date); drift in silver/schema_drift
//!        ▼
//!  Gold     gold::build ─ plan (dates Silver's log changed) → compute (KPI SQL) → commit
//!        │
//!        ▼
//!  query (SQL over every layer), gold::read, compliance (leak scan, review), lifecycle
//!        │
//!        ▼
//!  pipeline::run(Job) ─ the one vocabulary of work, with its progress (progress)
//!        │
//!        ▼
//!  cli (the `cclake` command), ui (the desktop app), api (Gold over HTTP)
//! ```
//!
//! Underneath everything: [`lake`] (object storage, Delta tables, the writer lease, the audit
//! log), [`config`] (the lake's settings and reporting zone), [`format`] and [`progress`].

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
