#!/usr/bin/env python3
"""bench/headline_report.py OUT_DIR: the headline-claim table and plot from bench/headline_bench.sh's
raw results in OUT_DIR (measured.jsonl, {evolution,random}_result.json, bleu-*.json).

Writes OUT_DIR/headline.md (a Markdown table, also printed) and OUT_DIR/headline.svg (test2016
BLEU against measured latency: searched winners, random winners, Transformer-tiny; inherited
weights hollow, trained from scratch filled; the two limits as dashed lines). Standard library
only, so it runs wherever the benchmark does.
"""
import json
import os
import statistics
import sys

TINY_RECIPE_RUNS = [39.91, 39.87, 39.70, 39.69, 39.99, 40.24]  # docs/BENCHMARKS.md, six runs


def load(path):
    with open(path) as f:
        return json.load(f)


def bleu(out, kind, stem):
    path = f"{out}/bleu-{kind}-{stem}.json"
    return load(path)["test_bleu"] if os.path.exists(path) else None


def rows_of(out):
    measured = {}
    with open(f"{out}/measured.jsonl") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                measured.setdefault(row["canonical_key"], []).append(row["total_ms"])
    rows = []
    for kind in ("evolution", "random"):
        result = load(f"{out}/{kind}_result.json")
        for i, p in enumerate(result["pareto"]):
            limit = p["latencies"][0]["limit_ms"] if p.get("latencies") else None
            key = p["config"]["canonical_key"]
            rows.append(dict(name=f"{kind} winner {i}", kind=kind, limit=limit,
                             loss=p["valid_loss"], params=p["params"],
                             predicted=p["predicted_latency_ms"],
                             measured=statistics.median(measured[key]) if key in measured else None,
                             inherited=bleu(out, "inherited", f"{kind}-winner_{i}"),
                             scratch=bleu(out, "scratch", f"{kind}-winner_{i}")))
    ref = load(f"{out}/evolution_result.json")["references"][0]
    key = ref["config"]["canonical_key"]
    rows.append(dict(name="transformer-tiny", kind="tiny", limit=None, loss=ref["valid_loss"],
                     params=ref["params"], predicted=ref["predicted_latency_ms"],
                     measured=statistics.median(measured[key]) if key in measured else None,
                     inherited=bleu(out, "inherited", "transformer-tiny"),
                     scratch=statistics.mean(TINY_RECIPE_RUNS)))
    return rows


def fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows):
    lines = ["| model | limit (ms) | valid loss (inherited) | params (M) | predicted (ms) | "
             "measured (ms, median of 5) | BLEU inherited | BLEU from scratch |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        scratch = fmt(r["scratch"])
        if r["kind"] == "tiny":
            scratch += f" (mean of {len(TINY_RECIPE_RUNS)} recipe runs)"
        lines.append(f"| {r['name']} | {fmt(r['limit'])} | {r['loss']:.4f} | "
                     f"{r['params'] / 1e6:.2f} | {fmt(r['predicted'])} | {fmt(r['measured'])} | "
                     f"{fmt(r['inherited'])} | {scratch} |")
    return "\n".join(lines)


def svg(rows):
    points = [(r["measured"], b, r["kind"], filled)
              for r in rows if r["measured"] is not None
              for b, filled in ((r["inherited"], False), (r["scratch"], True)) if b is not None]
    if not points:
        return None
    limits = sorted({r["limit"] for r in rows if r["limit"]})
    xs = [p[0] for p in points] + limits
    ys = [p[1] for p in points]
    x0, x1 = min(xs) * 0.9, max(xs) * 1.05
    y0, y1 = min(ys) - 1, max(ys) + 1
    w, h, m = 640, 420, 60
    sx = lambda x: m + (x - x0) / (x1 - x0) * (w - 2 * m)
    sy = lambda y: h - m - (y - y0) / (y1 - y0) * (h - 2 * m)
    colour = {"evolution": "#1f77b4", "random": "#ff7f0e", "tiny": "#2ca02c"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">test2016 BLEU against '
           'measured latency (tiny space, Multi30k en-de, this CPU)</text>',
           f'<line x1="{m}" y1="{h - m}" x2="{w - m}" y2="{h - m}" stroke="black"/>',
           f'<line x1="{m}" y1="{m}" x2="{m}" y2="{h - m}" stroke="black"/>',
           f'<text x="{w / 2}" y="{h - 20}" text-anchor="middle">measured latency (ms)</text>',
           f'<text x="15" y="{h / 2}" transform="rotate(-90 15 {h / 2})" '
           'text-anchor="middle">BLEU</text>']
    for i in range(6):
        x = x0 + i * (x1 - x0) / 5
        y = y0 + i * (y1 - y0) / 5
        out.append(f'<text x="{sx(x)}" y="{h - m + 16}" text-anchor="middle">{x:.1f}</text>')
        out.append(f'<text x="{m - 6}" y="{sy(y) + 4}" text-anchor="end">{y:.1f}</text>')
    for limit in limits:
        out.append(f'<line x1="{sx(limit)}" y1="{m}" x2="{sx(limit)}" y2="{h - m}" '
                   'stroke="#999" stroke-dasharray="4 4"/>')
        out.append(f'<text x="{sx(limit) + 3}" y="{m + 12}" fill="#666">limit {limit:.1f} ms</text>')
    for x, y, kind, filled in points:
        c = colour[kind]
        fill = c if filled else "white"
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="6" fill="{fill}" stroke="{c}" '
                   'stroke-width="2"/>')
    legend = [("evolution winners", colour["evolution"]), ("random winners", colour["random"]),
              ("Transformer-tiny", colour["tiny"])]
    for i, (label, c) in enumerate(legend):
        y = m + 30 + i * 18
        out.append(f'<circle cx="{m + 20}" cy="{y}" r="5" fill="{c}"/>')
        out.append(f'<text x="{m + 30}" y="{y + 4}">{label}</text>')
    out.append(f'<text x="{m + 15}" y="{m + 30 + 3 * 18 + 4}" fill="#666">hollow: inherited '
               'weights</text>')
    out.append(f'<text x="{m + 15}" y="{m + 30 + 4 * 18 + 4}" fill="#666">filled: trained from '
               'scratch</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    out = sys.argv[1]
    rows = rows_of(out)
    md = table(rows)
    with open(f"{out}/headline.md", "w") as f:
        f.write(md + "\n")
    print(md)
    picture = svg(rows)
    if picture:
        with open(f"{out}/headline.svg", "w") as f:
            f.write(picture)


if __name__ == "__main__":
    main()
