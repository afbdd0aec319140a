//! The equity audit: does the list of students flagged at risk treat groups of students alike?
//!
//! For each value of each demographic column (never a model feature), the audit reports who is
//! flagged at risk (the medium or high tier) and, when outcomes are known, how well the flag
//! works for that group: precision, false-positive and false-negative rates, AUC. Each rate
//! comes with a 95% Wilson interval, and each is compared with the largest group of the same
//! column by its ratio, with a 95% bootstrap interval (seeded: a rerun gives the same one).
//!
//! What is flagged for a human to look at: a ratio of the selection rate, the false-negative
//! rate (at-risk students the flag misses, the disparity that matters for an assistive
//! program), the precision or the recovery seat rate whose whole interval lies outside
//! [0.8, 1.25] (the "four-fifths rule" and its inverse). A point estimate outside the range
//! with an interval reaching into it is sampling noise as far as the data can tell, and is not
//! flagged. The base rate (how many of a group are at risk) is reported, never flagged: it is a
//! need, not a treatment. Groups smaller than `equity.min_group_size` are suppressed: their
//! rates would identify students and mean little.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rand::SeedableRng;
use rand_distr::Distribution;
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

/// Ratios to the largest group whose 95% interval lies entirely outside this range are flagged.
pub const RATIO_RANGE: (f64, f64) = (0.8, 1.25);

/// The rates whose ratios are flagged: who is flagged, who is missed, how often a flag is
/// right, who gets a seat. The base rate, the false-positive rate and the AUC are reported.
pub const FLAGGED_RATES: [&str; 4] = [
    "selection_rate",
    "false_negative_rate",
    "precision",
    "seat_rate",
];

/// Replicates of the bootstrap of each ratio.
pub const BOOTSTRAP_REPLICATES: usize = 2000;

/// Seed of the bootstrap (with the column and group mixed in), so that a rerun on the same
/// students gives the same intervals.
pub const BOOTSTRAP_SEED: u64 = 20_231_115;

/// The normal quantile of a two-sided 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;

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

    /// The rate called `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.named()
            .into_iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v)
    }
}

/// A 95% interval.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// Whether the whole interval lies outside [`RATIO_RANGE`].
    pub fn outside_range(&self) -> bool {
        self.high < RATIO_RANGE.0 || self.low > RATIO_RANGE.1
    }
}

/// The rates that have intervals, in report order (the AUC has none).
pub const INTERVAL_RATES: [&str; 6] = [
    "base_rate",
    "selection_rate",
    "precision",
    "false_positive_rate",
    "false_negative_rate",
    "seat_rate",
];

/// One 95% interval per rate of [`INTERVAL_RATES`], in that order; `None` where the rate is
/// undefined.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Intervals(pub [Option<Interval>; INTERVAL_RATES.len()]);

impl Intervals {
    pub fn get(&self, name: &str) -> Option<Interval> {
        INTERVAL_RATES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.0[i])
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
    /// 95% Wilson intervals of the rates.
    pub intervals: Intervals,
    /// Each rate divided by the largest group's (same column).
    pub ratios: Rates,
    /// 95% bootstrap intervals of the ratios (none for the reference group itself).
    pub ratio_intervals: Intervals,
    /// The rates of [`FLAGGED_RATES`] whose ratio's interval lies outside [`RATIO_RANGE`].
    pub flagged: Vec<String>,
}

