//! What a run writes for its readers: counselors (referrals.csv, the counselor files with
//! their recovery plans), dashboards (the feed, summary.json, changes.csv), district leaders
//! (report.html) and auditors (manifest.json), and the pseudonyms of the feed. Every file is
//! registered once in [`crate::io::folders::OUTPUT_FILES`].

pub mod changes;
pub mod counselor;
pub mod feed;
pub mod follow_up;
pub mod history;
pub mod manifest;
pub mod pseudonym;
pub mod recovery;
pub mod referrals;
pub mod report;
pub mod workbook;
