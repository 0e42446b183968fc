"""Run every benchmark (each in its own process, one BLAS thread) and rewrite BENCHMARKS.md."""

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
        print(f"== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], cwd=HERE, env=env, check=False)


def render() -> str:
    parts = ["# Benchmarks\n",
             "Written by `make bench` (benchmarks/run_all.py); every figure below comes from "
             "the result files in benchmarks/results/, measured side by side in one run on the "
             f"machine named with each table. Last rendered {date.today().isoformat()}.\n"]
    for path in sorted((HERE / "results").glob("*.json")):
        data = json.loads(path.read_text())
        parts.append(f"\n## {data.get('title', path.stem)}\n")
        rows = data.get("rows") or []
        if rows:
            cols = list(rows[0])
            parts.append("| " + " | ".join(cols) + " |")
            parts.append("|" + "---|" * len(cols))
            for row in rows:
                parts.append("| " + " | ".join(str(row.get(c, "")) for c in cols) + " |")
        for note in data.get("notes", []):
            parts.append(f"\n- {note}")
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
