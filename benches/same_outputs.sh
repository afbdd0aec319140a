#!/usr/bin/env bash
# Behaviour unchanged: two builds of ews train and score the same district, from CSV and from
# Parquet, and score both mapped examples; every output is compared byte for byte, except the
# manifest's creation time and stage durations. For restructures that must not change a byte.
#
#   benches/same_outputs.sh BASE_BIN NEW_BIN [STUDENTS]      (default 10000)
#
# Needs python3 with pyarrow for the Parquet copy (installed with pip when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(realpath "$1")
new=$(realpath "$2")
students=${3:-10000}
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -c "import pyarrow" 2>/dev/null || pip install --quiet pyarrow

"$new" generate --students "$students" --seed 3 --out "$work/data" >/dev/null
python3 - "$work/data/current" "$work/data/current-parquet" <<'EOF'
import sys, pathlib
import pyarrow.csv as pv, pyarrow.parquet as pq
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
for f in sorted(src.glob("[a-z]*.csv")):
    names = pv.open_csv(f).schema.names
    opts = pv.ConvertOptions(column_types={n: "string" for n in names})
    pq.write_table(pv.read_csv(f, convert_options=opts), dst / (f.stem + ".parquet"))
EOF

for side in base new; do
  bin=${!side}
  mkdir -p "$work/$side"
  ln -s ../data "$work/$side/data"
  (
    cd "$work/$side"
    config=(--config "$repo/config/ews.toml")
    "$bin" "${config[@]}" train data/train --out model.json >/dev/null
    "$bin" "${config[@]}" score data/current --model model.json --out csv >/dev/null
    "$bin" "${config[@]}" score data/current-parquet --model model.json --out parquet >/dev/null
    for example in tab-windows-1252 semicolon-0-20; do
      "$bin" --config "$repo/config/examples/$example.toml" score \
        "$repo/sample_data/examples/$example/current" --model "$repo/config/model.json" \
        --out "$example" >/dev/null
    done
  ) || { echo "$side: a run failed" >&2; exit 3; }
done

python3 - "$work/base" "$work/new" <<'EOF'
import json, pathlib, sys
base, new = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not p.is_symlink() and "data/" not in p.relative_to(root).as_posix()
                  and p.name != ".ews.lock")
def comparable(path):
    raw = path.read_bytes()
    if path.name != "manifest.json":
        return raw
    m = json.loads(raw)
    m["created_at"] = None
    for s in m["stages"]:
        s["seconds"] = None
    return json.dumps(m, sort_keys=True).encode()
a, b = files(base), files(new)
if a != b:
    print("the sets of files differ:", sorted(set(a) ^ set(b)))
    sys.exit(1)
differ = [f for f in a if comparable(base / f) != comparable(new / f)]
import collections
print("files per folder:", dict(collections.Counter(f.split("/")[0] for f in a)))
print(f"{len(a)} files compared (model, card, runs from CSV and Parquet, two mapped examples): "
      f"{len(a) - len(differ)} identical, {len(differ)} differ {differ}")
sys.exit(1 if differ else 0)
EOF
