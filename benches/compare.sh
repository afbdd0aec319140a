#!/usr/bin/env bash
# Speed and memory of ews against the pandas + scikit-learn baseline on the same files.
#
#   benches/compare.sh STUDENTS [SEED=1] [WORKDIR=/tmp/ews-bench]
#
# Generates one district with the independent generator ../shared/bench/gen_district.py
# (train + current snapshots, CSV), then measures with GNU time:
#   - `ews train` on train/ plus `ews score` on current/ (two processes, as a nightly job runs),
#   - ../shared/bench/baseline_pandas.py doing the same in one process,
#   - `ews score` on a Parquet copy of current/ (made with pyarrow),
# and prints wall time, peak RSS and the ratios. Results: WORKDIR/n<STUDENTS>/results.md.
#
# Environment: BASELINE=0 skips the pandas run (at 1,000,000 students it needs more memory
# than the machine has); GENERATOR=ews makes the district with `ews generate` instead;
# PARQUET=0 skips the Parquet run. Generated data stays under WORKDIR, never in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
students="${1:?usage: benches/compare.sh STUDENTS [SEED] [WORKDIR]}"
seed="${2:-1}"; work="${3:-/tmp/ews-bench}"
shared="$(cd .. && pwd)/shared/bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ews-target}"

python3 -c "import numpy, pandas, sklearn, pyarrow" 2>/dev/null ||
  python3 -m pip install --quiet numpy pandas scikit-learn pyarrow

cargo build --release --quiet
ews="$CARGO_TARGET_DIR/release/ews"

generator="${GENERATOR:-gen_district}"
data="$work/n${students}-s${seed}-${generator}"
mkdir -p "$data"
if [ ! -f "$data/train/outcomes.csv" ]; then
  if [ "$generator" = ews ]; then
    /usr/bin/time -f "generate: wall %e s, peak RSS %M KB" \
      "$ews" generate --students "$students" --seed "$seed" --out "$data" 2>&1 | tail -n 1
  else
    # Two generator processes at once need ~12 KB per student each; one at a time above 300k.
    jobs=2; [ "$students" -gt 300000 ] && jobs=1
    /usr/bin/time -f "generate: wall %e s, peak RSS %M KB" \
      python3 "$shared/gen_district.py" --students "$students" --seed "$seed" \
      --jobs "$jobs" --out "$data" 2>&1 | tail -n 1
  fi
fi

# measure LABEL COMMAND...: runs the command under GNU time; sets wall_LABEL and rss_LABEL (KB).
measure() {
  local label="$1"; shift
  rm -rf "$data/out-$label"
  # Exit 1 is ews's "done, with rejected rows below the gate".
  local status=0
  /usr/bin/time -f "%e %M" -o "$data/$label.time" "$@" >"$data/$label.log" 2>&1 || status=$?
  if [ "$status" -gt 1 ]; then
    echo "$label failed (exit $status):"; tail -n 20 "$data/$label.log"; exit 1
  fi
  read -r wall rss < <(tail -n 1 "$data/$label.time")
  printf -v "wall_$label" '%s' "$wall"
  printf -v "rss_$label" '%s' "$rss"
  printf '%-14s %8.2f s %8.0f MB\n' "$label" "$wall" "$((rss / 1024))"
}

# Page cache: every run reads files the generator just wrote; one untimed read evens it out.
cat "$data"/train/*.csv "$data"/current/*.csv >/dev/null

measure train "$ews" train "$data/train" --out "$data/model.json"
measure score "$ews" score "$data/current" --model "$data/model.json" --out "$data/out-score"
if [ "${PARQUET:-1}" != 0 ]; then
  if [ ! -f "$data/current-parquet/attendance.parquet" ]; then
    mkdir -p "$data/current-parquet"
    python3 - "$data/current" "$data/current-parquet" <<'EOF'
import sys, pathlib
import pyarrow.csv as pv, pyarrow.parquet as pq
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for f in sorted(src.glob("[a-z]*.csv")):
    # Every column as text, as a district's export would be typed by its own tool.
    names = pv.open_csv(f).schema.names
    opts = pv.ConvertOptions(column_types={n: "string" for n in names})
    reader = pv.open_csv(f, convert_options=opts, read_options=pv.ReadOptions(block_size=64 << 20))
    with pq.ParquetWriter(dst / (f.stem + ".parquet"), reader.schema) as w:
        for batch in reader:
            w.write_batch(batch, row_group_size=1 << 20)
EOF
  fi
  measure parquet "$ews" score "$data/current-parquet" --model "$data/model.json" --out "$data/out-parquet"
fi
if [ "${BASELINE:-1}" != 0 ]; then
  measure pandas python3 "$shared/baseline_pandas.py" --train "$data/train" \
    --score "$data/current" --out "$data/out-pandas"
fi

{
  echo "| students | ews train | ews score | ews train + score | ews peak RSS | score from Parquet | pandas train + score | pandas peak RSS | speed-up | memory ratio |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  python3 - "$students" "$wall_train" "$rss_train" "$wall_score" "$rss_score" \
    "${wall_parquet:-}" "${rss_parquet:-}" "${wall_pandas:-}" "${rss_pandas:-}" <<'EOF'
import sys
n, wt, rt, ws, rs, wq, rq, wp, rp = sys.argv[1:]
gb = lambda kb: f"{int(kb) / 1024 / 1024:.2f} GiB"
ews_wall = float(wt) + float(ws)
ews_rss = max(int(rt), int(rs))
parquet = f"{float(wq):.2f} s, {gb(rq)}" if wq else "–"
if wp:
    pandas = (f"{float(wp):.2f} s", gb(rp), f"{float(wp) / ews_wall:.1f}×", f"{ews_rss / int(rp):.2f}")
else:
    pandas = ("not run", "–", "–", "–")
print(f"| {int(n):,} | {float(wt):.2f} s, {gb(rt)} | {float(ws):.2f} s, {gb(rs)} | {ews_wall:.2f} s "
      f"| {gb(ews_rss)} | {parquet} | {pandas[0]} | {pandas[1]} | {pandas[2]} | {pandas[3]} |")
EOF
} | tee "$data/results.md"
echo "(speed-up: pandas wall / ews train + score wall; memory ratio: ews peak / pandas peak)"
grep -h "time:" "$data/train.log" "$data/score.log" || true
