#!/usr/bin/env bash
# The lock race of a nightly job: PAIRS times, two `ews score` runs are started at the same
# moment into one fresh --out; the runs overlap (each takes far longer than the gap between
# their starts), so exactly one of each pair may run and the other must be refused (exit 2,
# "another ews run"). Prints the pairs in which both ran, the pairs with an exit 3, and the
# pairs that overlapped.
#
#   benches/lock_race.sh [PAIRS] [SNAPSHOT]          (default 400, sample_data/current)
#   EWS_BIN=/path/to/ews EWS_ARGS="--config x.toml" benches/lock_race.sh 400
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-400}
snapshot=${2:-sample_data/current}
target=${CARGO_TARGET_DIR:-$HOME/.cache/ews-target}
bin=${EWS_BIN:-$target/release/ews}
if [[ -z "${EWS_BIN:-}" ]]; then
  CARGO_TARGET_DIR=$target cargo build --release --quiet
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

one() { # $1 = out, $2 = result file: "<exit> <start ns> <end ns>"
  local start end code=0
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  "$bin" ${EWS_ARGS:-} score "$snapshot" --out "$1" >/dev/null 2>"$2.err" || code=$?
  end=$(date +%s%N)
  echo "$code $start $end" >"$2"
}

both=0
internal=0
overlapped=0
for i in $(seq 1 "$pairs"); do
  out="$work/out-$i"
  one "$out" "$work/a" &
  one "$out" "$work/b" &
  wait
  read -r code_a start_a end_a <"$work/a"
  read -r code_b start_b end_b <"$work/b"
  ran_a=$((code_a <= 1))
  ran_b=$((code_b <= 1))
  if ((ran_a && ran_b)); then both=$((both + 1)); fi
  if ((code_a == 3 || code_b == 3)); then internal=$((internal + 1)); fi
  # The later start came before the earlier run's end.
  if ((start_a < end_b && start_b < end_a)); then overlapped=$((overlapped + 1)); fi
  if ((!ran_a && code_a != 2)) || ((!ran_b && code_b != 2)); then
    echo "pair $i: exits $code_a and $code_b" >&2
  fi
  rm -rf "$out"
done
echo "pairs: $pairs, overlapped: $overlapped, both ran: $both, exit 3: $internal"
