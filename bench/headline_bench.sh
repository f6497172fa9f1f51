#!/usr/bin/env bash
# bench/headline_bench.sh OUT_DIR: HAT's headline claim on this machine, for the `tiny` space on
# Multi30k en-de: at Transformer-tiny's latency, the searched SubTransformer translates better;
# at two thirds of it, about as well. Measured, not predicted.
#
#  1. deploy/quickstart.sh --full on SUPERNET (a SuperTransformer trained with the recipe, e.g.
#     by bench/search_bench.sh): 300 configs x 3 measured, the predictor, Transformer-tiny
#     measured, HAT's search (population 125, 30 iterations) under Transformer-tiny's latency and
#     two thirds of it, Transformer-tiny as a reference;
#  2. on the same server: random search with the same budget under the same two limits (the
#     space's share of the gain, apart from the search's);
#  3. one measuring job: the four winners and Transformer-tiny, 5 times each, pass by pass in
#     shuffled orders (the default protocol), the median kept;
#  4. test2016 BLEU (beam 5, tokenised lowercased text as Transformer-tiny's benchmark scores it)
#     of each with the weights inherited from the SuperTransformer;
#  5. with PARTS containing "scratch": each winner trained from scratch with Transformer-tiny's
#     recipe (8,000 updates, lr 5e-3, warm-up 2,000, last 10 checkpoints averaged; about 2 h
#     each here) and scored the same way, next to Transformer-tiny's six recipe runs
#     (39.69-40.24, mean 39.90; docs/BENCHMARKS.md).
# Writes OUT_DIR/headline.md and the raw results; resumable (jobs are keyed, runs resume).
set -euo pipefail
shopt -s inherit_errexit
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BUILD_DIR:-$ROOT/build}/bin"
OUT="${1:?usage: SUPERNET=CHECKPOINT bench/headline_bench.sh OUT_DIR}"
SUPERNET="${SUPERNET:?SUPERNET: a recipe-trained SuperTransformer checkpoint of the tiny space}"
PARTS="${PARTS:-inherited}"
THREADS="${THREADS:-2}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
json() { python3 -c "import json, statistics, sys; d = json.load(sys.stdin); print($1)"; }

# 1. The main job, paper-grade, on the given SuperTransformer.
HAT_SKIP_SETUP=1 HAT_WORK_DIR="$OUT/run" SUPERNET_CHECKPOINT="$SUPERNET" \
  "$ROOT/deploy/quickstart.sh" --full 2>&1 | tee "$OUT/quickstart.log"
SUMMARY="$OUT/run/summary.json"
EVOLUTION="$(json 'd["search_job"]' < "$SUMMARY")"
ARTIFACT="$(json 'd["supernet_artifact"]' < "$SUMMARY")"
LIMITS="$(json '",".join(str(x) for x in d["limits_ms"])' < "$SUMMARY")"

# The same server again, for the baseline and the measuring run.
"$BIN/hat-server" --data-dir "$OUT/run/server" --listen 127.0.0.1:0 --port_file "$OUT/port" \
  --corpora-dir "$ROOT/data" --local-agent --local_agent_device_class local-cpu \
  > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
rm -f "$OUT/port"
for _ in $(seq 1 600); do grep -q 'serving on port' "$OUT/server.log" && break; sleep 0.1; done
export HAT_SERVER="127.0.0.1:$(cat "$OUT/port")"
export HAT_TOKEN="$(cat "$OUT/run/server/admin.token")"

# 2. Random search, the same budget (HAT's settings) and limits.
RANDOM_JOB="$("$BIN/hatctl" jobs submit search --supernet "$ARTIFACT" \
  --constraint "local-cpu:$LIMITS" --iterations 30 --population 125 --parents 25 \
  --mutations 50 --crossovers 50 --valid-sentences 500 --threads "$THREADS" \
  --corpus multi30k/tok --seed 1 --strategy random --no-remeasure \
  --idempotency-key "headline/random/$ARTIFACT/$LIMITS")"
"$BIN/hatctl" jobs watch "$RANDOM_JOB" >&2
"$BIN/hatctl" search export "$EVOLUTION" --out "$OUT/evolution" --json > "$OUT/evolution.json"
"$BIN/hatctl" search export "$RANDOM_JOB" --out "$OUT/random" --json > "$OUT/random.json"
"$BIN/hatctl" search result "$EVOLUTION" --json > "$OUT/evolution_result.json"
"$BIN/hatctl" search result "$RANDOM_JOB" --json > "$OUT/random_result.json"

# 3. One measuring run: the four winners and Transformer-tiny, interleaved.
TINY="$ROOT/data/configs/transformer-tiny.yml"
MODELS=("$OUT/evolution/winner_0.yml" "$OUT/evolution/winner_1.yml"
        "$OUT/random/winner_0.yml" "$OUT/random/winner_1.yml" "$TINY")
CONFIG_FLAGS=()
for m in "${MODELS[@]}"; do CONFIG_FLAGS+=(--config "$m"); done
MEASURE_JOB="$("$BIN/hatctl" jobs submit latency-dataset --space tiny --device-class local-cpu \
  "${CONFIG_FLAGS[@]}" --repeats 5 --idempotency-key "headline/measure/$EVOLUTION/$RANDOM_JOB")"
"$BIN/hatctl" jobs watch "$MEASURE_JOB" >&2
"$BIN/hatctl" jobs export "$MEASURE_JOB" --format full --out "$OUT/measured.jsonl"

# 4. BLEU with inherited weights (and 5. from scratch).
for m in "${MODELS[@]}"; do
  name="$(basename "$(dirname "$m")")-$(basename "$m" .yml)"
  [[ "$m" == "$TINY" ]] && name=transformer-tiny
  if [[ ! -s "$OUT/bleu-inherited-$name.json" ]]; then
    "$BIN/hatctl" subnet eval --supernet "$SUPERNET" --config "$m" --bleu --tokenize none \
      --beam 5 --threads "$THREADS" --json > "$OUT/bleu-inherited-$name.json"
  fi
  if [[ " $PARTS " == *" scratch "* && "$name" != transformer-tiny ]]; then
    if [[ ! -s "$OUT/bleu-scratch-$name.json" ]]; then
      "$BIN/hatctl" subnet train --config "$m" --space tiny --data "$ROOT/data/multi30k/tok" \
        --out "$OUT/scratch-$name" --steps 8000 --lr 5e-3 --warmup 2000 --max-tokens 4096 \
        --dropout 0.3 --label-smoothing 0.1 --threads "$THREADS" --save-every 100 --keep 10 \
        --average-last 10 --log-every 500 --json > "$OUT/scratch-$name.json"
      "$BIN/hatctl" subnet eval --supernet "$OUT/scratch-$name" --bleu --tokenize none \
        --beam 5 --threads "$THREADS" --json > "$OUT/bleu-scratch-$name.json"
    fi
  fi
done

# The table (OUT_DIR/headline.md) and the plot of BLEU against measured latency (headline.svg).
python3 "$ROOT/bench/headline_report.py" "$OUT"
