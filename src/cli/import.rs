//! `ews import edfi XML_DIR --out SNAPSHOT`: Ed-Fi interchange XML to a canonical snapshot in
//! exception mode ([`crate::ingest::edfi`]), published as a whole or not at all, with the
//! import's summary: what was read, written, rejected, missing, unmapped and skipped.

use crate::cli::run::{say, RunStatus};
use crate::cli::EdfiArgs;
use crate::config::Config;
use crate::ingest::edfi::{self, descriptors::Descriptors, ImportOptions};
use crate::io::error::{EwsError, Result};
use crate::io::folders::{OutputLock, RunFolder};

/// Runs the import. Exit 1 when records were rejected, files are missing or descriptor code
/// values were not mapped; exit 2 for malformed XML or a bad config, with nothing published.
pub fn run(args: &EdfiArgs, config: &Config, config_path: &std::path::Path) -> Result<RunStatus> {
    Descriptors::check_config(&config.edfi.descriptors).map_err(|message| EwsError::Config {
        path: config_path.to_path_buf(),
        message,
    })?;
    if !args.xml_dir.is_dir() {
        return Err(EwsError::BadFile {
            path: args.xml_dir.clone(),
            message: "not a folder: expected the folder of the Ed-Fi interchange files".into(),
        });
    }
    let name = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| EwsError::BadFile {
            path: args.out.clone(),
            message: "--out must name the snapshot folder to write".into(),
        })?;
    let parent = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let lock = OutputLock::acquire(&parent, config.privacy.file_modes())?;
    let folder = RunFolder::create_snapshot(&lock, &name)?;
    let options = ImportOptions {
        descriptors: &config.edfi.descriptors,
        school_year_start: config.school_year_start(),
    };
    let imported = edfi::import(&args.xml_dir, folder.target_staging(), &options)?;
    let published = folder.publish()?;
    say!(
        "imported {} ({} interchange files read, {} skipped) into {}",
        args.xml_dir.display(),
        imported.files_read,
        imported.files_skipped,
        published.display()
    );
    for line in imported.report.lines() {
        say!("  {line}");
    }
    say!(
        "  (the report is {}; rejected records, with their values, are in {})",
        edfi::report::REPORT_FILE,
        edfi::report::REJECTS_FILE
    );
    Ok(if imported.report.has_warnings() {
        RunStatus::Warnings
    } else {
        RunStatus::Clean
    })
}
