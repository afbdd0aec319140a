//! The district configuration: `config/ews.toml` → a checked, typed [`Config`].
//!
//! Every threshold that a district may want to set differently lives here, with the
//! defaults of the input contract, so that the code holds no district-specific numbers.
//! The file is validated once, before anything is read.

pub mod mapping;
mod school_year;

pub use school_year::{school_year_of_column, MonthDay};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::io::error::{EwsError, Result};

/// Default path of the district configuration, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "config/ews.toml";
/// The model file used when neither --model nor the config names one, relative to the working
/// directory.
pub const DEFAULT_MODEL_PATH: &str = "config/model.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// First day of the school year as `MM-DD` (contract default: July 1). Records dated before
    /// the start of the as-of date's school year belong to earlier years.
    #[serde(default = "default_school_year_start")]
    pub school_year_start: String,
    /// The age cut-off date as `MM-DD` for the over-age-for-grade indicator (default September 1).
    #[serde(default = "default_age_cutoff")]
    pub age_cutoff: String,
    #[serde(default)]
    pub attendance: AttendanceConfig,
    #[serde(default)]
    pub credits: CreditsConfig,
    #[serde(default)]
    pub tiers: TierConfig,
    #[serde(default, rename = "loop")]
    pub follow_up: FollowUpConfig,
    #[serde(default)]
    pub history: HistoryConfig,
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub quality: QualityConfig,
    #[serde(default)]
    pub equity: EquityConfig,
    #[serde(default)]
    pub graduation: GraduationConfig,
    #[serde(default)]
    pub recovery: RecoveryConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub enrollment: EnrollmentConfig,
    #[serde(default)]
    pub scope: ScopeConfig,
    #[serde(default)]
    pub outcomes: OutcomesConfig,
    /// The district's own terms, added to (or replacing) the contract's table
    /// ([`crate::contract::DEFAULT_TERMS`]).
    #[serde(default)]
    pub terms: BTreeMap<String, TermConfig>,
    /// How the district's export differs from the canonical layout (docs/input-contract.md).
    #[serde(default)]
    pub input: crate::config::mapping::Mapping,
    /// How the files for people are written (`[output]`).
    #[serde(default)]
    pub output: OutputConfig,
    /// Memory and partitions (`[performance]`). They change how a run works, never what it
    /// writes, so they are left out of the config's hash.
    #[serde(default, skip_serializing)]
    pub performance: PerformanceConfig,
    /// How `ews import edfi` maps Ed-Fi descriptors. Only the importer reads it, so an empty
    /// table is left out of the config's hash (a run's fingerprint does not change with it).
    #[serde(default, skip_serializing_if = "EdfiConfig::is_empty")]
    pub edfi: EdfiConfig,
    /// `[courses]`: a course's length by course id (`"ART1" = "S1"`), for exports without
    /// grades.csv's `course_term`; a course neither gives is year-long (`Y`). Its credit is
    /// expected once that term has ended (docs/features.md, `credit_deficit_now`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub courses: BTreeMap<String, String>,
    /// Grade points per letter mark (4-point scale). `I` and `W` never count.
    #[serde(default = "default_gpa_scale")]
    pub gpa_scale: BTreeMap<String, f64>,
    /// The folder of the config file, against which its relative paths resolve (empty for the
    /// built-in defaults: the working directory).
    #[serde(skip)]
    pub folder: PathBuf,
}

/// `[edfi]`: the Ed-Fi importer's descriptor table, over its built-in one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EdfiConfig {
    /// `[edfi.descriptors.<Descriptor>]`: code value → contract value, e.g.
    /// `[edfi.descriptors.AttendanceEventCategoryDescriptor]` `"Partial" = "A"`.
    #[serde(default)]
    pub descriptors: BTreeMap<String, BTreeMap<String, String>>,
}

impl EdfiConfig {
    pub fn is_empty(&self) -> bool {
        self.descriptors.is_empty()
    }
}

/// Graduation requirements that differ for a cohort or a pathway: the total, and subjects
/// added or changed (a subject at 0 is no longer required).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RequirementOverride {
    #[serde(default)]
    pub total_credits: Option<f64>,
    #[serde(default)]
    pub subject_credits: BTreeMap<String, f64>,
}

/// The graduation requirements of one student: total credits and credits per required
/// subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirements {
    pub total_credits: f64,
    pub subject_credits: BTreeMap<String, f64>,
}

/// One term of the term table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TermConfig {
    /// The terms a posted mark of this term covers and supersedes (a semester its quarters).
    #[serde(default)]
    pub covers: Vec<String>,
    /// The month-day the term ends (`MM-DD`).
    pub ends: String,
}

/// How outcomes are read when a snapshot has no outcomes.csv.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OutcomesConfig {
    /// The SIS's withdrawal code (enrollment.csv `exit_code`) → `transferred_out`,
    /// `dropped_out`, `graduated` or `other`. With it, `ews train` takes outcomes from the
    /// students' last enrollment span when the snapshot has no outcomes.csv.
    #[serde(default)]
    pub exit_codes: BTreeMap<String, String>,
}

/// Which students are scored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    /// The grades scored (default 9–12), as grade values (`"PK"`, `"K"`, `9`, `"09"`…).
    /// Students of other grades, and their rows in every file, are skipped and counted as out
    /// of scope: never rejected, never counted by the data-quality gate.
    #[serde(default = "default_scope_grades")]
    pub grades: Vec<GradeValue>,
}

impl Default for ScopeConfig {
    fn default() -> Self {
        ScopeConfig {
            grades: default_scope_grades(),
        }
    }
}

/// A grade as written in the config: a number or a grade value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum GradeValue {
    Number(i64),
    Text(String),
}

impl GradeValue {
    /// The grade number (-1 pre-K, 0 K, 1–12).
    pub fn number(&self) -> Option<i32> {
        match self {
            GradeValue::Number(n) => i32::try_from(*n).ok().filter(|n| (-1..=12).contains(n)),
            GradeValue::Text(text) => crate::contract::grade_number(text),
        }
    }
}

fn default_scope_grades() -> Vec<GradeValue> {
    crate::contract::DEFAULT_SCOPE
        .iter()
        .map(|g| GradeValue::Number(i64::from(*g)))
        .collect()
}

