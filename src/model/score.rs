//! Scoring: probabilities from the model file, tiers, ranks, and reasons in plain words.
//!
//! A reason is a feature whose contribution to the log-odds (coefficient × z-score) raises the
//! student's risk and on which the student is worse than the training mean in that feature's
//! risk direction; the second condition keeps a collinear feature whose coefficient flipped
//! sign from being named. The three largest such contributions are the student's reasons.

use std::sync::Arc;

use polars::prelude::*;

use crate::config::Config;
use crate::features;
use crate::io::error::Result;
use crate::model::metrics::ranking;
use crate::model::{log_odds, raw_matrix, sigmoid, z_score, ModelFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    High,
    Medium,
    Low,
}

impl Tier {
    pub fn of(risk: f64, config: &Config) -> Tier {
        if risk >= config.tiers.high {
            Tier::High
        } else if risk >= config.tiers.medium {
            Tier::Medium
        } else {
            Tier::Low
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::High => "high",
            Tier::Medium => "medium",
            Tier::Low => "low",
        }
    }

    /// The tier [`Tier::as_str`] names (as the history stores it).
    pub fn named(name: &str) -> Option<Tier> {
        [Tier::High, Tier::Medium, Tier::Low]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// The reason texts of a run, each kept once: students with the same reason (the same
/// feature, value as shown, and grade where the text names it) share one text.
#[derive(Default)]
struct Reasons(rustc_hash::FxHashMap<Box<str>, Arc<str>>);

impl Reasons {
    /// The shared copy of `text`.
    fn shared(&mut self, text: String) -> Arc<str> {
        if let Some(shared) = self.0.get(text.as_str()) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text.as_str());
        self.0.insert(text.into_boxed_str(), Arc::clone(&shared));
        shared
    }
}

/// Risk scores are published (and ranked) with six decimals.
pub const RISK_DECIMALS: usize = 6;
const RISK_SCALE: f64 = 1e6;

/// One student's score; `row` indexes the feature table.
#[derive(Debug, Clone)]
pub struct ScoredStudent {
    pub row: usize,
    pub risk: f64,
    pub tier: Tier,
    pub rank_in_district: usize,
    pub rank_in_school: usize,
    /// Up to three plain-language reasons. The district's students share a few thousand
    /// distinct texts, so each is kept once and shared ([`Reasons`]): at a million students,
    /// a text per student was a quarter of the memory the scored list held.
    pub reasons: Vec<Arc<str>>,
    /// The features behind `reasons`, in the same order.
    pub reason_features: Vec<&'static str>,
}

/// The `columns` of the feature table with one row per scored student, in rank order. Writers
/// that go through the students by rank read these front to back: reading a million rows in
/// risk order straight from the table was most of their time.
pub fn in_rank_order(
    table: &DataFrame,
    scored: &[ScoredStudent],
    columns: &[&str],
) -> Result<DataFrame> {
    let order: Vec<IdxSize> = scored.iter().map(|s| s.row as IdxSize).collect();
    Ok(table
        .select(columns.iter().copied())?
        .take(&IdxCa::from_vec("rank".into(), order))?)
}

/// The model's probability of being at risk for every row of the feature table, unrounded.
pub fn probabilities(table: &DataFrame, model: &ModelFile) -> Result<Vec<f64>> {
    let matrix = raw_matrix(table, &model.features)?;
    Ok(probabilities_of(&matrix, model))
}

/// Probabilities from the feature matrix, standardised as it goes ([`log_odds`]): the model's
/// log-odds, calibrated for the row's time of year ([`ModelFile::calibration_at`]).
fn probabilities_of(matrix: &ndarray::Array2<f64>, model: &ModelFile) -> Vec<f64> {
    let time = model
        .features
        .iter()
        .position(|f| f == features::SCHOOL_YEAR_FRACTION);
    // A run has one as-of date, so one calibration: computed again only when the time changes.
    let mut calibration: Option<(f64, Option<crate::model::Calibration>)> = None;
    matrix
        .rows()
        .into_iter()
        .map(|raw| {
            let log_odds = log_odds(
                raw.iter().copied(),
                &model.means,
                &model.std_devs,
                &model.coefficients,
                model.intercept,
            );
            let fraction = time.map_or(f64::NAN, |j| raw[j]);
            let step = match calibration {
                Some((at, step)) if at.total_cmp(&fraction).is_eq() => step,
                _ => {
                    let step = model.calibration_at(fraction);
                    calibration = Some((fraction, step));
                    step
                }
            };
            sigmoid(match step {
                Some(step) => step.apply(log_odds),
                None => log_odds,
            })
        })
        .collect()
}

/// Scores every student of the feature table; the result is in rank order (risk descending,
/// ties by student_id, which is the table's order).
pub fn score(table: &DataFrame, model: &ModelFile, config: &Config) -> Result<Vec<ScoredStudent>> {
    let matrix = raw_matrix(table, &model.features)?;
    let z = |row: usize, j: usize| z_score(matrix[[row, j]], model.means[j], model.std_devs[j]);
    let risks: Vec<f64> = probabilities_of(&matrix, model)
        .into_iter()
        // Ranked on the published precision, so equal scores in the file are ordered by id.
        .map(|risk| (risk * RISK_SCALE).round() / RISK_SCALE)
        .collect();

    let typical: Vec<f64> = (0..model.features.len())
        .map(|j| typical_value(&model.features[j], matrix.column(j).iter().copied()))
        .collect();
    // Per model feature, looked up once rather than per student: its definition and the
    // "typical" text every reason on it ends with.
    let definitions: Vec<Option<&features::FeatureDef>> = model
        .features
        .iter()
        .map(|f| features::feature(f))
        .collect();
    let typical_texts: Vec<String> = model
        .features
        .iter()
        .zip(&typical)
        .map(|(feature, value)| typical_text(feature, *value))
        .collect();
    let schools = table.column("school_id")?.str()?;
    let grades = table.column("grade_level")?.i32()?;
    let mut school_counts: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let mut scored = Vec::with_capacity(table.height());
    let mut texts = Reasons::default();
    for (position, row) in ranking(&risks).into_iter().enumerate() {
        let school = schools.get(row).unwrap_or("");
        let rank_in_school = school_counts
            .entry(school)
            .and_modify(|n| *n += 1)
            .or_insert(1);
        let mut contributions: Vec<(usize, f64)> = (0..model.features.len())
            // A reason: a known value worse than the district's typical one (as shown), that
            // raises this student's risk.
            .filter(|&j| {
                let raw = matrix[[row, j]];
                !raw.is_nan() && definitions[j].is_some_and(|f| f.is_worse_than(raw, typical[j]))
            })
            .map(|j| (j, model.coefficients[j] * z(row, j)))
            .filter(|(_, c)| *c > 0.0)
            .collect();
        contributions.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let grade = grades.get(row).unwrap_or(0);
        let reason_features: Vec<&'static str> = contributions
            .iter()
            .take(3)
            .filter_map(|&(j, _)| definitions[j].map(|f| f.name))
            .collect();
        let reasons = contributions
            .iter()
            .take(3)
            .map(|&(j, _)| {
                texts.shared(format!(
                    "{} ({})",
                    reason_text(&model.features[j], matrix[[row, j]], grade, config),
                    typical_texts[j]
                ))
            })
            .collect();
        scored.push(ScoredStudent {
            row,
            risk: risks[row],
            tier: Tier::of(risks[row], config),
            rank_in_district: position + 1,
            rank_in_school: *rank_in_school,
            reasons,
            reason_features,
        });
    }
    Ok(scored)
}

/// The district's typical value of a feature among the students scored: the median, or for a
/// yes/no feature the share of yes (missing values left out). NaN when no student has one.
pub fn typical_value(feature: &str, values: impl Iterator<Item = f64>) -> f64 {
    let mut known: Vec<f64> = values.filter(|v| !v.is_nan()).collect();
    if known.is_empty() {
        return f64::NAN;
    }
    if features::feature(feature).is_some_and(|f| f.unit == features::Unit::Flag) {
        return known.iter().sum::<f64>() / known.len() as f64;
    }
    // The median by selection, not a sort: a million students, a dozen features.
    let (count, mid) = (known.len(), known.len() / 2);
    let (lower, middle, _) = known.select_nth_unstable_by(mid, f64::total_cmp);
    let middle = *middle;
    if count % 2 == 1 {
        middle
    } else {
        let below = lower
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .unwrap_or(middle);
        (below + middle) / 2.0
    }
}

/// The district's typical value of a feature in words ([`features::FeatureDef::typical_text`]).
pub fn typical_text(feature: &str, typical: f64) -> String {
    match features::feature(feature) {
        Some(def) => def.typical_text(typical),
        None => "no district figure".to_string(),
    }
}

/// The plain-language reason for a feature at the student's value
/// ([`features::FeatureDef::reason`]).
pub fn reason_text(feature: &str, value: f64, grade: i32, config: &Config) -> String {
    match features::feature(feature) {
        Some(def) => (def.reason)(value, grade, config),
        None => format!("{feature} = {value}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_plain_words() {
        let config = Config::default();
        assert_eq!(
            reason_text("attendance_rate", 0.8123, 10, &config),
            "attended 81% of school days"
        );
        assert_eq!(
            reason_text("core_f_marks", 1.0, 10, &config),
            "1 F mark in core subjects this year"
        );
        assert_eq!(
            reason_text("credit_deficit_start_of_grade", 2.5, 11, &config),
            "2.5 credits behind the start of grade 11"
        );
        assert_eq!(
            reason_text("recent_attendance_rate", 0.7, 9, &config),
            "attended 70% of the last 30 school days"
        );
    }

    #[test]
    fn reasons_show_the_district_typical_value() {
        // Median of {0.9, 0.95, NaN, 0.8, 1.0} = (0.9 + 0.95) / 2; a flag's share of yes.
        let rates = [0.9, 0.95, f64::NAN, 0.8, 1.0];
        let median = typical_value("attendance_rate", rates.into_iter());
        assert!((median - 0.925).abs() < 1e-12);
        assert_eq!(typical_text("attendance_rate", 0.9), "district median 90%");
        let share = typical_value("chronic_absence", [1.0, 0.0, 0.0, 0.0].into_iter());
        assert_eq!(share, 0.25);
        assert_eq!(
            typical_text("chronic_absence", share),
            "as are 25% of students"
        );
        assert_eq!(typical_text("core_f_marks", 0.0), "district median 0");
        assert_eq!(typical_text("gpa", 2.856), "district median 2.86");
        assert!(typical_value("gpa", [f64::NAN].into_iter()).is_nan());
        // Odd counts take the middle value; repeated values count each time.
        assert_eq!(
            typical_value("gpa", [3.0, 1.0, 2.0, 2.0, 4.0].into_iter()),
            2.0
        );
        assert_eq!(typical_value("gpa", [4.0, 1.0, 1.0, 3.0].into_iter()), 2.0);
    }

    #[test]
    fn tiers_follow_the_configured_thresholds() {
        let config = Config::default();
        assert_eq!(Tier::of(0.5, &config), Tier::High);
        assert_eq!(Tier::of(0.4999, &config), Tier::Medium);
        assert_eq!(Tier::of(0.25, &config), Tier::Medium);
        assert_eq!(Tier::of(0.1, &config), Tier::Low);
    }
}
