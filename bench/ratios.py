#!/usr/bin/env python3
"""Ratios of Portcullis figures to the Pyramid baselines measured in the same run.

Usage: ratios.py RESULTS_DIR   (reads *.jsonl written by bench/run.sh)
"""
import json
import pathlib
import sys

rows = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.jsonl")):
    for line in f.read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))

def ns(r):
    return r.get("cpu_ns_per_op", r["ns_per_op"]) if r["impl"].startswith("pyramid") else r["ns_per_op"]

print("| workload | implementation | ns/op (median) | Pyramid frozenset ÷ this |")
print("|---|---|---|---|")
for wl in ("W1", "W1B"):
    base = [r for r in rows if r["workload"] == wl and "frozenset" in r["impl"]]
    b = ns(base[0]) if base else None
    for r in rows:
        if r["workload"] != wl:
            continue
        ratio = f"{b / ns(r):.1f}×" if b else "n/a"
        print(f"| {wl} | {r['impl']} | {ns(r):.1f} | {ratio} |")
