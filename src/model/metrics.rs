//! Ranking metrics of a risk score against known outcomes.
//!
//! A referral list is read from the top, so besides AUC-ROC the metric that matters is
//! precision at the top k%: of the students a program can serve, how many truly needed it.

use serde::{Deserialize, Serialize};

/// Metrics of a score on a labelled set of students.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub students: usize,
    pub positives: usize,
    pub auc_roc: f64,
    pub average_precision: f64,
    pub precision_at_10pct: f64,
    pub recall_at_10pct: f64,
}

impl Metrics {
    pub fn compute(scores: &[f64], labels: &[bool]) -> Metrics {
        Metrics {
            students: labels.len(),
            positives: labels.iter().filter(|l| **l).count(),
            auc_roc: auc_roc(scores, labels),
            average_precision: average_precision(scores, labels),
            precision_at_10pct: precision_at(scores, labels, 0.10),
            recall_at_10pct: recall_at(scores, labels, 0.10),
        }
    }
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting one half (Mann–Whitney U with mid-ranks). NaN without both classes.
pub fn auc_roc(scores: &[f64], labels: &[bool]) -> f64 {
    let positives = labels.iter().filter(|l| **l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return f64::NAN;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the mid-ranks (1-based) of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid_rank * order[i..=j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j + 1;
    }
    let p = positives as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64)
}

/// Indices sorted by descending score; ties keep their input order, so callers that pass
/// students sorted by id break ties by id, as the referral list does.
pub fn ranking(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// Number of students in the top `fraction` of a list of `n` (rounded up, at least one).
pub fn top_k(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).ceil() as usize).clamp(1.min(n), n)
}

/// Share of positives among the top `fraction` of students by score.
pub fn precision_at(scores: &[f64], labels: &[bool], fraction: f64) -> f64 {
    let k = top_k(scores.len(), fraction);
    if k == 0 {
        return f64::NAN;
    }
    let hits = ranking(scores)
        .iter()
        .take(k)
        .filter(|&&i| labels[i])
        .count();
    hits as f64 / k as f64
}

/// Share of all positives that are in the top `fraction` of students by score.
pub fn recall_at(scores: &[f64], labels: &[bool], fraction: f64) -> f64 {
    let positives = labels.iter().filter(|l| **l).count();
    if positives == 0 {
        return f64::NAN;
    }
    let k = top_k(scores.len(), fraction);
    let hits = ranking(scores)
        .iter()
        .take(k)
        .filter(|&&i| labels[i])
        .count();
    hits as f64 / positives as f64
}

/// Expected number of positives among the top `k` by score when tied scores are ordered at
/// random: the scores above the cut count fully, the tied group at the cut in proportion. A
/// yes/no indicator (all flagged students tied) is judged fairly this way, not by id order.
pub fn expected_hits_at(scores: &[f64], labels: &[bool], k: usize) -> f64 {
    let order = ranking(scores);
    let (mut hits, mut taken, mut i) = (0.0, 0usize, 0usize);
    while i < order.len() && taken < k {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let group = j - i + 1;
        let group_hits = order[i..=j].iter().filter(|&&r| labels[r]).count() as f64;
        let take = group.min(k - taken);
        hits += group_hits * take as f64 / group as f64;
        taken += take;
        i = j + 1;
    }
    hits
}

/// Precision among the top `fraction` of students, ties ordered at random (expected value).
pub fn expected_precision_at(scores: &[f64], labels: &[bool], fraction: f64) -> f64 {
    let k = top_k(scores.len(), fraction);
    if k == 0 {
        return f64::NAN;
    }
    expected_hits_at(scores, labels, k) / k as f64
}

/// Recall of the top `fraction` of students, ties ordered at random (expected value).
pub fn expected_recall_at(scores: &[f64], labels: &[bool], fraction: f64) -> f64 {
    let positives = labels.iter().filter(|l| **l).count();
    if positives == 0 {
        return f64::NAN;
    }
    expected_hits_at(scores, labels, top_k(scores.len(), fraction)) / positives as f64
}

/// Brier score: mean squared difference between the probability and the outcome (0 is perfect).
pub fn brier_score(probabilities: &[f64], labels: &[bool]) -> f64 {
    let n = labels.len();
    if n == 0 {
        return f64::NAN;
    }
    probabilities
        .iter()
        .zip(labels)
        .map(|(p, &y)| (p - if y { 1.0 } else { 0.0 }).powi(2))
        .sum::<f64>()
        / n as f64
}

