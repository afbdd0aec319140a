//! The input contract (docs/input-contract.md), the one place its values are spelled: the
//! files and their columns, the date format, the attendance codes, the outcome values and the
//! reasons a row is rejected for. Every layer may use it; it uses nothing of ews.

/// Dates in the canonical layout (ISO 8601): the contract's format, and the one every output
/// writes.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Canonical attendance codes, from least to most severe (the rank decides which of two rows
/// for one student and day is kept).
pub const ATTENDANCE_CODES: [&str; 5] = ["P", "T", "E", "A", "S"];

/// Ranks in [`ATTENDANCE_CODES`] (0 = P): the codes up to this rank count as present (P, T).
pub const PRESENT_MAX_SEVERITY: u8 = 1;
/// The rank of T (tardy: present, late).
pub const TARDY: u8 = 1;
/// The rank of A (unexcused absence).
pub const UNEXCUSED: u8 = 3;

/// The core subjects; an F in one of these weighs most in the literature.
pub const CORE_SUBJECTS: [&str; 4] = ["ELA", "MATH", "SCI", "SOC"];

/// The outcome values of outcomes.csv.
pub const OUTCOME_VALUES: [&str; 5] = [
    "graduated_on_time",
    "graduated_late",
    "dropped_out",
    "still_enrolled",
    "transferred_out",
];

/// What an enrollment exit means for the training label (`[outcomes.exit_codes]`): a student
/// who `graduated` did so on time when the exit date is on or before August 31 of the cohort
/// year, late otherwise; `other` exits are excluded from training and counted.
pub const EXIT_OUTCOMES: [&str; 4] = ["transferred_out", "dropped_out", "graduated", "other"];

/// The contract's term table (part 2): each term, the terms its mark covers (and so
/// supersedes once posted), and the month-day it ends. A district adds its own in
/// `[terms.<TERM>]`.
pub const DEFAULT_TERMS: [(&str, &[&str], &str); 16] = [
    ("Q1", &[], "10-31"),
    ("Q2", &[], "01-31"),
    ("Q3", &[], "04-15"),
    ("Q4", &[], "06-15"),
    ("W1", &[], "09-30"),
    ("W2", &[], "11-15"),
    ("W3", &[], "01-31"),
    ("W4", &[], "03-15"),
    ("W5", &[], "04-30"),
    ("W6", &[], "06-15"),
    ("T1", &[], "11-30"),
    ("T2", &[], "03-15"),
    ("T3", &[], "06-15"),
    ("S1", &["Q1", "Q2", "W1", "W2", "W3"], "01-31"),
    ("S2", &["Q3", "Q4", "W4", "W5", "W6"], "06-15"),
    (
        "Y",
        &[
            "S1", "S2", "T1", "T2", "T3", "Q1", "Q2", "Q3", "Q4", "W1", "W2", "W3", "W4", "W5",
            "W6",
        ],
        "06-15",
    ),
];

/// Reason of a grades.csv row whose term the term table does not know.
pub const UNKNOWN_TERM_REASON: &str =
    "term not in the term table: add [terms.<TERM>] with covers and ends to the config";

/// Reason of a row without a required value.
pub const MISSING_REASON: &str = "missing value (the column is required)";
/// Reason of a row of a student who is not in students.csv.
pub const NOT_ENROLLED_REASON: &str = "student not in students.csv";

/// Reason of a row whose date does not parse in the export's `format`.
pub fn bad_date_reason(format: &str) -> String {
    format!("unparseable date (expected {format})")
}

/// Whether a value is empty or white space only (Unicode white space, as `str::trim`).
pub fn is_blank(value: &str) -> bool {
    match value.as_bytes().first() {
        None => true,
        Some(b) if b.is_ascii_alphanumeric() => false,
        Some(_) => value.trim().is_empty(),
    }
}

/// Grade values read without a mapping (contract part 2), with their grade number: pre-K and
/// transitional K are -1, kindergarten 0, grades 1–12 themselves (written `1`–`12` or
/// `01`–`12`). Any other value needs `input.grade_levels` in the config.
pub const GRADE_WORDS: [(&str, i32); 4] = [("PK", -1), ("TK", -1), ("K", 0), ("KG", 0)];

/// The grade number of a grade value the contract reads without a mapping (surrounding spaces
/// aside; letters in any case).
pub fn grade_number(value: &str) -> Option<i32> {
    let value = value.trim();
    if let Some((_, number)) = GRADE_WORDS
        .iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(value))
    {
        return Some(*number);
    }
    let digits = value.len() <= 2 && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    let number: i32 = value.parse().ok().filter(|_| digits)?;
    (1..=12).contains(&number).then_some(number)
}

