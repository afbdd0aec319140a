//! Training on a sample of a state-sized district's students (`model.max_training_students`).
//!
//! What training keeps grows with the district: the snapshot's feature table, each earlier
//! checkpoint's, and the stacked rows of them all (docs/performance.md, "6,000,000
//! students"). A logistic model of a few dozen inputs gains nothing measurable from more than
//! a million labelled students, so a larger district trains on a sample of them: the labelled
//! students whose key is among the `max_training_students` smallest. A student's key is the
//! first 8 bytes of the SHA-256 of `model.seed` and the student id, so it depends on the id
//! alone: the sample is the same whether the snapshot is read in one piece or partition by
//! partition, in any order, and an earlier checkpoint keeps the same students (those whose key
//! is at most the largest key of the snapshot's sample). Nothing is sampled while the
//! labelled students are at most the maximum: every district under it trains as before.

use sha2::{Digest, Sha256};

use crate::features::FeatureRun;
use crate::io::error::Result;
use crate::model::Labels;

/// Which labelled students a training read keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    /// The snapshot's own read: at most this many labelled students, those of the smallest
    /// keys.
    Smallest(usize),
    /// An earlier checkpoint: the labelled students whose key is at most this one (the largest
    /// key of the snapshot's sample).
    UpTo(u64),
}

/// What the snapshot held before its sample was taken; recorded in the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampledFrom {
    /// Students (feature-table rows) and labelled students read.
    pub students: usize,
    pub labelled: usize,
    /// The largest key kept: an earlier checkpoint keeps the students up to it.
    pub largest_key: u64,
}

