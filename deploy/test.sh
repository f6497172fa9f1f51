#!/usr/bin/env bash
# deploy/test.sh: set the machine up (packages with the test tools, build), then run every test.
# Usage: deploy/test.sh [ctest arguments...]   e.g. deploy/test.sh -R Hatctl
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

"$ROOT/deploy/setup.sh" --with-test-tools
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}" "$@"
