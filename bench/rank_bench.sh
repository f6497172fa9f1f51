#!/usr/bin/env bash
# bench/rank_bench.sh: HAT's key claim on this machine: SubTransformers ranked by validation loss
# with weights inherited from a SuperTransformer rank as they do after training each from
# scratch (Kendall's tau). Recorded in docs/BENCHMARKS.md.
#
#   bench/rank_bench.sh [OUT_DIR]     (default: bench/results/rank-<date>)
#
# 1. SuperTransformer of the `tiny` space on Multi30k en->de, SUPER_STEPS updates (default 8000).
# 2. CONFIGS SubTransformers (default 8) spread across the space: 200 sampled (seed 11), sorted
#    by parameter count, taken at evenly spaced ranks.
# 3. Each: validation loss with inherited weights (hatctl subnet eval), and validation loss after
#    SUB_STEPS updates from scratch (hatctl subnet train; default 4000), same recipe.
# 4. Kendall's tau between the two orders, the budget (updates, wall time) beside it.
# Every step resumes where it stopped when the script is run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/rank-$(date +%Y%m%d)}"
HATCTL="$ROOT/build/bin/hatctl"
THREADS="${THREADS:-2}"
SUPER_STEPS="${SUPER_STEPS:-8000}"
SUB_STEPS="${SUB_STEPS:-4000}"
CONFIGS="${CONFIGS:-8}"
DATA="$ROOT/data/multi30k/tok"
PY=/usr/bin/python3
RECIPE=(--lr 5e-3 --warmup 2000 --max-tokens 4096 --dropout 0.3 --threads "$THREADS"
        --save-every 500 --keep 2 --log-every 100)
mkdir -p "$OUT/configs"
"$ROOT/deploy/setup.sh" >&2

echo "== 1. SuperTransformer, $SUPER_STEPS updates" >&2
start=$(date +%s)
"$HATCTL" supernet train --space tiny --data "$DATA" --out "$OUT/super" --steps "$SUPER_STEPS" \
  "${RECIPE[@]}" --json > "$OUT/super_train.json"
echo "{\"stage\": \"super\", \"seconds\": $(( $(date +%s) - start ))}" >> "$OUT/wall.jsonl"

echo "== 2. $CONFIGS SubTransformers spread by size" >&2
if [[ ! -f "$OUT/configs/chosen.txt" ]]; then
  pool="$OUT/configs/pool"
  mkdir -p "$pool"
  "$HATCTL" space sample tiny --count 200 --seed 11 --out-dir "$pool" > /dev/null
  for f in "$pool"/*; do
    printf '%s %s\n' "$("$HATCTL" config features "$f" --space tiny --json |
      "$PY" -c 'import json,sys; print(json.load(sys.stdin)["params"])')" "$f"
  done | sort -n | "$PY" -c "
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
k = $CONFIGS
for i in range(k):
    print(rows[round(i * (len(rows) - 1) / (k - 1))][1])" > "$OUT/configs/chosen.txt"
fi

echo "== 3. inherited vs from scratch" >&2
i=0
while read -r cfg; do
  i=$((i + 1))
  name="c$i"
  [[ -f "$OUT/$name.inherited.json" ]] ||
    "$HATCTL" subnet eval --supernet "$OUT/super" --config "$cfg" --threads "$THREADS" --json \
      > "$OUT/$name.inherited.json"
  start=$(date +%s)
  [[ -f "$OUT/$name.scratch.json" ]] ||
    "$HATCTL" subnet train --config "$cfg" --space tiny --data "$DATA" --out "$OUT/$name" \
      --steps "$SUB_STEPS" "${RECIPE[@]}" --json > "$OUT/$name.scratch.json"
  echo "{\"stage\": \"$name\", \"seconds\": $(( $(date +%s) - start ))}" >> "$OUT/wall.jsonl"
done < "$OUT/configs/chosen.txt"

"$PY" - "$OUT" "$CONFIGS" "$SUPER_STEPS" "$SUB_STEPS" <<'PYEOF' | tee "$OUT/rank.md"
import json, sys
out, k, super_steps, sub_steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = []
for i in range(1, k + 1):
    inh = json.load(open(f"{out}/c{i}.inherited.json"))
    scr = json.load(open(f"{out}/c{i}.scratch.json"))
    rows.append((f"c{i}", inh["valid_loss"], scr["valid_loss"]))
conc = disc = 0
for a in range(k):
    for b in range(a + 1, k):
        s = (rows[a][1] - rows[b][1]) * (rows[a][2] - rows[b][2])
        conc += s > 0
        disc += s < 0
tau = (conc - disc) / (k * (k - 1) / 2)
print("| config | inherited valid loss | from-scratch valid loss |")
print("|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]:.4f} | {r[2]:.4f} |")
print(f"\nKendall tau = {tau:.3f} over {k} SubTransformers; SuperTransformer {super_steps} "
      f"updates, each SubTransformer {sub_steps} updates from scratch")
PYEOF
