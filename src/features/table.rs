//! The one table of features: for each, its name, family, unit, direction of risk, whether
//! the model uses it, and the plain-language reason a counselor reads (the typical value's
//! words follow from the unit and the direction). Scoring, the reasons, the feed and
//! referrals.csv all read this table; a new feature is a new row here and its computation in
//! [`crate::features::compute`].

use crate::config::Config;
use crate::io::text::short_number;

/// A feature's documented direction: how it relates to the risk of not graduating on time.
/// The model's fit holds each coefficient to it (a risk feature never lowers risk), the model
/// file stores it beside the coefficient, and reasons read it to know which way is "worse".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Higher is worse: the coefficient is at least 0.
    Risk,
    /// Lower is worse: the coefficient is at most 0.
    Protective,
    /// No direction is claimed (a missing-value indicator): the coefficient is free, and the
    /// feature is never a reason.
    None,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Risk => "risk",
            Direction::Protective => "protective",
            Direction::None => "none",
        }
    }
}

/// Which part of a student's record a feature comes from (docs/features.md groups them so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Attendance,
    Marks,
    Credits,
    Behavior,
    /// Indicators from the research literature built on the others (on-track, over-age).
    Indicators,
    /// The school year before the as-of date's (`history.years`).
    PriorYear,
}

/// What a feature's value measures, which decides how it is written and what "typical" is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share of days, 0 to 1, written as a percentage.
    Rate,
    /// A count (marks, courses, incidents, days).
    Count,
    /// Grade points on the 4-point scale.
    GradePoints,
    /// Credits.
    Credits,
    /// Yes (1) or no (0); typical is the share of yes.
    Flag,
}

/// A feature of the feature table: everything ews says about it is defined here, once.
#[derive(Debug)]
pub struct FeatureDef {
    pub name: &'static str,
    pub family: Family,
    pub unit: Unit,
    /// The documented direction of risk: which way is "worse", and the sign the model's
    /// coefficient keeps.
    pub direction: Direction,
    /// Whether the logistic model uses it (credits_earned is reported but mostly measures grade
    /// level, so the model uses the credit deficit against the grade's expectation instead).
    pub in_model: bool,
    /// For a model feature a student can lack (a transfer or a new entrant with no record of
    /// its kind yet): the name of the model's 0/1 indicator of that (direction `none`). A
    /// missing value is scored at the training mean, so without the indicator "no record" would
    /// look typical; with it the model learns what having no record means.
    pub missing_indicator: Option<&'static str>,
    /// The plain-language reason at a student's value, given the student's grade and the
    /// config (counselors read it in referrals.csv and the counselor files).
    pub reason: fn(f64, i32, &Config) -> String,
    /// Added after the dashboard feed's schema 1: its column is written after the feed's last
    /// columns, so the feed's layout only grows at its end (docs/output-schema.md).
    pub appended_to_feed: bool,
}

impl Unit {
    /// A value as a reason shows it: a rate in whole percent, grade points to two decimals,
    /// counts and credits to one; a flag as it is.
    pub fn as_shown(self, value: f64) -> f64 {
        let to = |decimals: i32| {
            let scale = 10f64.powi(decimals);
            (value * scale).round() / scale
        };
        match self {
            Unit::Rate => to(2),
            Unit::GradePoints => to(2),
            Unit::Count | Unit::Credits => to(1),
            Unit::Flag => value,
        }
    }
}

impl FeatureDef {
    /// Whether a student's `value` is worse than the district's `typical` one, as both are
    /// shown (a reason "late on 5% of days (district median 5%)" says nothing): a reason comes
    /// only from such a value. False when either is unknown.
    pub fn is_worse_than(&self, value: f64, typical: f64) -> bool {
        let (value, typical) = (self.unit.as_shown(value), self.unit.as_shown(typical));
        match self.direction {
            Direction::Risk => value > typical,
            Direction::Protective => value < typical,
            Direction::None => false,
        }
    }