/// The grades scored by default (`scope.grades`): high school.
pub const DEFAULT_SCOPE: [i32; 4] = [9, 10, 11, 12];

/// Reason of a row of students.csv whose grade value is neither the contract's nor mapped.
pub const UNKNOWN_GRADE_REASON: &str =
    "unknown grade level (expected PK, TK, K, KG, 1–12 or 01–12, or a value mapped in input.grade_levels)";

/// The layout of one export file of the input contract.
#[derive(Debug)]
pub struct FileSpec {
    pub name: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
    /// Free-text columns: an invalid UTF-8 sequence there is replaced (U+FFFD) and the row kept;
    /// in any other column (ids, dates, codes, numbers) it rejects the row.
    pub free_text: &'static [&'static str],
    /// Whether a snapshot without this file is an error.
    pub required_file: bool,
}

pub const STUDENTS: FileSpec = FileSpec {
    name: "students.csv",
    required: &[
        "student_id",
        "first_name",
        "last_name",
        "school_id",
        "grade_level",
    ],
    optional: &[
        "school_name",
        "birth_date",
        "cohort_year",
        "gender",
        "race_ethnicity",
        "ell",
        "sped",
        "econ_disadvantaged",
        "counselor",
        "pathway",
    ],
    free_text: &[
        "first_name",
        "last_name",
        "school_name",
        "gender",
        "race_ethnicity",
        "counselor",
        "pathway",
    ],
    required_file: true,
};

pub const ATTENDANCE: FileSpec = FileSpec {
    name: "attendance.csv",
    required: &["student_id", "school_id", "date", "code"],
    optional: &["day_fraction"],
    free_text: &[],
    required_file: true,
};

pub const GRADES: FileSpec = FileSpec {
    name: "grades.csv",
    required: &[
        "student_id",
        "school_id",
        "school_year",
        "term",
        "course_id",
        "course_name",
        "subject",
        "mark",
        "mark_date",
    ],
    optional: &["percent", "credits", "course_term"],
    free_text: &["course_name"],
    required_file: true,
};

pub const CREDITS: FileSpec = FileSpec {
    name: "credits.csv",
    required: &[
        "student_id",
        "school_year",
        "term",
        "course_id",
        "course_name",
        "subject",
        "credits_attempted",
        "credits_earned",
        "mark",
        "completion_date",
    ],
    optional: &["credit_recovery", "course_term", "recovers_course_id"],
    free_text: &["course_name"],
    required_file: true,
};

pub const BEHAVIOR: FileSpec = FileSpec {
    name: "behavior.csv",
    required: &["student_id", "date", "incident_type"],
    optional: &["suspension_type", "suspension_days"],
    free_text: &["incident_type"],
    required_file: false,
};

pub const OUTCOMES: FileSpec = FileSpec {
    name: "outcomes.csv",
    required: &["student_id", "outcome", "outcome_date"],
    optional: &[],
    free_text: &[],
    required_file: true,
};

/// Enrollment spans (part 2): required when attendance is exception-only; with calendar.csv,
/// the source of membership days in either mode.
pub const ENROLLMENT: FileSpec = FileSpec {
    name: "enrollment.csv",
    required: &["student_id", "school_id", "entry_date"],
    optional: &["exit_date", "exit_code", "entry_grade_level"],
    free_text: &[],
    required_file: false,
};

/// Instructional days per school (part 2): required when attendance is exception-only.
pub const CALENDAR: FileSpec = FileSpec {
    name: "calendar.csv",
    required: &["school_id", "date", "instructional"],
    optional: &["periods"],
    free_text: &[],
    required_file: false,
};

/// Class-period attendance (part 2): rows for class periods, exception-only in exception
/// mode; it feeds one feature and never changes the daily rates.
pub const PERIOD_ATTENDANCE: FileSpec = FileSpec {
    name: "period_attendance.csv",
    required: &["student_id", "school_id", "date", "period", "code"],
    optional: &[],
    free_text: &[],
    required_file: false,
};

/// Supports given (part 2; `ews import edfi` writes it from StudentInterventionAssociation):
/// a student's current supports, recovery courses in progress, and credits recovered that the
/// transcript does not have yet.
pub const INTERVENTIONS: FileSpec = FileSpec {
    name: "interventions.csv",
    required: &["student_id", "intervention_type", "start_date", "status"],
    optional: &["course_id", "end_date", "credits_recovered"],
    free_text: &[],
    required_file: false,
};

