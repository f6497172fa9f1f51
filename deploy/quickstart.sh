#!/usr/bin/env bash
# deploy/quickstart.sh: set the machine up, then run hatfleet's main flow on the embedded
# default: a local hat-server with an in-process agent for this machine (a fleet of one).
#
#  1. inspect the design space (HAT's WMT'14 en-de space0) and one of HAT's published configs;
#  2. start hat-server --local-agent on a fresh data directory;
#  3. submit a latency-dataset job (SAMPLES configs, default 12), watch it to the end;
#  4. export the dataset as HAT's CSV, list the fleet;
#  5. train a latency predictor on it (a predictor-training job), download it, and predict the
#     latency of HAT's published Xeon SubTransformer here;
#  6. the same predictor fitted locally on HAT's own Xeon dataset (2,000 configs), with its
#     test accuracy; stop the server cleanly.
# Environment: SAMPLES, HAT_WORK_DIR (default: a new temporary directory), BUILD_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
WORK="${HAT_WORK_DIR:-$(mktemp -d -t hatfleet-quickstart-XXXXXX)}"
SAMPLES="${SAMPLES:-12}"
mkdir -p "$WORK"

"$ROOT/deploy/setup.sh"
BIN="$BUILD_DIR/bin"
SPACE=hat-wmt14-en-de
PUBLISHED="$ROOT/data/hat-configs/wmt14.en-de/subtransformer/HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml"

step() { printf '\n== %s\n' "$*"; }

step "The design space ($SPACE, HAT's space0)"
"$BIN/hatctl" space show "$SPACE"

step "HAT's Xeon SubTransformer (137.9 ms, BLEU 25.8): features and cost"
"$BIN/hatctl" config features "$PUBLISHED" --space "$SPACE"

step "Starting hat-server with a local agent (data in $WORK/data)"
"$BIN/hat-server" --data-dir "$WORK/data" --listen 127.0.0.1:0 --port_file "$WORK/port" \
  --local-agent --local_agent_device_class local-cpu > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
[[ -s "$WORK/port" ]] || { cat "$WORK/server.log"; echo "quickstart: server did not start" >&2; exit 1; }
export HAT_SERVER="127.0.0.1:$(cat "$WORK/port")"
export HAT_TOKEN="$(cat "$WORK/data/admin.token")"

step "Latency dataset: $SAMPLES SubTransformers of $SPACE measured on this machine"
JOB="$("$BIN/hatctl" jobs submit latency-dataset --space "$SPACE" --device-class local-cpu \
  --samples "$SAMPLES" --seed 1 --protocol hat --runs 5 --warmup 2)"
echo "submitted $JOB"
"$BIN/hatctl" jobs watch "$JOB"

step "The fleet"
"$BIN/hatctl" agents list

step "The dataset in HAT's CSV format ($WORK/local-cpu.csv)"
"$BIN/hatctl" dataset export --device-class local-cpu --format hat-csv --out "$WORK/local-cpu.csv"
column -s, -t < "$WORK/local-cpu.csv" | cut -c1-160

step "Latency predictor for local-cpu, trained by the server on the measurements above"
PJOB="$("$BIN/hatctl" jobs submit predictor --device-class local-cpu --seed 1)"
"$BIN/hatctl" jobs watch "$PJOB"
"$BIN/hatctl" predictor list --device-class local-cpu
"$BIN/hatctl" predictor download --device-class local-cpu --out "$WORK/local-cpu.predictor"
echo "predicted latency here of HAT's Xeon SubTransformer (137.9 ms on HAT's Xeon E5-2640):"
"$BIN/hatctl" predictor predict --predictor "$WORK/local-cpu.predictor" --config "$PUBLISHED"

step "The same kind of predictor fitted on HAT's published Xeon dataset (2,000 configs)"
"$BIN/hatctl" predictor fit --data "$ROOT/data/hat-latency/wmt14ende_cpu_xeon_all.csv" \
  --format hat-csv --seed 1 --out "$WORK/hat-xeon.predictor"
"$BIN/hatctl" predictor predict --predictor "$WORK/hat-xeon.predictor" --config "$PUBLISHED"

printf '\nquickstart: done; outputs in %s\n' "$WORK"
