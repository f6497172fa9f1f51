#!/usr/bin/env bash
# deploy/test.sh: set the machine up (packages with the test tools, build), then run every test.
# Usage: deploy/test.sh [ctest arguments...]   e.g. deploy/test.sh -R Hatctl
# HAT_TEST_CROSS=0 leaves out the tests labelled `cross` (the arm64 agent cross-built and run
# under qemu: about 15 minutes more the first time, with an empty ccache).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

"$ROOT/deploy/setup.sh" --with-test-tools
if [[ "${HAT_TEST_CROSS:-1}" == 0 ]]; then set -- -LE cross "$@"; fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}" "$@"
