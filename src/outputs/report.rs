//! report.html: one self-contained page a district leader can open offline — headline counts,
//! tiers by school, the risk distribution, the most common reasons, changes since the last
//! run, data quality and the equity snapshot. Charts are inline SVG drawn here; there is no
//! script and nothing is fetched from the network. Every text from the data is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::config::Config;
use crate::ingest::quality::QualityReport;
use crate::model::equity::GroupAudit;
use crate::model::metrics::CalibrationBin;
use crate::model::score::{ScoredStudent, Tier};
use crate::outputs::changes::ChangeCounts;
use crate::outputs::feed::{SchoolSummary, Summary, TierCounts};

/// Everything the page shows.
pub struct ReportInput<'a> {
    pub summary: &'a Summary,
    pub scored: &'a [ScoredStudent],
    pub changes: Option<&'a ChangeCounts>,
    pub quality: &'a QualityReport,
    pub equity: &'a [GroupAudit],
    pub candidates: &'a BTreeMap<String, usize>,
    /// When the snapshot's outcomes are known: predicted vs observed, ten bins.
    pub calibration: Option<&'a [CalibrationBin]>,
    pub config: &'a Config,
}

const HIGH: &str = "#c0392b";
const MEDIUM: &str = "#e67e22";
const LOW: &str = "#7f8c8d";

/// Escapes text for HTML content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Counts of students per risk bin (20 bins of 0.05).
pub fn risk_histogram(scored: &[ScoredStudent]) -> [usize; 20] {
    let mut bins = [0usize; 20];
    for s in scored {
        let bin = ((s.risk * 20.0).floor().max(0.0) as usize).min(19);
        bins[bin] += 1;
    }
    bins
}

/// The features most often among the reasons of students flagged at risk (the medium or high
/// tier), most common first.
pub fn common_reasons(scored: &[ScoredStudent]) -> Vec<(&'static str, usize)> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for s in scored
        .iter()
        .filter(|s| s.tier != crate::model::score::Tier::Low)
    {
        for feature in &s.reason_features {
            *counts.entry(feature).or_insert(0) += 1;
        }
    }
    let mut list: Vec<(&'static str, usize)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    list
}

/// How many schools the tiers-by-school chart draws: at 250 schools one bar each cannot be
/// told apart, so the chart shows the schools with the largest share at high risk and the
/// table below it lists them all.
pub const SCHOOLS_DRAWN: usize = 20;

/// Characters of a 13px label that fit on one line of a chart's label column (about 7px a
/// character in the label column's 300px). A longer line, a single word longer than this, is
/// squeezed to the column's width with `textLength` rather than cut.
const LABEL_LINE_CHARS: usize = 40;

/// Lines a chart label may take: two keep the rows of twenty schools readable.
const LABEL_LINES: usize = 2;

/// Width of a chart's label column, in pixels.
const LABEL_WIDTH: f64 = 320.0;

/// The schools in the order the report shows them: the published ones by share of their
/// students at high risk, highest first, ties by school id; then the suppressed ones by id,
/// whose share cannot be published.
pub fn schools_by_high_share(schools: &[SchoolSummary]) -> Vec<&SchoolSummary> {
    let mut ordered: Vec<&SchoolSummary> = schools.iter().collect();
    ordered.sort_by(|a, b| match (published_tiers(a), published_tiers(b)) {
        // high_a / n_a > high_b / n_b, compared exactly by cross-multiplying.
        (Some((ta, na)), Some((tb, nb))) => (tb.high as u128 * na as u128)
            .cmp(&(ta.high as u128 * nb as u128))
            .then_with(|| a.school_id.cmp(&b.school_id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.school_id.cmp(&b.school_id),
    });
    ordered
}

/// A school's tiers and student count, when summary.json publishes them.
fn published_tiers(school: &SchoolSummary) -> Option<(&TierCounts, usize)> {
    Some((school.tiers.as_ref()?, school.students?))
}

/// The share of a school's students at high risk (0 for a school without students).
fn high_share(tiers: &TierCounts, students: usize) -> f64 {
    if students == 0 {
        0.0
    } else {
        tiers.high as f64 / students as f64
    }
}

/// A school as the table names it: its name, then its id in brackets (two campuses may share
/// a name); the id alone when the snapshot has no name.
fn school_label(school: &SchoolSummary) -> String {
    match &school.school_name {
        Some(name) if !name.trim().is_empty() => format!("{name} ({})", school.school_id),
        _ => school.school_id.clone(),
    }
}

/// A school's label in the chart, on at most [`LABEL_LINES`] lines broken between words.
/// A name too long for them is shortened after a whole word with "…"; the id is always kept
/// whole at the end, so a shortened name still identifies its school, and the table has the
/// name in full.
pub fn school_label_lines(school: &SchoolSummary) -> Vec<String> {
    match &school.school_name {
        Some(name) if !name.trim().is_empty() => {
            label_lines(name, Some(&format!("({})", school.school_id)))
        }
        _ => label_lines(&school.school_id, None),
    }
}

/// `text` wrapped between words on at most [`LABEL_LINES`] lines of about
/// [`LABEL_LINE_CHARS`], followed by `kept`, a word that is never dropped. When the text does
/// not fit, its last words are dropped and the last one kept ends with "…": a word is never
/// cut.
fn label_lines(text: &str, kept: Option<&str>) -> Vec<String> {
    let words = label_words(text);
    let with_kept = |mut tokens: Vec<String>| {
        tokens.extend(kept.map(str::to_string));
        wrap_words(&tokens)
    };
    let whole = with_kept(words.clone());
    if whole.len() <= LABEL_LINES {
        return whole;
    }
    // The lines hold fewer than LABEL_LINES × LABEL_LINE_CHARS words (a word takes a character
    // at least): a longer start never fits, so a name of thousands of words costs no more
    // than a short one.
    for keep in (1..words.len().min(LABEL_LINES * LABEL_LINE_CHARS)).rev() {
        // "Science and…" reads as a cut: a shortened name does not end on a joining word.
        if JOINING_WORDS.contains(&words[keep - 1].to_lowercase().as_str()) {
            continue;
        }
        let mut tokens: Vec<String> = words[..keep].to_vec();
        if let Some(last) = tokens.last_mut() {
            // "King,…" reads as a typo: the ellipsis replaces the punctuation.
            let trimmed = last.trim_end_matches([',', ';', ':', '-', '–']).to_string();
            *last = format!("{trimmed}…");
        }
        let lines = with_kept(tokens);
        if lines.len() <= LABEL_LINES {
            return lines;
        }
    }
    // The first word alone does not fit beside the kept one: each gets a line of its own,
    // squeezed to the column when longer than it.
    let mut lines: Vec<String> = words
        .first()
        .map(|first| {
            let more = if words.len() > 1 { "…" } else { "" };
            format!("{first}{more}")
        })
        .into_iter()
        .collect();
    lines.extend(kept.map(str::to_string));
    lines
}

/// Words a shortened name does not end on.
const JOINING_WORDS: [&str; 9] = ["and", "&", "of", "the", "for", "at", "de", "la", "y"];

/// The words of a label, a short bracketed group such as "(Campus 5)" kept as one word: a
/// line break inside it reads as two labels.
fn label_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut group: Option<String> = None;
    for word in text.split_whitespace() {
        group = match group.take() {
            Some(mut open) => {
                open.push(' ');
                open.push_str(word);
                if open.chars().count() > LABEL_LINE_CHARS / 2 {
                    // Too long to keep together: its words wrap as any others.
                    words.extend(open.split(' ').map(str::to_string));
                    None
                } else if word.ends_with(')') {
                    words.push(open);
                    None
                } else {
                    Some(open)
                }
            }
            None if word.starts_with('(') && !word.ends_with(')') => Some(word.to_string()),
            None => {
                words.push(word.to_string());
                None
            }
        };
    }
    words.extend(
        group
            .iter()
            .flat_map(|open| open.split(' '))
            .map(str::to_string),
    );
    words
}

/// Greedy wrapping of whole words into lines of at most [`LABEL_LINE_CHARS`] characters (a
/// longer word gets a line to itself).
fn wrap_words(words: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in words {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= LABEL_LINE_CHARS => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.clone()),
        }
    }
    lines
}

