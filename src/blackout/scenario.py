"""Scenario files: one pydantic model for YAML or TOML, compiled into a grid and events.

A scenario names a case, snapshot overrides (load scaling, units and branches
out, fuel-limited plants), threats with their timing, operator behaviour,
protection overrides, the horizon and the random seed. :func:`load_scenario`
validates a file; every problem is a :class:`~blackout.errors.ScenarioError`
naming the file, the field path (and line, for YAML) and what is allowed.
:func:`compile_scenario` resolves names on the case and runs the threat models;
:func:`run_scenario` hands the result to the cascade engine.

See docs/scenarios.md for the format and the threat models' assumptions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from blackout.bounds import MAX_HORIZON_S
from blackout.errors import BlackoutError, ScenarioError, UnknownCaseError
from blackout.events import Event
from blackout.flow.balance import redispatch
from blackout.grid.model import Grid
from blackout.restore.spec import RestorationSpec
from blackout.threats import EFFECTS, Resolver, ThreatEffects, ThreatSpec, rng_for
from blackout.threats.base import Loc, Probability, Seconds, Spec, scenario_error
from blackout.threats.effects import combine_restoration, combine_settings
from blackout.threats.neglect import NeglectSpec, vegetation_factor
from blackout.threats.wildfire import WildfireSpec
from blackout.uncertainty import Prior, resolve_scenario

__all__ = [
    "CompiledScenario",
    "Operator",
    "Protection",
    "Scenario",
    "ScenarioInfo",
    "Snapshot",
    "builtin_scenarios",
    "compile_scenario",
    "load_scenario",
    "run_scenario",
    "scenario_json_schema",
]

DEFAULT_SCENARIO = "venezuela-2019-03-07-fire"


class FuelLimit(Spec):
    """A unit whose output is capped by its fuel supply."""

    unit: str
    pmax_mw: float = Field(ge=0, allow_inf_nan=False, description=(
        "maximum output with the fuel at hand, MW"))


class DeriveRatings(Spec):
    """Rate unrated branches as ``k * max(|base flow|, floor_mva)`` (grid.ratings).

    Written as a mapping (``{k: 1.3, floor_mva: 31.7, basis: dc, override: false}``) or
    as the command line's one grammar, ``"K[,FLOOR_MVA][,basis=dc|ac][,override]"``.
    """

    k: float = Field(default=1.5, gt=0, le=10)
    floor_mva: float = Field(default=50.0, ge=0, allow_inf_nan=False)
    basis: Literal["dc", "ac"] = "dc"
    override: bool = Field(default=False, description="re-rate branches that have a rating")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            from blackout.grid.ratings import parse_ratings_spec

            try:
                spec = parse_ratings_spec(data, option="derive_ratings")
            except BlackoutError as exc:
                raise ValueError(str(exc)) from None
            return {"k": spec.k, "floor_mva": spec.floor_mva, "basis": spec.basis,
                    "override": spec.override}
        return data


class Snapshot(Spec):
    """Changes to the case's operating point before the threats act.

    After loads are scaled and units removed or capped, the in-service units'
    dispatch is rescaled (within their limits, in proportion to headroom) to the
    new load plus the case's losses, so that the snapshot stays balanced.
    """

    load_scale: float = Field(default=1.0, gt=0, le=10, description="all loads x this")
    region_load_scale: dict[str, float] = Field(default_factory=dict, description=(
        "region name -> extra load multiplier"))
    units_out: list[str] = Field(default_factory=list, description="units out of service")
    branches_out: list[str] = Field(default_factory=list, description="branches out of service")
    fuel_limited: list[FuelLimit] = Field(default_factory=list)
    derive_ratings: DeriveRatings | None = Field(default=None, description=(
        "derive missing branch ratings (cases without ratings, e.g. case118)"))


class Operator(Spec):
    """The control-room operator's automatic response (redispatch, manual shedding)."""

    enabled: bool = True
    delay_s: Seconds | None = Field(default=None, description=(
        "response delay, s (none: the engine's default)"))


