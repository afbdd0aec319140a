//! The latent model of the synthetic district: every number that drives what is random in it
//! (risk, outcomes, attendance, marks, discipline, transcripts, and in the SIS shapes the K–8
//! students, moves, withdrawals, partial days, covering term marks and class periods), in one place, and the copy of them that
//! generator.json records.

use serde::Serialize;

pub(super) const MIN_STUDENTS: usize = 20;
/// The K–8 students of the SIS shapes ([`K8_SHARE`] of these) fill their 8-digit id blocks
/// ([`K8_WIDE_SPAN`]) at this size; the high schools' blocks hold 40 million.
pub(super) const MAX_STUDENTS: usize = 10_000_000;
pub(super) const STUDENTS_PER_SCHOOL: f64 = 400.0;

pub(super) const SCHOOL_EFFECT_SD: f64 = 0.35;
pub(super) const COEF_ECON: f64 = 0.4;
pub(super) const COEF_ELL: f64 = 0.2;
pub(super) const COEF_SPED: f64 = 0.25;
pub(super) const RISK_NOISE_SD: f64 = 1.0;
pub(super) const OUTCOME_SLOPE: f64 = 2.0;
pub(super) const TARGET_RATE: f64 = 0.20;
pub(super) const R_NOW_SD: f64 = 0.35;
pub(super) const R_PAST_SD: f64 = 0.45;
/// An earlier year's term mark (`--history-years`) is its course's year percent + N(0, this).
pub(super) const HISTORY_TERM_SD: f64 = 5.0;

pub(super) const P_ECON: f64 = 0.45;
pub(super) const P_SPED: f64 = 0.13;
pub(super) const RETAIN: (f64, f64) = (-3.0, 0.9);

pub(super) const ABSENCE: (f64, f64) = (-3.2, 0.9);
pub(super) const ABSENCE_DRIFT: f64 = 0.6;
pub(super) const UNEXCUSED: (f64, f64) = (-0.5, 0.8);
pub(super) const TARDY: (f64, f64) = (-3.0, 0.5);
pub(super) const LATE_ENROLL: f64 = 0.05;
pub(super) const LATE_WINDOW: usize = 40;
pub(super) const INCIDENTS: (f64, f64) = (-2.0, 0.9);

pub(super) const PERCENT_MEAN: f64 = 82.0;
pub(super) const PERCENT_SLOPE: f64 = -10.0;
pub(super) const PERCENT_NOISE_SD: f64 = 7.0;
pub(super) const COURSE_SD: f64 = 4.0;
pub(super) const INCOMPLETE: f64 = 0.005;
pub(super) const CR_RETAKE: f64 = 0.4;
pub(super) const CR_PASS: f64 = 0.8;

pub(super) const BLANK_BIRTH: f64 = 0.01;
pub(super) const BLANK_COHORT: f64 = 0.01;
pub(super) const TRANSFER: f64 = 0.05;

pub(super) const TRAIN_ID_BASE: usize = 500_000;
pub(super) const CURRENT_ID_BASE: usize = 100_000;
pub(super) const ID_SPAN: usize = 400_000;
/// Districts larger than [`ID_SPAN`] get id blocks this many times wider (still 8 digits);
/// smaller ones keep the narrow blocks, so their files stay byte-identical.
pub(super) const WIDE_IDS: usize = 100;

// The SIS shapes (`--shape sis`, `--shape sis-daily`) only: the younger students, moves,
// withdrawals, partial absences and the schools' own calendars.

