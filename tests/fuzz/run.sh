#!/usr/bin/env bash
# tests/fuzz/run.sh: fuzz every target (or the named ones) with libFuzzer for a fixed time each.
# Builds a clang tree with -DHAT_FUZZ=ON (AddressSanitizer, UndefinedBehaviorSanitizer) in
# BUILD (default build-fuzz), then runs each target on a corpus seeded from the files the
# project ships (BUILD/fuzz/NAME.seeds) and reports executions, coverage and findings.
#
#   tests/fuzz/run.sh [--seconds N] [--out DIR] [--json] [TARGET...]
#     --seconds N   fuzzing time per target (default 60)
#     --out DIR     corpora, findings (crash-*, leak-*, timeout-*) and summary.json (default
#                   BUILD/fuzz-out)
#     --json        print the summary as JSON instead of a table
# Exit status: 0 when no target found anything; 1 otherwise (the findings are kept in
# OUT/findings/NAME, emptied when the target runs again; copy each into
# tests/fuzz/regressions/NAME with its fix).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-fuzz}"
SECONDS_EACH=60 OUT= JSON=0 TARGETS=()
while (($#)); do
  case "$1" in
    --seconds) SECONDS_EACH="${2:?--seconds needs a number}"; shift 2 ;;
    --out) OUT="${2:?--out needs a folder}"; shift 2 ;;
    --json) JSON=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
OUT="${OUT:-$BUILD/fuzz-out}"
command -v clang++ > /dev/null || { echo "run.sh: clang++ is missing (deploy/setup.sh installs it)" >&2; exit 2; }

if [[ ! -f "$BUILD/build.ninja" ]]; then
  LAUNCHER=()
  command -v ccache > /dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
    -DHAT_FUZZ=ON "${LAUNCHER[@]}" > "${TMPDIR:-/tmp}/hatfleet-fuzz-configure.log" 2>&1 ||
    { cat "${TMPDIR:-/tmp}/hatfleet-fuzz-configure.log"; exit 1; }
fi
echo "building the fuzz targets in $BUILD" >&2
cmake --build "$BUILD" --target fuzz_targets -j "${JOBS:-2}" > "$BUILD/fuzz-build.log" 2>&1 ||
  { tail -30 "$BUILD/fuzz-build.log"; exit 1; }
if ((${#TARGETS[@]} == 0)); then
  for f in "$BUILD"/fuzz/*.seeds; do TARGETS+=("$(basename "$f" .seeds)"); done
fi

mkdir -p "$OUT"
# Leaks are findings; a slow input (over 10 s) is a hang.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
# LibTorch's own allocations (lazily made singletons) are not reported as leaks: lsan.supp.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/fuzz/lsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
summary="$OUT/summary.jsonl"
: > "$summary"
status=0
for name in "${TARGETS[@]}"; do
  bin="$BUILD/fuzz/$name"
  [[ -x "$bin" ]] || { echo "run.sh: no fuzz target $name" >&2; exit 2; }
  corpus="$OUT/corpus/$name" findings="$OUT/findings/$name"
  rm -rf "$findings"  # this run's findings only (keep earlier ones in tests/fuzz/regressions)
  mkdir -p "$corpus" "$findings"
  mapfile -t seeds < "$BUILD/fuzz/$name.seeds"
  echo "fuzzing $name for ${SECONDS_EACH}s" >&2
  code=0
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -max_len=65536 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "${seeds[@]}" \
    > "$OUT/$name.log" 2>&1 || code=$?
  found=$(find "$findings" -type f | wc -l)
  ((code == 0 && found == 0)) || status=1
  python3 - "$OUT/$name.log" "$name" "$code" "$found" "$SECONDS_EACH" "$corpus" >> "$summary" <<'PY'
import json, os, re, sys
log, name, code, found, seconds, corpus = sys.argv[1:]
text = open(log, errors="replace").read()
stat = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M))
cov = re.findall(r"cov: (\d+) ft: (\d+)", text)
print(json.dumps({
    "target": name, "seconds": int(seconds), "exit_code": int(code), "findings": int(found),
    "executions": int(stat.get("number_of_executed_units", 0)),
    "execs_per_s": int(stat.get("average_exec_per_sec", 0)),
    "edges_covered": int(cov[-1][0]) if cov else 0, "features": int(cov[-1][1]) if cov else 0,
    "corpus_files": len(os.listdir(corpus)), "peak_rss_mb": int(stat.get("peak_rss_mb", 0)),
}))
PY
done

python3 - "$summary" "$JSON" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if sys.argv[2] == "1":
    print(json.dumps(rows, indent=2))
else:
    print(f"{'target':32} {'s':>4} {'executions':>11} {'exec/s':>7} {'edges':>6} {'corpus':>6} findings")
    for r in rows:
        print(f"{r['target']:32} {r['seconds']:>4} {r['executions']:>11} {r['execs_per_s']:>7} "
              f"{r['edges_covered']:>6} {r['corpus_files']:>6} {r['findings']}"
              + ("" if r["exit_code"] == 0 else f" (exit {r['exit_code']})"))
PY
exit $status
