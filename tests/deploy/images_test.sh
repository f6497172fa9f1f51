#!/usr/bin/env bash
# The container images built and run on this machine: deploy/docker/Dockerfile.server and
# Dockerfile.agent built with podman (the base image made by debootstrap from Debian's archive,
# since no registry is reachable), the server container started on a fresh volume, the agent
# container measuring a job for it, the server stopped with SIGTERM and started again on the
# same volume. Checks: health SERVING, the dashboard refusing a request without a token, the
# job's measurements stored and made in the container (its hardware says so), a clean stop
# (exit code 0), the measurements still there after the restart.
# Long (the images compile hatfleet: about 30 minutes on 2 cores with no cached layers), so
# ctest runs it under the label `images`, and deploy/test.sh only with HAT_TEST_IMAGES=1.
# Needs root (podman, debootstrap); missing tools are installed from Debian.
# Usage: tests/deploy/images_test.sh BUILD_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="$(cd "${1:?usage: images_test.sh BUILD_DIR}" && pwd)"
TAG="${HAT_IMAGE_TAG:-0.1.0}"
T="$(mktemp -d)"
NAME="hatfleet-test-$$"
VOLUME="$NAME-data"
# runc: crun refuses the hybrid cgroup layout of some VMs; explicit ulimits: podman's default
# RLIMIT_NOFILE cannot be raised inside some VMs.
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
cleanup() {
  "${PODMAN[@]}" rm -f -t 5 "$NAME-agent" "$NAME-server" > /dev/null 2>&1 || true
  "${PODMAN[@]}" volume rm -f "$VOLUME" > /dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for c in server agent; do
    echo "--- $c container log" >&2
    "${PODMAN[@]}" logs --tail 20 "$NAME-$c" >&2 2> /dev/null || true
  done
  exit 1
}

missing=()
for tool in podman:podman runc:runc debootstrap:debootstrap; do
  command -v "${tool%%:*}" > /dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
  apt-get install -y -q --no-install-recommends "${missing[@]}" > "$T/apt.log" 2>&1 ||
    { cat "$T/apt.log"; fail "could not install ${missing[*]} (root and Debian's archive needed)"; }
fi

# The base: Debian bookworm made by debootstrap, under the names the Dockerfiles use.
if ! "${PODMAN[@]}" image exists localhost/debian:bookworm; then
  echo "debootstrap bookworm (minbase)"
  debootstrap --variant=minbase bookworm "$T/rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    > "$T/debootstrap.log" 2>&1 || { tail -20 "$T/debootstrap.log"; fail "debootstrap failed"; }
  tar -C "$T/rootfs" -c . | "${PODMAN[@]}" import - localhost/debian:bookworm > /dev/null
  rm -rf "$T/rootfs"
fi
"${PODMAN[@]}" tag localhost/debian:bookworm localhost/debian:bookworm-slim

for image in server agent; do
  echo "building hatfleet/hat-$image:$TAG"
  "${PODMAN[@]}" build --network host "${LIMITS[@]}" -f "$ROOT/deploy/docker/Dockerfile.$image" \
    -t "hatfleet/hat-$image:$TAG" "$ROOT" > "$T/build-$image.log" 2>&1 ||
    { tail -30 "$T/build-$image.log"; fail "the $image image did not build"; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GRPC_PORT="$(free_port)"
HTTP_PORT="$(free_port)"
ADDR="127.0.0.1:$GRPC_PORT"
FLEET="fleet-$RANDOM$RANDOM$RANDOM"
ADMIN="admin-$RANDOM$RANDOM$RANDOM"
start_server() {
  "${PODMAN[@]}" run -d --name "$NAME-server" --network host "${LIMITS[@]}" \
    -v "$VOLUME:/var/lib/hatfleet" -e HAT_FLEET_TOKEN="$FLEET" -e HAT_ADMIN_TOKEN="$ADMIN" \
    "hatfleet/hat-server:$TAG" --listen="$ADDR" --http="127.0.0.1:$HTTP_PORT" > /dev/null
  for _ in $(seq 100); do
    "${PODMAN[@]}" exec "$NAME-server" hatctl health --server "$ADDR" > "$T/health" 2>&1 && return 0
    sleep 0.3
  done
  fail "the server container did not answer health checks: $(cat "$T/health")"
}
hatctl() { "$BUILD_DIR/bin/hatctl" "$@" --server "$ADDR" --token "$ADMIN"; }
stored_rows() {
  hatctl dataset export --device-class container-cpu --format full > "$T/export.jsonl"
  python3 - "$T/export.jsonl" "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == int(sys.argv[2]), f"{len(rows)} measurements stored, expected {sys.argv[2]}"
assert len({r["task_id"] for r in rows}) == len(rows), "a task stored twice"
for r in rows:
    assert r["total_ms"] > 0 and not r.get("error"), r
    assert r["hardware"]["libtorch_version"], r["hardware"]
PY
}

start_server
grep -q SERVING "$T/health" || fail "health: $(cat "$T/health")"
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/api/v1/agents" || true)"
[[ "$code" == 401 ]] || fail "the dashboard answered $code without a token, expected 401"

"${PODMAN[@]}" run -d --name "$NAME-agent" --network host "${LIMITS[@]}" \
  -e HAT_SERVER="$ADDR" -e HAT_DEVICE_CLASS=container-cpu -e HAT_FLEET_TOKEN="$FLEET" \
  -v /sys:/host/sys:ro "hatfleet/hat-agent:$TAG" > /dev/null
job="$(hatctl jobs submit latency-dataset --space tiny --device-class container-cpu --samples 3 \
  --protocol hat --runs 2 --warmup 1)"
timeout 600 "$BUILD_DIR/bin/hatctl" jobs watch "$job" --server "$ADDR" --token "$ADMIN" \
  > "$T/watch.log" 2>&1 || fail "the job did not finish: $(tail -3 "$T/watch.log")"
stored_rows 3 || fail "after the job: $(head -c 2000 "$T/export.jsonl")"

"${PODMAN[@]}" stop -t 30 "$NAME-agent" > /dev/null
[[ "$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$NAME-agent")" == 0 ]] ||
  fail "the agent container did not stop cleanly on SIGTERM"
"${PODMAN[@]}" stop -t 30 "$NAME-server" > /dev/null
[[ "$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$NAME-server")" == 0 ]] ||
  fail "the server container did not stop cleanly on SIGTERM"
"${PODMAN[@]}" rm "$NAME-server" > /dev/null
start_server
stored_rows 3 || fail "after the restart on the same volume: $(head -c 2000 "$T/export.jsonl")"
echo "PASS"