/// K–8 students per high-school student.
pub(super) const K8_SHARE: f64 = 0.5;
/// Shares of the K–8 grades PK, KG, 1, …, 8.
pub(super) const K8_GRADE_SHARES: [f64; 10] = [
    0.04, 0.1067, 0.1067, 0.1067, 0.1067, 0.1067, 0.1067, 0.1067, 0.1067, 0.1067,
];
/// The first this many grades of [`K8_GRADE_SHARES`] (PK–5) go to elementary schools, the
/// rest (6–8) to middle schools.
pub(super) const ELEMENTARY_GRADES: usize = 7;
/// Students who move to another school of their level during the year.
pub(super) const MOVE: f64 = 0.03;
/// Movers whose new span starts on the day the old one ends.
pub(super) const SAME_DAY_TRANSFER: f64 = 1.0 / 3.0;
/// School days at least between a move and the as-of date.
pub(super) const MOVE_MARGIN: usize = 5;
/// High-school students of the current snapshot who leave the district before the as-of date.
pub(super) const WITHDRAW: f64 = 0.02;
/// Withdrawals coded as dropping out (`DO`); the others transfer out (`T2`).
pub(super) const WITHDRAW_DROPOUT: f64 = 0.5;
/// Absence days (E or A) that are half days: one row with `day_fraction` 0.5.
pub(super) const HALF_DAY: f64 = 0.10;
/// Absence days split between unexcused and excused: two rows, A 0.5 and E 0.5.
pub(super) const SPLIT_DAY: f64 = 0.01;
/// Retained students now in grades 10–12 whose retention was in high school: their cohort
/// year (fixed at grade-9 entry) is one year earlier than their grade says.
pub(super) const RETAINED_IN_HIGH_SCHOOL: f64 = 0.5;
/// Every this-many-th school (counting high schools first) has a professional-development
/// day off in October.
pub(super) const PD_DAY_EVERY: usize = 3;
/// Class periods on an early-release day (the first Wednesday of a month that is a school day).
pub(super) const EARLY_RELEASE_PERIODS: u32 = 4;
/// K–8 id blocks (current, train), above the high schools' narrow blocks, for up to
/// [`ID_SPAN`] K–8 students per snapshot.
pub(super) const K8_ID_BASES: (usize, usize) = (1_000_000, 1_400_000);
/// K–8 id blocks (current, train) of [`K8_WIDE_SPAN`] each for more K–8 students, above the
/// high schools' wide blocks (which end at 90,000,000).
pub(super) const K8_WIDE_ID_BASES: (usize, usize) = (90_000_000, 95_000_000);
pub(super) const K8_WIDE_SPAN: usize = 5_000_000;

// The SIS shapes' term marks: the covering marks (semester S1/S2, year Y) and the credits.

/// A covering mark's percent is the mean of the percents it covers plus N(0, this), ...
pub(super) const COVER_NOISE_SD: f64 = 2.0;
/// ... the noise cut at ± this, so a semester is always within 6 points of its quarters' mean.
pub(super) const COVER_NOISE_MAX: f64 = 5.0;
/// grades.csv `credits` of a year-long core course, written as `1`.
pub(super) const CORE_CREDITS: &str = "1";
/// grades.csv `credits` of a semester elective, written as `0.5`.
pub(super) const ELECTIVE_CREDITS: &str = "0.5";

// The SIS shapes' class-period attendance (period_attendance.csv), grades 6–12.

/// Class skippers: P = sigmoid(a + b r_now) per student of grades 6–12.
pub(super) const SKIPPER: (f64, f64) = (-2.8, 0.9);
/// A skipper skips classes on this share of the days they attend, ...
pub(super) const SKIP_DAY: f64 = 0.15;
/// ... this many consecutive periods at most (at least one), coded `A`.
pub(super) const SKIP_PERIODS: usize = 3;
/// Any other attended day: each period absent with this probability, ...
pub(super) const PERIOD_ABSENCE: f64 = 0.003;
/// ... coded `E` with this probability, `A` otherwise.
pub(super) const PERIOD_EXCUSED: f64 = 0.5;
/// Class periods of a day whose `periods` is blank in calendar.csv (the contract's default).
pub(super) const FULL_DAY_PERIODS: usize = 7;
/// The lowest grade that takes period attendance (middle schools do, elementary do not).
pub(super) const PERIOD_GRADES_FROM: i32 = 6;

