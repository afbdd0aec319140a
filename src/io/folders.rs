//! The folders ews publishes, and the guarantee that a failed or killed run never leaves a
//! half-written one behind: the one registry of output files with their kinds and
//! permissions, the staging folder of a run moved into place when complete, the lock that
//! lets one run at a time write into an output folder, and the recovery of what killed runs
//! left.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::io::error::{EwsError, Result};

/// Whom a file of ews may be shown to, which sets its permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// One row per student (personal data): `privacy.student_file_mode`, 0600 by default.
    StudentLevel,
    /// Counts, metrics, reports and file lists, with no row per student:
    /// `privacy.aggregate_file_mode`, 0640 by default.
    Aggregate,
}

/// Version of the layout of the dashboard feed (students.parquet, students.csv, summary.json)
/// and changes.csv, written into each of them: raised whenever a column is renamed, removed or
/// changes type (adding a column at the end does not raise it).
pub const FEED_SCHEMA_VERSION: u32 = 3;

/// A file ews writes into a folder of its own (a run, a validation, a failed gate's report, an
/// evaluation).
#[derive(Debug, Clone, Copy)]
pub struct OutputFile {
    /// The file's name in the folder; `schools/*.csv` stands for every CSV file in `schools/`.
    pub name: &'static str,
    pub kind: FileKind,
    /// The layout version the file carries, for a file dashboards read unattended.
    pub schema_version: Option<u32>,
    /// Under `ews score --pseudonymize`, the file's student ids are keyed hashes and it holds
    /// no names (the dashboard feed and changes.csv); the counselor-facing files keep them.
    pub pseudonymized: bool,
}

/// Every file ews writes into a folder of its own, each once, with its kind. A folder is
/// published only when every file in it is listed here ([`RunFolder::publish`] refuses
/// anything else as a bug), so a new output cannot be published without its permissions.
pub const OUTPUT_FILES: &[OutputFile] = &[
    OutputFile {
        name: "referrals.csv",
        kind: FileKind::StudentLevel,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "schools/*.csv",
        kind: FileKind::StudentLevel,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "schools/*.xlsx",
        kind: FileKind::StudentLevel,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "prevention/*.csv",
        kind: FileKind::StudentLevel,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "unserved/*.csv",
        kind: FileKind::StudentLevel,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "students.csv",
        kind: FileKind::StudentLevel,
        schema_version: Some(FEED_SCHEMA_VERSION),
        pseudonymized: true,
    },
    OutputFile {
        name: "students.parquet",
        kind: FileKind::StudentLevel,
        schema_version: Some(FEED_SCHEMA_VERSION),
        pseudonymized: true,
    },
    OutputFile {
        name: "changes.csv",
        kind: FileKind::StudentLevel,
        schema_version: Some(FEED_SCHEMA_VERSION),
        pseudonymized: true,
    },
    OutputFile {
        name: "rejects.csv",
        kind: FileKind::StudentLevel,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "summary.json",
        kind: FileKind::Aggregate,
        schema_version: Some(FEED_SCHEMA_VERSION),
        pseudonymized: false,
    },
    OutputFile {
        name: "equity.csv",
        kind: FileKind::Aggregate,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "data_quality.csv",
        kind: FileKind::Aggregate,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "report.html",
        kind: FileKind::Aggregate,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "manifest.json",
        kind: FileKind::Aggregate,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "metrics.json",
        kind: FileKind::Aggregate,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: "evaluation.md",
        kind: FileKind::Aggregate,
        schema_version: None,
        pseudonymized: false,
    },
    OutputFile {
        name: WRITTEN_MARKER,
        kind: FileKind::Aggregate,
        schema_version: None,
        pseudonymized: false,
    },
];

/// A file of a snapshot `ews import` writes, of `kind`.
const fn imported(name: &'static str, kind: FileKind) -> OutputFile {
    OutputFile {
        name,
        kind,
        schema_version: None,
        pseudonymized: false,
    }
}

