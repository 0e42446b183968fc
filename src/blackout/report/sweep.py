"""Views of a sweep result: blackout-size distribution, most critical lines, expected loss.

A sweep result is a Parquet file or directory (one row per trial) with at least a
``load_lost_mw`` column; ``tripped`` (branch ids per trial, as a list; names in
``tripped_names``) gives the most critical lines: what the cascade tripped, never the
initiating elements, which are shown apart (``initiating`` / ``initiating_names``).
``probability`` or ``weight`` weights the expectation (equal weights otherwise). Branch
names come from the name columns, else from the grid when one is given.

The view also shows the distribution of each outcome that varies (load lost, regions
dark, time to collapse, lines out), which uncertain input drives each (Spearman rank
correlation with the ``input_<name>`` columns) and, in ``notes``, what does not vary
and why there is no power-law fit (:func:`blackout.uncertainty.power_law_rule`).
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
    manifest = (path if path.is_dir() else path.parent) / "_manifest.json"
    if manifest.exists():  # a blackout sweep folder: its scenario (priors) and options
        try:
            meta.setdefault("scenario_spec", json.loads(
                manifest.read_text(encoding="utf-8")).get("scenario_spec"))
        except (OSError, ValueError):
            pass
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
    from blackout.study.sweep.stats import (
        drivers,
        outcome_distributions,
        power_law_rule,
        restoration_only_inputs,
    )

    figures: list[tuple[str, str, dict[str, Any]]] = []
    notes: list[str] = []
    outcomes = outcome_distributions(df)
    drv = drivers(df, restoration_only=restoration_only_inputs(meta.get("scenario_spec") or {}))
    if np.unique(loss).size > 1:
        ccdf = _ccdf_figure(loss)
        if ccdf:
            figures.append(("ccdf", "Blackout size distribution", ccdf))
    elif loss.size:
        notes.append(f"load lost is {loss[0]:,.0f} MW in every trial: no size distribution")
    why = power_law_rule(loss)
    if why:
        notes.append(why)
    for col, o in outcomes.items():
        if not o["varies"] and o["trials"] and col != "load_lost_percent":
            notes.append(f"{col} does not vary: {o['min']:g} in every trial")
    for col in ("load_lost_mw", "regions_dark", "time_to_collapse_s", "restored_90_h"):
        if col in outcomes and outcomes[col]["varies"]:
            figures.append((f"hist-{col}", f"Distribution of {col}",
                            _histogram(df[col].to_numpy(dtype=float), col, drv.get(col))))
    if drv:
        figures.append(("drivers", "What drives each outcome", _drivers_figure(drv)))
    elif outcomes and not any(c.startswith("input_") for c in df.columns):
        notes.append("no uncertain inputs were sampled: nothing to attribute the spread to")
    if "tripped" not in df.columns:  # a contingency table: its outages are all there is
        lines = _critical_lines(df, loss, grid, top_lines, column="initiating")
        if lines:
            figures.append(("critical-lines", "Most critical outages (no tripped column: "
                            "ranked as initiating elements)",
                            _lines_figure(lines, "Mean load lost when the line is initiating "
                                          "(MW)")))
        return {"kind": "sweep", "summary": {**summary, "outcomes": outcomes, "drivers": drv},
                "figures": figures, "critical_lines": lines, "initiating": [],
                "notes": notes}
    lines = _risk_critical_lines(df, loss, grid, top_lines)
    if lines:
        figures.append(("critical-lines", "Most critical lines (tripped by the cascade)",
                        _lines_figure(lines, "Share of the large cascades' load lost that "
                                      "the line takes part in (MW of expected loss)",
                                      value="score_mw")))
    initiating = _critical_lines(df, loss, grid, top_lines, column="initiating")
    if initiating:
        figures.append(("initiating", "Initiating elements (shown apart)",
                        _lines_figure(initiating, "Mean load lost when it initiates (MW)")))
    summary["outcomes"] = outcomes
    summary["drivers"] = drv
    return {"kind": "sweep", "summary": summary, "figures": figures, "critical_lines": lines,
            "initiating": initiating, "notes": notes}


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
                    top: int, column: str = "tripped") -> list[dict[str, Any]]:
    """Branches of ``column`` ("tripped": by the cascade; "initiating") with the trials
    they appear in and the mean load lost in those trials, by mean loss then trials."""
    if column not in df.columns:
        return []
    names_col = f"{column}_names" if f"{column}_names" in df.columns else None
    total: dict[int, float] = {}
    count: dict[int, int] = {}
    label: dict[int, str] = {}
    exclude = df["initiating"].tolist() if column == "tripped" and "initiating" in df.columns \
        else [None] * len(df)
    for k, (ids, s) in enumerate(zip(df[column].tolist(), loss.tolist(), strict=True)):
        ids = np.atleast_1d(np.asarray(ids if ids is not None else [], dtype=np.int64))
        skip = set(np.atleast_1d(np.asarray(exclude[k] if exclude[k] is not None else [],
                                            dtype=np.int64)).tolist())
        names = list(df[names_col].iloc[k]) if names_col else []
        for j, b in enumerate(ids.tolist()):
            if b in skip:
                continue
            total[b] = total.get(b, 0.0) + s
            count[b] = count.get(b, 0) + 1
            if j < len(names):
                label[b] = str(names[j])
    rows: list[dict[str, Any]] = []
    for b, s in total.items():
        name = label.get(b) or (str(grid.branch["name"][b])
                                if grid is not None and 0 <= b < grid.branch.n
                                else f"branch {b}")
        rows.append({"id": b, "name": name, "trials": count[b], "mean_loss_mw": s / count[b]})
    rows.sort(key=lambda r: (-float(r["mean_loss_mw"]), -int(r["trials"])))
    return rows[:top]


def _risk_critical_lines(df: pd.DataFrame, loss: np.ndarray, grid: Grid | None,
                         top: int) -> list[dict[str, Any]]:
    """The most critical lines by the one definition ``blackout sweep`` prints
    (:func:`blackout.study.risk.risk_metrics` on what the cascade tripped, as
    :func:`blackout.study.sweep.results.summarize` calls it): ranked by ``score_mw``, the
    expected load lost over the large cascades (top 10 % by loss) the line trips in.
    Each row also has ``trials`` (large cascades it tripped in) and ``mean_loss_mw``
    (their mean loss)."""
    from blackout.study.risk import risk_metrics

    if not len(df):
        return []
    def ids(a: Any) -> list[int]:
        return [int(b) for b in np.atleast_1d(np.asarray(a if a is not None else [],
                                                         dtype=np.int64))]

    init = [set(ids(a)) for a in df["initiating"].tolist()] if "initiating" in df.columns \
        else [set() for _ in range(len(df))]
    # the initiating elements are never critical lines (they are shown apart)
    tripped = [[b for b in ids(a) if b not in skip]
               for a, skip in zip(df["tripped"].tolist(), init, strict=True)]
    lines_out = (df["lines_out"].to_numpy(dtype=np.int64) if "lines_out" in df.columns
                 else np.array([len(t) for t in tripped], dtype=np.int64))
    n_branch = max((b for t in tripped for b in t), default=-1) + 1
    names: list[str] = [f"branch {b}" for b in range(n_branch)]
    if grid is not None:
        names = [str(n) for n in grid.branch["name"]] + names[grid.branch.n:]
    if "tripped_names" in df.columns:  # the names the sweep recorded win
        for a, nm in zip(df["tripped"].tolist(), df["tripped_names"].tolist(), strict=True):
            for b, n in zip(ids(a), list(nm) if nm is not None else [], strict=False):
                names[b] = str(n)
    crit = risk_metrics(loss, lines_out, initiating=[[] for _ in tripped], tripped=tripped,
                        branch_names=names, top=top).get("critical_lines") or {}
    return [{"id": r["branch"], "name": r["name"], "trials": r["tripped"],
             "mean_loss_mw": r["score_mw"] / r["frequency"] if r["frequency"] else 0.0,
             "score_mw": r["score_mw"], "share": r["share"]} for r in crit.get("rows") or []]


def _histogram(x: np.ndarray, col: str, drv: list[dict[str, Any]] | None) -> dict[str, Any]:
    x = x[np.isfinite(x)]
    title = f"{col}: {x.size} trials"
    if drv:
        title += f"; strongest driver {drv[0]['input']} (Spearman rho {drv[0]['rho']:+.2f})"
    return {"data": [{"type": "histogram", "x": x.tolist(), "marker": {"color": "#3182bd"}}],
            "layout": {"template": "plotly_white", "title": {"text": title},
                       "xaxis": {"title": {"text": col}},
                       "yaxis": {"title": {"text": "trials"}}}}


def _drivers_figure(drv: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    outcomes = list(drv)
    inputs = sorted({r["input"] for rows in drv.values() for r in rows})
    data = []
    for name in inputs:
        rho = [next((r["rho"] for r in drv[o] if r["input"] == name), None) for o in outcomes]
        data.append({"type": "bar", "name": name, "x": outcomes, "y": rho})
    return {"data": data,
            "layout": {"template": "plotly_white", "barmode": "group",
                       "title": {"text": "Spearman rank correlation of each outcome with "
                                         "each uncertain input"},
                       "yaxis": {"title": {"text": "rho"}, "range": [-1, 1]}}}


def _lines_figure(lines: list[dict[str, Any]], title: str,
                  value: str = "mean_loss_mw") -> dict[str, Any]:
    rows = list(reversed(lines))
    return {"data": [{"type": "bar", "orientation": "h", "x": [r[value] for r in rows],
                      "y": [r["name"] for r in rows], "marker": {"color": "#d7301f"},
                      "text": [f"{r['trials']} trials" for r in rows]}],
            "layout": {"template": "plotly_white", "margin": {"l": 220},
                       "title": {"text": title}}}
