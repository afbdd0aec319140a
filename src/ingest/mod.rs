//! A snapshot's export files, from bytes to checked data: the one reader of every CSV input
//! ([`reader`]), snapshot discovery, headers and the mapping applied ([`input`]), the row and
//! file checks ([`checks`]), attendance read in one pass into a day grid per student
//! ([`attendance`]), and the data-quality report and gate ([`quality`]).

pub mod attendance;
pub mod checks;
pub mod input;
pub mod quality;
pub mod reader;
