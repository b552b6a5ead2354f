#!/usr/bin/env bash
# Single process against a Ballista cluster (a scheduler and two executors on this machine) on
# the same Bronze: `process --full` timed both ways, tables compared.
# Usage: CCLAKE_BIN=target/release/cclake bash bench/cluster.sh [WORK=/tmp/cclake-bench]
# Needs the bench dataset in WORK/in (bench/run.sh makes it) and CCLAKE_HMAC_KEY set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="${1:-/tmp/cclake-bench}"
bin="${CCLAKE_BIN:-$HOME/.cache/cclake-target/release/cclake}"
: "${CCLAKE_HMAC_KEY:?set CCLAKE_HMAC_KEY (every executor needs the key of the lake)}"
port=$((40000 + RANDOM % 20000))

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
rm -rf "$work/lake-cluster"
"$bin" ingest --quiet --lake "$work/lake-cluster" "$work/in" | tail -1

"$bin" cluster scheduler --bind "127.0.0.1:$port" --external-host 127.0.0.1 > "$work/scheduler.log" 2>&1 &
pids=($!)
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
sleep 2
for i in 1 2; do
  "$bin" cluster executor --scheduler "127.0.0.1:$port" -c 1 --bind-host 127.0.0.1 \
    --port $((port + 10 * i)) --grpc-port $((port + 10 * i + 1)) --work-dir "$work/executor-$i" \
    > "$work/executor-$i.log" 2>&1 &
  pids+=($!)
done
sleep 3

echo "== process --full, single process"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" process --full --lake "$work/lake-cluster" 2>&1 \
  | grep -E "^Silver:|^  policy|^Gold:|wall"
echo "== process --full --cluster (scheduler + 2 executors, 1 task each)"
/usr/bin/time -f "wall %e s, peak RSS %M KB (client)" "$bin" process --full --cluster "df://127.0.0.1:$port" \
  --lake "$work/lake-cluster" 2>&1 | grep -E "^Silver:|built on the cluster|^  policy|^Gold:|wall"