/// Every file `ews import` writes into a snapshot folder, with its kind: the contract's files
/// of students and the import's rejects are student data; the calendar, the report and
/// snapshot.toml are not.
pub const IMPORTED_FILES: &[OutputFile] = &[
    imported(crate::contract::STUDENTS.name, FileKind::StudentLevel),
    imported(crate::contract::ATTENDANCE.name, FileKind::StudentLevel),
    imported(crate::contract::GRADES.name, FileKind::StudentLevel),
    imported(crate::contract::CREDITS.name, FileKind::StudentLevel),
    imported(crate::contract::BEHAVIOR.name, FileKind::StudentLevel),
    imported(crate::contract::ENROLLMENT.name, FileKind::StudentLevel),
    imported(crate::contract::CALENDAR.name, FileKind::Aggregate),
    imported(
        crate::contract::PERIOD_ATTENDANCE.name,
        FileKind::StudentLevel,
    ),
    imported(crate::contract::INTERVENTIONS.name, FileKind::StudentLevel),
    imported(crate::contract::IMPORT_REJECTS, FileKind::StudentLevel),
    imported(crate::contract::IMPORT_REPORT, FileKind::Aggregate),
    imported(crate::contract::SNAPSHOT_TOML, FileKind::Aggregate),
    imported(WRITTEN_MARKER, FileKind::Aggregate),
];

/// The kind of a file of a folder of ews, by its path relative to the folder (`/`-separated);
/// `None` for a file ews does not write.
pub fn kind_of(relative: &str) -> Option<FileKind> {
    kind_in(OUTPUT_FILES, relative)
}

/// The kind of a file in a folder whose files `registry` lists.
fn kind_in(registry: &[OutputFile], relative: &str) -> Option<FileKind> {
    registry.iter().find_map(|file| {
        let matches = match file.name.split_once("/*") {
            Some((folder, extension)) => relative
                .strip_prefix(folder)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|rest| !rest.contains('/') && rest.ends_with(extension)),
            None => relative == file.name,
        };
        matches.then_some(file.kind)
    })
}

/// The files whose student ids are pseudonyms under `ews score --pseudonymize`.
pub fn pseudonymized_files() -> impl Iterator<Item = &'static str> {
    OUTPUT_FILES
        .iter()
        .filter(|f| f.pseudonymized)
        .map(|f| f.name)
}

/// The names of the student-level files of a run folder (not the counselor files, which are
/// one per school).
pub fn student_level_files() -> impl Iterator<Item = &'static str> {
    OUTPUT_FILES
        .iter()
        .filter(|f| f.kind == FileKind::StudentLevel && !f.name.contains('*'))
        .map(|f| f.name)
}

/// Permissions of a folder ews publishes (and of `schools/` in it): the owner and the group
/// read, nobody else.
pub const FOLDER_MODE: u32 = 0o750;
/// Permissions of a folder while it is written: the owner only.
pub const STAGING_MODE: u32 = 0o700;

/// The permissions of the files ews writes (Unix; elsewhere they are not set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileModes {
    pub student_level: u32,
    pub aggregate: u32,
}

impl FileModes {
    /// The permissions of a file of this kind.
    pub fn of(&self, kind: FileKind) -> u32 {
        match kind {
            FileKind::StudentLevel => self.student_level,
            FileKind::Aggregate => self.aggregate,
        }
    }
}

impl Default for FileModes {
    fn default() -> Self {
        FileModes {
            student_level: 0o600,
            aggregate: 0o640,
        }
    }
}

/// A test hook: with `EWS_CRASH_AT=<point>` in the environment, the process aborts at that
/// point of a publish, as a kill would stop it (no destructor runs, the kernel drops the
/// lock). The tests of tests/it/lock.rs use it to check what the next run finds; it is never set
/// in production.
fn crash_point(point: &str) {
    if std::env::var_os("EWS_CRASH_AT").is_some_and(|at| at == point) {
        std::process::abort();
    }
}

/// A run's output folder under construction: files go to a staging folder that replaces
/// `<out>/<name>` only on [`RunFolder::publish`]. Dropped unpublished, it is removed.
pub struct RunFolder {
    staging: PathBuf,
    target: PathBuf,
    modes: FileModes,
    published: bool,
    /// The files the folder may hold ([`OUTPUT_FILES`], or [`IMPORTED_FILES`]).
    registry: &'static [OutputFile],
}

