#!/usr/bin/env bash
# The cost of closing the loop at scale: `ews score` on one snapshot with supports
# (interventions.csv), counselors' decisions (referral_status.csv) and a run history of 20
# school nights, against the same snapshot scored plainly into an empty folder.
#
#   benches/follow_up.sh SNAPSHOT [RUNS=5] [EWS=the release build]
#
# SNAPSHOT is a current snapshot, e.g. /tmp/ews-bench/n100000-s1-gen_district/current
# (benches/compare.sh 100000 makes it). The script links its files into
# /tmp/ews-bench/loop/snapshot and adds, from a fixed seed: a tutoring, mentoring or attendance
# support for 10% of the students (active, completed or planned), a credit-recovery course for
# 30% of the students with a failed course (half in progress, half completed with its credits),
# and a decision for 5% of the students, dated in the 60 days before the as-of date. It then
# scores the 20 last school days one night at a time into one folder (the history), and finally
# alternates RUNS times: the last night again (19 nights of history before it) with the loop
# files, and the same night plainly (the snapshot without them, a fresh folder). Prints each
# run's stage times and GNU time's wall and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot="${1:?usage: benches/follow_up.sh SNAPSHOT [RUNS] [EWS]}"
runs="${2:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ews-target}"
if [ -z "${3:-}" ]; then cargo build --release --quiet; fi
ews="${3:-$CARGO_TARGET_DIR/release/ews}"
work=/tmp/ews-bench/loop
rm -rf "$work"
mkdir -p "$work/snapshot" "$work/plain"
for file in "$snapshot"/*.csv; do
  ln -s "$(realpath "$file")" "$work/snapshot/"
  ln -s "$(realpath "$file")" "$work/plain/"
done
# The 20 last school days: the dates of attendance.csv (by header name).
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "date") c = i; next } { print $c }' \
  "$snapshot/attendance.csv" | sort -u | tail -n 20 > "$work/days.txt"
as_of="$(tail -n 1 "$work/days.txt")"
python3 - "$snapshot" "$work/snapshot" "$as_of" <<'PY'
import csv, datetime, random, sys
source, target, as_of = sys.argv[1], sys.argv[2], datetime.date.fromisoformat(sys.argv[3])
rng = random.Random(20261130)
with open(f"{source}/students.csv", newline="", encoding="utf-8-sig") as f:
    students = [row["student_id"] for row in csv.DictReader(f)]
failed = {}
with open(f"{source}/credits.csv", newline="", encoding="utf-8-sig") as f:
    for row in csv.DictReader(f):
        if float(row["credits_earned"]) < float(row["credits_attempted"]) and row.get("credit_recovery") != "Y":
            failed.setdefault(row["student_id"], (row["course_id"], row["credits_attempted"]))
def day(back):
    return (as_of - datetime.timedelta(days=back)).isoformat()
with open(f"{target}/interventions.csv", "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["student_id", "intervention_type", "course_id", "start_date", "end_date", "status", "credits_recovered"])
    for student in students:
        if rng.random() < 0.10:
            kind = rng.choice(["tutoring", "mentoring", "attendance_mentor"])
            status = rng.choice(["active", "active", "completed", "planned"])
            start = rng.randint(20, 150)
            end = day(rng.randint(1, start - 1)) if status == "completed" else ""
            out.writerow([student, kind, "", day(start), end, status, ""])
        if student in failed and rng.random() < 0.30:
            course, credits = failed[student]
            start = rng.randint(30, 150)
            if rng.random() < 0.5:
                out.writerow([student, "credit_recovery", course, day(start), "", "active", ""])
            else:
                end = day(rng.randint(1, start - 1))
                out.writerow([student, "credit_recovery", course, day(start), end, "completed", credits])
with open(f"{target}/referral_status.csv", "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["student_id", "status", "date", "reason", "by"])
    statuses = ["reviewed", "contacted", "enrolled", "declined", "not_appropriate"]
    for student in students:
        if rng.random() < 0.05:
            out.writerow([student, rng.choice(statuses), day(rng.randint(0, 60)), f"synthetic note {rng.randint(1, 999)}", "staff"])
PY
echo "interventions: $(($(wc -l < "$work/snapshot/interventions.csv") - 1)) rows; decisions: $(($(wc -l < "$work/snapshot/referral_status.csv") - 1)) rows; nights: $(head -n 1 "$work/days.txt") … $as_of"
# The history: the 20 nights one after another.
started=$(date +%s)
while read -r night; do
  "$ews" score "$work/snapshot" --as-of "$night" --out "$work/out" --progress never > "$work/night.log" 2>&1 \
    || { echo "night $night failed (exit $?)"; tail -n 20 "$work/night.log"; exit 1; }
done < "$work/days.txt"
echo "20 nights scored in $(($(date +%s) - started)) s; history: $(du -sh "$work/out/history" | cut -f1)"
one() { # label, snapshot, out
  if [ "$1" = plain ]; then rm -rf "$3"; fi
  /usr/bin/time -f "$1: wall %e s, peak RSS %M KB" \
    "$ews" score "$2" --as-of "$as_of" --out "$3" --progress never \
    > "$work/run.log" 2> "$work/time.log" || [ $? -eq 1 ] || { cat "$work/run.log" "$work/time.log"; exit 1; }
  grep "time:" "$work/run.log" | sed "s/^ */$1: /"
  grep "unserved" "$work/run.log" | sed "s/^ */$1: /" || true
  tail -n 1 "$work/time.log"
}
for _ in $(seq "$runs"); do
  one loop "$work/snapshot" "$work/out"
  one plain "$work/plain" "$work/plain-out"
done
