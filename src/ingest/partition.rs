//! Students in partitions, so that a district of any size is checked and turned into features
//! in bounded memory (`performance.max_memory`, docs/performance.md).
//!
//! A partition is a range of student ids in byte order, cut from students.csv's ids. Every
//! file is split once into the partitions' staged files (`ingest::staging`): a row belongs to
//! the partition of the student_id it names (a row without one to the first), so a row is
//! checked, counted and listed in rejects.csv exactly once, under its own line. The
//! feature table is sorted by student_id, so the partitions' tables, one after the other, are
//! the district's table.
//!
//! The partitions are cut before any row is read, by numbers of students, and students do not
//! all have as many rows (a K–8 student has no course marks). Once the split has written them,
//! a partition whose staged files hold more rows than a read may ([`staged_peak`]) is
//! read in turns, each keeping a narrower range of its students' rows ([`Part::narrowed`]).
//!
//! What no partition can see alone (the district's school days and the as-of date they give,
//! the latest attendance row, whether the export codes anyone present) is counted first, per
//! partition, and summed ([`DistrictDays`]); every partition then reads with the sums.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::config::Config;
use crate::contract::AttendanceMode;

/// One partition: the students whose id is in `lower..upper` (byte order; open ends at the
/// first and last partition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub index: usize,
    pub count: usize,
    lower: Option<Box<[u8]>>,
    upper: Option<Box<[u8]>>,
}

impl Default for Part {
    fn default() -> Self {
        Part::whole()
    }
}

impl Part {
    /// Every student: the run without partitions.
    pub fn whole() -> Part {
        Part {
            index: 0,
            count: 1,
            lower: None,
            upper: None,
        }
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// The first partition also lists what belongs to no student: rows the reader rejected
    /// before their id was known, rows without an id, and the rows of files without students
    /// (calendar.csv).
    pub fn is_first(&self) -> bool {
        self.index == 0
    }

    /// Whether a row naming `id` is this partition's (a missing or blank id: the first's).
    pub fn owns(&self, id: Option<&[u8]>) -> bool {
        if self.count == 1 {
            return true;
        }
        let Some(id) = id.filter(|id| !id.trim_ascii().is_empty()) else {
            return self.is_first();
        };
        self.lower.as_deref().is_none_or(|lower| id >= lower)
            && self.upper.as_deref().is_none_or(|upper| id < upper)
    }

    /// The first id past this partition (None: the last partition).
    pub fn upper(&self) -> Option<&[u8]> {
        self.upper.as_deref()
    }

    /// `count` partitions of about as many distinct ids each (fewer when there are fewer
    /// distinct ids), in id order.
    pub fn split<'a>(ids: impl Iterator<Item = &'a [u8]>, count: usize) -> Vec<Part> {
        let parts = Part::whole().narrowed(ids, count);
        let count = parts.len();
        parts
            .into_iter()
            .enumerate()
            .map(|(index, part)| part.numbered(index, count))
            .collect()
    }

    /// This partition's range cut into `count` ranges of about as many of its distinct
    /// (non-blank) `ids` each (fewer when there are fewer), in id order: the partitions of
    /// the district ([`Part::split`]), or the turns a partition's staged files are read in
    /// ([`crate::ingest::staging::Staging::refine`]). The first range keeps this one's lower
    /// end and the last its upper, so every id this partition owns is in exactly one; each
    /// keeps this partition's number until [`Part::numbered`].
    pub fn narrowed<'a>(&self, ids: impl Iterator<Item = &'a [u8]>, count: usize) -> Vec<Part> {
        let mut ids: Vec<&[u8]> = ids
            .filter(|id| !id.trim_ascii().is_empty() && self.owns(Some(id)))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let count = count.clamp(1, ids.len().max(1));
        let bound = |k: usize| -> Option<Box<[u8]>> { Some(Box::from(ids[k * ids.len() / count])) };
        (0..count)
            .map(|k| Part {
                index: self.index,
                count: self.count,
                lower: match k {
                    0 => self.lower.clone(),
                    _ => bound(k),
                },
                upper: match k + 1 == count {
                    true => self.upper.clone(),
                    false => bound(k + 1),
                },
            })
            .collect()
    }

    /// The same range as the `index`-th of `count` reads of the district.
    pub fn numbered(self, index: usize, count: usize) -> Part {
        Part {
            index,
            count,
            ..self
        }
    }
}

