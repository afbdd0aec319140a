//! The equity audit: does the referral list treat groups of students alike?
//!
//! For each value of each demographic column (never a model feature), the audit reports who is
//! referred (risk at or above the medium tier) and, when outcomes are known, how well the
//! referral works for that group: precision, false-positive and false-negative rates, AUC.
//! Each rate is compared with the largest group of the same column; a ratio outside
//! [0.8, 1.25] (the "four-fifths rule" and its inverse) is flagged for a human to look at.
//! Groups smaller than `equity.min_group_size` are suppressed: their rates would identify
//! students and mean little.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::io::error::{EwsError, Result};
use crate::model::metrics::auc_roc;

/// The students.csv columns audited, in report order.
pub const ATTRIBUTES: [&str; 5] = [
    "gender",
    "race_ethnicity",
    "ell",
    "sped",
    "econ_disadvantaged",
];

/// The label of students without a value in an audited column.
pub const MISSING_GROUP: &str = "(missing)";

/// Ratios to the largest group outside this range are flagged.
pub const RATIO_RANGE: (f64, f64) = (0.8, 1.25);

/// The rates of one group; `None` where undefined (no outcomes, no positives, suppressed…).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Rates {
    pub base_rate: Option<f64>,
    pub selection_rate: Option<f64>,
    pub precision: Option<f64>,
    pub false_positive_rate: Option<f64>,
    pub false_negative_rate: Option<f64>,
    pub auc_roc: Option<f64>,
    /// The share of the group's credit-recovery candidates given a recovery seat
    /// (`within_capacity`); `None` without candidates (and in training and evaluation).
    pub seat_rate: Option<f64>,
}

impl Rates {
    /// (name, value) pairs, in report order.
    fn named(&self) -> [(&'static str, Option<f64>); 7] {
        [
            ("base_rate", self.base_rate),
            ("selection_rate", self.selection_rate),
            ("precision", self.precision),
            ("false_positive_rate", self.false_positive_rate),
            ("false_negative_rate", self.false_negative_rate),
            ("auc_roc", self.auc_roc),
            ("seat_rate", self.seat_rate),
        ]
    }
}

/// One group of one audited column.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupAudit {
    pub attribute: String,
    pub group: String,
    /// Group size; `None` when suppressed (a small count can identify students).
    pub students: Option<usize>,
    /// Fewer students than the minimum: no size or rates are published.
    pub suppressed: bool,
    pub rates: Rates,
    /// Each rate divided by the largest group's (same column).
    pub ratios: Rates,
    /// The rates whose ratio is outside [`RATIO_RANGE`].
    pub flagged: Vec<String>,
}

/// The audit's input for one student.
pub struct Student<'a> {
    pub groups: [Option<&'a str>; ATTRIBUTES.len()],
    pub risk: f64,
    pub label: Option<bool>,
    /// For a credit-recovery candidate, whether a seat is theirs; `None` for the others.
    pub seat: Option<bool>,
}

/// The demographic values of each row of a feature table, column by column.
pub fn group_columns(table: &DataFrame) -> Result<Vec<StringChunked>> {
    ATTRIBUTES
        .iter()
        .map(|name| Ok(table.column(name)?.cast(&DataType::String)?.str()?.clone()))
        .collect()
}

