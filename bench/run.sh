#!/usr/bin/env bash
# Side-by-side timing of cclake against ../shared/bench/duckdb_reference.py on the same data.
# Usage: bash bench/run.sh [RECORDS=2000000] [WORK=/tmp/cclake-bench]
# Needs: pip install duckdb (for the dataset maker and the reference), a release build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-2000000}"
work="${2:-/tmp/cclake-bench}"
shared="$(cd .. && pwd)/shared/bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cclake-target}"

cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cclake"
mkdir -p "$work"
if [ ! -d "$work/in" ]; then
  python3 "$shared/make_dataset.py" "$work/in" "$n" 24
fi

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "== DuckDB reference (2 threads)"
python3 "$shared/duckdb_reference.py" "$work/in" "$work/duck" 2 | tail -1

echo "== cclake ingest (Bronze)"
rm -rf "$work/lake"
sync
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" ingest --quiet --lake "$work/lake" "$work/in" 2>&1 | tail -2
