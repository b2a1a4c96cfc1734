"""Run the benchmarks: ``python -m bench [AREA ...]`` (areas: see AREAS); results to .bench/results.json.

Each area module exposes ``run() -> list[dict]``; a dict is one measured row with at least ``name``.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

AREAS = ["cli", "catalog", "ops", "images", "steps", "api", "runner"]


def main(argv: list[str]) -> int:
    areas = argv or AREAS
    unknown = [a for a in areas if a not in AREAS]
    if unknown:
        print(f"error: unknown benchmark area(s) {unknown}; known: {AREAS}", file=sys.stderr)
        return 2
    results: dict[str, list[dict]] = {}
    for area in areas:
        try:
            module = importlib.import_module(f"bench.{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{area}":
                print(f"== {area}: no benchmark yet")
                continue
            raise
        print(f"== {area}", flush=True)
        started = time.perf_counter()
        rows = module.run()
        for row in rows:
            print("   " + "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s in all)")
        results[area] = rows
    out = Path(".bench")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
