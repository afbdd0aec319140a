//! `ews`: an early-warning system for credit recovery.
//!
//! The modules follow the data: [`input`] reads a snapshot's export files through the district's
//! [`mapping`] (every CSV file with the one [`reader`], every date cell with [`dates`]),
//! [`validate`] parses and checks them (attendance, the largest file, with the one-pass aggregation
//! of [`attendance`]; [`quality`] reports and gates what was rejected), [`features`] derives risk
//! features as of a date (a student's courses of the year from [`courses`]), [`model`] trains and
//! stores the logistic model, [`score`] turns features into ranked probabilities with reasons,
//! [`recovery`] builds credit-recovery plans, and the outputs follow: [`output`] (the registry of
//! outputs, modes, the lock, atomic run folders, safe CSV and number writing), [`referrals`],
//! [`counselor`], [`feed`], [`changes`], [`equity`], [`report`], [`manifest`]. [`evaluate`] and
//! [`model_card`] judge a model; [`generate`] makes synthetic districts and [`export`] writes them
//! in a district's export shape. [`progress`] shows stages and files on a terminal.

// No panics on user input: unwrap and expect are for tests only (errors are typed instead).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod attendance;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod config;
pub mod contract;
pub mod counselor;
pub mod courses;
pub mod dates;
pub mod equity;
pub mod error;
pub mod evaluate;
pub mod export;
pub mod features;
pub mod feed;
pub mod generate;
pub mod hashing;
pub mod input;
pub mod manifest;
pub mod mapping;
pub mod metrics;
pub mod model;
pub mod model_card;
pub mod output;
pub mod progress;
pub mod pseudonym;
pub mod quality;
pub mod reader;
pub mod recovery;
pub mod referrals;
pub mod report;
pub mod score;
pub mod validate;

pub use error::{EwsError, Result};
