#!/usr/bin/env python3
"""How much host drift a repeated latency dataset shows, and what removing it does to the
repeats' agreement. A Python transcription of predictor/repeated_measurements.cc (same
estimator: median deviation of the 4 nearest-in-time measurements of other configs, alternated
with the configs' levels for 10 rounds, encoder and decoder apart), for the figures in
docs/BENCHMARKS.md.

    bench/drift_report.py OUT_DIR/local-cpu.jsonl      (hatctl dataset export --format full)

Prints the median CV of each config's repeated totals before and after the correction, and the
host's drift factor (raw / corrected decoder latency) per tenth of the collection."""
import collections
import datetime
import json
import math
import statistics
import sys

NEIGHBOURS = 4
ROUNDS = 10


def load(path):
    rows = []
    for line in open(path):
        if not line.strip():
            continue
        r = json.loads(line)
        if r.get("error"):
            continue
        stat = "trimmed_mean_ms" if r["protocol"]["preset"] == "PROTOCOL_PRESET_HAT" else "median_ms"
        started = datetime.datetime.fromisoformat(r["started_at"].replace("Z", "+00:00"))
        rows.append({"key": r["canonical_key"], "t": started.timestamp(),
                     "enc": r["encoder"][stat], "dec": r["decoder"][stat]})
    rows.sort(key=lambda r: r["t"])
    return rows


def correct(rows):
    count = collections.Counter(r["key"] for r in rows)
    repeated = [i for i, r in enumerate(rows) if count[r["key"]] >= 2]
    out = [dict(r) for r in rows]
    for part in ("enc", "dec"):
        logs = [math.log(r[part]) for r in rows]
        drift = [0.0] * len(rows)
        for _ in range(ROUNDS):
            levels = collections.defaultdict(list)
            for i in repeated:
                levels[rows[i]["key"]].append(logs[i] - drift[i])
            level = {k: sum(v) / len(v) for k, v in levels.items()}
            deviation = {i: logs[i] - level[rows[i]["key"]] for i in repeated}
            new = []
            for r in rows:
                near = sorted((j for j in repeated if rows[j]["key"] != r["key"]),
                              key=lambda j: abs(rows[j]["t"] - r["t"]))[:NEIGHBOURS]
                new.append(statistics.median(deviation[j] for j in near))
            mean = sum(new[i] for i in repeated) / len(repeated)
            drift = [d - mean for d in new]
        for i, r in enumerate(out):
            r[part] = rows[i][part] * math.exp(-drift[i])
    return out


def repeat_cv(rows):
    totals = collections.defaultdict(list)
    for r in rows:
        totals[r["key"]].append(r["enc"] + r["dec"])
    return statistics.median(statistics.stdev(v) / statistics.mean(v) * 100
                             for v in totals.values() if len(v) >= 2)


def main():
    rows = load(sys.argv[1])
    fixed = correct(rows)
    print(f"{len(rows)} measurements of {len({r['key'] for r in rows})} configs")
    print(f"median CV of a config's repeats: {repeat_cv(rows):.2f}% raw, "
          f"{repeat_cv(fixed):.2f}% after removing host drift")
    tenth = max(1, len(rows) // 10)
    for start in range(0, len(rows), tenth):
        factors = [rows[i]["dec"] / fixed[i]["dec"] for i in range(start, min(len(rows), start + tenth))]
        minutes = (rows[start]["t"] - rows[0]["t"]) / 60
        print(f"  from minute {minutes:5.1f}: host drift factor {statistics.median(factors):.3f}")


if __name__ == "__main__":
    main()
