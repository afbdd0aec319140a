//! report.html at the sizes district leaders open it (issue 21): the three schools of
//! sample_data and a generated district of 25, scored by the real binary. The tiers-by-school
//! chart draws at most twenty schools by share at high risk, the table lists every school in
//! the same order, and the histogram's axes are labelled. The order is checked against the
//! counts summary.json publishes.

use std::path::{Path, PathBuf};

use crate::common::{self, ews, root};

/// Scores `snapshot` into `out` and returns the run folder (the only folder `out` holds beside
/// the run history).
fn score(snapshot: &Path, out: &Path) -> PathBuf {
    common::score(snapshot, out);
    let mut runs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir() && !path.ends_with(ews::outputs::history::HISTORY_DIR))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.remove(0)
}

/// The school ids of summary.json in the report's order, computed here from its counts:
/// published schools by share at high risk (highest first, ties by id), then suppressed ones.
fn expected_order(run: &Path) -> (Vec<String>, usize) {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let mut published: Vec<(f64, String)> = Vec::new();
    let mut suppressed: Vec<String> = Vec::new();
    for school in summary["schools"].as_array().unwrap() {
        let id = school["school_id"].as_str().unwrap().to_string();
        match school["students"].as_u64() {
            Some(students) => {
                let high = school["tiers"]["high"].as_u64().unwrap();
                published.push((high as f64 / students as f64, id));
            }
            None => suppressed.push(id),
        }
    }
    published.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    suppressed.sort();
    let count = published.len();
    let order = published.into_iter().map(|(_, id)| id).chain(suppressed);
    (order.collect(), count)
}

/// The `data-school-id` values in `text`, in order.
fn school_ids(text: &str) -> Vec<String> {
    text.split("data-school-id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The tiers-by-school chart and table of a page.
fn chart_and_table(page: &str) -> (&str, &str) {
    let section = &page[page.find("<h2>Tiers by school</h2>").unwrap()..];
    let section = &section[..section[1..].find("<h2>").unwrap() + 1];
    let chart = &section[section.find("<svg").unwrap()..section.find("</svg>").unwrap()];
    let table = &section[section.find("<table").unwrap()..section.find("</table>").unwrap()];
    (chart, table)
}

#[test]
fn three_schools_are_all_drawn_by_share_at_high_risk() {
    let out = tempfile::tempdir().unwrap();
    let run = score(&root().join("sample_data/current"), out.path());
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    let (order, published) = expected_order(&run);
    assert_eq!((order.len(), published), (3, 3));
    let (chart, table) = chart_and_table(&page);
    assert_eq!(school_ids(chart), order);
    assert_eq!(school_ids(table), order);
    assert!(page.contains("Drawn: the 3 of 3 schools with the largest share of students at high risk, sorted by that share"));
    // The long name fits on its first line whole; the table has it with its id.
    assert!(chart.contains(">Dr. Martin Luther King, Jr. High School</text>"));
    assert!(table.contains("Dr. Martin Luther King, Jr. High School ("));
    // The histogram's axes: titles and ticks on both.
    let histogram = &page[page.find("aria-label=\"risk distribution\"").unwrap()..];
    let histogram = &histogram[..histogram.find("</svg>").unwrap()];
    for label in [
        ">predicted risk</text>",
        ">students</text>",
        ">0%</text>",
        ">100%</text>",
        ">0</text>",
    ] {
        assert!(histogram.contains(label), "{label}");
    }
    assert!(!page.contains("<script"));
}

#[test]
fn a_district_of_twenty_five_schools_draws_twenty_and_lists_all() {
    // 10,000 students make 25 schools (400 a school), as 100,000 make 250.
    let work = tempfile::tempdir().unwrap();
    let generated = ews(&[
        "generate",
        "--students",
        "10000",
        "--seed",
        "1",
        "--out",
        work.path().join("district").to_str().unwrap(),
    ]);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let out = work.path().join("out");
    let run = score(&work.path().join("district/current"), &out);
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    let (order, published) = expected_order(&run);
    assert_eq!(order.len(), 25);
    let (chart, table) = chart_and_table(&page);
    assert_eq!(school_ids(chart), order[..20.min(published)].to_vec());
    assert_eq!(school_ids(table), order);
    assert!(page.contains("Drawn: the 20 of 25 schools with the largest share"));
    // Every word of a chart label is a whole word of a school's name or an id in brackets, the
    // last word kept of a shortened name ending in "…" (after the punctuation it replaces).
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let mut words: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for school in summary["schools"].as_array().unwrap() {
        let name = school["school_name"].as_str().unwrap_or("");
        words.extend(name.split_whitespace().map(str::to_string));
        words.insert(format!("({})", school["school_id"].as_str().unwrap()));
    }
    let whole = |word: &str| {
        let word = word.trim_end_matches('…');
        words.contains(word)
            || [",", ";", ":"]
                .iter()
                .any(|p| words.contains(&format!("{word}{p}")))
    };
    let mut lines = 0;
    for line in chart
        .split("text-anchor=\"end\">")
        .skip(1)
        .filter_map(|rest| rest.split("</text>").next())
    {
        lines += 1;
        let line = line.replace("&#39;", "'").replace("&amp;", "&");
        for word in line.split_whitespace() {
            assert!(whole(word), "{word} in {line}");
        }
    }
    assert!(lines >= 20, "{lines} label lines");
    // Self-contained still.
    for forbidden in ["<script", "<link", "src=", "url(", "https:"] {
        assert!(!page.contains(forbidden), "{forbidden}");
    }
}
