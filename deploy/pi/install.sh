#!/usr/bin/env bash
# deploy/pi/install.sh: a Raspberry Pi (64-bit Raspberry Pi OS, i.e. Debian bookworm arm64) as a
# hatfleet measuring device, in one command:
#
#   deploy/pi/install.sh --server HOST:7070 --device-class rpi4 --token-file fleet.token
#
# 1. Debian packages: the build's (deploy/setup.sh --agent-only: LibTorch, gRPC, Abseil ...)
#    or, with --prebuilt FILE, only the runtime libraries of a hat-agent built elsewhere.
# 2. Builds hat-agent alone (cmake -DHAT_AGENT_ONLY=ON in build-agent/; one compile at a time
#    below 3 GB of memory) unless --prebuilt gives the binary.
# 3. Installs it as the systemd service hat-agent (deploy/install.sh agent: user hatfleet, token
#    file mode 0600, restart on failure) with the Pi drop-in: the performance governor while the
#    agent runs, the previous one restored when it stops (deploy/pi/cpu-governor.sh).
# 4. Says whether the Pi throttles now (firmware get_throttled) and how hot it is: measure only
#    with a heatsink and fan; throttled measurements are flagged and kept out of predictors.
#
# Options: --server ADDR, --device-class NAME (written into /etc/hatfleet/hat-agent.env),
# --token-file F, --prebuilt FILE, --no-packages (with --prebuilt: skip apt), --no-start, --prefix DIR,
# --confdir DIR, --unitdir DIR (as deploy/install.sh; the test installs into a temporary tree).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
usage() {
  echo "usage: deploy/pi/install.sh [--server ADDR] [--device-class NAME] [--token-file F]" \
    "[--prebuilt FILE] [--no-packages] [--no-start] [--prefix DIR] [--confdir DIR]" \
    "[--unitdir DIR]" >&2
  exit 2
}
SERVER= DEVICE_CLASS= PREBUILT= PACKAGES=1 START=1
PREFIX=/usr/local CONFDIR=/etc/hatfleet UNITDIR=/etc/systemd/system TOKEN_ARGS=()
while (($#)); do
  case "$1" in
    --server) SERVER="${2:?--server needs HOST:PORT}"; shift 2 ;;
    --device-class) DEVICE_CLASS="${2:?--device-class needs a name}"; shift 2 ;;
    --token-file) TOKEN_ARGS=(--token-file "${2:?--token-file needs a file}"); shift 2 ;;
    --prebuilt) PREBUILT="${2:?--prebuilt needs the hat-agent binary}"; shift 2 ;;
    --no-packages) PACKAGES=0; shift ;;
    --no-start) START=0; shift ;;
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --confdir) CONFDIR="${2:?--confdir needs a directory}"; shift 2 ;;
    --unitdir) UNITDIR="${2:?--unitdir needs a directory}"; shift 2 ;;
    *) echo "pi/install.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
if [[ -n "$DEVICE_CLASS" && ! "$DEVICE_CLASS" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]]; then
  echo "pi/install.sh: --device-class '$DEVICE_CLASS': use letters, digits, '.', '_', '-'" >&2
  exit 2
fi
address_re='^[][A-Za-z0-9.:_-]+$'  # host or [IPv6] and port
if [[ -n "$SERVER" && ! "$SERVER" =~ $address_re ]]; then
  echo "pi/install.sh: --server '$SERVER': expected HOST:PORT" >&2
  exit 2
fi
if [[ -n "$PREBUILT" && ! -x "$PREBUILT" ]]; then
  echo "pi/install.sh: --prebuilt $PREBUILT is missing or not executable" >&2
  exit 1
fi
[[ "$(uname -m)" == aarch64 ]] ||
  echo "pi/install.sh: note: this is $(uname -m), not a 64-bit Raspberry Pi (aarch64)" >&2

