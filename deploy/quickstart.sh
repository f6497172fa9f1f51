#!/usr/bin/env bash
# deploy/quickstart.sh: set the machine up, then run hatfleet's main flow on the embedded default
# (the built-in WMT'14 en-de design space and HAT's published SubTransformers).
#
# Today the flow is local: inspect the design space, sample SubTransformers reproducibly, and
# compute HAT's latency features and the analytic cost of a published config. Later releases run
# measurement, predictor training and search through a local server and agent here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
WORK="${HAT_WORK_DIR:-$(mktemp -d -t hatfleet-quickstart-XXXXXX)}"
mkdir -p "$WORK"

"$ROOT/deploy/setup.sh"
HATCTL="$BUILD_DIR/bin/hatctl"
SPACE=hat-wmt14-en-de
PUBLISHED="$ROOT/data/hat-configs/wmt14.en-de/subtransformer/HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml"

step() { printf '\n== %s\n' "$*"; }

step "The design space ($SPACE, HAT's space0)"
"$HATCTL" space show "$SPACE"

step "Five SubTransformers sampled with seed 1 (written as HAT YAML to $WORK/configs)"
mkdir -p "$WORK/configs"
"$HATCTL" space sample "$SPACE" --count 5 --seed 1 --out-dir "$WORK/configs"

step "HAT's Xeon SubTransformer (137.9 ms, BLEU 25.8): validity, features, cost"
"$HATCTL" config validate "$PUBLISHED" --space "$SPACE"
"$HATCTL" config features "$PUBLISHED" --space "$SPACE"

step "The same as JSON, for scripts"
"$HATCTL" config features "$PUBLISHED" --space "$SPACE" --json | tee "$WORK/features.json"

printf '\nquickstart: done; outputs in %s\n' "$WORK"