/// The label of one chart row, right-aligned against the bars, its lines centred on the bar
/// at `centre`; `full` is its tooltip. A line longer than the column is squeezed to fit.
fn write_label(svg: &mut String, lines: &[String], full: &str, centre: f64) {
    let line_height = 15.0;
    let first_baseline = centre + 4.5 - line_height * (lines.len() as f64 - 1.0) / 2.0;
    let _ = write!(svg, "<g font-size=\"13\"><title>{}</title>", escape(full));
    for (i, line) in lines.iter().enumerate() {
        let squeeze = if line.chars().count() > LABEL_LINE_CHARS {
            format!(
                " textLength=\"{:.0}\" lengthAdjust=\"spacingAndGlyphs\"",
                LABEL_WIDTH - 16.0
            )
        } else {
            String::new()
        };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\"{squeeze}>{}</text>",
            LABEL_WIDTH - 8.0,
            first_baseline + i as f64 * line_height,
            escape(line)
        );
    }
    svg.push_str("</g>");
}

/// Row height for labels of `lines` lines: a one-line chart stays compact.
fn row_height(lines: usize) -> f64 {
    if lines > 1 {
        40.0
    } else {
        26.0
    }
}

/// A horizontal bar chart: one labelled bar per row, segments of (value, colour). Labels are
/// wrapped between words, never cut.
fn bar_chart(rows: &[(String, Vec<(usize, &str)>)], title: &str) -> String {
    let max: usize = rows
        .iter()
        .map(|(_, segments)| segments.iter().map(|s| s.0).sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let labels: Vec<Vec<String>> = rows
        .iter()
        .map(|(label, _)| label_lines(label, None))
        .collect();
    let row_height = row_height(labels.iter().map(Vec::len).max().unwrap_or(1));
    let bar_width = 440.0;
    let width = LABEL_WIDTH + bar_width + 60.0;
    let height = row_height * rows.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title),
    );
    for (i, ((label, segments), lines)) in rows.iter().zip(&labels).enumerate() {
        let y = i as f64 * row_height + 5.0 + (row_height - 26.0) / 2.0;
        write_label(&mut svg, lines, label, y + 9.0);
        let mut x = LABEL_WIDTH;
        let mut total = 0;
        for (value, colour) in segments {
            let width = bar_width * *value as f64 / max as f64;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"18\" fill=\"{colour}\"><title>{value}</title></rect>"
            );
            x += width;
            total += value;
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{total}</text>",
            x + 6.0,
            y + 13.5
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The tiers-by-school chart: the first [`SCHOOLS_DRAWN`] published schools of `ordered`,
/// each a bar of its students split by tier as shares (so bars in share order read as such),
/// with the share at high risk and the school's size after it, and a 0–100% axis below.
fn school_tier_chart(ordered: &[&SchoolSummary]) -> String {
    let drawn: Vec<(&SchoolSummary, &TierCounts, usize)> = ordered
        .iter()
        .filter_map(|school| {
            let (tiers, students) = published_tiers(school)?;
            Some((*school, tiers, students))
        })
        .take(SCHOOLS_DRAWN)
        .collect();
    let labels: Vec<Vec<String>> = drawn
        .iter()
        .map(|(school, _, _)| school_label_lines(school))
        .collect();
    let row_height = row_height(labels.iter().map(Vec::len).max().unwrap_or(1));
    let (bar_width, value_width, top, axis) = (420.0, 190.0, 6.0, 40.0);
    let width = LABEL_WIDTH + bar_width + value_width;
    let plot_bottom = top + row_height * drawn.len() as f64;
    let height = plot_bottom + axis;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"share of students per tier, by school\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, ((school, tiers, students), lines)) in drawn.iter().zip(&labels).enumerate() {
        let y = top + i as f64 * row_height + (row_height - 22.0) / 2.0;
        let _ = write!(svg, "<g data-school-id=\"{}\">", escape(&school.school_id));
        write_label(&mut svg, lines, &school_label(school), y + 11.0);
        let mut x = LABEL_WIDTH;
        for (count, colour, name) in [
            (tiers.high, HIGH, "high"),
            (tiers.medium, MEDIUM, "medium"),
            (tiers.low, LOW, "low"),
        ] {
            let w = bar_width * count as f64 / (*students).max(1) as f64;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"22\" fill=\"{colour}\"><title>{name}: {count} of {students}</title></rect>"
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\"><tspan font-weight=\"600\">{:.0}% high</tspan> of {students}</text></g>",
            LABEL_WIDTH + bar_width + 8.0,
            y + 15.5,
            100.0 * high_share(tiers, *students)
        );
    }
    // The share axis: gridlines every quarter, labelled in percent.
    for quarter in 0..=4 {
        let x = LABEL_WIDTH + bar_width * quarter as f64 / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#bbb\" stroke-width=\"0.5\"/><text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}%</text>",
            plot_bottom + 4.0,
            plot_bottom + 16.0,
            quarter * 25
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">share of the school's students in each tier</text></svg>",
        LABEL_WIDTH + bar_width / 2.0,
        plot_bottom + 34.0
    );
    svg
}