/// Log loss (cross-entropy), probabilities clipped to [1e-15, 1 − 1e-15] as scikit-learn does.
pub fn log_loss(probabilities: &[f64], labels: &[bool]) -> f64 {
    let n = labels.len();
    if n == 0 {
        return f64::NAN;
    }
    let eps = 1e-15;
    -probabilities
        .iter()
        .zip(labels)
        .map(|(p, &y)| {
            let p = p.clamp(eps, 1.0 - eps);
            if y {
                p.ln()
            } else {
                (1.0 - p).ln()
            }
        })
        .sum::<f64>()
        / n as f64
}

/// One bin of a calibration table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Predicted probabilities in [lower, upper) (the last bin includes 1).
    pub lower: f64,
    pub upper: f64,
    pub students: usize,
    /// Mean predicted probability in the bin (NaN when empty).
    pub mean_predicted: f64,
    /// Share of at-risk students in the bin (NaN when empty).
    pub observed_rate: f64,
}

/// Ten equal-width bins of predicted probability: does "30%" mean 30%?
pub fn calibration_table(probabilities: &[f64], labels: &[bool]) -> Vec<CalibrationBin> {
    const BINS: usize = 10;
    let mut sums = [(0usize, 0.0f64, 0usize); BINS];
    for (p, &y) in probabilities.iter().zip(labels) {
        let bin = ((p * BINS as f64).floor().max(0.0) as usize).min(BINS - 1);
        sums[bin].0 += 1;
        sums[bin].1 += p;
        sums[bin].2 += y as usize;
    }
    sums.iter()
        .enumerate()
        .map(|(i, &(n, sum, positives))| CalibrationBin {
            lower: i as f64 / BINS as f64,
            upper: (i + 1) as f64 / BINS as f64,
            students: n,
            mean_predicted: if n > 0 { sum / n as f64 } else { f64::NAN },
            observed_rate: if n > 0 {
                positives as f64 / n as f64
            } else {
                f64::NAN
            },
        })
        .collect()
}

/// The calibration table in Markdown (header, then a row per bin), as evaluation.md and the
/// model card show it.
pub fn calibration_markdown(bins: &[CalibrationBin]) -> String {
    let metric = crate::io::text::metric;
    let mut text =
        String::from("| predicted | students | mean predicted | observed |\n|---|---|---|---|\n");
    for bin in bins {
        text.push_str(&format!(
            "| {:.1}–{:.1} | {} | {} | {} |\n",
            bin.lower,
            bin.upper,
            bin.students,
            metric(bin.mean_predicted),
            metric(bin.observed_rate)
        ));
    }
    text
}

/// Expected calibration error: the student-weighted mean gap between predicted and observed
/// rates over the calibration table's bins.
pub fn expected_calibration_error(table: &[CalibrationBin]) -> f64 {
    let n: usize = table.iter().map(|b| b.students).sum();
    if n == 0 {
        return f64::NAN;
    }
    table
        .iter()
        .filter(|b| b.students > 0)
        .map(|b| b.students as f64 * (b.mean_predicted - b.observed_rate).abs())
        .sum::<f64>()
        / n as f64
}

