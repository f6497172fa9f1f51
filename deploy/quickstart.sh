#!/usr/bin/env bash
# deploy/quickstart.sh [--full]: HAT's whole pipeline on this machine, from one command. A
# hat-server with a local agent for this machine's CPU (a fleet of one, device class local-cpu),
# driven over its API with hatctl as a user would drive it, on the `tiny` design space and
# Multi30k en-de (shipped in data/):
#
#  0. set-up and build (deploy/setup.sh; skipped with HAT_SKIP_SETUP=1)
#  1. latency dataset: SAMPLES sampled SubTransformers measured REPEATS times each on the agent
#  2. latency predictor job: fitted on them, its accuracy on held-out test rows
#  3. Transformer-tiny (the hand-designed Multi30k model) measured on the agent: the search's two
#     latency limits are its latency and two thirds of it (raised when the predictor says the
#     space's smallest SubTransformer cannot meet them)
#  4. SuperTransformer training job (STEPS updates)
#  5. search job: HAT's evolution under both limits (a sweep, one fitness cache), the winners and
#     Transformer-tiny re-measured together on the agent
#  6. the table (winners next to Transformer-tiny: validation loss, predicted and measured latency,
#     parameters), the files (HAT YAML, hatfleet JSON, weights, the Pareto front as CSV and SVG)
#     and a few test sentences translated by the winners
#
# The server also serves its dashboard on loopback (HTTP_PORT, default: any free port): the URL
# and the viewer token's file are printed at the start, to watch the jobs in a browser.
#
# Every job is submitted with an idempotency key made of its settings: a second run (same
# HAT_WORK_DIR) reuses what the first made (jobs, artifacts, the fitness cache) and ends in
# seconds. --full (or HAT_FULL=1) runs the paper-grade version: the recipe's 8,000 training
# updates and HAT's search settings (README: expected times). Writes HAT_WORK_DIR/summary.json.
#
# Environment (defaults for the quick version): HAT_WORK_DIR (quickstart-run/ in the checkout),
# BUILD_DIR, SAMPLES (200), REPEATS (2), STEPS (1200), ITERATIONS (10), POPULATION (60), PARENTS
# (15), MUTATIONS (20), CROSSOVERS (25), VALID_SENTENCES (500), THREADS (2); for tests:
# CORPORA_DIR, CORPUS, VOCAB_SIZE, SENTENCES_FILE, PROTOCOL.
set -euo pipefail
shopt -s inherit_errexit
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FULL="${HAT_FULL:-0}"
for arg in "$@"; do
  case "$arg" in
    --full) FULL=1 ;;
    *) echo "quickstart.sh: unknown argument '$arg' (expected --full)" >&2; exit 2 ;;
  esac
done
if ((FULL)); then
  : "${SAMPLES:=300}" "${REPEATS:=3}" "${STEPS:=8000}" "${ITERATIONS:=30}" "${POPULATION:=125}"
  : "${PARENTS:=25}" "${MUTATIONS:=50}" "${CROSSOVERS:=50}" "${WARMUP:=4000}"
fi
SAMPLES="${SAMPLES:-200}"
REPEATS="${REPEATS:-2}"
STEPS="${STEPS:-1200}"
WARMUP="${WARMUP:-$((STEPS / 4))}"
ITERATIONS="${ITERATIONS:-10}"
POPULATION="${POPULATION:-60}"
PARENTS="${PARENTS:-15}"
MUTATIONS="${MUTATIONS:-20}"
CROSSOVERS="${CROSSOVERS:-25}"
VALID_SENTENCES="${VALID_SENTENCES:-500}"
THREADS="${THREADS:-2}"
CORPORA_DIR="${CORPORA_DIR:-$ROOT/data}"
CORPUS="${CORPUS:-multi30k/tok}"
VOCAB_SIZE="${VOCAB_SIZE:-10000}"
SENTENCES_FILE="${SENTENCES_FILE:-$CORPORA_DIR/$CORPUS/test_2016_flickr.lc.norm.tok.en.gz}"
PROTOCOL="${PROTOCOL:-default}"
WORK="${HAT_WORK_DIR:-$ROOT/quickstart-run}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
BIN="$BUILD_DIR/bin"
TINY="$ROOT/data/configs/transformer-tiny.yml"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
STARTED=$SECONDS
STAGE_TIMES=()
STAGE_NAME=""
STAGE_START=$SECONDS