/// A round step for a count axis from 0 to `max`, at most five steps (1, 2 or 5 × 10ⁿ), and
/// the axis's top: the first step at or above `max`.
pub fn count_axis(max: usize) -> (usize, usize) {
    let max = max.max(1);
    let mut magnitude: usize = 1;
    loop {
        for multiple in [1, 2, 5] {
            let step = multiple * magnitude;
            if step.saturating_mul(5) >= max {
                return (step, max.div_ceil(step) * step);
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// The risk histogram with the tier thresholds marked: students (y, round ticks) per band of
/// predicted risk (x, 0%–100%), both axes titled.
fn histogram_svg(bins: &[usize; 20], config: &Config) -> String {
    let (width, height) = (720.0, 300.0);
    let (left, right, top, bottom) = (64.0, 24.0, 40.0, 52.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let base = top + plot_h;
    let (step, axis_top) = count_axis(bins.iter().copied().max().unwrap_or(0));
    let bar_w = plot_w / bins.len() as f64;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"risk distribution\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    // Count axis: gridlines and labels at each round step.
    for tick in (0..=axis_top).step_by(step) {
        let y = base - plot_h * tick as f64 / axis_top as f64;
        let _ = write!(
            svg,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{tick}</text>",
            left - 4.0,
            left + plot_w,
            left - 7.0,
            y + 4.0
        );
    }
    for (i, count) in bins.iter().enumerate() {
        let risk = i as f64 / 20.0;
        let colour = match Tier::of(risk, config) {
            Tier::High => HIGH,
            Tier::Medium => MEDIUM,
            Tier::Low => LOW,
        };
        let h = plot_h * *count as f64 / axis_top as f64;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{:.0}–{:.0}%: {count} students</title></rect>",
            left + i as f64 * bar_w + 1.0,
            base - h,
            bar_w - 2.0,
            100.0 * risk,
            100.0 * (risk + 0.05)
        );
    }
    // Thresholds: their labels above the plot on two rows, so close thresholds do not overlap;
    // a label near the right edge ends at its line instead of starting there.
    for (row, (threshold, name)) in [(config.tiers.medium, "medium"), (config.tiers.high, "high")]
        .into_iter()
        .enumerate()
    {
        let x = left + plot_w * threshold.clamp(0.0, 1.0);
        let (label_x, anchor) = if threshold > 0.8 {
            (x - 4.0, "end")
        } else {
            (x + 4.0, "start")
        };
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{base:.1}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/><text x=\"{label_x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"{anchor}\">{name} ≥ {:.0}%</text>",
            top - 26.0 + 13.0 * row as f64,
            top - 16.0 + 13.0 * row as f64,
            100.0 * threshold
        );
    }
    // Risk axis: a tick and label every 10%.
    for tenth in 0..=10 {
        let x = left + plot_w * tenth as f64 / 10.0;
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{base:.1}\" y2=\"{:.1}\" stroke=\"#333\"/><text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}%</text>",
            base + 4.0,
            base + 17.0,
            tenth * 10
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{base:.1}\" stroke=\"#333\"/><line x1=\"{left}\" x2=\"{:.1}\" y1=\"{base:.1}\" y2=\"{base:.1}\" stroke=\"#333\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">predicted risk</text><text x=\"16\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">students</text></svg>",
        left + plot_w,
        left + plot_w / 2.0,
        height - 10.0,
        top + plot_h / 2.0,
        top + plot_h / 2.0
    );
    svg
}

/// Observed rate against mean predicted risk per bin, with the diagonal of perfect
/// calibration; dot area follows the number of students. Both axes run 0%–100% with a
/// labelled tick every quarter.
fn calibration_svg(bins: &[CalibrationBin]) -> String {
    let (size, left, top) = (360.0, 60.0, 16.0);
    let plot = size - left - top;
    let base = top + plot;
    let max_n = bins.iter().map(|b| b.students).max().unwrap_or(1).max(1) as f64;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"calibration\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {size} {size}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for quarter in 0..=4 {
        let offset = plot * quarter as f64 / 4.0;
        let (x, y) = (left + offset, base - offset);
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#e3e3e3\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/><text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{pct}%</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{pct}%</text>",
            base + 4.0,
            left - 4.0,
            left + plot,
            base + 15.0,
            left - 6.0,
            y + 3.5,
            pct = quarter * 25
        );
    }
    let _ = write!(
        svg,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{plot}\" height=\"{plot}\" fill=\"none\" stroke=\"#333\"/><line x1=\"{left}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{top}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>",
        left + plot
    );
    for bin in bins.iter().filter(|b| b.students > 0) {
        let x = left + plot * bin.mean_predicted;
        let y = base - plot * bin.observed_rate;
        let r = 3.0 + 9.0 * (bin.students as f64 / max_n).sqrt();
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"#2c7fb8\" fill-opacity=\"0.7\"><title>predicted {:.2}, observed {:.2}, {} students</title></circle>",
            bin.mean_predicted, bin.observed_rate, bin.students
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">mean predicted risk</text><text x=\"14\" y=\"{:.1}\" font-size=\"11\" transform=\"rotate(-90 14 {:.1})\" text-anchor=\"middle\">observed share at risk</text></svg>",
        left + plot / 2.0,
        size - 6.0,
        top + plot / 2.0,
        top + plot / 2.0
    );
    svg
}

/// The tiers-by-school section: the chart of the [`SCHOOLS_DRAWN`] schools with the largest
/// share at high risk, a caption saying what is drawn and in which order, and a table of every
/// school in that order. Schools too small to publish (summary.json suppresses them) are not
/// drawn and come last in the table with their counts hidden.
fn tiers_by_school(
    schools: &[SchoolSummary],
    candidates: &BTreeMap<String, usize>,
    config: &Config,
) -> String {
    let ordered = schools_by_high_share(schools);
    let published = ordered
        .iter()
        .filter(|s| published_tiers(s).is_some())
        .count();
    let suppressed = ordered.len() - published;
    let drawn = published.min(SCHOOLS_DRAWN);
    let mut section = String::from("<h2>Tiers by school</h2>");
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let _ = write!(
        section,
        "<p class=\"muted\">Drawn: the {drawn} of {} with the largest share of students at high risk, sorted by that share, highest first (ties by school id); each bar is one school's students split by tier. The table lists all {} in the same order",
        plural(ordered.len(), "school", "schools"),
        plural(ordered.len(), "school", "schools"),
    );
    if ordered.len() > SCHOOLS_DRAWN {
        section.push_str(" (scroll it for the rest)");
    }
    if suppressed > 0 {
        let _ = write!(
            section,
            "; {} under {} students {} not drawn and {} listed last with {} counts hidden",
            plural(suppressed, "school", "schools"),
            config.equity.min_group_size,
            if suppressed == 1 { "is" } else { "are" },
            if suppressed == 1 { "is" } else { "are" },
            if suppressed == 1 { "its" } else { "their" },
        );
    }
    section.push_str(".</p><p class=\"legend\">");
    for (colour, name) in [(HIGH, "high"), (MEDIUM, "medium"), (LOW, "low")] {
        let _ = write!(section, "<span style=\"background:{colour}\"></span>{name}");
    }
    section.push_str("</p>");
    if drawn > 0 {
        section.push_str(&school_tier_chart(&ordered));
    }
    section.push_str("<div class=\"scroll\"><table class=\"text schools\"><thead><tr><th>#</th><th>school</th><th>students</th><th>high</th><th>share high</th><th>medium</th><th>low</th><th>candidates</th></tr></thead><tbody>");
    let small = format!("&lt; {}", config.equity.min_group_size);
    for (rank, school) in ordered.iter().enumerate() {
        let cells: Vec<String> = match published_tiers(school) {
            Some((t, n)) => {
                let candidates = candidates.get(&school.school_id).copied().unwrap_or(0);
                vec![
                    (rank + 1).to_string(),
                    escape(&school_label(school)),
                    n.to_string(),
                    t.high.to_string(),
                    format!("{:.1}%", 100.0 * high_share(t, n)),
                    t.medium.to_string(),
                    t.low.to_string(),
                    candidates.to_string(),
                ]
            }
            None => [
                vec!["–".to_string(), escape(&school_label(school))],
                vec![small.clone(); 6],
            ]
            .concat(),
        };
        let _ = write!(
            section,
            "<tr data-school-id=\"{}\"><td>{}</td></tr>",
            escape(&school.school_id),
            cells.join("</td><td>")
        );
    }
    section.push_str("</tbody></table></div>");
    section
}

/// The whole page.
/// The follow-up section: per school, the students needing attention, the share of them with
/// a current support, the unserved, and this year's credit-recovery completion (counts under
/// `equity.min_group_size` shown as "–", as in summary.json).
fn supports_by_school(follow: &crate::outputs::feed::FollowUpSummary, config: &Config) -> String {
    let mut section = format!(
        "<h2>Supports and recovery by school</h2><p class=\"muted\">Needing attention: at medium or high risk, or with something to recover. Served: with a current support (interventions). Unserved: needing attention for more than {} school days with no support and no decision. Recovery: this school year's credit-recovery courses, completed ÷ started. Counts under {} are not shown. {} students district-wide are unserved; {} have a counselor's decision.</p>",
        config.follow_up.unserved_school_days,
        config.equity.min_group_size,
        follow.unserved,
        follow.with_decision
    );
    if !follow.supports_known {
        section.push_str("<p class=\"muted\">The snapshot has no interventions.csv: supports and recovery courses are unknown (–), and every student needing attention for long enough is unserved.</p>");
    }
    let count = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_else(|| "–".into());
    let percent = |v: Option<f64>| {
        v.map(|v| format!("{:.0}%", 100.0 * v))
            .unwrap_or_else(|| "–".into())
    };
    section.push_str("<div class=\"scroll\"><table class=\"schools\"><tr><th>school</th><th>needing attention</th><th>served</th><th>unserved</th><th>recovery courses completed</th><th>credits recovered</th></tr>");
    for school in &follow.schools {
        let _ = write!(
            section,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} of {} ({})</td><td>{}</td></tr>",
            escape(&school.school_id),
            count(school.needing_attention),
            percent(school.served_share),
            count(school.unserved),
            count(school.recovery_courses_completed),
            count(school.recovery_courses_started),
            percent(school.recovery_completion),
            school
                .credits_recovered
                .map(|c| format!("{c:.1}"))
                .unwrap_or_else(|| "–".into())
        );
    }
    section.push_str("</table></div>");
    section
}

