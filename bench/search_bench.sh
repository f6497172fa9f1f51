#!/usr/bin/env bash
# bench/search_bench.sh OUT_DIR: the evolutionary search's benchmarks on this machine, for the
# `tiny` space (Multi30k en-de), with `hatctl search run`:
#
#  1. a SuperTransformer: SUPERNET (a checkpoint or run directory) if given, else trained here
#     with the published recipe for STEPS updates (default 8000; lr 5e-3, WARMUP updates of
#     warm-up, default 4000; about 70 min on 2 idle cores);
#  2. a latency predictor for this machine: a hat-server with its local agent measures SAMPLES
#     configs of the space (default 120) and a predictor-training job fits the default model;
#  3. the limit: the median predicted latency of 2,000 sampled configs (cuts the space in half);
#  4. PARTS (default "timing compare"):
#       timing:  one search with HAT's settings (ITERATIONS, default 30) whose result records, per
#                iteration, the seconds spent in fitness, latency prediction and bookkeeping;
#       compare: evolution against random search with the same budget, seeds SEEDS (default
#                "1 2 3"), ITERATIONS_COMPARE iterations (default 30): best loss under the limit.
# Writes OUT_DIR/summary.md and every result.json; resumable (finished parts are kept).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BUILD_DIR:-$ROOT/build}/bin"
OUT="${1:?usage: bench/search_bench.sh OUT_DIR}"
STEPS="${STEPS:-8000}"
WARMUP="${WARMUP:-4000}"
SAMPLES="${SAMPLES:-120}"
ITERATIONS="${ITERATIONS:-30}"
ITERATIONS_COMPARE="${ITERATIONS_COMPARE:-30}"
SEEDS="${SEEDS:-1 2 3}"
PARTS="${PARTS:-timing compare}"
VALID="${VALID_SENTENCES:-500}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# 1. The SuperTransformer.
if [[ -z "${SUPERNET:-}" ]]; then
  SUPERNET="$OUT/super"
  if [[ ! -f "$OUT/super.done" ]]; then
    "$BIN/hatctl" supernet train --space tiny --data "$ROOT/data/multi30k/tok" --out "$SUPERNET" \
      --steps "$STEPS" --lr 5e-3 --warmup "$WARMUP" --max-tokens 4096 --dropout 0.3 --save-every 500 --keep 2 \
      --log-every 100
    touch "$OUT/super.done"
  fi
fi

# 2. A latency predictor for this machine, measured by the fleet (a server and its local agent).
PREDICTOR="$OUT/local-cpu.predictor"
if [[ ! -f "$PREDICTOR" ]]; then
  "$BIN/hat-server" --data-dir "$OUT/server" --listen 127.0.0.1:0 --port_file "$OUT/port" \
    --local-agent --local_agent_device_class local-cpu > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  trap 'kill -TERM $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do [[ -s "$OUT/port" ]] && break; sleep 0.1; done
  export HAT_SERVER="127.0.0.1:$(cat "$OUT/port")"
  export HAT_TOKEN="$(cat "$OUT/server/admin.token")"
  JOB="$("$BIN/hatctl" jobs submit latency-dataset --space tiny --device-class local-cpu \
    --samples "$SAMPLES" --seed 1 --idempotency-key search-bench-dataset)"
  "$BIN/hatctl" jobs watch "$JOB" > /dev/null
  PJOB="$("$BIN/hatctl" jobs submit predictor --device-class local-cpu --seed 1 \
    --idempotency-key search-bench-predictor)"
  "$BIN/hatctl" jobs watch "$PJOB" > /dev/null
  "$BIN/hatctl" predictor download --device-class local-cpu --out "$PREDICTOR" --json \
    > "$OUT/predictor.json"
  kill -TERM $SERVER_PID; wait $SERVER_PID || true
  trap - EXIT
fi

# 3. The limit: the median predicted latency of the space.
LIMIT="$("$BIN/hatctl" predictor predict --predictor "$PREDICTOR" --space tiny --sample 2000 \
  --seed 9 --json | python3 -c '
import json, statistics, sys
print(round(statistics.median(c["latency_ms"] for c in json.load(sys.stdin)["configs"]), 2))')"
echo "limit: $LIMIT ms (median predicted latency of 2,000 configs)"

search() {  # search OUT_SUBDIR extra-flags...
  local dir="$1"; shift
  "$BIN/hatctl" search run --supernet "$SUPERNET" --predictor "local-cpu=$PREDICTOR" \
    --constraint "local-cpu:$LIMIT" --valid-sentences "$VALID" --threads 2 --out "$OUT/$dir" \
    --json "$@" > "$OUT/$dir.json"
}

for part in $PARTS; do
  case "$part" in
    timing) search timing --iterations "$ITERATIONS" --seed 1 ;;
    compare)
      for seed in $SEEDS; do
        search "evolution-$seed" --iterations "$ITERATIONS_COMPARE" --seed "$seed"
        search "random-$seed" --iterations "$ITERATIONS_COMPARE" --seed "$seed" --strategy random
      done ;;
    *) echo "search_bench: unknown part '$part' (timing, compare)" >&2; exit 2 ;;
  esac
done

# The summary, from the results.
python3 - "$OUT" "$LIMIT" "$PARTS" <<'EOF' | tee "$OUT/summary.md"
import glob, json, os, statistics, sys
out, limit, parts = sys.argv[1], float(sys.argv[2]), sys.argv[3].split()
print(f"limit {limit} ms on local-cpu; SuperTransformer and predictor in {out}")
if "timing" in parts:
    r = json.load(open(f"{out}/timing.json"))
    its = r["runs"][0]["iterations"]
    fit = [i["fitness_s"] for i in its]
    lat = [i["latency_s"] for i in its]
    book = [i["bookkeeping_s"] for i in its]
    print(f"\n| timing | value |\n|---|---|")
    print(f"| iterations | {len(its)} |")
    print(f"| evaluations / cache hits | {r['evaluations']} / {r['cache_hits']} |")
    print(f"| search time (its iterations, over every invocation) | {r['seconds'] / 60:.1f} min |")
    print(f"| peak resident memory | {r.get('peak_resident_mb', 0):.0f} MB |")
    print(f"| fitness per iteration (median) | {statistics.median(fit):.2f} s |")
    print(f"| prediction per iteration (median) | {statistics.median(lat) * 1000:.1f} ms |")
    print(f"| bookkeeping per iteration (median) | {statistics.median(book) * 1000:.1f} ms |")
    share = (sum(lat) + sum(book)) / max(sum(fit), 1e-9) * 100
    print(f"| prediction + bookkeeping, of fitness | {share:.3f}% |")
if "compare" in parts:
    print("\n| seed | evolution best loss | random best loss | evolution evaluations | random evaluations |")
    print("|---|---|---|---|---|")
    for e in sorted(glob.glob(f"{out}/evolution-*.json")):
        seed = e.rsplit("-", 1)[1].split(".")[0]
        ev = json.load(open(e))
        ra = json.load(open(f"{out}/random-{seed}.json"))
        print(f"| {seed} | {ev['runs'][0]['best']['valid_loss']:.4f} | "
              f"{ra['runs'][0]['best']['valid_loss']:.4f} | {ev['evaluations']} | {ra['evaluations']} |")
EOF