class Protection(Spec):
    """Protection overrides for the whole run."""

    hidden_failure_p: Probability | None = Field(default=None, description=(
        "probability that a relay next to a tripped line misoperates"))
    ufls: bool = Field(default=True, description="under-frequency load shedding enabled")


class Scenario(Spec):
    """A scenario file."""

    name: str = Field(min_length=1)
    description: str = ""
    account: str = Field(default="", description="whose account of events this follows")
    sources: list[str] = Field(default_factory=list, description="where the account is published")
    case: str = Field(min_length=1, description="built-in case name or case file")
    start_time: str | None = Field(default=None, description=(
        "wall-clock time of t = 0, ISO 8601 (labels only)"))
    mode: Literal["ac", "dc"] = "ac"
    horizon_s: Seconds = Field(default=3600.0, gt=0, le=MAX_HORIZON_S, description=(
        f"simulated time, s (at most {MAX_HORIZON_S:.0f} s = 30 days; blackout.bounds)"))
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    snapshot: Snapshot = Field(default_factory=Snapshot)
    threats: list[ThreatSpec] = Field(default_factory=list)
    operator: Operator = Field(default_factory=Operator)
    protection: Protection = Field(default_factory=Protection)
    restoration: RestorationSpec = Field(default_factory=RestorationSpec, description=(
        "restoration inputs (case values by default) and the interference events "
        "this scenario's account claims (blackout.restore.spec)"))
    uncertain: dict[str, Prior] = Field(default_factory=dict, description=(
        "uncertain inputs with priors: `run` uses central values, `sweep` samples them "
        "(blackout.uncertainty)"))

    _source: str = PrivateAttr(default="<scenario>")
    _line_of: Callable[[Loc], int | None] | None = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """The file this scenario came from (or ``<scenario>``)."""
        return self._source


# ---------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class ScenarioInfo:
    """A built-in scenario: name, case, description and file."""

    name: str
    case: str
    description: str
    path: Path


def builtin_scenarios() -> dict[str, ScenarioInfo]:
    """Every built-in scenario by name (files under ``cases/*/scenarios/``)."""
    root = Path(__file__).parent / "cases"
    out: dict[str, ScenarioInfo] = {}
    for path in sorted(root.glob("*/scenarios/*")):
        if path.suffix not in (".yaml", ".yml", ".toml"):
            continue
        sc = load_scenario(path)
        out[sc.name] = ScenarioInfo(sc.name, sc.case, sc.description, path)
    return out


def load_scenario(source: str | Path | dict[str, Any]) -> Scenario:
    """Validate a scenario file (``.yaml``, ``.yml``, ``.toml``), built-in name or mapping.

    Raises :class:`ScenarioError` naming the file, the field path, the line (YAML)
    and what is allowed.
    """
    if isinstance(source, dict):
        return _validate(source, "<scenario>", None, None)
    path = Path(source)
    if not path.exists() and path.suffix == "" and "/" not in str(source):
        root = Path(__file__).parent / "cases"
        hits = [p for p in root.glob(f"*/scenarios/{source}.*")
                if p.suffix in (".yaml", ".yml", ".toml")]
        if not hits:
            import difflib

            names = sorted(p.stem for p in root.glob("*/scenarios/*.yaml"))
            close = difflib.get_close_matches(str(source), names, n=3, cutoff=0.4)
            raise ScenarioError(f"{source}: not a scenario file nor a built-in scenario "
                                f"(see `blackout scenarios`)"
                                + (f"; did you mean {', '.join(close)}?" if close else ""))
        path = hits[0]
    from blackout.inputfiles import MAX_NESTING, TEXT_MAX_BYTES, check_nesting, read_text

    # a regular UTF-8 file of at most 4 MiB (a FIFO, directory or /dev/zero is refused)
    text = read_text(path, max_bytes=TEXT_MAX_BYTES, what="scenario", error=ScenarioError)
    try:
        data, line_of = _parse(text, path)
    except RecursionError:
        raise ScenarioError(f"{path}: nested too deeply") from None
    if check_nesting(data, limit=MAX_NESTING) is not None:
        raise ScenarioError(f"{path}: nested too deeply (over {MAX_NESTING} levels)")
    return _validate(data, str(path), line_of, path.parent)


