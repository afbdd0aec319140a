//! `ews`: an early-warning system for credit recovery.
//!
//! The modules are layers that follow the data (docs/architecture.md); each imports only from
//! the layers below it, and tests/it/architecture.rs keeps it so:
//!
//! - [`cli`]: the command line, one module per subcommand ([`cli::score`], …);
//! - [`outputs`]: referrals, counselor files, recovery plans, the dashboard feed, changes, the
//!   report, the manifest, pseudonyms;
//! - [`model`]: labels, fitting, the model file, scoring, metrics, evaluation, the equity audit
//!   and the model card;
//! - [`features`]: the risk features as of a date, defined in one table;
//! - [`ingest`]: a snapshot's files read ([`ingest::reader`], [`ingest::input`]), checked
//!   ([`ingest::checks`], attendance in one pass by [`ingest::attendance`]) and gated
//!   ([`ingest::quality`]);
//! - [`config`]: the district's configuration and its export's mapping;
//! - [`io`]: errors, dates, run folders, the lock and file modes, safe text writing, hashing,
//!   progress;
//! - [`contract`]: the input contract, the only place its files, columns and codes are spelled;
//! - [`synth`]: the synthetic district generator and its exporter (used only by the cli).

// No panics on user input: unwrap and expect are for tests only (errors are typed instead).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
pub mod config;
pub mod contract;
pub mod features;
pub mod ingest;
pub mod io;
pub mod model;
pub mod outputs;
pub mod synth;

pub use io::error::{EwsError, Result};
