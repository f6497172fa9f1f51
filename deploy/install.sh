#!/usr/bin/env bash
# deploy/install.sh server|agent: install hat-server or hat-agent on this x86 (or arm64) Debian
# host as a systemd service, from this checkout's build (deploy/setup.sh builds it).
#
#   deploy/install.sh agent  [--token-file F] [options]   hat-agent; F holds the fleet token
#                                                          (the server's DATA_DIR/fleet.token)
#   deploy/install.sh server [options]                     hat-server (tokens are made on first start)
#
# Options: --prefix DIR (/usr/local: binaries in DIR/bin), --confdir DIR (/etc/hatfleet),
# --unitdir DIR (/etc/systemd/system), --no-start (install only: no user, no systemctl; what the
# test uses, with every directory under a temporary one).
#
# Puts the binary in place, renders the unit (deploy/systemd/*.service.in), copies the example
# settings (CONFDIR/hat-{server,agent}.env) unless they exist, installs the token file with mode
# 0600 for the service's user, creates the system user `hatfleet`, then enables and starts the
# service. Run again to upgrade: settings and tokens are kept.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
usage() { echo "usage: deploy/install.sh server|agent [--token-file F] [--prefix DIR]" \
  "[--confdir DIR] [--unitdir DIR] [--no-start]" >&2; exit 2; }

ROLE="${1:-}"
[[ "$ROLE" == server || "$ROLE" == agent ]] || usage
shift
PREFIX=/usr/local CONFDIR=/etc/hatfleet UNITDIR=/etc/systemd/system START=1 TOKEN_FILE=
while (($#)); do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --confdir) CONFDIR="${2:?--confdir needs a directory}"; shift 2 ;;
    --unitdir) UNITDIR="${2:?--unitdir needs a directory}"; shift 2 ;;
    --token-file) TOKEN_FILE="${2:?--token-file needs a file}"; shift 2 ;;
    --no-start) START=0; shift ;;
    *) echo "install.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
BINARY="hat-$ROLE"
if [[ ! -x "$BUILD_DIR/bin/$BINARY" ]]; then
  echo "install.sh: $BUILD_DIR/bin/$BINARY is missing: build first (deploy/setup.sh)" >&2
  exit 1
fi
if [[ -n "$TOKEN_FILE" && ! -s "$TOKEN_FILE" ]]; then
  echo "install.sh: --token-file $TOKEN_FILE is missing or empty" >&2
  exit 1
fi

if ((START)) && ! id hatfleet > /dev/null 2>&1; then
  useradd --system --home-dir /var/lib/hatfleet --no-create-home --shell /usr/sbin/nologin hatfleet
fi
install -d -m 0755 "$PREFIX/bin" "$UNITDIR"
install -d -m 0750 "$CONFDIR"
install -m 0755 "$BUILD_DIR/bin/$BINARY" "$PREFIX/bin/$BINARY"
# hat-server runs the other ranks of data-parallel SuperTransformer jobs with the hatctl beside it.
[[ "$BINARY" == hat-server ]] && install -m 0755 "$BUILD_DIR/bin/hatctl" "$PREFIX/bin/hatctl"
sed -e "s|@BINDIR@|$PREFIX/bin|g" -e "s|@CONFDIR@|$CONFDIR|g" -e "s|@DOCDIR@|$ROOT|g" \
  "$ROOT/deploy/systemd/$BINARY.service.in" > "$UNITDIR/$BINARY.service.tmp"
mv "$UNITDIR/$BINARY.service.tmp" "$UNITDIR/$BINARY.service"
chmod 0644 "$UNITDIR/$BINARY.service"
if [[ ! -e "$CONFDIR/$BINARY.env" ]]; then
  install -m 0644 "$ROOT/deploy/systemd/$BINARY.env" "$CONFDIR/$BINARY.env"
  echo "install.sh: wrote $CONFDIR/$BINARY.env: edit it before relying on the service"
fi
if [[ -n "$TOKEN_FILE" ]]; then
  # Written with a restrictive umask, so the token is never readable by others, even briefly.
  (umask 077 && tr -d '\n' < "$TOKEN_FILE" > "$CONFDIR/fleet.token.tmp")
  mv "$CONFDIR/fleet.token.tmp" "$CONFDIR/fleet.token"
  ((START)) && chown hatfleet:hatfleet "$CONFDIR/fleet.token"
fi
if [[ "$ROLE" == agent && ! -s "$CONFDIR/fleet.token" ]]; then
  echo "install.sh: no $CONFDIR/fleet.token yet: give --token-file (the server's" \
    "DATA_DIR/fleet.token) before starting the agent" >&2
fi
((START)) && chgrp hatfleet "$CONFDIR"

if ((START)); then
  systemctl daemon-reload
  systemctl enable --now "$BINARY.service"
  systemctl --no-pager status "$BINARY.service" || true
fi
echo "install.sh: $BINARY installed ($PREFIX/bin/$BINARY, $UNITDIR/$BINARY.service)"