pub fn html(input: &ReportInput) -> String {
    let s = input.summary;
    let config = input.config;
    let candidates: usize = input.candidates.values().sum();
    let rejected: u64 = input.quality.files.iter().map(|f| f.rejected()).sum();
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ews report as of {as_of}</title><style>\
         body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}}\
         h1{{margin-bottom:.2rem}} h2{{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}}\
         .cards{{display:flex;gap:1rem;flex-wrap:wrap}} .card{{border:1px solid #ddd;border-radius:8px;padding:.8rem 1.2rem;min-width:120px}}\
         .card b{{display:block;font-size:1.8rem}} table{{border-collapse:collapse;margin:.5rem 0}}\
         td,th{{border:1px solid #ddd;padding:.3rem .6rem;text-align:right}} th{{background:#f5f5f5}} td:first-child,th:first-child{{text-align:left}}\
         .text td:nth-child(-n+2),.text th:nth-child(-n+2){{text-align:left}} .legend span{{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}}\
         .scroll{{max-height:36rem;overflow-y:auto;display:inline-block}} .scroll th{{position:sticky;top:0}} .schools{{font-size:.9rem}} .schools th{{white-space:nowrap}} @media print{{.scroll{{max-height:none;overflow:visible}}}} .muted{{color:#666}} .flag{{color:{HIGH};font-weight:600}}\
         </style></head><body>",
        as_of = s.as_of
    );
    let _ = write!(
        page,
        "<h1>Early-warning report</h1><p class=\"muted\">As of {} · {} students scored · ews {}</p>",
        s.as_of,
        s.students,
        env!("CARGO_PKG_VERSION")
    );
    let _ = write!(
        page,
        "<div class=\"cards\"><div class=\"card\"><b>{}</b>students</div><div class=\"card\" style=\"border-color:{HIGH}\"><b>{}</b>high risk (≥ {})</div><div class=\"card\" style=\"border-color:{MEDIUM}\"><b>{}</b>medium risk (≥ {})</div><div class=\"card\"><b>{}</b>low risk</div><div class=\"card\"><b>{candidates}</b>credit-recovery candidates</div><div class=\"card\"><b>{rejected}</b>input rows rejected</div></div>",
        s.students, s.tiers.high, config.tiers.high, s.tiers.medium, config.tiers.medium, s.tiers.low
    );

    // Tiers by school.
    page.push_str(&tiers_by_school(&s.schools, input.candidates, config));

    // Supports and recovery by school.
    if let Some(follow) = &s.follow_up {
        page.push_str(&supports_by_school(follow, config));
    }

    // Risk distribution.
    page.push_str("<h2>Risk distribution</h2><p class=\"muted\">Students per band of 5 points of predicted risk; dashed lines are the tier thresholds.</p>");
    page.push_str(&histogram_svg(&risk_histogram(input.scored), config));

    // Reasons.
    page.push_str("<h2>Most common reasons</h2><p class=\"muted\">How often each feature is among the top three reasons of the students at medium or high risk.</p>");
    let reasons = common_reasons(input.scored);
    if reasons.is_empty() {
        page.push_str("<p>No student is at medium or high risk.</p>");
    } else {
        let rows: Vec<(String, Vec<(usize, &str)>)> = reasons
            .iter()
            .map(|(feature, n)| (feature.replace('_', " "), vec![(*n, "#2c7fb8")]))
            .collect();
        page.push_str(&bar_chart(&rows, "most common reasons"));
    }

    // Changes.
    page.push_str("<h2>Changes since the last run</h2>");
    match input.changes {
        Some(c) => {
            let _ = write!(
                page,
                "<p class=\"muted\">Compared with the run as of {}.</p><table><tr><th>change</th><th>students</th></tr><tr><td>new credit-recovery candidates</td><td>{}</td></tr><tr><td>no longer candidates</td><td>{}</td></tr><tr><td>tier up</td><td>{}</td></tr><tr><td>tier down</td><td>{}</td></tr><tr><td>left the district</td><td>{}</td></tr></table>",
                c.previous_as_of, c.new_candidate, c.no_longer_candidate, c.tier_up, c.tier_down, c.left_the_district
            );
        }
        None => page.push_str("<p>No earlier run to compare with.</p>"),
    }

    // Data quality.
    page.push_str("<h2>Data quality</h2><table><tr><th>file</th><th>rows read</th><th>rejected</th><th>share</th><th>gate limit</th></tr>");
    for f in &input.quality.files {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}%</td><td>{:.2}%</td></tr>",
            escape(f.file),
            f.rows_read,
            f.rejected(),
            100.0 * f.rejected_share(),
            100.0 * config.quality.max_rejected_share(f.file)
        );
    }
    page.push_str("</table><p class=\"muted\">Every rejected row is listed in rejects.csv with its line and reason.</p>");

    // Calibration, when the outcomes of the snapshot are known.
    if let Some(bins) = input.calibration {
        page.push_str("<h2>Calibration</h2><p class=\"muted\">The outcomes of this snapshot are known: each dot is a band of predicted risk, placed at its students' mean predicted risk and the share of them actually at risk. Dots on the dashed diagonal mean the risk scores are honest probabilities.</p>");
        page.push_str(&calibration_svg(bins));
    }

    // Equity.
    let _ = write!(
        page,
        "<h2>Equity snapshot</h2><p class=\"muted\">Share of each group flagged at risk (the medium or high tier), with its 95% interval, and its ratio to the largest group of the column, with a 95% bootstrap interval. A ratio is flagged only when its whole interval lies outside [{}, {}]: a gap the data cannot tell from chance is not. Groups under {} students are suppressed. Precision and the share of at-risk students missed, by group, once outcomes are known, are in equity.csv and <code>ews evaluate</code>'s report.</p><table class=\"text\"><tr><th>column</th><th>group</th><th>students</th><th>flagged at risk (95% interval)</th><th>ratio (95% interval)</th><th>flagged</th></tr>",
        crate::model::equity::RATIO_RANGE.0,
        crate::model::equity::RATIO_RANGE.1,
        config.equity.min_group_size
    );
    let interval = |i: Option<crate::model::equity::Interval>, percent: bool| {
        i.map(|i| {
            if percent {
                format!(" ({:.0}–{:.0}%)", i.low * 100.0, i.high * 100.0)
            } else {
                format!(" ({:.2}–{:.2})", i.low, i.high)
            }
        })
        .unwrap_or_default()
    };
    for g in input.equity {
        let flagged = !g.flagged.is_empty();
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td></tr>",
            escape(&g.attribute),
            escape(&g.group),
            g.students
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("&lt; {}", config.equity.min_group_size)),
            g.rates
                .selection_rate
                .map(|r| format!(
                    "{:.0}%{}",
                    r * 100.0,
                    interval(g.intervals.get("selection_rate"), true)
                ))
                .unwrap_or_else(|| "–".into()),
            if flagged { " class=\"flag\"" } else { "" },
            g.ratios
                .selection_rate
                .map(|r| format!(
                    "{r:.2}{}",
                    interval(g.ratio_intervals.get("selection_rate"), false)
                ))
                .unwrap_or_else(|| "–".into()),
            escape(&g.flagged.join(", ").replace('_', " "))
        );
    }
    page.push_str("</table></body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_data_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    /// A long name of a campus, as districts name them.
    const LONG_NAME: &str =
        "Dr. Martin Luther King, Jr. Memorial High School of Science and Technology (Campus 3)";

    /// 25 schools of 100 students: school i has (7i mod 25) + 1 at high risk, so shares and
    /// ids are in different orders; 001 has 1,000 students and 8 at high risk, the most of
    /// nine schools by count but the smallest share; 013 is suppressed; 007 has a long name.
    fn district() -> Summary {
        let schools = (1..=25)
            .map(|i| {
                let students = if i == 1 { 1000 } else { 100 };
                let high = (7 * i) % 25 + 1;
                let published = i != 13;
                SchoolSummary {
                    school_id: format!("{i:03}"),
                    school_name: Some(if i == 7 {
                        LONG_NAME.to_string()
                    } else {
                        format!("School {i}")
                    }),
                    students: published.then_some(students),
                    tiers: published.then_some(TierCounts {
                        high,
                        medium: 10,
                        low: students - high - 10,
                    }),
                    suppressed: !published,
                    grades: vec![],
                }
            })
            .collect();
        Summary {
            schema_version: 1,
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 3, 13).unwrap(),
            students: 3400,
            tiers: TierCounts::default(),
            schools,
            changes: None,
            student_ids: None,
            recovery_seats: vec![],
            follow_up: None,
        }
    }

    fn page_of(summary: &Summary) -> String {
        let config = Config::default();
        let quality = QualityReport::default();
        let candidates = BTreeMap::from([("007".to_string(), 4)]);
        html(&ReportInput {
            summary,
            scored: &[],
            changes: None,
            quality: &quality,
            equity: &[],
            candidates: &candidates,
            calibration: None,
            config: &config,
        })
    }

    /// The school ids of `data-school-id` attributes in `text`, in order.
    fn school_ids(text: &str) -> Vec<String> {
        text.split("data-school-id=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_string)
            .collect()
    }

    /// The published schools by share at high risk, computed independently (all 100 students
    /// but 001, whose 8 of 1,000 is the smallest share), then 013.
    fn expected_order() -> Vec<String> {
        let mut published: Vec<(usize, usize)> = (2..=25)
            .filter(|&i| i != 13)
            .map(|i| ((7 * i) % 25 + 1, i))
            .collect();
        published.sort_by_key(|(high, _)| std::cmp::Reverse(*high));
        let mut order: Vec<String> = published.iter().map(|(_, i)| format!("{i:03}")).collect();
        order.push("001".into());
        order.push("013".into());
        order
    }

    #[test]
    fn the_chart_draws_the_twenty_schools_with_the_largest_share_at_high_risk() {
        let page = page_of(&district());
        let section =
            &page[page.find("<h2>Tiers by school").unwrap()..page.find("</table>").unwrap()];
        let chart = &section[section.find("<svg").unwrap()..section.find("</svg>").unwrap()];
        let expected = expected_order();
        assert_eq!(school_ids(chart), expected[..20].to_vec());
        // 001 leads by count (8 of 1,000) but not by share: it is not drawn.
        assert!(!school_ids(chart).contains(&"001".to_string()));
        assert!(section.contains("Drawn: the 20 of 25 schools with the largest share of students at high risk, sorted by that share, highest first (ties by school id)"));
        assert!(section.contains("1 school under 10 students is not drawn and is listed last"));
        // The top school, 007: 25 of 100 at high risk, its bar a quarter of the 420px.
        assert!(chart.contains("25% high</tspan> of 100"));
        assert!(chart.contains("width=\"105.0\" height=\"22\" fill=\"#c0392b\""));
    }

    #[test]
    fn the_table_lists_every_school_in_the_chart_order_suppressed_last() {
        let page = page_of(&district());
        let table = &page[page.find("<table class=\"text schools\"").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        assert_eq!(school_ids(table), expected_order());
        // The suppressed school's counts stay hidden, its name does not.
        let last = &table[table.rfind("<tr").unwrap()..];
        assert!(last.contains("School 13 (013)"));
        assert_eq!(last.matches("&lt; 10").count(), 6);
        // The long name is whole in the table, with its candidates.
        assert!(table.contains(&format!(
            "<td>{} (007)</td><td>100</td><td>25</td><td>25.0%</td><td>10</td><td>65</td><td>4</td>",
            escape(LONG_NAME)
        )));
    }

    #[test]
    fn ties_in_share_go_by_school_id_and_suppressed_schools_come_last() {
        let school = |id: &str, tiers: Option<(usize, usize)>| SchoolSummary {
            school_id: id.into(),
            school_name: None,
            students: tiers.map(|(_, n)| n),
            tiers: tiers.map(|(high, n)| TierCounts {
                high,
                medium: 0,
                low: n - high,
            }),
            suppressed: tiers.is_none(),
            grades: vec![],
        };
        // 10 of 50 and 20 of 100 are the same 20%.
        let schools = [
            school("A", None),
            school("D", Some((20, 100))),
            school("C", Some((10, 50))),
            school("B", Some((5, 100))),
        ];
        let ids: Vec<&str> = schools_by_high_share(&schools)
            .iter()
            .map(|s| s.school_id.as_str())
            .collect();
        assert_eq!(ids, ["C", "D", "B", "A"]);
    }

    #[test]
    fn a_long_name_is_shortened_after_a_whole_word_and_keeps_its_id() {
        let summary = district();
        let lines = school_label_lines(&summary.schools[6]);
        assert_eq!(
            lines,
            [
                "Dr. Martin Luther King, Jr. Memorial",
                "High School of Science… (007)"
            ]
        );
        // Every word shown is a whole word of the name.
        let words: Vec<&str> = LONG_NAME.split_whitespace().collect();
        for word in lines.iter().flat_map(|l| l.split_whitespace()) {
            let word = word.trim_end_matches('…');
            assert!(word == "(007)" || words.contains(&word), "{word}");
        }
        // A name that fits on two lines is wrapped whole; a short one takes one line.
        let fits = |name: &str| SchoolSummary {
            school_id: "250".into(),
            school_name: Some(name.into()),
            students: None,
            tiers: None,
            suppressed: true,
            grades: vec![],
        };
        assert_eq!(
            school_label_lines(&fits("Dr. Martin Luther King, Jr. High School (Campus 21)")),
            [
                "Dr. Martin Luther King, Jr. High School",
                "(Campus 21) (250)"
            ]
        );
        assert_eq!(
            school_label_lines(&fits("Lincoln High")),
            ["Lincoln High (250)"]
        );
        // A short bracketed group is not broken across lines.
        assert_eq!(
            school_label_lines(&fits("Sandra Day O'Connor High School (Campus 5)")),
            ["Sandra Day O'Connor High School", "(Campus 5) (250)"]
        );
        // A single word longer than a line is kept whole, on its own line, and squeezed.
        let word = "Oberstufenkollegiumsgymnasiumsverwaltungsschule";
        assert_eq!(school_label_lines(&fits(word)), [word, "(250)"]);
        let mut svg = String::new();
        write_label(&mut svg, &school_label_lines(&fits(word)), word, 20.0);
        assert!(svg.contains(&format!("lengthAdjust=\"spacingAndGlyphs\">{word}</text>")));
        // In the page, the chart has the two lines of 007's label.
        let page = page_of(&summary);
        assert!(page.contains(">Dr. Martin Luther King, Jr. Memorial</text>"));
        assert!(page.contains(">High School of Science… (007)</text>"));
    }

    #[test]
    fn the_page_has_no_script_and_fetches_nothing() {
        let mut summary = district();
        summary.schools[1].school_name = Some("<script>alert('x')</script> & Co".into());
        let page = page_of(&summary);
        assert!(!page.contains("<script"));
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co (002)"));
        // The only URL is the SVG namespace, a name that is never fetched.
        let without_namespace = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for forbidden in [
            "http:", "https:", "<link", "<img", "src=", "url(", "@import",
        ] {
            assert!(!without_namespace.contains(forbidden), "{forbidden}");
        }
    }

    #[test]
    fn count_axes_take_round_steps() {
        assert_eq!(count_axis(0), (1, 1));
        assert_eq!(count_axis(4), (1, 4));
        assert_eq!(count_axis(7), (2, 8));
        assert_eq!(count_axis(100), (20, 100));
        assert_eq!(count_axis(101), (50, 150));
        assert_eq!(count_axis(9231), (2000, 10000));
    }

    #[test]
    fn the_histogram_axes_are_labelled() {
        let mut bins = [0usize; 20];
        bins[3] = 9231;
        bins[12] = 40;
        let svg = histogram_svg(&bins, &Config::default());
        for label in [
            ">predicted risk</text>",
            ">students</text>",
            ">0%</text>",
            ">50%</text>",
            ">100%</text>",
            ">0</text>",
            ">2000</text>",
            ">10000</text>",
            ">medium ≥ 25%</text>",
        ] {
            assert!(svg.contains(label), "{label}");
        }
        // The tallest bar reaches 9231 / 10000 of the 208px plot.
        assert!(svg.contains("height=\"192.0\" fill=\"#7f8c8d\""));
        let calibration = calibration_svg(&[]);
        for label in [
            ">mean predicted risk</text>",
            ">observed share at risk</text>",
            ">75%</text>",
        ] {
            assert!(calibration.contains(label), "{label}");
        }
    }

    #[test]
    fn risks_fall_in_twenty_bins() {
        let config = Config::default();
        let student = |risk: f64| ScoredStudent {
            row: 0,
            risk,
            tier: Tier::of(risk, &config),
            rank_in_district: 1,
            rank_in_school: 1,
            reasons: vec![],
            reason_features: vec!["gpa"],
        };
        let scored = [student(0.0), student(0.049), student(0.05), student(1.0)];
        let bins = risk_histogram(&scored);
        assert_eq!((bins[0], bins[1], bins[19]), (2, 1, 1));
        // Only 1.0 is flagged at risk (≥ 0.25, the medium tier): one gpa reason.
        assert_eq!(common_reasons(&scored), vec![("gpa", 1)]);
    }
}