#[derive(Serialize)]
pub(super) struct LatentModel {
    pub(super) risk: &'static str,
    pub(super) school_effect_sd: f64,
    pub(super) econ: f64,
    pub(super) ell: f64,
    pub(super) sped: f64,
    pub(super) noise_sd: f64,
    pub(super) outcome: &'static str,
    pub(super) outcome_slope: f64,
    pub(super) target_rate: f64,
    pub(super) r_now_sd: f64,
    pub(super) r_past_sd: f64,
    pub(super) retained: [f64; 2],
    pub(super) absence: [f64; 3],
    pub(super) unexcused_share: [f64; 2],
    pub(super) tardy: [f64; 2],
    pub(super) late_enroll_share: f64,
    pub(super) incidents_log_mean: [f64; 2],
    pub(super) percent: [f64; 4],
    pub(super) incomplete_share: f64,
    pub(super) credit_recovery_retake: f64,
    pub(super) credit_recovery_pass: f64,
    pub(super) transfer_share: f64,
    /// The SIS shapes' rates; absent from the canonical shape's generator.json.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sis_shapes: Option<SisModel>,
    /// The six-week marks; absent with quarters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) six_weeks: Option<SixWeekModel>,
    /// The earlier school years; absent without `--history-years`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) history: Option<HistoryModel>,
}

/// The earlier school years (`--history-years`), as generator.json records them.
#[derive(Serialize)]
pub(super) struct HistoryModel {
    pub(super) years: &'static str,
    pub(super) high_school_years: &'static str,
    pub(super) middle_school_years: &'static str,
    pub(super) sis_shapes: &'static str,
    pub(super) term_mark_sd: f64,
}

impl HistoryModel {
    pub(super) const CURRENT: HistoryModel = HistoryModel {
        years: "each of the K school years before the snapshot's, full (first day .. June 12), \
                for students in grade 6 or above that year; none for students who entered the \
                district late this year",
        high_school_years: "the transcript's year risk r + N(0, r_past_sd) drives the year's \
                attendance and incidents; each transcript course posts its terms' marks at its \
                year percent + N(0, term_mark_sd)",
        middle_school_years: "risk r + N(0, r_past_sd); school M + the high school's id without \
                its first character (SIS shapes: a middle school of the district); courses \
                M<grade><subject> (ELA, MATH, SCI, SOC by quarter, PE by semester)",
        sis_shapes: "a span per year over the school's whole year in enrollment.csv, every \
                school's calendar of the year in calendar.csv, attendance on membership days, \
                every course by its marking periods with S1, S2 and Y covering them, credits 1",
        term_mark_sd: HISTORY_TERM_SD,
    };
}

/// The six-week marking periods (`--marking-periods six-weeks`), as generator.json records them.
#[derive(Serialize)]
pub(super) struct SixWeekModel {
    pub(super) terms: &'static str,
    pub(super) posting_days: &'static str,
    pub(super) cover_noise_sd: f64,
    pub(super) cover_noise_max: f64,
}

impl SixWeekModel {
    pub(super) const CURRENT: SixWeekModel = SixWeekModel {
        terms: "core: W1, W2, W3 + S1, W4, W5, W6 + S2 + Y; elective: its semester's three \
                six-week marks + S1 or S2; S = mean(six-week marks) + N(0, sd) cut at +-max, \
                rounded, 0-100; Y likewise from S1, S2",
        posting_days: "each semester (first day .. Q2's day, the day after .. June 12) in three \
                equal spans of days, each mark on the last school day of its span",
        cover_noise_sd: COVER_NOISE_SD,
        cover_noise_max: COVER_NOISE_MAX,
    };
}