/// The statuses of a support (interventions.csv's `status`).
pub const INTERVENTION_STATUSES: [&str; 4] = ["planned", "active", "completed", "withdrawn"];

/// The intervention type of a credit-recovery course: with a `course_id`, the failure it
/// recovers; completed, with `credits_recovered`, credits the transcript may not have yet.
pub const CREDIT_RECOVERY: &str = "credit_recovery";

/// A completed support stays current this many days after its end date.
pub const COMPLETED_CURRENT_DAYS: i64 = 30;

/// Counselors' decisions read back from the SIS (part 2).
pub const REFERRAL_STATUS: FileSpec = FileSpec {
    name: "referral_status.csv",
    required: &["student_id", "status", "date"],
    optional: &["reason", "by"],
    free_text: &["reason", "by"],
    required_file: false,
};

/// The statuses of a counselor's decision (part 2, referral_status.csv's `status`): the
/// counselor workbook offers them to pick from.
pub const DECISION_STATUSES: [&str; 5] = [
    "reviewed",
    "contacted",
    "enrolled",
    "declined",
    "not_appropriate",
];

/// The counselor workbook (`schools/<school>.xlsx`) is an output that comes back as an input
/// (`ews score --decisions DIR`): its lists' sheet names, and the columns in which
/// counselors record their decisions (referral_status.csv's `status`, `date` and `reason`).
pub const WORKBOOK_LISTS: [&str; 3] = ["Recovery candidates", "Prevention", "Unserved"];
pub const DECISION_COLUMNS: [&str; 3] = ["decision_status", "decision_date", "decision_reason"];

/// The data-quality report's name for the returned workbooks, all together. Their rows are
/// typed by people: rejected ones are warnings, and never fail the gate unless
/// `quality.max_rejected_share_by_file` names this file.
pub const RETURNED_WORKBOOKS: &str = "returned workbooks";

/// What `ews import` writes beside a snapshot's files: its report (counts: aggregate) and its
/// rejected records (with their values: student-level).
pub const IMPORT_REPORT: &str = "import_report.csv";
pub const IMPORT_REJECTS: &str = "import_rejects.csv";

/// Every file of the contract, in contract order.
pub const ALL_FILES: [&FileSpec; 11] = [
    &STUDENTS,
    &ATTENDANCE,
    &GRADES,
    &CREDITS,
    &BEHAVIOR,
    &OUTCOMES,
    &ENROLLMENT,
    &CALENDAR,
    &PERIOD_ATTENDANCE,
    &INTERVENTIONS,
    &REFERRAL_STATUS,
];

/// Columns holding dates, in any file.
pub const DATE_COLUMNS: [&str; 9] = [
    "birth_date",
    "date",
    "mark_date",
    "completion_date",
    "outcome_date",
    "entry_date",
    "exit_date",
    "start_date",
    "end_date",
];
/// Columns holding yes/no flags, in any file.
pub const BOOLEAN_COLUMNS: [&str; 5] = [
    "ell",
    "sped",
    "econ_disadvantaged",
    "credit_recovery",
    "instructional",
];

/// How attendance.csv lists days (part 2): `daily`, one row per student per school day (part
/// 1), or `exceptions`, rows only for days that were not plain presence, every other
/// membership day being present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttendanceMode {
    #[default]
    Daily,
    Exceptions,
}

/// The file a snapshot may declare its own attendance mode in (written by importers); it
/// wins over the config.
pub const SNAPSHOT_TOML: &str = "snapshot.toml";

/// Reasons of an attendance (or period attendance) row on a day that is not a membership day.
pub const OUTSIDE_SPANS_REASON: &str =
    "not a membership day: outside the student's enrollment spans (enrollment.csv)";
pub const OTHER_SCHOOL_REASON: &str =
    "not a membership day: the student is enrolled at another school on this date (enrollment.csv)";
pub const NOT_INSTRUCTIONAL_REASON: &str =
    "not a membership day: not an instructional day of this school (calendar.csv)";

/// Reason of an attendance row of a student who has no enrollment span.
pub const NO_SPAN_REASON: &str = "no enrollment span (enrollment.csv)";

impl FileSpec {
    /// The file's stem (`students` for students.csv), the key of its mapping.
    pub fn stem(&self) -> &'static str {
        self.name.strip_suffix(".csv").unwrap_or(self.name)
    }

    pub fn columns(&self) -> impl Iterator<Item = &'static str> {
        self.required.iter().chain(self.optional).copied()
    }
}
