"""One sweep trial: the per-process context, the trial's draws, its inputs and its row.

A sweep (:mod:`blackout.study.sweep.run`) sends chunks of trials to workers; a worker
builds the sweep's :class:`TrialContext` once (cached by the spec's hash), draws each
trial (:func:`draw_trial`, in the order documented in :mod:`blackout.study.sweep.run`)
and runs it on the detailed engine (:func:`detailed_trial`) or the chunk at once on the
fast DC engine (:func:`fast_rows`). :func:`blackout.study.sweep.results.rerun_trial`
re-runs one trial from the same draws.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from blackout.cases import builtin_cases, load_case
from blackout.errors import BlackoutError
from blackout.events import Event
from blackout.limits import TrialTimeout, time_limit
from blackout.scenario import CompiledScenario, Scenario, compile_scenario, load_scenario
from blackout.study.sweep.options import (
    SweepSpec,
    chunk_meta,
    trial_seed,
)
from blackout.study.sweep.store import encode_chunk

__all__ = ["ROW_SCHEMA", "TrialContext", "TrialDraw", "detailed_inputs", "detailed_trial",
           "draw_trial", "fast_rows", "row_schema", "run_chunk", "simple_inputs", "simulate_trial",
           "timeline_row", "trial_context", "trial_row", "with_names"]

#: one row per trial; every chunk is written with this schema
ROW_SCHEMA = pa.schema([
    ("trial", pa.int64()), ("seed", pa.int64()), ("status", pa.string()),
    ("error", pa.string()), ("load_scale", pa.float64()), ("load_lost_mw", pa.float64()),
    ("load_lost_percent", pa.float64()), ("lines_out", pa.int64()),
    ("initiating", pa.list_(pa.int64())), ("tripped", pa.list_(pa.int64())),
    ("islands", pa.int64()), ("rounds", pa.int64()), ("regions_dark", pa.int64()),
    ("time_to_collapse_s", pa.float64()), ("wall_s", pa.float64()),
])


# ---------------------------------------------------------------------------- context
@dataclass
class TrialContext:
    """A sweep's shared, read-only state in one process (built once, cached)."""

    spec: SweepSpec
    scenario: Scenario
    base: CompiledScenario  # the scenario's own seed, factor 1, ratings applied
    ratings: dict[str, Any] | None
    candidates: np.ndarray  # branches that random outages draw from
    weights: np.ndarray | None  # their probabilities (None: uniform)
    model: Any = None  # fast engine: DCModel of base.grid, built on first use

    def dc_model(self) -> Any:
        """The factorised DC model of the base grid (fast engine)."""
        if self.model is None:
            from blackout.study.fastdc.model import DCModel

            self.model = DCModel.build(self.base.grid, rule=self.spec.options.participation)
        return self.model


_CONTEXTS: dict[str, TrialContext] = {}


def trial_context(spec: SweepSpec) -> TrialContext:
    """This process's context for ``spec`` (built on first use; the last two are kept)."""
    ctx = _CONTEXTS.get(spec.key)
    if ctx is None:
        ctx = _build_context(spec)
        while len(_CONTEXTS) >= 2:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        _CONTEXTS[spec.key] = ctx
    return ctx


