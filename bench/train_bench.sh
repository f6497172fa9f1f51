#!/usr/bin/env bash
# bench/train_bench.sh: the training benchmarks recorded in docs/BENCHMARKS.md.
#
#   PARTS="throughput tiny" bench/train_bench.sh [OUT_DIR]   (default: bench/results/train-<date>)
#
# throughput: the C++ trainer (bench/train_throughput_bench) against the same training step in
#             Python PyTorch (bench/train_peer.py), Transformer-tiny on synthetic batches of
#             128 x 24 tokens, same threads (THREADS, default 2), alternating, RUNS runs each
#             (default 3): tokens/s and the ratio of the medians.
# tiny:       Transformer-tiny trained from scratch on Multi30k en->de (data/multi30k/tok) with the
#             published recipe (BRIEF §8: lr 5e-3, 4k tokens per batch, STEPS updates (default
#             8000), dropout 0.3, last-10-checkpoint average; the brief gives no schedule:
#             WARMUP updates (default 2000), then SCHEDULE (default inverse_sqrt; cosine decays
#             to 1e-7 at the last update, HAT's own); SEED default 1), then test2016
#             BLEU on tokenised, lowercased text (beam 5; the translations are kept in
#             test2016.hyp.de). Wall time is recorded (summed over resumed runs) and the progress
#             log kept (tiny_train.log). Interrupted (Ctrl-C), it checkpoints; rerun the same
#             command to resume.
# reference:  the same recipe (inverse-sqrt only) trained by bench/train_reference.py, an
#             independent Python PyTorch trainer, on the same subword ids (the corpus cache
#             `hatctl data prepare` makes), then `hatctl bleu` of its test2016 translations
#             (reference.md): tells a defect of the C++ trainer from what the recipe and data give.
#             Resumable like tiny.
set -euo pipefail
PARTS="${PARTS:-throughput tiny}"
want() { [[ " $PARTS " == *" $1 "* ]]; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/train-$(date +%Y%m%d)}"
HATCTL="$ROOT/build/bin/hatctl"
THREADS="${THREADS:-2}"
RUNS="${RUNS:-3}"
STEPS="${STEPS:-8000}"
WARMUP="${WARMUP:-2000}"
SEED="${SEED:-1}"
SCHEDULE="${SCHEDULE:-inverse_sqrt}"
PY=/usr/bin/python3  # Debian's python3-torch lives here
mkdir -p "$OUT"
"$ROOT/deploy/setup.sh" --with-bench >&2

if want throughput; then
  echo "== throughput: C++ trainer vs Python PyTorch, $THREADS thread(s)" >&2
  : > "$OUT/throughput.jsonl"
  for i in $(seq "$RUNS"); do
    cpp="$("$ROOT/build/bin/train_throughput_bench" --threads "$THREADS")"
    py="$("$PY" "$ROOT/bench/train_peer.py" --threads "$THREADS")"
    echo "{\"run\": $i, \"cpp\": $cpp, \"python\": $py}" | tee -a "$OUT/throughput.jsonl" >&2
  done
  "$PY" - "$OUT/throughput.jsonl" <<'PYEOF' | tee "$OUT/throughput.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cpp = statistics.median(r["cpp"]["tokens_per_s"] for r in rows)
py = statistics.median(r["python"]["tokens_per_s"] for r in rows)
print(f"| C++ trainer tokens/s | Python PyTorch tokens/s | C++ / Python |")
print(f"|---|---|---|")
print(f"| {cpp:.0f} | {py:.0f} | {cpp / py:.2f} |")
print(f"\nmedian of {len(rows)} runs each, {rows[0]['cpp']['threads']} thread(s), "
      f"torch {rows[0]['python']['torch']}")
PYEOF
fi

