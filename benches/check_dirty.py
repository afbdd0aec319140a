#!/usr/bin/env python3
"""Checks that rejects.csv accounts for every dirty row that gen_district.py --dirty injected.

    python3 check_dirty.py SNAPSHOT RUN_DIR

SNAPSHOT/_manifest.json holds the generator's counts of injected rows per file and kind;
RUN_DIR/rejects.csv is what `ews score` reported. The kinds map to ews reasons:
bad_date → unparseable date, a date outside the school year, or an implausible birth date
(a year typo such as 2091),
duplicate → duplicate student_id / student-day, unknown_id → student not in students.csv,
empty_id → missing student_id, earned_gt_attempted → credits_earned greater than attempted.
Prints one line per file and kind and exits 1 on any shortfall.
"""
import csv
import json
import sys
from collections import Counter

KIND_REASONS = {
    "bad_date": (
        "unparseable date",
        "date outside the school year",
        "date after the school year",
        "implausible date",
    ),
    "duplicate": ("duplicate",),
    "unknown_id": ("student not in students.csv",),
    "empty_id": ("missing value",),
    "earned_gt_attempted": ("credits_earned greater than credits_attempted",),
}


def main() -> int:
    snapshot, run_dir = sys.argv[1], sys.argv[2]
    injected = json.load(open(f"{snapshot}/_manifest.json"))["dirty"]
    reported = Counter()
    lines = set()
    with open(f"{run_dir}/rejects.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lines.add((row["file"], row["line"]))
            for kind, prefixes in KIND_REASONS.items():
                if row["reason"].startswith(prefixes):
                    reported[(row["file"], kind)] += 1
    short = 0
    for file, kinds in sorted(injected.items()):
        for kind, n in sorted(kinds.items()):
            got = reported[(file, kind)]
            status = "ok" if got >= n else "SHORT"
            short += got < n
            print(f"{file:<16} {kind:<20} injected {n:>6}  reported {got:>6}  {status}")
    print(f"{len(lines)} distinct (file, line) pairs in rejects.csv")
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