    /// The district's typical value in words, shown after a reason so a counselor can compare.
    pub fn typical_text(&self, typical: f64) -> String {
        if typical.is_nan() {
            return "no district figure".to_string();
        }
        match (self.unit, self.direction) {
            // A yes that is good (on track): the share that has it.
            (Unit::Flag, Direction::Protective) => {
                format!("{} of students are on track", percent(typical))
            }
            (Unit::Flag, _) => format!("as are {} of students", percent(typical)),
            (Unit::Rate, _) => format!("district median {}", percent(typical)),
            (Unit::GradePoints, _) => format!("district median {typical:.2}"),
            (Unit::Count | Unit::Credits, _) => {
                format!("district median {}", short_number(typical))
            }
        }
    }
}

/// The feature table's features, in model order.
pub const FEATURES: [FeatureDef; 24] = [
    FeatureDef {
        name: "attendance_rate",
        family: Family::Attendance,
        unit: Unit::Rate,
        direction: Direction::Protective,
        in_model: true,
        missing_indicator: Some("no_attendance_record"),
        reason: |v, _, _| format!("attended {} of school days", percent(v)),
        appended_to_feed: false,
    },
    FeatureDef {
        name: "unexcused_absence_rate",
        family: Family::Attendance,
        unit: Unit::Rate,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| format!("unexcused absences on {} of days", percent(v)),
        appended_to_feed: false,
    },
    FeatureDef {
        name: "recent_attendance_rate",
        family: Family::Attendance,
        unit: Unit::Rate,
        direction: Direction::Protective,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, config| {
            format!(
                "attended {} of the last {} school days",
                percent(v),
                config.attendance.recent_school_days
            )
        },
        appended_to_feed: false,
    },
    FeatureDef {
        name: "chronic_absence",
        family: Family::Attendance,
        unit: Unit::Flag,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: Some("too_few_days_for_chronic_absence"),
        reason: |_, _, config| {
            format!(
                "chronically absent (missed {}+ of days)",
                percent(config.attendance.chronic_absence_threshold)
            )
        },
        appended_to_feed: false,
    },
    FeatureDef {
        name: "tardy_rate",
        family: Family::Attendance,
        unit: Unit::Rate,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| format!("late on {} of days", percent(v)),
        appended_to_feed: false,
    },
    FeatureDef {
        name: "f_marks",
        family: Family::Marks,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| format!("{} this year", count(v, "F mark", "F marks")),
        appended_to_feed: false,
    },
    FeatureDef {
        name: "core_f_marks",
        family: Family::Marks,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| {
            format!(
                "{} in core subjects this year",
                count(v, "F mark", "F marks")
            )
        },
        appended_to_feed: false,
    },
    FeatureDef {
        name: "gpa",
        family: Family::Marks,
        unit: Unit::GradePoints,
        direction: Direction::Protective,
        in_model: true,
        missing_indicator: Some("no_marks_this_year"),
        reason: |v, _, _| format!("GPA {v:.2} this year"),
        appended_to_feed: false,
    },
    FeatureDef {
        name: "credits_earned",
        family: Family::Credits,
        unit: Unit::Credits,
        direction: Direction::Protective,
        in_model: false,
        missing_indicator: None,
        reason: |v, _, _| format!("{} earned", count(v, "credit", "credits")),
        appended_to_feed: false,
    },
    FeatureDef {
        name: "credit_deficit_start_of_grade",
        family: Family::Credits,
        unit: Unit::Credits,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, grade, _| {
            format!(
                "{} behind the start of grade {grade}",
                count(v, "credit", "credits")
            )
        },
        appended_to_feed: false,
    },
    FeatureDef {
        name: "unrecovered_failed_courses",
        family: Family::Credits,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| {
            format!(
                "{} not yet recovered",
                count(v, "failed course", "failed courses")
            )
        },
        appended_to_feed: false,
    },
    FeatureDef {
        name: "freshman_on_track",
        family: Family::Indicators,
        unit: Unit::Flag,
        direction: Direction::Protective,
        in_model: true,
        missing_indicator: Some("no_on_track_evidence"),
        reason: |_, grade, _| match grade {
            9 => "off track in grade 9 so far".to_string(),
            _ => "was off track at the end of grade 9".to_string(),
        },
        appended_to_feed: false,
    },
    FeatureDef {
        name: "behavior_incidents",
        family: Family::Behavior,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| {
            format!(
                "{} this year",
                count(v, "behavior incident", "behavior incidents")
            )
        },
        appended_to_feed: false,
    },
    FeatureDef {
        name: "suspension_days",
        family: Family::Behavior,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| {
            format!(
                "{} this year",
                count(v, "suspension day", "suspension days")
            )
        },
        appended_to_feed: false,
    },
    FeatureDef {
        name: "over_age",
        family: Family::Indicators,
        unit: Unit::Flag,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: Some("no_birth_date"),
        reason: |_, _, _| "over-age for grade".to_string(),
        appended_to_feed: false,
    },
    FeatureDef {
        name: "class_period_absence_rate",
        family: Family::Attendance,
        unit: Unit::Rate,
        direction: Direction::Risk,
        // Reported, not yet in the model: most exports have no period attendance, and a model
        // trained where it is always missing cannot weigh it.
        in_model: false,
        missing_indicator: None,
        reason: |v, _, _| format!("missed {} of class periods on days in school", percent(v)),
        appended_to_feed: true,
    },
    FeatureDef {
        name: "credit_deficit_now",
        family: Family::Credits,
        unit: Unit::Credits,
        direction: Direction::Risk,
        in_model: false,
        missing_indicator: None,
        reason: |v, _, _| {
            format!(
                "{} behind what is expected by now",
                count(v, "credit", "credits")
            )
        },
        appended_to_feed: true,
    },
    FeatureDef {
        name: "prior_attendance_rate",
        family: Family::PriorYear,
        unit: Unit::Rate,
        direction: Direction::Protective,
        in_model: true,
        missing_indicator: Some("no_prior_year_attendance"),
        reason: |v, _, _| format!("attended {} of school days last year", percent(v)),
        appended_to_feed: true,
    },
    FeatureDef {
        name: "prior_gpa",
        family: Family::PriorYear,
        unit: Unit::GradePoints,
        direction: Direction::Protective,
        in_model: true,
        missing_indicator: Some("no_prior_year_marks"),
        reason: |v, _, _| format!("GPA {v:.2} last year"),
        appended_to_feed: true,
    },
    FeatureDef {
        name: "prior_f_marks",
        family: Family::PriorYear,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| format!("{} last year", count(v, "F mark", "F marks")),
        appended_to_feed: true,
    },
    FeatureDef {
        name: "prior_core_f_marks",
        family: Family::PriorYear,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| {
            format!(
                "{} in core subjects last year",
                count(v, "F mark", "F marks")
            )
        },
        appended_to_feed: true,
    },
    FeatureDef {
        name: "prior_behavior_incidents",
        family: Family::PriorYear,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| {
            format!(
                "{} last year",
                count(v, "behavior incident", "behavior incidents")
            )
        },
        appended_to_feed: true,
    },
    FeatureDef {
        name: "prior_suspension_days",
        family: Family::PriorYear,
        unit: Unit::Count,
        direction: Direction::Risk,
        in_model: true,
        missing_indicator: None,
        reason: |v, _, _| {
            format!(
                "{} last year",
                count(v, "suspension day", "suspension days")
            )
        },
        appended_to_feed: true,
    },
    FeatureDef {
        name: "prior_credits_earned",
        family: Family::PriorYear,
        unit: Unit::Credits,
        direction: Direction::Protective,
        in_model: true,
        missing_indicator: Some("no_prior_year_credits"),
        reason: |v, _, _| format!("{} earned last year", count(v, "credit", "credits")),
        appended_to_feed: true,
    },
];