if want tiny; then
  echo "== Transformer-tiny on Multi30k en-de, $STEPS updates, warm-up $WARMUP, $SCHEDULE," \
    "seed $SEED" >&2
  start=$(date +%s)
  "$HATCTL" subnet train --config "$ROOT/data/configs/transformer-tiny.yml" --space tiny \
    --data "$ROOT/data/multi30k/tok" --out "$OUT/tiny" --steps "$STEPS" --lr 5e-3 \
    --warmup "$WARMUP" --schedule "$SCHEDULE" --seed "$SEED" --max-tokens 4096 --dropout 0.3 \
    --label-smoothing 0.1 --threads "$THREADS" --save-every 100 --keep 10 --average-last 10 \
    --valid-every 500 --log-every 100 --json \
    > "$OUT/tiny_train.json" 2> >(tee -a "$OUT/tiny_train.log" >&2)
  train_s=$(( $(date +%s) - start ))
  "$HATCTL" subnet eval --supernet "$OUT/tiny" --bleu --tokenize none --beam 5 \
    --threads "$THREADS" --translations "$OUT/test2016.hyp.de" --json > "$OUT/tiny_eval.json"
  "$PY" - "$OUT" "$train_s" "$WARMUP" "$SEED" "$SCHEDULE" <<'PYEOF' | tee "$OUT/tiny.md"
import json, sys
out, train_s, warmup, seed, schedule = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
t = json.load(open(f"{out}/tiny_train.json"))
e = json.load(open(f"{out}/tiny_eval.json"))
# The training time over every run of a resumed training (recorded in the checkpoints); only this
# run's when it resumed a checkpoint older than that record.
total = t.get("total_seconds")
wall = f"{total / 60:.1f} min" if total is not None else f"{train_s / 60:.1f} min (this run)"
b = e["test"]
print("| updates | training wall time | tokens/s | valid nll | test2016 BLEU (tok, lc) "
      "| 1-4-gram precisions | hyp / ref tokens | brevity penalty |")
print("|---|---|---|---|---|---|---|---|")
print(f"| {t['final_step']} | {wall} | {t['tokens_per_s']:.0f} | "
      f"{e['valid_nll']:.3f} | {e['test_bleu']:.2f} | "
      f"{' / '.join(f'{p:.1f}' for p in b['precisions'])} | "
      f"{b['hyp_len']} / {b['ref_len']} | {b['brevity_penalty']:.3f} |")
print(f"\nwarm-up {warmup} updates, {schedule} schedule, seed {seed}")
PYEOF
fi

if want reference; then
  [[ "$SCHEDULE" == inverse_sqrt ]] || { echo "reference: inverse_sqrt only" >&2; exit 2; }
  echo "== reference: Transformer-tiny in Python PyTorch, $STEPS updates, warm-up $WARMUP," \
    "seed $SEED" >&2
  cache="$("$HATCTL" data prepare --data "$ROOT/data/multi30k/tok" --vocab-size 10000 --json |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["cache"])')"
  "$PY" "$ROOT/bench/train_reference.py" --corpus "$cache" --out "$OUT/reference" \
    --steps "$STEPS" --warmup "$WARMUP" --seed "$SEED" --threads "$THREADS" \
    > "$OUT/reference.json" 2> >(tee -a "$OUT/reference_train.log" >&2)
  zcat "$ROOT/data/multi30k/tok/test_2016_flickr.lc.norm.tok.de.gz" > "$OUT/reference/test2016.de"
  "$HATCTL" bleu --ref "$OUT/reference/test2016.de" --hyp "$OUT/reference/test.hyp" \
    --tokenize none --json > "$OUT/reference_bleu.json"
  "$PY" - "$OUT" <<'PYEOF' | tee "$OUT/reference.md"
import json, sys
r = json.load(open(f"{sys.argv[1]}/reference.json"))
b = json.load(open(f"{sys.argv[1]}/reference_bleu.json"))
print("| trainer | updates | training wall time | valid nll | test2016 BLEU (tok, lc) "
      "| 1-4-gram precisions | hyp / ref tokens | brevity penalty |")
print("|---|---|---|---|---|---|---|---|")
print(f"| Python reference | {r['steps']} | {r['train_seconds'] / 60:.1f} min | "
      f"{r['valid_nll']:.3f} | {b['bleu']:.2f} | "
      f"{' / '.join(f'{p:.1f}' for p in b['precisions'])} | "
      f"{b['hyp_len']} / {b['ref_len']} | {b['brevity_penalty']:.3f} |")
print(f"\nwarm-up {r['warmup']} updates, inverse_sqrt schedule, seed {r['seed']}, "
      f"torch {r['torch']}")
PYEOF
fi
