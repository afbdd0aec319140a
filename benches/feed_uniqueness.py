#!/usr/bin/env python3
"""How many students of a dashboard feed (students.csv of a run) are unique on what someone who
knows them could see: school, grade, cohort and, when the feed has them, the demographic
columns. A student unique on these is singled out by the feed even under pseudonyms.

    python3 benches/feed_uniqueness.py reports/2026-03-13/students.csv

Standard library only. Prints, per set of quasi-identifiers, the students unique on it (k = 1)
and those in groups smaller than 5 and 10 (k-anonymity).
"""

import collections
import csv
import sys

DEMOGRAPHICS = ["gender", "race_ethnicity", "ell", "sped", "econ_disadvantaged"]
SETS = {
    "school, grade, demographics": ["school_id", "grade_level"] + DEMOGRAPHICS,
    "school, grade, cohort, counselor, demographics": [
        "school_id",
        "grade_level",
        "cohort_year",
        "counselor",
    ]
    + DEMOGRAPHICS,
    "school, grade": ["school_id", "grade_level"],
    "school, grade, cohort, counselor": [
        "school_id",
        "grade_level",
        "cohort_year",
        "counselor",
    ],
}


def main(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    print(f"{path}: {len(rows)} students")
    for name, columns in SETS.items():
        # A column the feed leaves empty tells nothing.
        known = [c for c in columns if any(r.get(c) for r in rows)]
        sizes = collections.Counter(tuple(r.get(c, "") for c in known) for r in rows)
        group = [sizes[tuple(r.get(c, "") for c in known)] for r in rows]
        unique = sum(1 for g in group if g == 1)
        under5 = sum(1 for g in group if g < 5)
        under10 = sum(1 for g in group if g < 10)
        n = max(len(rows), 1)
        print(
            f"  {name:<48} columns with values {len(known)}/{len(columns)}: "
            f"unique {unique} ({100 * unique / n:.1f}%), "
            f"in groups < 5: {under5} ({100 * under5 / n:.1f}%), "
            f"< 10: {under10} ({100 * under10 / n:.1f}%)"
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        main(sys.argv[1])
    except BrokenPipeError:
        # `… | head`: the reader has what it wanted.
        sys.stderr.close()
