#!/usr/bin/env bash
# bench/fitness_cost_bench.sh: the cost of the search's fitness, the validation loss of a
# SubTransformer with inherited weights (hatctl subnet eval), per config. Recorded in
# docs/BENCHMARKS.md.
#
#   bench/fitness_cost_bench.sh [OUT_DIR]     (default: bench/results/fitness-<date>)
#
# A SuperTransformer of the `tiny` space (20 updates: the cost does not depend on how trained the
# weights are), then COUNT configs sampled with seed 3 (default 10), each evaluated on the first
# 500 validation pairs of Multi30k and on all 1,014, THREADS threads (default 2). Prints the
# median and range of the seconds per config.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/fitness-$(date +%Y%m%d)}"
HATCTL="$ROOT/build/bin/hatctl"
THREADS="${THREADS:-2}"
COUNT="${COUNT:-10}"
PY=/usr/bin/python3
mkdir -p "$OUT/configs"
"$ROOT/deploy/setup.sh" >&2
"$HATCTL" supernet train --space tiny --data "$ROOT/data/multi30k/tok" --out "$OUT/super" \
  --steps 20 --threads "$THREADS" --json > /dev/null
"$HATCTL" space sample tiny --count "$COUNT" --seed 3 --out-dir "$OUT/configs" > /dev/null
: > "$OUT/fitness.jsonl"
for cfg in "$OUT"/configs/*; do
  for n in 500 0; do
    "$HATCTL" subnet eval --supernet "$OUT/super" --config "$cfg" --valid-sentences "$n" \
      --threads "$THREADS" --json |
      "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({k: d[k] for k in
        ("valid_sentences", "valid_tokens", "valid_seconds", "valid_loss")}))' >> "$OUT/fitness.jsonl"
  done
done
"$PY" - "$OUT/fitness.jsonl" <<'PYEOF' | tee "$OUT/fitness.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| validation subset | configs | median s per config | min | max |")
print("|---|---|---|---|---|")
for n in sorted({r["valid_sentences"] for r in rows}):
    s = [r["valid_seconds"] for r in rows if r["valid_sentences"] == n]
    print(f"| {n} sentences | {len(s)} | {statistics.median(s):.3f} | {min(s):.3f} | {max(s):.3f} |")
PYEOF
