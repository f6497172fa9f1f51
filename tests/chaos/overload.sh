#!/usr/bin/env bash
# Overload: one hat-server on loopback under a simulated fleet (bench/fleet_load_bench --server:
# AGENTS agents, 32 client threads leasing and reporting CONFIGS configs as fast as they can)
# while CLIENTS hatctl processes at once loop over reads (jobs list, agents list, an export),
# requests that must be refused (an unknown job, a wrong token) and oversized requests (a design
# space over the server's --max-message-bytes). Reports the fleet's LeaseTask and ReportResult
# p99 under that load, every hatctl outcome by kind, the server's peak resident memory, and
# checks: nothing lost or stored twice, every refusal the right one, the server still serving.
# The simulated agents never heartbeat (their LeaseTask calls keep them alive): under this load
# some go silent past lost_after and lose their lease, so a config may be leased several times;
# --max-attempts=20 keeps such a config from failing the job.
#
# Usage: tests/chaos/overload.sh BUILD_DIR [AGENTS (1000)] [CONFIGS (20000)] [CLIENTS (16)]
# Exit 0 when every check holds. Prints one JSON object (the figures) last.
set -euo pipefail
BUILD="$(cd "${1:?usage: overload.sh BUILD_DIR [AGENTS] [CONFIGS] [CLIENTS]}" && pwd)"
AGENTS="${2:-1000}" CONFIGS="${3:-20000}" CLIENTS="${4:-16}"
T="$(mktemp -d)"
SERVER=
cleanup() { [[ -n "$SERVER" ]] && kill "$SERVER" 2> /dev/null; jobs -p | xargs -r kill 2> /dev/null; rm -rf "$T"; }
trap cleanup EXIT

"$BUILD/bin/hat-server" --data-dir="$T/data" --listen=127.0.0.1:0 --port_file="$T/port" \
  --fleet_token=bench --admin_token=bench --max_message_bytes=4194304 --max_attempts=20 \
  > "$T/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do [[ -s "$T/port" ]] && break; sleep 0.1; done
ADDR="127.0.0.1:$(cat "$T/port")"
# A design space of 6 MiB: under hatctl's file limit, over the server's message limit.
"$BUILD/bin/hatctl" space show tiny --json | python3 -c '
import json, sys
space = json.load(sys.stdin)
space["name"] = "x" * (6 << 20)
json.dump(space, open(sys.argv[1], "w"))' "$T/big-space.json"

"$BUILD/bin/fleet_load_bench" --server "$ADDR" --agents "$AGENTS" --threads 32 \
  --configs "$CONFIGS" --skip-scaling > "$T/load.jsonl" 2> "$T/load.err" &
LOAD=$!

# Each client: the six requests in turn until the fleet is done; one line per request:
# "<kind> <exit code> <first line of output>".
client() {
  local outf="$T/out.$BASHPID"
  while kill -0 "$LOAD" 2> /dev/null; do
    for kind in list agents export unknown-job wrong-token oversized; do
      local token=bench
      case "$kind" in
        list) args=(jobs list) ;;
        agents) args=(agents list --json) ;;
        export) args=(dataset export --device-class load --format hat-csv) ;;
        unknown-job) args=(jobs get job-999999) ;;
        wrong-token) args=(jobs list); token=not-the-token ;;
        oversized) args=(jobs submit latency-dataset --space "$T/big-space.json" --device-class x
                         --samples 3) ;;
      esac
      local code=0
      "$BUILD/bin/hatctl" "${args[@]}" --server "$ADDR" --token "$token" --timeout 30 \
        > "$outf" 2>&1 || code=$?
      echo "$kind $code $(head -c 200 "$outf" | head -1)"
    done
  done
}
for i in $(seq "$CLIENTS"); do client > "$T/client-$i.log" & done
wait "$LOAD"
wait $(jobs -p | grep -v "^$SERVER$") 2> /dev/null || true
health=0
"$BUILD/bin/hatctl" health --server "$ADDR" > /dev/null 2>&1 || health=$?
peak_kb="$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")"
# The store's own count: one line per stored measurement.
"$BUILD/bin/hatctl" dataset export --device-class load --format full --server "$ADDR" \
  --token bench > "$T/export.jsonl"
kill -TERM "$SERVER"
server_exit=0
wait "$SERVER" || server_exit=$?
SERVER=

cat "$T"/client-*.log > "$T/clients.log"
python3 - "$T/load.jsonl" "$T/clients.log" "$peak_kb" "$health" "$server_exit" "$CLIENTS" \
  "$T/export.jsonl" <<'PY'
import collections, json, sys
load_file, clients_file, peak_kb, health, server_exit, clients, export_file = sys.argv[1:]
tasks = [json.loads(l)["task_id"] for l in open(export_file) if l.strip()]
load = [json.loads(l) for l in open(load_file) if l.strip().startswith("{")]
machine, fleet = load[0], next(l for l in load if l.get("part") == "load")
expect = {  # kind: (exit code, text the output must hold; None: success)
    "list": (0, None), "agents": (0, None), "export": (0, None),
    "unknown-job": (1, "does not exist"), "wrong-token": (1, "invalid token"),
    "oversized": (1, "larger than max"),
}
outcomes = collections.defaultdict(lambda: collections.Counter())
wrong = []
for line in open(clients_file):
    kind, code, *rest = line.rstrip("\n").split(" ", 2)
    text = rest[0] if rest else ""
    want_code, want_text = expect[kind]
    ok = int(code) == want_code and (want_text is None or want_text in text)
    outcomes[kind]["as expected" if ok else "unexpected"] += 1
    if not ok and len(wrong) < 5:
        wrong.append(line.strip()[:200])
failures = []
stored_twice = len(tasks) - len(set(tasks))
if len(set(tasks)) != fleet["configs"] or stored_twice:
    failures.append(f"{len(set(tasks))} of {fleet['configs']} configs stored, {stored_twice} twice")
if wrong:
    failures.append("unexpected answers: " + " | ".join(wrong))
if int(health) != 0:
    failures.append("the server stopped answering health checks")
if int(server_exit) != 0:
    failures.append(f"hat-server exited with {server_exit} on SIGTERM")
figures = {
    "machine": machine.get("machine"), "cores": machine.get("cores"),
    "agents": fleet["agents"], "configs": fleet["configs"], "hatctl_clients": int(clients),
    "leases_per_s": fleet["leases_per_s"], "lease_p99_ms": fleet["lease_p99_ms"],
    "report_p99_ms": fleet["report_p99_ms"], "stored": len(set(tasks)),
    "lost": fleet["configs"] - len(set(tasks)), "stored_twice": stored_twice,
    # Simulated agents never heartbeat: one silent past lost_after (20 s) under this load loses
    # its lease, the task goes to another, and the late report is answered "already stored".
    "reports_answered_already_stored": fleet["duplicates"],
    "hatctl_requests": {k: dict(v) for k, v in outcomes.items()},
    "server_peak_rss_mb": round(int(peak_kb) / 1024, 1),
    "passed": not failures, "failures": failures,
}
print(json.dumps(figures))
sys.exit(0 if not failures else 1)
PY
