"""What a sweep's trials show: the distribution of each outcome, which uncertain input
drives it (Spearman rank correlation), and whether a power-law fit of the sizes is
meaningful. The inputs themselves are :mod:`blackout.uncertainty`'s priors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: outcome columns of a sweep summarised by :func:`outcome_distributions` (unit in the name)
OUTCOMES = ("load_lost_mw", "load_lost_percent", "regions_dark", "time_to_collapse_s",
            "lines_out", "restored_90_h", "energy_not_served_mwh")
#: the power-law rule: at least this many distinct positive sizes ...
POWER_LAW_MIN_DISTINCT = 10
#: ... spanning at least this ratio (max / min of the positive sizes: a decade)
POWER_LAW_MIN_SPAN = 10.0


def outcome_distributions(frame: Any, columns: tuple[str, ...] = OUTCOMES
                          ) -> dict[str, dict[str, Any]]:
    """Per outcome column present: trials with a value, distinct values, min, p5, p50,
    p95, max, mean, and whether it varies (``NaN`` rows, e.g. no collapse, are counted
    apart as ``missing``)."""
    out: dict[str, dict[str, Any]] = {}
    for col in columns:
        if col not in frame.columns:
            continue
        x = np.asarray(frame[col], dtype=float)
        ok = np.isfinite(x)
        v = x[ok]
        row: dict[str, Any] = {"trials": int(ok.sum()), "missing": int((~ok).sum()),
                               "distinct": int(np.unique(np.round(v, 6)).size)}
        if v.size:
            row.update(min=float(v.min()), p5=float(np.quantile(v, 0.05)),
                       p50=float(np.quantile(v, 0.5)), p95=float(np.quantile(v, 0.95)),
                       max=float(v.max()), mean=float(v.mean()))
        row["varies"] = row["distinct"] > 1
        out[col] = row
    return out


def input_columns(frame: Any) -> list[str]:
    """The columns holding a trial's uncertain inputs (``input_<name>``; ``load_scale``
    too when it varies)."""
    cols = [c for c in frame.columns if str(c).startswith("input_")]
    if "load_scale" in frame.columns:
        ls = np.asarray(frame["load_scale"], dtype=float)
        if np.unique(ls[np.isfinite(ls)]).size > 1:
            cols.append("load_scale")
    return cols


#: outcomes of the restoration (the others are the cascade's)
RESTORATION_OUTCOMES = ("restored_90_h", "energy_not_served_mwh")


def restoration_only_inputs(scenario_data: Mapping[str, Any]) -> set[str]:
    """Names of the priors of a scenario document that act only on restoration (a path
    under ``restoration.``): they cannot drive a cascade outcome."""
    priors = dict(scenario_data.get("uncertain") or {})
    return {n for n, p in priors.items()
            if str((p or {}).get("path") or "").startswith("restoration.")}


def drivers(frame: Any, columns: tuple[str, ...] = OUTCOMES, *,
            restoration_only: set[str] | frozenset[str] = frozenset()
            ) -> dict[str, list[dict[str, Any]]]:
    """Which uncertain input drives each outcome that varies: Spearman rank correlation
    ``rho`` of the outcome with each input over the trials where both are finite, with
    its two-sided ``p`` value, strongest first. Inputs or outcomes that do not vary are
    left out (a rank correlation with a constant is undefined), and so are the inputs in
    ``restoration_only`` for the cascade's outcomes (a correlation there is chance)."""
    from scipy.stats import spearmanr

    inputs = input_columns(frame)
    out: dict[str, list[dict[str, Any]]] = {}
    for col in columns:
        if col not in frame.columns:
            continue
        y = np.asarray(frame[col], dtype=float)
        rows = []
        for name in inputs:
            if col not in RESTORATION_OUTCOMES and name.removeprefix("input_") in \
                    restoration_only:
                continue
            x = np.asarray(frame[name], dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 3 or np.unique(x[ok]).size < 2 or np.unique(y[ok]).size < 2:
                continue
            rho, p = spearmanr(x[ok], y[ok])
            if np.isfinite(rho):
                rows.append({"input": name.removeprefix("input_"), "rho": float(rho),
                             "p": float(p), "trials": int(ok.sum())})
        if rows:
            out[col] = sorted(rows, key=lambda r: -abs(r["rho"]))
    return out


def power_law_rule(sizes: Any) -> str:
    """'' when a power-law tail fit is meaningful for ``sizes``, else why not.

    The rule: at least :data:`POWER_LAW_MIN_DISTINCT` distinct positive sizes spanning at
    least a decade (max / min >= :data:`POWER_LAW_MIN_SPAN`); a fit's tail must also hold
    that many distinct values above its xmin (checked by the caller on the fit).
    """
    x = np.asarray(sizes, dtype=float)
    pos = x[np.isfinite(x) & (x > 0)]
    distinct = np.unique(np.round(pos, 6))
    if distinct.size < POWER_LAW_MIN_DISTINCT:
        return (f"no power-law fit: {distinct.size} distinct positive sizes (the rule needs "
                f">= {POWER_LAW_MIN_DISTINCT} spanning a decade)")
    span = float(distinct.max() / distinct.min())
    if span < POWER_LAW_MIN_SPAN:
        return (f"no power-law fit: sizes span {distinct.min():.0f}-{distinct.max():.0f} MW, "
                f"a ratio of {span:.2f} (the rule needs >= {POWER_LAW_MIN_SPAN:g}, a decade)")
    return ""