/// The audit's input for one student.
pub struct Student<'a> {
    pub groups: [Option<&'a str>; ATTRIBUTES.len()],
    pub risk: f64,
    /// Flagged at risk: the published tier is medium or high.
    pub flagged: bool,
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

/// Audits the students with `min_group_size` as the suppression limit. Rows come out by
/// column, then by group size (largest first).
pub fn audit(students: &[Student], min_group_size: usize) -> Vec<GroupAudit> {
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
        let counts: Vec<Counts> = groups.iter().map(|(_, m)| Counts::of(m)).collect();
        let mut rows: Vec<GroupAudit> = groups
            .iter()
            .zip(&counts)
            .map(|((group, members), counts)| {
                let suppressed = members.len() < min_group_size;
                let mut rates = Rates::default();
                let mut intervals = Intervals::default();
                if !suppressed {
                    rates = counts.rates();
                    rates.auc_roc = group_auc(members);
                    intervals = counts.wilson_intervals();
                }
                GroupAudit {
                    attribute: attribute.to_string(),
                    group: group.to_string(),
                    students: (!suppressed).then_some(members.len()),
                    suppressed,
                    rates,
                    intervals,
                    ratios: Rates::default(),
                    ratio_intervals: Intervals::default(),
                    flagged: Vec::new(),
                }
            })
            .collect();
        let Some(reference) = rows.iter().position(|r| !r.suppressed) else {
            out.extend(rows);
            continue;
        };
        let reference_rates = rows[reference].rates.clone();
        for (g, row) in rows.iter_mut().enumerate().filter(|(_, r)| !r.suppressed) {
            let ratio = |name: &str| match (row.rates.get(name), reference_rates.get(name)) {
                (Some(v), Some(b)) if b > 0.0 => Some(v / b),
                _ => None,
            };
            row.ratios = Rates {
                base_rate: ratio("base_rate"),
                selection_rate: ratio("selection_rate"),
                precision: ratio("precision"),
                false_positive_rate: ratio("false_positive_rate"),
                false_negative_rate: ratio("false_negative_rate"),
                auc_roc: ratio("auc_roc"),
                seat_rate: ratio("seat_rate"),
            };
            if g != reference {
                let seed = BOOTSTRAP_SEED ^ name_hash(attribute, &row.group);
                row.ratio_intervals = bootstrap_ratios(&counts[g], &counts[reference], seed);
            }
            row.flagged = FLAGGED_RATES
                .iter()
                .filter(|name| {
                    row.ratio_intervals
                        .get(name)
                        .is_some_and(|i| i.outside_range())
                })
                .map(|name| name.to_string())
                .collect();
        }
        out.extend(rows);
    }
    out
}