/// Average precision: the mean of the precision at each positive's rank (scikit-learn's
/// definition, with tied scores taken as one threshold).
pub fn average_precision(scores: &[f64], labels: &[bool]) -> f64 {
    let positives = labels.iter().filter(|l| **l).count();
    if positives == 0 {
        return f64::NAN;
    }
    let order = ranking(scores);
    let (mut hits, mut seen, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        seen += j - i + 1;
        hits += order[i..=j].iter().filter(|&&k| labels[k]).count();
        let recall = hits as f64 / positives as f64;
        ap += (recall - last_recall) * hits as f64 / seen as f64;
        last_recall = recall;
        i = j + 1;
    }
    ap
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    // Expected values computed with scikit-learn 1.9.1:
    // roc_auc_score([0,0,1,1,0,1],[0.1,0.4,0.35,0.8,0.7,0.9]) = 0.7777…
    // average_precision_score(same) = 0.8055…
    const LABELS: [bool; 6] = [false, false, true, true, false, true];
    const SCORES: [f64; 6] = [0.1, 0.4, 0.35, 0.8, 0.7, 0.9];

    #[test]
    fn auc_matches_a_hand_count() {
        // Positive-negative pairs ranked correctly: 0.35>0.1; 0.8>all 3; 0.9>all 3 → 7 of 9.
        assert_abs_diff_eq!(auc_roc(&SCORES, &LABELS), 7.0 / 9.0, epsilon = 1e-12);
    }

    #[test]
    fn auc_counts_ties_as_half() {
        assert_abs_diff_eq!(auc_roc(&[0.5, 0.5], &[true, false]), 0.5, epsilon = 1e-12);
        assert!(auc_roc(&[0.5], &[true]).is_nan());
    }

    #[test]
    fn average_precision_matches_hand_computation() {
        // Ranked: 0.9(+) 0.8(+) 0.7(-) 0.4(-) 0.35(+) 0.1(-): AP = (1 + 1 + 3/5) / 3.
        assert_abs_diff_eq!(
            average_precision(&SCORES, &LABELS),
            (1.0 + 1.0 + 0.6) / 3.0,
            epsilon = 1e-12
        );
    }

    #[test]
    fn precision_and_recall_at_top_fraction() {
        // Top ceil(6 * 0.5) = 3: 0.9(+), 0.8(+), 0.7(-).
        assert_abs_diff_eq!(
            precision_at(&SCORES, &LABELS, 0.5),
            2.0 / 3.0,
            epsilon = 1e-12
        );
        assert_abs_diff_eq!(recall_at(&SCORES, &LABELS, 0.5), 2.0 / 3.0, epsilon = 1e-12);
        // Top ceil(0.6) = 1.
        assert_abs_diff_eq!(precision_at(&SCORES, &LABELS, 0.1), 1.0, epsilon = 1e-12);
        assert_eq!(top_k(0, 0.1), 0);
    }

    #[test]
    fn brier_and_log_loss_match_scikit_learn() {
        // brier_score_loss(LABELS, SCORES) = 0.18875; log_loss = 0.5330808558700778.
        assert_abs_diff_eq!(brier_score(&SCORES, &LABELS), 0.18875, epsilon = 1e-12);
        assert_abs_diff_eq!(
            log_loss(&SCORES, &LABELS),
            0.5330808558700778,
            epsilon = 1e-12
        );
    }

    #[test]
    fn a_yes_no_indicator_is_judged_with_ties_at_random() {
        // Flagged: 4 students, 2 at risk; 3 at risk in all. scikit-learn: AUC 0.6333…, AP 0.4583…
        let labels = [true, false, true, false, false, true, false, false];
        let flags = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        assert_abs_diff_eq!(
            auc_roc(&flags, &labels),
            0.6333333333333333,
            epsilon = 1e-12
        );
        assert_abs_diff_eq!(
            average_precision(&flags, &labels),
            0.4583333333333333,
            epsilon = 1e-12
        );
        // Top 25% = 2 of the 4 tied flagged students: expected 1 hit of 2.
        assert_abs_diff_eq!(
            expected_precision_at(&flags, &labels, 0.25),
            0.5,
            epsilon = 1e-12
        );
        assert_abs_diff_eq!(
            expected_recall_at(&flags, &labels, 0.25),
            1.0 / 3.0,
            epsilon = 1e-12
        );
        // Top 75% = 6: the 4 flagged (2 hits) and 2 of the 4 unflagged (1 at risk): 2.5 hits.
        assert_abs_diff_eq!(
            expected_precision_at(&flags, &labels, 0.75),
            2.5 / 6.0,
            epsilon = 1e-12
        );
        // Without ties it is the plain precision.
        assert_abs_diff_eq!(
            expected_precision_at(&SCORES, &LABELS, 0.5),
            precision_at(&SCORES, &LABELS, 0.5),
            epsilon = 1e-12
        );
    }

    #[test]
    fn calibration_table_bins_by_predicted_probability() {
        let table = calibration_table(&SCORES, &LABELS);
        assert_eq!(table.len(), 10);
        // 0.35 and 0.4 share no bin: [0.3, 0.4) holds 0.35 (+), [0.4, 0.5) holds 0.4 (−).
        assert_eq!(table[3].students, 1);
        assert_eq!(table[3].observed_rate, 1.0);
        assert_eq!(table[4].students, 1);
        assert_eq!(table[4].observed_rate, 0.0);
        assert_eq!(table[9].students, 1); // 0.9
        assert!(table[2].mean_predicted.is_nan());
        // ECE = (|0.1−0| + |0.35−1| + |0.4−0| + |0.7−0| + |0.8−1| + |0.9−1|) / 6.
        assert_abs_diff_eq!(
            expected_calibration_error(&table),
            (0.1 + 0.65 + 0.4 + 0.7 + 0.2 + 0.1) / 6.0,
            epsilon = 1e-12
        );
    }

    #[test]
    fn ranking_breaks_ties_by_input_order() {
        assert_eq!(ranking(&[0.2, 0.5, 0.5, 0.1]), vec![1, 2, 0, 3]);
    }
}
