#!/bin/sh
# cpu-governor.sh set GOVERNOR | restore: the CPU frequency governor while hat-agent runs.
#
# Latency measured under "ondemand" or "schedutil" depends on how fast the governor ramps the
# clock up, which changes from run to run; "performance" keeps every core at its highest allowed
# frequency, so measurements are repeatable (the thermal limit still applies: see the cooling
# note in docs/DEPLOY.md). `set` remembers each core's governor in STATE and `restore` puts
# them back, so the device is left as it was found when the agent stops.
# The hat-agent unit's Raspberry Pi drop-in runs this as root (ExecStartPre=+, ExecStopPost=+).
# SYSFS (default /sys) and STATE (default /run/hatfleet-governor) may be set for tests.
set -eu
SYSFS="${SYSFS:-/sys}"
STATE="${STATE:-/run/hatfleet-governor}"
cpus="$SYSFS/devices/system/cpu"
case "${1:-}" in
  set)
    want="${2:?usage: cpu-governor.sh set GOVERNOR | restore}"
    : > "$STATE.tmp"
    found=0
    for g in "$cpus"/cpu[0-9]*/cpufreq/scaling_governor; do
      [ -w "$g" ] || continue
      found=1
      printf '%s %s\n' "$g" "$(cat "$g")" >> "$STATE.tmp"
      if ! grep -qw "$want" "$(dirname "$g")/scaling_available_governors" 2>/dev/null; then
        echo "cpu-governor: $(dirname "$g") offers no '$want' governor; left as is" >&2
        continue
      fi
      printf '%s\n' "$want" > "$g"
    done
    # Keep the first saved state: a restart must not record "performance" as the original.
    if [ -s "$STATE" ]; then rm -f "$STATE.tmp"; else mv "$STATE.tmp" "$STATE"; fi
    [ "$found" = 1 ] || echo "cpu-governor: no cpufreq governors under $cpus; nothing set" >&2
    ;;
  restore)
    [ -s "$STATE" ] || exit 0
    while read -r file governor; do
      [ -w "$file" ] && printf '%s\n' "$governor" > "$file"
    done < "$STATE"
    rm -f "$STATE"
    ;;
  *)
    echo "usage: cpu-governor.sh set GOVERNOR | restore" >&2
    exit 2
    ;;
esac
