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
use crate::outputs::feed::Summary;

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

/// The features most often among the reasons of referred students (risk ≥ tiers.medium),
/// most common first.
pub fn common_reasons(scored: &[ScoredStudent], config: &Config) -> Vec<(&'static str, usize)> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for s in scored.iter().filter(|s| s.risk >= config.tiers.medium) {
        for feature in &s.reason_features {
            *counts.entry(feature).or_insert(0) += 1;
        }
    }
    let mut list: Vec<(&'static str, usize)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    list
}

/// A horizontal bar chart: one labelled bar per row, segments of (value, colour).
fn bar_chart(rows: &[(String, Vec<(usize, &str)>)], title: &str) -> String {
    let max: usize = rows
        .iter()
        .map(|(_, segments)| segments.iter().map(|s| s.0).sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (label_width, bar_width, row_height) = (340.0, 420.0, 26.0);
    let height = row_height * rows.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title),
        label_width + bar_width + 60.0,
        label_width + bar_width + 60.0
    );
    for (i, (label, segments)) in rows.iter().enumerate() {
        let y = i as f64 * row_height + 5.0;
        // Long labels are shortened to fit; the table below the chart has them whole.
        let shown: String = if label.chars().count() > 44 {
            label.chars().take(43).chain(std::iter::once('…')).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"13\"><title>{}</title>{}</text>",
            label_width - 8.0,
            y + 15.0,
            escape(label),
            escape(&shown)
        );
        let mut x = label_width;
        let mut total = 0;
        for (value, colour) in segments {
            let width = bar_width * *value as f64 / max as f64;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{width:.1}\" height=\"{}\" fill=\"{colour}\"><title>{value}</title></rect>",
                row_height - 8.0
            );
            x += width;
            total += value;
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{total}</text>",
            x + 6.0,
            y + 15.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The risk histogram with the tier thresholds marked.
fn histogram_svg(bins: &[usize; 20], config: &Config) -> String {
    let (width, height, left, bottom) = (660.0, 240.0, 40.0, 30.0);
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot_w = width - left - 30.0;
    let plot_h = height - bottom - 10.0;
    let bar_w = plot_w / bins.len() as f64;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"risk distribution\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, count) in bins.iter().enumerate() {
        let risk = i as f64 / 20.0;
        let colour = match Tier::of(risk, config) {
            Tier::High => HIGH,
            Tier::Medium => MEDIUM,
            Tier::Low => LOW,
        };
        let h = plot_h * *count as f64 / max;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{:.2}–{:.2}: {count}</title></rect>",
            left + i as f64 * bar_w + 1.0,
            10.0 + plot_h - h,
            bar_w - 2.0,
            risk,
            risk + 0.05
        );
    }
    for (threshold, name) in [(config.tiers.medium, "medium"), (config.tiers.high, "high")] {
        let x = left + plot_w * threshold;
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"10\" y2=\"{:.1}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/><text x=\"{:.1}\" y=\"22\" font-size=\"11\">{name} ≥ {threshold}</text>",
            10.0 + plot_h,
            x + 4.0
        );
    }
    for tick in 0..=4 {
        let value = tick as f64 * 0.25;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{value:.2}</text>",
            left + plot_w * value,
            height - 10.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"4\" y=\"16\" font-size=\"11\">{}</text><line x1=\"{left}\" x2=\"{left}\" y1=\"10\" y2=\"{:.1}\" stroke=\"#333\"/><line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/></svg>",
        max as usize,
        10.0 + plot_h,
        left + plot_w,
        10.0 + plot_h,
        10.0 + plot_h
    );
    svg
}

/// Observed rate against mean predicted risk per bin, with the diagonal of perfect
/// calibration; dot area follows the number of students.
fn calibration_svg(bins: &[CalibrationBin]) -> String {
    let (size, margin) = (320.0, 40.0);
    let plot = size - 2.0 * margin;
    let max_n = bins.iter().map(|b| b.students).max().unwrap_or(1).max(1) as f64;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"calibration\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {size} {size}\" xmlns=\"http://www.w3.org/2000/svg\"><rect x=\"{margin}\" y=\"{margin}\" width=\"{plot}\" height=\"{plot}\" fill=\"none\" stroke=\"#333\"/><line x1=\"{margin}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{margin}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>",
        margin + plot,
        margin + plot
    );
    for bin in bins.iter().filter(|b| b.students > 0) {
        let x = margin + plot * bin.mean_predicted;
        let y = margin + plot * (1.0 - bin.observed_rate);
        let r = 3.0 + 9.0 * (bin.students as f64 / max_n).sqrt();
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"#2c7fb8\" fill-opacity=\"0.7\"><title>predicted {:.2}, observed {:.2}, {} students</title></circle>",
            bin.mean_predicted, bin.observed_rate, bin.students
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">mean predicted risk</text><text x=\"12\" y=\"{:.1}\" font-size=\"11\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">observed rate</text><text x=\"{margin}\" y=\"{:.1}\" font-size=\"10\">0</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">1</text></svg>",
        margin + plot / 2.0,
        size - 8.0,
        margin + plot / 2.0,
        margin + plot / 2.0,
        margin + plot + 14.0,
        margin + plot - 6.0,
        margin + plot + 14.0
    );
    svg
}

