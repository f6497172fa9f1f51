#!/usr/bin/env bash
# deploy/test.sh: set the machine up (packages with the test tools, build), then run every test.
# Usage: deploy/test.sh [ctest arguments...]   e.g. deploy/test.sh -R Hatctl
# HAT_TEST_CROSS=0 leaves out the tests labelled `cross` (the arm64 agent cross-built and run
# under qemu: about 15 minutes more the first time, with an empty ccache). HAT_TEST_IMAGES=1 adds
# the tests labelled `images` (the container images built with podman and run: about 30 minutes
# with no cached layers; root needed). HAT_TEST_FUZZ=0 leaves out the tests labelled `fuzz` (the
# fuzz targets' clang build, each fuzzed a few seconds: about 10 minutes the first time).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

"$ROOT/deploy/setup.sh" --with-test-tools
left_out=()
if [[ "${HAT_TEST_CROSS:-1}" == 0 ]]; then left_out+=(cross); fi
if [[ "${HAT_TEST_FUZZ:-1}" == 0 ]]; then left_out+=(fuzz); fi
if [[ "${HAT_TEST_IMAGES:-0}" != 1 ]]; then left_out+=(images); fi
if ((${#left_out[@]})); then set -- -LE "^($(IFS='|'; echo "${left_out[*]}"))\$" "$@"; fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}" "$@"
