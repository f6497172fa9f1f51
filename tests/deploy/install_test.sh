#!/usr/bin/env bash
# deploy/install.sh into a temporary tree (--no-start): binaries, units, settings and the token
# land where the units say, the token with mode 0600, the units pass `systemd-analyze verify`
# without a single warning, a second install keeps edited settings, bad arguments are refused.
# Usage: tests/deploy/install_test.sh BUILD_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export BUILD_DIR="${1:?usage: install_test.sh BUILD_DIR}"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
install_into() {
  "$ROOT/deploy/install.sh" "$1" --prefix "$T/usr" --confdir "$T/etc/hatfleet" \
    --unitdir "$T/units" --no-start "${@:2}"
}

printf 'fleet-token-abc123\n' > "$T/given.token"
chmod 0644 "$T/given.token"
install_into agent --token-file "$T/given.token" > "$T/agent.log"
install_into server > "$T/server.log"

[[ -x "$T/usr/bin/hatctl" ]] || fail "hatctl not installed beside hat-server (data-parallel jobs)"
for b in hat-agent hat-server; do
  [[ -x "$T/usr/bin/$b" ]] || fail "$b not installed"
  [[ -f "$T/etc/hatfleet/$b.env" ]] || fail "$b.env not installed"
  grep -q "^ExecStart=$T/usr/bin/$b " "$T/units/$b.service" || fail "$b.service runs another binary"
  grep -q "^EnvironmentFile=$T/etc/hatfleet/$b.env$" "$T/units/$b.service" ||
    fail "$b.service reads other settings"
  if ! out="$(systemd-analyze verify "$T/units/$b.service" 2>&1)"; then
    fail "systemd-analyze verify $b.service: $out"
  fi
  [[ -z "$out" ]] || fail "systemd-analyze verify $b.service warns: $out"
done
grep -q -- "--token-file=$T/etc/hatfleet/fleet.token" "$T/units/hat-agent.service" ||
  fail "the agent's unit does not read the installed token"
[[ "$(stat -c %a "$T/etc/hatfleet/fleet.token")" == 600 ]] || fail "fleet.token is not mode 0600"
[[ "$(cat "$T/etc/hatfleet/fleet.token")" == fleet-token-abc123 ]] || fail "fleet.token differs"
grep -q "fleet-token-abc123" "$T/agent.log" "$T/server.log" && fail "a token was printed"

# Upgrading keeps the settings a user edited.
sed -i 's/^HAT_DEVICE_CLASS=.*/HAT_DEVICE_CLASS=rpi4/' "$T/etc/hatfleet/hat-agent.env"
install_into agent > /dev/null
grep -q '^HAT_DEVICE_CLASS=rpi4$' "$T/etc/hatfleet/hat-agent.env" || fail "settings overwritten"

# Refused: an unknown role, an unknown option, a missing token file.
set +e
"$ROOT/deploy/install.sh" coordinator > /dev/null 2>&1; [[ $? == 2 ]] || fail "unknown role accepted"
install_into agent --bogus > /dev/null 2>&1; [[ $? == 2 ]] || fail "unknown option accepted"
out="$(install_into agent --token-file "$T/none" 2>&1)"; code=$?
set -e
[[ $code == 1 && "$out" == *"$T/none is missing"* ]] || fail "a missing token file: $code $out"
echo "PASS"