pub fn feature(name: &str) -> Option<&'static FeatureDef> {
    FEATURES.iter().find(|f| f.name == name)
}

/// The model's time-of-year input: how far into the school year the as-of date is (a column
/// of the feature table, the same for every student of a run; not an output column).
pub const SCHOOL_YEAR_FRACTION: &str = "school_year_fraction";

/// What one input of the model is: a feature of the table, the indicator that a feature's
/// value is missing, or the time of year.
#[derive(Debug, Clone, Copy)]
pub enum ModelInput {
    Value(&'static FeatureDef),
    MissingIndicator {
        name: &'static str,
        of: &'static FeatureDef,
    },
    /// [`SCHOOL_YEAR_FRACTION`]: trained at several checkpoints of the year, the model learns
    /// how the risk of the same record moves with the time of year.
    TimeOfYear,
}

impl ModelInput {
    pub fn name(self) -> &'static str {
        match self {
            ModelInput::Value(f) => f.name,
            ModelInput::MissingIndicator { name, .. } => name,
            ModelInput::TimeOfYear => SCHOOL_YEAR_FRACTION,
        }
    }

    /// The documented direction: a feature's own; `none` for the indicators and the time of
    /// year, which claim none.
    pub fn direction(self) -> Direction {
        match self {
            ModelInput::Value(f) => f.direction,
            ModelInput::MissingIndicator { .. } | ModelInput::TimeOfYear => Direction::None,
        }
    }
}

