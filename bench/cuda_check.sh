#!/usr/bin/env bash
# bench/cuda_check.sh: the engine's CUDA path checked on a GPU (bench/cuda_check.cc says what is
# checked). Debian's LibTorch is CPU-only, so the check is built against the CUDA LibTorch that
# ships inside pip's torch on the GPU machine; the project's other dependencies come from Debian.
#
#   bench/cuda_check.sh --pack DEPS     on this (Debian) machine: copies the Abseil, yaml-cpp,
#                                       nlohmann-json and CLI11 headers and the shared libraries
#                                       into DEPS, to take to the GPU machine
#   bench/cuda_check.sh DEPS OUT_DIR    on the GPU machine: builds build-cuda/cuda_check from the
#                                       engine, measure and common sources with DEPS and
#                                       python3's torch, runs it on 8 SubTransformers sampled
#                                       from each of hat-wmt14-en-de and tiny and on HAT's 17
#                                       published ones, writes OUT_DIR/cuda_check-<name>.json
#                                       and OUT_DIR/build.log
# Results are recorded in docs/BENCHMARKS.md ("The CUDA path").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ "${1:-}" == "--pack" ]]; then
  DEPS="${2:?--pack needs a folder}"
  mkdir -p "$DEPS/include" "$DEPS/lib"
  for h in absl yaml-cpp nlohmann CLI; do cp -r "/usr/include/$h" "$DEPS/include/"; done
  # The versioned files, links resolved: the GPU machine has no Debian packages.
  cp -L /usr/lib/x86_64-linux-gnu/libabsl_*.so.20220623 /usr/lib/x86_64-linux-gnu/libyaml-cpp.so.0.7 \
    "$DEPS/lib/"
  du -sh "$DEPS"
  exit 0
fi

DEPS="$(cd "${1:?usage: bench/cuda_check.sh DEPS OUT_DIR (or --pack DEPS)}" && pwd)"
OUT="${2:?usage: bench/cuda_check.sh DEPS OUT_DIR}"
mkdir -p "$OUT"
BUILD="$ROOT/build-cuda"
PY="${PYTHON:-python3}"  # the Python whose torch to build against
mkdir -p "$BUILD"
TORCH_DIR="$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
ABI="$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
CXX="${CXX:-$(command -v g++ || command -v c++ || command -v clang++)}"
{
  echo "torch $("$PY" -c 'import torch; print(torch.__version__, torch.version.cuda)') at $TORCH_DIR, cxx11 abi $ABI"
  "$CXX" --version | head -1
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
} | tee "$OUT/build.log"
if [[ "$ABI" != 1 ]]; then
  echo "this torch uses the old C++ ABI; Debian's libraries use the new one" | tee -a "$OUT/build.log"
  exit 1
fi

# The engine and what it needs; not the protocol-buffer conversions.
SOURCES=("$ROOT"/engine/*.cc "$ROOT/bench/cuda_check.cc")
for f in "$ROOT"/common/*.cc "$ROOT"/measure/*.cc; do
  [[ "$f" == */proto_conversions.cc || "$f" == */measure_proto.cc ]] || SOURCES+=("$f")
done
export CXX BUILD
# torch's headers decide the language level they need; try C++17 (the project's) first.
STD=c++17
if ! "$CXX" -std=$STD -fsyntax-only -I"$TORCH_DIR/include" \
    -I"$TORCH_DIR/include/torch/csrc/api/include" -x c++ - <<<'#include <torch/torch.h>' \
    >>"$OUT/build.log" 2>&1; then
  STD=c++20
fi
export FLAGS="-std=$STD -O2 -DNDEBUG -fPIC -D_GLIBCXX_USE_CXX11_ABI=1 -I$ROOT -I$DEPS/include \
  -I$TORCH_DIR/include -I$TORCH_DIR/include/torch/csrc/api/include"
echo "compiling ${#SOURCES[@]} files with -std=$STD" | tee -a "$OUT/build.log"
start=$(date +%s)
printf '%s\n' "${SOURCES[@]}" | xargs -P "${JOBS:-$(nproc)}" -I{} bash -c \
  'src="$1"; obj="$BUILD/$(basename "$(dirname "$src")")_$(basename "$src" .cc).o";
   $CXX $FLAGS -c "$src" -o "$obj" || { echo "FAILED: $src"; exit 255; }' _ {} \
  >>"$OUT/build.log" 2>&1
# libtorch_cuda registers CUDA with LibTorch when loaded: link it even though no symbol is used.
# (A CPU-only torch has none; the check then reports that CUDA is unavailable.)
CUDA_LIBS=()
[[ -e "$TORCH_DIR/lib/libtorch_cuda.so" ]] && CUDA_LIBS=(-ltorch_cuda -lc10_cuda)
"$CXX" "$BUILD"/*.o -o "$BUILD/cuda_check" -L"$TORCH_DIR/lib" -Wl,--no-as-needed "${CUDA_LIBS[@]}" \
  -ltorch -ltorch_cpu -lc10 "$DEPS"/lib/*.so* -Wl,-rpath,"$TORCH_DIR/lib" \
  -Wl,-rpath,"$DEPS/lib" -lpthread >>"$OUT/build.log" 2>&1
echo "built in $(( $(date +%s) - start )) s" | tee -a "$OUT/build.log"

status=0
run() {  # NAME ARGS...: one check, its JSON in OUT/cuda_check-NAME.json and a summary line
  local name="$1"
  shift
  "$BUILD/cuda_check" "$@" >"$OUT/cuda_check-$name.json" 2>>"$OUT/build.log" || status=$?
  [[ -s "$OUT/cuda_check-$name.json" ]] || return 0
  "$PY" - "$OUT/cuda_check-$name.json" <<'PYEOF' || true
import json, re, sys
j = json.load(open(sys.argv[1]))
worst = max(max(c["logits_rel_error_device_vs_cpu"], c["incremental_vs_full_rel_error_device"])
            for c in j["correctness"])
same = sum(c["beam_search_same_tokens"] for c in j["correctness"])
lat = sorted(r["total_ms"] for r in j["latency"])
print(f"{sys.argv[1]}: passed={j['passed']} worst relative error {worst:.2e}, beam search "
      f"identical to CPU {same}/{len(j['correctness'])}, latency {lat[0]:.2f}-{lat[-1]:.2f} ms "
      f"(median {lat[len(lat) // 2]:.2f})")
# HAT's published SubTransformers: their name holds the latency HAT measured on its device.
for r in j["latency"]:
    if r["name"] != "sampled":
        print(f"  {r['name']}: {r['total_ms']:.2f} ms (encoder {r['encoder_ms']:.2f}, "
              f"decoder {r['decoder_ms']:.2f})")
PYEOF
}
run hat-wmt14-en-de --space hat-wmt14-en-de --configs 8 --measure 8
run tiny --space tiny --configs 8 --measure 8
run published --space hat-wmt14-en-de --measure 17 \
  $(printf -- '--config %s ' "$ROOT"/data/hat-configs/wmt14.en-de/subtransformer/HAT_*.yml)
exit $status
