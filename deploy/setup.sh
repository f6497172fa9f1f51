#!/usr/bin/env bash
# deploy/setup.sh: make this Debian bookworm machine able to build hatfleet, then build it.
#
# Idempotent: apt runs only when a package is missing; the CMake build is incremental.
# Usage: deploy/setup.sh [--no-build] [--debug] [--with-bench] [--with-test-tools] [--agent-only]
#   --agent-only: a device's set-up: the packages hat-agent needs and a build of hat-agent alone
#   (cmake -DHAT_AGENT_ONLY=ON; deploy/pi/install.sh and the agent images use it).
#   BUILD_DIR (default: build) and JOBS (default: 2) may be set in the environment.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-2}"
BUILD_TYPE=Release
DO_BUILD=1
WITH_BENCH=0
WITH_TEST_TOOLS=0
AGENT_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --no-build) DO_BUILD=0 ;;
    --debug) BUILD_TYPE=Debug ;;
    --with-bench) WITH_BENCH=1 ;;
    --with-test-tools) WITH_TEST_TOOLS=1 ;;
    --agent-only) AGENT_ONLY=1 ;;
    *) echo "setup.sh: unknown argument '$arg' (expected --no-build, --debug, --with-bench," \
         "--with-test-tools, --agent-only)" >&2
       exit 2 ;;
  esac
done

# Every Debian package the project needs, build and run time. libopenblas0-openmp matters:
# without it Debian's LibTorch falls back to reference BLAS, measured 5.6x slower. libgloo-dev:
# the headers of the Gloo collectives that LibTorch's c10d (data-parallel training) includes.
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git clang python3 python3-yaml
  libtorch-dev libopenblas0-openmp libgloo-dev
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  librocksdb-dev libabsl-dev
  googletest libgtest-dev libgmock-dev openssl libssl-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  libsentencepiece-dev zlib1g-dev
  libcpp-httplib-dev prometheus-cpp-dev libjs-chart.js
)
# hat-agent alone: no RocksDB, dashboard, sentencepiece, CLI11 or GoogleTest.
if ((AGENT_ONLY)); then
  PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config
    libtorch-dev libopenblas0-openmp
    libgrpc++-dev libgrpc-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
    libabsl-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev
  )
fi
# Benchmarks only: the Python PyTorch peer of bench/ (Debian's, the same LibTorch 1.13).
if ((WITH_BENCH)); then
  PACKAGES+=(python3-torch python3-numpy)
fi

# Tests only: the dashboard's browser test (headless Chromium), promtool for /metrics,
# systemd-analyze for the service units, the arm64 cross-compiler and qemu-user for the
# cross-built agent's test (tests/deploy/aarch64_agent_test.sh), and libFuzzer's runtime for the
# fuzz targets' clang build (tests/fuzz/run.sh).
if ((WITH_TEST_TOOLS)); then
  PACKAGES+=(chromium chromium-driver prometheus systemd crossbuild-essential-arm64
    qemu-user-static libclang-rt-14-dev)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup.sh: installing ${#missing[@]} missing package(s): ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: need root to install packages (run as root or with sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # The prometheus package is here for promtool: keep its server (and any other daemon a package
  # brings) from being started by the install.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all ${#PACKAGES[@]} packages present"
fi

if ((DO_BUILD == 0)); then
  exit 0
fi

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DHAT_AGENT_ONLY="$AGENT_ONLY" \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
