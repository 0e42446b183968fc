"""Compiling a scenario on its case: the snapshot grid, the threats' events, settings.

:func:`compile_scenario` resolves names on the case, puts the uncertain inputs' values
in use in place (:func:`resolve_scenario`), runs the threat models and combines their
typed effects (:mod:`blackout.threats.effects`) into the engine settings and the
restoration data of a :class:`CompiledScenario`; :func:`engine_settings` turns those
settings into the engine's. No physics runs here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from blackout.errors import BlackoutError, ScenarioError, UnknownCaseError
from blackout.events import Event
from blackout.flow.balance import redispatch
from blackout.grid.model import Grid
from blackout.scenario.load import load_scenario, validate_scenario
from blackout.scenario.schema import Scenario, Snapshot
from blackout.threats import EFFECTS, Resolver, ThreatEffects, rng_for
from blackout.threats.base import scenario_error
from blackout.threats.effects import combine_restoration, combine_settings
from blackout.threats.neglect import NeglectSpec, vegetation_factor
from blackout.threats.wildfire import WildfireSpec
from blackout.uncertainty import Prior, Resolved, resolve

if TYPE_CHECKING:  # the engine is imported on first use
    from blackout.cascade.settings import CascadeSettings

__all__ = ["CompiledScenario", "apply_snapshot", "compile_scenario", "engine_settings",
           "load_case_of", "resolve_scenario"]


@dataclass
class CompiledScenario:
    """A scenario resolved on its case: the snapshot grid, events and settings."""

    scenario: Scenario
    grid: Grid
    events: list[Event]
    settings: dict[str, Any] = field(default_factory=dict)
    restoration: dict[str, Any] = field(default_factory=dict)


def compile_scenario(scenario: Scenario | str | Path) -> CompiledScenario:
    """Resolve the scenario on its case: snapshot grid, threat events, engine settings."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    grid = load_case_of(sc)
    sc, uncertain = resolve_scenario(sc, grid)  # values in use of the uncertain inputs
    res = Resolver(grid, source=sc.source, base=(), line_of=sc.line_of)
    factor = float(np.prod([vegetation_factor(t) for t in sc.threats
                            if isinstance(t, NeglectSpec)]))
    effects: list[ThreatEffects] = []
    for k, threat in enumerate(sc.threats):
        if isinstance(threat, WildfireSpec) and factor != 1.0:
            threat = threat.model_copy(update={
                "vegetation_load": threat.vegetation_load * factor})
        fx = EFFECTS[threat.kind](grid, threat, rng=rng_for(sc.seed, k),
                                  resolver=res.at("threats", k), horizon_s=sc.horizon_s)
        effects.append(fx)
    caps: dict[int, float] = {}
    for fx in effects:
        for g, cap in fx.pmax_caps_mw.items():
            caps[g] = min(cap, caps.get(g, np.inf))
    snap_grid = apply_snapshot(grid, sc.snapshot, res.at("snapshot"), caps)
    snap_grid = uncertain.apply_grid(snap_grid)
    events = sorted((e for fx in effects for e in fx.events), key=lambda e: e.time_s)
    settings = _settings(sc, effects)
    settings.update(uncertain.settings)
    if uncertain.values:
        settings["uncertain"] = dict(uncertain.values)
    restoration: dict[str, Any] = combine_restoration(effects)
    return CompiledScenario(sc, snap_grid, events, settings, restoration)


def load_case_of(sc: Scenario) -> Grid:
    """The case ``sc`` names (a case file relative to the scenario file's folder first);
    an unknown or unreadable case is a :class:`ScenarioError` on the ``case`` field."""
    from blackout.cases import load_case

    case = sc.case
    if sc.base_dir is not None and Path(case).suffix and not Path(case).is_absolute():
        candidate = sc.base_dir / case
        if candidate.exists():
            case = str(candidate)
    try:
        return load_case(case)
    except UnknownCaseError as exc:
        raise scenario_error(sc.source, ("case",), str(exc), sc.line_of) from None
    except BlackoutError as exc:
        raise scenario_error(sc.source, ("case",), f"cannot load the case: {exc}",
                             sc.line_of) from None