/// Audits the students: `threshold` is the referral threshold, `min_group_size` the
/// suppression limit. Rows come out by column, then by group size (largest first).
pub fn audit(students: &[Student], threshold: f64, min_group_size: usize) -> Vec<GroupAudit> {
    let mut out = Vec::new();
    for (a, attribute) in ATTRIBUTES.iter().enumerate() {
        let mut groups: BTreeMap<&str, Vec<&Student>> = BTreeMap::new();
        for s in students {
            groups
                .entry(s.groups[a].unwrap_or(MISSING_GROUP))
                .or_default()
                .push(s);
        }
        let mut groups: Vec<(&str, Vec<&Student>)> = groups.into_iter().collect();
        // Largest group first (the reference of the ratios), then by name.
        groups.sort_by(|x, y| y.1.len().cmp(&x.1.len()).then(x.0.cmp(y.0)));
        let mut rows: Vec<GroupAudit> = groups
            .into_iter()
            .map(|(group, members)| {
                let suppressed = members.len() < min_group_size;
                GroupAudit {
                    attribute: attribute.to_string(),
                    group: group.to_string(),
                    students: (!suppressed).then_some(members.len()),
                    suppressed,
                    rates: if suppressed {
                        Rates::default()
                    } else {
                        rates(&members, threshold)
                    },
                    ratios: Rates::default(),
                    flagged: Vec::new(),
                }
            })
            .collect();
        let reference = rows.iter().find(|r| !r.suppressed).map(|r| r.rates.clone());
        if let Some(reference) = reference {
            for row in rows.iter_mut().filter(|r| !r.suppressed) {
                let ratio = |value: Option<f64>, base: Option<f64>| match (value, base) {
                    (Some(v), Some(b)) if b > 0.0 => Some(v / b),
                    _ => None,
                };
                let r = &row.rates;
                row.ratios = Rates {
                    base_rate: ratio(r.base_rate, reference.base_rate),
                    selection_rate: ratio(r.selection_rate, reference.selection_rate),
                    precision: ratio(r.precision, reference.precision),
                    false_positive_rate: ratio(
                        r.false_positive_rate,
                        reference.false_positive_rate,
                    ),
                    false_negative_rate: ratio(
                        r.false_negative_rate,
                        reference.false_negative_rate,
                    ),
                    auc_roc: ratio(r.auc_roc, reference.auc_roc),
                    seat_rate: ratio(r.seat_rate, reference.seat_rate),
                };
                // The base rate is reported, never flagged: a group with more students at risk
                // is a need, not unfair treatment.
                row.flagged = row
                    .ratios
                    .named()
                    .iter()
                    .filter(|(name, _)| *name != "base_rate")
                    .filter(|(_, v)| v.is_some_and(|v| v < RATIO_RANGE.0 || v > RATIO_RANGE.1))
                    .map(|(name, _)| name.to_string())
                    .collect();
            }
        }
        out.extend(rows);
    }
    out
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn rates(members: &[&Student], threshold: f64) -> Rates {
    let selected = members.iter().filter(|s| s.risk >= threshold).count();
    let candidates = members.iter().filter(|s| s.seat.is_some()).count();
    let seated = members.iter().filter(|s| s.seat == Some(true)).count();
    let mut rates = Rates {
        selection_rate: share(selected, members.len()),
        seat_rate: share(seated, candidates),
        ..Rates::default()
    };
    let labelled: Vec<(&&Student, bool)> = members
        .iter()
        .filter_map(|s| s.label.map(|l| (s, l)))
        .collect();
    if labelled.is_empty() {
        return rates;
    }
    let count = |selected: bool, positive: bool| {
        labelled
            .iter()
            .filter(|(s, l)| (s.risk >= threshold) == selected && *l == positive)
            .count()
    };
    let (tp, fp, fn_, tn) = (
        count(true, true),
        count(true, false),
        count(false, true),
        count(false, false),
    );
    rates.base_rate = share(tp + fn_, labelled.len());
    rates.precision = share(tp, tp + fp);
    rates.false_positive_rate = share(fp, fp + tn);
    rates.false_negative_rate = share(fn_, tp + fn_);
    let scores: Vec<f64> = labelled.iter().map(|(s, _)| s.risk).collect();
    let labels: Vec<bool> = labelled.iter().map(|(_, l)| *l).collect();
    let auc = auc_roc(&scores, &labels);
    rates.auc_roc = auc.is_finite().then_some(auc);
    rates
}

/// equity.csv: one row per column and group, rates and ratios to the largest group.
pub fn write_csv(path: &Path, rows: &[GroupAudit]) -> Result<()> {
    let io = |e: csv::Error| EwsError::io(path, std::io::Error::other(e));
    let mut writer = csv::Writer::from_path(path).map_err(io)?;
    let names = Rates::default().named().map(|(n, _)| n);
    let mut header = vec!["attribute", "group", "students", "suppressed"];
    header.extend(names);
    let ratio_names: Vec<String> = names.iter().map(|n| format!("{n}_ratio")).collect();
    header.extend(ratio_names.iter().map(String::as_str));
    header.push("flagged");
    writer.write_record(&header).map_err(io)?;
    let number = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    for row in rows {
        let mut record = vec![
            row.attribute.clone(),
            crate::io::text::spreadsheet_safe(&row.group).into_owned(),
            row.students.map(|n| n.to_string()).unwrap_or_default(),
            row.suppressed.to_string(),
        ];
        record.extend(row.rates.named().iter().map(|(_, v)| number(*v)));
        record.extend(row.ratios.named().iter().map(|(_, v)| number(*v)));
        record.push(row.flagged.join(" "));
        writer.write_record(&record).map_err(io)?;
    }
    writer.flush().map_err(|e| EwsError::io(path, e))
}

/// The audit as a Markdown section body: what "referred" means, then one row per group.
pub fn markdown(rows: &[GroupAudit], threshold: f64, min_group_size: usize) -> String {
    let mut text = format!(
        "Referred = risk ≥ {threshold}. Ratios are to the largest group of each column; a ratio outside [{}, {}] is flagged. Groups under {min_group_size} students are suppressed.\n\n| column | group | students | base rate | selection | precision | FPR | FNR | AUC | flagged |\n|---|---|---|---|---|---|---|---|---|---|\n",
        RATIO_RANGE.0, RATIO_RANGE.1
    );
    let number = |v: Option<f64>| {
        v.filter(|v| v.is_finite())
            .map(|v| format!("{v:.3}"))
            .unwrap_or_else(|| "-".into())
    };
    for g in rows {
        // The seat rate is a run's (the counselor files' seats), not the model's.
        let rates: Vec<String> = g
            .rates
            .named()
            .iter()
            .filter(|(name, _)| *name != "seat_rate")
            .map(|(_, v)| number(*v))
            .collect();
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            g.attribute,
            g.group.replace('|', "/"),
            g.students
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("< {min_group_size}")),
            rates.join(" | "),
            g.flagged.join(", ")
        ));
    }
    text
}

