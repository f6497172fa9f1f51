#!/usr/bin/env bash
# bench/local_predictor_bench.sh: a latency dataset collected by hatfleet on this machine (its
# own protocol, full per-layer data), then HAT's MLP and the default predictor side by side on
# the same splits. Recorded in docs/BENCHMARKS.md. Run on an otherwise idle machine.
#
#   bench/local_predictor_bench.sh [OUT_DIR]     (default: bench/results/predictor-<date>)
#
# Environment: SAMPLES (default 240 configs of hat-wmt14-en-de), REPEATS (default 3: every
# config measured 3 times, pass by pass, each pass in its own order), RUNS (default 6 timed
# runs per measurement, after 1 warm-up), SEEDS (1..5), TRAIN_ROWS (default 300: the goal is
# under 2% test MAPE from at most 300 training configs). ~4.3 s per measurement here.
# Steps: hat-server --local-agent on a fresh data directory; a latency-dataset job; the dataset
# exported as full JSON lines (OUT_DIR/local-cpu.jsonl, one line per measurement); then
# `hatctl predictor fit --format full` for both models and each seed, with the host-drift
# correction and without it (OUT_DIR/local_fits.jsonl); the summary tables.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/predictor-$(date +%Y%m%d)}"
SAMPLES="${SAMPLES:-240}"
REPEATS="${REPEATS:-3}"
RUNS="${RUNS:-6}"
SEEDS="${SEEDS:-1 2 3 4 5}"
TRAIN_ROWS="${TRAIN_ROWS:-300}"
BIN="$ROOT/build/bin"
WORK="$(mktemp -d -t hatfleet-local-bench-XXXXXX)"
mkdir -p "$OUT"

if [[ ! -s "$OUT/local-cpu.jsonl" ]]; then
  "$BIN/hat-server" --data-dir "$WORK/data" --listen 127.0.0.1:0 --port_file "$WORK/port" \
    --local-agent --local_agent_device_class local-cpu > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  trap 'kill -TERM $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
  export HAT_SERVER="127.0.0.1:$(cat "$WORK/port")"
  export HAT_TOKEN="$(cat "$WORK/data/admin.token")"
  JOB="$("$BIN/hatctl" jobs submit latency-dataset --space hat-wmt14-en-de \
    --device-class local-cpu --samples "$SAMPLES" --seed 11 --protocol default --runs "$RUNS" \
    --warmup 1 --repeats "$REPEATS")"
  "$BIN/hatctl" jobs watch "$JOB" >&2
  "$BIN/hatctl" dataset export --device-class local-cpu --format full --out "$OUT/local-cpu.jsonl"
  "$BIN/hatctl" agents list --json > "$OUT/local-agent.json"
fi

: > "$OUT/local_fits.jsonl"
for drift in drift-correction no-drift-correction; do
  for seed in $SEEDS; do
    for model in default hat-mlp; do
      echo "== local-cpu $drift seed $seed $model" >&2
      "$BIN/hatctl" predictor fit --data "$OUT/local-cpu.jsonl" --format full --model "$model" \
        --lat-norm 500 --seed "$seed" --train-rows "$TRAIN_ROWS" "--$drift" --json \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); r["device"]="local-cpu-'"$drift"'"; print(json.dumps(r, sort_keys=True))' \
        >> "$OUT/local_fits.jsonl"
    done
  done
done
"$ROOT/bench/summarize_predictor.py" "$OUT/local_fits.jsonl"
