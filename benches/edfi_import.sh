#!/usr/bin/env bash
# Speed, memory and round trip of `ews import edfi`: a generated district (`--shape sis`,
# exception-only attendance) is written as an Ed-Fi 5.2 interchange by edfi_interchange.py
# (timed), imported twice with /usr/bin/time (the second run is the one reported: warm page
# cache), and the imported snapshot's attendance.csv, enrollment.csv and calendar.csv are
# compared with the generated ones as multisets of rows over the columns both have:
#   attendance  student_id, school_id, date, code, day_fraction (blank == 1), without the S rows
#               (Ed-Fi has no suspension category, so the converter skips them)
#   calendar    school_id, date, instructional
#   enrollment  student_id, school_id, entry_date, exit_date
# Prints OK or DIFF per file with the counts; exits 1 on a difference, 3 when a run fails (the
# import's own exit 1, warnings, is expected: the interchange has no grades or discipline).
#
#   benches/edfi_import.sh [STUDENTS=100000] [WORKDIR=$EWS_EDFI_BENCH_DIR or /tmp/ews-edfi-bench]
#
# Uses ${CARGO_TARGET_DIR:-target}/release/ews (built with `cargo build --release` when absent).
# 100,000 students give about 2.5 million attendance rows and an interchange of 2.0 GB (1.9 GB of it StudentAttendance.xml).
set -euo pipefail
cd "$(dirname "$0")/.."
students="${1:-100000}"
work="${2:-${EWS_EDFI_BENCH_DIR:-/tmp/ews-edfi-bench}}"
ews="${CARGO_TARGET_DIR:-target}/release/ews"
[ -x "$ews" ] || cargo build --release --quiet
ews=$(realpath "$ews")
mkdir -p "$work"
gen="$work/generated-$students"
xml="$work/edfi-$students"
snapshot="$work/imported-$students"

echo "== ews generate --students $students --seed 1 --shape sis"
rm -rf "$gen"
"$ews" generate --students "$students" --seed 1 --shape sis --out "$gen" --progress never >/dev/null
wc -l "$gen"/current/{students,enrollment,calendar,attendance}.csv | sed 's/^/  /'

echo "== edfi_interchange.py $gen/current -> $xml"
rm -rf "$xml"
/usr/bin/time -f '%e s %M KB' -o "$work/convert.time" \
  python3 benches/edfi_interchange.py "$gen/current" "$xml" | tee "$work/convert.log"
echo "  conversion: $(cat "$work/convert.time") (wall, peak RSS)"
echo "  files (bytes, elements by grep -c):"
for f in Student:Student StudentEnrollment:StudentSchoolAssociation \
         EducationOrgCalendar:CalendarDate StudentAttendance:StudentSchoolAttendanceEvent \
         EducationOrganization:School; do
  file="$xml/${f%%:*}.xml"
  [ -f "$file" ] || continue
  printf '    %-28s %15s bytes %10s <%s>\n' "${f%%:*}.xml" \
    "$(stat -c %s "$file" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')" \
    "$(grep -c "^	<${f#*:}>" "$file")" "${f#*:}"
done
echo "    total $(du -sh "$xml" | cut -f1)"

# Exit 1 is expected: the interchange has no grades, transcripts, discipline or section
# attendance, and the import reports those files as missing (a warning). 2 and 3 are failures.
for run in 1 2; do
  echo "== run $run: ews import edfi $xml --out $snapshot --progress never"
  rm -rf "$snapshot"
  rc=0
  /usr/bin/time -f '%e s %M KB' -o "$work/import-$run.time" \
    "$ews" import edfi "$xml" --out "$snapshot" --progress never >"$work/import-$run.log" 2>&1 || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "  the import failed (exit $rc):" >&2
    grep -v '^Command exited' "$work/import-$run.time" | sed 's/^/  /' >&2 || true
    tail -n 20 "$work/import-$run.log" | sed 's/^/  /' >&2
    exit 3
  fi
  echo "  $(tail -n 1 "$work/import-$run.time") (wall, peak RSS), exit $rc"
done
echo "  summary of run 2 ($work/import-2.log):"
sed 's/^/    /' "$work/import-2.log"
echo "ews import edfi, $students students: $(tail -n 1 "$work/import-2.time") (run 2 of 2)"

echo "== round trip: $gen/current vs $snapshot"
python3 - "$gen/current" "$snapshot" <<'EOF'
import csv, sys
from collections import Counter
from decimal import Decimal, InvalidOperation

generated, imported = sys.argv[1], sys.argv[2]

def fraction(v):
    v = v.strip()
    if not v:
        return "1"
    try:
        return format(Decimal(v).normalize(), "f")
    except InvalidOperation:
        return v

NORMALISE = {"day_fraction": fraction, "instructional": lambda v: v.strip().upper()}
CHECKS = [
    ("attendance.csv", ["student_id", "school_id", "date", "code", "day_fraction"],
     lambda row: row["code"].strip() == "S"),
    ("calendar.csv", ["school_id", "date", "instructional"], None),
    ("enrollment.csv", ["student_id", "school_id", "entry_date", "exit_date"], None),
]

def header(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return next(csv.reader(f), [])

def keys(path, columns, skip):
    """The rows of path over columns, normalised, as one string each (compact in memory)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if skip and skip(row):
                continue
            yield "\x1f".join(NORMALISE.get(c, str.strip)(row[c] or "") for c in columns)

status = 0
for name, wanted, skip in CHECKS:
    a, b = f"{generated}/{name}", f"{imported}/{name}"
    try:
        ha, hb = header(a), header(b)
    except FileNotFoundError as e:
        print(f"DIFF {name}: {e.filename} is missing")
        status = 1
        continue
    columns = [c for c in wanted if c in ha and c in hb]
    missing = [c for c in wanted if c not in columns]
    rows = Counter(keys(a, columns, skip))
    n_generated = sum(rows.values())
    n_imported = extra = 0
    extras = []
    for k in keys(b, columns, None):
        n_imported += 1
        if rows[k] > 0:
            rows[k] -= 1
        else:
            extra += 1
            if len(extras) < 5:
                extras.append(k)
    lacking = [k for k, v in rows.items() if v > 0]
    n_lacking = sum(rows[k] for k in lacking)
    verdict = "OK  " if not extra and not n_lacking else "DIFF"
    note = f" (not compared, absent from one side: {', '.join(missing)})" if missing else ""
    skipped = " without S rows" if skip else ""
    print(f"{verdict} {name}: generated{skipped} {n_generated:,} rows, imported {n_imported:,}; "
          f"only generated {n_lacking:,}, only imported {extra:,}; over {', '.join(columns)}{note}")
    for label, sample in (("only generated", sorted(lacking)[:5]), ("only imported", extras)):
        for k in sample:
            print(f"       {label}: {k.replace(chr(31), ',')}")
    if verdict == "DIFF":
        status = 1
sys.exit(status)
EOF