/// How enrollment.csv is read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentConfig {
    /// What `exit_date` means: the last day enrolled (`last_day`, the default) or the first
    /// day not enrolled (`day_after`, as some SIS record it).
    #[serde(default)]
    pub exit_date: ExitDate,
}

/// The meaning of enrollment.csv's `exit_date`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExitDate {
    #[default]
    LastDay,
    DayAfter,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceConfig {
    /// Chronic absence: missed at least this share of enrolled days (Balfanz & Byrnes 2012: 10%).
    #[serde(default = "default_chronic")]
    pub chronic_absence_threshold: f64,
    /// Chronic absence needs at least this many membership days (default 10): one absence in
    /// the first five days of school is 20%, and no evidence of a habit yet.
    #[serde(default = "default_chronic_min_days")]
    pub chronic_min_days: u32,
    /// Window of the recent attendance rate, in district school days.
    #[serde(default = "default_recent_days")]
    pub recent_school_days: usize,
    /// A date is a district school day when at least this share of enrolled students has an
    /// attendance row on it (also the rule for the default as-of date).
    #[serde(default = "default_school_day_share")]
    pub school_day_min_share: f64,
    /// How attendance.csv lists days: `daily` (one row per student per school day) or
    /// `exceptions` (only days that were not plain presence; needs enrollment.csv and
    /// calendar.csv). A snapshot's own snapshot.toml wins over this.
    #[serde(default)]
    pub mode: crate::contract::AttendanceMode,
    /// In exception mode, an as-of date more than this many instructional days after the
    /// latest attendance row is a warning (exit 1): every unlisted day counts as present, so a
    /// stale export would inflate attendance.
    #[serde(default = "default_max_days_without_events")]
    pub max_days_without_events: usize,
    /// Class periods of a school day where calendar.csv does not say (period attendance).
    #[serde(default = "default_periods_per_day")]
    pub periods_per_day: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditsConfig {
    /// Credits a student should have earned by the start of each grade (keys are grades 6–12).
    #[serde(default = "default_expected_by_grade")]
    pub expected_by_grade: BTreeMap<String, f64>,
    /// Freshman on-track (Allensworth & Easton 2005): at least this many full-year credits…
    #[serde(default = "default_on_track_credits")]
    pub on_track_min_credits: f64,
    /// …and at most this many semester F marks in core courses, by the end of grade 9.
    #[serde(default = "default_on_track_fs")]
    pub on_track_max_core_semester_fs: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// Risk probability at or above which a student is in the high tier.
    #[serde(default = "default_high")]
    pub high: f64,
    /// Risk probability at or above which a student is in the medium tier.
    #[serde(default = "default_medium")]
    pub medium: f64,
    /// Stable tiers: a student's tier changes at once only when the risk crosses a threshold by
    /// more than this (default 0.03), else once it has stayed across for `confirm_school_days`
    /// school days (default 5), read from the run history: a list that does not churn.
    #[serde(default = "default_hysteresis")]
    pub hysteresis: f64,
    #[serde(default = "default_confirm_school_days")]
    pub confirm_school_days: usize,
}

/// Following students up (`[loop]`): counselors' decisions and the unserved list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpConfig {
    /// A student a counselor marked `not_appropriate` or `declined` is reported again (changes.csv,
    /// the unserved list) once the risk has risen this much since the decision (default 0.10)...
    #[serde(default = "default_reopen_risk_increase")]
    pub reopen_risk_increase: f64,
    /// ... or this many school days after it (default 40).
    #[serde(default = "default_reopen_after_school_days")]
    pub reopen_after_school_days: usize,
    /// A student at medium or high risk, or with something to recover, for more than this many
    /// school days with no current support and no decision is on the unserved list (default 10).
    #[serde(default = "default_unserved_school_days")]
    pub unserved_school_days: usize,
}

/// `[performance]`: how much memory a run may hold. A district too large for
/// `max_memory` is checked and turned into features in partitions of students, one after the
/// other ([`crate::ingest::partition`]); the outputs are the same bytes either way.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceConfig {
    /// The memory a run aims to stay within, in bytes or with a unit (`"2GiB"`, `"512MiB"`,
    /// `"4GB"`; default 2 GiB). The number of partitions is estimated from the input files'
    /// sizes (docs/performance.md).
    #[serde(default = "default_max_memory", deserialize_with = "deserialize_bytes")]
    pub max_memory: u64,
    /// A fixed number of partitions instead of the estimate (default 0: from `max_memory`).
    #[serde(default)]
    pub partitions: usize,
}

impl Default for PerformanceConfig {
    fn default() -> Self {
        PerformanceConfig {
            max_memory: default_max_memory(),
            partitions: 0,
        }
    }
}

fn default_max_memory() -> u64 {
    2 << 30
}

/// A size in bytes: a number, or text with a unit (`B`, `KB`, `MB`, `GB`, `KiB`, `MiB`,
/// `GiB`, `TiB`).
pub fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * scale;
    (bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

fn deserialize_bytes<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Number(u64),
        Text(String),
    }
    match Size::deserialize(deserializer)? {
        Size::Number(n) if n > 0 => Ok(n),
        Size::Number(_) => Err(serde::de::Error::custom("a memory size must be above 0")),
        Size::Text(text) => parse_bytes(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a size: a number of bytes, or a number with a unit (\"2GiB\", \"512MiB\", \"4GB\")"
            ))
        }),
    }
}

/// The run history, `<out>/history/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// Partitions (nights) older than this many days before the as-of date are deleted: data
    /// minimisation (default 400).
    #[serde(default = "default_retain_days")]
    pub retain_days: u32,
    /// Earlier school years of a snapshot's records that ews reads (default 1): their
    /// attendance rows are accepted, not rejects, and the prior year gives the prior-year
    /// features (docs/features.md). 0: only the as-of date's school year.
    #[serde(default = "default_history_years")]
    pub years: u32,
}