stage() {  # stage NAME TITLE: closes the previous stage's timing and opens a new one
  [[ -n "$STAGE_NAME" ]] && STAGE_TIMES+=("$STAGE_NAME=$((SECONDS - STAGE_START))")
  STAGE_NAME="$1"
  STAGE_START=$SECONDS
  printf '\n== %s\n' "$2"
}
json() {  # json EXPRESSION: evaluates a Python expression over the JSON document `d` on stdin
  python3 -c "import json, statistics, sys; d = json.load(sys.stdin); print($1)"
}
# submit KEY ARGS...: submits a job with an idempotency key, says whether an earlier run made it,
# follows it to its end (progress on the terminal) and prints nothing else on stdout but its id.
submit() {
  local key="quickstart/$1"; shift
  local id before earlier
  before="$(date +%s)"
  id="$("$BIN/hatctl" jobs submit "$@" --idempotency-key "$key")"
  earlier="$("$BIN/hatctl" jobs get "$id" --json | json "int(__import__('datetime').datetime.fromisoformat(d['created_at'].replace('Z', '+00:00')).timestamp() < $before)")"
  if ((earlier)); then
    echo "reusing $id from an earlier run ($key)" >&2
  else
    echo "submitted $id ($key)" >&2
  fi
  "$BIN/hatctl" jobs watch "$id" >&2
  echo "$id"
}

if [[ "${HAT_SKIP_SETUP:-0}" != 1 ]]; then
  stage setup "0. Set-up and build (deploy/setup.sh)"
  "$ROOT/deploy/setup.sh"
fi

stage server "Starting hat-server with a local agent for this machine (data in $WORK/server)"
rm -f "$WORK/port" "$WORK/http_port"
"$BIN/hat-server" --data-dir "$WORK/server" --listen 127.0.0.1:0 --port_file "$WORK/port" \
  --http "127.0.0.1:${HTTP_PORT:-0}" --http-port-file "$WORK/http_port" \
  --corpora-dir "$CORPORA_DIR" --local-agent --local_agent_device_class local-cpu \
  > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM  # so that the EXIT trap stops the server
for _ in $(seq 1 600); do
  [[ -s "$WORK/port" && -s "$WORK/http_port" ]] && grep -q 'serving on port' "$WORK/server.log" && break
  kill -0 $SERVER_PID 2>/dev/null || break
  sleep 0.1
done
if ! grep -q 'serving on port' "$WORK/server.log"; then
  cat "$WORK/server.log" >&2
  echo "quickstart: hat-server did not start" >&2
  exit 1
fi
export HAT_SERVER="127.0.0.1:$(cat "$WORK/port")"
export HAT_TOKEN="$(cat "$WORK/server/admin.token")"
echo "dashboard: http://127.0.0.1:$(cat "$WORK/http_port")/ (log in with the token in" \
  "$WORK/server/viewer.token)"
"$BIN/hatctl" agents list

stage dataset "1. Latency dataset: $SAMPLES SubTransformers of 'tiny' x $REPEATS measured here"
DATASET="$(submit "dataset/$SAMPLES/$REPEATS/$PROTOCOL" latency-dataset --space tiny \
  --device-class local-cpu --samples "$SAMPLES" --repeats "$REPEATS" --seed 1 \
  --protocol "$PROTOCOL")"

stage predictor "2. Latency predictor for local-cpu (accuracy on held-out test rows)"
PREDICTOR_JOB="$(submit "predictor/$DATASET" predictor --device-class local-cpu --seed 1)"
"$BIN/hatctl" predictor list --device-class local-cpu

stage reference "3. Transformer-tiny (4+4 layers, d 128, FFN 256) measured here, 5 times"
TINY_JOB="$(submit "tiny/$PROTOCOL" latency-dataset --space tiny --device-class local-cpu \
  --config "$TINY" --repeats 5 --protocol "$PROTOCOL")"
TINY_MS="$("$BIN/hatctl" jobs export "$TINY_JOB" --format full |
  python3 -c 'import json, statistics, sys
print(round(statistics.median(json.loads(l)["total_ms"] for l in sys.stdin if l.strip()), 2))')"
TWO_THIRDS_MS="$(python3 -c "print(round($TINY_MS * 2 / 3, 2))")"
LOW_MS="$TWO_THIRDS_MS"
HIGH_MS="$TINY_MS"
echo "Transformer-tiny: $TINY_MS ms here (median of 5); limits: $LOW_MS ms and $HIGH_MS ms"
# A search refuses a limit below the predicted latency of the space's smallest SubTransformer.
# A predictor fitted on few rows measured on a busy machine can put it above two thirds of
# Transformer-tiny: then the limits are raised to 5% and 50% above it, and the script says so.
PREDICTOR_VERSION="$("$BIN/hatctl" jobs get "$PREDICTOR_JOB" --json |
  json 'int(d["result"]["predictor_version"])')"
"$BIN/hatctl" predictor download --device-class local-cpu --version "$PREDICTOR_VERSION" \
  --out "$WORK/local-cpu.predictor" > /dev/null
"$BIN/hatctl" space smallest tiny --out "$WORK/smallest.yml"
FASTEST_MS="$("$BIN/hatctl" predictor predict --predictor "$WORK/local-cpu.predictor" \
  --config "$WORK/smallest.yml" --json | json 'round(d["configs"][0]["latency_ms"], 2)')"