/// The rates of the SIS shapes, as generator.json records them.
#[derive(Serialize)]
pub(super) struct SisModel {
    pub(super) k8_share: f64,
    pub(super) k8_grade_shares: [f64; 10],
    pub(super) move_share: f64,
    pub(super) same_day_transfer_share: f64,
    pub(super) withdraw_share: f64,
    pub(super) withdraw_dropout_share: f64,
    pub(super) half_day_share: f64,
    pub(super) split_day_share: f64,
    pub(super) retained_in_high_school_share: f64,
    pub(super) professional_development_day_every: usize,
    pub(super) early_release_periods: u32,
    pub(super) terms: &'static str,
    pub(super) cover_noise_sd: f64,
    pub(super) cover_noise_max: f64,
    /// grades.csv `credits` of core courses and electives.
    pub(super) credits: [&'static str; 2],
    pub(super) period_attendance: &'static str,
    pub(super) skipper: [f64; 2],
    pub(super) skip_day_share: f64,
    pub(super) skip_periods_max: usize,
    pub(super) period_absence: f64,
    pub(super) period_excused_share: f64,
    pub(super) full_day_periods: usize,
    pub(super) period_grades_from: i32,
}

impl SisModel {
    pub(super) const CURRENT: SisModel = SisModel {
        k8_share: K8_SHARE,
        k8_grade_shares: K8_GRADE_SHARES,
        move_share: MOVE,
        same_day_transfer_share: SAME_DAY_TRANSFER,
        withdraw_share: WITHDRAW,
        withdraw_dropout_share: WITHDRAW_DROPOUT,
        half_day_share: HALF_DAY,
        split_day_share: SPLIT_DAY,
        retained_in_high_school_share: RETAINED_IN_HIGH_SCHOOL,
        professional_development_day_every: PD_DAY_EVERY,
        early_release_periods: EARLY_RELEASE_PERIODS,
        terms: "core: Q1, Q2 + S1, Q3, Q4 + S2 + Y; elective: its semester's two quarters + S1 or \
                S2; S = mean(quarters) + N(0, sd) cut at +-max, rounded, 0-100; Y likewise from S1, S2",
        cover_noise_sd: COVER_NOISE_SD,
        cover_noise_max: COVER_NOISE_MAX,
        credits: [CORE_CREDITS, ELECTIVE_CREDITS],
        period_attendance: "grades 6-12, attended days: skippers (P = sigmoid(a + b*r_now)) skip \
                1..max consecutive periods (A) on a share of days; otherwise each period E or A \
                with a small probability",
        skipper: [SKIPPER.0, SKIPPER.1],
        skip_day_share: SKIP_DAY,
        skip_periods_max: SKIP_PERIODS,
        period_absence: PERIOD_ABSENCE,
        period_excused_share: PERIOD_EXCUSED,
        full_day_periods: FULL_DAY_PERIODS,
        period_grades_from: PERIOD_GRADES_FROM,
    };
}

impl LatentModel {
    pub(super) const CURRENT: LatentModel = LatentModel {
        risk: "r = school_effect + 0.4*econ + 0.2*ell + 0.25*sped + N(0,1), centred per snapshot",
        school_effect_sd: SCHOOL_EFFECT_SD,
        econ: COEF_ECON,
        ell: COEF_ELL,
        sped: COEF_SPED,
        noise_sd: RISK_NOISE_SD,
        outcome: "P(not on time) = sigmoid(a + 2.0*r); records use r_now = r + N(0, 0.35)",
        outcome_slope: OUTCOME_SLOPE,
        target_rate: TARGET_RATE,
        r_now_sd: R_NOW_SD,
        r_past_sd: R_PAST_SD,
        retained: [RETAIN.0, RETAIN.1],
        absence: [ABSENCE.0, ABSENCE.1, ABSENCE_DRIFT],
        unexcused_share: [UNEXCUSED.0, UNEXCUSED.1],
        tardy: [TARDY.0, TARDY.1],
        late_enroll_share: LATE_ENROLL,
        incidents_log_mean: [INCIDENTS.0, INCIDENTS.1],
        percent: [PERCENT_MEAN, PERCENT_SLOPE, PERCENT_NOISE_SD, COURSE_SD],
        incomplete_share: INCOMPLETE,
        credit_recovery_retake: CR_RETAKE,
        credit_recovery_pass: CR_PASS,
        transfer_share: TRANSFER,
        sis_shapes: None,
        six_weeks: None,
        history: None,
    };
}