impl HistoryConfig {
    /// The first day of the earliest school year read, for a snapshot in `school_year`.
    pub fn first_day(&self, config: &Config, school_year: i32) -> chrono::NaiveDate {
        config.school_year_first_day(school_year - self.years as i32)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model file `ews score` and `ews evaluate` use when no --model is given, relative to
    /// this config file's folder (the shipped config: "model.json", beside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Candidate L2 penalties on the standardised coefficients (1.0 matches scikit-learn's
    /// C = 1); `ews train` picks one by stratified k-fold cross-validation.
    #[serde(default = "default_l2_grid")]
    pub l2_grid: Vec<f64>,
    /// Folds of the cross-validation.
    #[serde(default = "default_cv_folds")]
    pub cv_folds: usize,
    /// The cross-validation uses a stratified sample of at most this many training students:
    /// beyond it the penalty barely moves the log loss while the cost grows with the district
    /// (docs/performance.md).
    #[serde(default = "default_cv_max_students")]
    pub cv_max_students: usize,
    /// Training keeps at most this many labelled students: beyond it, a sample of them by
    /// student id (`src/model/sample.rs`). What training holds then stays that of a district
    /// of this size, whatever the snapshot's (docs/performance.md).
    #[serde(default = "default_max_training_students")]
    pub max_training_students: usize,
    /// A checkpoint gets a calibration step (beta calibration fitted on its holdout) when its held-out expected
    /// calibration error is above this.
    #[serde(default = "default_max_calibration_error")]
    pub max_calibration_error: f64,
    /// Share of labelled students held out, stratified by label, for the reported metrics.
    #[serde(default = "default_holdout")]
    pub holdout_fraction: f64,
    /// Seed of the holdout split, so training is reproducible.
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u64,
    /// Hold every coefficient to its feature's documented direction (default true). Set to
    /// false only to measure what the directions cost in ranking (the model card lists what it changed): a model
    /// trained so may say that more F marks lower risk, and its file says it was not held.
    #[serde(default = "default_true")]
    pub hold_directions: bool,
    /// The dates of the training year (MM-DD) at which `ews train` builds its rows: every
    /// student once per checkpoint, with the features as of that date, so the model learns
    /// what early-year records mean (default 10-01, 12-15, 03-15, 05-15). A checkpoint after
    /// the training snapshot's last school day is skipped, and recorded in the model file.
    #[serde(default = "default_checkpoints")]
    pub checkpoints: Vec<String>,
}

impl ModelConfig {
    /// The checkpoints as written and parsed (the config check refuses one that is not MM-DD).
    pub fn checkpoints(&self) -> Vec<(String, MonthDay)> {
        self.checkpoints
            .iter()
            .filter_map(|c| Some((c.clone(), MonthDay::parse(c)?)))
            .collect()
    }
}

/// The data-quality gate: a run publishes no referral list when a file has a larger share of
/// rejected rows than allowed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityConfig {
    /// Largest share of rejected rows per file (default 1%).
    #[serde(default = "default_max_rejected")]
    pub max_rejected_share: f64,
    /// Per-file overrides, e.g. `"behavior.csv" = 0.05`.
    #[serde(default)]
    pub max_rejected_share_by_file: BTreeMap<String, f64>,
    /// End of the school year's first grading period (MM-DD, default "11-15"): after it, a
    /// grades.csv without rows fails the gate.
    #[serde(default = "default_first_term_end")]
    pub first_term_end: String,
    /// Largest relative change of the share of students at medium or high risk since the
    /// previous run of the same school year and model (|new − old| ÷ max(old, 0.01), default
    /// 0.5) before a run warns (exit 1): a broken export must not silently double the list.
    #[serde(default = "default_max_flagged_change")]
    pub max_flagged_change: f64,
}

impl QualityConfig {
    /// The gate's limit for `file`: its override, else the default; the returned counselor
    /// workbooks, typed by people, have none unless overridden (their rejects are warnings).
    pub fn max_rejected_share(&self, file: &str) -> f64 {
        let default = match file {
            crate::contract::RETURNED_WORKBOOKS => 1.0,
            _ => self.max_rejected_share,
        };
        self.max_rejected_share_by_file
            .get(file)
            .copied()
            .unwrap_or(default)
    }

    pub fn first_term_end(&self) -> MonthDay {
        MonthDay::parse(&self.first_term_end).unwrap_or(MonthDay { month: 11, day: 15 })
    }
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            max_rejected_share: default_max_rejected(),
            max_rejected_share_by_file: BTreeMap::new(),
            first_term_end: default_first_term_end(),
            max_flagged_change: default_max_flagged_change(),
        }
    }
}

fn default_first_term_end() -> String {
    "11-15".into()
}

fn default_max_flagged_change() -> f64 {
    0.5
}

/// Graduation requirements (src/recovery.rs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraduationConfig {
    /// Credits needed to graduate.
    #[serde(default = "default_total_credits")]
    pub total_credits: f64,
    /// Credits needed per subject area (the rest are electives).
    #[serde(default = "default_subject_credits")]
    pub subject_credits: BTreeMap<String, f64>,
    /// Credits expected per required subject by the start of each grade
    /// (`[graduation.subject_credits_by_grade.ELA]` `"10" = 1.0`, …). A subject not listed
    /// expects its requirement pro rata by the years completed (grade − 9 of 4), in whole
    /// credits.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subject_credits_by_grade: BTreeMap<String, BTreeMap<String, f64>>,
    /// Requirements of a graduating class that differ from the above, by cohort year
    /// (`[graduation.cohorts."2028"]` with `total_credits` and/or `[…subject_credits]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cohorts: BTreeMap<String, RequirementOverride>,
    /// Named diploma pathways a student can carry (students.csv `pathway`), each overriding
    /// the requirements of the student's cohort.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pathways: BTreeMap<String, RequirementOverride>,
    /// The most credits a student can take in a school year (a full schedule), for
    /// `reachable_with_recovery`.
    #[serde(default = "default_max_load")]
    pub max_load_per_year: f64,
    /// Credits a student earns in a school year at a normal course load.
    #[serde(default = "default_normal_load")]
    pub normal_load_per_year: f64,
}

impl Default for GraduationConfig {
    fn default() -> Self {
        Self {
            total_credits: default_total_credits(),
            subject_credits: default_subject_credits(),
            subject_credits_by_grade: BTreeMap::new(),
            cohorts: BTreeMap::new(),
            pathways: BTreeMap::new(),
            max_load_per_year: default_max_load(),
            normal_load_per_year: default_normal_load(),
        }
    }
}

fn default_total_credits() -> f64 {
    24.0
}
fn default_subject_credits() -> BTreeMap<String, f64> {
    [("ELA", 4.0), ("MATH", 3.0), ("SCI", 3.0), ("SOC", 3.0)]
        .into_iter()
        .map(|(s, c)| (s.to_string(), c))
        .collect()
}
fn default_max_load() -> f64 {
    7.0
}
fn default_normal_load() -> f64 {
    6.0
}

