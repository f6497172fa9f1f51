#!/usr/bin/env python3
"""Medians over seeds of bench/predictor_bench.sh's fits, as the markdown tables in
docs/BENCHMARKS.md.   usage: bench/summarize_predictor.py OUT_DIR/fits.jsonl"""
import collections
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = collections.defaultdict(list)
for r in rows:
    groups[(r["device"], r["model"], r["train_rows"])].append(r)

print("| dataset | model | training rows | seeds | test RMSE ms | test MAPE % | Kendall tau "
      "| within 5% | within 10% | fit s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (device, model, train_rows), fits in sorted(groups.items(), key=lambda kv: (kv[0][0], -kv[0][2], kv[0][1])):
    med = lambda key: statistics.median(f[key] for f in fits)
    print(f"| {device} | {model} | {train_rows} | {len(fits)} | {med('test_rmse_ms'):.2f} "
          f"| {med('test_mape_pct'):.2f} | {med('test_kendall_tau'):.3f} | {med('within_5pct'):.1f} "
          f"| {med('within_10pct'):.1f} | {med('fit_seconds'):.3f} |")
