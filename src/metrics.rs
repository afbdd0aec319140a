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
    fn ranking_breaks_ties_by_input_order() {
        assert_eq!(ranking(&[0.2, 0.5, 0.5, 0.1]), vec![1, 2, 0, 3]);
    }
}
