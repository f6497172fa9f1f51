#!/usr/bin/python3
"""Which statistic of a measurement's runs repeats best across interleaved measurements?

Reads `hatctl measure --repeats R --json` output taken with a fixed, generous run count (for
example --min-runs 30 --max-runs 30 --time-budget 0) and, for several statistics of the total
latency computed on the first n runs of each measurement, prints the median over configs of
the coefficient of variation across the R repeats. This shows what a protocol would have
reported with fewer runs or another statistic, on the same measurements.

  bench/noise_estimators.py noise_fixed30.json
"""
import json
import statistics
import sys

import numpy as np


def trimmed(x):
    s = sorted(x)
    lo = len(s) // 10
    hi = max(1, len(s) // 10)
    return float(np.mean(s[lo:len(s) - hi]))


STATS = {
    "median": np.median,
    "mean": np.mean,
    "trimmed_mean": trimmed,
    "min": np.min,
    "p10": lambda x: np.percentile(x, 10),
    "p25": lambda x: np.percentile(x, 25),
}


def main(path):
    data = json.load(open(path))
    rows = []
    for config in data["configs"]:
        reps = [r["total"]["raw_ms"] for r in config["repeat_measurements"]]
        rows.append(reps)
    max_runs = min(len(r) for reps in rows for r in reps)
    print(f"{len(rows)} configs x {len(rows[0])} repeats, {max_runs} runs each\n")
    counts = [n for n in (5, 10, 15, 20, 30, 40, 60) if n <= max_runs]
    print("| statistic | " + " | ".join(f"first {n} runs" for n in counts) + " |")
    print("|---|" + "---|" * len(counts))
    for name, fn in STATS.items():
        cells = []
        for n in counts:
            cvs = []
            for reps in rows:
                v = [fn(r[:n]) for r in reps]
                cvs.append(np.std(v, ddof=1) / np.mean(v))
            cells.append(f"{100 * statistics.median(cvs):.2f}%")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