def _build_context(spec: SweepSpec) -> TrialContext:
    opts = spec.options
    sc = load_scenario(spec.scenario)
    if sc.case in builtin_cases():  # built once (cached), outside the limit
        load_case(sc.case)
    try:  # expanding the threats is bounded by the trial time limit too
        with time_limit(opts.trial_time_limit_s):
            base = compile_scenario(sc)
    except (TrialTimeout, MemoryError) as exc:
        if not sc.threats:
            why = "ran out of memory" if isinstance(exc, MemoryError) else (
                f"took longer than the trial time limit ({opts.trial_time_limit_s:g} s)")
            raise BlackoutError(f"scenario {sc.name!r}: compiling it {why}") from None
        # the snapshot alone gives the grid the trials draw on; each trial expands its
        # threats within its own limit and, failing, is a failed trial with its seed
        base = compile_scenario(sc.model_copy(update={"threats": []}))
    ratings = None
    if opts.derive_ratings is not None:
        from blackout.flow.ratings import derive_ratings

        k, floor, override = opts.derive_ratings  # on the case dispatch, imbalance shared
        rated = derive_ratings(base.grid, k=k, floor_mva=floor, override_given=override,
                               participation=opts.participation)
        cols = ("rate_a_mva", "rate_b_mva", "rate_c_mva", "rating_given")
        ratings = {"columns": {c: np.asarray(rated.branch[c]) for c in cols},
                   "rule": rated.notes.get("ratings")}
        base = with_ratings(base, ratings)
    if opts.engine == "fast":
        if sc.threats:
            raise BlackoutError(f"--engine fast: scenario {sc.name!r} has threats; the fast "
                                "engine sweeps random initiating outages (--random-outages) "
                                "on the scenario's snapshot: use --engine detailed")
        if opts.random_outages == 0:
            raise BlackoutError("--engine fast needs initiating events: give "
                                "--random-outages K")
        if sc.uncertain and opts.sample_uncertain:  # (fast engine)
            raise BlackoutError(f"--engine fast: scenario {sc.name!r} has uncertain inputs, "
                                "which only the detailed engine samples: use --engine "
                                "detailed, or --central for their central values")
    if opts.load_scale is not None and opts.sample_uncertain and any(
            p.input == "demand_mw" for p in sc.uncertain.values()):
        raise BlackoutError(f"--load-scale: scenario {sc.name!r} has an uncertain demand_mw "
                            "input, which sets the demand: drop --load-scale (or use "
                            "--central)")
    grid = base.grid
    br = grid.branch
    bus_in = np.asarray(grid.bus["in_service"], dtype=bool)
    on = np.asarray(br["in_service"], dtype=bool) & bus_in[br["from_bus"]] & \
        bus_in[br["to_bus"]]
    cand = np.flatnonzero(on)
    length = np.nan_to_num(np.asarray(br["length_km"], dtype=float)[cand], nan=0.0)
    weights = None
    if np.any(length > 0):
        cand, length = cand[length > 0], length[length > 0]
        weights = length / length.sum()
    if opts.random_outages > cand.size:
        raise BlackoutError(f"--random-outages {opts.random_outages}: the grid has only "
                            f"{cand.size} branches that can be drawn")
    return TrialContext(spec, sc, base, ratings, cand, weights)


def with_ratings(compiled: CompiledScenario, ratings: dict[str, Any] | None
                  ) -> CompiledScenario:
    if ratings is None:
        return compiled
    g = compiled.grid
    grid = g.replace(branch=g.branch.with_columns(**ratings["columns"]),
                     notes={**g.notes, "ratings": ratings["rule"]})
    return dataclasses.replace(compiled, grid=grid)


@dataclass(frozen=True)
class TrialDraw:
    """What one sweep trial drew: its seed, load scale, initiating outages and the
    values of the scenario's uncertain inputs."""

    trial: int
    seed: int
    load_scale: float
    outages: list[int]
    uncertain: dict[str, float] = dataclasses.field(default_factory=dict)


def draw_trial(ctx: TrialContext, trial: int, root_seed: int) -> TrialDraw:
    """The trial's seed, load factor and random outages (in that order from its rng)."""
    opts = ctx.spec.options
    # the root seed comes from the caller's spec: a cached context is shared by sweeps
    # that differ only in their root seed (its key leaves the seed out)
    seed = trial_seed(root_seed, trial)
    rng = np.random.default_rng(seed)
    factor = float(rng.uniform(*opts.load_scale)) if opts.load_scale is not None else 1.0
    outs: list[int] = []
    if opts.random_outages:
        outs = sorted(int(b) for b in rng.choice(ctx.candidates, size=opts.random_outages,
                                                 replace=False, p=ctx.weights))
    values: dict[str, float] = {}
    if opts.sample_uncertain and ctx.scenario.uncertain:
        from blackout.uncertainty import sample

        values = sample(ctx.scenario.uncertain, rng)
    return TrialDraw(trial, seed, factor, outs, values)


# ---------------------------------------------------------------------------- trials
def simulate_trial(grid: Any, events: list[Event], settings: Any) -> Any:
    """The cascade engine (one place, so that tests can make a trial fail)."""
    from blackout.cascade import simulate

    return simulate(grid, events, settings=settings)


def outage_events(outages: list[int]) -> list[Event]:
    return [Event(0.0, "branch", b, "trip", cause="random outage (sweep)") for b in outages]