/// The peak memory of reading, checking and making features of a partition, per byte of its
/// staged files (ews's own Parquet: the same bytes whatever the export's format), but for the
/// attendance files ([`STAGED_ATTENDANCE_PEAK_PER_BYTE`]). Fitted by least squares on the
/// rise of memory over a partition, against its staged bytes, in four 1,000,000-student
/// districts (docs/performance.md, "Reading a partition in turns"): 44.5 MB per MiB of these
/// files (42 bytes a byte), rounded up.
pub const STAGED_PEAK_PER_BYTE: f64 = 46.0;
/// The same for attendance.csv and period_attendance.csv: their rows are summed per student
/// as they are read, and the same fit gives them −1 MB per MiB. They still count a little.
pub const STAGED_ATTENDANCE_PEAK_PER_BYTE: f64 = 2.0;

/// The peak of reading a staged file of `spec` of `bytes` bytes ([`STAGED_PEAK_PER_BYTE`]).
pub fn staged_peak(spec_name: &str, bytes: u64) -> f64 {
    let per_byte = match spec_name == crate::contract::ATTENDANCE.name
        || spec_name == crate::contract::PERIOD_ATTENDANCE.name
    {
        true => STAGED_ATTENDANCE_PEAK_PER_BYTE,
        false => STAGED_PEAK_PER_BYTE,
    };
    per_byte * bytes as f64
}

/// At most this many reads of one partition's staged files: each read decodes all of them, so
/// beyond it the time grows faster than the memory falls.
pub const MAX_READS_PER_PART: usize = 4;

/// How many reads a partition's staged files need so each read's rows (`peak` bytes in all,
/// [`staged_peak`]) fit in `room` bytes: 1 to [`MAX_READS_PER_PART`].
pub fn reads_needed(peak: f64, room: f64) -> usize {
    ((peak / room.max(1.0)).ceil() as usize).clamp(1, MAX_READS_PER_PART)
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "partition {} of {}", self.index + 1, self.count)
    }
}

/// Whether a snapshot of `csv_bytes` and `parquet_bytes` is read in partitions, and into about
/// how many: `performance.partitions` when set, else the measured peak memory per input byte
/// of each format (docs/performance.md) over `max_memory`. One: read in one piece.
pub fn partitions_needed(csv_bytes: u64, parquet_bytes: u64, config: &Config) -> usize {
    if config.performance.partitions > 0 {
        return config.performance.partitions;
    }
    let budget = config.performance.max_memory.max(1) as f64;
    (rows_peak(csv_bytes, parquet_bytes) / budget)
        .ceil()
        .max(1.0) as usize
}

/// The partitions of a partitioned run of `students`: each partition's rows get what
/// `max_memory` leaves beside what the district's students keep until the outputs are written
/// ([`kept_by_students`]), and at least a quarter of it. `performance.partitions` when set.
///
/// The rows' peak alone over the cap (as [`partitions_needed`]) left the last partition the
/// least room: at 1,000,000 students from CSV, 3 partitions peaked at 2,065 MiB (1,245 MiB
/// kept, the last partition's rows about 800). From Parquet with a year of history, 7
/// partitions (the rows given half the cap) peaked at 2,068 MiB in the last one.
pub fn partitions_for(
    csv_bytes: u64,
    parquet_bytes: u64,
    students: usize,
    config: &Config,
) -> usize {
    if config.performance.partitions > 0 {
        return config.performance.partitions;
    }
    (rows_peak(csv_bytes, parquet_bytes) / room_for_rows(students, config))
        .ceil()
        .max(1.0) as usize
}

