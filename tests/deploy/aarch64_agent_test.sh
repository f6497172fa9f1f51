#!/usr/bin/env bash
# The arm64 hat-agent, cross-built on this x86 host (deploy/pi/cross-build.sh), runs under
# qemu-user against an x86 hat-server on loopback: it registers as aarch64, measures, and its
# measurements are stored marked as emulated (their latencies describe the emulator).
# Long (the cross-build: about 15 minutes on 2 cores the first time), so ctest runs it under the
# label `cross`; deploy/test.sh includes it unless HAT_TEST_CROSS=0.
# Usage: tests/deploy/aarch64_agent_test.sh BUILD_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="$(cd "${1:?usage: aarch64_agent_test.sh BUILD_DIR}" && pwd)"
OUT="$BUILD_DIR/aarch64"
export SYSROOT="${SYSROOT:-${HAT_CACHE_DIR:-$HOME/.cache/hatfleet}/arm64-sysroot}"
T="$(mktemp -d)"
SERVER= AGENT=
cleanup() { kill ${AGENT:-} ${SERVER:-} 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f "$T/agent.log" ]] && tail -20 "$T/agent.log" >&2; exit 1; }

"$ROOT/deploy/pi/cross-build.sh" "$OUT" > "$T/cross-build.log" 2>&1 ||
  { tail -30 "$T/cross-build.log"; fail "cross-build failed"; }
if ! dpkg-query -W -f='${Status}' qemu-user-static 2>/dev/null | grep -q "install ok installed"; then
  apt-get install -y -q --no-install-recommends qemu-user-static > /dev/null
fi
header="$(od -An -tx1 -j18 -N2 "$OUT/bin/hat-agent" | tr -d ' ')"
[[ "$header" == b700 ]] || fail "bin/hat-agent is not an aarch64 ELF (e_machine $header)"

"$BUILD_DIR/bin/hat-server" --data-dir="$T/data" --listen=127.0.0.1:0 --port_file="$T/port" \
  > "$T/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 150); do [[ -s "$T/port" ]] && break; sleep 0.2; done
[[ -s "$T/port" ]] || fail "hat-server did not start: $(cat "$T/server.log")"
ADDR="127.0.0.1:$(cat "$T/port")"
ADMIN="$(cat "$T/data/admin.token")"
hatctl() { "$BUILD_DIR/bin/hatctl" "$@" --server "$ADDR" --token "$ADMIN"; }

qemu-aarch64-static -L "$SYSROOT" "$OUT/bin/hat-agent" --server="$ADDR" \
  --device-class=pi-emulated --token-file="$T/data/fleet.token" > "$T/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 600); do grep -q registered "$T/agent.log" && break; sleep 0.5; done
grep -q registered "$T/agent.log" || fail "the emulated agent did not register"

job="$(hatctl jobs submit latency-dataset --space tiny --device-class pi-emulated --samples 2 \
  --protocol hat --runs 2 --warmup 1)"
timeout 900 "$BUILD_DIR/bin/hatctl" jobs watch "$job" --server "$ADDR" --token "$ADMIN" \
  > "$T/watch.log" 2>&1 || fail "the job did not finish: $(tail -3 "$T/watch.log")"
hatctl dataset export --device-class pi-emulated --format full > "$T/export.jsonl"
python3 - "$T/export.jsonl" <<'PY' || fail "stored measurements: $(cat "$T/export.jsonl")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == 2, f"{len(rows)} measurements stored, expected 2"
for r in rows:
    hw = r["hardware"]
    assert hw["cpu_arch"] == "aarch64", hw
    assert hw.get("emulated") is True, hw
    assert r["total_ms"] > 0 and not r.get("error"), r
PY
hatctl agents list --json | python3 -c '
import json, sys
a = json.load(sys.stdin)["agents"]
assert len(a) == 1 and a[0]["hardware"]["cpu_arch"] == "aarch64" and a[0]["hardware"]["emulated"], a
' || fail "the agent is not listed as an emulated aarch64"
kill -TERM $AGENT && wait $AGENT || fail "the emulated agent did not stop cleanly on SIGTERM"
AGENT=
echo "PASS"
