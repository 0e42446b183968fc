"""study: contingency analysis, Monte Carlo sweeps and their results.

``load_sweep(DIR)`` reads a sweep folder into a pandas DataFrame (one row per trial;
see :func:`blackout.study.sweep_results.load_sweep` for the columns). It is imported on
first use, so that importing a study module (e.g. in a worker) stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_sweep"]


def __getattr__(name: str) -> Any:
    if name == "load_sweep":
        from blackout.study.sweep_results import load_sweep

        return load_sweep
    raise AttributeError(f"module 'blackout.study' has no attribute {name!r}")