/// The bytes a partition's rows may take: what `max_memory` leaves beside what the district's
/// `students` keep ([`kept_by_students`]), and at least a quarter of it.
pub fn room_for_rows(students: usize, config: &Config) -> f64 {
    let budget = config.performance.max_memory.max(1) as f64;
    (budget - kept_by_students(students) as f64).max(budget / 4.0)
}

/// What a district's students keep from their partition to the written outputs (the feature
/// table, the plans, supports and scores): [`KEPT_PER_STUDENT`] each. Partitions do not
/// bound it.
pub fn kept_by_students(students: usize) -> u64 {
    KEPT_PER_STUDENT * students as u64
}

/// The checks' and features' peak for the rows of `csv_bytes` and `parquet_bytes` of input.
fn rows_peak(csv_bytes: u64, parquet_bytes: u64) -> f64 {
    CSV_PEAK_PER_BYTE * csv_bytes as f64 + PARQUET_PEAK_PER_BYTE * parquet_bytes as f64
}

/// Memory kept per student once the partitions are read, measured at 1,000,000 students
/// from CSV: 1,245 MiB resident after the last partition less 70 MiB before the first, 1,232
/// bytes a student (docs/performance.md), rounded up.
const KEPT_PER_STUDENT: u64 = 1_300;

/// Peak memory of the checks and features per byte of CSV input, measured at 1,000,000
/// students (docs/performance.md: 4.18 GB for a 4.5 GB snapshot), rounded up.
const CSV_PEAK_PER_BYTE: f64 = 1.0;
/// The same per byte of Parquet input (zstd text columns: 6.8 GB for 150 MB).
const PARQUET_PEAK_PER_BYTE: f64 = 45.0;

/// Attendance facts of the whole district, summed over the partitions' students before any
/// partition is checked: the district's school days are the dates with rows for at least
/// `attendance.school_day_min_share` of all students, and the default as-of date the latest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DistrictDays {
    /// Students in scope.
    pub students: usize,
    /// Students with an accepted full-day row, by date.
    pub students_on: BTreeMap<NaiveDate, u64>,
    /// The latest date of an accepted row.
    pub latest_row: Option<NaiveDate>,
    /// Accepted rows coded P.
    pub present_rows: u64,
    /// The as-of date every partition reads with (the given one, or the contract's default
    /// from the sums).
    pub as_of: Option<NaiveDate>,
}

impl DistrictDays {
    /// Adds a partition's counts.
    pub fn add(&mut self, part: DistrictDays) {
        self.students += part.students;
        for (date, n) in part.students_on {
            *self.students_on.entry(date).or_insert(0) += n;
        }
        self.latest_row = self.latest_row.max(part.latest_row);
        self.present_rows += part.present_rows;
    }

    /// The district's school days in `first..=last`: dates with rows for at least the
    /// configured share of the students.
    pub fn school_days(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        config: &Config,
    ) -> Vec<NaiveDate> {
        let min_students = (config.attendance.school_day_min_share * self.students as f64)
            .ceil()
            .max(1.0);
        self.students_on
            .range(first..=last)
            .filter(|(_, &n)| n as f64 >= min_students)
            .map(|(&date, _)| date)
            .collect()
    }

    /// The latest school day of the whole file (the contract's default as-of date in a daily
    /// export).
    pub fn latest_school_day(&self, config: &Config) -> Option<NaiveDate> {
        self.school_days(NaiveDate::MIN, NaiveDate::MAX, config)
            .last()
            .copied()
    }