# 1-2. The binary: built here by deploy/setup.sh --agent-only (its packages, then hat-agent
#      alone in build-agent/), or prebuilt elsewhere with only the runtime packages here.
if [[ -n "$PREBUILT" ]]; then
  RUNTIME=(libtorch1.13 libopenblas0-openmp libgrpc++1.51 libprotobuf32 libabsl20220623
    libyaml-cpp0.7 ca-certificates)
  missing=()
  for p in "${RUNTIME[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((PACKAGES && ${#missing[@]})); then
    echo "pi/install.sh: installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  STAGE="$(mktemp -d)"
  trap 'rm -rf "$STAGE"' EXIT
  install -D -m 0755 "$PREBUILT" "$STAGE/bin/hat-agent"
  export BUILD_DIR="$STAGE"
else
  mem_kb="$(awk '/MemTotal/{print $2}' /proc/meminfo)"
  # A LibTorch translation unit takes about 1.5 GB to compile: one at a time on small Pis.
  export JOBS="${JOBS:-$(( mem_kb < 3000000 ? 1 : 2 ))}"
  export BUILD_DIR="$ROOT/build-agent"
  "$ROOT/deploy/setup.sh" --agent-only
fi

# 3. The Raspberry Pi drop-in, then the service (deploy/install.sh agent starts it unless
#    --no-start, so the drop-in must be in place first).
LIBDIR="$PREFIX/lib/hatfleet"
install -D -m 0755 "$ROOT/deploy/pi/cpu-governor.sh" "$LIBDIR/cpu-governor.sh"
install -d -m 0755 "$UNITDIR/hat-agent.service.d"
sed -e "s|@LIBDIR@|$LIBDIR|g" "$ROOT/deploy/pi/hat-agent-pi.conf.in" \
  > "$UNITDIR/hat-agent.service.d/raspberry-pi.conf"
ENV_FILE="$CONFDIR/hat-agent.env"
if [[ ! -e "$ENV_FILE" ]]; then
  install -d -m 0750 "$CONFDIR"
  install -m 0644 "$ROOT/deploy/systemd/hat-agent.env" "$ENV_FILE"
fi
[[ -z "$SERVER" ]] || sed -i "s|^HAT_SERVER=.*|HAT_SERVER=$SERVER|" "$ENV_FILE"
[[ -z "$DEVICE_CLASS" ]] || sed -i "s|^HAT_DEVICE_CLASS=.*|HAT_DEVICE_CLASS=$DEVICE_CLASS|" "$ENV_FILE"
INSTALL_ARGS=(--prefix "$PREFIX" --confdir "$CONFDIR" --unitdir "$UNITDIR")
((START)) || INSTALL_ARGS+=(--no-start)
"$ROOT/deploy/install.sh" agent "${INSTALL_ARGS[@]}" "${TOKEN_ARGS[@]}"

# 4. Cooling (after the start: the service's output comes first).
throttled_file="$(ls /sys/devices/platform/*/*firmware/get_throttled 2>/dev/null | head -1 || true)"
if [[ -n "$throttled_file" ]]; then
  bits="$(cat "$throttled_file")"
  if (( 0x$bits & 0xF )); then
    echo "pi/install.sh: WARNING: the firmware reports throttling or under-voltage now" \
      "(get_throttled=0x$bits): fix the power supply and cooling before measuring" >&2
  fi
fi
if [[ -r /sys/class/thermal/thermal_zone0/temp ]]; then
  echo "pi/install.sh: CPU at $(( $(cat /sys/class/thermal/thermal_zone0/temp) / 1000 )) °C." \
    "Measure with a heatsink and fan: a bare Pi 4 reaches its 80 °C soft limit within minutes" \
    "of full load, and throttled measurements are flagged and left out of predictors."
fi

echo "pi/install.sh: hat-agent installed ($PREFIX/bin/hat-agent, $UNITDIR/hat-agent.service" \
  "with $UNITDIR/hat-agent.service.d/raspberry-pi.conf)"
