//! Enrolled students by id, hashed once from students.csv and asked by every file's rows:
//! the row index of a student is their position among students.csv's accepted rows (the
//! attendance grid's row, the membership's student).

use polars::prelude::*;
use rustc_hash::FxHashMap;

/// Enrolled students by id: the grid's row index is the position in students.csv's accepted
/// rows.
pub struct StudentIndex {
    pub(crate) ids: FxHashMap<Box<[u8]>, u32>,
    pub(crate) len: usize,
}

impl StudentIndex {
    /// Whether `id` is a student of students.csv.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id.as_bytes())
    }

    /// The row of `id` in students.csv's accepted rows.
    pub fn get(&self, id: &[u8]) -> Option<u32> {
        self.ids.get(id).copied()
    }

    /// Rows of students.csv accepted (the grid's height).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn new(student_ids: &StringChunked) -> StudentIndex {
        let ids = student_ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| id.map(|id| (Box::from(id.as_bytes()), i as u32)))
            .collect();
        StudentIndex {
            ids,
            len: student_ids.len(),
        }
    }
}