/// Protection of the files a run writes, and what the pseudonymized feed keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Permissions (octal, Unix) of files with one row per student: referrals.csv,
    /// students.csv/.parquet, schools/*.csv, changes.csv, rejects.csv. Default "0600": the
    /// owner only.
    #[serde(default = "default_student_file_mode")]
    pub student_file_mode: String,
    /// Permissions of the other files ews writes (summary.json, report.html, equity.csv,
    /// data_quality.csv, manifest.json, metrics, the model): counts and metrics, no row per
    /// student. Default "0640": the owner and the group read.
    #[serde(default = "default_aggregate_file_mode")]
    pub aggregate_file_mode: String,
    /// Under `--pseudonymize`, keep the demographic columns (gender, race_ethnicity, ell, sped,
    /// econ_disadvantaged) in the student-level feed. Default false: together with school and
    /// grade they single students out (README, "Data protection").
    #[serde(default)]
    pub feed_demographics: bool,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            student_file_mode: default_student_file_mode(),
            aggregate_file_mode: default_aggregate_file_mode(),
            feed_demographics: false,
        }
    }
}

fn default_student_file_mode() -> String {
    "0600".into()
}

fn default_aggregate_file_mode() -> String {
    "0640".into()
}

/// Permission bits that let the group or others change a file.
const WRITE_BY_OTHERS: u32 = 0o022;

/// An octal mode as written in the config ("0600", "600", "0o600"), when it is one a file of
/// ews may have: at most 0777, and not writable by the group or others.
fn parse_mode(text: &str) -> Option<u32> {
    u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777 && m & WRITE_BY_OTHERS == 0)
}

impl PrivacyConfig {
    /// The student-level files' mode; checked by [`Config::load`] (0600 if it was not).
    pub fn student_file_mode(&self) -> u32 {
        parse_mode(&self.student_file_mode).unwrap_or(0o600)
    }

    /// The aggregate files' mode; checked by [`Config::load`] (0640 if it was not).
    pub fn aggregate_file_mode(&self) -> u32 {
        parse_mode(&self.aggregate_file_mode).unwrap_or(0o640)
    }

    /// The modes of the files ews writes (checked when the config was loaded).
    pub fn file_modes(&self) -> crate::io::folders::FileModes {
        crate::io::folders::FileModes {
            student_level: self.student_file_mode(),
            aggregate: self.aggregate_file_mode(),
        }
    }

    /// The first mode of the config that is not one a file of ews may have, with its key.
    fn bad_mode(&self) -> Option<(&'static str, &str)> {
        [
            ("student_file_mode", &self.student_file_mode),
            ("aggregate_file_mode", &self.aggregate_file_mode),
        ]
        .into_iter()
        .find(|(_, text)| parse_mode(text).is_none())
        .map(|(key, text)| (key, text.as_str()))
    }
}

/// How the files counselors open are written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Start referrals.csv and the counselor files (schools/, prevention/) with a UTF-8
    /// byte-order mark, so Excel on Windows opens them as UTF-8 ("Renée", not "RenÃ©e"). The
    /// dashboard feed (students.csv) and the other files never have one.
    #[serde(default = "yes")]
    pub csv_bom: bool,
}

fn yes() -> bool {
    true
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self { csv_bom: yes() }
    }
}

/// The credit-recovery program.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryConfig {
    /// Students of a school given a recovery seat, at most (school_id = seats): the first of
    /// its candidates in `seat_order` up to the limit are `within_capacity`; with `seats`, its
    /// candidates share out the offerings' places within the limit. A school not listed has
    /// no limit.
    #[serde(default)]
    pub seats_by_school: BTreeMap<String, usize>,
    /// The order in which candidates get seats (across the district; a school's list is that
    /// order restricted to the school), by graduation urgency: each key
    /// decides the ties of the ones before it; the student id decides the last ties.
    /// `cohort_year` (closest graduation first), `required_subject_shortfall` (credits short
    /// in required subjects against what is expected by now, most first),
    /// `credits_to_recover` (most first), `credit_deficit_now` (most first), `risk` (highest
    /// first).
    #[serde(default = "default_seat_order")]
    pub seat_order: Vec<String>,
    /// The terms recovery courses run in, each school year (their ends from the term table).
    #[serde(default = "default_recovery_terms")]
    pub terms: Vec<String>,
    /// Credits a student can recover per recovery term, beside a full schedule.
    #[serde(default = "default_slots_per_term")]
    pub slots_per_term: f64,
    /// Credits a student can recover in each summer before graduation.
    #[serde(default = "default_slots_per_term")]
    pub summer_slots: f64,
    /// Course ids that count for each other in recovery (`"02009" = ["02009CR", "ALG1-OL"]`):
    /// a pass of any of them recovers a failure of another.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub course_equivalents: BTreeMap<String, Vec<String>>,
    /// Recovery courses and sessions with their seats (`[recovery.seats.<name>]`). When any
    /// is given, a candidate's seats are places in them ([`crate::outputs::recovery::allocate`]):
    /// a candidate is `within_capacity` with at least one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seats: BTreeMap<String, SeatOffering>,
}

/// A recovery course or session and its seats: what it can recover, for whom and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatOffering {
    /// Places in it.
    pub seats: usize,
    /// Only this school's candidates take its seats; all schools' when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
    /// The recovery term it runs in (one of `recovery.terms`) or `summer`; when absent, the
    /// next recovery term not yet ended on the as-of date (else the summer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The course it teaches: it recovers a failure of this course or of a course
    /// `course_equivalents` counts for it, never another course of its subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<String>,
    /// Its subject area: without `course_id`, it recovers any failure in the subject; with or
    /// without, it makes up a shortfall of the subject's credits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// The session name for the summer in `[recovery.seats]`.
pub const SUMMER_SESSION: &str = "summer";

impl RecoveryConfig {
    /// The credits a student can recover in a session of `[recovery.seats]`: the summer's
    /// `summer_slots`, a term's `slots_per_term` (also for an offering naming no session).
    pub fn session_slots(&self, session: Option<&str>) -> f64 {
        match session {
            Some(SUMMER_SESSION) => self.summer_slots,
            _ => self.slots_per_term,
        }
    }

