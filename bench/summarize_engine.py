#!/usr/bin/env python3
"""Prints the engine benchmark tables (Markdown) from a bench/engine_bench.sh result folder."""
import json
import re
import statistics
import sys
from pathlib import Path


def main(out: Path):
    lines = []
    noise = {}
    for proto in ("default", "default_drift_corrected", "hat"):
        f = out / f"noise_{proto}.json"
        if f.exists():
            d = json.loads(f.read_text())
            cvs = [c["repeat_cv"] for c in d["configs"]]
            runs = [c["runs"] for c in d["configs"]]
            noise[proto] = (statistics.median(cvs), max(cvs), statistics.median(runs), d["hardware"])
    if noise:
        hw = next(iter(noise.values()))[3]
        lines.append(f"Machine: {hw['cpu_model']}, {hw['cpu_cores']} cores, {hw['threads']} thread(s), "
                     f"LibTorch {hw['libtorch_version']}, {hw['blas']}")
        lines.append("")
        lines.append("| protocol | median CV across 3 repeats | max CV | median timed runs per measurement |")
        lines.append("|---|---|---|---|")
        for proto, (med, mx, runs, _) in noise.items():
            lines.append(f"| {proto} | {med * 100:.2f}% | {mx * 100:.2f}% | {runs:.0f} |")
        lines.append("")
    fid = out / "fidelity.jsonl"
    if fid.exists():
        rows = [json.loads(l) for l in fid.read_text().splitlines() if l.strip()]
        lines.append("| config | library ms | bare loop ms | ratio |")
        lines.append("|---|---|---|---|")
        for r in rows:
            if "config" in r:
                lines.append(f"| {r['config']} | {r['library_ms']:.1f} | {r['bare_ms']:.1f} | {r['ratio']:.4f} |")
        summary = [r for r in rows if "summary" in r]
        if summary:
            lines.append(f"\nmedian |library/bare - 1| = {summary[0]['value'] * 100:.2f}%, "
                         f"max {summary[0]['max'] * 100:.2f}%\n")
    pub = out / "published.jsonl"
    if pub.exists():
        rows = [json.loads(l) for l in pub.read_text().splitlines() if l.strip()]
        rows.sort(key=lambda r: r["name"])
        lines.append("| HAT SubTransformer | HAT's published latency | C++ HAT protocol ms | "
                     "C++ default protocol ms | Python peer ms | Python / C++ |")
        lines.append("|---|---|---|---|---|---|")
        ratios = []
        for r in rows:
            m = re.match(r"HAT_wmt14ende_(\w+)@([\d.]+)(ms|s)_bleu@([\d.]+)", r["name"])
            dev, lat, unit, bleu = m.groups()
            published = f"{lat} {unit} ({dev})"
            ratio = r["python_hat"]["total_ms"] / r["cpp_hat"]["total_ms"]
            ratios.append(ratio)
            lines.append(f"| {dev}@{lat}{unit} BLEU {bleu} | {published} | {r['cpp_hat']['total_ms']:.1f} | "
                         f"{r['cpp_default']['total_ms']:.1f} | {r['python_hat']['total_ms']:.1f} | {ratio:.2f} |")
        lines.append(f"\nPython / C++: median {statistics.median(ratios):.2f}x, "
                     f"min {min(ratios):.2f}x, max {max(ratios):.2f}x over {len(ratios)} configs\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
