#!/usr/bin/env bash
# The split of a snapshot into the staging folder alone: its time and peak memory.
#
#   benches/split_only.sh SNAPSHOT [CONFIG=config/ews.toml] [EWS=target/release/ews]
#
# Runs `ews --config CONFIG -v score SNAPSHOT` (the model file of CONFIG's [model]) and stops it
# once the log has the split's `stage:` line, before any partition is read: the split is the
# first stage of a partitioned run (docs/performance.md, "The split's memory"). Prints the
# log's "staged <file>" lines (each with its time, the memory then and the peak so far) and the
# `stage:` line, whose "peak so far" is the split's peak (VmHWM). The staging folder is removed
# by the next partitioned run (the stopped run's process is gone); the output folder is a new
# temporary one, removed here. Force a number of partitions with a CONFIG whose [performance]
# has `partitions = N`.
set -euo pipefail
snapshot="${1:?usage: benches/split_only.sh SNAPSHOT [CONFIG] [EWS]}"
config="${2:-config/ews.toml}"
ews="${3:-target/release/ews}"
log="$(mktemp)"; out="$(mktemp -d)"
trap 'rm -rf "$log" "$out"' EXIT
"$ews" --config "$config" -v score "$snapshot" --out "$out/run" --progress never >"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  if grep -q "stage: " "$log"; then kill "$pid"; break; fi
  sleep 0.5
done
wait "$pid" 2>/dev/null || true
grep -E "staged|stage: " "$log" | sed 's/.*INFO \] //'
