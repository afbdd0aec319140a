//! The bottom of the house: what every layer uses to read and write safely. Errors with file,
//! line and column ([`error`]), date cells ([`dates`]), the folders ews publishes with their
//! lock and permissions ([`folders`]), text written whole and spreadsheet-safe with numbers
//! written once ([`text`]), SHA-256 ([`hashing`]), the progress line ([`progress`]) and the
//! allocator ([`memory`]).

pub mod dates;
pub mod error;
pub mod folders;
pub mod hashing;
pub mod memory;
pub mod progress;
pub mod text;
