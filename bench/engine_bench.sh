#!/usr/bin/env bash
# bench/engine_bench.sh: the inference-engine and measurement benchmarks recorded in
# docs/BENCHMARKS.md. Run on an otherwise idle machine; takes about an hour on 2 cores.
#
#   bench/engine_bench.sh [OUT_DIR]          (default: bench/results/engine-<date>)
#
# 1. noise:    20 configs of hat-wmt14-en-de, 3 interleaved repeats each, default and HAT
#              protocols: the coefficient of variation of each config's 3 totals.
# 2. fidelity: library latency vs a bare timing loop over the same forward calls.
# 3. speed:    the 17 SubTransformers HAT published, C++ engine (HAT protocol) against the
#              Python PyTorch peer (bench/hat_peer.py, HAT protocol), same thread count,
#              alternating per config.
# 4. published: the same 17 configs with the default protocol, beside HAT's published latency.
# Then bench/summarize_engine.py prints the tables. PARTS (default: all four) picks some:
#   PARTS="noise_hat fidelity" bench/engine_bench.sh bench/results/engine-20261129
set -euo pipefail
PARTS="${PARTS:-noise_default noise_hat fidelity published}"
want() { [[ " $PARTS " == *" $1 "* ]]; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/engine-$(date +%Y%m%d)}"
HATCTL="$ROOT/build/bin/hatctl"
THREADS="${THREADS:-1}"
PY=/usr/bin/python3  # Debian's python3-torch lives here
mkdir -p "$OUT"
"$ROOT/deploy/setup.sh" --with-bench >&2

if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "engine_bench: $PY cannot import torch (apt-get install python3-torch)" >&2
  exit 1
fi
"$HATCTL" space show hat-wmt14-en-de --json > "$OUT/space.json"

if want noise_default; then
echo "== 1. noise (default protocol)" >&2
"$HATCTL" measure --space hat-wmt14-en-de --sample 20 --seed 1 --repeats 3 --threads "$THREADS" \
  --protocol default --json > "$OUT/noise_default.json"
fi
if want noise_hat; then
echo "== 1. noise (HAT protocol)" >&2
"$HATCTL" measure --space hat-wmt14-en-de --sample 20 --seed 1 --repeats 3 --threads "$THREADS" \
  --protocol hat --json > "$OUT/noise_hat.json"
fi

if want fidelity; then
echo "== 2. fidelity" >&2
"$ROOT/build/bin/engine_fidelity_bench" --configs 5 --repeats 3 --threads "$THREADS" \
  > "$OUT/fidelity.jsonl"
fi

if want published; then
echo "== 3+4. published configs: C++ (HAT and default protocol) and the Python peer" >&2
: > "$OUT/published.jsonl"
mapfile -t CONFIGS < <(ls "$ROOT"/data/hat-configs/wmt14.en-de/subtransformer/HAT_*.yml | shuf --random-source=<(yes))
i=0
for cfg in "${CONFIGS[@]}"; do
  i=$((i + 1))
  name="$(basename "$cfg" .yml)"
  echo "   [$i/${#CONFIGS[@]}] $name" >&2
  cpp_hat="$("$HATCTL" measure --config "$cfg" --space hat-wmt14-en-de --protocol hat \
    --threads "$THREADS" --json)"
  py_hat="$("$HATCTL" config convert "$cfg" --to json | "$PY" -c \
    'import json,sys; print(json.dumps({"config": json.load(sys.stdin)}))' |
    "$PY" "$ROOT/bench/hat_peer.py" --space "$OUT/space.json" --threads "$THREADS")"
  cpp_default="$("$HATCTL" measure --config "$cfg" --space hat-wmt14-en-de --protocol default \
    --threads "$THREADS" --json)"
  "$PY" - "$name" <<PYEOF >> "$OUT/published.jsonl"
import json, sys
cpp_hat = json.loads('''$cpp_hat''')["configs"][0]
cpp_default = json.loads('''$cpp_default''')["configs"][0]
py = json.loads('''$py_hat''')
print(json.dumps({"name": sys.argv[1],
                  "cpp_hat": {k: cpp_hat[k] for k in ("encoder_ms", "decoder_ms", "total_ms")},
                  "cpp_default": {k: cpp_default[k] for k in ("encoder_ms", "decoder_ms", "total_ms")},
                  "python_hat": {k: py[k] for k in ("encoder_ms", "decoder_ms", "total_ms")}}))
PYEOF
done
fi
"$PY" "$ROOT/bench/summarize_engine.py" "$OUT"
