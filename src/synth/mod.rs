//! Synthetic districts: the generator ([`generate`]) and the exporter that writes a canonical
//! snapshot in a district's export shape ([`export`]). Only the command line uses them.

pub mod export;
pub mod generate;
mod vocabulary;
