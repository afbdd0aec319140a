//! `ews`: an early-warning system for credit recovery.
//!
//! The modules follow the data: [`input`] scans a snapshot's export files, [`validate`] parses
//! and checks them ([`quality`] reports and gates what was rejected), [`features`] derives risk features as of a date, [`model`] trains and
//! stores the logistic model, [`score`] turns features into ranked probabilities with reasons,
//! and [`output`] writes the files people use. [`generate`] makes synthetic districts, and [`export`] writes them in a district's export
//! shape ([`mapping`] is how `input` reads such exports back).

pub mod changes;
pub mod cli;
pub mod commands;
pub mod config;
pub mod counselor;
pub mod equity;
pub mod error;
pub mod evaluate;
pub mod export;
pub mod features;
pub mod feed;
pub mod generate;
pub mod input;
pub mod manifest;
pub mod mapping;
pub mod metrics;
pub mod model;
pub mod model_card;
pub mod output;
pub mod quality;
pub mod recovery;
pub mod report;
pub mod score;
pub mod validate;

pub use error::{EwsError, Result};
