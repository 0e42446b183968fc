"""What to make of a sweep's results: its summary, and any one trial re-run alone.

:func:`summarize` gives trials ok/failed, the expected demand loss, loss quantiles and
the risk metrics of :mod:`blackout.study.risk`; :func:`rerun_trial` re-runs trial *i* of
a sweep folder in the detailed engine from the seed recorded with it
(``blackout run --from-sweep DIR --trial I``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackout.errors import BlackoutError
from blackout.jsonsafe import json_safe
from blackout.scenario import CompiledScenario
from blackout.study.risk import risk_metrics
from blackout.study.sweep.options import FORMAT, SweepOptions, SweepSpec
from blackout.study.sweep.stats import (
    POWER_LAW_MIN_DISTINCT,
    drivers,
    outcome_distributions,
    power_law_rule,
    restoration_only_inputs,
)
from blackout.study.sweep.store import ResultStore
from blackout.study.sweep.trial import (
    detailed_inputs,
    draw_trial,
    simple_inputs,
    simulate_trial,
    timeline_row,
    trial_context,
    trial_row,
)

__all__ = ["summarize", "TrialRun", "rerun_trial", "load_sweep"]


def load_sweep(folder: str | Path) -> pd.DataFrame:
    """Every finished trial of the sweep in ``folder``, one row per trial, by trial number.

    The folder is a plain Parquet dataset (``pd.read_parquet(folder)`` reads the same
    rows; the manifest ``_manifest.json`` is skipped by Parquet readers). Columns:

    - ``trial``, ``seed`` (the trial's 32-bit seed), ``status`` ("ok" or "error"),
      ``error`` (message of a failed trial), ``wall_s`` (s);
    - ``load_scale`` (the trial's load factor), ``load_lost_mw`` (MW),
      ``load_lost_percent`` (% of demand), ``regions_dark`` (count),
      ``time_to_collapse_s`` (s, NaN when nothing collapsed), ``islands``, ``rounds``;
    - ``initiating_names`` / ``tripped_names``: branch names of the initiating outages and
      of the branches the cascade tripped (``initiating`` / ``tripped`` hold the same
      branches as positions in the case's branch table), ``lines_out`` (count);
    - ``input_<name>``: the value drawn for each uncertain input of the scenario.

    ``frame.attrs["manifest"]`` holds the sweep's manifest. Raises
    :class:`BlackoutError` when ``folder`` holds no sweep.
    """
    store = ResultStore(folder)
    manifest = store.manifest()
    frame = store.load()
    if len(frame) and "initiating_names" not in frame.columns:  # sweeps written before names
        names = _branch_names(manifest)
        for col in ("initiating", "tripped"):
            frame[f"{col}_names"] = [[names[int(b)] for b in (ids if ids is not None else [])]
                                     for ids in frame[col]]
    frame.attrs["manifest"] = manifest
    return frame


def _branch_names(manifest: dict[str, Any]) -> list[str]:
    """Branch names of the sweep's case (from the scenario stored in the manifest)."""
    from blackout.scenario import _load_case, load_scenario

    grid = _load_case(load_scenario(manifest["scenario_spec"]))
    return [str(n) for n in grid.branch["name"]]


def summarize(frame: pd.DataFrame, manifest: dict[str, Any], *,
              branch_names: list[str] | None = None) -> dict[str, Any]:
    """A sweep's summary: trials ok/failed, expected demand loss (MW), loss quantiles and,
    from :mod:`blackout.study.risk`, the four IEEE PES metrics and the power-law tail fit.

    Also ``outcomes`` (the distribution of each outcome: load lost, regions dark, time to
    collapse, lines out; see :func:`blackout.uncertainty.outcome_distributions`),
    ``drivers`` (per outcome that varies, the Spearman rank correlation with each
    uncertain input), ``initiating_elements`` (the initiating branches, shown apart:
    ``critical_lines`` ranks only what the cascade tripped) and ``power_law_note`` (why
    no power-law fit is given when the rule of :func:`blackout.uncertainty.power_law_rule`
    fails: the fit is then None)."""
    ok = frame[frame["status"] == "ok"] if len(frame) else frame
    failed = frame[frame["status"] != "ok"] if len(frame) else frame
    out: dict[str, Any] = {
        "scenario": manifest.get("scenario"), "case": manifest.get("case"),
        "engine": manifest.get("engine"), "root_seed": manifest.get("root_seed"),
        "trials": manifest.get("trials"), "trials_done": int(len(frame)),
        "trials_ok": int(len(ok)), "trials_failed": int(len(failed)),
        "first_error": None, "expected_demand_loss_mw": None, "load_lost_mw": None,
        "lines_out_mean": None,
    }
    if len(failed):
        r = failed.iloc[0]
        out["first_error"] = {"trial": int(r["trial"]), "seed": int(r["seed"]),
                              "error": str(r["error"])}
    if not len(ok):
        return out
    loss = ok["load_lost_mw"].to_numpy(dtype=float)
    lines = ok["lines_out"].to_numpy(dtype=np.int64)
    out["expected_demand_loss_mw"] = float(loss.mean())
    out["load_lost_mw"] = {"mean": float(loss.mean()), "max": float(loss.max()),
                           "p50": float(np.quantile(loss, 0.5)),
                           "p95": float(np.quantile(loss, 0.95)),
                           "p99": float(np.quantile(loss, 0.99)),
                           "p_loss": float(np.mean(loss > 0))}
    out["lines_out_mean"] = float(lines.mean())
    out["outcomes"] = outcome_distributions(ok)
    out["drivers"] = drivers(ok, restoration_only=restoration_only_inputs(
        manifest.get("scenario_spec") or {}))
    out["initiating_elements"] = initiating_elements(ok, branch_names)
    try:  # critical lines: what the cascade tripped; the initiating elements are apart
        risk = risk_metrics(loss, lines, initiating=[[] for _ in range(len(ok))],
                            tripped=[list(map(int, a)) for a in ok["tripped"]],
                            branch_names=branch_names)
    except BlackoutError as exc:
        out["risk_error"] = str(exc)
        return out
    dist = risk.get("demand_loss_distribution", {})
    fit = dist.get("power_law")
    note = power_law_rule(loss)
    if not note and fit:
        tail = np.unique(np.round(loss[loss >= fit["xmin"]], 6)).size
        if tail < POWER_LAW_MIN_DISTINCT:
            note = (f"no power-law fit: its tail above xmin = {fit['xmin']:.0f} MW holds "
                    f"{tail} distinct sizes (the rule needs >= {POWER_LAW_MIN_DISTINCT})")
    if note:
        dist["power_law"], dist["power_law_note"], fit = None, note, None
    out["risk"] = risk
    out["power_law"] = fit
    out["power_law_note"] = note or None
    return out


def initiating_elements(frame: pd.DataFrame, branch_names: list[str] | None = None,
                        top: int = 15) -> list[dict[str, Any]]:
    """The initiating branches of the trials, apart from the critical lines: name, trials
    it initiated and the mean load lost in those trials (MW), most frequent first."""
    if not len(frame) or "initiating" not in frame.columns:
        return []
    col = "initiating_names" if "initiating_names" in frame.columns else "initiating"
    count: dict[str, int] = {}
    total: dict[str, float] = {}
    for ids, lost in zip(frame[col], frame["load_lost_mw"], strict=True):
        for b in (ids if ids is not None else []):
            name = str(b) if col == "initiating_names" or branch_names is None \
                else str(branch_names[int(b)])
            count[name] = count.get(name, 0) + 1
            total[name] = total.get(name, 0.0) + float(lost)
    names = sorted(count, key=lambda n: (-count[n], -total[n] / count[n], n))[:top]
    return [{"name": n, "trials": count[n], "mean_loss_mw": total[n] / count[n]}
            for n in names]


# ---------------------------------------------------------------------------- re-run
@dataclass
class TrialRun:
    """One trial of a sweep re-run alone in the detailed engine.

    engine : the sweep's engine ("fast" trials re-run in the simple DC mode);
    recorded : the trial's stored row (None if its chunk is not written yet);
    row : the same fields measured on this re-run; matches : whether the re-run gives
    the recorded tripped set and load lost (within 1e-6 MW).
    """

    trial: int
    seed: int
    engine: str
    timeline: Any
    compiled: CompiledScenario
    recorded: dict[str, Any] | None
    row: dict[str, Any]

    @property
    def matches(self) -> bool | None:
        """Whether the re-run reproduces the recorded trial (None: nothing recorded)."""
        rec = self.recorded
        if rec is None or rec.get("status") != "ok":
            return None
        same_trips = sorted(rec["tripped"]) == sorted(self.row["tripped"]) and \
            sorted(rec["initiating"]) == sorted(self.row["initiating"])
        return bool(same_trips and abs(rec["load_lost_mw"] - self.row["load_lost_mw"]) <= 1e-6)

    def to_dict(self) -> dict[str, Any]:
        """The trial, its seed, the recorded and re-run rows and whether they match."""
        keys = ("status", "error", "load_scale", "load_lost_mw", "load_lost_percent",
                "lines_out", "initiating", "tripped")
        rec = None if self.recorded is None else {k: self.recorded.get(k) for k in keys}
        out: dict[str, Any] = json_safe({
            "trial": self.trial, "seed": self.seed, "engine": self.engine, "recorded": rec,
            "rerun": {k: self.row.get(k) for k in keys}, "matches": self.matches})
        return out


def rerun_trial(folder: str | Path, trial: int) -> TrialRun:
    """Re-run trial ``trial`` of the sweep in ``folder`` alone, in the detailed engine.

    Detailed-engine sweeps re-run exactly as the sweep ran the trial; fast-engine sweeps
    re-run in the detailed engine's simple DC mode. Raises :class:`BlackoutError` when the
    folder holds no sweep or ``trial`` is out of range.
    """
    store = ResultStore(folder)
    manifest = store.manifest()
    if manifest.get("format") != FORMAT:
        raise BlackoutError(f"{folder}: not a blackout sweep (format "
                            f"{manifest.get('format')!r}, expected {FORMAT})")
    spec = SweepSpec(manifest["scenario_spec"], SweepOptions.from_dict(manifest["options"]),
                 int(manifest["root_seed"]), int(manifest["trials"]),
                 int(manifest["chunk_size"]))
    if not 0 <= trial < spec.trials:
        raise BlackoutError(f"--trial {trial}: out of range; the sweep has trials "
                            f"0..{spec.trials - 1}")
    recorded = None
    path = store.chunk_path(trial // spec.chunk_size)
    if path.exists():
        frame = pd.read_parquet(path)
        hit = frame[frame["trial"] == trial]
        if len(hit):
            recorded = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                        for k, v in hit.iloc[0].to_dict().items()}
    ctx = trial_context(spec)
    d = draw_trial(ctx, trial, spec.root_seed)
    if spec.options.engine == "fast":
        grid, events, settings = simple_inputs(ctx, d)
        compiled = dataclasses.replace(ctx.base, grid=grid)
    else:
        compiled, events, settings = detailed_inputs(ctx, d)
    timeline = simulate_trial(compiled.grid, events, settings)
    row = trial_row(d, **timeline_row(timeline, events))
    if spec.options.engine == "fast":  # the fast engine's lines out: initiating + tripped
        row["lines_out"] = len(row["initiating"]) + len(row["tripped"])
    return TrialRun(trial, d.seed, spec.options.engine, timeline, compiled, recorded, row)
