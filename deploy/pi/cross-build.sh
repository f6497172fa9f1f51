#!/usr/bin/env bash
# deploy/pi/cross-build.sh [OUT_DIR]: hat-agent for 64-bit Arm (Raspberry Pi OS bookworm), built
# on this x86-64 Debian bookworm host.
#
# Debian has arm64 packages of every dependency, but libtorch-dev and librocksdb-dev cannot be
# installed beside their amd64 versions, so the build uses a sysroot instead: the arm64 packages
# hat-agent needs (and theirs) are downloaded with apt-get into a private cache, using a private
# package list and an empty dpkg status (nothing on this host changes), and unpacked with
# `dpkg -x`. crossbuild-essential-arm64 compiles; deploy/pi/aarch64-toolchain.cmake points CMake
# at the sysroot, and protoc and gRPC's plugin run from the host.
#
# Writes OUT_DIR (default build-aarch64/) with bin/hat-agent, and OUT_DIR/RUNTIME-PACKAGES: what
# to install on the Pi for it (deploy/pi/install.sh --prebuilt OUT_DIR/bin/hat-agent does).
# SYSROOT (default ~/.cache/hatfleet/arm64-sysroot) is kept for the next build; JOBS (2).
# About 230 MB of packages; the build about 15 minutes on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/build-aarch64}"
CACHE="${HAT_CACHE_DIR:-$HOME/.cache/hatfleet}"
SYSROOT="${SYSROOT:-$CACHE/arm64-sysroot}"
JOBS="${JOBS:-2}"
# hat-agent's build dependencies (deploy/setup.sh --agent-only), for arm64. protobuf-compiler-grpc
# only so that gRPC's CMake files find the plugin they name; the host's plugin runs.
ARM64_PACKAGES=(libtorch-dev libopenblas0-openmp libgrpc++-dev libgrpc-dev libprotobuf-dev
  libabsl-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev protobuf-compiler-grpc)
RUNTIME_PACKAGES="libtorch1.13 libopenblas0-openmp libgrpc++1.51 libprotobuf32 libabsl20220623 libyaml-cpp0.7"

# 1. The host's tools.
HOST_PACKAGES=(crossbuild-essential-arm64 cmake ninja-build pkg-config protobuf-compiler
  protobuf-compiler-grpc)
missing=()
for p in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "cross-build.sh: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. The sysroot, once.
if [[ ! -f "$SYSROOT/.complete" ]]; then
  APT="$CACHE/arm64-apt"
  mkdir -p "$APT/lists/partial" "$APT/archives/partial"
  opts=(-o APT::Architecture=arm64 -o APT::Architectures=arm64 -o "Dir::State::Lists=$APT/lists"
    -o "Dir::Cache::Archives=$APT/archives" -o Dir::State::Status=/dev/null
    -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  echo "cross-build.sh: downloading arm64 packages into $APT"
  apt-get "${opts[@]}" update -q
  apt-get "${opts[@]}" install --download-only --no-install-recommends -y -q "${ARM64_PACKAGES[@]}"
  rm -rf "$SYSROOT" && mkdir -p "$SYSROOT"
  n=0
  for deb in "$APT"/archives/*.deb; do
    dpkg -x "$deb" "$SYSROOT"
    n=$((n + 1))
  done
  # What update-alternatives would have made: BLAS and LAPACK are OpenBLAS (openmp), as
  # deploy/setup.sh has it on x86.
  for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    ln -sf "openblas-openmp/$lib" "$SYSROOT/usr/lib/aarch64-linux-gnu/$lib"
  done
  echo "cross-build.sh: unpacked $n packages into $SYSROOT"
  touch "$SYSROOT/.complete"
fi

# 3. The build (a build directory made against another sysroot is started afresh: CMake keeps
#    the libraries it found there).
if [[ -f "$OUT/CMakeCache.txt" ]] && ! grep -qx "HAT_SYSROOT:PATH=$SYSROOT" "$OUT/CMakeCache.txt"; then
  rm -rf "$OUT"
fi
cmake -S "$ROOT" -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHAT_AGENT_ONLY=ON \
  -DCMAKE_TOOLCHAIN_FILE="$ROOT/deploy/pi/aarch64-toolchain.cmake" -DHAT_SYSROOT="$SYSROOT" \
  $(command -v ccache > /dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake --build "$OUT" --target hat-agent -j "$JOBS"
echo "$RUNTIME_PACKAGES" > "$OUT/RUNTIME-PACKAGES"
file "$OUT/bin/hat-agent" 2> /dev/null || true
echo "cross-build.sh: $OUT/bin/hat-agent (on the Pi: apt-get install $RUNTIME_PACKAGES," \
  "or deploy/pi/install.sh --prebuilt)"
