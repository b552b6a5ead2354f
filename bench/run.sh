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

# CCLAKE_BIN: use this binary instead of building one.
if [ -z "${CCLAKE_BIN:-}" ]; then
  cargo build --release --quiet
fi
bin="${CCLAKE_BIN:-$CARGO_TARGET_DIR/release/cclake}"
mkdir -p "$work"
if [ ! -d "$work/in" ]; then
  python3 "$shared/make_dataset.py" "$work/in" "$n" 24
fi

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
# The previous run's lakes go first, and cclake's timings start six minutes later (set
# BENCH_QUIET_SECS to change that): this disk's ext4 (no journal) skips inodes freed in the
# last 60 s, or 360 s while their inode table block is dirty (and creating files dirties it),
# looking each one up, when it allocates new ones. Creating the next lake's 17,280 files right
# after deleting the last one's cost up to 8 s of system time that measured the deletion, not
# cclake. DuckDB runs inside the wait (it deletes and rewrites its own 720 files either way).
quiet_secs="${BENCH_QUIET_SECS:-360}"
rm -rf "$work/lake" "$work/lake-run"
sync
deleted_at=$(date +%s)
echo "== DuckDB reference (2 threads)"
python3 "$shared/duckdb_reference.py" "$work/in" "$work/duck" 2 | tail -1
sync
quiet=$((deleted_at + quiet_secs - $(date +%s)))
if [ "$quiet" -gt 0 ]; then
  echo "   (waiting ${quiet} s: ${quiet_secs} s after deleting the previous lakes)"
  sleep "$quiet"
fi

echo "== cclake ingest (Bronze)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" ingest --quiet --lake "$work/lake" "$work/in" 2>&1 | tail -2

echo "== cclake process --full (Silver + Gold)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" process --full --lake "$work/lake" 2>&1 | grep -E "^Silver:|^  policy|^Gold:|wall"

echo "== cclake run (ingest to Gold, end to end, into a new lake beside the first)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" run --quiet --lake "$work/lake-run" "$work/in" 2>&1 | grep -E "^Silver:|^  policy|^Gold:|wall"

echo "== late data: one more file with 5,000 contacts of one day, then incremental process"
late="$work/late"
rm -rf "$late" && mkdir -p "$late"
python3 - "$late/late.ndjson" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(5000):
        f.write(json.dumps({"event_id": f"late{i}", "event_type": "CONTACT",
            "timestamp": f"2026-09-01T{i % 24:02d}:{i % 60:02d}:00Z", "phone_number": f"+1317555{i % 10000:04d}",
            "queue_name": "Queue 1", "duration_seconds": 120.0, "wait_seconds": 9.0,
            "outcome_status": "Completed", "csat": 4}) + "\n")
PY
"$bin" ingest --quiet --lake "$work/lake-run" "$late" >/dev/null
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" process --lake "$work/lake-run" 2>&1 | grep -E "^Silver:|^  policy|^Gold:|wall"