def detailed_inputs(ctx: TrialContext, d: TrialDraw) -> tuple[CompiledScenario, list[Event], Any]:
    """Compiled scenario, events and engine settings of a detailed trial."""
    from blackout.scenario import engine_settings

    compiled = ctx.base
    if ctx.scenario.threats or d.load_scale != 1.0 or d.uncertain:
        from blackout.uncertainty import pin

        snap = ctx.scenario.snapshot
        snap = snap.model_copy(update={"load_scale": snap.load_scale * d.load_scale})
        sc = ctx.scenario.model_copy(update={"seed": d.seed, "snapshot": snap,
                                             "uncertain": pin(ctx.scenario.uncertain,
                                                              d.uncertain)})
        compiled = with_ratings(compile_scenario(sc), ctx.ratings)
    events = sorted(outage_events(d.outages) + list(compiled.events), key=lambda e: e.time_s)
    return compiled, events, engine_settings(compiled.settings, seed=d.seed)


def simple_inputs(ctx: TrialContext, d: TrialDraw) -> tuple[Any, list[Event], Any]:
    """Grid, events and simple-DC settings that re-run a fast trial in the detailed engine."""
    from blackout.cascade import CascadeSettings

    grid = ctx.base.grid
    if d.load_scale != 1.0:
        load = grid.load
        grid = grid.replace(load=load.with_columns(p_mw=load["p_mw"] * d.load_scale,
                                                   q_mvar=load["q_mvar"] * d.load_scale))
    return grid, outage_events(d.outages), CascadeSettings.simple_dc(
        trip_multiple=ctx.spec.options.trip_multiple).with_(
        participation=ctx.spec.options.participation)


def timeline_row(timeline: Any, events: list[Event]) -> dict[str, Any]:
    """A trial's result row from a detailed run's timeline (``events``: its initiating
    trips, left out of the branches the cascade tripped)."""
    init = sorted({e.element for e in events if e.kind == "branch" and e.action == "trip"})
    seen = set(init)
    tripped: list[int] = []
    for e in timeline.events:
        if e.kind == "branch" and e.action == "trip" and e.element not in seen:
            seen.add(e.element)
            tripped.append(int(e.element))
    s = timeline.summary()
    return {"load_lost_mw": float(s["load_lost_mw"]),
            "load_lost_percent": float(s["load_lost_percent"]),
            "lines_out": int(timeline.tripped("branch").size), "initiating": init,
            "tripped": tripped, "regions_dark": len(s["regions_dark"]),
            "time_to_collapse_s": s["time_to_collapse_s"]}


def trial_row(d: TrialDraw, **values: Any) -> dict[str, Any]:
    """An empty result row for draw ``d`` (every column of the schema), then ``values``."""
    row: dict[str, Any] = {name: None for name in ROW_SCHEMA.names}
    row.update(trial=d.trial, seed=d.seed, load_scale=d.load_scale, status="ok",
               initiating=list(d.outages), tripped=[])
    row.update({f"input_{k}": v for k, v in d.uncertain.items()})
    row.update(values)
    return row


def row_schema(ctx: TrialContext) -> pa.Schema:
    """:data:`ROW_SCHEMA`, the branch names of ``initiating`` and ``tripped``
    (``initiating_names``, ``tripped_names``) and one ``input_<name>`` column per sampled
    uncertain input: the columns of every chunk written."""
    extra = [pa.field("initiating_names", pa.list_(pa.string())),
             pa.field("tripped_names", pa.list_(pa.string()))]
    if ctx.spec.options.sample_uncertain:
        extra += [pa.field(f"input_{n}", pa.float64()) for n in ctx.scenario.uncertain]
    if ctx.spec.options.restore:
        extra += [pa.field("restored_90_h", pa.float64()),
                  pa.field("energy_not_served_mwh", pa.float64())]
    return pa.schema(list(ROW_SCHEMA) + extra)