/// The whole page.
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
         .text td:nth-child(-n+2),.text th:nth-child(-n+2){{text-align:left}} .legend span{{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}} .muted{{color:#666}} .flag{{color:{HIGH};font-weight:600}}\
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
    page.push_str("<h2>Tiers by school</h2><p class=\"legend\">");
    for (colour, name) in [(HIGH, "high"), (MEDIUM, "medium"), (LOW, "low")] {
        let _ = write!(page, "<span style=\"background:{colour}\"></span>{name}");
    }
    page.push_str("</p>");
    let label = |school: &crate::outputs::feed::SchoolSummary| match &school.school_name {
        Some(name) => format!("{name} ({})", school.school_id),
        None => school.school_id.clone(),
    };
    // Schools too small to publish (summary.json suppresses them) are left out of the chart.
    let rows: Vec<(String, Vec<(usize, &str)>)> = s
        .schools
        .iter()
        .filter_map(|school| {
            let tiers = school.tiers.as_ref()?;
            Some((
                label(school),
                vec![(tiers.high, HIGH), (tiers.medium, MEDIUM), (tiers.low, LOW)],
            ))
        })
        .collect();
    page.push_str(&bar_chart(&rows, "students per tier by school"));
    page.push_str("<table><tr><th>school</th><th>students</th><th>high</th><th>medium</th><th>low</th><th>candidates</th></tr>");
    let small = format!("&lt; {}", config.equity.min_group_size);
    for school in &s.schools {
        let cells: Vec<String> = match (&school.tiers, school.students) {
            (Some(t), Some(n)) => {
                let candidates = input
                    .candidates
                    .get(&school.school_id)
                    .copied()
                    .unwrap_or(0);
                [n, t.high, t.medium, t.low, candidates]
                    .iter()
                    .map(|v| v.to_string())
                    .collect()
            }
            _ => vec![small.clone(); 5],
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&label(school)),
            cells.join("</td><td>")
        );
    }
    page.push_str("</table>");

    // Risk distribution.
    page.push_str("<h2>Risk distribution</h2><p class=\"muted\">Students per band of 0.05 of predicted risk; dashed lines are the tier thresholds.</p>");
    page.push_str(&histogram_svg(&risk_histogram(input.scored), config));

    // Reasons.
    page.push_str("<h2>Most common reasons</h2><p class=\"muted\">How often each feature is among the top three reasons of the students at medium or high risk.</p>");
    let reasons = common_reasons(input.scored, config);
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
        "<h2>Equity snapshot</h2><p class=\"muted\">Share of each group referred (risk ≥ {}), and its ratio to the largest group; outside [0.8, 1.25] is flagged. Groups under {} students are suppressed. Precision and error rates by group, once outcomes are known, are in equity.csv and <code>ews evaluate</code>'s report.</p><table class=\"text\"><tr><th>column</th><th>group</th><th>students</th><th>referred</th><th>ratio</th></tr>",
        config.tiers.medium, config.equity.min_group_size
    );
    for g in input.equity {
        let flagged = !g.flagged.is_empty();
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td></tr>",
            escape(&g.attribute),
            escape(&g.group),
            g.students
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("&lt; {}", config.equity.min_group_size)),
            g.rates
                .selection_rate
                .map(|r| format!("{:.0}%", r * 100.0))
                .unwrap_or_else(|| "–".into()),
            if flagged { " class=\"flag\"" } else { "" },
            g.ratios
                .selection_rate
                .map(|r| format!("{r:.2}"))
                .unwrap_or_else(|| "–".into())
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

    #[test]
    fn risks_fall_in_twenty_bins() {
        let student = |risk: f64| ScoredStudent {
            row: 0,
            risk,
            tier: Tier::Low,
            rank_in_district: 1,
            rank_in_school: 1,
            reasons: vec![],
            reason_features: vec!["gpa"],
        };
        let scored = [student(0.0), student(0.049), student(0.05), student(1.0)];
        let bins = risk_histogram(&scored);
        assert_eq!((bins[0], bins[1], bins[19]), (2, 1, 1));
        let config = Config::default();
        // Only 1.0 is referred (≥ 0.25): one gpa reason.
        assert_eq!(common_reasons(&scored, &config), vec![("gpa", 1)]);
    }
}
