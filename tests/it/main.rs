//! The integration tests, in one binary (as ripgrep and xsv do): each module runs the real
//! `ews` binary on small fixtures or sample_data and checks its outputs; `common` holds the
//! shared helpers. One binary links polars once, where one per file linked it nineteen times.

mod common;

mod architecture;
mod cli;
mod counselor;
mod determinism;
mod edfi;
mod edge;
mod evaluate;
mod examples;
mod features;
mod feed;
mod follow_up;
mod fuzz_config;
mod golden;
mod lock;
mod mapping;
mod membership;
mod model_file;
mod nightly;
mod nights;
mod partitions;
mod reader;
mod recovery;
mod report;
mod robustness;
mod safety;
mod scope;
mod shapes;
mod supports;
mod terms;
mod validate;