/// A student's sampling key: the first 8 bytes of SHA-256(seed as 8 little-endian bytes,
/// student id), big-endian.
pub fn key(seed: u64, student_id: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(student_id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// A training read's sample, narrowed as partitions of students are appended: the keys of the
/// rows kept, and, once the labelled students have passed the maximum, the largest key kept.
pub struct Sampler {
    rule: Sample,
    seed: u64,
    /// The key of each row of the run narrowed so far.
    keys: Vec<u64>,
    /// Students and labelled students read, before the sample.
    students: usize,
    labelled: usize,
    /// The largest key kept, once rows were left out.
    bound: Option<u64>,
}

impl Sampler {
    pub fn new(rule: Sample, seed: u64) -> Sampler {
        Sampler {
            rule,
            seed,
            keys: Vec::new(),
            students: 0,
            labelled: 0,
            bound: match rule {
                Sample::Smallest(_) => None,
                Sample::UpTo(bound) => Some(bound),
            },
        }
    }

    /// Narrows `run` and its `labels` to the sample. `run` is what was narrowed before, with
    /// the rows of the next partition (or of the whole snapshot) appended after it.
    pub fn narrow(&mut self, run: &mut FeatureRun, labels: &mut Labels) -> Result<()> {
        let ids = run.table.column("student_id")?.str()?;
        let (seed, read) = (self.seed, self.keys.len());
        self.keys
            .extend(ids.iter().skip(read).map(|id| key(seed, id.unwrap_or(""))));
        self.students += ids.len() - read;
        self.labelled += labels.labels[read..].iter().filter(|l| l.is_some()).count();
        if let Sample::Smallest(max) = self.rule {
            let mut labelled: Vec<u64> = self
                .keys
                .iter()
                .zip(&labels.labels)
                .filter(|(_, label)| label.is_some())
                .map(|(key, _)| *key)
                .collect();
            if labelled.len() > max && max > 0 {
                let (_, largest, _) = labelled.select_nth_unstable(max - 1);
                self.bound = Some(*largest);
            }
        }
        let Some(bound) = self.bound else {
            return Ok(());
        };
        labels.sampled_from = Some(SampledFrom {
            students: self.students,
            labelled: self.labelled,
            largest_key: bound,
        });
        let keep: Vec<bool> = self
            .keys
            .iter()
            .zip(&labels.labels)
            .map(|(key, label)| label.is_some() && *key <= bound)
            .collect();
        if keep.iter().all(|k| *k) {
            return Ok(());
        }
        run.keep_rows(&keep)?;
        labels.keep_rows(&keep);
        crate::features::keep_marked(&mut self.keys, &keep);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn run_of(ids: &[&str]) -> FeatureRun {
        let table =
            df!("student_id" => ids, "row" => (0..ids.len() as u32).collect::<Vec<_>>()).unwrap();
        FeatureRun {
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 3, 13).unwrap(),
            school_year: 2026,
            school_days: 0,
            calendar: Vec::new(),
            table,
            ignored: Vec::new(),
            courses: Default::default(),
            pathways: ids.iter().map(|id| Some(id.to_string())).collect(),
            supports: Default::default(),
        }
    }

    fn labels_of(labels: &[Option<bool>]) -> Labels {
        Labels {
            labels: labels.to_vec(),
            excluded_transferred: 0,
            excluded_not_yet_known: 0,
            excluded_no_outcome: labels.iter().filter(|l| l.is_none()).count(),
            excluded_other_exit: 0,
            outcomes_not_enrolled: 0,
            sampled_from: None,
        }
    }

    /// The run of `ids` with `labels`, narrowed to the sample `rule` takes.
    fn sampled(ids: &[&str], labels: &[Option<bool>], rule: Sample) -> (FeatureRun, Labels) {
        let (mut run, mut labels) = (run_of(ids), labels_of(labels));
        Sampler::new(rule, 42)
            .narrow(&mut run, &mut labels)
            .unwrap();
        (run, labels)
    }

    fn ids_of(run: &FeatureRun) -> Vec<String> {
        let ids = run.table.column("student_id").unwrap().str().unwrap();
        ids.iter().map(|id| id.unwrap().to_string()).collect()
    }

    const IDS: [&str; 8] = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"];
    const LABELS: [Option<bool>; 8] = [
        Some(true),
        None,
        Some(false),
        Some(false),
        Some(true),
        Some(false),
        None,
        Some(false),
    ];

    #[test]
    fn the_key_is_the_first_eight_bytes_of_the_sha256_of_the_seed_and_the_id() {
        // python3: hashlib.sha256(struct.pack('<Q', 42) + b'S1').hexdigest() starts
        // 03752625ec2c3ad0.
        assert_eq!(key(42, "S1"), 0x0375_2625_ec2c_3ad0);
        assert_ne!(key(42, "S1"), key(43, "S1"));
        assert_ne!(key(42, "S1"), key(42, "S2"));
    }

    #[test]
    fn the_sample_is_the_labelled_students_of_the_smallest_keys() {
        // The six labelled students by key; the sample keeps the three smallest.
        let mut labelled: Vec<(u64, &str)> = IDS
            .iter()
            .zip(LABELS)
            .filter(|(_, l)| l.is_some())
            .map(|(id, _)| (key(42, id), *id))
            .collect();
        labelled.sort();
        let mut expected: Vec<&str> = labelled[..3].iter().map(|(_, id)| *id).collect();
        expected.sort();

        let (run, labels) = sampled(&IDS, &LABELS, Sample::Smallest(3));
        assert_eq!(ids_of(&run), expected);
        // The pathways, by table row, follow their students.
        let pathways: Vec<String> = run.pathways.iter().flatten().cloned().collect();
        assert_eq!(pathways, expected);
        assert_eq!(labels.labels.len(), 3);
        assert!(labels.labels.iter().all(|l| l.is_some()));
        // Each kept label is still its student's.
        for (id, label) in ids_of(&run).iter().zip(&labels.labels) {
            let at = IDS.iter().position(|i| i == id).unwrap();
            assert_eq!(*label, LABELS[at]);
        }
        // The district's counts before the sample; the excluded counts are the district's.
        assert_eq!(
            labels.sampled_from,
            Some(SampledFrom {
                students: 8,
                labelled: 6,
                largest_key: labelled[2].0
            })
        );
        assert_eq!(labels.excluded_no_outcome, 2);
    }

    #[test]
    fn partitions_appended_one_by_one_give_the_sample_of_the_whole() {
        let (whole, whole_labels) = sampled(&IDS, &LABELS, Sample::Smallest(3));
        for cut in [&[3usize, 5][..], &[1, 2, 3, 4, 5, 6, 7], &[6]] {
            let mut sampler = Sampler::new(Sample::Smallest(3), 42);
            let mut starts = vec![0];
            starts.extend(cut);
            starts.push(IDS.len());
            let (mut run, mut labels): (Option<FeatureRun>, Option<Labels>) = (None, None);
            for piece in starts.windows(2) {
                let (next, next_labels) = (
                    run_of(&IDS[piece[0]..piece[1]]),
                    labels_of(&LABELS[piece[0]..piece[1]]),
                );
                match (&mut run, &mut labels) {
                    (Some(run), Some(labels)) => {
                        run.append(next).unwrap();
                        labels.append(next_labels);
                    }
                    _ => (run, labels) = (Some(next), Some(next_labels)),
                }
                let (Some(run), Some(labels)) = (&mut run, &mut labels) else {
                    unreachable!()
                };
                sampler.narrow(run, labels).unwrap();
                assert!(labels.labels.iter().filter(|l| l.is_some()).count() <= 3);
            }
            let (run, labels) = (run.unwrap(), labels.unwrap());
            assert_eq!(ids_of(&run), ids_of(&whole), "cut at {cut:?}");
            assert_eq!(labels.labels, whole_labels.labels);
            assert_eq!(labels.sampled_from, whole_labels.sampled_from);
        }
    }

    #[test]
    fn an_earlier_checkpoint_keeps_the_students_up_to_the_largest_key() {
        let (run, labels) = sampled(&IDS, &LABELS, Sample::Smallest(3));
        let bound = labels.sampled_from.unwrap().largest_key;
        // The checkpoint lacks S2 and S5, and S8 has no label there.
        let ids = ["S1", "S3", "S4", "S6", "S7", "S8"];
        let mut at_checkpoint = [None; 6];
        for (k, id) in ids.iter().enumerate() {
            at_checkpoint[k] = LABELS[IDS.iter().position(|i| i == id).unwrap()];
        }
        at_checkpoint[5] = None;
        let (earlier, _) = sampled(&ids, &at_checkpoint, Sample::UpTo(bound));
        let expected: Vec<String> = ids
            .iter()
            .zip(at_checkpoint)
            .filter(|(id, label)| label.is_some() && key(42, id) <= bound)
            .map(|(id, _)| id.to_string())
            .collect();
        assert_eq!(ids_of(&earlier), expected);
        // Those are the sample's students that the checkpoint has, with a label.
        let sample = ids_of(&run);
        assert!(expected.iter().all(|id| sample.contains(id)));
    }

    #[test]
    fn no_more_labelled_students_than_the_maximum_leaves_the_run_as_it_is() {
        let (run, labels) = sampled(&IDS, &LABELS, Sample::Smallest(6));
        assert_eq!(run.table.height(), 8);
        assert_eq!(labels.labels, LABELS.to_vec());
        assert_eq!(labels.sampled_from, None);
    }
}
