"""Views of a sweep result: blackout-size distribution, most critical lines, expected loss.

A sweep result is a Parquet file or directory (one row per trial) with at least a
``load_lost_mw`` column; ``initiating`` (branch ids per trial, as a list) gives the
most critical lines, and ``probability`` or ``weight`` weights the expectation
(equal weights otherwise). Branch names come from the grid when one is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackout.errors import BlackoutError
from blackout.grid.model import Grid

__all__ = ["read_sweep", "sweep_view", "is_sweep_path"]

_LOSS_COLUMNS = ("load_lost_mw", "demand_lost_mw", "lost_mw")


def is_sweep_path(path: Path) -> bool:
    """Whether ``path`` looks like a sweep result (a Parquet file or a directory)."""
    return path.is_dir() or path.suffix in (".parquet", ".pq")


def read_sweep(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The trials table and the metadata stored with it (Parquet key-value metadata
    ``blackout`` as JSON, or a ``meta.json`` beside the files)."""
    import json

    import pyarrow as pa
    import pyarrow.dataset as ds

    path = Path(path)
    files = sorted(str(p) for p in path.rglob("*.parquet")) if path.is_dir() else [str(path)]
    if not files:
        raise BlackoutError(f"{path}: no .parquet files in the sweep result")
    try:
        table = ds.dataset(files, format="parquet").to_table()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise BlackoutError(f"{path}: not a readable Parquet sweep result ({exc})") from None
    meta: dict[str, Any] = {}
    raw = (table.schema.metadata or {}).get(b"blackout")
    if raw:
        meta.update(json.loads(raw))
    side = (path if path.is_dir() else path.parent) / "meta.json"
    if side.exists():
        meta.update(json.loads(side.read_text(encoding="utf-8")))
    return table.to_pandas(), meta


def sweep_view(df: pd.DataFrame, meta: dict[str, Any], grid: Grid | None = None, *,
               top_lines: int = 15) -> dict[str, Any]:
    """Summary numbers and figures (plotly dicts) of a sweep's trials."""
    col = next((c for c in _LOSS_COLUMNS if c in df.columns), None)
    if col is None:
        raise BlackoutError(f"sweep result has no load-loss column (one of {_LOSS_COLUMNS}); "
                            f"columns: {', '.join(map(str, df.columns))}")
    failed = 0
    if "status" in df.columns:  # a failed trial has no result: counted, left out
        ok = (df["status"] == "ok").to_numpy()
        failed = int((~ok).sum())
        df = df[ok].reset_index(drop=True)
    df = df[np.isfinite(df[col].to_numpy(dtype=float))].reset_index(drop=True)
    loss = df[col].to_numpy(dtype=float)
    wcol = next((c for c in ("probability", "weight") if c in df.columns), None)
    w = df[wcol].to_numpy(dtype=float) if wcol else np.ones(loss.size)
    w = w / w.sum() if w.sum() > 0 else np.full(loss.size, 1.0 / max(loss.size, 1))
    summary: dict[str, Any] = {
        "trials": int(loss.size),
        "trials_failed": failed,
        "expected_demand_loss_mw": float(np.sum(w * loss)),
        "trials_with_loss": int(np.sum(loss > 0)),
        "largest_loss_mw": float(loss.max()) if loss.size else 0.0,
        "p99_loss_mw": float(np.quantile(loss, 0.99)) if loss.size else 0.0,
    }
    for k in ("case", "scenario", "trials_requested", "seed"):
        if k in meta:
            summary[k] = meta[k]
    figures: list[tuple[str, str, dict[str, Any]]] = []
    ccdf = _ccdf_figure(loss)
    if ccdf:
        figures.append(("ccdf", "Blackout size distribution", ccdf))
    lines = _critical_lines(df, loss, grid, top_lines)
    if lines:
        figures.append(("critical-lines", "Most critical lines", _lines_figure(lines)))
    return {"kind": "sweep", "summary": summary, "figures": figures, "critical_lines": lines}


def _ccdf_figure(loss: np.ndarray) -> dict[str, Any] | None:
    pos = np.sort(loss[loss > 0])
    if pos.size == 0:
        return None
    # P(S >= s) over all trials, at each observed positive size
    p = 1.0 - np.arange(pos.size) / loss.size - (loss.size - pos.size) / loss.size
    return {"data": [{"type": "scatter", "mode": "markers+lines", "x": pos.tolist(),
                      "y": p.tolist(), "name": "P(loss \u2265 s)", "line": {"shape": "hv"}}],
            "layout": {"template": "plotly_white", "title": {
                "text": "Blackout size: P(load lost \u2265 s)"},
                "xaxis": {"type": "log", "title": {"text": "load lost s (MW)"}},
                "yaxis": {"type": "log", "title": {"text": "probability"}}}}


def _critical_lines(df: pd.DataFrame, loss: np.ndarray, grid: Grid | None,
                    top: int) -> list[dict[str, Any]]:
    if "initiating" not in df.columns:
        return []
    total: dict[int, float] = {}
    count: dict[int, int] = {}
    for ids, s in zip(df["initiating"].tolist(), loss.tolist(), strict=True):
        for b in np.atleast_1d(np.asarray(ids if ids is not None else [], dtype=np.int64)):
            total[int(b)] = total.get(int(b), 0.0) + s
            count[int(b)] = count.get(int(b), 0) + 1
    rows: list[dict[str, Any]] = []
    for b, s in total.items():
        name = str(grid.branch["name"][b]) if grid is not None and 0 <= b < grid.branch.n \
            else f"branch {b}"
        rows.append({"id": b, "name": name, "trials": count[b], "mean_loss_mw": s / count[b]})
    rows.sort(key=lambda r: -float(r["mean_loss_mw"]))
    return rows[:top]


def _lines_figure(lines: list[dict[str, Any]]) -> dict[str, Any]:
    rows = list(reversed(lines))
    return {"data": [{"type": "bar", "orientation": "h", "x": [r["mean_loss_mw"] for r in rows],
                      "y": [r["name"] for r in rows], "marker": {"color": "#d7301f"},
                      "text": [f"{r['trials']} trials" for r in rows]}],
            "layout": {"template": "plotly_white", "margin": {"l": 220},
                       "title": {"text": "Mean load lost when the line is initiating (MW)"}}}
