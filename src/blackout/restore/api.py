"""The public entry point: ``restore(grid, timeline, ...) -> RestorationResult``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from blackout.grid.model import Grid
from blackout.impact.metrics import ServedCurve
from blackout.restore.engine import Restoration
from blackout.restore.interference import Interference, from_scenario, resolve_interference
from blackout.restore.params import RestoreParams, load_params
from blackout.restore.result import RestorationResult
from blackout.restore.spec import RestorationSpec
from blackout.restore.start import StartState, start_state

if TYPE_CHECKING:
    from blackout.cascade.timeline import Timeline


__all__ = ["restore"]


def restore(grid: Grid, timeline: Timeline, *, params: RestoreParams | Mapping[str, Any] | None = None,
            interference: Iterable[str | Interference | Mapping[str, Any]] | None = None,
            scenario: Mapping[str, Any] | None = None,
            spec: RestorationSpec | Mapping[str, Any] | None = None) -> RestorationResult:
    """Simulate restoration from the end of ``timeline`` to the parameters' horizon.

    Parameters
    ----------
    grid : the network the cascade ran on.
    timeline : the cascade's :class:`~blackout.cascade.Timeline` (its events give the
        end state; its served-load samples open the curve).
    params : :class:`RestoreParams`, a dict of overrides of the case's parameters, or
        None for the case's data file (``restore/data/<case>.toml``, else defaults).
    interference : preset names, dicts or :class:`Interference` objects; None means
        the case's ``default_interference`` presets (no shipped case has any: events
        belong to scenarios), ``[]`` none.
    scenario : the compiled scenario's restoration data (``repairs``,
        ``crews_fraction``, ``interference``, ``reclose_locked_until_s``,
        ``fuel_caps_mw``), as produced by the threat models.
    spec : the scenario file's ``restoration:`` section (:class:`RestorationSpec`):
        parameter overrides on top of the case's values and the interference events
        its account claims.

    A cascade that lost no load leaves nothing to restore: the result holds the
    cascade's samples held to the horizon, no interference, ``nothing_to_restore``.

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
    if spec is not None and not isinstance(spec, RestorationSpec):
        spec = RestorationSpec.model_validate(dict(spec))
    if isinstance(params, RestoreParams):
        p = params.with_(**spec.overrides()) if spec is not None else params
    else:
        over = {**(spec.overrides() if spec is not None else {}), **dict(params or {})}
        p = load_params(grid.name, **over)
    account = {} if spec is None else {"reproduces": spec.reproduces, "departs": spec.departs}
    start = start_state(grid, timeline)
    if lost_at_start_mw(grid, start) <= 1e-6 * max(float(grid.bus_load_mw().sum()), 1.0):
        times, samples = _cascade_samples(timeline)
        if not times:
            times, samples = [0.0], [grid.bus_load_mw()]
        curve = ServedCurve.build(grid, times, samples, end_h=max(p.horizon_h, times[-1]))
        return RestorationResult(curve=curve, start_h=start.time_h, params=p,
                                 nothing_to_restore=True, account=account)
    data = dict(scenario or {})
    if data.get("crews_fraction") is not None:  # a share of nominal crews (neglect threat):
        # it replaces the case's share, so one fact (e.g. emigration) is not counted twice
        p = p.with_(workforce_fraction=float(data["crews_fraction"]))
    items = resolve_interference(interference, p.interference, p.default_interference)
    if spec is not None:
        items = sorted(items + spec.events(), key=lambda i: i.at_h)
    if data.get("interference"):
        items = sorted(items + [from_scenario(data["interference"])], key=lambda i: i.at_h)
    locks = {str(k): float(v) / 3600.0 for k, v in
             dict(data.get("reclose_locked_until_s", {})).items()}
    eng = Restoration(grid, start, p, interference=list(items),
                      repairs=list(data.get("repairs", [])), locks_h=locks,
                      pmax_caps_mw=dict(data.get("fuel_caps_mw", {})))
    eng.run()
    times, samples = _cascade_samples(timeline)
    times += eng.sample_times_h
    samples += eng.served_samples_bus_mw
    curve = ServedCurve.build(grid, times, samples, end_h=max(p.horizon_h, eng.sample_times_h[-1]))
    return RestorationResult(curve=curve, start_h=start.time_h, params=p, interference=items,
                             pickups=eng.pickups, actions=eng.actions, closes=eng.close_log,
                             crew_log=eng.crews.log, account=account)


def lost_at_start_mw(grid: Grid, start: StartState) -> float:
    """Load not connected at the end of the cascade (in-service loads), MW."""
    load = grid.load
    on = np.asarray(load["in_service"], dtype=bool)
    p = np.maximum(np.asarray(load["p_mw"], dtype=float), 0.0)
    return float(np.sum(np.where(on, p * (1.0 - start.load_fraction), 0.0)))


def _cascade_samples(timeline: Timeline) -> tuple[list[float], list[np.ndarray]]:
    times = [float(t) / 3600.0 for t in getattr(timeline, "sample_time_s", [])]
    samples = [np.asarray(s, dtype=float) for s in getattr(timeline, "served_bus_mw", [])]
    return times, samples