    /// Whether two course ids count for each other in recovery: the same id, or two of one
    /// `course_equivalents` group (its key and the ids it lists).
    pub fn same_course(&self, a: &str, b: &str) -> bool {
        a == b
            || self
                .course_group(a)
                .is_some_and(|g| Some(g) == self.course_group(b))
    }

    /// The key of the `course_equivalents` group a course id is in, if any.
    fn course_group(&self, course: &str) -> Option<&str> {
        self.course_equivalents
            .iter()
            .find(|(key, others)| *key == course || others.iter().any(|o| o == course))
            .map(|(key, _)| key.as_str())
    }
}

fn default_recovery_terms() -> Vec<String> {
    vec!["S1".into(), "S2".into()]
}
fn default_slots_per_term() -> f64 {
    1.0
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            seats_by_school: BTreeMap::new(),
            seat_order: default_seat_order(),
            terms: default_recovery_terms(),
            slots_per_term: default_slots_per_term(),
            summer_slots: default_slots_per_term(),
            course_equivalents: BTreeMap::new(),
            seats: BTreeMap::new(),
        }
    }
}

/// The keys `recovery.seat_order` may name.
pub const SEAT_ORDER_KEYS: [&str; 5] = [
    "cohort_year",
    "required_subject_shortfall",
    "credits_to_recover",
    "credit_deficit_now",
    "risk",
];

fn default_seat_order() -> Vec<String> {
    [
        "cohort_year",
        "required_subject_shortfall",
        "credits_to_recover",
        "risk",
    ]
    .map(String::from)
    .to_vec()
}

/// The equity audit (src/equity.rs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EquityConfig {
    /// Groups with fewer students are suppressed in every audit output.
    #[serde(default = "default_min_group_size")]
    pub min_group_size: usize,
}

impl Default for EquityConfig {
    fn default() -> Self {
        Self {
            min_group_size: default_min_group_size(),
        }
    }
}

fn default_min_group_size() -> usize {
    10
}

fn default_max_rejected() -> f64 {
    0.01
}

fn default_school_year_start() -> String {
    "07-01".into()
}
fn default_age_cutoff() -> String {
    "09-01".into()
}
fn default_periods_per_day() -> u8 {
    7
}
fn default_max_days_without_events() -> usize {
    3
}
fn default_chronic() -> f64 {
    0.10
}
fn default_chronic_min_days() -> u32 {
    10
}
fn default_recent_days() -> usize {
    30
}
fn default_school_day_share() -> f64 {
    0.10
}
fn default_expected_by_grade() -> BTreeMap<String, f64> {
    [("9", 0.0), ("10", 6.0), ("11", 12.0), ("12", 18.0)]
        .into_iter()
        .map(|(g, c)| (g.to_string(), c))
        .collect()
}
fn default_on_track_credits() -> f64 {
    5.0
}
fn default_on_track_fs() -> f64 {
    1.0
}
fn default_high() -> f64 {
    0.5
}
fn default_medium() -> f64 {
    0.25
}
fn default_hysteresis() -> f64 {
    0.03
}
fn default_confirm_school_days() -> usize {
    5
}
fn default_reopen_risk_increase() -> f64 {
    0.10
}
fn default_reopen_after_school_days() -> usize {
    40
}
fn default_unserved_school_days() -> usize {
    10
}
fn default_retain_days() -> u32 {
    400
}
fn default_l2_grid() -> Vec<f64> {
    vec![0.01, 0.1, 1.0, 10.0, 100.0]
}
fn default_cv_folds() -> usize {
    5
}
fn default_cv_max_students() -> usize {
    20_000
}
fn default_max_training_students() -> usize {
    1_000_000
}
fn default_max_calibration_error() -> f64 {
    0.01
}
fn default_holdout() -> f64 {
    0.25
}
fn default_seed() -> u64 {
    42
}
fn default_history_years() -> u32 {
    1
}

fn default_checkpoints() -> Vec<String> {
    ["10-01", "12-15", "03-15", "05-15"]
        .map(String::from)
        .to_vec()
}

fn default_true() -> bool {
    true
}

fn default_max_iterations() -> u64 {
    500
}
fn default_gpa_scale() -> BTreeMap<String, f64> {
    [
        ("A+", 4.0),
        ("A", 4.0),
        ("A-", 3.7),
        ("B+", 3.3),
        ("B", 3.0),
        ("B-", 2.7),
        ("C+", 2.3),
        ("C", 2.0),
        ("C-", 1.7),
        ("D+", 1.3),
        ("D", 1.0),
        ("D-", 0.7),
        ("F", 0.0),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_string(), p))
    .collect()
}

impl Default for AttendanceConfig {
    fn default() -> Self {
        Self {
            chronic_absence_threshold: default_chronic(),
            chronic_min_days: default_chronic_min_days(),
            recent_school_days: default_recent_days(),
            school_day_min_share: default_school_day_share(),
            mode: crate::contract::AttendanceMode::default(),
            max_days_without_events: default_max_days_without_events(),
            periods_per_day: default_periods_per_day(),
        }
    }
}
impl Default for CreditsConfig {
    fn default() -> Self {
        Self {
            expected_by_grade: default_expected_by_grade(),
            on_track_min_credits: default_on_track_credits(),
            on_track_max_core_semester_fs: default_on_track_fs(),
        }
    }
}
impl Default for TierConfig {
    fn default() -> Self {
        Self {
            high: default_high(),
            medium: default_medium(),
            hysteresis: default_hysteresis(),
            confirm_school_days: default_confirm_school_days(),
        }
    }
}
impl Default for FollowUpConfig {
    fn default() -> Self {
        Self {
            reopen_risk_increase: default_reopen_risk_increase(),
            reopen_after_school_days: default_reopen_after_school_days(),
            unserved_school_days: default_unserved_school_days(),
        }
    }
}
impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            retain_days: default_retain_days(),
            years: default_history_years(),
        }
    }
}
impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            file: None,
            l2_grid: default_l2_grid(),
            cv_folds: default_cv_folds(),
            cv_max_students: default_cv_max_students(),
            max_training_students: default_max_training_students(),
            max_calibration_error: default_max_calibration_error(),
            holdout_fraction: default_holdout(),
            seed: default_seed(),
            max_iterations: default_max_iterations(),
            hold_directions: true,
            checkpoints: default_checkpoints(),
        }
    }
}
impl Default for Config {
    fn default() -> Self {
        Self {
            school_year_start: default_school_year_start(),
            age_cutoff: default_age_cutoff(),
            attendance: AttendanceConfig::default(),
            credits: CreditsConfig::default(),
            tiers: TierConfig::default(),
            follow_up: FollowUpConfig::default(),
            history: HistoryConfig::default(),
            model: ModelConfig::default(),
            quality: QualityConfig::default(),
            equity: EquityConfig::default(),
            graduation: GraduationConfig::default(),
            recovery: RecoveryConfig::default(),
            privacy: PrivacyConfig::default(),
            enrollment: EnrollmentConfig::default(),
            scope: ScopeConfig::default(),
            outcomes: OutcomesConfig::default(),
            terms: BTreeMap::new(),
            input: crate::config::mapping::Mapping::default(),
            output: OutputConfig::default(),
            performance: PerformanceConfig::default(),
            edfi: EdfiConfig::default(),
            courses: BTreeMap::new(),
            gpa_scale: default_gpa_scale(),
            folder: PathBuf::new(),
        }
    }
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| EwsError::Config {
            path: path.to_path_buf(),
            message: format!("cannot read: {e}"),
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| EwsError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.check(path)?;
        Ok(Config {
            folder: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            ..config
        })
    }