/// Summary lines: the flagged groups, or a line saying there are none.
pub fn summary_lines(rows: &[GroupAudit], min_group_size: usize) -> Vec<String> {
    let suppressed = rows.iter().filter(|r| r.suppressed).count();
    let mut lines = vec![format!(
        "  {} groups audited, {} suppressed (fewer than {} students)",
        rows.len(),
        suppressed,
        min_group_size
    )];
    for row in rows.iter().filter(|r| !r.flagged.is_empty()) {
        let ratios: Vec<String> = row
            .ratios
            .named()
            .iter()
            .filter(|(name, _)| row.flagged.iter().any(|f| f == name))
            .map(|(name, v)| format!("{name} ×{:.2}", v.unwrap_or(f64::NAN)))
            .collect();
        lines.push(format!(
            "  flagged: {} = {} ({} students): {}",
            row.attribute,
            row.group,
            row.students.unwrap_or_default(),
            ratios.join(", ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    fn student(gender: &str, risk: f64, label: bool) -> Student<'_> {
        Student {
            groups: [Some(gender), None, None, None, None],
            risk,
            label: Some(label),
            seat: None,
        }
    }

    #[test]
    fn rates_and_ratios_by_hand() {
        // F (4): referred 0.9(+) 0.6(−); not 0.2(+) 0.1(−).
        // M (3): referred 0.8(+); not 0.3(−) 0.2(−).   X (1): suppressed.
        let students = vec![
            student("F", 0.9, true),
            student("F", 0.6, false),
            student("F", 0.2, true),
            student("F", 0.1, false),
            student("M", 0.8, true),
            student("M", 0.3, false),
            student("M", 0.2, false),
            student("X", 0.9, true),
        ];
        let rows = audit(&students, 0.5, 2);
        let gender: Vec<&GroupAudit> = rows.iter().filter(|r| r.attribute == "gender").collect();
        assert_eq!(gender.len(), 3);
        let (f, m, x) = (gender[0], gender[1], gender[2]);
        assert_eq!((f.group.as_str(), f.students), ("F", Some(4)));
        assert_eq!(f.rates.selection_rate, Some(0.5));
        assert_eq!(f.rates.base_rate, Some(0.5));
        assert_eq!(f.rates.precision, Some(0.5));
        assert_eq!(f.rates.false_positive_rate, Some(0.5));
        assert_eq!(f.rates.false_negative_rate, Some(0.5));
        // F pairs (+,−): 0.9>0.6, 0.9>0.1, 0.2<0.6, 0.2>0.1 → 3/4.
        assert_eq!(f.rates.auc_roc, Some(0.75));
        assert_abs_diff_eq!(m.rates.selection_rate.unwrap(), 1.0 / 3.0, epsilon = 1e-12);
        assert_eq!(m.rates.precision, Some(1.0));
        assert_eq!(m.rates.false_positive_rate, Some(0.0));
        assert_eq!(m.rates.false_negative_rate, Some(0.0));
        // Ratios to F, the largest group: selection (1/3)/(1/2) = 0.667 → flagged.
        assert_abs_diff_eq!(m.ratios.selection_rate.unwrap(), 2.0 / 3.0, epsilon = 1e-12);
        assert_eq!(m.ratios.precision, Some(2.0));
        assert!(m.flagged.contains(&"selection_rate".to_string()));
        assert!(m.flagged.contains(&"precision".to_string()));
        // The base rate (1/3 against 1/2) is as far off, and reported, never flagged.
        assert_abs_diff_eq!(m.ratios.base_rate.unwrap(), 2.0 / 3.0, epsilon = 1e-12);
        assert!(!m.flagged.contains(&"base_rate".to_string()));
        assert!(f.flagged.is_empty());
        assert!(x.suppressed && x.rates == Rates::default() && x.flagged.is_empty());
        assert_eq!(x.students, None);
        // Students without a race value form the "(missing)" group.
        let race: Vec<&GroupAudit> = rows
            .iter()
            .filter(|r| r.attribute == "race_ethnicity")
            .collect();
        assert_eq!(race.len(), 1);
        assert_eq!(
            (race[0].group.as_str(), race[0].students),
            (MISSING_GROUP, Some(8))
        );
    }

    #[test]
    fn without_outcomes_only_selection_rates() {
        let students = vec![
            Student {
                groups: [Some("F"), None, None, None, None],
                risk: 0.7,
                label: None,
                seat: None,
            },
            Student {
                groups: [Some("F"), None, None, None, None],
                risk: 0.1,
                label: None,
                seat: None,
            },
        ];
        let rows = audit(&students, 0.5, 1);
        assert_eq!(rows[0].rates.selection_rate, Some(0.5));
        assert_eq!(rows[0].rates.precision, None);
        assert_eq!(rows[0].ratios.selection_rate, Some(1.0));
    }

    #[test]
    fn the_seat_rate_is_the_share_of_a_groups_candidates_given_a_seat() {
        let seat = |gender, seat| Student {
            groups: [Some(gender), None, None, None, None],
            risk: 0.1,
            label: None,
            seat,
        };
        // F: 2 candidates, 1 seated, 1 not a candidate; M: 2 candidates, both seated.
        let students = vec![
            seat("F", Some(true)),
            seat("F", Some(false)),
            seat("F", None),
            seat("M", Some(true)),
            seat("M", Some(true)),
        ];
        let rows = audit(&students, 0.5, 1);
        let f = rows.iter().find(|r| r.group == "F").unwrap();
        let m = rows.iter().find(|r| r.group == "M").unwrap();
        assert_eq!(f.rates.seat_rate, Some(0.5));
        assert_eq!(m.rates.seat_rate, Some(1.0));
        // F is the larger group, the reference: 1.0 / 0.5.
        assert_eq!(m.ratios.seat_rate, Some(2.0));
        assert!(
            m.flagged.contains(&"seat_rate".to_string()),
            "{:?}",
            m.flagged
        );
    }
}
