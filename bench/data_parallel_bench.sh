#!/usr/bin/env bash
# bench/data_parallel_bench.sh OUT_DIR: SuperTransformer training updates per second on this
# machine, one process with THREADS intra-op threads against THREADS data-parallel ranks of one
# thread each (hatctl supernet train --world-size, c10d Gloo on loopback), side by side, RUNS
# rounds alternating. Same corpus, batches (MAX_TOKENS per update, split between the ranks),
# SubTransformers and learning rate; dropout as the recipe (0.3). Each run trains STEPS updates
# from scratch; the rate is taken from hatctl's JSON (steps run over training seconds, corpus
# preparation and model creation excluded).
# Writes OUT_DIR/runs.jsonl (and each run's log) and prints a markdown table for docs/BENCHMARKS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin}"
OUT="${1:?usage: bench/data_parallel_bench.sh OUT_DIR}"
RUNS="${RUNS:-3}"
STEPS="${STEPS:-150}"
THREADS="${THREADS:-2}"
MAX_TOKENS="${MAX_TOKENS:-4096}"
SPACE="${SPACE:-tiny}"
DATA="${DATA:-$ROOT/data/multi30k/tok}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
: > "$OUT/runs.jsonl"
CPU="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"

train() {  # train RUN_DIR WORLD_SIZE RANK THREADS PORT
  "$BIN/hatctl" supernet train --space "$SPACE" --data "$DATA" --out "$1" --steps "$STEPS" \
    --max-tokens "$MAX_TOKENS" --lr 5e-3 --warmup 1000 --save-every 1000000 --log-every 1000000 \
    --threads "$4" --world-size "$2" --rank "$3" --master "127.0.0.1:$5" --json
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
record() {  # record LABEL RANKS THREADS: the JSON result on stdin -> runs.jsonl
  python3 -c "import json, sys; d = json.load(sys.stdin)
print(json.dumps({'setup': '$1', 'ranks': $2, 'threads_per_rank': $3, 'steps': d['steps_run'],
  'seconds': d['seconds'], 'updates_per_s': d['steps_run'] / d['seconds'],
  'tokens_per_s': d['tokens_per_s'], 'cpu': '$CPU'}))" >> "$OUT/runs.jsonl"
}

# The corpus cache is prepared once, outside the timed runs.
WORK="$OUT/work"  # the runs' checkpoints: removed at the end
train "$WORK/warm" 1 0 "$THREADS" "$(free_port)" > /dev/null 2>&1 || true
for round in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/one" "$WORK/dp-"*
  echo "round $round/$RUNS: 1 rank x $THREADS threads" >&2
  train "$WORK/one" 1 0 "$THREADS" "$(free_port)" 2> "$OUT/one.log" | record "1 rank x $THREADS threads" 1 "$THREADS"
  echo "round $round/$RUNS: $THREADS ranks x 1 thread" >&2
  port="$(free_port)"
  for rank in $(seq 1 $((THREADS - 1))); do
    train "$WORK/dp-$rank" "$THREADS" "$rank" 1 "$port" > "$OUT/dp-$rank.json" 2> "$OUT/dp-$rank.log" &
  done
  train "$WORK/dp-0" "$THREADS" 0 1 "$port" 2> "$OUT/dp-0.log" | record "$THREADS ranks x 1 thread" "$THREADS" 1
  wait
done
rm -rf "$WORK"

python3 - "$OUT/runs.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
setups = list(dict.fromkeys(r["setup"] for r in rows))
base = statistics.median(r["updates_per_s"] for r in rows if r["setup"] == setups[0])
print(f"machine: {rows[0]['cpu']}")
print("| setup | updates/s (median) | runs | tokens/s | ratio |")
print("|---|---|---|---|---|")
for s in setups:
    ups = [r["updates_per_s"] for r in rows if r["setup"] == s]
    tps = statistics.median(r["tokens_per_s"] for r in rows if r["setup"] == s)
    m = statistics.median(ups)
    print(f"| {s} | {m:.2f} | {', '.join(f'{u:.2f}' for u in ups)} | {tps:,.0f} | {m / base:.2f} |")
PY