impl RunFolder {
    /// A folder `name` in the locked output folder. Taking the lock as an argument makes sure
    /// no folder is written where another run may be publishing; its files get the permissions
    /// the lock was taken with.
    pub fn create(lock: &OutputLock, name: &str) -> Result<RunFolder> {
        Self::create_for(lock, name, OUTPUT_FILES)
    }

    /// A snapshot folder `name` written by `ews import`, which holds [`IMPORTED_FILES`].
    pub fn create_snapshot(lock: &OutputLock, name: &str) -> Result<RunFolder> {
        Self::create_for(lock, name, IMPORTED_FILES)
    }

    fn create_for(
        lock: &OutputLock,
        name: &str,
        registry: &'static [OutputFile],
    ) -> Result<RunFolder> {
        let modes = lock.modes;
        let out = lock.folder();
        // Refused before anything is written when the folder holds what ews did not write.
        check_replaceable(&out.join(name))?;
        let staging = out.join(format!(".{name}.staging-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| EwsError::io(&staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| EwsError::io(&staging, e))?;
        // Owner-only while files are written, so no file is ever readable by others before its
        // permissions are set on publish.
        set_mode(&staging, STAGING_MODE)?;
        // What tells a later run that this hidden folder is ews's to remove.
        let marker = staging.join(STAGING_MARKER);
        std::fs::write(&marker, "").map_err(|e| EwsError::io(&marker, e))?;
        Ok(RunFolder {
            staging,
            target: out.join(name),
            modes,
            published: false,
            registry,
        })
    }

    /// Path of a file inside the staging folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// The staging folder itself, for writers that take a folder.
    pub fn target_staging(&self) -> &Path {
        &self.staging
    }

    /// Moves the complete staging folder into place, replacing an earlier run of the same name
    /// (only when that folder holds nothing but what ews wrote there: [`check_replaceable`]).
    ///
    /// Every file gets the permissions of its kind ([`OUTPUT_FILES`]) first; a file not listed
    /// there is a bug of ews (exit 3), and nothing is published. The replacement takes two
    /// renames (the earlier folder aside, the new one in); a run killed between them leaves the
    /// earlier folder under `.<name>.previous-<pid>`, which the next run of any date puts back
    /// ([`OutputLock::acquire`]).
    pub fn publish(mut self) -> Result<PathBuf> {
        let staging_marker = self.staging.join(STAGING_MARKER);
        std::fs::remove_file(&staging_marker).map_err(|e| EwsError::io(&staging_marker, e))?;
        write_marker(&self.staging)?;
        seal(&self.staging, self.modes, self.registry)?;
        crash_point("publish:staged");
        // Checked again: the folder may have changed while the run worked.
        check_replaceable(&self.target)?;
        let previous = self.target.with_file_name(format!(
            ".{}.previous-{}",
            self.target
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        let had_previous = self.target.exists();
        if had_previous {
            std::fs::rename(&self.target, &previous).map_err(|e| EwsError::io(&self.target, e))?;
            crash_point("publish:set-aside");
        }
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            if had_previous {
                let _ = std::fs::rename(&previous, &self.target);
            }
            return Err(EwsError::io(&self.target, e));
        }
        self.published = true;
        crash_point("publish:moved-in");
        if had_previous {
            remove_written_folder(&previous)?;
        }
        Ok(self.target.clone())
    }
}

/// Gives every file of a folder about to be published the permissions of its kind, its
/// subfolders and itself [`FOLDER_MODE`]. A file ews does not list in [`OUTPUT_FILES`] stops
/// the publish: it would have no permissions of its own.
fn seal(dir: &Path, modes: FileModes, registry: &[OutputFile]) -> Result<()> {
    for relative in files_under(dir, dir)? {
        let Some(kind) = kind_in(registry, &relative) else {
            return Err(EwsError::io(
                dir.join(&relative),
                std::io::Error::other(
                    "a file ews wrote is not registered in folders::OUTPUT_FILES (a bug in ews); nothing was published",
                ),
            ));
        };
        set_mode(&dir.join(&relative), modes.of(kind))?;
    }
    for entry in std::fs::read_dir(dir).map_err(|e| EwsError::io(dir, e))? {
        let path = entry.map_err(|e| EwsError::io(dir, e))?.path();
        if path.is_dir() {
            set_mode(&path, FOLDER_MODE)?;
        }
    }
    set_mode(dir, FOLDER_MODE)
}

/// The file that marks a folder as written by ews (a run, a validation, a failed gate's report,
/// an evaluation): it lists every file ews wrote there, the only ones a later command may
/// replace. No command of ews deletes what it did not write.
pub const WRITTEN_MARKER: &str = ".ews-written";

/// The file that marks a staging folder as made by ews, until its [`WRITTEN_MARKER`] is written
/// on publish: only such a folder (or an empty one) is removed as a killed run's leftover.
const STAGING_MARKER: &str = ".ews-staging";

/// Whether `target` may be replaced by a new folder of ews: it is absent, an empty folder, or
/// a folder holding nothing but the files ews wrote there (listed in its [`WRITTEN_MARKER`],
/// or, for a run of an ews that wrote no marker, in its manifest.json). Anything else is an
/// error (exit 2), and nothing in the folder is touched.
pub fn check_replaceable(target: &Path) -> Result<()> {
    let refuse = |message: String| EwsError::BadFile {
        path: target.to_path_buf(),
        message,
    };
    let Ok(meta) = std::fs::symlink_metadata(target) else {
        return Ok(());
    };
    if !meta.is_dir() {
        return Err(refuse(
            "is a file, where ews writes a folder of its own; nothing was touched".into(),
        ));
    }
    let entries = files_under(target, target)?;
    if entries.is_empty() {
        return Ok(());
    }
    let Some(written) = written_files(target) else {
        return Err(refuse(format!(
            "the folder holds {} files and was not written by ews (no {WRITTEN_MARKER}); nothing in it was touched: move them, or give --out another folder",
            entries.len()
        )));
    };
    let others: Vec<&String> = entries
        .iter()
        .filter(|e| e.as_str() != WRITTEN_MARKER && !written.contains(e))
        .collect();
    if let Some(first) = others.first() {
        return Err(refuse(format!(
            "the folder holds {} files ews did not write there (e.g. `{first}`); nothing in it was touched: move them, or give --out another folder",
            others.len()
        )));
    }
    Ok(())
}

/// The files ews wrote in a folder: its [`WRITTEN_MARKER`], else, for a folder of an ews that
/// wrote no marker, a run's manifest outputs and the manifest itself, or the two reports of a
/// `<as-of>.validation` or `<as-of>.failed` folder.
fn written_files(dir: &Path) -> Option<Vec<String>> {
    if let Ok(listed) = std::fs::read_to_string(dir.join(WRITTEN_MARKER)) {
        return Some(
            listed
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .map(String::from)
                .collect(),
        );
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if name.ends_with(".validation") || name.ends_with(".failed") {
        return Some(vec!["data_quality.csv".into(), "rejects.csv".into()]);
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).ok()?).ok()?;
    let mut files: Vec<String> = manifest
        .get("outputs")?
        .as_array()?
        .iter()
        .filter_map(|o| Some(o.get("file")?.as_str()?.to_string()))
        .collect();
    files.push("manifest.json".into());
    Some(files)
}

/// Writes the [`WRITTEN_MARKER`] of a folder under construction: every file in it.
fn write_marker(dir: &Path) -> Result<()> {
    let mut names = files_under(dir, dir)?;
    names.sort();
    let text = format!(
        "# written by ews: a later run may replace this folder only while it holds these files and nothing else\n{}\n",
        names.join("\n")
    );
    let path = dir.join(WRITTEN_MARKER);
    std::fs::write(&path, text).map_err(|e| EwsError::io(&path, e))
}

/// The files under `dir`, as paths relative to `root` with `/` separators.
pub fn files_under(root: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| EwsError::io(dir, e))? {
        let path = entry.map_err(|e| EwsError::io(dir, e))?.path();
        if path.is_dir() {
            files.extend(files_under(root, &path)?);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            files.push(parts.join("/"));
        }
    }
    Ok(files)
}

/// Removes a folder of ews that was replaced, its [`WRITTEN_MARKER`] last: a run killed while
/// it removes leaves a folder [`check_replaceable`] still accepts (the marker with some of the
/// files it lists, or an empty folder), which the next run finishes removing.
fn remove_written_folder(dir: &Path) -> Result<()> {
    let io = |e| EwsError::io(dir, e);
    for relative in files_under(dir, dir)? {
        if relative != WRITTEN_MARKER {
            std::fs::remove_file(dir.join(&relative)).map_err(io)?;
        }
    }
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io)?;
        }
    }
    match std::fs::remove_file(dir.join(WRITTEN_MARKER)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    std::fs::remove_dir(dir).map_err(io)
}