def apply_snapshot(grid: Grid, snap: Snapshot, res: Resolver, caps: dict[int, float]) -> Grid:
    """A new grid with the snapshot's overrides and the threats' output caps applied."""
    if snap == Snapshot() and not caps:
        return grid
    if snap.derive_ratings is not None:
        from blackout.flow.ratings import derive_ratings

        grid = derive_ratings(grid, k=snap.derive_ratings.k,
                              floor_mva=snap.derive_ratings.floor_mva,
                              basis=snap.derive_ratings.basis,
                              override_given=snap.derive_ratings.override)
    load, gen, br = grid.load, grid.gen, grid.branch
    scale = np.full(load.n, snap.load_scale)
    load_region = grid.bus["region"][load["bus"]]
    for name, f in snap.region_load_scale.items():
        if not (f > 0 and np.isfinite(f)):
            raise res.error(("region_load_scale", name), f"must be a number > 0, got {f}")
        reg = res.find("region", name, ("region_load_scale", name))
        scale[load_region == reg] *= f
    gen_in = gen["in_service"].copy()
    for j, name in enumerate(snap.units_out):
        gen_in[res.find("gen", name, ("units_out", j))] = False
    br_in = br["in_service"].copy()
    for j, name in enumerate(snap.branches_out):
        br_in[res.find("branch", name, ("branches_out", j))] = False
    pmax = gen["pmax_mw"].astype(float).copy()
    for j, lim in enumerate(snap.fuel_limited):
        g = res.find("gen", lim.unit, ("fuel_limited", j, "unit"))
        caps = {**caps, g: min(lim.pmax_mw, caps.get(g, np.inf))}
    for g, cap in caps.items():
        pmax[g] = min(pmax[g], cap)
    pmin = np.minimum(gen["pmin_mw"], pmax)
    served = load["in_service"]
    old_load = float(load["p_mw"][served].sum())
    new_load = float((load["p_mw"] * scale)[served].sum())
    old_gen = float(gen["p_mw"][gen["in_service"]].sum())
    target = old_gen * (new_load / old_load) if old_load > 0 else old_gen
    p = redispatch(np.where(gen_in, gen["p_mw"], 0.0), pmin, pmax, gen_in, target)
    return grid.replace(
        load=load.with_columns(p_mw=load["p_mw"] * scale, q_mvar=load["q_mvar"] * scale),
        gen=gen.with_columns(in_service=gen_in, pmax_mw=pmax, pmin_mw=pmin, p_mw=p),
        branch=br.with_columns(in_service=br_in),
        notes={**grid.notes, "snapshot": snap.model_dump(mode="json")},
    )


def _settings(sc: Scenario, effects: list[ThreatEffects]) -> dict[str, Any]:
    """Engine settings of the scenario combined with the threats' overrides.

    Probabilities and delays combine by maximum (the worst case holds); operator
    blinding windows are kept as a list.
    """
    out: dict[str, Any] = {"mode": sc.mode, "horizon_s": sc.horizon_s, "seed": sc.seed,
                           "operator_enabled": sc.operator.enabled, "ufls": sc.protection.ufls}
    if sc.start_time:
        out["start_clock"] = _clock(sc)
    if sc.operator.delay_s is not None:
        out["operator_delay_s"] = sc.operator.delay_s
    if sc.protection.hidden_failure_p is not None:
        out["hidden_failure_p"] = sc.protection.hidden_failure_p
    for key, value in combine_settings(effects).items():
        out[key] = value if key == "operator_blind" else max(value, out.get(key, 0.0))
    return out


def _clock(sc: Scenario) -> str:
    """``HH:MM:SS`` of the scenario's ISO 8601 start time."""
    from datetime import datetime

    assert sc.start_time is not None
    try:
        return datetime.fromisoformat(sc.start_time).strftime("%H:%M:%S")
    except ValueError:
        raise scenario_error(sc.source, ("start_time",), f"not an ISO 8601 time: "
                             f"{sc.start_time!r} (e.g. 2019-03-07T16:50:00-04:00)",
                             sc.line_of) from None



def resolve_scenario(sc: Scenario, grid: Grid) -> tuple[Scenario, Resolved]:
    """The scenario ``sc`` with its uncertain inputs' values in use put in place (its
    ``uncertain`` section emptied, so resolving again changes nothing) and the changes
    that go beyond the document. Raises :class:`~blackout.errors.ScenarioError` naming
    the file and ``uncertain.<name>`` when a value does not fit its target."""
    priors: Mapping[str, Prior] = sc.uncertain
    if not priors:
        return sc, Resolved()
    load = grid.load
    demand = float(np.asarray(load["p_mw"], dtype=float)[np.asarray(load["in_service"],
                                                                     dtype=bool)].sum())
    data, res, problems = resolve(sc.model_dump(mode="json"), priors, demand)
    if problems:
        name, msg = problems[0]
        raise scenario_error(sc.source, ("uncertain", name), msg, sc.line_of)
    data["uncertain"] = {}
    try:
        out = validate_scenario(data, sc.source, sc.line_of, sc.base_dir)
    except ScenarioError as exc:
        names = ", ".join(f"{n} = {v:g}" for n, v in res.values.items())
        raise ScenarioError(f"{exc} (with the uncertain inputs' values in use: {names})"
                            ) from None
    return out, res


def engine_settings(settings: dict[str, Any], **overrides: Any) -> CascadeSettings:
    """The engine's CascadeSettings from a compiled scenario's settings
    (:func:`blackout.cascade.settings.from_scenario_settings`)."""
    from blackout.cascade.settings import from_scenario_settings

    return from_scenario_settings(settings, **overrides)
