#!/usr/bin/env bash
# bench/rank_bench.sh: HAT's key claim on this machine: SubTransformers ranked by validation loss
# with weights inherited from a SuperTransformer rank as they do after training each from
# scratch (Kendall's tau). Recorded in docs/BENCHMARKS.md.
#
#   bench/rank_bench.sh [OUT_DIR]     (default: bench/results/rank-<date>)
#
# 1. CONFIGS SubTransformers (default 8) spread across the space: 200 sampled (seed 11), sorted
#    by parameter count, taken at evenly spaced ranks.
# 2. SuperTransformer of the `tiny` space on Multi30k en->de, SUPER_STEPS updates (default 8000).
#    SUPER_EVAL_EVERY=N (default 0: off) trains it in segments of N updates (resume is exact: the
#    weights are those of one uninterrupted run) and takes the inherited losses at the end of
#    each into trajectory/, so the report shows tau at every checkpoint: how much it moves.
# 3. Each: validation loss with inherited weights (hatctl subnet eval), and validation loss after
#    SUB_STEPS updates from scratch (hatctl subnet train; default 4000), same recipe (dropout
#    scaled against the space's SuperTransformer, as HAT does) but for the warm-up (SUB_WARMUP,
#    default 2000, so a short budget is not spent in warm-up). PARALLEL trainings (default 1)
#    run side by side, THREADS / PARALLEL threads each: on 2 cores two 1-thread trainings
#    finish sooner than two 2-thread ones in turn.
# 4. Kendall's tau between the two orders, the budget (updates, wall time) beside it, in
#    rank-<SUPER_STEPS>-<SUB_STEPS>.md.
# Every step resumes where it stopped when the script is run again, and results are kept per
# budget: rerun with a larger SUPER_STEPS or SUB_STEPS and the trainings continue from their
# last checkpoints (the inverse-sqrt schedule does not depend on the total), so a run of N
# updates is the same as one extended to N.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/rank-$(date +%Y%m%d)}"
HATCTL="$ROOT/build/bin/hatctl"
THREADS="${THREADS:-2}"
SUPER_STEPS="${SUPER_STEPS:-8000}"
SUB_STEPS="${SUB_STEPS:-4000}"
CONFIGS="${CONFIGS:-8}"
SUB_WARMUP="${SUB_WARMUP:-2000}"
PARALLEL="${PARALLEL:-1}"
SUPER_EVAL_EVERY="${SUPER_EVAL_EVERY:-0}"
SUB_THREADS=$(( THREADS / PARALLEL > 0 ? THREADS / PARALLEL : 1 ))
DATA="$ROOT/data/multi30k/tok"
PY=/usr/bin/python3
RECIPE=(--lr 5e-3 --max-tokens 4096 --dropout 0.3 --save-every 500 --keep 2 --log-every 100)
mkdir -p "$OUT/configs"
OUT="$(cd "$OUT" && pwd)"
"$ROOT/deploy/setup.sh" >&2

echo "== 1. $CONFIGS SubTransformers spread by size" >&2
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
    print(rows[round(i * (len(rows) - 1) / (k - 1))][1])" |
    sed "s|^$OUT/||" > "$OUT/configs/chosen.txt"  # relative to OUT: the results travel
fi

echo "== 2. SuperTransformer, $SUPER_STEPS updates" >&2
super_train() {  # to_step
  "$HATCTL" supernet train --space tiny --data "$DATA" --out "$OUT/super" --steps "$1" \
    "${RECIPE[@]}" --warmup 2000 --threads "$THREADS" --json > "$OUT/super_train.json"
}
inherited() {  # step dir: each config's validation loss with the weights of checkpoint <step>
  local i=0 cfg f
  while read -r cfg; do
    i=$((i + 1))
    f="$2/c$i.inherited-$1.json"
    if [[ ! -s "$f" ]]; then
      "$HATCTL" subnet eval --supernet "$OUT/super/checkpoint_$1.pt" --config "$OUT/$cfg" \
        --threads "$THREADS" --json > "$f.part"
      mv "$f.part" "$f"
    fi
  done < "$OUT/configs/chosen.txt"
}
start=$(date +%s)
if (( SUPER_EVAL_EVERY > 0 )); then
  mkdir -p "$OUT/trajectory"
  for (( s = SUPER_EVAL_EVERY; s < SUPER_STEPS; s += SUPER_EVAL_EVERY )); do
    [[ -s "$OUT/trajectory/c$CONFIGS.inherited-$s.json" ]] && continue
    super_train "$s"
    if [[ -f "$OUT/super/checkpoint_$s.pt" ]]; then
      inherited "$s" "$OUT/trajectory"
    else  # the run was already further along and its checkpoint of that step is pruned
      echo "no SuperTransformer checkpoint at update $s: not in the trajectory" >&2
    fi
  done
