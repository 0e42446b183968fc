"""The public entry point: ``restore(grid, timeline, ...) -> RestorationResult``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from blackout.grid.model import Grid
from blackout.impact.metrics import ServedCurve
from blackout.restore.engine import Restoration
from blackout.restore.interference import Interference, from_scenario, resolve_interference
from blackout.restore.params import RestoreParams, load_params
from blackout.restore.result import RestorationResult
from blackout.restore.start import start_state

__all__ = ["restore"]


def restore(grid: Grid, timeline: Any, *, params: RestoreParams | Mapping[str, Any] | None = None,
            interference: Iterable[str | Interference | Mapping[str, Any]] | None = None,
            scenario: Mapping[str, Any] | None = None) -> RestorationResult:
    """Simulate restoration from the end of ``timeline`` to the parameters' horizon.

    Parameters
    ----------
    grid : the network the cascade ran on.
    timeline : the cascade's :class:`~blackout.cascade.Timeline` (its events give the
        end state; its served-load samples open the curve).
    params : :class:`RestoreParams`, a dict of overrides of the case's parameters, or
        None for the case's data file (``restore/data/<case>.toml``, else defaults).
    interference : preset names, dicts or :class:`Interference` objects; None means
        the case's ``default_interference`` presets, ``[]`` none.
    scenario : the compiled scenario's restoration data (``repairs``,
        ``crews_fraction``, ``interference``, ``reclose_locked_until_s``,
        ``fuel_caps_mw``), as produced by the threat models.

    Returns
    -------
    RestorationResult : curve, ENS, customer-hours, per-region durations, critical services.

    Examples
    --------
    >>> from blackout import load_case
    >>> from blackout.cascade import Timeline
    >>> grid = load_case("case9")
    >>> res = restore(grid, Timeline(grid=grid, mode="dc"), params={"horizon_h": 2.0})
    >>> res.served_percent_final()
    100.0
    """
    if isinstance(params, RestoreParams):
        p = params
    else:
        p = load_params(grid.name, **dict(params or {}))
    data = dict(scenario or {})
    if data.get("crews_fraction") is not None:
        p = p.with_(workforce_fraction=p.workforce_fraction * float(data["crews_fraction"]))
    items = resolve_interference(interference, p.interference, p.default_interference)
    if data.get("interference"):
        items = sorted(items + [from_scenario(data["interference"])], key=lambda i: i.at_h)
    start = start_state(grid, timeline)
    locks = {str(k): float(v) / 3600.0 for k, v in
             dict(data.get("reclose_locked_until_s", {})).items()}
    eng = Restoration(grid, start, p, interference=list(items),
                      repairs=list(data.get("repairs", [])), locks_h=locks,
                      pmax_caps_mw=dict(data.get("fuel_caps_mw", {})))
    eng.run()
    times, samples = _cascade_samples(timeline)
    times += eng.times
    samples += eng.samples
    curve = ServedCurve.build(grid, times, samples, end_h=max(p.horizon_h, eng.times[-1]))
    return RestorationResult(curve=curve, start_h=start.time_h, params=p, interference=items,
                             pickups=eng.pickups, actions=eng.actions, closes=eng.close_log,
                             crew_log=eng.crews.log)


def _cascade_samples(timeline: Any) -> tuple[list[float], list[np.ndarray]]:
    times = [float(t) / 3600.0 for t in getattr(timeline, "sample_time_s", [])]
    samples = [np.asarray(s, dtype=float) for s in getattr(timeline, "served_bus_mw", [])]
    return times, samples
