"""Run every benchmark (each in its own process, one BLAS thread) and rewrite BENCHMARKS.md.

bench_scale*.py (the largest public cases, more than 10 minutes) run only when named:
``make bench-scale``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent


def run_benchmarks(only: list[str]) -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        if not only and script.stem.startswith("bench_scale"):
            continue  # the largest cases take more than 10 minutes: `make bench-scale`
        print(f"== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], cwd=HERE, env=env, check=False)


def _met(value: object) -> str:
    return {True: "met", False: "NOT met", None: "not measured"}.get(value, str(value))  # type: ignore[call-overload]


def render() -> str:
    results = [(p, json.loads(p.read_text())) for p in sorted((HERE / "results").glob("*.json"))]
    parts = ["# Benchmarks\n",
             "Written by `make bench` (benchmarks/run_all.py); every figure below comes from "
             "the result files in benchmarks/results/, measured side by side in one run on the "
             f"machine named with each table. Last rendered {date.today().isoformat()}.\n",
             "Timings on a shared 2-core machine are noisy (other processes ran tests during "
             "the runs): medians of repeats where stated; treat differences under ~20 % as "
             "noise.\n",
             "## Targets\n",
             "| target | measured | status |", "|---|---|---|"]
    for _, data in results:
        for t in data.get("targets", []):
            parts.append(f"| {t['target']} | {t['measured']} | {_met(t.get('met'))} |")
    parts.append("")
    for path, data in results:
        parts.append(f"\n## {data.get('title', path.stem)}\n")
        rows = data.get("rows") or []
        if rows:
            cols = list(dict.fromkeys(c for row in rows for c in row))
            parts.append("| " + " | ".join(cols) + " |")
            parts.append("|" + "---|" * len(cols))
            for row in rows:
                parts.append("| " + " | ".join(str(row.get(c, "")) for c in cols) + " |")
        for note in data.get("notes", []):
            parts.append(f"\n- {note}")
        for t in data.get("targets", []):
            parts.append(f"\n- Target: {t['target']}. Measured {t['measured']}: "
                         f"**{_met(t.get('met'))}**.")
        mach = data.get("machine")
        if mach:
            parts.append("\nMachine: " + ", ".join(f"{k} {v}" for k, v in mach.items()))
        parts.append("")
    return "\n".join(parts) + "\n"


def main() -> None:
    only = sys.argv[1:]
    run_benchmarks(only)
    (ROOT / "BENCHMARKS.md").write_text(render())
    print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