def with_names(ctx: TrialContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the branch names of their initiating and tripped positions."""
    names = ctx.base.grid.branch["name"]
    for r in rows:
        for col in ("initiating", "tripped"):
            r[f"{col}_names"] = [str(names[b]) for b in (r.get(col) or [])]
    return rows


def error_row(d: TrialDraw, exc: BaseException, wall_s: float) -> dict[str, Any]:
    msg = str(exc) or type(exc).__name__
    return trial_row(d, status="error", error=f"{type(exc).__name__}: {msg}"[:2000],
                wall_s=wall_s)


def detailed_trial(ctx: TrialContext, d: TrialDraw) -> dict[str, Any]:
    """Run draw ``d`` with the detailed engine inside the trial time limit; a failure is
    recorded in the row (status, error, seed), never raised."""
    t0 = time.perf_counter()
    try:
        with time_limit(ctx.spec.options.trial_time_limit_s):  # compiling counts too
            compiled, events, settings = detailed_inputs(ctx, d)
            timeline = simulate_trial(compiled.grid, events, settings)
            extra = restoration_row(compiled, timeline) if ctx.spec.options.restore else {}
        return trial_row(d, **timeline_row(timeline, events), **extra,
                    wall_s=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - a failed trial is a row, the sweep goes on
        return error_row(d, exc, time.perf_counter() - t0)


def restoration_row(compiled: CompiledScenario, timeline: Any) -> dict[str, Any]:
    """The trial's restoration (``restore=True``): hours until 90 % of demand is served
    for good (NaN: not within the horizon; 0: nothing was lost) and energy not served."""
    from blackout.restore import impact

    res = impact(compiled.grid, timeline, compiled)
    h90 = res.curve.time_to_national_h(90)
    return {"restored_90_h": float("nan") if h90 is None else float(h90),
            "energy_not_served_mwh": float(res.curve.energy_not_served_mwh())}


def fast_rows(ctx: TrialContext, draws: list[TrialDraw]) -> list[dict[str, Any]]:
    """Run the draws through the batched DC engine: together when they share a load level,
    one by one otherwise (or when the batch fails, to isolate the failing trial)."""
    from blackout.study.fastdc.engine import run_cascades

    mult = ctx.spec.options.trip_multiple
    base = ctx.dc_model()

    def rows_of(model: Any, group: list[TrialDraw]) -> list[dict[str, Any]]:
        t0 = time.perf_counter()
        res = run_cascades(model, [d.outages for d in group], trip_multiple=mult)
        wall = (time.perf_counter() - t0) / len(group)
        demand = float(model.load_bus_mw.sum())
        out = []
        for j, d in enumerate(group):
            lost = max(float(res.load_lost_mw[j]), 0.0)
            out.append(trial_row(d, load_lost_mw=lost,
                            load_lost_percent=100.0 * lost / demand if demand > 0 else 0.0,
                            lines_out=int(res.initiating[j].size + res.tripped[j].size),
                            initiating=res.initiating[j].tolist(),
                            tripped=res.tripped[j].tolist(), islands=int(res.islands[j]),
                            rounds=int(res.rounds[j]), wall_s=wall))
        return out

    if ctx.spec.options.load_scale is None:
        try:
            return rows_of(base, draws)
        except Exception:  # noqa: BLE001 - retry one by one to find the failing trial
            pass
    rows = []
    for d in draws:
        t0 = time.perf_counter()
        try:
            model = base if d.load_scale == 1.0 else base.with_load_scale(d.load_scale)
            rows.extend(rows_of(model, [d]))
        except Exception as exc:  # noqa: BLE001
            rows.append(error_row(d, exc, time.perf_counter() - t0))
    return rows


def run_chunk(spec: SweepSpec, chunk: int) -> tuple[int, int, bytes]:
    """Run every trial of chunk ``chunk`` (module level: picklable); returns (chunk, rows,
    the chunk's Parquet bytes), encoded in the worker so the process that writes the
    results only writes bytes (fast-engine rows carry every tripped branch)."""
    ctx = trial_context(spec)
    lo = chunk * spec.chunk_size
    draws = [draw_trial(ctx, i, spec.root_seed)
             for i in range(lo, min(lo + spec.chunk_size, spec.trials))]
    if spec.options.engine == "fast":
        rows = fast_rows(ctx, draws)
    else:
        rows = [detailed_trial(ctx, d) for d in draws]
    data = encode_chunk(with_names(ctx, rows), schema=row_schema(ctx),
                        metadata=chunk_meta(spec, ctx.scenario.name,
                                                ctx.scenario.case))
    return chunk, len(rows), data