/// A stable 64-bit hash of a column and group name (FNV-1a): the bootstrap's seed does not
/// depend on the order groups are audited in.
fn name_hash(attribute: &str, group: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in attribute.bytes().chain([0]).chain(group.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The 95% Wilson score interval of `part` successes in `whole` trials.
pub fn wilson(part: u64, whole: u64) -> Option<Interval> {
    if whole == 0 {
        return None;
    }
    let n = whole as f64;
    let p = part as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z_95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

/// A group's students counted by what the rates read: flagged or not, at risk or not (of those
/// with an outcome), and of the credit-recovery candidates, seated or not.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    students: u64,
    flagged: u64,
    /// Flagged and at risk, flagged and not, at risk and not flagged, neither.
    tp: u64,
    fp: u64,
    fn_: u64,
    tn: u64,
    seated: u64,
    candidates: u64,
}

impl Counts {
    fn of(members: &[&Student]) -> Counts {
        let mut counts = Counts::default();
        for s in members {
            counts.students += 1;
            counts.flagged += u64::from(s.flagged);
            match (s.flagged, s.label) {
                (true, Some(true)) => counts.tp += 1,
                (true, Some(false)) => counts.fp += 1,
                (false, Some(true)) => counts.fn_ += 1,
                (false, Some(false)) => counts.tn += 1,
                (_, None) => {}
            }
            if let Some(seated) = s.seat {
                counts.candidates += 1;
                counts.seated += u64::from(seated);
            }
        }
        counts
    }

    /// (successes, trials) of each rate of [`INTERVAL_RATES`].
    fn fractions(&self) -> [(u64, u64); INTERVAL_RATES.len()] {
        let Counts {
            students,
            flagged,
            tp,
            fp,
            fn_,
            tn,
            seated,
            candidates,
        } = *self;
        [
            (tp + fn_, tp + fp + fn_ + tn),
            (flagged, students),
            (tp, tp + fp),
            (fp, fp + tn),
            (fn_, tp + fn_),
            (seated, candidates),
        ]
    }

    fn rate_values(&self) -> [Option<f64>; INTERVAL_RATES.len()] {
        self.fractions().map(|(part, whole)| share(part, whole))
    }

    fn rates(&self) -> Rates {
        let [base_rate, selection_rate, precision, false_positive_rate, false_negative_rate, seat_rate] =
            self.rate_values();
        Rates {
            base_rate,
            selection_rate,
            precision,
            false_positive_rate,
            false_negative_rate,
            auc_roc: None,
            seat_rate,
        }
    }

    fn wilson_intervals(&self) -> Intervals {
        Intervals(self.fractions().map(|(part, whole)| wilson(part, whole)))
    }
}

/// The rate a group's bootstrap draws from: `part` of `whole` pulled toward one half by the
/// Wilson interval's centre, (part + z²/2) / (whole + z²). A plain resample of a group that has
/// none of something (0 of 13 flagged) is always 0, and would call [0, 0] an interval; drawn
/// from the adjusted rate, a small group's count varies as much as its size allows.
fn adjusted_rate(part: u64, whole: u64) -> f64 {
    let z2 = Z_95 * Z_95;
    (part as f64 + z2 / 2.0) / (whole as f64 + z2)
}

/// Percentile 95% intervals of each rate's ratio of `group` to `reference`: in each of
/// [`BOOTSTRAP_REPLICATES`] replicates, both counts are drawn again (binomially, at each
/// group's own size and adjusted rate, independently) and the ratio taken. A ratio undefined
/// in more than 5% of the replicates (the reference's count often 0) has no interval, nor one
/// undefined in the data.
fn bootstrap_ratios(group: &Counts, reference: &Counts, seed: u64) -> Intervals {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (group, reference) = (group.fractions(), reference.fractions());
    Intervals(std::array::from_fn(|k| {
        let ((part, whole), (reference_part, reference_whole)) = (group[k], reference[k]);
        if whole == 0 || reference_part == 0 {
            return None;
        }
        let draw = |n: u64, p: f64| rand_distr::Binomial::new(n, p).ok();
        let (Some(group_draw), Some(reference_draw)) = (
            draw(whole, adjusted_rate(part, whole)),
            draw(
                reference_whole,
                adjusted_rate(reference_part, reference_whole),
            ),
        ) else {
            return None;
        };
        let mut ratios = Vec::with_capacity(BOOTSTRAP_REPLICATES);
        for _ in 0..BOOTSTRAP_REPLICATES {
            let g = group_draw.sample(&mut rng) as f64 / whole as f64;
            let r = reference_draw.sample(&mut rng) as f64 / reference_whole as f64;
            if r > 0.0 {
                ratios.push(g / r);
            }
        }
        if (ratios.len() as f64) < 0.95 * BOOTSTRAP_REPLICATES as f64 {
            return None;
        }
        ratios.sort_by(f64::total_cmp);
        Some(Interval {
            low: percentile(&ratios, 0.025),
            high: percentile(&ratios, 0.975),
        })
    }))
}

/// The `q` quantile of sorted `values`, linearly interpolated (numpy's default).
fn percentile(values: &[f64], q: f64) -> f64 {
    let position = q * (values.len() - 1) as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    values[below] + (values[above] - values[below]) * (position - below as f64)
}

/// The AUC of the group's students with outcomes; `None` without both outcomes.
fn group_auc(members: &[&Student]) -> Option<f64> {
    let labelled: Vec<(f64, bool)> = members
        .iter()
        .filter_map(|s| s.label.map(|l| (s.risk, l)))
        .collect();
    if labelled.is_empty() {
        return None;
    }
    let scores: Vec<f64> = labelled.iter().map(|(r, _)| *r).collect();
    let labels: Vec<bool> = labelled.iter().map(|(_, l)| *l).collect();
    let auc = auc_roc(&scores, &labels);
    auc.is_finite().then_some(auc)
}

/// equity.csv: one row per column and group: the rates, their ratios to the largest group,
/// the flagged rates, then (appended, so the first columns keep their places) each rate's 95%
/// interval and each ratio's.
pub fn write_csv(path: &Path, rows: &[GroupAudit]) -> Result<()> {
    let io = |e: csv::Error| EwsError::io(path, std::io::Error::other(e));
    let mut writer = csv::Writer::from_path(path).map_err(io)?;
    writer.write_record(csv_columns()).map_err(io)?;
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
        for intervals in [&row.intervals, &row.ratio_intervals] {
            for interval in &intervals.0 {
                record.push(number(interval.map(|i| i.low)));
                record.push(number(interval.map(|i| i.high)));
            }
        }
        writer.write_record(&record).map_err(io)?;
    }
    writer.flush().map_err(|e| EwsError::io(path, e))
}

/// equity.csv's columns, in order (docs/output-schema.md).
pub fn csv_columns() -> Vec<String> {
    let names = Rates::default().named().map(|(n, _)| n);
    let mut header: Vec<String> = ["attribute", "group", "students", "suppressed"]
        .map(String::from)
        .to_vec();
    header.extend(names.iter().map(|n| n.to_string()));
    header.extend(names.iter().map(|n| format!("{n}_ratio")));
    header.push("flagged".into());
    for suffix in ["", "_ratio"] {
        for name in INTERVAL_RATES {
            header.push(format!("{name}{suffix}_low"));
            header.push(format!("{name}{suffix}_high"));
        }
    }
    header
}

/// A rate with its interval, and its ratio with the ratio's interval, as a report cell:
/// "0.312 (0.25–0.38), ×1.10 (0.85–1.40)".
pub fn cell(group: &GroupAudit, name: &str) -> String {
    let Some(value) = group.rates.get(name).filter(|v| v.is_finite()) else {
        return "-".into();
    };
    let range = |i: Option<Interval>, decimals: usize| {
        i.map(|i| format!(" ({:.decimals$}–{:.decimals$})", i.low, i.high))
            .unwrap_or_default()
    };
    let mut text = format!("{value:.3}{}", range(group.intervals.get(name), 2));
    if let Some(ratio) = group
        .ratios
        .get(name)
        .filter(|_| group.ratio_intervals.get(name).is_some())
    {
        text.push_str(&format!(
            ", ×{ratio:.2}{}",
            range(group.ratio_intervals.get(name), 2)
        ));
    }
    text
}

/// The audit as a Markdown section body: what "flagged at risk" means, then one row per group.
pub fn markdown(rows: &[GroupAudit], threshold: f64, min_group_size: usize) -> String {
    let mut text = format!(
        "Flagged at risk = the medium or high tier (risk ≥ {threshold}). Each rate has its 95% Wilson interval; × is the ratio to the largest group of the column, with its 95% bootstrap interval ({BOOTSTRAP_REPLICATES} seeded resamples). A ratio of the selection rate, the false-negative rate (at-risk students missed), the precision or the seat rate is flagged only when its whole interval lies outside [{}, {}]. The base rate is a need, reported and never flagged. Groups under {min_group_size} students are suppressed.\n\n| column | group | students | base rate | selection | precision | FPR | FNR | AUC | flagged |\n|---|---|---|---|---|---|---|---|---|---|\n",
        RATIO_RANGE.0, RATIO_RANGE.1
    );
    for g in rows {
        // The seat rate is a run's (the counselor files' seats), not the model's.
        let cells: Vec<String> = [
            "base_rate",
            "selection_rate",
            "precision",
            "false_positive_rate",
            "false_negative_rate",
        ]
        .iter()
        .map(|name| cell(g, name))
        .chain(std::iter::once(
            g.rates
                .auc_roc
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "-".into()),
        ))
        .collect();
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            g.attribute,
            g.group.replace('|', "/"),
            g.students
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("< {min_group_size}")),
            cells.join(" | "),
            g.flagged.join(", ")
        ));
    }
    text
}

