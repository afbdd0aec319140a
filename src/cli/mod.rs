//! Command-line definitions (clap derive), and one module per subcommand ([`score`],
//! [`validate`], [`train`], [`evaluate`], [`generate`]) with what they share in [`run`].

pub mod evaluate;
pub mod generate;
pub mod import;
pub mod run;
pub mod score;
pub mod train;
pub mod validate;

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::config::DEFAULT_CONFIG_PATH;
use crate::io::progress::When;
use crate::synth::generate::{MarkingPeriods, Shape};

/// Early-warning system for credit recovery: ranks students at risk of not graduating on time
/// from a district's SIS export.
#[derive(Debug, Parser)]
#[command(name = "ews", version, about, long_about = None)]
pub struct Cli {
    /// District configuration (thresholds, credits expected per grade, GPA scale).
    #[arg(long, global = true, default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,

    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// A progress line on stderr (stage, file, bytes read): `auto` shows it when stderr is a
    /// terminal, so a scheduler's logs stay as they are.
    #[arg(long, global = true, value_enum, default_value_t = When::Auto)]
    pub progress: When,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score every enrolled student of a snapshot and write the ranked referral list.
    Score(ScoreArgs),
    /// Check a snapshot: data_quality.csv and rejects.csv, and the gate's verdict, no scoring.
    Validate(ValidateArgs),
    /// Fit the risk model on a snapshot with known outcomes (outcomes.csv).
    Train(TrainArgs),
    /// Backtest a model on a snapshot with known outcomes: metrics, calibration, the
    /// rule-based indicators side by side, and the equity audit.
    Evaluate(EvaluateArgs),
    /// Write a deterministic synthetic district (train and current snapshots), in the export
    /// shape of the config's [input] mapping (the canonical layout by default).
    Generate(GenerateArgs),
    /// Import a district's export in another format (Ed-Fi XML) as a canonical snapshot.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Snapshot folder (students.csv, attendance.csv, grades.csv, credits.csv, [behavior.csv]).
    pub snapshot: PathBuf,
    /// Model file written by `ews train`. Default: the config's `[model] file` (relative to
    /// the config file), else config/model.json.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output folder; the run writes <out>/<as-of>/referrals.csv.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Score as of this date (YYYY-MM-DD). Default: the latest school day of the snapshot.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The earlier run folder to compare with for changes.csv. Default: the most recent
    /// earlier run in --out.
    #[arg(long)]
    pub previous: Option<PathBuf>,
    /// Replace student ids by keyed hashes and remove names in the dashboard feed
    /// (students.parquet/csv) and changes.csv; the key is read from EWS_PSEUDONYM_KEY.
    #[arg(long)]
    pub pseudonymize: bool,
    /// Folder of counselor workbooks (schools/<school>.xlsx) returned with decisions filled in;
    /// read beside the snapshot's referral_status.csv, the later decision for a student wins.
    #[arg(long)]
    pub decisions: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Snapshot folder.
    pub snapshot: PathBuf,
    /// Output folder; the report goes to <out>/<as-of>.validation/.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Check as of this date (YYYY-MM-DD). Default: the latest school day of the snapshot.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Also check outcomes.csv (for a training snapshot).
    #[arg(long)]
    pub with_outcomes: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Snapshot folder with outcomes.csv.
    pub snapshot: PathBuf,
    /// Where to write the model file (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Features as of this date (YYYY-MM-DD). Default: the latest school day of the snapshot.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Snapshot folder with outcomes.csv.
    pub snapshot: PathBuf,
    /// Model file written by `ews train`. Default: the config's `[model] file` (relative to
    /// the config file), else config/model.json.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Folder for metrics.json, evaluation.md and equity.csv.
    /// Default: reports/<as-of>.evaluation.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Features as of this date (YYYY-MM-DD). Default: the latest school day of the snapshot.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Also backtest at each checkpoint the model was trained at, on the snapshot's school year
    /// (those after the as-of date are skipped): AUC, AP, P@10% and calibration per checkpoint,
    /// beside the indicators at the same date, under `checkpoints` in metrics.json.
    #[arg(long)]
    pub checkpoints: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of students per snapshot.
    #[arg(long)]
    pub students: usize,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder; gets train/ and current/.
    #[arg(long)]
    pub out: PathBuf,
    /// Start UTF-8 files with a byte-order mark, as Excel's "CSV UTF-8" does.
    #[arg(long)]
    pub bom: bool,
    /// The shape of the files: `canonical` (grades 9–12, a row per school day), `sis` (K–12
    /// students, enrollment.csv, calendar.csv, exception-only attendance with partial days and
    /// snapshot.toml, period_attendance.csv, quarter marks with the semester and year marks
    /// covering them and `credits` in grades.csv) or `sis-daily` (the same district with a row
    /// per membership day). The SIS shapes are written in the canonical layout only (no
    /// [input] mapping, no --bom).
    #[arg(long, value_enum, default_value_t = Shape::Canonical)]
    pub shape: Shape,
    /// The marking periods of grades.csv: `quarters` (Q1–Q4; in the SIS shapes with the
    /// semester and year marks covering them) or `six-weeks` (W1–W6 with the semester marks S1,
    /// S2 and the year mark Y covering them, in every shape).
    #[arg(long, value_enum, default_value_t = MarkingPeriods::Quarters)]
    pub marking_periods: MarkingPeriods,
    /// Also write the K school years before each snapshot's (0–6): a full year of attendance,
    /// term marks and behavior per high-school student in grade 6 or above that year;
    /// middle-school years at the feeder school `M..` (`001` -> `M01`; in the SIS shapes a
    /// middle school of the district, with the years' calendars and enrollment spans). Students
    /// who entered the district late this year have none. Read with `history.years` >= K.
    #[arg(long, default_value_t = 0)]
    pub history_years: u32,
    /// The files' format: `csv`, or `parquet` (text columns, zstd, row groups of about a million
    /// rows; a tenth of the CSV's size or less) for districts whose CSV would not fit the disk.
    /// Parquet is written in the canonical layout only (no [input] mapping, no --bom).
    #[arg(long, value_enum, default_value_t = crate::synth::generate::FileFormat::Csv)]
    pub format: crate::synth::generate::FileFormat,
    /// Which snapshots to write: `both`, or `train` or `current` alone (the same bytes as with
    /// both) for a disk that cannot hold both at once.
    #[arg(long, value_enum, default_value_t = crate::synth::generate::Snapshots::Both)]
    pub snapshots: crate::synth::generate::Snapshots,
}

/// `ews import <format>`: a district's export in another format, written as a canonical
/// snapshot.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: ImportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    /// Ed-Fi interchange XML (Data Standard 4 and 5) to a snapshot in exception mode, with
    /// import_report.csv (what was written, rejected, missing, unmapped) beside its files.
    Edfi(EdfiArgs),
}

#[derive(Debug, Args)]
pub struct EdfiArgs {
    /// The folder of the interchange files (*.xml; each is known by its root element).
    pub xml_dir: PathBuf,
    /// The snapshot folder to write (replaced only when ews wrote everything in it).
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("expected a date as YYYY-MM-DD, found {text:?}"))
}