/// A folder a killed run left in the output folder: `.<name>.staging-<pid>` (a folder being
/// written) or `.<name>.previous-<pid>` (an earlier folder set aside by a publish).
struct Leftover {
    path: PathBuf,
    /// The folder it belongs to, `<out>/<name>`.
    target: PathBuf,
    set_aside: bool,
}

/// The leftovers of killed runs in `out`, of every name.
fn leftovers(out: &Path) -> Result<Vec<Leftover>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(out).map_err(|e| EwsError::io(out, e))? {
        let path = entry.map_err(|e| EwsError::io(out, e))?.path();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let Some(hidden) = file_name.strip_prefix('.') else {
            continue;
        };
        for (suffix, set_aside) in [(".staging-", false), (".previous-", true)] {
            let Some((name, pid)) = hidden.rsplit_once(suffix) else {
                continue;
            };
            if name.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if path.is_dir() {
                found.push(Leftover {
                    target: out.join(name),
                    path: path.clone(),
                    set_aside,
                });
            }
        }
    }
    // The most recently set aside first: the one to put back when several were.
    found.sort_by_cached_key(|l| {
        std::cmp::Reverse(
            std::fs::symlink_metadata(&l.path)
                .and_then(|m| m.modified())
                .ok(),
        )
    });
    Ok(found)
}