fi
super_train "$SUPER_STEPS"
echo "{\"stage\": \"super\", \"to_step\": $SUPER_STEPS, \"seconds\": $(( $(date +%s) - start ))}" \
  >> "$OUT/wall.jsonl"

echo "== 3. inherited vs from scratch ($PARALLEL at a time, $SUB_THREADS threads each)" >&2
train_from_scratch() {  # name cfg
  local start
  start=$(date +%s)
  "$HATCTL" subnet train --config "$2" --space tiny --data "$DATA" --out "$OUT/$1" \
    --steps "$SUB_STEPS" "${RECIPE[@]}" --warmup "$SUB_WARMUP" --threads "$SUB_THREADS" \
    --json > "$OUT/$1.scratch-$SUB_STEPS.json.part" 2> "$OUT/$1.log"
  mv "$OUT/$1.scratch-$SUB_STEPS.json.part" "$OUT/$1.scratch-$SUB_STEPS.json"
  echo "{\"stage\": \"$1\", \"to_step\": $SUB_STEPS, \"seconds\": $(( $(date +%s) - start ))}" \
    >> "$OUT/wall.jsonl"
}
inherited "$SUPER_STEPS" "$OUT"
i=0
failed=0
while read -r cfg; do
  i=$((i + 1))
  [[ -f "$OUT/c$i.scratch-$SUB_STEPS.json" ]] && continue
  while (( $(jobs -rp | wc -l) >= PARALLEL )); do wait -n || failed=1; done
  train_from_scratch "c$i" "$OUT/$cfg" &
done < "$OUT/configs/chosen.txt"
while (( $(jobs -rp | wc -l) > 0 )); do wait -n || failed=1; done
if (( failed )); then
  echo "a from-scratch training failed: see $OUT/c*.log" >&2
  exit 1
fi

report="$OUT/rank-$SUPER_STEPS-$SUB_STEPS.md"
"$PY" - "$OUT" "$CONFIGS" "$SUPER_STEPS" "$SUB_STEPS" <<'PYEOF' | tee "$report"
import glob, json, os, sys
out, k, super_steps, sub_steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def kendall(x, y):  # tau-a: (concordant - discordant) pairs over all pairs
    s = [(x[a] - x[b]) * (y[a] - y[b]) for a in range(len(x)) for b in range(a + 1, len(x))]
    return (sum(v > 0 for v in s) - sum(v < 0 for v in s)) / len(s)

rows = []
for i in range(1, k + 1):
    inh = json.load(open(f"{out}/c{i}.inherited-{super_steps}.json"))
    scr = json.load(open(f"{out}/c{i}.scratch-{sub_steps}.json"))
    rows.append((f"c{i}", inh["valid_loss"], scr["valid_loss"]))
tau = kendall([r[1] for r in rows], [r[2] for r in rows])
print("| config | inherited valid loss | from-scratch valid loss |")
print("|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]:.4f} | {r[2]:.4f} |")
print(f"\nKendall tau = {tau:.3f} over {k} SubTransformers; SuperTransformer {super_steps} "
      f"updates, each SubTransformer {sub_steps} updates from scratch")
# Earlier checkpoints: the trajectory, and the results of smaller SUPER_STEPS budgets.
earlier = {}
for f in glob.glob(f"{out}/trajectory/c*.inherited-*.json") + glob.glob(
        f"{out}/c*.inherited-*.json"):
    name, step = os.path.basename(f)[:-len(".json")].split(".inherited-")
    if int(step) < int(super_steps):
        earlier.setdefault(int(step), {})[name] = json.load(open(f))["valid_loss"]
steps = [s for s in sorted(earlier) if len(earlier[s]) == k]
if steps:
    print("\n| SuperTransformer checkpoint (updates) | Kendall tau |\n|---|---|")
    for s in steps:
        inh = [earlier[s][f"c{i}"] for i in range(1, k + 1)]
        print(f"| {s} | {kendall(inh, [r[2] for r in rows]):.3f} |")
    print(f"| {super_steps} | {tau:.3f} |")
PYEOF
