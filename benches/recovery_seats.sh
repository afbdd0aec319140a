#!/usr/bin/env bash
# The cost of `[recovery.seats]`: `ews score` on one snapshot with the shipped config, and with
# the shipped config plus offerings a large district might have (an ELA and a MATH lab at every
# school, an Algebra I course online for all schools, a summer school), alternated RUNS times.
#
#   benches/recovery_seats.sh SNAPSHOT [RUNS=5] [EWS=the release build] [BASE_EWS]
#
# SNAPSHOT is a current snapshot, e.g. /tmp/ews-bench/n100000-s1-gen_district/current
# (benches/compare.sh 100000 makes it). With BASE_EWS (another build's binary), that build runs
# with the shipped config too, alternated with the others; run it from its own checkout when
# its config or model differ. Prints each run's stage times (the run's summary line) and
# GNU time's wall and peak RSS. Outputs go under /tmp/ews-bench/seats (removed per run).
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot="${1:?usage: benches/recovery_seats.sh SNAPSHOT [RUNS] [EWS] [BASE_EWS]}"
runs="${2:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ews-target}"
if [ -z "${3:-}" ]; then cargo build --release --quiet; fi
ews="${3:-$CARGO_TARGET_DIR/release/ews}"
base="${4:-}"
work=/tmp/ews-bench/seats
mkdir -p "$work/config"
cp config/model.json "$work/config/model.json"
cp config/ews.toml "$work/config/ews.toml"
# The schools of the snapshot: its students.csv's school_id column (by header name).
python3 - "$snapshot/students.csv" >> "$work/config/ews.toml" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    schools = sorted({row["school_id"] for row in csv.DictReader(f)})
print()
for school in schools:
    for subject in ("ELA", "MATH"):
        print(f'[recovery.seats."{subject} lab {school}"]')
        print(f'school_id = "{school}"\nsubject = "{subject}"\nsession = "S2"\nseats = 15\n')
print('[recovery.seats."Algebra I online"]\ncourse_id = "02009"\nseats = 200\n')
print('[recovery.seats."Summer school"]\nsession = "summer"\nseats = 1000')
PY
echo "offerings: $(grep -c '^\[recovery.seats\.' "$work/config/ews.toml")"
one() { # label, binary, config
  rm -rf "$work/out"
  /usr/bin/time -f "$1: wall %e s, peak RSS %M KB" \
    "$2" --config "$3" score "$snapshot" --out "$work/out" --progress never \
    > "$work/run.log" 2> "$work/time.log" || { cat "$work/run.log" "$work/time.log"; exit 1; }
  grep "time:" "$work/run.log" | sed "s/^ */$1: /"
  grep "recovery seats:" "$work/run.log" | sed "s/^ */$1: /" || true
  tail -n 1 "$work/time.log"
}
for _ in $(seq "$runs"); do
  if [ -n "$base" ]; then one base "$base" config/ews.toml; fi
  one shipped "$ews" config/ews.toml
  one offerings "$ews" "$work/config/ews.toml"
done
