#!/usr/bin/env bash
# Compares ews with the pandas + scikit-learn baseline of ../shared/bench on the same data,
# made by the independent generator ../shared/bench/gen_district.py:
#   train on seed A's train snapshot, score seed B's train snapshot (its outcomes are known),
#   and report wall time, peak memory and ranking quality (AUC-ROC, precision at top 10%).
#
#   benches/compare_baseline.sh [STUDENTS=2000] [SEED_A=1] [SEED_B=2] [WORKDIR=/tmp/ews-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
students="${1:-2000}"; seed_a="${2:-1}"; seed_b="${3:-2}"; work="${4:-/tmp/ews-bench}"
shared="$(cd .. && pwd)/shared/bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ews-target}"

python3 -c "import numpy, pandas, sklearn, pyarrow" 2>/dev/null ||
  python3 -m pip install --quiet numpy pandas scikit-learn pyarrow

data="$work/n${students}"
for seed in "$seed_a" "$seed_b"; do
  [ -f "$data/s$seed/train/outcomes.csv" ] ||
    python3 "$shared/gen_district.py" --students "$students" --seed "$seed" --out "$data/s$seed" >/dev/null
done
cargo build --release --quiet
ews="$CARGO_TARGET_DIR/release/ews"

measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -f "$label: wall %e s, peak RSS %M KB" "$@" > "$data/$label.log" 2> "$data/$label.time" ||
    { cat "$data/$label.time"; exit 1; }
  tail -n 1 "$data/$label.time"
}

measure ews-train "$ews" train "$data/s$seed_a/train" --out "$data/model.json"
measure ews-score "$ews" score "$data/s$seed_b/train" --model "$data/model.json" --out "$data/ews-out"
measure pandas python3 "$shared/baseline_pandas.py" --train "$data/s$seed_a/train" \
  --score "$data/s$seed_b/train" --out "$data/pandas-out"

grep -h "held-out" "$data/ews-train.log" || true
# The backtest as ews reports it: the model beside the rule-based indicators.
"$ews" evaluate "$data/s$seed_b/train" --model "$data/model.json" --out "$data/ews-evaluation" |
  sed -n '1,5p'

as_of="$(ls "$data/ews-out" | grep -v '^\.' | sort | tail -n 1)"
python3 benches/eval_referrals.py "$data/s$seed_b/train" \
  "$data/ews-out/$as_of/referrals.csv" "$data/pandas-out/referrals.csv"
