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
    /// Students of students.csv outside `scope.grades`: their rows in other files are skipped
    /// and counted, not rejected.
    pub(crate) out_of_scope: rustc_hash::FxHashSet<Box<[u8]>>,
}

impl StudentIndex {
    /// The same index, knowing the ids of the students outside the scope.
    pub fn with_out_of_scope<'a>(mut self, ids: impl Iterator<Item = &'a str>) -> StudentIndex {
        self.out_of_scope = ids.map(|id| Box::from(id.as_bytes())).collect();
        self
    }

    /// Whether `id` is a student of students.csv outside the scope.
    pub fn is_out_of_scope(&self, id: &[u8]) -> bool {
        !self.out_of_scope.is_empty() && self.out_of_scope.contains(id)
    }

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
            out_of_scope: Default::default(),
        }
    }
}