    /// The contract's default as-of date: in a daily export the latest school day, in an
    /// exception-only one the latest date of any row.
    pub fn default_as_of(&self, mode: AttendanceMode, config: &Config) -> Option<NaiveDate> {
        match mode {
            AttendanceMode::Exceptions => self.latest_row,
            AttendanceMode::Daily => self.latest_school_day(config),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(ids: &[&str], count: usize) -> Vec<Part> {
        Part::split(ids.iter().map(|id| id.as_bytes()), count)
    }

    fn owner(parts: &[Part], id: Option<&str>) -> Vec<usize> {
        parts
            .iter()
            .filter(|p| p.owns(id.map(str::as_bytes)))
            .map(|p| p.index)
            .collect()
    }

    #[test]
    fn every_id_belongs_to_exactly_one_partition_in_byte_order() {
        let ids = [
            "S10", "S02", "S01", "S07", "S03", "S05", "S09", "S04", "S08", "S06",
        ];
        let parts = parts(&ids, 3);
        assert_eq!(parts.len(), 3);
        // 10 ids in 3 ranges cut at the 3rd and 6th smallest: S01..S03, S04..S06, S07..S10.
        let of = |id: &str| owner(&parts, Some(id));
        assert_eq!(of("S01"), [0]);
        assert_eq!(of("S03"), [0]);
        assert_eq!(of("S04"), [1]);
        assert_eq!(of("S06"), [1]);
        assert_eq!(of("S07"), [2]);
        assert_eq!(of("S10"), [2]);
        // Ids not in students.csv fall in a range too: their rows are rejected once.
        assert_eq!(of("A"), [0]);
        assert_eq!(of("S065"), [1]);
        assert_eq!(of("Z"), [2]);
        // A row without an id is the first partition's.
        assert_eq!(owner(&parts, None), [0]);
        assert_eq!(owner(&parts, Some("  ")), [0]);
    }

    #[test]
    fn the_partitions_leave_room_for_what_the_students_keep() {
        let mut config = Config::default();
        config.performance.max_memory = 2 << 30;
        const GIB: u64 = 1 << 30;
        // 4.6 GiB of CSV: 2.3 caps of rows, so a partitioned run.
        let csv = 46 * GIB / 10;
        assert_eq!(partitions_needed(csv, 0, &config), 3);
        // Half a million students keep 0.65 GB: the rows get the 1.497 GB left, 4.94 / 1.497.
        assert_eq!(partitions_for(csv, 0, 500_000, &config), 4);
        // A million keep 1.3 GB: the rows get the 0.847 GB left, 4.94 / 0.847 = 5.8.
        assert_eq!(partitions_for(csv, 0, 1_000_000, &config), 6);
        // Few students: the rows get the cap, as partitions_needed gives.
        assert_eq!(partitions_for(csv, 0, 1_000, &config), 3);
        // Students keeping more than the cap: the rows still get a quarter of it.
        assert_eq!(kept_by_students(2_000_000), 2_600_000_000);
        assert_eq!(partitions_for(2 * csv, 0, 2_000_000, &config), 19);
        // Parquet's bytes weigh 45 times: 100 MiB is 4.4 GiB of rows.
        assert_eq!(partitions_for(0, 100 << 20, 1_000, &config), 3);
        // A fixed count wins.
        config.performance.partitions = 4;
        assert_eq!(partitions_for(csv, 0, 1_000_000, &config), 4);
    }

    #[test]
    fn a_narrowed_partition_gives_each_of_its_ids_to_one_read_and_keeps_its_ends() {
        let ids = [
            "S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08", "S09",
        ];
        let parts = parts(&ids, 3);
        // The middle partition, S04..S06 (and whatever falls between S04 and S07), in 2 reads.
        let own: Vec<&[u8]> = ["S04", "S05", "S06"].iter().map(|i| i.as_bytes()).collect();
        let reads = parts[1].narrowed(own.iter().copied(), 2);
        assert_eq!(reads.len(), 2);
        let of = |id: &str| -> Vec<usize> {
            (0..reads.len())
                .filter(|&k| reads[k].owns(Some(id.as_bytes())))
                .collect()
        };
        // Cut at the 2nd of 3 ids: S04 | S05, S06.
        assert_eq!(of("S04"), [0]);
        assert_eq!(of("S05"), [1]);
        assert_eq!(of("S06"), [1]);
        assert_eq!(of("S065"), [1], "the partition's upper end is kept");
        assert!(of("S03").is_empty() && of("S07").is_empty());
        // The first partition's first read keeps the open end and the rows without an id.
        let first = parts[0].narrowed([b"S01".as_slice(), b"S02", b"S03"].into_iter(), 3);
        let first: Vec<Part> = first
            .into_iter()
            .enumerate()
            .map(|(k, p)| p.numbered(k, 5))
            .collect();
        assert!(first[0].owns(Some(b"A")) && first[0].owns(None));
        assert!(!first[1].owns(None) && first[2].owns(Some(b"S03")));
        assert_eq!(first[2].to_string(), "partition 3 of 5");
        // Never more reads than ids.
        assert_eq!(parts[1].narrowed(own.iter().copied(), 9).len(), 3);
    }

    #[test]
    fn reads_are_sized_from_the_staged_bytes() {
        const MIB: u64 = 1 << 20;
        let mib = |peak: f64| (peak / MIB as f64).round();
        // Grades count 46 bytes a byte, attendance 2.
        assert_eq!(mib(staged_peak("grades.csv", 20 * MIB)), 920.0);
        assert_eq!(mib(staged_peak("attendance.csv", 20 * MIB)), 40.0);
        assert_eq!(mib(staged_peak("period_attendance.csv", 20 * MIB)), 40.0);
        // 920 MiB of rows: 2 reads in 512 MiB, 1 in 2 GiB.
        let peak = staged_peak("grades.csv", 20 * MIB);
        assert_eq!(reads_needed(peak, 512.0 * MIB as f64), 2);
        assert_eq!(reads_needed(peak, 2048.0 * MIB as f64), 1);
        assert_eq!(reads_needed(0.0, 512.0), 1);
        // Never more than MAX_READS_PER_PART.
        assert_eq!(reads_needed(peak, 1.0), MAX_READS_PER_PART);
    }

    #[test]
    fn there_are_never_more_partitions_than_distinct_ids() {
        assert_eq!(parts(&["b", "a", "b", " "], 5).len(), 2);
        assert_eq!(parts(&[], 4).len(), 1);
        let whole = parts(&["a"], 1);
        assert_eq!(whole, vec![Part::whole()]);
        assert!(whole[0].owns(Some(b"zzz")));
    }

    #[test]
    fn district_days_sum_the_partitions_and_apply_the_share_to_all_students() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2025, 9, d).unwrap();
        let mut district = DistrictDays::default();
        district.add(DistrictDays {
            students: 6,
            students_on: [(day(2), 6), (day(3), 1)].into(),
            latest_row: Some(day(3)),
            present_rows: 5,
            as_of: None,
        });
        district.add(DistrictDays {
            students: 4,
            students_on: [(day(2), 4), (day(3), 4), (day(4), 1)].into(),
            latest_row: Some(day(4)),
            present_rows: 0,
            as_of: None,
        });
        let mut config = Config::default();
        config.attendance.school_day_min_share = 0.5;
        // Half of the 10 students: 10 on the 2nd, 5 on the 3rd, 1 on the 4th.
        assert_eq!(
            district.school_days(day(1), day(30), &config),
            vec![day(2), day(3)]
        );
        assert_eq!(district.latest_school_day(&config), Some(day(3)));
        // The contract's default as-of date: the latest school day, or in exception mode
        // the latest row.
        assert_eq!(
            district.default_as_of(AttendanceMode::Daily, &config),
            Some(day(3))
        );
        assert_eq!(
            district.default_as_of(AttendanceMode::Exceptions, &config),
            Some(day(4))
        );
        assert_eq!(district.latest_row, Some(day(4)));
        assert_eq!(district.present_rows, 5);
    }
}