/// Summary lines: the flagged groups, or a line saying there are none.
pub fn summary_lines(rows: &[GroupAudit], min_group_size: usize) -> Vec<String> {
    let suppressed = rows.iter().filter(|r| r.suppressed).count();
    let flagged = rows.iter().filter(|r| !r.flagged.is_empty()).count();
    let mut lines = vec![format!(
        "  {} groups audited, {} suppressed (fewer than {} students), {} flagged (a ratio's 95% interval outside [{}, {}])",
        rows.len(),
        suppressed,
        min_group_size,
        flagged,
        RATIO_RANGE.0,
        RATIO_RANGE.1
    )];
    for row in rows.iter().filter(|r| !r.flagged.is_empty()) {
        let ratios: Vec<String> = row
            .flagged
            .iter()
            .map(|name| {
                let interval = row.ratio_intervals.get(name);
                format!(
                    "{name} ×{:.2} ({:.2}–{:.2})",
                    row.ratios.get(name).unwrap_or(f64::NAN),
                    interval.map_or(f64::NAN, |i| i.low),
                    interval.map_or(f64::NAN, |i| i.high)
                )
            })
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

    const THRESHOLD: f64 = 0.5;

    fn student(gender: &str, risk: f64, label: bool) -> Student<'_> {
        Student {
            groups: [Some(gender), None, None, None, None],
            risk,
            flagged: risk >= THRESHOLD,
            label: Some(label),
            seat: None,
        }
    }

    #[test]
    fn rates_and_ratios_by_hand() {
        // F (4): flagged 0.9(+) 0.6(−); not 0.2(+) 0.1(−).
        // M (3): flagged 0.8(+); not 0.3(−) 0.2(−).   X (1): suppressed.
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
        let rows = audit(&students, 2);
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
        // Ratios to F, the largest group: selection (1/3)/(1/2) = 0.667, precision 2.
        assert_abs_diff_eq!(m.ratios.selection_rate.unwrap(), 2.0 / 3.0, epsilon = 1e-12);
        assert_eq!(m.ratios.precision, Some(2.0));
        assert_abs_diff_eq!(m.ratios.base_rate.unwrap(), 2.0 / 3.0, epsilon = 1e-12);
        // Far outside [0.8, 1.25], but on 3 and 4 students: F's count of 2 drawn again is 0
        // in more than 5% of the replicates, so there is no interval, and nothing is flagged
        // (the base rate never is).
        assert_eq!(m.ratio_intervals.get("selection_rate"), None);
        assert!(
            m.flagged.is_empty() && f.flagged.is_empty(),
            "{:?}",
            m.flagged
        );
        // The reference has no ratio interval (its ratio is 1 by definition).
        assert_eq!(f.ratio_intervals, Intervals::default());
        assert!(x.suppressed && x.rates == Rates::default() && x.flagged.is_empty());
        assert_eq!((x.students, &x.intervals), (None, &Intervals::default()));
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
    fn wilson_intervals_by_hand() {
        // p = 3/10, z = 1.96: centre (0.3 + 1.9208/10) / 1.38415 = 0.35545, half-width
        // 1.96 / 1.38415 × √(0.021 + 0.0096040) = 0.24771 → (0.10779, 0.60322).
        let i = wilson(3, 10).unwrap();
        assert_abs_diff_eq!(i.low, 0.107_791_267, epsilon = 1e-8);
        assert_abs_diff_eq!(i.high, 0.603_221_853, epsilon = 1e-8);
        // 0 of 10: (0, 3.8415 / 13.8415 = 0.27753); all of 10 its mirror.
        let none = wilson(0, 10).unwrap();
        assert_eq!(none.low, 0.0);
        assert_abs_diff_eq!(none.high, 0.277_532_800, epsilon = 1e-8);
        let all = wilson(10, 10).unwrap();
        assert_abs_diff_eq!(all.low, 0.722_467_200, epsilon = 1e-8);
        assert_eq!(wilson(0, 0), None);
    }

    /// Students of `gender`: `tp` flagged and at risk, `fp` flagged and not, `fn_` at risk and
    /// not flagged, `tn` neither.
    fn group(gender: &str, tp: usize, fp: usize, fn_: usize, tn: usize) -> Vec<Student<'_>> {
        [
            (true, true, tp),
            (true, false, fp),
            (false, true, fn_),
            (false, false, tn),
        ]
        .into_iter()
        .flat_map(|(flagged, at_risk, n)| {
            (0..n).map(move |_| Student {
                groups: [Some(gender), None, None, None, None],
                risk: if flagged { 0.9 } else { 0.1 },
                flagged,
                label: Some(at_risk),
                seat: None,
            })
        })
        .collect()
    }

    #[test]
    fn one_groups_intervals_against_a_hand_computation() {
        // A: 1000 students, 300 flagged (250 of them at risk), 50 at risk missed.
        // B: 400 students, 80 flagged (70 of them at risk), 20 at risk missed.
        let mut students = group("A", 250, 50, 50, 650);
        students.extend(group("B", 70, 10, 20, 300));
        let rows = audit(&students, 10);
        let b = rows.iter().find(|r| r.group == "B").unwrap();
        // Selection of B: 80/400 = 0.2; Wilson: centre (0.2 + 1.92073/400) / 1.0096037 =
        // 0.202857, half-width 1.96 / 1.0096037 × √(0.0004 + 0.0000060) = 0.039117 →
        // (0.163737, 0.241970).
        assert_eq!(b.rates.selection_rate, Some(0.2));
        let selection = b.intervals.get("selection_rate").unwrap();
        assert_abs_diff_eq!(selection.low, 0.163_737, epsilon = 1e-6);
        assert_abs_diff_eq!(selection.high, 0.241_970, epsilon = 1e-6);
        // Its ratio to A: 0.2 / 0.3 = 0.667. The delta method on the log ratio (Katz):
        // se = √(1/80 − 1/400 + 1/300 − 1/1000) = 0.11106, so exp(ln 0.667 ± 1.96 × 0.11106)
        // = (0.5363, 0.8288). The bootstrap agrees to within its own sampling error.
        assert_abs_diff_eq!(b.ratios.selection_rate.unwrap(), 2.0 / 3.0, epsilon = 1e-12);
        let ratio = b.ratio_intervals.get("selection_rate").unwrap();
        assert_abs_diff_eq!(ratio.low, 0.5363, epsilon = 0.02);
        assert_abs_diff_eq!(ratio.high, 0.8288, epsilon = 0.02);
        // The interval reaches 0.8: not flagged, though 0.667 is far below it.
        assert!(!b.flagged.contains(&"selection_rate".to_string()));
        // Precision: B 70/80 = 0.875, A 250/300 = 0.833: ratio 1.05, not flagged.
        assert_abs_diff_eq!(b.ratios.precision.unwrap(), 1.05, epsilon = 1e-12);
        // Missed: B 20 of 90 at risk (0.222), A 50 of 300 (0.167): ratio 1.33, whose
        // interval (Katz: se = √(1/20 − 1/90 + 1/50 − 1/300) = 0.2357, so (0.84, 2.12)) reaches
        // into the range: not flagged.
        assert_abs_diff_eq!(
            b.ratios.false_negative_rate.unwrap(),
            4.0 / 3.0,
            epsilon = 1e-12
        );
        assert!(b.flagged.is_empty(), "{:?}", b.flagged);
        // Seeded: the same students give the same intervals.
        assert_eq!(audit(&students, 10), rows);

        // Three times B, twice A, the same shares: the interval lies below 0.8 (Katz: se =
        // √(1/240 − 1/1200 + 1/600 − 1/2000) = 0.06708, (0.5845, 0.7603)): flagged.
        let mut students = group("A", 500, 100, 100, 1300);
        students.extend(group("B", 210, 30, 60, 900));
        let rows = audit(&students, 10);
        let b = rows.iter().find(|r| r.group == "B").unwrap();
        let ratio = b.ratio_intervals.get("selection_rate").unwrap();
        assert_abs_diff_eq!(ratio.high, 0.7603, epsilon = 0.02);
        assert!(ratio.high < 0.8, "{ratio:?}");
        assert_eq!(b.flagged, ["selection_rate"]);
    }

    #[test]
    fn a_small_group_with_none_flagged_is_not_called_a_certain_disparity() {
        // 0 of 13 flagged against 30% of 1000: a plain resample would give the interval
        // [0, 0]; drawn from the adjusted rate, the interval reaches far up.
        let mut students = group("A", 300, 0, 0, 700);
        students.extend(group("B", 0, 0, 0, 13));
        let rows = audit(&students, 10);
        let b = rows.iter().find(|r| r.group == "B").unwrap();
        assert_eq!(b.rates.selection_rate, Some(0.0));
        let ratio = b.ratio_intervals.get("selection_rate").unwrap();
        assert_eq!(ratio.low, 0.0);
        assert!(ratio.high > 0.5, "{ratio:?}");
        // No at-risk student in B: its FNR and precision are undefined, never flagged.
        assert_eq!(b.rates.false_negative_rate, None);
        assert_eq!(b.ratio_intervals.get("false_negative_rate"), None);
    }

    #[test]
    fn without_outcomes_only_selection_rates() {
        let unlabelled = |risk: f64| Student {
            groups: [Some("F"), None, None, None, None],
            risk,
            flagged: risk >= THRESHOLD,
            label: None,
            seat: None,
        };
        let students = vec![unlabelled(0.7), unlabelled(0.1)];
        let rows = audit(&students, 1);
        assert_eq!(rows[0].rates.selection_rate, Some(0.5));
        assert_eq!(rows[0].rates.precision, None);
        assert_eq!(rows[0].ratios.selection_rate, Some(1.0));
    }

    #[test]
    fn the_seat_rate_is_the_share_of_a_groups_candidates_given_a_seat() {
        let seat = |gender, seat| Student {
            groups: [Some(gender), None, None, None, None],
            risk: 0.1,
            flagged: false,
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
        let rows = audit(&students, 1);
        let f = rows.iter().find(|r| r.group == "F").unwrap();
        let m = rows.iter().find(|r| r.group == "M").unwrap();
        assert_eq!(f.rates.seat_rate, Some(0.5));
        assert_eq!(m.rates.seat_rate, Some(1.0));
        // F is the larger group, the reference: 1.0 / 0.5, on two candidates each: no interval
        // can rule chance out, and it is not flagged.
        assert_eq!(m.ratios.seat_rate, Some(2.0));
        assert!(m.flagged.is_empty(), "{:?}", m.flagged);
    }

    #[test]
    fn equity_csv_columns_keep_their_places_and_append_the_intervals() {
        let columns = csv_columns();
        assert_eq!(columns.len(), 4 + 7 + 7 + 1 + 12 + 12);
        assert_eq!(columns[18], "flagged");
        assert_eq!(columns[19], "base_rate_low");
        assert_eq!(columns[columns.len() - 1], "seat_rate_ratio_high");
    }
}