/// Cleans up after killed runs, of any date: a folder set aside by a publish that was cut off
/// is put back where the new one never took its place; staging folders, and earlier folders
/// whose replacement was published, are removed. Called under the output lock, so every
/// leftover belongs to a run that is gone.
fn recover_killed_runs(out: &Path) -> Result<()> {
    for leftover in leftovers(out)? {
        if leftover.set_aside && std::fs::symlink_metadata(&leftover.target).is_err() {
            log::warn!(
                "{}: restoring the folder a killed run set aside",
                leftover.target.display()
            );
            std::fs::rename(&leftover.path, &leftover.target)
                .map_err(|e| EwsError::io(&leftover.path, e))?;
            continue;
        }
        // Only what ews wrote is removed: a set-aside folder was checked by check_replaceable
        // before it was moved, and is checked again; a staging folder holds its marker (or,
        // killed at its first or last step, nothing, or its list of files). A hidden folder of
        // that name someone else made stays.
        let ours = !leftover.set_aside
            && (leftover.path.join(STAGING_MARKER).is_file()
                || files_under(&leftover.path, &leftover.path)?.is_empty());
        if !ours {
            if let Err(e) = check_replaceable(&leftover.path) {
                log::warn!("left in place: {e}");
                continue;
            }
        }
        log::warn!(
            "{}: removing what a killed run left",
            leftover.path.display()
        );
        match leftover.set_aside {
            true => remove_written_folder(&leftover.path)?,
            false => std::fs::remove_dir_all(&leftover.path)
                .map_err(|e| EwsError::io(&leftover.path, e))?,
        }
    }
    Ok(())
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// A lock on an output folder: one run at a time writes into it.
///
/// The lock is an advisory lock of the operating system (flock(2) on Unix, LockFileEx on
/// Windows) on `<out>/.ews.lock`, which the kernel releases when the process ends, however it
/// ends: there is no stale lock to guess about. The file also holds the owner's process id and
/// start time, for the message a second run prints; it is never deleted (deleting a lock file
/// lets two runs lock two different files).
pub struct OutputLock {
    folder: PathBuf,
    /// The permissions of what the run writes in the folder.
    modes: FileModes,
    // Held open: closing it releases the lock.
    _file: std::fs::File,
}

/// Name of the lock file in an output folder.
pub const LOCK_FILE: &str = ".ews.lock";

impl OutputLock {
    /// Takes the lock of `out` (created when absent, with [`FOLDER_MODE`]), or fails at once
    /// (exit 2) when another run holds it. Then puts back or removes what killed runs left.
    pub fn acquire(out: &Path, modes: FileModes) -> Result<OutputLock> {
        let refuse = |path: &Path, message: &str| EwsError::BadFile {
            path: path.to_path_buf(),
            message: message.into(),
        };
        match std::fs::metadata(out) {
            Ok(meta) if !meta.is_dir() => {
                return Err(refuse(out, "--out must be a folder, and this is a file"))
            }
            Ok(_) => {}
            Err(_) => {
                std::fs::create_dir_all(out).map_err(|e| EwsError::io(out, e))?;
                set_mode(out, FOLDER_MODE)?;
            }
        }
        let path = out.join(LOCK_FILE);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(refuse(
                &path,
                "is a folder (or another non-file), where ews keeps the lock file of this output folder; remove it, or give --out another folder",
            ));
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true);
        let (mut file, created) = match options.clone().create_new(true).open(&path) {
            Ok(file) => (file, true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (
                options.open(&path).map_err(|e| EwsError::io(&path, e))?,
                false,
            ),
            Err(e) => return Err(EwsError::io(&path, e)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let held = std::fs::read_to_string(&path).unwrap_or_default();
                let mut words = held.split_whitespace();
                let owner = match (words.next(), words.next()) {
                    (Some(pid), Some(started)) if pid.bytes().all(|b| b.is_ascii_digit()) => {
                        format!("process {pid}, started {started}")
                    }
                    _ => "just starting".to_string(),
                };
                return Err(EwsError::Locked {
                    path,
                    message: format!(
                        "another ews run ({owner}) is writing to this folder; wait for it to finish"
                    ),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(EwsError::io(&path, e)),
        }
        if created {
            // A process id and a time: no student's data.
            set_mode(&path, modes.aggregate)?;
        }
        let owner = format!(
            "{} {}\n",
            std::process::id(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        file.set_len(0)
            .and_then(|()| file.write_all(owner.as_bytes()))
            .map_err(|e| EwsError::io(&path, e))?;
        recover_killed_runs(out)?;
        Ok(OutputLock {
            folder: out.to_path_buf(),
            modes,
            _file: file,
        })
    }

    /// The locked output folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }
}

/// Sets the permissions of a file ews wrote outside a folder of its own (the model file, its
/// card, a generated snapshot).
pub fn set_file_mode(path: &Path, mode: u32) -> Result<()> {
    set_mode(path, mode)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    chmod(path, mode).map_err(|e| EwsError::io(path, e))
}

/// Sets a file's or folder's permissions (Unix; elsewhere nothing to set). The one place ews
/// sets a mode: every writer goes through [`set_file_mode`], a [`RunFolder`]'s publish or
/// [`crate::io::text::write_atomically`].
#[cfg(unix)]
pub(crate) fn chmod(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn chmod(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_file_ews_writes_has_a_kind() {
        assert_eq!(kind_of("referrals.csv"), Some(FileKind::StudentLevel));
        assert_eq!(kind_of("schools/001.csv"), Some(FileKind::StudentLevel));
        assert_eq!(kind_of("schools/a/001.csv"), None);
        assert_eq!(kind_of("schools/001.txt"), None);
        assert_eq!(kind_of("summary.json"), Some(FileKind::Aggregate));
        assert_eq!(kind_of("notes.txt"), None);
        assert!(student_level_files().any(|f| f == "rejects.csv"));
        assert!(!student_level_files().any(|f| f.contains('*')));
    }

    #[test]
    fn a_file_without_a_kind_is_never_published() {
        let dir = tempfile::tempdir().unwrap();
        let lock = OutputLock::acquire(dir.path(), FileModes::default()).unwrap();
        let run = RunFolder::create(&lock, "2026-03-13").unwrap();
        std::fs::write(run.file("referrals.csv"), "x").unwrap();
        std::fs::write(run.file("debug.txt"), "x").unwrap();
        let err = run.publish().err().unwrap();
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains("debug.txt"), "{err}");
        assert_eq!(entries(dir.path()), [LOCK_FILE]);
    }

    #[test]
    fn unpublished_run_folder_leaves_nothing_and_publish_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let lock = OutputLock::acquire(dir.path(), FileModes::default()).unwrap();
        {
            let run = RunFolder::create(&lock, "2026-03-13").unwrap();
            std::fs::write(run.file("referrals.csv"), "x").unwrap();
        }
        assert_eq!(entries(dir.path()), [LOCK_FILE]);

        // An earlier run of ews is replaced.
        let run = RunFolder::create(&lock, "2026-03-13").unwrap();
        std::fs::write(run.file("changes.csv"), "old").unwrap();
        run.publish().unwrap();
        let run = RunFolder::create(&lock, "2026-03-13").unwrap();
        std::fs::write(run.file("referrals.csv"), "new").unwrap();
        let target = run.publish().unwrap();
        assert!(target.join("referrals.csv").exists());
        assert!(!target.join("changes.csv").exists());
        assert_eq!(entries(dir.path()), [LOCK_FILE, "2026-03-13"]);
        let marker = std::fs::read_to_string(target.join(WRITTEN_MARKER)).unwrap();
        assert!(marker.lines().any(|l| l == "referrals.csv"));
    }

    #[test]
    fn a_folder_with_a_file_ews_did_not_write_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let lock = OutputLock::acquire(dir.path(), FileModes::default()).unwrap();
        let run = RunFolder::create(&lock, "2026-03-13").unwrap();
        std::fs::create_dir(run.file("schools")).unwrap();
        std::fs::write(run.file("schools/001.csv"), "x").unwrap();
        let target = run.publish().unwrap();
        // A counselor's notes added to the run folder: the next run of that date is refused.
        std::fs::write(target.join("schools/notes.txt"), "mine").unwrap();
        let err = RunFolder::create(&lock, "2026-03-13").err().unwrap();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("schools/notes.txt"), "{err}");
        assert_eq!(
            std::fs::read_to_string(target.join("schools/notes.txt")).unwrap(),
            "mine"
        );
        // A folder of a name ews would use, made by someone else.
        std::fs::create_dir(dir.path().join("2026-03-14")).unwrap();
        std::fs::write(dir.path().join("2026-03-14/plan.docx"), "x").unwrap();
        assert!(RunFolder::create(&lock, "2026-03-14").is_err());
        // An empty one is fine.
        std::fs::create_dir(dir.path().join("2026-03-15")).unwrap();
        RunFolder::create(&lock, "2026-03-15")
            .unwrap()
            .publish()
            .unwrap();
    }

    #[test]
    fn only_leftovers_of_ews_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // A killed run's staging folder, and a hidden folder of someone else's of a name that
        // looks like one (an evaluation's --out may be inside a home folder).
        let killed = dir.path().join(".2026-03-13.staging-123");
        std::fs::create_dir(&killed).unwrap();
        std::fs::write(killed.join(STAGING_MARKER), "").unwrap();
        std::fs::write(killed.join("referrals.csv"), "x").unwrap();
        let theirs = dir.path().join(".backup.staging-7");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::write(theirs.join("thesis.tex"), "mine").unwrap();
        // A set-aside folder whose replacement was published, and one that was not.
        for name in ["2026-03-12", "2026-03-11"] {
            let lock = OutputLock::acquire(dir.path(), FileModes::default()).unwrap();
            let run = RunFolder::create(&lock, name).unwrap();
            std::fs::write(run.file("referrals.csv"), name).unwrap();
            run.publish().unwrap();
        }
        std::fs::rename(
            dir.path().join("2026-03-11"),
            dir.path().join(".2026-03-11.previous-99"),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join(".2026-03-12.previous-98")).unwrap();
        std::fs::write(
            dir.path().join(".2026-03-12.previous-98/.ews-written"),
            "referrals.csv\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".2026-03-12.previous-98/referrals.csv"),
            "old",
        )
        .unwrap();

        let _lock = OutputLock::acquire(dir.path(), FileModes::default()).unwrap();
        assert_eq!(
            entries(dir.path()),
            [".backup.staging-7", LOCK_FILE, "2026-03-11", "2026-03-12"]
        );
        assert_eq!(
            std::fs::read_to_string(theirs.join("thesis.tex")).unwrap(),
            "mine"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("2026-03-11/referrals.csv")).unwrap(),
            "2026-03-11"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("2026-03-12/referrals.csv")).unwrap(),
            "2026-03-12"
        );
    }
}