/// The model's inputs, in model order: the features the model uses, in table order, then their
/// missing-value indicators, in the same order, then the time of year.
pub fn model_inputs() -> Vec<ModelInput> {
    let used = || FEATURES.iter().filter(|f| f.in_model);
    used()
        .map(ModelInput::Value)
        .chain(used().filter_map(|f| {
            f.missing_indicator
                .map(|name| ModelInput::MissingIndicator { name, of: f })
        }))
        .chain(std::iter::once(ModelInput::TimeOfYear))
        .collect()
}

/// The model input named `name`.
pub fn model_input(name: &str) -> Option<ModelInput> {
    model_inputs().into_iter().find(|m| m.name() == name)
}

/// A share as a whole percentage.
fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

/// A count without a needless ".0", with the noun in singular or plural.
fn count(n: f64, singular: &str, plural: &str) -> String {
    let noun = if (n - 1.0).abs() < 1e-9 {
        singular
    } else {
        plural
    };
    format!("{} {noun}", short_number(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_speaks_plain_words() {
        let config = Config::default();
        for f in &FEATURES {
            let reason = (f.reason)(2.0, 10, &config);
            assert!(!reason.contains(f.name), "{}: {reason}", f.name);
            assert!(!reason.contains('='), "{}: {reason}", f.name);
            assert_ne!(f.typical_text(0.5), "no district figure", "{}", f.name);
        }
        // Reported only: credits_earned (grade level), class_period_absence_rate (rarely
        // exported, so not yet trained on) and credit_deficit_now (it moves with the terms'
        // ends through the year, where the model's training rows stand at one date).
        let reported: Vec<&str> = FEATURES
            .iter()
            .filter(|f| !f.in_model)
            .map(|f| f.name)
            .collect();
        assert_eq!(
            reported,
            [
                "credits_earned",
                "class_period_absence_rate",
                "credit_deficit_now"
            ]
        );
    }

    #[test]
    fn texts_follow_the_unit_and_the_direction_of_risk() {
        let def = |name| feature(name).unwrap();
        let config = Config::default();
        assert_eq!(def("tardy_rate").typical_text(0.05), "district median 5%");
        assert_eq!(def("gpa").typical_text(2.456), "district median 2.46");
        assert_eq!(
            def("credit_deficit_start_of_grade").typical_text(2.0),
            "district median 2"
        );
        assert_eq!(
            def("credit_deficit_start_of_grade").typical_text(2.5),
            "district median 2.5"
        );
        assert_eq!(def("over_age").typical_text(0.12), "as are 12% of students");
        assert_eq!(
            def("freshman_on_track").typical_text(0.8),
            "80% of students are on track"
        );
        assert_eq!(def("f_marks").typical_text(f64::NAN), "no district figure");
        assert_eq!(
            (def("f_marks").reason)(1.0, 10, &config),
            "1 F mark this year"
        );
        assert_eq!(
            (def("suspension_days").reason)(2.5, 10, &config),
            "2.5 suspension days this year"
        );
        assert_eq!(
            (def("freshman_on_track").reason)(0.0, 11, &config),
            "was off track at the end of grade 9"
        );
    }
}
