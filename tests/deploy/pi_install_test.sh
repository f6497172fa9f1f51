#!/usr/bin/env bash
# deploy/pi/install.sh with a prebuilt hat-agent into a temporary tree (--no-packages
# --no-start): the binary, unit, Raspberry Pi drop-in and settings land where they should and
# `systemd-analyze verify` reads the drop-in without a warning; deploy/pi/cpu-governor.sh on a
# fake sysfs sets the performance governor, keeps the original one across a restart and puts it
# back on stop; bad arguments are refused.
# Usage: tests/deploy/pi_install_test.sh BUILD_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${1:?usage: pi_install_test.sh BUILD_DIR}"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pi_install() {
  "$ROOT/deploy/pi/install.sh" --prebuilt "$BUILD_DIR/bin/hat-agent" --no-packages --no-start \
    --prefix "$T/usr" --confdir "$T/etc/hatfleet" --unitdir "$T/units" "$@"
}

printf 'fleet-token-pi\n' > "$T/given.token"
pi_install --server 10.0.0.5:7070 --device-class rpi4 --token-file "$T/given.token" > "$T/log" 2>&1 ||
  fail "install failed: $(cat "$T/log")"
cmp -s "$BUILD_DIR/bin/hat-agent" "$T/usr/bin/hat-agent" || fail "hat-agent is not the prebuilt one"
dropin="$T/units/hat-agent.service.d/raspberry-pi.conf"
grep -qx "ExecStartPre=+$T/usr/lib/hatfleet/cpu-governor.sh set performance" "$dropin" ||
  fail "the drop-in does not set the governor: $(cat "$dropin")"
grep -qx "ExecStopPost=+$T/usr/lib/hatfleet/cpu-governor.sh restore" "$dropin" ||
  fail "the drop-in does not restore the governor"
[[ -x "$T/usr/lib/hatfleet/cpu-governor.sh" ]] || fail "cpu-governor.sh not installed"
grep -qx 'HAT_SERVER=10.0.0.5:7070' "$T/etc/hatfleet/hat-agent.env" || fail "server not set"
grep -qx 'HAT_DEVICE_CLASS=rpi4' "$T/etc/hatfleet/hat-agent.env" || fail "device class not set"
[[ "$(stat -c %a "$T/etc/hatfleet/fleet.token")" == 600 ]] || fail "fleet.token is not mode 0600"
grep -q "fleet-token-pi" "$T/log" && fail "the token was printed"
out="$(systemd-analyze verify "$T/units/hat-agent.service" 2>&1)" || fail "verify: $out"
[[ -z "$out" ]] || fail "systemd-analyze verify warns: $out"
# The check above reads the drop-in: a broken one is reported.
sed 's|ExecStartPre=+|ExecStartPre=+relative|' "$dropin" > "$T/broken.conf"
cp "$dropin" "$T/good.conf" && cp "$T/broken.conf" "$dropin"
out="$(systemd-analyze verify "$T/units/hat-agent.service" 2>&1 || true)"
[[ "$out" == *"raspberry-pi.conf"* ]] || fail "systemd-analyze verify did not read the drop-in"
cp "$T/good.conf" "$dropin"

# cpu-governor.sh on a fake sysfs: cpu0 and cpu1 offer performance, cpu2 does not.
S="$T/sys"
for c in 0 1 2; do
  d="$S/devices/system/cpu/cpu$c/cpufreq"
  mkdir -p "$d"
  echo ondemand > "$d/scaling_governor"
  if ((c < 2)); then avail="ondemand performance powersave"; else avail="ondemand powersave"; fi
  echo "$avail" > "$d/scaling_available_governors"
done
gov() { cat "$S/devices/system/cpu/cpu$1/cpufreq/scaling_governor"; }
governor() { SYSFS="$S" STATE="$T/governor.state" "$ROOT/deploy/pi/cpu-governor.sh" "$@"; }
governor set performance 2> "$T/gov.log"
[[ "$(gov 0) $(gov 1) $(gov 2)" == "performance performance ondemand" ]] ||
  fail "set performance: $(gov 0) $(gov 1) $(gov 2)"
grep -q "cpu2/cpufreq offers no 'performance' governor" "$T/gov.log" || fail "cpu2 not reported"
governor set performance 2> /dev/null  # a restart without a stop in between
governor restore
[[ "$(gov 0) $(gov 1) $(gov 2)" == "ondemand ondemand ondemand" ]] ||
  fail "restore: $(gov 0) $(gov 1) $(gov 2)"
[[ ! -e "$T/governor.state" ]] || fail "the saved state outlived the restore"
governor restore  # nothing saved: nothing to do
set +e
governor sideways > /dev/null 2>&1; [[ $? == 2 ]] || fail "cpu-governor.sh took a bad verb"

# Refused: a bad device class, a bad address, a missing binary, an unknown option.
out="$(pi_install --device-class 'rpi 4' 2>&1)"; code=$?
[[ $code == 2 && "$out" == *"--device-class 'rpi 4'"* ]] || fail "bad class: $code $out"
out="$(pi_install --server 'host:70|x' 2>&1)"; code=$?
[[ $code == 2 && "$out" == *"expected HOST:PORT"* ]] || fail "bad server: $code $out"
out="$("$ROOT/deploy/pi/install.sh" --prebuilt "$T/none" --no-packages 2>&1)"; code=$?
[[ $code == 1 && "$out" == *"$T/none is missing"* ]] || fail "missing binary: $code $out"
pi_install --bogus > /dev/null 2>&1; [[ $? == 2 ]] || fail "unknown option accepted"
set -e
echo "PASS"