    /// SHA-256 of the effective configuration (its JSON form).
    pub fn sha256(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_string(self).map_err(|e| EwsError::Config {
            path: "config".into(),
            message: e.to_string(),
        })?;
        Ok(crate::io::hashing::hex(&Sha256::digest(json.as_bytes())))
    }

    /// The term table: the contract's terms with the district's added or replaced, each with
    /// the terms it covers.
    pub fn term_table(&self) -> BTreeMap<String, Vec<String>> {
        let mut table: BTreeMap<String, Vec<String>> = crate::contract::DEFAULT_TERMS
            .iter()
            .map(|(term, covers, _)| {
                (
                    term.to_string(),
                    covers.iter().map(|c| c.to_string()).collect(),
                )
            })
            .collect();
        for (term, definition) in &self.terms {
            table.insert(term.clone(), definition.covers.clone());
        }
        table
    }

    /// Every (covering, covered) pair of terms, through chains (Y covers S1, which covers Q1:
    /// Y covers Q1), sorted.
    pub fn covered_terms(&self) -> Vec<(String, String)> {
        let table = self.term_table();
        let mut pairs = std::collections::BTreeSet::new();
        for term in table.keys() {
            let mut stack: Vec<&String> = table[term].iter().collect();
            let mut seen = std::collections::BTreeSet::new();
            while let Some(covered) = stack.pop() {
                if !seen.insert(covered.clone()) {
                    continue;
                }
                pairs.insert((term.clone(), covered.clone()));
                if let Some(more) = table.get(covered) {
                    stack.extend(more.iter());
                }
            }
        }
        pairs.into_iter().collect()
    }

    /// The grade numbers scored (`scope.grades`).
    pub fn scope_grades(&self) -> Vec<i32> {
        self.scope
            .grades
            .iter()
            .filter_map(GradeValue::number)
            .collect()
    }

    /// The model file to score with: `--model` when given, else the config's `[model] file`
    /// (relative to the config file's folder), else `config/model.json` in the working
    /// directory.
    pub fn model_file(&self, flag: Option<&Path>) -> PathBuf {
        match (flag, &self.model.file) {
            (Some(path), _) => path.to_path_buf(),
            (None, Some(file)) => self.folder.join(file),
            (None, None) => PathBuf::from(DEFAULT_MODEL_PATH),
        }
    }

    /// The config at `path`, or the built-in defaults when `path` is the default location and
    /// no file is there (so the tool also runs outside a checkout).
    pub fn load_or_default(path: &Path) -> Result<Config> {
        if path == Path::new(DEFAULT_CONFIG_PATH) && !path.exists() {
            log::warn!("{DEFAULT_CONFIG_PATH} not found; using the built-in defaults");
            return Ok(Config::default());
        }
        Config::load(path)
    }

