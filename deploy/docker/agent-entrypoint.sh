#!/bin/sh
# The agent images' entry point: hat-agent from the environment (HAT_SERVER, HAT_DEVICE_CLASS,
# HAT_FLEET_TOKEN or HAT_TOKEN_FILE, HAT_AGENT_FLAGS), reading /sys at HAT_SYSFS_ROOT when the
# host's is mounted there (HAT_AGENT_BIN: the binary, for the test). exec: SIGTERM from the
# runtime reaches hat-agent, which finishes and reports the measurement in hand before it exits.
set -eu
if [ -z "${HAT_DEVICE_CLASS:-}" ]; then
  echo "agent-entrypoint: set HAT_DEVICE_CLASS (e.g. rpi4, xeon-e5, a100)" >&2
  exit 2
fi
sysfs=/sys
if [ -d "${HAT_SYSFS_ROOT:-/nonexistent}/class" ]; then sysfs="$HAT_SYSFS_ROOT"; fi
set -- --server="$HAT_SERVER" --device-class="$HAT_DEVICE_CLASS" --sysfs-root="$sysfs" "$@"
if [ -n "${HAT_TOKEN_FILE:-}" ]; then set -- --token-file="$HAT_TOKEN_FILE" "$@"; fi
# HAT_AGENT_FLAGS is split on spaces on purpose: it holds several flags.
# shellcheck disable=SC2086
exec "${HAT_AGENT_BIN:-/usr/local/bin/hat-agent}" $HAT_AGENT_FLAGS "$@"