def _parse(text: str, path: Path) -> tuple[Any, Callable[[Loc], int | None] | None]:
    if path.suffix == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            return tomllib.loads(text), None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    if path.suffix not in (".yaml", ".yml"):
        raise ScenarioError(f"{path}: unknown scenario format {path.suffix!r}; allowed: "
                            ".yaml, .yml, .toml")
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}{where}: not valid YAML: {problem}") from None
    return data, (lambda loc: _yaml_line(node, loc))


def _yaml_line(node: Any, loc: Loc) -> int | None:
    """Line (1-based) of the YAML node at ``loc``; the deepest one found."""
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
            if nxt is None:
                return line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and \
                0 <= part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _validate(data: Any, source: str, line_of: Callable[[Loc], int | None] | None,
              base_dir: Path | None) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping of fields (name, case, "
                            f"threats, ...), got {type(data).__name__}")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = _clean_loc(data, tuple(first["loc"]))
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "missing":
            msg = "required field missing"
        elif first["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise scenario_error(source, loc, msg + more, line_of) from None
    sc._source, sc._line_of, sc._base_dir = source, line_of, base_dir
    return sc


def _clean_loc(data: Any, loc: Loc) -> Loc:
    """Drop the union tags pydantic inserts (``threats.0.wildfire.x`` -> ``threats[0].x``)."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict):
            if part in cur:
                out.append(part)
                cur = cur[part]
            elif part in (cur.get("kind"), cur.get("do")):
                continue
            else:
                out.append(part)
                cur = None
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        else:
            if not (isinstance(part, str) and part in ("wildfire", "cyber", "sabotage",
                                                         "neglect")):
                out.append(part)
            cur = None
    return tuple(out)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (for editor completion)."""
    schema = Scenario.model_json_schema()
    schema["title"] = "blackout scenario"
    return schema


# ---------------------------------------------------------------------------- compiling
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
    grid = _load_case(sc)
    sc, uncertain = resolve_scenario(sc, grid)  # values in use of the uncertain inputs
    res = Resolver(grid, source=sc.source, base=(), line_of=sc._line_of)
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


def _load_case(sc: Scenario) -> Grid:
    from blackout.cases import load_case

    case = sc.case
    if sc._base_dir is not None and Path(case).suffix and not Path(case).is_absolute():
        candidate = sc._base_dir / case
        if candidate.exists():
            case = str(candidate)
    try:
        return load_case(case)
    except UnknownCaseError as exc:
        raise scenario_error(sc.source, ("case",), str(exc), sc._line_of) from None
    except BlackoutError as exc:
        raise scenario_error(sc.source, ("case",), f"cannot load the case: {exc}",
                             sc._line_of) from None


def apply_snapshot(grid: Grid, snap: Snapshot, res: Resolver, caps: dict[int, float]) -> Grid:
    """A new grid with the snapshot's overrides and the threats' output caps applied."""
    if snap == Snapshot() and not caps:
        return grid
    if snap.derive_ratings is not None:
        from blackout.grid.ratings import derive_ratings

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
                             sc._line_of) from None


def run_scenario(scenario: Scenario | str | Path, **overrides: Any) -> Any:
    """Run a scenario through the cascade engine and return its Timeline.

    ``overrides`` replace engine settings by name (e.g. ``seed=3``).
    """
    compiled = compile_scenario(scenario)
    return simulate_compiled(compiled, **overrides)


def simulate_compiled(compiled: CompiledScenario, **overrides: Any) -> Any:
    """Hand a compiled scenario to the cascade engine; returns its Timeline."""
    from blackout.cascade.engine import simulate

    settings = engine_settings(compiled.settings, **overrides)
    return simulate(compiled.grid, compiled.events, settings=settings)


def engine_settings(settings: dict[str, Any], **overrides: Any) -> Any:
    """The engine's CascadeSettings from a compiled scenario's settings
    (:func:`blackout.cascade.settings.from_scenario_settings`)."""
    from blackout.cascade.settings import from_scenario_settings

    return from_scenario_settings(settings, **overrides)