    fn check(&self, path: &Path) -> Result<()> {
        let bad = |message: String| EwsError::Config {
            path: PathBuf::from(path),
            message,
        };
        for (name, value) in [
            ("school_year_start", &self.school_year_start),
            ("age_cutoff", &self.age_cutoff),
            ("quality.first_term_end", &self.quality.first_term_end),
        ] {
            if MonthDay::parse(value).is_none() {
                return Err(bad(format!("{name} = {value:?}: expected MM-DD")));
            }
        }
        if self.model.checkpoints.is_empty() {
            return Err(bad(
                "model.checkpoints is empty: expected at least one MM-DD date".into(),
            ));
        }
        for value in &self.model.checkpoints {
            if MonthDay::parse(value).is_none() {
                return Err(bad(format!(
                    "model.checkpoints has {value:?}: expected MM-DD dates"
                )));
            }
        }
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(bad(format!("{name} = {v}: expected a number from 0 to 1")))
            }
        };
        unit(
            "attendance.chronic_absence_threshold",
            self.attendance.chronic_absence_threshold,
        )?;
        unit(
            "attendance.school_day_min_share",
            self.attendance.school_day_min_share,
        )?;
        unit("tiers.high", self.tiers.high)?;
        unit(
            "quality.max_rejected_share",
            self.quality.max_rejected_share,
        )?;
        for (file, share) in &self.quality.max_rejected_share_by_file {
            unit(
                &format!("quality.max_rejected_share_by_file.{file}"),
                *share,
            )?;
        }
        unit("tiers.medium", self.tiers.medium)?;
        unit("tiers.hysteresis", self.tiers.hysteresis)?;
        unit(
            "loop.reopen_risk_increase",
            self.follow_up.reopen_risk_increase,
        )?;
        if self.quality.max_flagged_change.is_nan() || self.quality.max_flagged_change < 0.0 {
            return Err(bad(format!(
                "quality.max_flagged_change = {}: expected a number ≥ 0",
                self.quality.max_flagged_change
            )));
        }
        if self.tiers.medium > self.tiers.high {
            return Err(bad(format!(
                "tiers.medium ({}) must not be above tiers.high ({})",
                self.tiers.medium, self.tiers.high
            )));
        }
        if !(self.model.holdout_fraction > 0.0 && self.model.holdout_fraction < 1.0) {
            return Err(bad(format!(
                "model.holdout_fraction = {}: expected a number between 0 and 1",
                self.model.holdout_fraction
            )));
        }
        if let Some((key, text)) = self.privacy.bad_mode() {
            return Err(bad(format!(
                "privacy.{key} = {text:?}: expected octal permissions such as \"0600\", with no write permission for the group or others"
            )));
        }
        for (kind, overrides) in [
            ("cohorts", &self.graduation.cohorts),
            ("pathways", &self.graduation.pathways),
        ] {
            for (name, over) in overrides {
                let valid = |c: f64| c.is_finite() && c >= 0.0;
                let negative = over.total_credits.is_some_and(|t| !valid(t))
                    || over.subject_credits.values().any(|c| !valid(*c));
                if negative {
                    return Err(bad(format!(
                        "graduation.{kind}.{name:?}: credits must be numbers ≥ 0"
                    )));
                }
            }
        }
        for key in &self.recovery.seat_order {
            if !SEAT_ORDER_KEYS.contains(&key.as_str()) {
                return Err(bad(format!(
                    "recovery.seat_order: {key:?}: expected some of {}",
                    SEAT_ORDER_KEYS.join(", ")
                )));
            }
        }
        for (key, value) in [
            (
                "graduation.max_load_per_year",
                self.graduation.max_load_per_year,
            ),
            ("recovery.slots_per_term", self.recovery.slots_per_term),
            ("recovery.summer_slots", self.recovery.summer_slots),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(bad(format!("{key} = {value}: expected a number ≥ 0")));
            }
        }
        let terms = self.term_table();
        for (name, offering) in &self.recovery.seats {
            if let Some(session) = &offering.session {
                if session != SUMMER_SESSION && !self.recovery.terms.contains(session) {
                    return Err(bad(format!(
                        "recovery.seats.{name:?}: session {session:?}: expected one of recovery.terms ({}) or \"{SUMMER_SESSION}\"",
                        self.recovery.terms.join(", ")
                    )));
                }
            }
            let session = offering.session.as_deref();
            if self.recovery.session_slots(session) <= 0.0 {
                return Err(bad(format!(
                    "recovery.seats.{name:?}: its session has no recovery slots ({} = 0)",
                    if session == Some(SUMMER_SESSION) {
                        "recovery.summer_slots"
                    } else {
                        "recovery.slots_per_term"
                    }
                )));
            }
        }
        for term in &self.recovery.terms {
            if !terms.contains_key(term) {
                return Err(bad(format!(
                    "recovery.terms: {term:?}: not a term of the term table"
                )));
            }
        }
        for (course, term) in &self.courses {
            if !terms.contains_key(term) {
                return Err(bad(format!(
                    "courses.{course:?} = {term:?}: not a term of the term table (the contract's, or [terms.<TERM>])"
                )));
            }
        }
        if self.model.l2_grid.is_empty()
            || !self
                .model
                .l2_grid
                .iter()
                .all(|p| *p >= 0.0 && p.is_finite())
        {
            return Err(bad(format!(
                "model.l2_grid = {:?}: expected one or more numbers ≥ 0",
                self.model.l2_grid
            )));
        }
        if !(2..=20).contains(&self.model.cv_folds) {
            return Err(bad(format!(
                "model.cv_folds = {}: expected 2 to 20",
                self.model.cv_folds
            )));
        }
        if self.model.cv_max_students < 100 {
            return Err(bad(format!(
                "model.cv_max_students = {}: expected at least 100",
                self.model.cv_max_students
            )));
        }
        if self.model.max_training_students < 100 {
            return Err(bad(format!(
                "model.max_training_students = {}: expected at least 100",
                self.model.max_training_students
            )));
        }
        if self.model.max_calibration_error.is_nan() || self.model.max_calibration_error < 0.0 {
            return Err(bad(
                "model.max_calibration_error: expected a number ≥ 0".into()
            ));
        }
        if self.attendance.periods_per_day == 0 {
            return Err(bad("attendance.periods_per_day must be at least 1".into()));
        }
        if self.attendance.recent_school_days == 0 {
            return Err(bad(
                "attendance.recent_school_days must be at least 1".into()
            ));
        }
        for (grade, credits) in &self.credits.expected_by_grade {
            match grade.parse::<i32>() {
                Ok(g) if (6..=12).contains(&g) && *credits >= 0.0 => {}
                _ => {
                    return Err(bad(format!(
                        "credits.expected_by_grade: `{grade} = {credits}`: expected a grade 6–12 and credits ≥ 0"
                    )))
                }
            }
        }
        self.input.check().map_err(bad)?;
        for (code, outcome) in &self.outcomes.exit_codes {
            if !crate::contract::EXIT_OUTCOMES.contains(&outcome.as_str()) {
                return Err(bad(format!(
                    "outcomes.exit_codes.{code:?} = {outcome:?}: expected one of {}",
                    crate::contract::EXIT_OUTCOMES.join(", ")
                )));
            }
        }
        for (term, definition) in &self.terms {
            if MonthDay::parse(&definition.ends).is_none() {
                return Err(bad(format!(
                    "terms.{term}.ends = {:?}: expected MM-DD",
                    definition.ends
                )));
            }
        }
        let table = self.term_table();
        if table.len() > 128 {
            return Err(bad(format!(
                "terms: {} terms in the table; at most 128",
                table.len()
            )));
        }
        for (term, covers) in &table {
            if let Some(unknown) = covers.iter().find(|c| !table.contains_key(*c)) {
                return Err(bad(format!(
                    "terms.{term}.covers: {unknown:?} is not a term of the table"
                )));
            }
        }
        for (covering, covered) in self.covered_terms() {
            if covering == covered {
                return Err(bad(format!(
                    "terms.{covering}.covers: the term covers itself (through {})",
                    table[&covering].join(", ")
                )));
            }
        }
        if self.scope.grades.is_empty() {
            return Err(bad("scope.grades: expected at least one grade".into()));
        }
        for grade in &self.scope.grades {
            if grade.number().is_none() {
                return Err(bad(format!(
                    "scope.grades: {grade:?} is not a grade (expected PK, TK, K, KG or 1 to 12)"
                )));
            }
        }
        for (letter, _) in self.input.cutoffs() {
            if !self.gpa_scale.contains_key(&letter) {
                return Err(bad(format!(
                    "input.marks.cutoffs: `{letter}` is not a mark of gpa_scale"
                )));
            }
        }
        for mark in ["A", "B", "C", "D", "F"] {
            if !self.gpa_scale.contains_key(mark) {
                return Err(bad(format!("gpa_scale: the mark `{mark}` has no points")));
            }
        }
        Ok(())
    }

    /// The month-day a term ends (`[terms.<TERM>] ends`, else the contract's table).
    pub fn term_end(&self, term: &str) -> Option<MonthDay> {
        match self.terms.get(term) {
            Some(definition) => MonthDay::parse(&definition.ends),
            None => crate::contract::DEFAULT_TERMS
                .iter()
                .find(|(t, _, _)| *t == term)
                .and_then(|(_, _, ends)| MonthDay::parse(ends)),
        }
    }

    /// The requirements of a student of `cohort` on `pathway`: `[graduation]`, then the
    /// cohort's override, then the pathway's (a pathway the config does not name changes
    /// nothing).
    pub fn requirements(&self, cohort: Option<i32>, pathway: Option<&str>) -> Requirements {
        let mut requirements = Requirements {
            total_credits: self.graduation.total_credits,
            subject_credits: self.graduation.subject_credits.clone(),
        };
        let overrides = [
            cohort.and_then(|c| self.graduation.cohorts.get(&c.to_string())),
            pathway.and_then(|p| self.graduation.pathways.get(p)),
        ];
        for over in overrides.into_iter().flatten() {
            if let Some(total) = over.total_credits {
                requirements.total_credits = total;
            }
            for (subject, credits) in &over.subject_credits {
                requirements
                    .subject_credits
                    .insert(subject.clone(), *credits);
            }
        }
        requirements
            .subject_credits
            .retain(|_, credits| *credits > 0.0);
        requirements
    }

    /// Credits expected in a required subject (`required` credits to graduate) by the start
    /// of `grade`: `graduation.subject_credits_by_grade`, else the requirement pro rata by the
    /// years completed (`grade` − 9 of four), in whole credits.
    pub fn expected_subject_credits(&self, subject: &str, required: f64, grade: i32) -> f64 {
        if let Some(by_grade) = self.graduation.subject_credits_by_grade.get(subject) {
            return by_grade.get(&grade.to_string()).copied().unwrap_or(0.0);
        }
        let years = f64::from((grade - 9).clamp(0, 4));
        (required * years / 4.0).floor()
    }

    /// Credits expected by the start of `grade`; grades the config does not list expect none.
    pub fn expected_credits(&self, grade: i32) -> f64 {
        self.credits
            .expected_by_grade
            .get(&grade.to_string())
            .copied()
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_refused_with_their_name() {
        let mut config = Config::default();
        config.tiers.medium = 0.9;
        let err = config.check(Path::new("x.toml")).unwrap_err().to_string();
        assert!(err.contains("tiers.medium"), "{err}");

        let config = Config {
            school_year_start: "13-01".into(),
            ..Config::default()
        };
        let err = config.check(Path::new("x.toml")).unwrap_err().to_string();
        assert!(err.contains("school_year_start"), "{err}");
    }

    #[test]
    fn memory_sizes_are_read_with_their_units_and_never_zero() {
        assert_eq!(parse_bytes("2GiB"), Some(2 << 30));
        assert_eq!(parse_bytes(" 512 MiB "), Some(512 << 20));
        assert_eq!(parse_bytes("4GB"), Some(4_000_000_000));
        assert_eq!(parse_bytes("1.5kb"), Some(1500));
        assert_eq!(parse_bytes("1048576"), Some(1 << 20));
        for bad in ["", "GiB", "2 GiBs", "-1GiB", "0", "0.1"] {
            assert_eq!(parse_bytes(bad), None, "{bad}");
        }
        let read = |toml: &str| toml::from_str::<Config>(toml).map(|c| c.performance.max_memory);
        assert_eq!(read("").unwrap(), 2 << 30);
        assert_eq!(
            read("[performance]\nmax_memory = \"256KiB\"\n").unwrap(),
            256 << 10
        );
        assert_eq!(read("[performance]\nmax_memory = 1000\n").unwrap(), 1000);
        let err = read("[performance]\nmax_memory = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`lots` is not a size"), "{err}");
        assert!(read("[performance]\nmax_memory = 0\n").is_err());
        // Left out of the config's hash: the outputs do not depend on it.
        let partitioned = Config {
            performance: PerformanceConfig {
                max_memory: 1 << 20,
                partitions: 7,
            },
            ..Config::default()
        };
        assert_eq!(
            partitioned.sha256().unwrap(),
            Config::default().sha256().unwrap()
        );
    }

    #[test]
    fn recovery_seats_are_checked_and_equivalent_courses_count_for_each_other() {
        let refused = |toml: &str| {
            let config: Config = toml::from_str(toml).unwrap();
            config.check(Path::new("x.toml")).unwrap_err().to_string()
        };
        let err = refused("[recovery.seats.lab]\nseats = 5\nsession = \"Q9\"\n");
        assert!(
            err.contains("recovery.seats.\"lab\"") && err.contains("Q9"),
            "{err}"
        );
        let err = refused(
            "[recovery]\nsummer_slots = 0.0\n[recovery.seats.lab]\nseats = 5\nsession = \"summer\"\n",
        );
        assert!(err.contains("recovery.summer_slots"), "{err}");
        let err = refused("[recovery]\nslots_per_term = -1.0\n");
        assert!(err.contains("recovery.slots_per_term"), "{err}");
        // An unknown key of an offering is refused by name when parsed.
        let err = toml::from_str::<Config>("[recovery.seats.lab]\nseats = 5\nroom = \"B2\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("room"), "{err}");

        let mut recovery = RecoveryConfig::default();
        recovery
            .course_equivalents
            .insert("ALG1".into(), vec!["ALG1-OL".into(), "ALG1-CR".into()]);
        assert!(recovery.same_course("ALG1-OL", "ALG1-CR"));
        assert!(recovery.same_course("ALG1", "ALG1-OL"));
        assert!(recovery.same_course("GEOM", "GEOM"));
        assert!(!recovery.same_course("GEOM", "ALG1"));
    }

    #[test]
    fn shipped_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG_PATH);
        let config = Config::load(&path).unwrap();
        assert_eq!(config.expected_credits(11), 12.0);
        assert_eq!(config.gpa_scale["A-"], 3.7);
    }
}
