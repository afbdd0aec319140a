#!/usr/bin/env bash
# Does the term hierarchy help the model? On a generated district whose grades.csv posts
# overlapping marks (quarters and the semester and year marks that cover them: `--shape sis`),
# train once with the contract's term table (a covering mark supersedes the marks it covers) and
# once with a table where no term covers another (every mark counts, as before issue 18), then
# evaluate both on the training snapshot of an independent district (another seed) whose
# outcomes are known. Prints the held-out AUC of each training and the AUC on the other
# district.
#
#   benches/supersession_auc.sh [STUDENTS=10000] [SEED_A=21] [SEED_B=22] [WORKDIR=/tmp/ews-terms]
set -euo pipefail
cd "$(dirname "$0")/.."
students="${1:-10000}"; seed_a="${2:-21}"; seed_b="${3:-22}"; work="${4:-/tmp/ews-terms}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ews-target}"
cargo build --release --quiet
ews="$CARGO_TARGET_DIR/release/ews"
mkdir -p "$work"

for seed in "$seed_a" "$seed_b"; do
  [ -f "$work/s$seed/train/outcomes.csv" ] ||
    "$ews" generate --students "$students" --seed "$seed" --shape sis --out "$work/s$seed" >/dev/null
done

# Every term as in the contract, but covering nothing.
flat="$work/flat-terms.toml"
{
  for term in Q1 Q2 Q3 Q4 W1 W2 W3 W4 W5 W6 T1 T2 T3 S1 S2 Y; do
    printf '[terms.%s]\ncovers = []\nends = "06-15"\n' "$term"
  done
} > "$flat"
hierarchy="$work/hierarchy.toml"
: > "$hierarchy"

for table in hierarchy flat; do
  config="$work/$table.toml"
  [ "$table" = flat ] && config="$flat"
  "$ews" --config "$config" train "$work/s$seed_a/train" --out "$work/$table/model.json" >/dev/null
  "$ews" --config "$config" evaluate "$work/s$seed_b/train" --model "$work/$table/model.json" \
    --out "$work/$table/evaluation" >/dev/null || true
  python3 - "$table" "$work/$table/model.json" "$work/$table/evaluation/metrics.json" <<'EOF'
import json, sys
table, model, metrics = sys.argv[1:]
m = json.load(open(model))
e = json.load(open(metrics))
auc = e.get("model", {}).get("auc_roc")
print(f"{table:9} held-out AUC {m['holdout']['auc_roc']:.4f}  AUC on seed B {auc:.4f}")
EOF
done
