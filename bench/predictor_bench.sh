#!/usr/bin/env bash
# bench/predictor_bench.sh: latency-predictor accuracy on HAT's three published datasets
# (data/hat-latency/), recorded in docs/BENCHMARKS.md. About 20 minutes on 2 cores (HAT's MLP
# trains 5000 steps per fit).
#
#   bench/predictor_bench.sh [OUT_DIR]       (default: bench/results/predictor-<date>)
#
# For each dataset and seed 1..5 (seed = the 80/10/10 split and the training):
#   hat-mlp  on all 1,600 training rows and on 160 (HAT's settings from its YAML: norms,
#            lat-norm, 400x3, Adam 1e-5, 5000 steps of 128)
#   default  (cost-linear) on all 1,600 training rows and on 160
# One JSON line per fit in OUT_DIR/fits.jsonl; bench/summarize_predictor.py prints the tables.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/predictor-$(date +%Y%m%d)}"
HATCTL="$ROOT/build/bin/hatctl"
MODELS="${MODELS:-default hat-mlp}"
SEEDS="${SEEDS:-1 2 3 4 5}"
mkdir -p "$OUT"
: > "$OUT/fits.jsonl"
for device in cpu_xeon gpu_titanxp cpu_raspberrypi; do
  data="$ROOT/data/hat-latency/wmt14ende_${device}_all.csv"
  hat_yaml="$ROOT/data/hat-configs/wmt14.en-de/latency_predictor/${device}.yml"
  for seed in $SEEDS; do
    for model in $MODELS; do
      for rows in 0 160; do
        echo "== $device seed $seed $model train_rows $rows" >&2
        "$HATCTL" predictor fit --data "$data" --format hat-csv --model "$model" \
          --hat-config "$hat_yaml" --seed "$seed" --train-rows "$rows" --json \
          | /usr/bin/env python3 -c '
import json, sys
row = json.load(sys.stdin)
row.update(device=sys.argv[1], requested_train_rows=int(sys.argv[2]))
print(json.dumps(row, sort_keys=True))' "$device" "$rows" >> "$OUT/fits.jsonl"
      done
    done
  done
done
"$ROOT/bench/summarize_predictor.py" "$OUT/fits.jsonl"