read -r LOW_MS HIGH_MS < <(python3 -c "
print(max($LOW_MS, round($FASTEST_MS * 1.05, 2)), max($HIGH_MS, round($FASTEST_MS * 1.5, 2)))")
if [[ "$LOW_MS,$HIGH_MS" != "$TWO_THIRDS_MS,$TINY_MS" ]]; then
  echo "the predictor's fastest SubTransformer of 'tiny' is $FASTEST_MS ms: limits raised to" \
    "$LOW_MS ms and $HIGH_MS ms (a larger latency dataset predicts better)"
fi

if [[ -n "${SUPERNET_CHECKPOINT:-}" ]]; then
  stage supernet "4. SuperTransformer trained elsewhere: $SUPERNET_CHECKPOINT"
  SHA="$(sha256sum "$SUPERNET_CHECKPOINT" | cut -d' ' -f1)"
  SUPERNET="$("$BIN/hatctl" artifacts list --json |
    json "next((a['artifact_id'] for a in d.get('artifacts', []) if a.get('sha256') == '$SHA'), '')")"
  if [[ -n "$SUPERNET" ]]; then
    echo "reusing $SUPERNET from an earlier run (the same SHA-256)"
  else
    SUPERNET="$("$BIN/hatctl" supernet upload "$SUPERNET_CHECKPOINT" --json |
      json 'd["artifact_id"]')"
  fi
else
  stage supernet "4. SuperTransformer of 'tiny' trained on $CORPUS ($STEPS updates)"
  SUPERNET_JOB="$(submit "supernet/$CORPUS/$STEPS/$WARMUP/$VOCAB_SIZE" supernet --space tiny \
    --corpus "$CORPUS" --steps "$STEPS" --lr 5e-3 --warmup "$WARMUP" --max-tokens 4096 \
    --vocab-size "$VOCAB_SIZE" --threads "$THREADS" --seed 1)"
  SUPERNET="$("$BIN/hatctl" jobs get "$SUPERNET_JOB" --json | json 'd["result"]["artifact_id"]')"
fi
echo "SuperTransformer: artifact $SUPERNET"

stage search "5. Search: HAT's evolution under $LOW_MS and $HIGH_MS ms on local-cpu"
SEARCH="$(submit "search/$SUPERNET/$PREDICTOR_JOB/$LOW_MS,$HIGH_MS/$ITERATIONS/$POPULATION/$VALID_SENTENCES" \
  search --supernet "$SUPERNET" --constraint "local-cpu:$LOW_MS,$HIGH_MS" \
  --iterations "$ITERATIONS" --population "$POPULATION" --parents "$PARENTS" \
  --mutations "$MUTATIONS" --crossovers "$CROSSOVERS" --valid-sentences "$VALID_SENTENCES" \
  --threads "$THREADS" --corpus "$CORPUS" --seed 1 --reference "transformer-tiny=$TINY" \
  --remeasure-repeats 5 --remeasure-protocol "$PROTOCOL")"

stage results "6. Results: the winners next to Transformer-tiny"
"$BIN/hatctl" search result "$SEARCH"
"$BIN/hatctl" search export "$SEARCH" --out "$WORK/export"
"$BIN/hatctl" artifacts download "$SUPERNET" --out "$WORK/export/supernet.pt" > /dev/null
echo
echo "Test sentences translated by each winner (weights inherited from the SuperTransformer):"
zcat -f "$SENTENCES_FILE" | awk 'NR <= 3' > "$WORK/sentences.en"  # awk reads to the end: no SIGPIPE
for model in "$WORK"/export/winner_*.yml "$TINY"; do
  echo "-- $(basename "$model" .yml)"
  "$BIN/hatctl" translate --model "$WORK/export/supernet.pt" --config "$model" \
    --threads "$THREADS" < "$WORK/sentences.en" | paste -d '\n' "$WORK/sentences.en" - |
    sed 'n;s/^/   -> /'
done

if [[ -z "${SUPERNET_CHECKPOINT:-}" ]] && ((STEPS < 8000)); then
  echo "(a SuperTransformer trained for $STEPS updates translates poorly; --full trains the"
  echo " recipe's 8,000, and hatctl subnet train trains a winner on its own)"
fi

stage done "Done"
{
  printf '{"work_dir": "%s", "search_job": "%s", "supernet_artifact": "%s",' \
    "$WORK" "$SEARCH" "$SUPERNET"
  printf ' "transformer_tiny_ms": %s, "fastest_predicted_ms": %s, "limits_ms": [%s, %s],' \
    "$TINY_MS" "$FASTEST_MS" "$LOW_MS" "$HIGH_MS"
  printf ' "stage_seconds": {'
  sep=""
  for entry in "${STAGE_TIMES[@]}"; do
    printf '%s"%s": %s' "$sep" "${entry%%=*}" "${entry#*=}"
    sep=", "
  done
  printf '}, "total_seconds": %d}\n' $((SECONDS - STARTED))
} > "$WORK/summary.json"
echo "stage times (s): ${STAGE_TIMES[*]}; total $((SECONDS - STARTED)) s"
echo "files: $WORK/export (winner_*.yml HAT YAML, winner_*.json, winner_*.pt weights,"
echo "       pareto.csv, pareto.svg, supernet.pt); summary: $WORK/summary.json"
