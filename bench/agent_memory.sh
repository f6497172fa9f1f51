#!/usr/bin/env bash
# bench/agent_memory.sh OUT_DIR: the agent's memory when measuring the largest SubTransformer of
# every built-in design space, and the latency of the same model built two ways.
#
#  1. agent_memory_bench peak, 3 runs per space and way: the process's resident memory before the
#     model (LibTorch loaded) and at its peak (VmHWM), with the SubTransformer built alone
#     (SubTransformer::Random, what agents do now) or extracted from a whole random
#     SuperTransformer (what they did before).
#  2. A real hat-agent against a hat-server on loopback: its resident memory when idle (registered,
#     nothing measured), then its peak (VmHWM) after a latency-dataset job of the space's largest
#     config (HAT's protocol, 3 warm-ups, 5 runs); a fresh agent per space.
#  3. agent_memory_bench latency: both ways in one process, measured alternately (default
#     protocol, ROUNDS each), for each distinct largest config.
# Writes OUT_DIR/{peak,agent,latency}.jsonl and prints a markdown table (docs/BENCHMARKS.md).
# PARTS (default "peak agent latency") runs some of them; the table reads what OUT_DIR holds.
# Keep the machine otherwise quiet during part 3.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin}"
OUT="${1:?usage: bench/agent_memory.sh OUT_DIR}"
ROUNDS="${ROUNDS:-6}"
RUNS="${RUNS:-3}"
PARTS=" ${PARTS:-peak agent latency} "
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
SPACES=($("$BIN/hatctl" space list | awk '{print $1}'))
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# 1. One model per process.
[[ "$PARTS" == *" peak "* ]] && : > "$OUT/peak.jsonl"
for space in "${SPACES[@]}"; do
  [[ "$PARTS" == *" peak "* ]] || break
  for source in random extract; do
    for ((r = 0; r < RUNS; ++r)); do
      "$BIN/agent_memory_bench" peak --space "$space" --source "$source" >> "$OUT/peak.jsonl"
    done
  done
  echo "peak: $space done" >&2
done

# 2. The real agent.
RUN="$OUT/run"
mkdir -p "$RUN"
for space in "${SPACES[@]}"; do
  "$BIN/agent_memory_bench" largest --space "$space" > "$RUN/$space.yml"
done
if [[ "$PARTS" == *" agent "* ]]; then
rm -rf "$RUN/data" "$RUN/port"
"$BIN/hat-server" --data-dir="$RUN/data" --listen=127.0.0.1:0 --port_file="$RUN/port" \
  > "$RUN/server.log" 2>&1 &
SERVER=$!
AGENT=
trap 'kill $SERVER ${AGENT:-} 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s "$RUN/port" ]] && break; sleep 0.2; done
ADDR="127.0.0.1:$(cat "$RUN/port")"
FLEET="$(cat "$RUN/data/fleet.token")"
ADMIN="$(cat "$RUN/data/admin.token")"
: > "$OUT/agent.jsonl"
for space in "${SPACES[@]}"; do
  "$BIN/hat-agent" --server="$ADDR" --device-class="mem-$space" --token="$FLEET" \
    > "$RUN/agent-$space.log" 2>&1 &
  AGENT=$!
  for _ in $(seq 100); do grep -q registered "$RUN/agent-$space.log" && break; sleep 0.2; done
  sleep 2  # settled: registered and polling
  idle_rss="$(status_kb $AGENT VmRSS)" idle_anon="$(status_kb $AGENT RssAnon)"
  job="$("$BIN/hatctl" jobs submit latency-dataset --server "$ADDR" --token "$ADMIN" \
    --space "$space" --device-class "mem-$space" --config "$RUN/$space.yml" --protocol hat \
    --runs 5 --warmup 3)"
  "$BIN/hatctl" jobs watch "$job" --server "$ADDR" --token "$ADMIN" > /dev/null
  state="$("$BIN/hatctl" jobs get "$job" --server "$ADDR" --token "$ADMIN" --json | json 'd["state"]')"
  peak="$(status_kb $AGENT VmHWM)" after_anon="$(status_kb $AGENT RssAnon)"
  kill -TERM $AGENT && wait $AGENT || true
  AGENT=
  printf '{"space": "%s", "job_state": "%s", "idle_rss_kb": %d, "idle_anon_kb": %d, "peak_rss_kb": %d, "anon_after_kb": %d}\n' \
    "$space" "$state" "$idle_rss" "$idle_anon" "$peak" "$after_anon" >> "$OUT/agent.jsonl"
  echo "agent: $space $state" >&2
done
kill $SERVER && wait $SERVER || true
trap - EXIT
fi

# 3. Latency, built alone vs extracted, for each distinct largest config.
[[ "$PARTS" == *" latency "* ]] && : > "$OUT/latency.jsonl"
declare -A seen
for space in "${SPACES[@]}"; do
  [[ "$PARTS" == *" latency "* ]] || break
  key="$(md5sum < "$RUN/$space.yml" | cut -c1-12)-$("$BIN/hatctl" space show "$space" | grep -i vocab | tr -d ' ')"
  [[ -n "${seen[$key]:-}" ]] && continue
  seen[$key]=1
  "$BIN/agent_memory_bench" latency --space "$space" --rounds "$ROUNDS" >> "$OUT/latency.jsonl"
  echo "latency: $space done" >&2
done

python3 - "$OUT" <<'EOF'
import json, statistics, sys
out = sys.argv[1]
rows = lambda f: [json.loads(l) for l in open(f"{out}/{f}") if l.strip()]
peak, agent, lat = rows("peak.jsonl"), rows("agent.jsonl"), rows("latency.jsonl")
med = lambda xs: statistics.median(xs)
print("| space | params (M) | model (MB) | bench before | peak, extracted | peak, built alone | alone - before | agent idle RSS (anon) | agent peak | agent peak - idle |")
print("|---|---|---|---|---|---|---|---|---|---|")
for a in agent:
    s = a["space"]
    p = {src: [r for r in peak if r["space"] == s and r["source"] == src] for src in ("random", "extract")}
    r = p["random"]
    before = med([x["rss_before_mb"] for x in r])
    alone = med([x["peak_rss_mb"] for x in r])
    print(f"| {s} | {r[0]['params']/1e6:.1f} | {r[0]['model_mb']:.0f} | {before:.0f} | "
          f"{med([x['peak_rss_mb'] for x in p['extract']]):.0f} | {alone:.0f} | {alone - before:.0f} | "
          f"{a['idle_rss_kb']/1024:.0f} ({a['idle_anon_kb']/1024:.0f}) | {a['peak_rss_kb']/1024:.0f} | "
          f"{(a['peak_rss_kb'] - a['idle_rss_kb'])/1024:.0f} |")
print()
print("| space (largest config) | extracted (ms, median) | built alone (ms, median) | ratio |")
print("|---|---|---|---|")
for l in lat:
    print(f"| {l['space']} | {l['extract_median_ms']:.2f} | {l['random_median_ms']:.2f} | {l['ratio']:.3f} |")
EOF
