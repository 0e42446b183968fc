"""Shared helpers for benchmarks: timing (median of repeats) and result files."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def median_time(func: Callable[[], Any], *, repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``func()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> dict[str, Any]:
    """Machine and library versions, for the record."""
    import os

    out: dict[str, Any] = {"python": platform.python_version(), "cpu": platform.processor()
                           or platform.machine(), "cores": os.cpu_count()}
    for lib in ("numpy", "scipy", "numba", "pandapower", "lightsim2grid"):
        try:
            out[lib] = version(lib)
        except Exception:
            out[lib] = "n/a"
    return out


def write_result(name: str, title: str, rows: list[dict[str, Any]], notes: list[str], *,
                 targets: list[dict[str, Any]] | None = None) -> Path:
    """Write ``benchmarks/results/<name>.json`` (rendered into BENCHMARKS.md by run_all.py).

    ``targets``: ``{"target", "measured", "met"}`` per speed target (met: True/False/None)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"title": title, "rows": rows, "notes": notes,
                                "targets": targets or [], "machine": machine()}, indent=2))
    return path
